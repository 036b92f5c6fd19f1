//! `entente picture …`: the air picture — track plots, fuse national tracks, score against the
//! truth, and time the engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use entente_fusion::ci::Weighting;
use entente_fusion::fusion::FusionConfig;
use entente_fusion::metrics::{self, ScoreParams};
use entente_fusion::report::{FuseSummary, ScoreReport, TrackSummary};
use entente_fusion::{bench, files, replay};
use entente_types::ErrorCode;

use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Track a scenario's plots (scans.csv, detections.csv, meta.json) into tracks.csv.
    Track(TrackArgs),
    /// Fuse several nations' local tracks (DIR/<NATION>.csv, with covariance) into system tracks.
    Fuse(FuseArgs),
    /// Score tracks against the truth: GOSPA (with its split), OSPA and SIAP, positions only.
    Score(ScoreArgs),
    /// Time the engine on one thread: the tracker on a scenario, or fusion of synthetic national
    /// pictures.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Debug, clap::Args)]
struct ScoreArgs {
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
}

#[derive(Debug, clap::Args)]
struct FuseArgs {
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
}

#[derive(Debug, clap::Args)]
struct TrackArgs {
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
}

#[derive(Debug, clap::Subcommand)]
enum Bench {
    /// Time per scan of the tracker alone (files are read before timing starts).
    Track(BenchTrackArgs),
    /// Time per fusion instant for `targets` targets seen by `nations` nations.
    Fuse(BenchFuseArgs),
}

#[derive(Debug, clap::Args)]
struct BenchFuseArgs {
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
}

#[derive(Debug, clap::Args)]
struct BenchTrackArgs {
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
        Command::Track(a) => {
            let scenario = files::read_scenario(&a.scenario).map_err(input_error)?;
            let mut config = scenario.tracker_config();
            config.keep_history = !a.no_history;
            config.report_deleted = a.deletion_states;
            let tracked = replay::track_scenario(&scenario, config).map_err(input_error)?;
            files::write_tracks(&a.out, &tracked.rows, a.covariance).map_err(input_error)?;
            output::emit(a.json, &TrackSummary::new(&scenario, &tracked, &a.out))
        }
        Command::Fuse(a) => {
            let national = files::read_national_dir(&a.inputs).map_err(input_error)?;
            let mut config = FusionConfig::new(a.q);
            config.weighting = a.weighting.into();
            let picture = replay::fuse_recorded(&national, config, a.every).map_err(input_error)?;
            replay::write_fused(&a.out, &picture.rows).map_err(input_error)?;
            output::emit(a.json, &FuseSummary::new(&picture, &a.out))
        }
        Command::Score(a) => {
            let (c, p) = (a.c, a.p);
            if !(c.is_finite() && c > 0.0 && p.is_finite() && p >= 1.0) {
                return Err(UsageError("need c > 0 and p ≥ 1".into()).into());
            }
            let truth = files::read_tracks(&a.truth, "target_id").map_err(input_error)?;
            let tracks = files::read_tracks(&a.tracks, "track_id").map_err(input_error)?;
            let siap_threshold = a.siap_threshold.unwrap_or(c);
            let params = ScoreParams {
                c,
                p,
                siap_threshold,
            };
            let (truth, tracks) = (files::samples(&truth), files::samples(&tracks));
            let score = metrics::score(&truth, &tracks, params);
            output::emit(a.json, &ScoreReport { params, score })
        }
        Command::Bench {
            what: Bench::Track(a),
        } => {
            let mut scenario = files::read_scenario(&a.scenario).map_err(input_error)?;
            if let Some(n) = a.scans {
                scenario.scans.truncate(n);
            }
            let name = a.scenario.display().to_string();
            let result = bench::tracker(&scenario, name, a.repeat, a.best_of, clock());
            output::emit(a.json, &result.map_err(input_error)?)
        }
        Command::Bench {
            what: Bench::Fuse(a),
        } => {
            let mut config = FusionConfig::new(1.0);
            config.weighting = a.weighting.into();
            let (targets, nations, scans) = (a.targets, a.nations, a.scans);
            let result = bench::fusion(targets, nations, scans, config, a.best_of, clock());
            output::emit(a.json, &result.map_err(input_error)?)
        }
    }
}

/// Seconds since the first call: the benchmarks' clock.
fn clock() -> impl FnMut() -> f64 {
    let start = Instant::now();
    move || start.elapsed().as_secs_f64()
}

/// Bad input from the library becomes a usage error (exit 2); the rest stays an internal error.
fn input_error(e: entente_fusion::Error) -> anyhow::Error {
    match e.code() {
        ErrorCode::InvalidInput | ErrorCode::NotFound => UsageError(e.to_string()).into(),
        _ => e.into(),
    }
}
