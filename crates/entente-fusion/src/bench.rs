//! Timing of the engine on one thread: the tracker over a scenario's scans, fusion of synthetic
//! national pictures. The caller supplies the clock (seconds from any origin), so that the crate
//! never reads one and the harness can be tested.

use entente_types::report::{Report, Table, ToReport};
use entente_types::NationCode;
use serde::Serialize;

use crate::files::Scenario;
use crate::fusion::{Fuser, FusionConfig};
use crate::model::{Markings, NationalTrack};
use crate::synthetic::SyntheticPicture;
use crate::tracker::Tracker;
use crate::Error;

/// Median, 99th percentile, mean and maximum of durations, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    pub samples: usize,
    pub median_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub max_us: f64,
}

impl Timing {
    pub fn of(mut micros: Vec<f64>) -> Timing {
        micros.sort_by(f64::total_cmp);
        let n = micros.len();
        let at = |q: f64| -> f64 {
            if n == 0 {
                0.0
            } else {
                micros[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
            }
        };
        let mean = if n == 0 {
            0.0
        } else {
            micros.iter().sum::<f64>() / n as f64
        };
        Timing {
            samples: n,
            median_us: at(0.5),
            p99_us: at(0.99),
            mean_us: mean,
            max_us: micros.last().copied().unwrap_or(0.0),
        }
    }

    /// One table row, `what` first.
    fn table(&self, what: &str) -> Report {
        let mut table = Table::new(["", "samples", "median µs", "p99 µs", "mean µs", "max µs"]);
        let f = |v: f64| format!("{v:.1}");
        table.add_row([
            what.to_owned(),
            self.samples.to_string(),
            f(self.median_us),
            f(self.p99_us),
            f(self.mean_us),
            f(self.max_us),
        ]);
        let mut report = Report::default();
        report.table(table);
        report
    }
}

/// Times `step` on `best_of - 1` copies of `state` and then on `state` itself, and keeps the
/// fastest (which filters out preemption on a busy machine). Returns the last run's result.
fn fastest<S: Clone, T>(
    state: &mut S,
    best_of: usize,
    now: &mut impl FnMut() -> f64,
    mut step: impl FnMut(&mut S) -> Result<T, Error>,
) -> Result<(f64, T), Error> {
    let mut best = f64::INFINITY;
    for _ in 1..best_of {
        let mut copy = state.clone();
        let start = now();
        step(&mut copy)?;
        best = best.min((now() - start) * 1e6);
    }
    let start = now();
    let out = step(state)?;
    Ok((best.min((now() - start) * 1e6), out))
}

/// The tracker's time per scan over a scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackerBench {
    pub scenario: String,
    pub scans: usize,
    pub repeat: usize,
    pub best_of: usize,
    pub confirmed_track_scans: usize,
    pub timing: Timing,
}

/// Runs the tracker over the scenario's scans `repeat` times, timing each scan.
pub fn tracker(
    scenario: &Scenario,
    name: String,
    repeat: usize,
    best_of: usize,
    mut now: impl FnMut() -> f64,
) -> Result<TrackerBench, Error> {
    let (repeat, best_of) = (repeat.max(1), best_of.max(1));
    let config = scenario.tracker_config();
    let mut times = Vec::with_capacity(scenario.scans.len() * repeat);
    let mut confirmed = 0usize;
    for _ in 0..repeat {
        let mut tracker = Tracker::new(config);
        for scan in &scenario.scans {
            let (micros, n) = fastest(&mut tracker, best_of, &mut now, |t| {
                Ok(t.step(scan.t, &scan.plots)?.len())
            })?;
            times.push(micros);
            confirmed += n;
        }
    }
    Ok(TrackerBench {
        scenario: name,
        scans: scenario.scans.len(),
        repeat,
        best_of,
        confirmed_track_scans: confirmed,
        timing: Timing::of(times),
    })
}

impl ToReport for TrackerBench {
    fn report(&self) -> Report {
        self.timing.table("tracker, per scan")
    }
}

/// Fusion's time per instant for synthetic national pictures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusionBench {
    pub targets: usize,
    pub nations: usize,
    pub scans: usize,
    pub best_of: usize,
    pub system_tracks_last: usize,
    pub timing: Timing,
}

/// Fuses `scans` instants of `targets` targets seen by `nations`, timing each instant. The
/// input is the same seeded picture every run, so that timings compare.
pub fn fusion(
    targets: usize,
    nations: usize,
    scans: usize,
    config: FusionConfig,
    best_of: usize,
    mut now: impl FnMut() -> f64,
) -> Result<FusionBench, Error> {
    const CODES: [&str; 8] = ["EST", "LVA", "LTU", "POL", "FIN", "SWE", "DEU", "NOR"];
    if nations == 0 || nations > CODES.len() || targets == 0 || scans == 0 {
        return Err(Error::InvalidInput {
            what: format!(
                "fusion benchmark of {nations} nations, {targets} targets, {scans} scans"
            ),
            message: format!(
                "need 1 to {} nations, targets > 0 and scans > 0",
                CODES.len()
            ),
        });
    }
    let nations: Vec<NationCode> = CODES[..nations]
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    let best_of = best_of.max(1);
    let count = nations.len();
    let mut synthetic = SyntheticPicture::new(targets, nations, 0x2545_f491_4f6c_dd1d);
    let mut fuser = Fuser::new(config);
    let mut times = Vec::with_capacity(scans);
    let mut system_tracks = 0usize;
    for k in 0..scans {
        let t = k as f64;
        let reports = synthetic.step(t);
        let refs: Vec<&NationalTrack<Markings>> = reports.iter().collect();
        let (micros, n) = fastest(&mut fuser, best_of, &mut now, |f| {
            Ok(f.fuse(t, &refs)?.len())
        })?;
        times.push(micros);
        system_tracks = n;
    }
    Ok(FusionBench {
        targets,
        nations: count,
        scans,
        best_of,
        system_tracks_last: system_tracks,
        timing: Timing::of(times),
    })
}

impl ToReport for FusionBench {
    fn report(&self) -> Report {
        self.timing.table("fusion, per instant")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_takes_order_statistics_of_the_samples() {
        let t = Timing::of(vec![3.0, 1.0, 2.0, 4.0]);
        assert_eq!(
            (t.samples, t.median_us, t.p99_us, t.max_us),
            (4, 2.0, 4.0, 4.0)
        );
        assert_eq!(t.mean_us, 2.5);
        assert_eq!(Timing::of(Vec::new()).median_us, 0.0);
    }

    #[test]
    fn the_fastest_of_several_runs_is_kept_and_the_state_advances_once() {
        // A clock that advances by 5 µs, then 1 µs, then 3 µs per timed step.
        let mut ticks = [0.0, 5e-6, 10e-6, 11e-6, 20e-6, 23e-6].into_iter();
        let mut now = || ticks.next().unwrap_or(0.0);
        let mut counter = 0u32;
        let (micros, out) = fastest(&mut counter, 3, &mut now, |c| {
            *c += 1;
            Ok(*c)
        })
        .unwrap();
        assert!((micros - 1.0).abs() < 1e-9);
        assert_eq!((counter, out), (1, 1));
    }

    #[test]
    fn fusion_bench_counts_instants_and_system_tracks() {
        let mut clock = 0.0;
        let b = fusion(5, 2, 3, FusionConfig::new(1.0), 2, || {
            clock += 1e-6;
            clock
        })
        .unwrap();
        assert_eq!((b.nations, b.scans, b.timing.samples), (2, 3, 3));
        assert!(b.system_tracks_last > 0);
    }

    #[test]
    fn fusion_bench_refuses_nine_nations_and_empty_runs() {
        for (targets, nations, scans) in [(5, 9, 3), (5, 0, 3), (0, 2, 3), (5, 2, 0)] {
            let err = fusion(targets, nations, scans, FusionConfig::new(1.0), 1, || 0.0);
            assert!(
                matches!(err, Err(Error::InvalidInput { .. })),
                "{nations} nations"
            );
        }
    }
}
