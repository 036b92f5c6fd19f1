#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::record::{QualitySample, TimelineEntry};

fn entry(t: f64, milestone: Milestone, subject: &str, target: Option<&str>) -> TimelineEntry {
    TimelineEntry {
        t,
        milestone,
        subject: subject.into(),
        target: target.map(Into::into),
        nation: None,
    }
}

fn record() -> RunRecord {
    RunRecord {
        version: RunRecord::VERSION,
        scenario: "t".into(),
        title: "Test <run> & co".into(),
        seed: 1,
        step: 0.1,
        duration: 3600.0,
        epoch: 0.0,
        realtime: false,
        nations: vec!["LTU".into()],
        area: None,
        standards: vec![
            StandardSpec {
                name: "QRA airborne".into(),
                from: Milestone::Scramble,
                to: Milestone::Airborne,
                within: 900.0,
                source: "R1".into(),
            },
            StandardSpec {
                name: "Scramble after detection".into(),
                from: Milestone::Detection,
                to: Milestone::Scramble,
                within: 120.0,
                source: "R8".into(),
            },
        ],
        gospa_c: 1000.0,
        gospa_p: 2.0,
        entities: vec![],
        timeline: vec![
            entry(60.0, Milestone::Detection, "TGT", None),
            entry(100.0, Milestone::Scramble, "A", Some("TGT")),
            entry(200.0, Milestone::Scramble, "B", Some("TGT")),
            entry(100.0 + 899.0, Milestone::Airborne, "A", Some("TGT")),
            entry(200.0 + 901.0, Milestone::Airborne, "B", Some("TGT")),
        ],
        quality: vec![
            QualitySample {
                t: 0.0,
                nation: "LTU".into(),
                gospa: 0.0,
                localisation: 200.0 * 200.0,
                missed: 0.0,
                false_tracks: 0.0,
                truths: 1,
                tracks: 1,
            },
            QualitySample {
                t: 5.0,
                nation: "LTU".into(),
                gospa: 0.0,
                localisation: 0.0,
                missed: 500_000.0,
                false_tracks: 500_000.0,
                truths: 1,
                tracks: 1,
            },
        ],
        first_seen: vec![],
        truth: vec![],
        pictures: vec![],
        releases: vec![crate::record::ReleaseEntry {
            sensor: "LVA-radars".into(),
            nation: "LVA".into(),
            recipient: "POL".into(),
            day: "2026-03-29".into(),
            label: "NATO SECRET//REL TO EST, LTU, LVA".into(),
            released: false,
            reason: "POL is not in REL TO EST, LTU, LVA on 2026-03-29".into(),
        }],
        pdus: 0,
        steps: 0,
    }
}

#[test]
fn standards_are_checked_per_flight() {
    let r = record();
    let results = check_standards(&r);
    assert_eq!(results.len(), 4);
    let find = |name: &str, flight: &str| {
        results
            .iter()
            .find(|x| x.name == name && x.flight == flight)
            .unwrap()
    };
    let a = find("QRA airborne", "A");
    assert!(a.met);
    assert_eq!(a.elapsed, Some(899.0));
    let b = find("QRA airborne", "B");
    assert!(!b.met, "901 s is over 15 minutes");
    // Target milestones start from the target's own timeline.
    let da = find("Scramble after detection", "A");
    assert_eq!(
        (da.from_t, da.to_t, da.met),
        (Some(60.0), Some(100.0), true)
    );
    let db = find("Scramble after detection", "B");
    assert!(!db.met && db.elapsed == Some(140.0));
}

#[test]
fn a_milestone_never_reached_fails_the_standard() {
    let mut r = record();
    r.timeline
        .retain(|e| !(e.milestone == Milestone::Airborne && e.subject == "B"));
    let b = check_standards(&r)
        .into_iter()
        .find(|x| x.name == "QRA airborne" && x.flight == "B")
        .unwrap();
    assert_eq!((b.to_t, b.elapsed, b.met), (None, None, false));
}

#[test]
fn quality_summary_splits_gospa() {
    let q = quality_summary(&record(), 1000.0, 2.0);
    assert_eq!(q.len(), 1);
    // c^p / 2 = 500,000 per missed or false track: one of each in the second sample.
    assert_eq!(q[0].mean_missed, 0.5);
    assert_eq!(q[0].mean_false, 0.5);
    // One aircraft held once at 200 m.
    assert!((q[0].mean_localisation - 200.0).abs() < 1e-9);
}

#[test]
fn html_escapes_and_lists_results() {
    let r = record();
    let html = render_html(&r, &review(&r));
    assert!(html.contains("Test &lt;run&gt; &amp; co"));
    assert!(!html.contains("Test <run>"));
    assert!(html.contains("<td class=\"missed\">NOT MET</td>"));
    assert!(html.contains("<td>00:18:21</td>"), "B airborne at 1101 s");
    for chart in ["gospa.svg", "map.svg", "timeline.svg"] {
        assert!(html.contains(chart));
    }
    assert!(html.contains("<h2>What each nation was released</h2>"));
    assert!(html.contains(
        "<td>2026-03-29</td><td>LVA-radars</td><td>LVA</td><td>NATO SECRET//REL TO EST, LTU, LVA</td><td>POL</td><td class=\"missed\">no</td><td>POL is not in REL TO EST, LTU, LVA on 2026-03-29</td>"
    ), "{html}");
}

/// DejaVu Sans, which `scripts/test-all.sh` installs; without it under CI the test fails.
fn font() -> Option<&'static [u8]> {
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    match std::fs::read(path) {
        Ok(bytes) => Some(Box::leak(bytes.into_boxed_slice())),
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "{path}: {e} (CI needs the chart font)"
            );
            eprintln!("SKIPPED: no chart font at {path}");
            None
        }
    }
}

#[test]
fn the_report_is_written_with_its_charts() {
    let Some(ttf) = font() else { return };
    register_font(ttf).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(&record(), dir.path()).unwrap();
    assert_eq!(files.charts.len(), 3);
    for c in &files.charts {
        let svg = std::fs::read_to_string(c).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("</svg>"),
            "{}",
            c.display()
        );
    }
    let timeline = std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap();
    assert!(timeline.contains("airborne") && timeline.contains("scramble"));
    let review: Review =
        serde_json::from_str(&std::fs::read_to_string(&files.json).unwrap()).unwrap();
    assert_eq!(review.standards.len(), 4);
}

#[test]
fn a_record_without_area_bounds_still_loads() {
    let mut with_area = record();
    with_area.area = Some(crate::record::AreaBounds {
        south: 53.8,
        north: 60.3,
        west: 18.0,
        east: 28.5,
    });
    let text = serde_json::to_string(&with_area).unwrap();
    let back: RunRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back.area, with_area.area);
    let mut value = serde_json::to_value(&with_area).unwrap();
    value.as_object_mut().unwrap().remove("area");
    let older: RunRecord = serde_json::from_value(value).unwrap();
    assert_eq!(older.area, None);
}
