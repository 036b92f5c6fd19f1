#![allow(clippy::unwrap_used)]

use entente_exercise::record::{
    AreaBounds, EntityInfo, PictureSample, PositionSample, QualitySample, TimelineEntry,
};
use entente_exercise::scenario::Milestone;
use serde_json::Value;

use super::*;

/// Two aircraft (a fighter and the traffic it intercepts), sampled out of time order, and one
/// nation's picture with one track.
fn record() -> RunRecord {
    let p = |t: f64, entity: u16, lat: f64, lon: f64| PositionSample {
        t,
        entity,
        lat,
        lon,
        h: 9000.0,
    };
    RunRecord {
        version: RunRecord::VERSION,
        scenario: "test".into(),
        title: "Test run".into(),
        seed: 1,
        step: 0.1,
        duration: 120.0,
        epoch: 1_700_000_000.0,
        realtime: false,
        nations: vec!["LTU".into()],
        area: Some(AreaBounds {
            south: 54.0,
            north: 56.0,
            west: 20.0,
            east: 24.0,
        }),
        standards: Vec::new(),
        gospa_c: 5000.0,
        gospa_p: 2.0,
        entities: vec![
            EntityInfo {
                entity: 1,
                callsign: "TGT01".into(),
                owner: "TGT".into(),
                role: "traffic".into(),
                nation: None,
            },
            EntityInfo {
                entity: 2,
                callsign: "QRA1".into(),
                owner: "SIA-QRA".into(),
                role: "fighter".into(),
                nation: Some("LTU".into()),
            },
        ],
        timeline: vec![
            TimelineEntry {
                t: 60.0,
                milestone: Milestone::Intercept,
                subject: "SIA-QRA".into(),
                target: Some("TGT".into()),
                nation: None,
            },
            TimelineEntry {
                t: 10.0,
                milestone: Milestone::NonResponsive,
                subject: "TGT".into(),
                target: None,
                nation: None,
            },
        ],
        quality: vec![QualitySample {
            t: 0.0,
            nation: "LTU".into(),
            gospa: 1234.4,
            localisation: 0.0,
            missed: 0.0,
            false_tracks: 0.0,
            truths: 1,
            tracks: 1,
        }],
        first_seen: Vec::new(),
        truth: vec![
            p(10.0, 1, 55.0, 21.0),
            p(0.0, 1, 55.0, 20.9),
            p(0.0, 2, 54.5, 22.123456789),
        ],
        pictures: vec![
            PictureSample {
                t: 30.0,
                nation: "LTU".into(),
                track: 7,
                lat: 55.0,
                lon: 21.0,
            },
            PictureSample {
                t: 0.0,
                nation: "LTU".into(),
                track: 7,
                lat: 55.0,
                lon: 20.9,
            },
        ],
        releases: Vec::new(),
        pdus: 0,
        steps: 1200,
    }
}

#[test]
fn data_is_shaped_in_time_order_per_aircraft_and_track() {
    let data: Value = serde_json::from_slice(&data::shape("r1", &record())).unwrap();
    assert_eq!(data["area"]["west"], 20.0);
    let truth = data["truth"].as_array().unwrap();
    assert_eq!(truth[0]["callsign"], "TGT01");
    assert_eq!(truth[0]["identity"], "suspect", "it stopped responding");
    assert_eq!(truth[1]["identity"], "friend");
    assert_eq!(truth[0]["t"], serde_json::json!([0.0, 10.0]));
    assert_eq!(truth[0]["lon"], serde_json::json!([20.9, 21.0]));
    assert_eq!(truth[1]["lon"][0], 22.12346, "five decimals");
    assert_eq!(data["truth_period"], 10.0);
    let track = &data["pictures"]["LTU"][0];
    assert_eq!(track["track"], 7);
    assert_eq!(track["t"], serde_json::json!([0.0, 30.0]));
    assert_eq!(data["picture_period"], 30.0);
    let events = data["events"].as_array().unwrap();
    assert_eq!(events[0]["milestone"], "non-responsive");
    assert_eq!(events[1]["text"], "intercept");
    assert_eq!(data["quality"]["LTU"]["gospa"][0], 1234.0);
}

#[test]
fn a_record_without_bounds_is_framed_by_its_truth() {
    let mut r = record();
    r.area = None;
    let a = data::area(&r);
    assert_eq!((a.south, a.north), (54.5 - 0.3, 55.0 + 0.3));
    assert_eq!((a.west, a.east), (20.9 - 0.5, 22.123456789 + 0.5));
}

#[test]
fn run_names_are_plain_folder_names() {
    for ok in ["baltic-qra", "run_2", "qra.2026-03-29"] {
        assert!(is_run_name(ok), "{ok}");
    }
    for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "upload~1", "é"] {
        assert!(!is_run_name(bad), "{bad}");
    }
}

#[test]
fn an_invalid_record_names_the_field_at_fault() {
    let mut value = serde_json::to_value(record()).unwrap();
    value["truth"][1]["lat"] = Value::String("north".into());
    let e = parse_record(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(
        e.starts_with("field truth[1].lat: invalid type: string \"north\", expected f64"),
        "{e}"
    );
    let mut value = serde_json::to_value(record()).unwrap();
    value.as_object_mut().unwrap().remove("duration");
    let e = parse_record(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(e.contains("missing field `duration`"), "{e}");
    let mut value = serde_json::to_value(record()).unwrap();
    value["version"] = 9.into();
    assert_eq!(
        parse_record(&serde_json::to_vec(&value).unwrap()).unwrap_err(),
        "field version: record version 9 is not supported (expected 1)"
    );
    assert!(parse_record(b"[1, 2").is_err());
    assert_eq!(
        parse_record(&serde_json::to_vec(&record()).unwrap()).unwrap(),
        record()
    );
}

#[test]
fn uploads_are_kept_per_session_and_bounded() {
    let runs = Runs::default();
    let first = runs.upload("session-a", record());
    for _ in 0..UPLOADS_PER_SESSION {
        runs.upload("session-a", record());
    }
    let kept = runs.uploaded("session-a");
    assert_eq!(kept.len(), UPLOADS_PER_SESSION);
    assert!(
        kept.iter().all(|r| r.id != first.id),
        "the oldest went first"
    );
    assert!(runs.uploaded("session-b").is_empty());
    for n in 0..UPLOAD_SESSIONS {
        runs.upload(&format!("other-{n}"), record());
    }
    assert!(
        runs.uploaded("session-a").is_empty(),
        "the least recent session went"
    );
}
