//! `entente demo`: the main job of the README. Part 1 walks through the shipped registry; part 2
//! starts a federation of national nodes on loopback (five by default), publishes the shipped exercise
//! objects, shows what each nation received and why, verifies every audit log and serves until
//! Ctrl-C or `--duration`. The work is `entente_demo::run`; this module reads the arguments and
//! renders what it shows (`render`).

mod render;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use entente_demo::DemoOptions;

use crate::cmd::{data_dirs, parse_day};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data folder holding `registry/` (default: the shipped data).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Writes what the demonstration showed as JSON to this file.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The "today" of the registry walk-through, YYYY-MM-DD (default: today). The live nodes
    /// always decide on today's date.
    #[arg(long)]
    at: Option<String>,
    /// Only the registry walk-through: start no nodes.
    #[arg(long)]
    registry_only: bool,
    /// Stop by itself this many seconds after the federation is up and verified (default: serve
    /// until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Where to create the nodes' folders (an empty or new folder; default: a temporary folder
    /// removed at the end).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Serve TAXII over plain HTTP instead of TLS (the federation stays mutual TLS).
    #[arg(long)]
    plain_http: bool,
    /// The exercise objects to publish (default: the shipped data/demo/exercise-objects.json).
    #[arg(long, value_name = "FILE")]
    dataset: Option<PathBuf>,
    /// The longest wait, in seconds, for the federation to converge and audit events to appear.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Written once the nodes serve and every check passed (for scripts and tests).
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// The exercise flown live for the consoles' air picture (default: the shipped
    /// data/scenarios/baltic-qra.toml).
    #[arg(long, value_name = "FILE")]
    exercise: Option<PathBuf>,
    /// Simulated seconds per wall-clock second of the live exercise.
    #[arg(long, value_name = "FACTOR", default_value_t = 10.0)]
    exercise_speed: f64,
    /// Fly no exercise: the consoles' air picture stays empty.
    #[arg(long, conflicts_with_all = ["exercise", "exercise_speed"])]
    no_exercise: bool,
    /// The nations of the live federation, one node each (ISO 3166-1 alpha-3 codes, comma
    /// separated; FRA and DEU must be among them).
    #[arg(
        long,
        value_name = "CODES",
        value_delimiter = ',',
        default_value = "FRA,USA,GBR,DEU,JPN"
    )]
    nations: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let [registry_dir, policies_dir, demo_dir, scenarios_dir] = data_dirs(
        args.data.as_deref(),
        ["registry", "policies", "demo", "scenarios"],
    );
    let speed = args.exercise_speed;
    if !(speed.is_finite() && speed > 0.0) {
        return Err(crate::output::UsageError(format!(
            "--exercise-speed {speed} must be a positive number"
        ))
        .into());
    }
    let exercise = (!args.no_exercise).then(|| entente_demo::LiveExercise {
        scenario: args
            .exercise
            .unwrap_or_else(|| scenarios_dir.join("baltic-qra.toml")),
        speed,
    });
    let nations =
        args.nations
            .iter()
            .map(|n| {
                n.trim().to_ascii_uppercase().parse().map_err(|e| {
                    crate::output::UsageError(format!("--nations: {:?}: {e}", n.trim()))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
    let options = DemoOptions {
        registry_dir,
        policies_dir,
        dataset: args
            .dataset
            .unwrap_or_else(|| demo_dir.join("exercise-objects.json")),
        at: parse_day(args.at.as_deref())?,
        today: parse_day(None)?,
        registry_only: args.registry_only,
        manifest: args.manifest,
        nodes_dir: args.data_dir,
        plain_http: args.plain_http,
        duration: args.duration.map(Duration::from_secs),
        ready_file: args.ready_file,
        timeout: Duration::from_secs(args.timeout),
        exercise,
        nations,
    };
    let mut shown = render::Terminal::default();
    crate::cmd::node::runtime()?
        .block_on(entente_demo::run(
            &options,
            &mut shown,
            crate::cmd::node::shutdown_signal(),
        ))
        .map_err(render::into_anyhow)?;
    Ok(ExitCode::SUCCESS)
}
