//! `entente picture …`: the air picture — track plots, fuse national tracks, score against the
//! truth, and time the engine.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use entente_fusion::ci::Weighting;
use entente_fusion::files;
use entente_fusion::fusion::{Fuser, FusionConfig};
use entente_fusion::metrics::{self, ScoreParams};
use entente_fusion::model::{Markings, NationalTrack};
use entente_fusion::replay;
use entente_fusion::synthetic::SyntheticPicture;
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
    let tracked = replay::track_scenario(&scenario, config).map_err(input_error)?;
    files::write_tracks(out, &tracked.rows, covariance).map_err(input_error)?;
    let summary = json!({
        "scans": scenario.scans.len(),
        "plots": scenario.scans.iter().map(|s| s.plots.len()).sum::<usize>(),
        "tracks": tracked.tracks,
        "rows": tracked.rows.len(),
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
    let national = files::read_national_dir(dir).map_err(input_error)?;
    let mut config = FusionConfig::new(q);
    config.weighting = weighting;
    let picture = replay::fuse_recorded(&national, config, every).map_err(input_error)?;
    replay::write_fused(out, &picture.rows).map_err(input_error)?;
    if json {
        output::print_json(&json!({
            "nations": picture.nations.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "instants": picture.instants,
            "system_tracks": picture.system_tracks,
            "rows": picture.rows.len(),
            "out": out.display().to_string(),
        }))?;
    } else {
        output::print(format!(
            "{} nations, {} instants → {} system tracks, {} rows written to {}",
            picture.nations.len(),
            picture.instants,
            picture.system_tracks,
            picture.rows.len(),
            out.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
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
    // The same seeded input every run, so that timings compare.
    let mut synthetic = SyntheticPicture::new(targets, codes, 0x2545_f491_4f6c_dd1d);
    let mut config = FusionConfig::new(1.0);
    config.weighting = weighting;
    let mut fuser = Fuser::new(config);
    let mut times = Vec::with_capacity(scans);
    let mut system_tracks = 0usize;
    for k in 0..scans {
        let t = k as f64;
        let reports = synthetic.step(t);
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
