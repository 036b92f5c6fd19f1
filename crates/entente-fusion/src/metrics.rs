//! Multi-target accuracy metrics computed the way Stone Soup's metric generators compute them,
//! on positions only (Euclidean over `x, y`).
//!
//! - OSPA(c, p) per instant: `((Σ min(d, c)ᵖ + cᵖ |m − n|) / max(m, n))^(1/p)` under the optimal
//!   assignment.
//! - GOSPA(c, p, α = 2) per instant: `(Σ_{assigned, d < c} dᵖ + cᵖ/2 (missed + false))^(1/p)`, with
//!   its split into localisation (`Σ dᵖ`), missed (`cᵖ/2 · #missed`) and false (`cᵖ/2 · #false`)
//!   terms, as Stone Soup reports them.
//! - SIAP completeness, ambiguity and spuriousness, from Stone Soup's `TrackToTruth` association
//!   (a track is associated with its closest truth within a threshold for three consecutive
//!   instants; the association ends after two consecutive failures).
//!
//! The instants are every time at which a truth or a track has a state. Pairing at distance `c` or
//! more costs as much as leaving both unpaired, so only pairs closer than `c` enter the
//! assignment, which keeps it sparse.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::assignment::{gnn, Edge};

/// A position of one object (truth or track) at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Object identifier (index of the truth path or track).
    pub id: usize,
    /// Time, seconds.
    pub t: f64,
    /// East / x, metres.
    pub x: f64,
    /// North / y, metres.
    pub y: f64,
}

/// GOSPA at one instant or its mean over instants.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Gospa {
    /// The metric.
    pub distance: f64,
    /// `Σ dᵖ` over assigned pairs closer than `c`.
    pub localisation: f64,
    /// `cᵖ/2` per missed truth.
    pub missed: f64,
    /// `cᵖ/2` per false track.
    #[serde(rename = "false")]
    pub false_tracks: f64,
}

/// Minimum over partial matchings of `Σ (dᵖ − cᵖ)` over matched pairs closer than `c`; returns the
/// sum and the number of matched pairs.
fn best_matching(truth: &[[f64; 2]], tracks: &[[f64; 2]], c: f64, p: f64) -> (f64, f64, usize) {
    let cp = c.powf(p);
    let mut order: Vec<usize> = (0..tracks.len()).collect();
    order.sort_unstable_by(|&a, &b| tracks[a][0].total_cmp(&tracks[b][0]));
    let xs: Vec<f64> = order.iter().map(|&k| tracks[k][0]).collect();
    let mut edges = Vec::new();
    for (i, a) in truth.iter().enumerate() {
        let lo = xs.partition_point(|&x| x <= a[0] - c);
        for k in lo..xs.len() {
            if xs[k] >= a[0] + c {
                break;
            }
            let b = tracks[order[k]];
            let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            if d < c {
                edges.push(Edge {
                    row: i,
                    col: order[k],
                    cost: d.powf(p) - cp,
                });
            }
        }
    }
    let assigned = gnn(truth.len(), tracks.len(), &edges, 0.0);
    let mut gain = 0.0;
    let mut localisation = 0.0;
    let mut pairs = 0;
    for (i, a) in assigned.iter().enumerate() {
        if let Some(j) = a {
            if let Some(e) = edges.iter().find(|e| e.row == i && e.col == *j) {
                gain += e.cost;
                localisation += e.cost + cp;
                pairs += 1;
            }
        }
    }
    (gain, localisation, pairs)
}

/// GOSPA (α = 2) between truth and track positions at one instant.
pub fn gospa(truth: &[[f64; 2]], tracks: &[[f64; 2]], c: f64, p: f64) -> Gospa {
    let half = c.powf(p) / 2.0;
    let (_, localisation, pairs) = best_matching(truth, tracks, c, p);
    let missed = (truth.len() - pairs) as f64 * half;
    let false_tracks = (tracks.len() - pairs) as f64 * half;
    Gospa {
        distance: (localisation + missed + false_tracks).powf(1.0 / p),
        localisation,
        missed,
        false_tracks,
    }
}

/// OSPA between truth and track positions at one instant (0 when both are empty).
pub fn ospa(truth: &[[f64; 2]], tracks: &[[f64; 2]], c: f64, p: f64) -> f64 {
    let n = truth.len().max(tracks.len());
    if n == 0 {
        return 0.0;
    }
    let (gain, _, _) = best_matching(truth, tracks, c, p);
    let total = c.powf(p) * n as f64 + gain;
    (total.max(0.0) / n as f64).powf(1.0 / p)
}

/// SIAP measures over a whole scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Siap {
    /// Σ associated truths / Σ truths.
    pub completeness: f64,
    /// Σ associated tracks / Σ associated truths (1 is ideal).
    pub ambiguity: f64,
    /// Σ unassociated tracks / Σ tracks.
    pub spuriousness: f64,
}

/// Scoring parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ScoreParams {
    /// Cut-off distance `c`, metres.
    pub c: f64,
    /// Order `p`.
    pub p: f64,
    /// Distance within which a track may be associated with a truth for SIAP, metres.
    pub siap_threshold: f64,
}

/// Scores of a tracker output against the truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Score {
    /// Number of instants scored.
    pub instants: usize,
    /// GOSPA averaged over instants (each component averaged).
    pub gospa: Gospa,
    /// OSPA averaged over instants.
    pub ospa: f64,
    /// SIAP.
    pub siap: Siap,
}

/// Instants are compared to the microsecond, so that times read from text files match.
fn key(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// Scores `tracks` against `truth`.
pub fn score(truth: &[Sample], tracks: &[Sample], params: ScoreParams) -> Score {
    let mut at: BTreeMap<i64, (Vec<Sample>, Vec<Sample>)> = BTreeMap::new();
    for s in truth {
        at.entry(key(s.t)).or_default().0.push(*s);
    }
    for s in tracks {
        at.entry(key(s.t)).or_default().1.push(*s);
    }
    let mut score = Score {
        instants: at.len(),
        ..Score::default()
    };
    if at.is_empty() {
        return score;
    }
    let pos = |v: &[Sample]| v.iter().map(|s| [s.x, s.y]).collect::<Vec<_>>();
    for (tr, tk) in at.values() {
        let (a, b) = (pos(tr), pos(tk));
        let g = gospa(&a, &b, params.c, params.p);
        score.gospa.distance += g.distance;
        score.gospa.localisation += g.localisation;
        score.gospa.missed += g.missed;
        score.gospa.false_tracks += g.false_tracks;
        score.ospa += ospa(&a, &b, params.c, params.p);
    }
    let n = at.len() as f64;
    score.gospa.distance /= n;
    score.gospa.localisation /= n;
    score.gospa.missed /= n;
    score.gospa.false_tracks /= n;
    score.ospa /= n;
    score.siap = siap(&at, params.siap_threshold);
    score
}

/// One `TrackToTruth` association: track, truth, first and last instant (inclusive).
type Association = (usize, usize, i64, i64);

fn siap(at: &BTreeMap<i64, (Vec<Sample>, Vec<Sample>)>, threshold: f64) -> Siap {
    const CONFIRM: u32 = 3;
    const END: u32 = 2;
    // Per track, its states in time order (the last one per instant).
    let mut track_states: BTreeMap<usize, Vec<(i64, Sample)>> = BTreeMap::new();
    for (&k, (_, tk)) in at {
        for s in tk {
            let v = track_states.entry(s.id).or_default();
            match v.last_mut() {
                Some(last) if last.0 == k => *last = (k, *s),
                _ => v.push((k, *s)),
            }
        }
    }
    let mut associations: Vec<Association> = Vec::new();
    for (&track, states) in &track_states {
        let mut current: Option<usize> = None;
        let mut potential: Option<usize> = None;
        let (mut successes, mut failures) = (0u32, 0u32);
        let (mut potential_start, mut start, mut end) = (0i64, 0i64, 0i64);
        for &(k, s) in states {
            let mut best = threshold;
            let mut closest = None;
            if let Some((truths, _)) = at.get(&k) {
                for g in truths {
                    let d = ((g.x - s.x).powi(2) + (g.y - s.y).powi(2)).sqrt();
                    if d < best {
                        best = d;
                        closest = Some(g.id);
                    }
                }
            }
            match current {
                None => {
                    match closest {
                        None => {
                            successes = 0;
                            potential = None;
                        }
                        Some(g) if potential != Some(g) => {
                            potential = Some(g);
                            successes = 1;
                            potential_start = k;
                        }
                        Some(_) => successes += 1,
                    }
                    if successes >= CONFIRM {
                        current = closest;
                        start = potential_start;
                        end = k;
                        potential = None;
                        successes = 0;
                    }
                }
                Some(cur) => {
                    if closest == Some(cur) {
                        failures = 0;
                        end = k;
                    } else {
                        failures += 1;
                        if closest.is_some() && closest == potential {
                            successes += 1;
                        } else {
                            potential = closest;
                            potential_start = k;
                            successes = 1;
                        }
                        if failures >= END {
                            associations.push((track, cur, start, end));
                            if successes >= CONFIRM {
                                current = potential;
                                start = potential_start;
                                end = k;
                            } else {
                                current = None;
                            }
                        }
                    }
                }
            }
        }
        if let Some(cur) = current {
            associations.push((track, cur, start, end));
        }
    }
    // Sweep the instants, counting the truths and tracks in associations active at each.
    let (mut j_sum, mut jt_sum, mut na_sum, mut n_sum) = (0usize, 0usize, 0usize, 0usize);
    let mut by_start: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, a) in associations.iter().enumerate() {
        by_start.entry(a.2).or_default().push(i);
    }
    let mut active: BTreeSet<(i64, usize)> = BTreeSet::new();
    for (&k, (truths, tracks)) in at {
        if let Some(v) = by_start.get(&k) {
            for &i in v {
                active.insert((associations[i].3, i));
            }
        }
        while let Some(&(e, i)) = active.first() {
            if e < k {
                active.remove(&(e, i));
            } else {
                break;
            }
        }
        let truths_assoc: BTreeSet<usize> =
            active.iter().map(|&(_, i)| associations[i].1).collect();
        let tracks_assoc: BTreeSet<usize> =
            active.iter().map(|&(_, i)| associations[i].0).collect();
        let truth_ids: BTreeSet<usize> = truths.iter().map(|s| s.id).collect();
        let track_ids: BTreeSet<usize> = tracks.iter().map(|s| s.id).collect();
        j_sum += truth_ids.len();
        n_sum += track_ids.len();
        jt_sum += truths_assoc.len();
        na_sum += tracks_assoc.len();
    }
    let ratio = |a: usize, b: usize, empty: f64| if b == 0 { empty } else { a as f64 / b as f64 };
    Siap {
        completeness: ratio(jt_sum, j_sum, 0.0),
        ambiguity: ratio(na_sum, jt_sum, 1.0),
        // As in Stone Soup, a track counts as associated while its association is open even at an
        // instant where it has no state, so this difference may in principle go negative.
        spuriousness: if n_sum == 0 {
            0.0
        } else {
            (n_sum as f64 - na_sum as f64) / n_sum as f64
        },
    }
}

#[cfg(test)]
mod tests;
