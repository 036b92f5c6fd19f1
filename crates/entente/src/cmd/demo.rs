//! `entente demo`: the main job of the README. Part 1 walks through the shipped registry and shows
//! the questions coalition staff ask: who belongs to which alliance on which day, who must come to
//! whose aid, and which agreements let two nations exchange classified information. Part 2
//! (`live`) starts a federation of five national nodes on loopback, publishes the shipped
//! exercise objects (`dataset`) and shows what each nation received and why, then verifies every
//! audit log and serves until Ctrl-C or `--duration`.

mod dataset;
mod live;

use std::path::PathBuf;
use std::process::ExitCode;

use entente_labels::{parse_marking, PolicySet};
use entente_policy::ReleasePolicy;
use entente_registry::{Party, Registry};
use entente_types::parse_date;
use serde_json::json;

use crate::cmd::{data_dir, parse_day};
use crate::output;

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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let today = parse_day(args.at.as_deref())?;
    let (dir, policies_dir, demo_dir) = match &args.data {
        Some(root) => (
            root.join("registry"),
            root.join("policies"),
            root.join("demo"),
        ),
        None => (
            data_dir(None, "registry"),
            data_dir(None, "policies"),
            data_dir(None, "demo"),
        ),
    };
    let started = std::time::Instant::now();
    let registry = Registry::load(&dir)?;
    output::print(format!(
        "Entente registry: {} nations, {} organisations, {} agreements, {} sources (loaded and validated in {:.1} ms from {})\n",
        registry.nations().count(),
        registry.organizations().len(),
        registry.agreements().len(),
        registry.sources().count(),
        started.elapsed().as_secs_f64() * 1e3,
        dir.display(),
    ))?;

    // Alliances through time.
    let milestones = [
        "1950-01-01",
        "1958-01-01",
        "1990-01-01",
        "2004-05-01",
        "2017-12-11",
        "2020-01-31",
        "2020-02-01",
        "2023-05-23",
        "2024-03-06",
        "2024-03-07",
    ];
    let orgs = ["NATO", "EU", "PESCO", "EI2", "FVEY"];
    let mut table = output::table(std::iter::once("day").chain(orgs));
    let mut counts = Vec::new();
    for day in milestones.iter().map(|d| parse_date(d)).chain([Ok(today)]) {
        let day = day?;
        let mut row = vec![day.to_string()];
        let mut entry = serde_json::Map::new();
        for org in orgs {
            let n = registry.members(registry.organization(org)?, day).len();
            row.push(n.to_string());
            entry.insert(org.to_owned(), json!(n));
        }
        table.add_row(row);
        counts.push(json!({ "day": day.to_string(), "members": entry }));
    }
    output::print("Members of each organisation on key days (the last row is today):")?;
    output::print(table)?;

    // Obligations: the effect of Sweden's accession, and the Franco-German bond.
    let mut obligations = Vec::new();
    output::print("\nWho is bound to come to a nation's aid:")?;
    let mut table = output::table([
        "nation",
        "day",
        "defenders",
        "NATO Art. 5",
        "TEU Art. 42(7)",
        "bilateral",
    ]);
    for (nation, day) in [
        ("EST", today),
        ("SWE", parse_date("2024-03-06")?),
        ("SWE", parse_date("2024-03-07")?),
        ("DEU", today),
        ("JPN", today),
    ] {
        let code = registry.nation_code(nation)?;
        let defenders = registry.obligations_toward(code, day);
        let count = |pred: &dyn Fn(&str) -> bool| {
            defenders
                .iter()
                .filter(|d| d.basis.iter().any(|b| pred(&b.agreement.0)))
                .count()
        };
        let nato = count(&|a| a == "north-atlantic-treaty");
        let eu = count(&|a| a == "teu-lisbon");
        let bilateral: Vec<String> = defenders
            .iter()
            .filter(|d| {
                d.basis.iter().any(|b| {
                    b.agreement.0 != "north-atlantic-treaty" && b.agreement.0 != "teu-lisbon"
                })
            })
            .map(|d| d.nation.to_string())
            .collect();
        table.add_row([
            nation.to_owned(),
            day.to_string(),
            defenders.len().to_string(),
            nato.to_string(),
            eu.to_string(),
            bilateral.join(", "),
        ]);
        obligations.push(json!({
            "nation": nation, "at": day.to_string(), "defenders": defenders.len(),
            "nato_article_5": nato, "teu_article_42_7": eu, "bilateral": bilateral,
        }));
    }
    output::print(table)?;

    // Information-security cover between pairs of nations.
    output::print(
        "\nAgreements under which two parties may exchange classified information (today):",
    )?;
    let mut table = output::table(["from", "to", "agreement", "ceiling"]);
    let mut covers = Vec::new();
    for (a, b) in [
        ("FRA", "DEU"),
        ("FRA", "JPN"),
        ("GBR", "JPN"),
        ("USA", "JPN"),
        ("DEU", "JPN"),
        ("FRA", "USA"),
    ] {
        let pa = Party::Nation(registry.nation_code(a)?);
        let pb = Party::Nation(registry.nation_code(b)?);
        let found = registry.security_cover(&pa, &pb, today);
        if found.is_empty() {
            table.add_row([a, b, "none in force in the dataset", "-"]);
        }
        for c in &found {
            let ceiling = c
                .clause
                .security
                .as_ref()
                .and_then(|s| s.max_classification.as_ref())
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            table.add_row([
                a.to_owned(),
                b.to_owned(),
                c.agreement.name.clone(),
                ceiling,
            ]);
        }
        covers.push(json!({
            "from": a, "to": b,
            "agreements": found.iter().map(|c| c.agreement.id.0.clone()).collect::<Vec<_>>(),
        }));
    }
    output::print(table)?;

    // Release decisions derived from those agreements, with their explanations.
    let release = ReleasePolicy::new(&registry, PolicySet::load(&policies_dir)?);
    output::print("\nRelease decisions (each names the agreement that allows it, or the rule that refuses it):")?;
    let mut table = output::table(["label", "from", "to", "day", "decision", "because"]);
    let mut decisions = Vec::new();
    let cases = [
        ("NATO SECRET//REL TO FRA, GBR, USA", "FRA", "USA", today),
        ("NATO SECRET//REL TO FRA, GBR, USA", "FRA", "JPN", today),
        ("NATO SECRET//REL TO FRA, JPN", "FRA", "JPN", today),
        (
            "NATO RESTRICTED//REL TO NATO",
            "FRA",
            "SWE",
            parse_date("2024-01-01")?,
        ),
        (
            "NATO RESTRICTED//REL TO NATO",
            "FRA",
            "SWE",
            parse_date("2024-04-01")?,
        ),
        (
            "NATO RESTRICTED//REL TO NATO",
            "FRA",
            "SWE",
            parse_date("2024-08-02")?,
        ),
        ("FR SECRET//REL TO FRA, JPN", "FRA", "JPN", today),
        ("FR SECRET", "FRA", "DEU", today),
        ("NATO SECRET//ATOMAL//REL TO FRA, USA", "FRA", "USA", today),
    ];
    for (marking, from, to, day) in cases {
        let label = parse_marking(release.policies(), marking)?;
        let d = release.decide(
            &label,
            registry.nation_code(from)?,
            registry.nation_code(to)?,
            day,
        );
        let verdict = if d.is_permit() { "permit" } else { "deny" };
        table.add_row([
            marking.to_owned(),
            from.to_owned(),
            to.to_owned(),
            day.to_string(),
            verdict.to_owned(),
            d.to_string(),
        ]);
        decisions.push(json!({
            "label": marking, "from": from, "to": to, "at": day.to_string(),
            "decision": verdict, "reason": d.to_string(), "agreement": d.agreement(), "clause": d.clause(),
        }));
    }
    output::print(table)?;

    // A few landmarks of the timeline.
    output::print("\nLandmarks:")?;
    for e in registry
        .timeline(None, None)
        .iter()
        .filter(|e| e.nation.is_none())
        .filter(|e| {
            [
                "westphalia",
                "north-atlantic-treaty",
                "rome",
                "elysee",
                "aachen",
                "teu-lisbon",
            ]
            .iter()
            .any(|k| e.subject.contains(k))
        })
    {
        output::print(format!("  {}  {}", e.date, e.description))?;
    }
    output::print(
        "\nTry: entente registry obligations EST --json | entente registry graph --format dot",
    )?;

    let mut part1 = serde_json::Map::new();
    part1.insert("today".into(), json!(today.to_string()));
    part1.insert("registry".into(), json!(dir.display().to_string()));
    part1.insert("membership_counts".into(), json!(counts));
    part1.insert("obligations".into(), json!(obligations));
    part1.insert("security_cover".into(), json!(covers));
    part1.insert("release_decisions".into(), json!(decisions));
    if args.registry_only {
        if let Some(path) = &args.manifest {
            let text = serde_json::to_string_pretty(&part1)?;
            std::fs::write(path, text + "\n")
                .map_err(|e| anyhow::anyhow!("cannot write manifest {}: {e}", path.display()))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let policy_data = dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let options = live::Options {
        root: args.data_dir,
        plain_http: args.plain_http,
        duration: args.duration.map(std::time::Duration::from_secs),
        ready_file: args.ready_file,
        timeout: std::time::Duration::from_secs(args.timeout),
        dataset: args
            .dataset
            .unwrap_or_else(|| demo_dir.join("exercise-objects.json")),
        policy_data,
        today: parse_day(None)?,
    };
    live::run(&options, &release, part1, args.manifest.as_deref())
}
