use std::collections::BTreeSet;

use nalgebra::Vector4;
use proptest::prelude::*;

use super::*;
use crate::kalman::{state, StateCovariance};
use crate::model::Identity;

fn nation(code: &str) -> NationCode {
    code.parse().unwrap()
}

fn track(n: &str, id: &str, x: f64, y: f64, var: f64) -> NationalTrack<Markings> {
    NationalTrack {
        source: TrackRef {
            nation: nation(n),
            local_id: id.into(),
        },
        sensor: format!("{n}-radar"),
        t: 0.0,
        estimate: Gaussian::new(
            state(x, 0.0, y, 0.0),
            StateCovariance::from_diagonal(&Vector4::new(var, 1.0, var, 1.0)),
        ),
        identity: Identity::Unknown,
        reply: Default::default(),
        label: Markings::of([format!("marking-definition--{n}-{id}")]),
    }
}

fn config() -> FusionConfig {
    FusionConfig::new(0.0)
}

#[test]
fn two_nations_one_target_are_fused_by_fast_ci() {
    let mut a = track("EST", "1", 0.0, 0.0, 1.0);
    let mut b = track("LTU", "9", 2.0, 0.0, 3.0);
    b.identity = Identity::Hostile;
    a.identity = Identity::Suspect;
    let far = track("LTU", "10", 500.0, 500.0, 1.0);
    let picture = fuse_snapshot(config(), 0.0, &[a.clone(), b.clone(), far]).unwrap();
    assert_eq!(picture.len(), 2);
    let fused = &picture[0];
    assert_eq!(
        fused.contributions,
        vec![a.source.clone(), b.source.clone()]
    );
    // Traces 4 and 8 → w = (2/3, 1/3). Pxx⁻¹ = 2/3 + 1/9 = 7/9; x = 9/7 · (1/3 · 1/3 · 2) = 2/7.
    assert!((fused.estimate.p[(0, 0)] - 9.0 / 7.0).abs() < 1e-9);
    assert!((fused.estimate.x[0] - 2.0 / 7.0).abs() < 1e-9);
    // Velocity variances are 1 in both: CI keeps 1.
    assert!((fused.estimate.p[(1, 1)] - 1.0).abs() < 1e-9);
    assert_eq!(fused.identity, Identity::Hostile);
    assert_eq!(Some(fused.label.clone()), a.label.dominant(&b.label));
    // σ = √(9/7) ≈ 1.13 m: one doubling above 1 m.
    assert_eq!(fused.quality, 14);
    assert_eq!(picture[1].contributions.len(), 1);
}

#[test]
fn tracks_of_one_nation_are_never_fused_together() {
    let a = track("POL", "1", 0.0, 0.0, 1.0);
    let b = track("POL", "2", 0.5, 0.0, 1.0);
    let picture = fuse_snapshot(config(), 0.0, &[a, b]).unwrap();
    assert_eq!(picture.len(), 2);
}

#[test]
fn gate_separates_distant_tracks_and_prediction_aligns_times() {
    // Gate: d² = 16² / (1 + 1) = 128 > 13.28 → not fused.
    let picture = fuse_snapshot(
        config(),
        0.0,
        &[
            track("EST", "1", 0.0, 0.0, 1.0),
            track("LVA", "1", 16.0, 0.0, 1.0),
        ],
    )
    .unwrap();
    assert_eq!(picture.len(), 2);
    // A report 10 s old moving at 10 m/s is predicted onto a fresh one at x = 100.
    let mut old = track("EST", "1", 0.0, 0.0, 1.0);
    old.estimate.x[1] = 10.0;
    let mut new = track("LVA", "1", 100.0, 0.0, 1.0);
    new.t = 10.0;
    new.estimate.x[1] = 10.0;
    old.t = 0.0;
    let picture = fuse_snapshot(config(), 10.0, &[old, new]).unwrap();
    assert_eq!(picture.len(), 1);
    assert!((picture[0].estimate.x[0] - 100.0).abs() < 1e-6);
}

#[test]
fn system_track_numbers_are_stable() {
    let mut fuser = Fuser::new(config());
    let a = track("EST", "1", 0.0, 0.0, 1.0);
    let b = track("LTU", "1", 1.0, 0.0, 1.0);
    let c = track("LTU", "2", 900.0, 0.0, 1.0);
    let first = fuser.fuse(0.0, &[&a, &b, &c]).unwrap();
    // Next instant: c reported first, a gone; numbers follow contributors.
    let second = fuser.fuse(1.0, &[&c, &b]).unwrap();
    let id_of = |p: &[SystemTrack<Markings>], local: &str, n: &str| {
        p.iter()
            .find(|s| {
                s.contributions
                    .iter()
                    .any(|r| r.local_id == local && r.nation.as_str() == n)
            })
            .map(|s| s.id)
    };
    assert_eq!(id_of(&first, "1", "LTU"), id_of(&second, "1", "LTU"));
    assert_eq!(id_of(&first, "2", "LTU"), id_of(&second, "2", "LTU"));
}

#[test]
fn stale_tracks_are_left_out() {
    let mut old = track("EST", "1", 0.0, 0.0, 1.0);
    old.t = -100.0;
    assert!(fuse_snapshot(config(), 0.0, &[old]).unwrap().is_empty());
}

const NATIONS: [&str; 4] = ["EST", "LTU", "LVA", "POL"];

fn arb_tracks() -> impl Strategy<Value = Vec<NationalTrack<Markings>>> {
    // Targets on a coarse grid so that several nations often report the same one.
    prop::collection::vec(
        (0usize..4, 0u8..5, -1.0f64..1.0, 0.5f64..4.0, 0u8..7),
        0..16,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (n, target, noise, var, ident))| {
                let mut tr = track(
                    NATIONS[n],
                    &i.to_string(),
                    f64::from(target) * 40.0 + noise,
                    0.0,
                    var,
                );
                tr.identity = Identity::ALL[usize::from(ident)];
                tr
            })
            .collect()
    })
}

proptest! {
    /// Whatever the release decisions, a recipient's picture is exactly the picture fused from the
    /// contributions it may receive: no contribution, estimate, identity or label of a withheld
    /// track shows, and every released contribution is accounted for once.
    #[test]
    fn a_picture_never_contains_what_its_recipient_may_not_see(
        tracks in arb_tracks(),
        decisions in prop::collection::vec(any::<bool>(), 64),
        recipient in 0usize..4,
        steps in 1usize..3,
    ) {
        let recipient = nation(NATIONS[recipient]);
        let policy = |tr: &NationalTrack<Markings>, to: NationCode| {
            let i: usize = tr.source.local_id.parse().unwrap_or(0);
            decisions[(i * 4 + NATIONS.iter().position(|n| *n == to.as_str()).unwrap_or(0)) % 64]
        };
        let released: Vec<NationalTrack<Markings>> =
            tracks.iter().filter(|tr| policy(tr, recipient)).cloned().collect();
        let released_refs: BTreeSet<TrackRef> = released.iter().map(|tr| tr.source.clone()).collect();
        let allowed_markings: BTreeSet<String> =
            released.iter().flat_map(|tr| tr.label.0.iter().cloned()).collect();

        let mut picture = RecipientPicture::new(recipient, config());
        let mut reference = Fuser::new(config());
        for step in 0..steps {
            let t = step as f64;
            let got = picture.fuse(t, &tracks, &policy).unwrap();
            let refs: Vec<&NationalTrack<Markings>> = released.iter().collect();
            let expected = reference.fuse(t, &refs).unwrap();
            prop_assert_eq!(&got, &expected);

            let mut seen = BTreeSet::new();
            for s in &got {
                prop_assert!(!s.contributions.is_empty());
                for c in &s.contributions {
                    prop_assert!(released_refs.contains(c), "withheld {:?} in picture", c);
                    prop_assert!(seen.insert(c.clone()), "{:?} twice", c);
                }
                prop_assert!(s.label.0.is_subset(&allowed_markings));
                let own: BTreeSet<String> = tracks
                    .iter()
                    .filter(|tr| s.contributions.contains(&tr.source))
                    .flat_map(|tr| tr.label.0.iter().cloned())
                    .collect();
                prop_assert_eq!(&s.label.0, &own);
                let nations: BTreeSet<NationCode> = s.contributions.iter().map(|c| c.nation).collect();
                prop_assert_eq!(nations.len(), s.contributions.len());
            }
            prop_assert_eq!(seen, released_refs.clone());
        }
    }
}

/// Labels of two policies, which have no dominant label.
#[derive(Debug, Clone, PartialEq)]
struct PolicyLabel(&'static str);

impl Label for PolicyLabel {
    fn dominant(&self, other: &PolicyLabel) -> Option<PolicyLabel> {
        (self == other).then(|| self.clone())
    }
}

#[test]
fn contributions_whose_labels_cannot_be_combined_stay_apart() {
    let relabel = |t: NationalTrack<Markings>, label: PolicyLabel| NationalTrack {
        source: t.source,
        sensor: t.sensor,
        t: t.t,
        estimate: t.estimate,
        identity: t.identity,
        reply: t.reply,
        label,
    };
    let a = relabel(track("EST", "1", 0.0, 0.0, 1.0), PolicyLabel("NATO"));
    let b = relabel(track("LVA", "1", 0.5, 0.0, 1.0), PolicyLabel("EU"));
    let c = relabel(track("LTU", "1", 0.2, 0.0, 1.0), PolicyLabel("NATO"));
    let picture = Fuser::new(config()).fuse(0.0, &[&a, &b, &c]).unwrap();
    assert_eq!(picture.len(), 2);
    let nato = picture
        .iter()
        .find(|s| s.label == PolicyLabel("NATO"))
        .unwrap();
    assert_eq!(nato.contributions.len(), 2);
}
