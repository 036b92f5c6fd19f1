use super::*;

fn config() -> TrackerConfig {
    TrackerConfig::tutorial(0.05, 0.25, 0.25)
}

#[test]
fn a_target_is_confirmed_on_its_third_plot_and_followed() {
    let mut tracker = Tracker::new(config());
    // A target moving at 1 m/s along x, plots every second, plus one clutter plot far away.
    for k in 0..3 {
        let t = k as f64;
        let plots = [
            Measurement::new(t, 0.0),
            Measurement::new(100.0 + 37.0 * t, -50.0),
        ];
        let tracks = tracker.step(t, &plots).unwrap();
        assert_eq!(tracks.len(), usize::from(k == 2), "scan {k}");
    }
    for k in 3..10 {
        let t = k as f64;
        tracker.step(t, &[Measurement::new(t, 0.0)]).unwrap();
    }
    let tracks = tracker.tracks();
    assert_eq!(tracks.len(), 1);
    let x = tracks[0].estimate.x;
    assert!(
        (x[0] - 9.0).abs() < 0.2 && (x[1] - 1.0).abs() < 0.2,
        "{x:?}"
    );
    assert_eq!(tracks[0].updates, 10);
}

#[test]
fn a_track_without_plots_is_deleted_once_its_covariance_grows() {
    let mut tracker = Tracker::new(config());
    for k in 0..5 {
        tracker
            .step(k as f64, &[Measurement::new(0.0, 0.0)])
            .unwrap();
    }
    assert_eq!(tracker.tracks().len(), 1);
    let mut t = 5.0;
    while !tracker.tracks().is_empty() {
        tracker.step(t, &[]).unwrap();
        t += 1.0;
        assert!(t < 60.0, "track never deleted");
    }
    // Trace limit 2: a converged stationary track coasts a few seconds at q = 0.05, not forever.
    assert!(t > 6.0);
}

#[test]
fn two_crossing_targets_keep_their_identities() {
    let mut tracker = Tracker::new(config());
    let mut ids = None;
    for k in 0..20 {
        let t = k as f64;
        let a = Measurement::new(-10.0 + t, 5.0);
        let b = Measurement::new(10.0 - t, -5.0);
        let tracks = tracker.step(t, &[a, b]).unwrap();
        if tracks.len() == 2 {
            let mut pairs: Vec<(u64, f64)> =
                tracks.iter().map(|tr| (tr.id, tr.estimate.x[2])).collect();
            pairs.sort_by(|p, q| p.1.total_cmp(&q.1));
            let now = (pairs[0].0, pairs[1].0);
            assert_eq!(*ids.get_or_insert(now), now, "swap at scan {k}");
        }
    }
    assert!(ids.is_some());
}

#[test]
fn history_reports_the_holding_states_of_a_confirmed_track() {
    let mut tracker = Tracker::new(TrackerConfig {
        keep_history: true,
        ..config()
    });
    for k in 0..3 {
        tracker
            .step(k as f64, &[Measurement::new(k as f64, 0.0)])
            .unwrap();
    }
    let past = tracker.drain_history();
    assert_eq!(past.iter().map(|p| p.t).collect::<Vec<_>>(), vec![0.0, 1.0]);
    assert!(tracker.drain_history().is_empty());
}

#[test]
fn time_must_not_go_back() {
    let mut tracker = Tracker::new(config());
    tracker.step(5.0, &[]).unwrap();
    assert!(tracker.step(4.0, &[]).is_err());
    assert!(tracker.step(f64::NAN, &[]).is_err());
}

#[test]
fn deleted_tracks_can_report_their_last_coasted_state() {
    let mut tracker = Tracker::new(TrackerConfig {
        report_deleted: true,
        ..config()
    });
    for k in 0..5 {
        tracker
            .step(k as f64, &[Measurement::new(0.0, 0.0)])
            .unwrap();
    }
    let mut t = 5.0;
    while !tracker.tracks().is_empty() {
        tracker.step(t, &[]).unwrap();
        t += 1.0;
    }
    let past = tracker.drain_history();
    assert_eq!(past.len(), 1);
    assert_eq!(past[0].t, t - 1.0);
}
