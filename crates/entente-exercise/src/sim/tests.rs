#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::record::RunRecord;
use crate::Pacing;

fn shipped() -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/scenarios/baltic-qra.toml");
    Scenario::load(&path).unwrap()
}

/// Counts PDUs and keeps their bytes' digest, so that two runs can be compared whole.
#[derive(Default)]
struct Capture {
    pdus: Vec<[u8; ESPDU_LEN]>,
    published: Vec<(f64, NationCode, usize)>,
}

impl Outputs for Capture {
    fn pdu(&mut self, _t: f64, pdu: &[u8]) -> Result<(), Error> {
        self.pdus.push(pdu.try_into().unwrap());
        Ok(())
    }

    fn national_tracks(
        &mut self,
        t: f64,
        nation: NationCode,
        tracks: &[NationalTrack<Markings>],
    ) -> Result<(), Error> {
        assert!(tracks.iter().all(|tr| tr.source.nation == nation));
        self.published.push((t, nation, tracks.len()));
        Ok(())
    }
}

fn run(s: &Scenario) -> (RunRecord, Capture) {
    let mut cap = Capture::default();
    let r = crate::run(s, s.epoch, Pacing::Batch, &mut cap).unwrap();
    (r, cap)
}

#[test]
fn the_shipped_scramble_meets_the_qra_standard() {
    let s = shipped();
    let (r, cap) = run(&s);
    let at = |m: Milestone, who: &str| {
        r.time_of(m, who, None)
            .unwrap_or_else(|| panic!("no {m:?} of {who}"))
    };
    // The aircraft stops responding, is held by a national sensor, and the flight is scrambled.
    assert_eq!(at(Milestone::NonResponsive, "TGT"), 60.0);
    assert!(at(Milestone::Detection, "TGT") >= 60.0 && at(Milestone::Detection, "TGT") <= 120.0);
    assert_eq!(at(Milestone::Scramble, "SIA-QRA"), 360.0);
    // Wheels up at the readiness time (12 min), inside the 15-minute standard.
    assert!((at(Milestone::Airborne, "SIA-QRA") - 360.0 - 720.0).abs() < 0.11);
    let results = crate::aar::check_standards(&r);
    let qra: Vec<_> = results
        .iter()
        .filter(|x| x.name.starts_with("QRA airborne"))
        .collect();
    assert_eq!(qra.len(), 2);
    assert!(
        qra.iter().all(|x| x.met && x.elapsed.unwrap() <= 900.0),
        "{qra:#?}"
    );
    // Intercept, identification, escort, in that order; then the hand-over to Ämari.
    let sia = "SIA-QRA";
    let order = [
        Milestone::Airborne,
        Milestone::Intercept,
        Milestone::VisualId,
        Milestone::Escort,
    ];
    let times: Vec<f64> = order.iter().map(|&m| at(m, sia)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let handover = at(Milestone::Handover, "AMA-QRA");
    assert!(handover >= at(Milestone::VisualId, "AMA-QRA"));
    assert_eq!(at(Milestone::Released, "SIA-QRA"), handover);
    assert!(handover > 45.0 * 60.0, "hand-over ordered at 00:45:00");
    // Both flights land, the escort after the target left the area.
    assert!(at(Milestone::Landed, "SIA-QRA") > handover);
    assert!(at(Milestone::Landed, "AMA-QRA") > at(Milestone::Released, "AMA-QRA"));
    // The intercept happens inside the exercise objective of 40 minutes.
    let intercept = results
        .iter()
        .find(|x| x.name.starts_with("Intercept") && x.flight == "SIA-QRA")
        .unwrap();
    assert!(intercept.met, "{intercept:#?}");
    // PDUs went out for every aircraft, at least one per heartbeat while flying.
    assert_eq!(cap.pdus.len() as u64, r.pdus);
    assert!(r.pdus > 11 * 600, "{}", r.pdus);
    // Every participating radar nation published its tracks at every picture period.
    assert_eq!(cap.published.len(), 5 * 1440);
    // The pictures hold the aircraft: mean GOSPA well under the cut-off.
    for q in crate::aar::quality_summary(&r, s.picture.gospa_c, s.picture.gospa_p) {
        assert!(q.mean_gospa < 0.5 * s.picture.gospa_c, "{q:?}");
    }
}

#[test]
fn runs_are_deterministic_and_the_seed_matters() {
    let mut s = shipped();
    s.duration = 900.0;
    let (a, ca) = run(&s);
    let (b, cb) = run(&s);
    assert_eq!(a, b);
    assert_eq!(ca.pdus, cb.pdus);
    s.seed += 1;
    let (c, _) = run(&s);
    assert_ne!(a.quality, c.quality, "another seed, other plots");
    // Truth does not depend on the radar noise.
    assert_eq!(a.truth, c.truth);
}

#[test]
fn pacing_does_not_change_the_run() {
    let mut s = shipped();
    s.duration = 30.0;
    let batch = crate::run(&s, s.epoch, Pacing::Batch, &mut NoOutputs).unwrap();
    let started = std::time::Instant::now();
    let live = crate::run(
        &s,
        s.epoch,
        Pacing::Realtime { speed: 100.0 },
        &mut NoOutputs,
    )
    .unwrap();
    // 30 simulated seconds at 100× take at least 0.3 s of wall clock.
    assert!(started.elapsed().as_secs_f64() >= 0.29);
    assert_eq!(batch.timeline, live.timeline);
    assert_eq!(batch.quality, live.quality);
    assert_eq!(batch.truth, live.truth);
}

#[test]
fn radar_horizon_over_a_four_thirds_earth() {
    // 30 m antenna, target at 8,500 m: 4.12 km × (√30 + √8500) ≈ 402 km.
    let d = radar_horizon(30.0, 8_500.0);
    assert!((d - 402_400.0).abs() < 1_000.0, "{d}");
    assert_eq!(radar_horizon(0.0, 0.0), 0.0);
}

#[test]
fn a_radar_out_of_range_sees_nothing() {
    let mut s = shipped();
    s.duration = 120.0;
    for r in &mut s.radars {
        r.range = 1_000.0;
    }
    let (r, cap) = run(&s);
    assert!(r
        .timeline
        .iter()
        .all(|e| e.milestone != Milestone::Detection));
    assert!(cap.published.iter().all(|p| p.2 == 0));
    assert!(r
        .first_seen
        .iter()
        .all(|f| f.own_sensors.is_none() && f.picture.is_none()));
}

mod releasability {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Every contribution to every nation's picture comes from a nation that shares with it.
    fn check(s: &Scenario, steps: u64) -> Result<usize, TestCaseError> {
        let mut sim = Simulation::new(s, s.epoch, false);
        let mut contributions = 0;
        for _ in 0..steps {
            sim.step(&mut NoOutputs).unwrap();
            for n in &s.nations {
                for track in sim.picture(n.code).unwrap() {
                    for c in &track.contributions {
                        let owner = s.nation(c.nation).unwrap();
                        prop_assert!(
                            owner.shares_with.contains(&n.code),
                            "{} holds a track of {} which does not share with it",
                            n.code,
                            c.nation
                        );
                        contributions += 1;
                    }
                }
            }
        }
        Ok(contributions)
    }

    #[test]
    fn the_shipped_pictures_hold_only_released_tracks() {
        let s = shipped();
        let lva: NationCode = "LVA".parse().unwrap();
        let pol: NationCode = "POL".parse().unwrap();
        let mut sim = Simulation::new(&s, s.epoch, false);
        for _ in 0..3000 {
            sim.step(&mut NoOutputs).unwrap();
        }
        // Latvia shares with its Baltic neighbours only: Poland's picture has none of its tracks,
        // Lithuania's has some.
        let has_lva = |n: &str| {
            sim.picture(n.parse().unwrap())
                .unwrap()
                .iter()
                .any(|t| t.contributions.iter().any(|c| c.nation == lva))
        };
        assert!(has_lva("LTU"));
        assert!(!has_lva(pol.as_str()));
        assert!(check(&s, 600).unwrap() > 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn random_sharing_is_respected(masks in proptest::collection::vec(0u8..32, 5)) {
            let mut s = shipped();
            s.duration = 60.0;
            let codes: Vec<NationCode> = s.nations.iter().map(|n| n.code).collect();
            for (n, mask) in s.nations.iter_mut().zip(&masks) {
                let mut set: BTreeSet<NationCode> = codes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| *c)
                    .collect();
                set.insert(n.code);
                n.shares_with = set;
            }
            check(&s, 600)?;
        }
    }
}
