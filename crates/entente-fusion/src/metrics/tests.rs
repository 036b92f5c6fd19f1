use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn gospa_by_hand() {
    // One pair at distance 1, one missed truth, one false track; c = 5, p = 1.
    let truth = [[0.0, 0.0], [10.0, 0.0]];
    let tracks = [[1.0, 0.0], [50.0, 50.0]];
    let g = gospa(&truth, &tracks, 5.0, 1.0);
    assert!(close(g.distance, 6.0) && close(g.localisation, 1.0));
    assert!(close(g.missed, 2.5) && close(g.false_tracks, 2.5));
    // p = 2: √(1 + 25/2 + 25/2).
    assert!(close(
        gospa(&truth, &tracks, 5.0, 2.0).distance,
        26f64.sqrt()
    ));
    // Only cardinality errors.
    assert!(close(gospa(&[], &[[0.0, 0.0]], 10.0, 1.0).distance, 5.0));
    assert!(close(gospa(&[[0.0, 0.0]], &[], 10.0, 1.0).missed, 5.0));
    assert_eq!(gospa(&[], &[], 10.0, 1.0), Gospa::default());
}

#[test]
fn gospa_uses_the_optimal_assignment_not_the_greedy_one() {
    // Greedy pairs truth 0 with track 0 (d = 1) and leaves truth 1 at 2.9 from track 1... the
    // optimum pairs (0,1) and (1,0): 1.5 + 1.5 = 3 < 1 + 2.9 + ... checked by value below.
    let truth = [[0.0, 0.0], [3.0, 0.0]];
    let tracks = [[1.0, 0.0], [-1.5, 0.0]];
    // Options: (0→0: 1, 1→1: 4.5 ≥ c=4 → unpaired, 2 + 2) = 5, or (0→1: 1.5, 1→0: 2) = 3.5.
    let g = gospa(&truth, &tracks, 4.0, 1.0);
    assert!(close(g.distance, 3.5), "{g:?}");
}

#[test]
fn ospa_by_hand() {
    let truth = [[0.0, 0.0], [10.0, 0.0]];
    let tracks = [[1.0, 0.0], [50.0, 50.0]];
    // Both paired under OSPA (n = m = 2): (1 + min(d, 5)) / 2 = 3.
    assert!(close(ospa(&truth, &tracks, 5.0, 1.0), 3.0));
    // Cardinality mismatch: (1 + 5) / 2.
    assert!(close(ospa(&truth, &tracks[..1], 5.0, 1.0), 3.0));
    assert!(close(ospa(&[], &tracks, 5.0, 2.0), 5.0));
    assert!(close(ospa(&[], &[], 5.0, 2.0), 0.0));
}

fn path(id: usize, times: std::ops::Range<u32>, dx: f64, y: f64) -> Vec<Sample> {
    times
        .map(|k| Sample {
            id,
            t: f64::from(k),
            x: f64::from(k) + dx,
            y,
        })
        .collect()
}

#[test]
fn siap_by_hand() {
    let params = ScoreParams {
        c: 10.0,
        p: 1.0,
        siap_threshold: 5.0,
    };
    let truth = path(0, 0..6, 0.0, 0.0);
    // One good track: complete, unambiguous, nothing spurious.
    let good = path(0, 0..6, 0.1, 0.0);
    let s = score(&truth, &good, params);
    assert_eq!(s.instants, 6);
    assert_eq!(
        s.siap,
        Siap {
            completeness: 1.0,
            ambiguity: 1.0,
            spuriousness: 0.0
        }
    );
    assert!(close(s.gospa.distance, 0.1) && close(s.ospa, 0.1));
    // Plus a far track: half the track-instants are spurious.
    let mut two = good.clone();
    two.extend(path(1, 0..6, 0.0, 100.0));
    assert!(close(score(&truth, &two, params).siap.spuriousness, 0.5));
    // Plus a duplicate: ambiguity 2.
    let mut dup = good.clone();
    dup.extend(path(1, 0..6, -0.2, 0.0));
    assert!(close(score(&truth, &dup, params).siap.ambiguity, 2.0));
    // A track present for only two instants never confirms an association (3 needed).
    let short = path(0, 0..2, 0.0, 0.0);
    let s = score(&truth, &short, params);
    assert!(close(s.siap.completeness, 0.0) && close(s.siap.spuriousness, 1.0));
}
