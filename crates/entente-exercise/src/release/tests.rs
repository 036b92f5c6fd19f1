#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use entente_labels::PolicySet;
use entente_registry::Registry;

use super::*;

/// The release policy of the shipped registry and policies.
pub(crate) fn shipped_policy() -> ReleasePolicy {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let registry = Registry::load(&data.join("registry")).unwrap();
    let policies = PolicySet::load(&data.join("policies")).unwrap();
    ReleasePolicy::new(&registry, policies)
}

fn shipped() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/baltic-qra.toml");
    Scenario::load(&path).unwrap()
}

fn n(code: &str) -> NationCode {
    code.parse().unwrap()
}

#[test]
fn radars_under_one_label_are_one_sensor_and_an_override_its_own() {
    let mut s = shipped();
    // A second Estonian radar under the nation's label: EST-N keeps its own sensor.
    let mut extra = s.radars[0].clone();
    extra.id = "EST-S".into();
    extra.nation = n("EST");
    extra.label = None;
    s.radars.push(extra);
    let sensors = sensors(&shipped_policy(), &s).unwrap();
    let names: Vec<(&str, &[usize])> = sensors
        .iter()
        .map(|x| (x.name.as_str(), x.radars.as_slice()))
        .collect();
    assert_eq!(
        names,
        [
            ("LTU-radars", &[0, 1][..]),
            ("LVA-radars", &[2][..]),
            ("EST-N", &[3][..]),
            ("EST-radars", &[4][..]),
        ]
    );
    assert_eq!(sensors[2].marking, "NATO CONFIDENTIAL//REL TO JPN, NATO");
    assert_eq!(
        sensors[2].marking_id,
        sensors[2].marking_definition["id"].as_str().unwrap()
    );
    assert_ne!(sensors[2].marking_id, sensors[3].marking_id);
}

#[test]
fn bad_labels_are_located_to_their_line_and_field() {
    let mut s = shipped();
    s.nations[1].label = LabelText {
        text: "NATO SECRT//REL TO EST".into(),
        line: 7,
    };
    s.radars[3].label = Some(LabelText {
        text: "NATO SECRET//REL TO NATOO".into(),
        line: 9,
    });
    let err = sensors(&shipped_policy(), &s).unwrap_err();
    let d = err.diagnostics();
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!((d[0].line, d[0].field.as_str()), (7, "nation[LVA].label"));
    assert!(d[0].message.contains("NATO SECRT"), "{}", d[0].message);
    assert_eq!((d[1].line, d[1].field.as_str()), (9, "radar[EST-N].label"));
    assert!(d[1].message.contains("NATOO"), "{}", d[1].message);
}

#[test]
fn the_policy_decides_per_sensor_recipient_and_day_with_its_reason() {
    let policy = shipped_policy();
    let mut s = shipped();
    // From 23:00 for two hours: the run crosses midnight, and each day is decided.
    s.duration = 7200.0;
    let epoch = chrono::DateTime::parse_from_rfc3339("2026-03-29T23:00:00Z")
        .unwrap()
        .timestamp() as f64;
    let r = Releases::prepare(&policy, &s, epoch).unwrap();
    let days: Vec<String> = r.days().map(|d| d.day().to_string()).collect();
    assert_eq!(days, ["2026-03-29", "2026-03-30"]);
    let day = r.at(epoch + 3600.5);
    assert_eq!(day.day().to_string(), "2026-03-30");
    let sensors: Vec<&Sensor> = r.sensors().iter().collect();
    for sensor in &sensors {
        for nation in &s.nations {
            let d = day.decision(&sensor.name, nation.code).unwrap();
            let oracle = policy.decide(&sensor.label, sensor.nation, nation.code, day.day());
            assert_eq!(d, &oracle);
        }
        // A nation always receives its own tracks, and the policy says so too.
        let own = day.decision(&sensor.name, sensor.nation).unwrap();
        assert!(own.is_permit(), "{own}");
    }
    let lva = day.decision("LVA-radars", n("POL")).unwrap();
    assert!(!lva.is_permit());
    assert_eq!(
        lva.to_string(),
        "POL is not in REL TO EST, LTU, LVA on 2026-03-30"
    );
    let entries = r.entries();
    assert_eq!(entries.len(), 2 * sensors.len() * s.nations.len());
    let e = entries
        .iter()
        .find(|e| e.sensor == "LVA-radars" && e.recipient == "POL" && e.day == "2026-03-29")
        .unwrap();
    assert!(!e.released);
    assert_eq!(e.reason, "POL is not in REL TO EST, LTU, LVA on 2026-03-29");
    // Outside the run nothing is released.
    assert!(r
        .at(epoch + 3.0 * 86_400.0)
        .decision("LVA-radars", n("LVA"))
        .is_none());
}

#[test]
fn the_baltic_labels_release_as_the_scenario_intends_on_its_day() {
    let policy = shipped_policy();
    let s = shipped();
    let day = parse_date_for_test("2026-03-29");
    let sensor = |name: &str| {
        sensors(&policy, &s)
            .unwrap()
            .into_iter()
            .find(|x| x.name == name)
            .unwrap()
    };
    let nations = ["LTU", "LVA", "EST", "POL", "DEU"];
    for name in ["LTU-radars", "EST-N"] {
        let x = sensor(name);
        for to in nations {
            let d = policy.decide(&x.label, x.nation, n(to), day);
            assert!(d.is_permit(), "{name} to {to}: {d}");
        }
    }
    // Latvia to its Baltic neighbours only.
    let lva = sensor("LVA-radars");
    for (to, released) in [("LTU", true), ("EST", true), ("POL", false), ("DEU", false)] {
        let d = policy.decide(&lva.label, lva.nation, n(to), day);
        assert_eq!(d.is_permit(), released, "LVA to {to}: {d}");
    }
    // EST-N's picture also reaches Japan, under the Japan-NATO agreement.
    let est = sensor("EST-N");
    let jpn = policy.decide(&est.label, est.nation, n("JPN"), day);
    assert!(jpn.is_permit(), "{jpn}");
    let ltu = sensor("LTU-radars");
    assert!(!policy
        .decide(&ltu.label, ltu.nation, n("JPN"), day)
        .is_permit());
}

fn parse_date_for_test(text: &str) -> Date {
    entente_types::parse_date(text).unwrap()
}

#[test]
fn tracks_of_unknown_sensors_or_another_nation_are_denied() {
    let policy = shipped_policy();
    let s = shipped();
    let r = Releases::prepare(&policy, &s, s.epoch).unwrap();
    let day = r.at(s.epoch);
    let track = |nation: &str, sensor: &str| NationalTrack {
        source: entente_fusion::model::TrackRef {
            nation: n(nation),
            local_id: format!("{nation}-1"),
        },
        sensor: sensor.into(),
        t: 0.0,
        estimate: entente_fusion::kalman::Gaussian {
            x: Default::default(),
            p: entente_fusion::kalman::StateCovariance::identity(),
        },
        identity: entente_fusion::model::Identity::Unknown,
        reply: Default::default(),
        label: Markings::default(),
    };
    assert!(day.may_receive(&track("LTU", "LTU-radars"), n("POL")));
    assert!(!day.may_receive(&track("LTU", "LTU-S"), n("POL")));
    assert!(!day.may_receive(&track("LVA", "LTU-radars"), n("POL")));
    assert!(!day.may_receive(&track("LTU", "LTU-radars"), n("JPN")));
}

#[test]
fn gotland_releases_to_sweden_only_once_an_agreement_covers_it() {
    let policy = shipped_policy();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/gotland-qra.toml");
    let s = Scenario::load(&path).unwrap();
    let at = |day: &str| {
        let epoch = chrono::DateTime::parse_from_rfc3339(&format!("{day}T08:00:00Z"))
            .unwrap()
            .timestamp() as f64;
        let r = Releases::prepare(&policy, &s, epoch).unwrap();
        let d = r
            .at(epoch)
            .decision("POL-radars", n("SWE"))
            .unwrap()
            .clone();
        d
    };
    // Before the accession: not a member, so not admitted by REL TO NATO.
    let before = at("2024-02-20");
    assert!(!before.is_permit());
    assert_eq!(
        before.reason,
        entente_policy::Reason::NotInReleaseSet { set: "NATO".into() }
    );
    // A member, but the security agreement is not yet in force for Sweden.
    let between = at("2024-05-15");
    assert!(!between.is_permit());
    assert!(
        matches!(between.reason, entente_policy::Reason::NoAgreement { .. }),
        "{between}"
    );
    // Covered from 2024-08-02, as on the scenario's own day.
    let after = at("2024-09-10");
    assert_eq!(
        after.agreement(),
        Some("nato-security-of-information-1997"),
        "{after}"
    );
    assert_eq!(at(&day_of(s.epoch).to_string()), after);
}
