//! `entente picture …`: the air picture — track plots, fuse national tracks, score against the
//! truth, and time the engine.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use entente_fusion::ci::Weighting;
use entente_fusion::files::{self, TrackRow};
use entente_fusion::fusion::{Fuser, FusionConfig};
use entente_fusion::kalman::{Gaussian, StateCovariance, StateVector};
use entente_fusion::metrics::{self, ScoreParams};
use entente_fusion::model::{Identity, Markings, NationalTrack, TrackRef};
use entente_fusion::tracker::Tracker;
use entente_types::{ErrorCode, NationCode};
use serde_json::json;

use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Track a scenario's plots (scans.csv, detections.csv, meta.json) into tracks.csv.
    Track {
        /// Scenario directory.
        #[arg(long, value_name = "DIR")]
        scenario: PathBuf,
        /// Output file: track_id,t,x,vx,y,vy, one row per confirmed track per scan.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Append the ten covariance columns (what `picture fuse` needs as input).
        #[arg(long)]
        covariance: bool,
        /// Leave out the states a track had before it was confirmed.
        #[arg(long)]
        no_history: bool,
        /// Also write the coasted state at which each track is deleted, as Stone Soup's track
        /// objects hold it.
        #[arg(long)]
        deletion_states: bool,
        #[arg(long)]
        json: bool,
    },
    /// Fuse several nations' local tracks (DIR/<NATION>.csv, with covariance) into system tracks.
    Fuse {
        /// Directory of national track files.
        #[arg(long, value_name = "DIR")]
        inputs: PathBuf,
        /// Output file: track_id,t,x,vx,y,vy, covariance, contributors.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Process noise used to bring national tracks to each fusion instant.
        #[arg(long, default_value_t = 0.05)]
        q: f64,
        /// Fusion interval in seconds (default: every instant at which some nation reports).
        #[arg(long)]
        every: Option<f64>,
        /// Covariance-intersection weights.
        #[arg(long, value_enum, default_value_t = WeightingArg::Fast)]
        weighting: WeightingArg,
        #[arg(long)]
        json: bool,
    },
    /// Score tracks against the truth: GOSPA (with its split), OSPA and SIAP, positions only.
    Score {
        /// Truth file: target_id,t,x,vx,y,vy.
        #[arg(long, value_name = "FILE")]
        truth: PathBuf,
        /// Track file: track_id,t,x,vx,y,vy.
        #[arg(long, value_name = "FILE")]
        tracks: PathBuf,
        /// Cut-off distance c, metres.
        #[arg(long, default_value_t = 100.0)]
        c: f64,
        /// Order p.
        #[arg(long, default_value_t = 1.0)]
        p: f64,
        /// SIAP association distance, metres (default: c).
        #[arg(long)]
        siap_threshold: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Time the engine on one thread: the tracker on a scenario, or fusion of synthetic national
    /// pictures.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Debug, clap::Subcommand)]
enum Bench {
    /// Time per scan of the tracker alone (files are read before timing starts).
    Track {
        #[arg(long, value_name = "DIR")]
        scenario: PathBuf,
        /// Repeat the whole scenario this many times.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Only the first N scans.
        #[arg(long)]
        scans: Option<usize>,
        /// Time each scan this many times (on copies of the tracker) and keep the fastest, which
        /// filters out preemption on a busy machine.
        #[arg(long, default_value_t = 1)]
        best_of: usize,
        #[arg(long)]
        json: bool,
    },
    /// Time per fusion instant for `targets` targets seen by `nations` nations.
    Fuse {
        #[arg(long, default_value_t = 1000)]
        targets: usize,
        #[arg(long, default_value_t = 3)]
        nations: usize,
        #[arg(long, default_value_t = 200)]
        scans: usize,
        #[arg(long, value_enum, default_value_t = WeightingArg::Fast)]
        weighting: WeightingArg,
        /// Time each instant this many times (on copies of the fuser) and keep the fastest.
        #[arg(long, default_value_t = 1)]
        best_of: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum WeightingArg {
    /// wᵢ ∝ 1 / tr Pᵢ.
    Fast,
    /// Minimise the trace of the fused covariance.
    MinTrace,
}

impl From<WeightingArg> for Weighting {
    fn from(w: WeightingArg) -> Weighting {
        match w {
            WeightingArg::Fast => Weighting::Fast,
            WeightingArg::MinTrace => Weighting::MinTrace,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Track {
            scenario,
            out,
            covariance,
            no_history,
            deletion_states,
            json,
        } => track(
            &scenario,
            &out,
            covariance,
            !no_history,
            deletion_states,
            json,
        ),
        Command::Fuse {
            inputs,
            out,
            q,
            every,
            weighting,
            json,
        } => fuse(&inputs, &out, q, every, weighting.into(), json),
        Command::Score {
            truth,
            tracks,
            c,
            p,
            siap_threshold,
            json,
        } => score(&truth, &tracks, c, p, siap_threshold, json),
        Command::Bench { what } => match what {
            Bench::Track {
                scenario,
                repeat,
                scans,
                best_of,
                json,
            } => bench_track(&scenario, repeat, scans, best_of.max(1), json),
            Bench::Fuse {
                targets,
                nations,
                scans,
                weighting,
                best_of,
                json,
            } => bench_fuse(
                targets,
                nations,
                scans,
                weighting.into(),
                best_of.max(1),
                json,
            ),
        },
    }
}

/// Bad input from the library becomes a usage error (exit 2); the rest stays an internal error.
fn input_error(e: entente_fusion::Error) -> anyhow::Error {
    match e.code() {
        ErrorCode::InvalidInput | ErrorCode::NotFound => UsageError(e.to_string()).into(),
        _ => e.into(),
    }
}

fn track(
    dir: &Path,
    out: &Path,
    covariance: bool,
    history: bool,
    deletion_states: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let scenario = files::read_scenario(dir).map_err(input_error)?;
    let mut config = scenario.tracker_config();
    config.keep_history = history;
    config.report_deleted = deletion_states;
    let mut tracker = Tracker::new(config);
    let mut rows: Vec<TrackRow> = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for scan in &scenario.scans {
        let tracks = tracker.step(scan.t, &scan.plots).map_err(input_error)?;
        for tr in tracks {
            ids.insert(tr.id);
            rows.push(TrackRow {
                id: tr.id.to_string(),
                t: tr.t,
                x: tr.estimate.x,
                p: Some(tr.estimate.p),
            });
        }
        for past in tracker.drain_history() {
            rows.push(TrackRow {
                id: past.id.to_string(),
                t: past.t,
                x: past.x,
                p: None,
            });
        }
    }
    // Rows of one instant together, then by track number.
    rows.sort_by(|a, b| {
        a.t.total_cmp(&b.t).then_with(|| {
            a.id.parse::<u64>()
                .unwrap_or(0)
                .cmp(&b.id.parse::<u64>().unwrap_or(0))
        })
    });
    files::write_tracks(out, &rows, covariance).map_err(input_error)?;
    let summary = json!({
        "scans": scenario.scans.len(),
        "plots": scenario.scans.iter().map(|s| s.plots.len()).sum::<usize>(),
        "tracks": ids.len(),
        "rows": rows.len(),
        "out": out.display().to_string(),
    });
    if json {
        output::print_json(&summary)?;
    } else {
        output::print(format!(
            "{} scans, {} plots → {} tracks, {} rows written to {}",
            summary["scans"],
            summary["plots"],
            summary["tracks"],
            summary["rows"],
            out.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn fuse(
    dir: &Path,
    out: &Path,
    q: f64,
    every: Option<f64>,
    weighting: Weighting,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if every.is_some_and(|e| !(e.is_finite() && e > 0.0)) {
        return Err(UsageError("--every must be a positive number of seconds".into()).into());
    }
    let national = files::read_national_dir(dir).map_err(input_error)?;
    // Each nation's reports grouped by instant: a report lists every track the nation holds.
    let mut reports: Vec<(NationCode, BTreeMap<i64, Vec<&TrackRow>>)> = Vec::new();
    let mut instants = std::collections::BTreeSet::new();
    for (nation, rows) in &national {
        let mut by_t: BTreeMap<i64, Vec<&TrackRow>> = BTreeMap::new();
        for r in rows {
            let k = micros(r.t);
            by_t.entry(k).or_default().push(r);
            instants.insert(k);
        }
        reports.push((*nation, by_t));
    }
    let instants: Vec<i64> = match (every, instants.first(), instants.last()) {
        (Some(step), Some(&first), Some(&last)) => {
            let step = micros(step);
            (0..)
                .map(|i| first + i * step)
                .take_while(|k| *k <= last)
                .collect()
        }
        _ => instants.into_iter().collect(),
    };
    let mut config = FusionConfig::new(q);
    config.weighting = weighting;
    let mut fuser = Fuser::new(config);
    let mut lines = String::from("track_id,t,x,vx,y,vy");
    for c in files::COVARIANCE_COLUMNS {
        lines.push(',');
        lines.push_str(c);
    }
    lines.push_str(",contributors\n");
    let (mut system_ids, mut rows) = (std::collections::BTreeSet::new(), 0usize);
    for &k in &instants {
        let mut latest: Vec<NationalTrack<Markings>> = Vec::new();
        for (nation, by_t) in &reports {
            if let Some((_, rows)) = by_t.range(..=k).next_back() {
                for r in rows {
                    latest.push(NationalTrack {
                        source: TrackRef {
                            nation: *nation,
                            local_id: r.id.clone(),
                        },
                        sensor: nation.to_string(),
                        t: r.t,
                        estimate: Gaussian::new(r.x, r.p.unwrap_or_else(StateCovariance::identity)),
                        identity: Identity::Unknown,
                        label: Markings::default(),
                    });
                }
            }
        }
        let refs: Vec<&NationalTrack<Markings>> = latest.iter().collect();
        let t = k as f64 / 1e6;
        for s in fuser.fuse(t, &refs).map_err(input_error)? {
            system_ids.insert(s.id);
            rows += 1;
            let (x, p) = (s.estimate.x, s.estimate.p);
            lines.push_str(&format!(
                "{},{},{},{},{},{}",
                s.id, t, x[0], x[1], x[2], x[3]
            ));
            for (i, j) in UPPER {
                lines.push_str(&format!(",{}", p[(i, j)]));
            }
            let who: Vec<String> = s
                .contributions
                .iter()
                .map(|c| format!("{}:{}", c.nation, c.local_id))
                .collect();
            lines.push_str(&format!(",{}\n", who.join(";")));
        }
    }
    std::fs::write(out, lines).with_context(|| format!("writing {}", out.display()))?;
    let summary = json!({
        "nations": national.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>(),
        "instants": instants.len(),
        "system_tracks": system_ids.len(),
        "rows": rows,
        "out": out.display().to_string(),
    });
    if json {
        output::print_json(&summary)?;
    } else {
        output::print(format!(
            "{} nations, {} instants → {} system tracks, {} rows written to {}",
            national.len(),
            instants.len(),
            system_ids.len(),
            rows,
            out.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

const UPPER: [(usize, usize); 10] = [
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 3),
    (1, 1),
    (1, 2),
    (1, 3),
    (2, 2),
    (2, 3),
    (3, 3),
];

fn micros(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

fn score(
    truth: &Path,
    tracks: &Path,
    c: f64,
    p: f64,
    siap_threshold: Option<f64>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !(c.is_finite() && c > 0.0 && p.is_finite() && p >= 1.0) {
        return Err(UsageError("need c > 0 and p ≥ 1".into()).into());
    }
    let truth_rows = files::read_tracks(truth, "target_id").map_err(input_error)?;
    let track_rows = files::read_tracks(tracks, "track_id").map_err(input_error)?;
    let params = ScoreParams {
        c,
        p,
        siap_threshold: siap_threshold.unwrap_or(c),
    };
    let s = metrics::score(
        &files::samples(&truth_rows),
        &files::samples(&track_rows),
        params,
    );
    if json {
        output::print_json(&json!({
            "c": c,
            "p": p,
            "siap_threshold": params.siap_threshold,
            "instants": s.instants,
            "gospa": {
                "distance": s.gospa.distance,
                "localisation": s.gospa.localisation,
                "missed": s.gospa.missed,
                "false": s.gospa.false_tracks,
            },
            "ospa": s.ospa,
            "siap": {
                "completeness": s.siap.completeness,
                "ambiguity": s.siap.ambiguity,
                "spuriousness": s.siap.spuriousness,
            },
        }))?;
    } else {
        let mut table = output::table(["metric", "mean over instants"]);
        table.add_row(vec![
            "GOSPA".to_string(),
            format!("{:.4}", s.gospa.distance),
        ]);
        table.add_row(vec![
            "  localisation".to_string(),
            format!("{:.4}", s.gospa.localisation),
        ]);
        table.add_row(vec![
            "  missed".to_string(),
            format!("{:.4}", s.gospa.missed),
        ]);
        table.add_row(vec![
            "  false".to_string(),
            format!("{:.4}", s.gospa.false_tracks),
        ]);
        table.add_row(vec!["OSPA".to_string(), format!("{:.4}", s.ospa)]);
        table.add_row(vec![
            "SIAP completeness".to_string(),
            format!("{:.4}", s.siap.completeness),
        ]);
        table.add_row(vec![
            "SIAP ambiguity".to_string(),
            format!("{:.4}", s.siap.ambiguity),
        ]);
        table.add_row(vec![
            "SIAP spuriousness".to_string(),
            format!("{:.4}", s.siap.spuriousness),
        ]);
        output::print(table)?;
        output::print(format!("{} instants, c = {c}, p = {p}", s.instants))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Median, 99th percentile, mean and maximum of durations in microseconds.
fn summary(mut micros: Vec<f64>) -> serde_json::Value {
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
    json!({
        "samples": n,
        "median_us": at(0.5),
        "p99_us": at(0.99),
        "mean_us": mean,
        "max_us": micros.last().copied().unwrap_or(0.0),
    })
}

fn print_timing(
    what: &str,
    timing: &serde_json::Value,
    json: bool,
    extra: serde_json::Value,
) -> anyhow::Result<()> {
    if json {
        let mut v = extra;
        v["timing"] = timing.clone();
        return output::print_json(&v);
    }
    let mut table = output::table(["", "samples", "median µs", "p99 µs", "mean µs", "max µs"]);
    let f = |k: &str| format!("{:.1}", timing[k].as_f64().unwrap_or(0.0));
    table.add_row(vec![
        what.to_string(),
        timing["samples"].to_string(),
        f("median_us"),
        f("p99_us"),
        f("mean_us"),
        f("max_us"),
    ]);
    output::print(table)
}

fn bench_track(
    dir: &Path,
    repeat: usize,
    scans: Option<usize>,
    best_of: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut scenario = files::read_scenario(dir).map_err(input_error)?;
    if let Some(n) = scans {
        scenario.scans.truncate(n);
    }
    let config = scenario.tracker_config();
    let mut times = Vec::with_capacity(scenario.scans.len() * repeat.max(1));
    let mut confirmed = 0usize;
    for _ in 0..repeat.max(1) {
        let mut tracker = Tracker::new(config);
        for scan in &scenario.scans {
            let mut fastest = f64::INFINITY;
            for _ in 1..best_of {
                let mut copy = tracker.clone();
                let start = Instant::now();
                copy.step(scan.t, &scan.plots).map_err(input_error)?;
                fastest = fastest.min(start.elapsed().as_secs_f64() * 1e6);
            }
            let start = Instant::now();
            let n = tracker
                .step(scan.t, &scan.plots)
                .map_err(input_error)?
                .len();
            times.push(fastest.min(start.elapsed().as_secs_f64() * 1e6));
            confirmed += n;
        }
    }
    let timing = summary(times);
    print_timing(
        "tracker, per scan",
        &timing,
        json,
        json!({ "scenario": dir.display().to_string(), "scans": scenario.scans.len(), "repeat": repeat.max(1), "best_of": best_of,
                "confirmed_track_scans": confirmed }),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A small deterministic generator, so that the benchmark needs no random-number crate and gives
/// the same input every run.
struct XorShift(u64);

impl XorShift {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn bench_fuse(
    targets: usize,
    nations: usize,
    scans: usize,
    weighting: Weighting,
    best_of: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    const CODES: [&str; 8] = ["EST", "LVA", "LTU", "POL", "FIN", "SWE", "DEU", "NOR"];
    if nations == 0 || nations > CODES.len() || targets == 0 || scans == 0 {
        return Err(UsageError(format!(
            "need 1 to {} nations, targets > 0 and scans > 0",
            CODES.len()
        ))
        .into());
    }
    let codes: Vec<NationCode> = CODES[..nations]
        .iter()
        .map(|c| c.parse())
        .collect::<Result<_, _>>()?;
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    // Aircraft spread over a 400 km square at up to 250 m/s; each nation sees them with its own
    // accuracy (σ 50 to 150 m) and misses 10 % of them in each report.
    let side = 400_000.0;
    let mut truth: Vec<StateVector> = (0..targets)
        .map(|_| {
            StateVector::new(
                rng.uniform() * side,
                (rng.uniform() - 0.5) * 500.0,
                rng.uniform() * side,
                (rng.uniform() - 0.5) * 500.0,
            )
        })
        .collect();
    let mut config = FusionConfig::new(1.0);
    config.weighting = weighting;
    let mut fuser = Fuser::new(config);
    let mut times = Vec::with_capacity(scans);
    let mut system_tracks = 0usize;
    let mut id_of: HashMap<(usize, usize), usize> = HashMap::new();
    for k in 0..scans {
        let t = k as f64;
        for x in &mut truth {
            x[0] += x[1];
            x[2] += x[3];
        }
        let mut reports = Vec::with_capacity(targets * nations);
        for (n, code) in codes.iter().enumerate() {
            let sigma = 50.0 + 50.0 * n as f64;
            for (i, x) in truth.iter().enumerate() {
                if rng.uniform() < 0.1 {
                    continue;
                }
                let local = *id_of.entry((n, i)).or_insert(i * 7 + n);
                let p = StateCovariance::from_diagonal(&nalgebra::Vector4::new(
                    sigma * sigma,
                    100.0,
                    sigma * sigma,
                    100.0,
                ));
                let noisy = StateVector::new(
                    x[0] + sigma * rng.normal(),
                    x[1] + 10.0 * rng.normal(),
                    x[2] + sigma * rng.normal(),
                    x[3] + 10.0 * rng.normal(),
                );
                reports.push(NationalTrack {
                    source: TrackRef {
                        nation: *code,
                        local_id: local.to_string(),
                    },
                    sensor: code.to_string(),
                    t,
                    estimate: Gaussian::new(noisy, p),
                    identity: Identity::Unknown,
                    label: Markings::default(),
                });
            }
        }
        let refs: Vec<&NationalTrack<Markings>> = reports.iter().collect();
        let mut fastest = f64::INFINITY;
        for _ in 1..best_of {
            let mut copy = fuser.clone();
            let start = Instant::now();
            copy.fuse(t, &refs).map_err(input_error)?;
            fastest = fastest.min(start.elapsed().as_secs_f64() * 1e6);
        }
        let start = Instant::now();
        let picture = fuser.fuse(t, &refs).map_err(input_error)?;
        times.push(fastest.min(start.elapsed().as_secs_f64() * 1e6));
        system_tracks = picture.len();
    }
    let timing = summary(times);
    print_timing(
        "fusion, per instant",
        &timing,
        json,
        json!({ "targets": targets, "nations": nations, "scans": scans, "best_of": best_of,
                "system_tracks_last": system_tracks }),
    )?;
    Ok(ExitCode::SUCCESS)
}
