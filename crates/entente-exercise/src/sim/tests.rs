#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::Pacing;

fn shipped() -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenarios/baltic-qra.toml");
    Scenario::load(&path).unwrap()
}

#[test]
fn print_shipped_timeline() {
    let s = shipped();
    let r = crate::run(&s, s.epoch, Pacing::Batch, &mut NoOutputs).unwrap();
    for e in &r.timeline {
        eprintln!("{} {:?} {} {:?} {:?}", crate::scenario::format_duration(e.t), e.milestone, e.subject, e.target, e.nation);
    }
    for q in crate::aar::quality_summary(&r, 5000.0, 2.0) {
        eprintln!("{q:?}");
    }
    for f in &r.first_seen { eprintln!("{f:?}"); }
    eprintln!("pdus {} steps {}", r.pdus, r.steps);
}
