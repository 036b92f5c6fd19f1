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

fn releases(s: &Scenario) -> Releases {
    Releases::prepare(&crate::release::tests::shipped_policy(), s, s.epoch).unwrap()
}

fn run(s: &Scenario) -> (RunRecord, Capture) {
    let mut cap = Capture::default();
    let r = crate::run(s, s.epoch, Pacing::Batch, &releases(s), &mut cap).unwrap();
    (r, cap)
}

/// FNV-1a (64 bits) of a text: the digest the fixture keeps of each nation's GOSPA samples.
fn fnv1a64(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The Baltic run is what it was when the scenario's `shares_with` decided the pictures
/// (`tests/fixtures/baltic-qra-before-labels.json`, written by that version): the same
/// milestones at the same times, and, per nation, the same GOSPA samples bit for bit.
fn assert_unchanged_by_labels(r: &RunRecord) {
    use std::fmt::Write;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/baltic-qra-before-labels.json");
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let timeline: Vec<TimelineEntry> = serde_json::from_value(before["timeline"].clone()).unwrap();
    assert_eq!(r.timeline, timeline);
    let mut per_nation: std::collections::BTreeMap<&str, (u64, String)> = Default::default();
    for q in &r.quality {
        let (count, text) = per_nation.entry(&q.nation).or_default();
        *count += 1;
        let _ = writeln!(
            text,
            "{:?} {:?} {:?} {:?} {:?} {} {}",
            q.t, q.gospa, q.localisation, q.missed, q.false_tracks, q.truths, q.tracks
        );
    }
    let expected = before["quality"].as_array().unwrap();
    assert_eq!(per_nation.len(), expected.len());
    for e in expected {
        let nation = e["nation"].as_str().unwrap();
        let (count, text) = &per_nation[nation];
        assert_eq!(Some(*count), e["samples"].as_u64(), "{nation}");
        assert_eq!(
            fnv1a64(text),
            e["fnv1a64"].as_str().unwrap(),
            "GOSPA samples of {nation}"
        );
    }
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
    // Labels and the release policy took over from `shares_with` without changing the outcome.
    assert_unchanged_by_labels(&r);
    // The record says what was released: Latvia's tracks to its Baltic neighbours only.
    let lva: Vec<(&str, bool)> = r
        .releases
        .iter()
        .filter(|e| e.sensor == "LVA-radars")
        .map(|e| (e.recipient.as_str(), e.released))
        .collect();
    assert_eq!(
        lva,
        [
            ("LTU", true),
            ("LVA", true),
            ("EST", true),
            ("POL", false),
            ("DEU", false)
        ]
    );
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
    let releases = releases(&s);
    let batch = crate::run(&s, s.epoch, Pacing::Batch, &releases, &mut NoOutputs).unwrap();
    let started = std::time::Instant::now();
    let live = crate::run(
        &s,
        s.epoch,
        Pacing::Realtime { speed: 100.0 },
        &releases,
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
    use std::collections::HashMap;

    use entente_labels::parse_marking;
    use entente_policy::ReleasePolicy;
    use proptest::prelude::*;

    use super::*;
    use crate::scenario::LabelText;

    /// Markings of several policies: NATO with and without "Releasable To" (its default is NATO's
    /// members), sets of nations and groups, national labels (kept by their originator unless a
    /// set names others), the EU's, and a set that admits nobody.
    const MARKINGS: [&str; 12] = [
        "NATO SECRET//REL TO NATO",
        "NATO SECRET",
        "NATO CONFIDENTIAL//REL TO NATO, JPN",
        "NATO RESTRICTED//REL TO FIN, SWE",
        "NATO SECRET//REL TO EST, LTU, LVA",
        "NATO SECRET//REL TO NONE",
        "FR SECRET//REL TO FRA, DEU",
        "FR SECRET",
        "DE GEHEIM//REL TO DEU, FRA, SWE",
        "SECRET UE/EU SECRET//REL TO EU",
        "CONFIDENTIEL UE/EU CONFIDENTIAL",
        "UK SECRET//REL TO GBR, USA, SWE",
    ];
    /// Nations whose memberships and agreements change across 2023–2025 (Finland and Sweden join
    /// NATO, Sweden its security agreement), and others.
    const NATIONS: [&str; 10] = [
        "FIN", "SWE", "NOR", "DEU", "FRA", "EST", "LVA", "JPN", "USA", "GBR",
    ];

    /// The label each contribution's national track carries, read back from its marking id.
    fn labels_by_marking(policy: &ReleasePolicy) -> HashMap<String, entente_labels::Label> {
        MARKINGS
            .iter()
            .map(|m| {
                let label = parse_marking(policy.policies(), m).unwrap();
                let id =
                    entente_labels::stix::marking_definition_id(policy.policies(), &label).unwrap();
                (id, label)
            })
            .collect()
    }

    /// Runs `steps` steps and checks, after each fusion, that every contribution to every
    /// nation's picture is released by `ReleasePolicy::decide` for the label its national track
    /// carries, from its nation to the picture's, on the day. Returns the contributions checked.
    fn check(s: &Scenario, policy: &ReleasePolicy, steps: u64) -> Result<usize, TestCaseError> {
        let labels = labels_by_marking(policy);
        let releases = Releases::prepare(policy, s, s.epoch).unwrap();
        let mut sim = Simulation::new(s, s.epoch, false, &releases);
        let mut contributions = 0;
        for _ in 0..steps {
            let t = sim.t();
            let fusing = t + 1e-9 >= sim.next_fusion;
            sim.step(&mut NoOutputs).unwrap();
            if !fusing {
                continue;
            }
            let day = crate::release::day_of(s.epoch + t);
            let tracks: HashMap<&entente_fusion::model::TrackRef, &NationalTrack<Markings>> =
                sim.national_tracks().map(|tr| (&tr.source, tr)).collect();
            for n in &s.nations {
                for system in sim.picture(n.code).unwrap() {
                    for c in &system.contributions {
                        let track = tracks.get(c);
                        prop_assert!(track.is_some(), "{c:?} is no national track");
                        let track = track.unwrap();
                        prop_assert_eq!(track.label.0.len(), 1);
                        let id = track.label.0.iter().next().unwrap();
                        let label = &labels[id];
                        let d = policy.decide(label, c.nation, n.code, day);
                        prop_assert!(
                            d.is_permit(),
                            "{} holds {} of {}: {}",
                            n.code,
                            c.local_id,
                            c.nation,
                            d
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
        let policy = crate::release::tests::shipped_policy();
        let lva: NationCode = "LVA".parse().unwrap();
        let pol: NationCode = "POL".parse().unwrap();
        let mut sim = Simulation::new(&s, s.epoch, false, &releases(&s));
        for _ in 0..3000 {
            sim.step(&mut NoOutputs).unwrap();
        }
        // Latvia releases to its Baltic neighbours only: Poland's picture has none of its
        // tracks, Lithuania's has some.
        let has_lva = |n: &str| {
            sim.picture(n.parse().unwrap())
                .unwrap()
                .iter()
                .any(|t| t.contributions.iter().any(|c| c.nation == lva))
        };
        assert!(has_lva("LTU"));
        assert!(!has_lva(pol.as_str()));
        assert!(check(&s, &policy, 600).unwrap() > 0);
    }

    /// A small scenario on the shipped world: a few nations drawn from the registry, each with
    /// a label, its radars (the shipped sites) given to them, some with labels of their own,
    /// on a day of 2023–2025.
    fn small_scenario(
        nations: &[usize],
        nation_labels: &[usize],
        radars: &[(usize, Option<usize>)],
        day: u32,
    ) -> Scenario {
        let mut s = shipped();
        s.duration = 60.0;
        let line = 1;
        let codes: Vec<NationCode> = nations
            .iter()
            .map(|&i| NATIONS[i].parse().unwrap())
            .collect();
        s.nations = codes
            .iter()
            .zip(nation_labels)
            .map(|(&code, &l)| crate::scenario::Nation {
                code,
                label: LabelText {
                    text: MARKINGS[l].into(),
                    line,
                },
            })
            .collect();
        for (r, &(owner, label)) in s.radars.iter_mut().zip(radars) {
            r.nation = codes[owner % codes.len()];
            r.label = label.map(|l| LabelText {
                text: MARKINGS[l].into(),
                line,
            });
        }
        for f in &mut s.flights {
            f.nation = codes[0];
        }
        let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
        let day = start + chrono::Days::new(u64::from(day));
        // 23:59:50, so that every run crosses midnight into the next day.
        s.epoch = day.and_hms_opt(23, 59, 50).unwrap().and_utc().timestamp() as f64;
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn pictures_hold_only_what_the_policy_releases(
            nations in proptest::sample::subsequence((0..NATIONS.len()).collect::<Vec<_>>(), 2..=4),
            nation_labels in proptest::collection::vec(0..MARKINGS.len(), 4),
            radars in proptest::collection::vec(
                (0usize..4, proptest::option::weighted(0.3, 0..MARKINGS.len())), 4),
            day in 0u32..(3 * 365),
        ) {
            let s = small_scenario(&nations, &nation_labels, &radars, day);
            let policy = crate::release::tests::shipped_policy();
            check(&s, &policy, 600)?;
        }
    }
}
