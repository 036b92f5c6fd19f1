//! `entente exercise …`: validate a scenario, run it (batch or live, DIS out, national tracks to
//! national nodes) and review a run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use entente_exercise::outputs::{NodeLinks, RunOutputs};
use entente_exercise::report::{ReviewSummary, RunSummary, ScenarioSummary};
use entente_exercise::{aar, Pacing, Releases, RunRecord, Scenario};
use entente_labels::PolicySet;
use entente_policy::ReleasePolicy;
use entente_registry::Registry;

use crate::cmd::{data_dirs, nation_pairs};
use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data folder holding `registry/` and `policies/`, against which the scenario's labels
    /// are checked and released (default: the shipped data).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check a scenario file, its labels against the policies; every problem is listed with its
    /// file, line and field.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario: simulate, publish DIS and national tracks, write the run record.
    Run(RunArgs),
    /// Review a run: timeline against the standards, picture quality, first sightings, charts
    /// and an HTML report.
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Run folder (or its run.json).
    run: PathBuf,
    /// Report folder (default: the run folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// TrueType font for chart text (default: DejaVu Sans from the system).
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Pace the run to the wall clock (a live exercise); default: as fast as possible.
    #[arg(long)]
    realtime: bool,
    /// With --realtime: simulated seconds per wall-clock second.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    speed: f64,
    /// Send DIS Entity State PDUs over UDP to this address (e.g. 127.0.0.1:3000).
    #[arg(long, value_name = "ADDR")]
    dis: Option<std::net::SocketAddr>,
    /// Bundle several PDUs per datagram (IEEE 1278.1-2012 allows it; for large exercises).
    #[arg(long, requires = "dis")]
    dis_bundle: bool,
    /// Publish each nation's tracks to its node: NATION=URL (the node's base URL).
    #[arg(long = "node", value_name = "NATION=URL")]
    nodes: Vec<String>,
    /// Bearer token file of the node user that publishes for a nation: NATION=FILE.
    #[arg(long = "token-file", value_name = "NATION=FILE")]
    token_files: Vec<String>,
    /// The CA certificate (PEM) a nation's node is served under, for a node on https:
    /// NATION=FILE (e.g. FRA=fra/tls/ca.pem, written by `entente node init`).
    #[arg(long = "ca", value_name = "NATION=FILE")]
    cas: Vec<String>,
    /// Collection the national tracks are posted to.
    #[arg(long, default_value = "intel", value_name = "ID")]
    collection: String,
    /// Keep everything in process (the default when no node is named).
    #[arg(long, conflicts_with = "nodes")]
    standalone: bool,
    /// Run folder: run.json, dis.pcap, dis.csv.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Do not write the PDU capture (dis.pcap, dis.csv).
    #[arg(long)]
    no_capture: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after this much exercise time (HH:MM:SS) instead of the scenario's duration.
    #[arg(long, value_name = "HH:MM:SS")]
    duration: Option<String>,
    /// Start a batch run at this time (RFC 3339, e.g. 2024-03-01T08:00:00Z) instead of the
    /// scenario's epoch: the release policy decides on the days the run then covers, so one
    /// scenario can be run before and after a change of membership or agreement.
    #[arg(long, value_name = "RFC3339", conflicts_with = "realtime")]
    epoch: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Validate { scenario, json } => {
            let s = Scenario::load(&scenario)?;
            // The labels are checked against the policies and the registry's release tokens.
            entente_exercise::release::sensors(&release_policy(args.data)?, &s)?;
            output::emit(json, &ScenarioSummary::new(&scenario, &s))
        }
        Command::Run(a) => run_scenario(a, args.data),
        Command::Report(a) => report(a),
    }
}

/// The release policy of the registry and policies under `data` (default: the shipped data).
fn release_policy(data: Option<PathBuf>) -> anyhow::Result<ReleasePolicy> {
    let [registry_dir, policies_dir] = data_dirs(data.as_deref(), ["registry", "policies"]);
    let registry = Registry::load(&registry_dir)?;
    let policies = PolicySet::load(&policies_dir)?;
    Ok(ReleasePolicy::new(&registry, policies))
}

fn run_scenario(a: RunArgs, data: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut s = Scenario::load(&a.scenario)?;
    let policy = release_policy(data)?;
    if let Some(text) = &a.epoch {
        s.epoch = chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| UsageError(format!("--epoch {text:?} is not an RFC 3339 time: {e}")))?
            .timestamp() as f64;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(text) = a.duration {
        s.duration = entente_exercise::scenario::parse_duration(&text)
            .filter(|d| *d > 0.0)
            .ok_or_else(|| UsageError(format!("--duration {text:?} is not a positive HH:MM:SS")))?;
    }
    let (realtime, speed) = (a.realtime, a.speed);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(UsageError(format!("--speed {speed} must be a positive number")).into());
    }
    let links = NodeLinks {
        urls: nation_pairs(&a.nodes, ("--node", "NATION=URL"), Ok)?,
        token_files: nation_pairs(&a.token_files, ("--token-file", "NATION=FILE"), |f| {
            Ok(PathBuf::from(f))
        })?,
        cas: nation_pairs(&a.cas, ("--ca", "NATION=FILE"), |f| Ok(PathBuf::from(f)))?,
    };
    let nodes = links.connect(&a.collection, &s)?;
    let out = a.out.unwrap_or_else(|| PathBuf::from("runs").join(&s.name));
    let out = out.as_path();
    let dis = a.dis.map(|addr| (addr, a.dis_bundle));
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the run folder {}", out.display()))?;
    // A live exercise runs on the wall clock; a batch run on the scenario's own epoch, so that
    // its products are the same every time.
    let epoch = if realtime {
        entente_node::clock::now_seconds()
    } else {
        s.epoch
    };
    let releases = Releases::prepare(&policy, &s, epoch)?;
    let mut outputs =
        RunOutputs::open(out, epoch, dis, !a.no_capture, nodes)?.with_tracks_of(&s, &releases);
    let pacing = if realtime {
        Pacing::Realtime { speed }
    } else {
        Pacing::Batch
    };
    let started = Instant::now();
    let record = entente_exercise::run(&s, epoch, pacing, &releases, &mut outputs)?;
    let wall = started.elapsed().as_secs_f64();
    outputs.finish()?;
    let run_file = out.join("run.json");
    record.save(&run_file)?;
    let dis = dis.map(|(a, _)| a);
    output::emit(
        a.json,
        &RunSummary::new(&run_file, &record, wall, dis, &outputs.nodes),
    )
}

fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let run = a.run.as_path();
    let record = RunRecord::load(run)?;
    let dir = a.out.unwrap_or_else(|| {
        if run.is_dir() {
            run.to_path_buf()
        } else {
            run.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    });
    super::burden::font(a.font.as_deref())?;
    let files = aar::write_report(&record, &dir)?;
    output::emit(a.json, &ReviewSummary::new(&files, &record))
}
