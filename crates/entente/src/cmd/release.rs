//! `entente release …`: release decisions for a label, and tear-lined copies of STIX objects.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_labels::{parse_marking, PolicySet};
use entente_policy::bundle::{self, BundleError};
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_types::{Date, NationCode};

use crate::cmd::{data_dirs, parse_day};
use crate::output::{self, UsageError};

/// Exit code of a refused release.
const DENIED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data folder holding `registry/` and `policies/` (default: the shipped data).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// May information with this label go from one nation to another? (exit 0 permit, 3 deny)
    Check(CheckArgs),
    /// The tear-lined copy of each object of a STIX bundle for a recipient: the bundle on stdout,
    /// the decisions on stderr (exit 0 if anything is released, 3 if nothing is).
    Object(ObjectArgs),
}

#[derive(Debug, clap::Args)]
struct ObjectArgs {
    /// A STIX 2.1 bundle holding the objects and the marking definitions of their labels.
    file: PathBuf,
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
    #[arg(long)]
    at: Option<String>,
    /// Print one JSON envelope (decisions and bundle) on stdout instead.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The label as a marking, e.g. "NATO SECRET//REL TO FRA, GBR, USA".
    #[arg(long)]
    label: String,
    /// The releasing (originating) nation.
    #[arg(long)]
    from: String,
    /// The recipient nation.
    #[arg(long)]
    to: String,
    /// The day of the release, YYYY-MM-DD (default: today).
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    json: bool,
}

/// Loads the registry and policies and compiles the release policy.
fn load(data: Option<PathBuf>) -> anyhow::Result<(Registry, ReleasePolicy)> {
    let [registry_dir, policies_dir] = data_dirs(data.as_deref(), ["registry", "policies"]);
    let registry = Registry::load(&registry_dir)?;
    let policies = PolicySet::load(&policies_dir)?;
    let policy = ReleasePolicy::new(&registry, policies);
    Ok((registry, policy))
}

fn nation(registry: &Registry, text: &str, flag: &str) -> anyhow::Result<NationCode> {
    registry
        .nation_code(text)
        .with_context(|| format!("--{flag}"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Check(a) => {
            let day = parse_day(a.at.as_deref())?;
            let (registry, policy) = load(args.data)?;
            let from = nation(&registry, &a.from, "from")?;
            let to = nation(&registry, &a.to, "to")?;
            let label = parse_marking(policy.policies(), &a.label)?;
            policy
                .check_release_tokens(&label)
                .map_err(|e| UsageError(e.to_string()))?;
            let decision = policy.decide(&label, from, to, day);
            if a.json {
                output::print_json(&decision)?;
            } else {
                output::print(format!("{}: {decision}", decision.verdict_str()))?;
            }
            Ok(exit(decision.is_permit()))
        }
        Command::Object(a) => {
            let day = parse_day(a.at.as_deref())?;
            let (registry, policy) = load(args.data)?;
            let from = nation(&registry, &a.from, "from")?;
            let to = nation(&registry, &a.to, "to")?;
            release_bundle(&policy, &a.file, from, to, day, a.json)
        }
    }
}

fn exit(released: bool) -> ExitCode {
    if released {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DENIED)
    }
}

fn release_bundle(
    policy: &ReleasePolicy,
    file: &Path,
    from: NationCode,
    to: NationCode,
    day: Date,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
    let released = bundle::release_bundle(policy, &text, from, to, day).map_err(|e| match e {
        BundleError::Json { .. } => UsageError(format!("{}:{e}", file.display())),
        other => UsageError(format!("{}: {other}", file.display())),
    })?;
    if json_out {
        output::print_json(&released)?;
    } else {
        for o in &released.objects {
            eprintln!("{} {}: {}", o.id, o.verdict.as_str(), o.reason);
        }
        if released.any_released() {
            output::print_json(&released.bundle)?;
        }
    }
    Ok(exit(released.any_released()))
}
