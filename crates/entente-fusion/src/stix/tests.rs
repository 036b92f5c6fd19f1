use super::*;
use crate::kalman::state;

fn sample() -> NationalTrack<Markings> {
    let mut p = StateCovariance::identity() * 4.0;
    p[(0, 1)] = 0.5;
    p[(1, 0)] = 0.5;
    NationalTrack {
        source: TrackRef {
            nation: "LTU".parse().unwrap(),
            local_id: "T17".into(),
        },
        sensor: "radar-1".into(),
        t: 12.5,
        estimate: Gaussian::new(state(1000.0, 200.0, -50.0, 0.0), p),
        identity: Identity::Suspect,
        reply: Default::default(),
        label: Markings::of(["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]),
    }
}

#[test]
fn national_track_round_trips_through_stix() {
    let epoch = 1_790_000_000.0;
    let v = national_track(&sample(), epoch).unwrap();
    assert_eq!(v["type"], NATIONAL_TRACK_TYPE);
    assert_eq!(v["spec_version"], "2.1");
    assert_eq!(v["time"], "2026-09-21T14:13:32.500Z");
    assert!(v["id"]
        .as_str()
        .unwrap()
        .starts_with("x-entente-national-track--"));
    assert_eq!(v["extensions"][extension_id()]["extension_type"], "new-sdo");
    assert_eq!(v["covariance"][1], 0.5);
    let back = parse_national_track(&v, epoch).unwrap();
    assert_eq!(back, sample());
    // Same report, same id.
    assert_eq!(national_track(&sample(), epoch).unwrap()["id"], v["id"]);
}

#[test]
fn extension_definition_is_well_formed() {
    let d = extension_definition();
    assert_eq!(d["id"], extension_id());
    assert_eq!(d["extension_types"][0], "new-sdo");
    assert!(d["created_by_ref"]
        .as_str()
        .unwrap()
        .starts_with("identity--"));
}

#[test]
fn malformed_objects_are_refused_with_the_property_named() {
    let mut v = national_track(&sample(), 0.0).unwrap();
    v["state"] = serde_json::json!([1, 2]);
    let err = parse_national_track(&v, 0.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid x-entente-national-track: state must hold 4 numbers"
    );
    let mut v = national_track(&sample(), 0.0).unwrap();
    v.as_object_mut().unwrap().remove("nation");
    assert!(parse_national_track(&v, 0.0)
        .unwrap_err()
        .to_string()
        .contains("missing property"));
}

#[test]
fn plots_and_system_tracks_carry_markings_and_contributions() {
    let label = Markings::of(["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]);
    let p = Plot {
        nation: "EST".parse().unwrap(),
        sensor: "radar-2".into(),
        t: 1.0,
        z: crate::kalman::Measurement::new(10.0, -4.5),
        label: label.clone(),
    };
    let v = plot(&p, 0.0).unwrap();
    assert_eq!(v["type"], PLOT_TYPE);
    assert_eq!(v["position"], serde_json::json!([10.0, -4.5]));
    assert_eq!(
        v["object_marking_refs"][0],
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
    );

    let s = SystemTrack {
        id: 42,
        t: 1.0,
        estimate: sample().estimate,
        contributions: vec![sample().source],
        quality: 14,
        identity: Identity::Hostile,
        reply: Default::default(),
        label,
    };
    let v = system_track(&s, "LTU", 0.0).unwrap();
    assert_eq!(v["type"], SYSTEM_TRACK_TYPE);
    assert_eq!(v["system_track_number"], 42);
    assert_eq!(v["contributions"][0]["nation"], "LTU");
    assert_eq!(v["contributions"][0]["local_track_id"], "T17");
    // The same number in another nation's picture is another object.
    assert_ne!(system_track(&s, "EST", 0.0).unwrap()["id"], v["id"]);
}

#[test]
fn replies_and_the_frame_origin_round_trip_and_a_bad_origin_is_none() {
    let epoch = 1_790_000_000.0;
    let mut track = sample();
    track.reply = Reply {
        altitude_m: Some(10_668.0),
        callsign: Some("CIV505".into()),
    };
    let v = national_track_in_frame(&track, epoch, 57.0, 23.0).unwrap();
    assert_eq!(v["altitude_m"], 10_668.0);
    assert_eq!(v["callsign"], "CIV505");
    assert_eq!(frame_origin(&v), Some((57.0, 23.0)));
    assert_eq!(parse_national_track(&v, epoch).unwrap(), track);
    // A track without replies writes neither property.
    let plain = national_track(&sample(), epoch).unwrap();
    assert!(plain.get("altitude_m").is_none() && plain.get("callsign").is_none());
    assert_eq!(frame_origin(&plain), None);
    for bad in [
        serde_json::json!({ "frame_origin": { "lat": 91.0, "lon": 0.0 } }),
        serde_json::json!({ "frame_origin": { "lat": 10.0 } }),
        serde_json::json!({ "frame_origin": { "lat": "57", "lon": 23.0 } }),
        serde_json::json!({ "frame_origin": [57.0, 23.0] }),
    ] {
        assert_eq!(frame_origin(&bad), None, "{bad}");
    }
}
