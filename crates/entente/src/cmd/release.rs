//! `entente release …`: release decisions for a label, and tear-lined copies of STIX objects.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_labels::{parse_marking, stix, Label, PolicySet};
use entente_policy::{Decision, KindRule, ReleasePolicy, ReleaseVerdict};
use entente_registry::Registry;
use entente_types::{Date, NationCode};
use serde_json::{json, Value};

use crate::cmd::{data_dir, parse_day};
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
    Check {
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
    },
    /// The tear-lined copy of each object of a STIX bundle for a recipient: the bundle on stdout,
    /// the decisions on stderr (exit 0 if anything is released, 3 if nothing is).
    Object {
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
    },
}

/// Loads the registry and policies and compiles the release policy.
fn load(data: Option<PathBuf>) -> anyhow::Result<(Registry, ReleasePolicy)> {
    let (registry_dir, policies_dir) = match data {
        Some(root) => (root.join("registry"), root.join("policies")),
        None => (data_dir(None, "registry"), data_dir(None, "policies")),
    };
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
        Command::Check {
            label,
            from,
            to,
            at,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let (registry, policy) = load(args.data)?;
            let (from, to) = (
                nation(&registry, &from, "from")?,
                nation(&registry, &to, "to")?,
            );
            let label = parse_marking(policy.policies(), &label)?;
            policy.validate(&label).map_err(UsageError)?;
            let decision = policy.decide(&label, from, to, day);
            if json {
                output::print_json(&decision_json(&decision))?;
            } else {
                let verdict = if decision.is_permit() {
                    "permit"
                } else {
                    "deny"
                };
                output::print(format!("{verdict}: {decision}"))?;
            }
            Ok(exit(decision.is_permit()))
        }
        Command::Object {
            file,
            from,
            to,
            at,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let (registry, policy) = load(args.data)?;
            let (from, to) = (
                nation(&registry, &from, "from")?,
                nation(&registry, &to, "to")?,
            );
            release_bundle(&policy, &file, from, to, day, json)
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

fn decision_json(d: &Decision) -> Value {
    json!({
        "decision": if d.is_permit() { "permit" } else { "deny" },
        "reason": d.to_string(),
        "agreement": d.agreement(),
        "clause": d.clause(),
    })
}

fn release_bundle(
    policy: &ReleasePolicy,
    file: &PathBuf,
    from: NationCode,
    to: NationCode,
    day: Date,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
    let bundle: Value = serde_json::from_str(&text).map_err(|e| {
        UsageError(format!(
            "{}:{}:{}: malformed JSON: {e}",
            file.display(),
            e.line(),
            e.column()
        ))
    })?;
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(UsageError(format!(
            "{}: expected a STIX bundle holding the objects and the marking definitions of their labels",
            file.display()
        ))
        .into());
    }
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            UsageError(format!(
                "{}: the bundle has no objects list",
                file.display()
            ))
        })?;
    let mut labels: HashMap<String, Label> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        if stix::is_label_marking(o) {
            let label = stix::from_marking_definition(policy.policies(), o)
                .map_err(|e| UsageError(format!("{}: objects[{i}]: {e}", file.display())))?;
            if let Some(id) = o.get("id").and_then(Value::as_str) {
                labels.insert(id.to_owned(), label);
            }
        }
    }
    let lookup = |id: &str| labels.get(id).cloned();
    let mut released = Vec::new();
    let mut reports = Vec::new();
    let mut any_released = false;
    let mut counted = 0usize;
    for (i, o) in objects.iter().enumerate() {
        // Marking and extension definitions are metadata: the copy gets fresh ones for what it
        // keeps.
        let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
        if !KindRule::of(kind).is_federated() {
            continue;
        }
        counted += 1;
        let id = o.get("id").and_then(Value::as_str).unwrap_or("(no id)");
        let release = policy
            .release_stored(o, &lookup, from, to, day)
            .map_err(|e| UsageError(format!("{}: objects[{i}] ({id}): {e}", file.display())))?;
        let verdict = match release.verdict {
            ReleaseVerdict::Permit => "permit",
            ReleaseVerdict::Partial => "partial",
            ReleaseVerdict::Deny => "deny",
        };
        let cut: Vec<&str> = release.cut_selectors().collect();
        let reason = release.explain();
        reports.push(json!({
            "id": id,
            "verdict": verdict,
            "reason": reason,
            "agreement": release.object_decision.agreement(),
            "clause": release.object_decision.clause(),
            "cut": cut,
        }));
        if let Some(copy) = release.object {
            any_released = true;
            for m in release.markings {
                if !released.iter().any(|r: &Value| r["id"] == m["id"]) {
                    released.push(std::sync::Arc::unwrap_or_clone(m));
                }
            }
            released.push(copy);
        }
    }
    if counted == 0 {
        return Err(UsageError(format!(
            "{}: the bundle holds no object to release",
            file.display()
        ))
        .into());
    }
    if any_released {
        released.insert(0, stix::label_extension_definition());
    }
    let source_id = bundle.get("id").and_then(Value::as_str).unwrap_or_default();
    let out_bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid_for(&format!("{source_id}/{from}/{to}/{day}"))),
        "objects": released,
    });
    if json_out {
        let overall = if !any_released {
            "deny"
        } else if reports.iter().all(|r| r["verdict"] == "permit") {
            "permit"
        } else {
            "partial"
        };
        output::print_json(&json!({
            "decision": overall,
            "from": from.as_str(), "to": to.as_str(), "at": day.to_string(),
            "objects": reports,
            "bundle": out_bundle,
        }))?;
    } else {
        for r in &reports {
            eprintln!(
                "{} {}: {}",
                r["id"].as_str().unwrap_or_default(),
                r["verdict"].as_str().unwrap_or_default(),
                r["reason"].as_str().unwrap_or_default()
            );
        }
        if any_released {
            output::print_json(&out_bundle)?;
        }
    }
    Ok(exit(any_released))
}

/// A name-based UUID in version-4 form (as STIX asks of bundles), so that releasing the same
/// bundle twice gives the same bundle id.
fn uuid_for(name: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x1d0c_7a52_93e4_5b6f_a0b1_c2d3_e4f5_0617);
    let digest = uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes());
    uuid::Builder::from_random_bytes(*digest.as_bytes()).into_uuid()
}
