//! A multi-target tracker for one sensor's plots: Kalman filtering, Mahalanobis gating, global
//! nearest neighbour with optimal assignment, M-of-N style initiation and covariance-based deletion.
//!
//! It follows the loop of Stone Soup's `MultiTargetTracker` with the components of its tutorial 10
//! (`DistanceHypothesiser(Mahalanobis, missed_distance)`, `GNNWith2DAssignment`,
//! `CovarianceBasedDeleter`, `MultiMeasurementInitiator`), so that both trackers make the same
//! decisions on the same plots and differ only in how fast they make them:
//! associate confirmed tracks → update or coast → delete → associate holding tracks with the plots
//! left over → confirm those with enough updates → delete holding tracks → start new holding
//! tracks on the plots still unused.

use crate::assignment::{gnn, Edge};
use crate::kalman::{
    update, Gaussian, Innovation, Measurement, MeasurementCovariance, Motion, StateCovariance,
    StateVector,
};
use crate::Error;

/// Tracker parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Motion model used for prediction.
    pub motion: Motion,
    /// Plot noise covariance.
    pub r: MeasurementCovariance,
    /// Mahalanobis distance (not squared) beyond which a plot is not considered for a track, and
    /// the cost of leaving a track without a plot.
    pub missed_distance: f64,
    /// A track whose covariance trace exceeds this is deleted.
    pub delete_covariance_trace: f64,
    /// Updates (the initiating plot included) a holding track needs to be confirmed.
    pub min_points: u32,
    /// Prior variance of each velocity component of a new track, (m/s)².
    pub prior_velocity_variance: f64,
    /// Keep the states of holding tracks so that a confirmed track's whole life can be reported.
    pub keep_history: bool,
    /// Also report, through [`Tracker::drain_history`], the coasted state at which a confirmed
    /// track is deleted. Stone Soup's track objects keep that last prediction; a live picture
    /// does not show it.
    pub report_deleted: bool,
}

impl TrackerConfig {
    /// The components of Stone Soup's tutorial 10, for process noise `q` and plot noise
    /// `diag(rx, ry)`: missed distance 3, confirmation after 3 plots, prior velocity variance 0.5,
    /// deletion when the covariance trace exceeds `4 (rx + ry)` (the tutorial's 2 for its
    /// `R = diag(0.25, 0.25)`).
    pub fn tutorial(q: f64, rx: f64, ry: f64) -> TrackerConfig {
        TrackerConfig {
            motion: Motion::ConstantVelocity { q },
            r: MeasurementCovariance::new(rx, 0.0, 0.0, ry),
            missed_distance: 3.0,
            delete_covariance_trace: 4.0 * (rx + ry),
            min_points: 3,
            prior_velocity_variance: 0.5,
            keep_history: false,
            report_deleted: false,
        }
    }
}

/// One track held by the tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Identifier, unique within this tracker, never reused.
    pub id: u64,
    /// Latest estimate.
    pub estimate: Gaussian,
    /// Time of the latest estimate, seconds.
    pub t: f64,
    /// Number of plots that updated it, the initiating one included.
    pub updates: u32,
}

/// A state that a newly confirmed track had before its confirmation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastState {
    /// Track identifier.
    pub id: u64,
    /// Time, seconds.
    pub t: f64,
    /// Mean at that time.
    pub x: StateVector,
}

#[derive(Debug, Clone)]
struct Holding {
    track: Track,
    history: Vec<(f64, StateVector)>,
}

/// The tracker. Feed it every scan in time order with [`Tracker::step`].
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    confirmed: Vec<Track>,
    holding: Vec<Holding>,
    next_id: u64,
    last_t: Option<f64>,
    history: Vec<PastState>,
    // Scratch buffers reused across scans.
    order: Vec<usize>,
    xs: Vec<f64>,
    used: Vec<bool>,
    edges: Vec<Edge>,
}

impl Tracker {
    /// A tracker with no tracks.
    pub fn new(config: TrackerConfig) -> Tracker {
        Tracker {
            config,
            confirmed: Vec::new(),
            holding: Vec::new(),
            next_id: 1,
            last_t: None,
            history: Vec::new(),
            order: Vec::new(),
            xs: Vec::new(),
            used: Vec::new(),
            edges: Vec::new(),
        }
    }

    /// The parameters.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Confirmed tracks as of the last scan.
    pub fn tracks(&self) -> &[Track] {
        &self.confirmed
    }

    /// States of newly confirmed tracks from before their confirmation (with `keep_history`) and
    /// final states of deleted tracks (with `report_deleted`), in the order they were produced;
    /// the buffer is emptied.
    pub fn drain_history(&mut self) -> Vec<PastState> {
        std::mem::take(&mut self.history)
    }

    /// Processes the plots of one scan taken at time `t` (seconds, not before the previous scan)
    /// and returns the confirmed tracks.
    pub fn step(&mut self, t: f64, plots: &[Measurement]) -> Result<&[Track], Error> {
        if !t.is_finite() || self.last_t.is_some_and(|last| t < last) {
            return Err(Error::InvalidInput {
                what: "scan time".into(),
                message: format!("{t} is not finite or goes back in time"),
            });
        }
        self.last_t = Some(t);
        self.index_plots(plots);

        // Confirmed tracks.
        let cfg = self.config;
        let mut tracks = std::mem::take(&mut self.confirmed);
        self.associate_and_update(&mut tracks, t, plots);
        if cfg.report_deleted {
            for tr in &tracks {
                if tr.estimate.p.trace() > cfg.delete_covariance_trace {
                    self.history.push(PastState {
                        id: tr.id,
                        t: tr.t,
                        x: tr.estimate.x,
                    });
                }
            }
        }
        tracks.retain(|tr| tr.estimate.p.trace() <= cfg.delete_covariance_trace);

        // Holding tracks, on the plots no confirmed track took.
        let mut holding = std::mem::take(&mut self.holding);
        let mut hold_tracks: Vec<Track> = holding.iter().map(|h| h.track.clone()).collect();
        if cfg.keep_history {
            for h in &mut holding {
                h.history.push((h.track.t, h.track.estimate.x));
            }
        }
        self.associate_and_update(&mut hold_tracks, t, plots);
        let mut kept = Vec::with_capacity(holding.len());
        for (mut h, tr) in holding.into_iter().zip(hold_tracks) {
            h.track = tr;
            if h.track.updates >= cfg.min_points {
                if cfg.keep_history {
                    let id = h.track.id;
                    self.history
                        .extend(h.history.iter().map(|&(t, x)| PastState { id, t, x }));
                }
                tracks.push(h.track);
            } else if h.track.estimate.p.trace() <= cfg.delete_covariance_trace {
                kept.push(h);
            }
        }

        // New holding tracks on the plots still unused.
        for (j, z) in plots.iter().enumerate() {
            if self.used[j] {
                continue;
            }
            let v = cfg.prior_velocity_variance;
            #[rustfmt::skip]
            let p = StateCovariance::new(
                cfg.r[(0, 0)], 0.0, cfg.r[(0, 1)], 0.0,
                0.0, v, 0.0, 0.0,
                cfg.r[(1, 0)], 0.0, cfg.r[(1, 1)], 0.0,
                0.0, 0.0, 0.0, v,
            );
            let track = Track {
                id: self.next_id,
                estimate: Gaussian::new(StateVector::new(z[0], 0.0, z[1], 0.0), p),
                t,
                updates: 1,
            };
            self.next_id += 1;
            if track.updates >= cfg.min_points {
                tracks.push(track);
            } else {
                kept.push(Holding {
                    track,
                    history: Vec::new(),
                });
            }
        }
        self.holding = kept;
        self.confirmed = tracks;
        Ok(&self.confirmed)
    }

    fn index_plots(&mut self, plots: &[Measurement]) {
        self.order.clear();
        self.order.extend(0..plots.len());
        self.order
            .sort_unstable_by(|&a, &b| plots[a][0].total_cmp(&plots[b][0]));
        self.xs.clear();
        self.xs.extend(self.order.iter().map(|&i| plots[i][0]));
        self.used.clear();
        self.used.resize(plots.len(), false);
    }

    /// Predicts `tracks` to `t`, associates them with the unused plots, updates or coasts them,
    /// and marks the plots taken.
    fn associate_and_update(&mut self, tracks: &mut [Track], t: f64, plots: &[Measurement]) {
        let cfg = self.config;
        let gate = cfg.missed_distance;
        let mut predicted = Vec::with_capacity(tracks.len());
        self.edges.clear();
        for (i, tr) in tracks.iter().enumerate() {
            let pred = cfg.motion.predict(&tr.estimate, t - tr.t);
            let innovation = Innovation::of(&pred, &cfg.r);
            if let Some(inn) = &innovation {
                // |dx| ≤ gate·√Sxx is necessary for a Mahalanobis distance below the gate.
                let (wx, wy) = (gate * inn.s[(0, 0)].sqrt(), gate * inn.s[(1, 1)].sqrt());
                let lo = self.xs.partition_point(|&x| x < inn.z[0] - wx);
                for k in lo..self.xs.len() {
                    if self.xs[k] > inn.z[0] + wx {
                        break;
                    }
                    let j = self.order[k];
                    if self.used[j] || (plots[j][1] - inn.z[1]).abs() > wy {
                        continue;
                    }
                    let d = inn.mahalanobis2(&plots[j]).sqrt();
                    if d < gate {
                        self.edges.push(Edge {
                            row: i,
                            col: j,
                            cost: d,
                        });
                    }
                }
            }
            predicted.push((pred, innovation));
        }
        let assigned = gnn(tracks.len(), plots.len(), &self.edges, gate);
        for ((tr, (pred, innovation)), a) in tracks.iter_mut().zip(predicted).zip(assigned) {
            tr.t = t;
            match (a, innovation) {
                (Some(j), Some(inn)) => {
                    tr.estimate = update(&pred, &inn, &plots[j]);
                    tr.updates += 1;
                    self.used[j] = true;
                }
                _ => tr.estimate = pred,
            }
        }
    }
}

#[cfg(test)]
mod tests;
