//! `entente registry …`: questions about alliances, agreements and obligations as of a day.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_registry::{Agreement, AgreementStatus, Graph, Party, Registry, StatedDate};
use entente_types::Date;
use serde_json::{json, Value};

use crate::cmd::{data_dir, parse_day};
use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset folder (default: data/registry).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate a dataset: every problem with its file, line and field.
    Check {
        /// The dataset folder (default: the shipped data/registry).
        dir: Option<PathBuf>,
        /// Print the counts, or the problems, as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The members of an organisation on a day.
    Members {
        /// Organisation id or name, e.g. NATO, EU, PESCO, EI2.
        organization: String,
        /// The day asked about, YYYY-MM-DD (default: today).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Who is bound to come to a nation's aid on a day, and under which clauses.
    Obligations {
        /// Nation code or name, e.g. EST.
        nation: String,
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Agreements in force on a day, optionally only those a nation or organisation is party to.
    Agreements {
        /// A nation (code or name) or an organisation (id or name).
        #[arg(long)]
        party: Option<String>,
        #[arg(long, conflicts_with = "all")]
        at: Option<String>,
        /// Every agreement, whatever its status (status shown as of today).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// A nation's memberships and agreements.
    Nation {
        nation: String,
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Dated events: treaties signed and in force, accessions, withdrawals.
    Timeline {
        /// First year (inclusive).
        #[arg(long)]
        from: Option<i32>,
        /// Last year (inclusive).
        #[arg(long)]
        to: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// Nations, organisations and agreements in force, and their links.
    Graph {
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Dot,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = data_dir(args.data, "registry");
    let command = match args.command {
        Command::Check {
            dir: explicit,
            json,
        } => return check(explicit.unwrap_or(dir), json),
        query => query,
    };
    let registry = Registry::load(&dir)?;
    match command {
        Command::Check { json, .. } => return check(dir, json),
        Command::Members {
            organization,
            at,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let org = registry.organization(&organization)?;
            let members = registry.members(org, day);
            if json {
                output::print_json(&json!({
                    "organization": org.id.0,
                    "at": day.to_string(),
                    "members": members.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                }))?;
            } else {
                let mut table = output::table(["code", "nation"]);
                for m in &members {
                    table.add_row([m.as_str(), name_of(&registry, *m)]);
                }
                output::print(format!(
                    "{} ({}) on {day}: {} members",
                    org.name,
                    org.id,
                    members.len()
                ))?;
                output::print(table)?;
            }
        }
        Command::Obligations { nation, at, json } => {
            let day = parse_day(at.as_deref())?;
            let code = registry.nation_code(&nation)?;
            let defenders = registry.obligations_toward(code, day);
            if json {
                let defenders: Vec<Value> = defenders
                    .iter()
                    .map(|d| {
                        json!({
                            "nation": d.nation.as_str(),
                            "basis": d.basis.iter().map(|b| json!({
                                "agreement": b.agreement.0,
                                "clause": b.article,
                                "kind": b.kind.as_str(),
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                output::print_json(&json!({
                    "nation": code.as_str(),
                    "at": day.to_string(),
                    "defenders": defenders,
                }))?;
            } else {
                output::print(format!(
                    "Bound to come to the aid of {} ({code}) on {day}: {} nations",
                    name_of(&registry, code),
                    defenders.len()
                ))?;
                let mut table = output::table(["nation", "name", "basis"]);
                for d in &defenders {
                    let basis: Vec<String> = d
                        .basis
                        .iter()
                        .map(|b| {
                            format!(
                                "{} {}",
                                agreement_name(&registry, &b.agreement.0),
                                b.article
                            )
                        })
                        .collect();
                    table.add_row([
                        d.nation.as_str().to_owned(),
                        name_of(&registry, d.nation).to_owned(),
                        basis.join("; "),
                    ]);
                }
                output::print(table)?;
            }
        }
        Command::Agreements {
            party,
            at,
            all,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let party = party.map(|p| registry.party(&p)).transpose()?;
            let list: Vec<&Agreement> = match (&party, all) {
                (Some(p), true) => registry.agreements_involving(p),
                (None, true) => registry.agreements().iter().collect(),
                (p, false) => registry.agreements_in_force(p.as_ref(), day),
            };
            if json {
                output::print_json(&json!({
                    "at": (!all).then(|| day.to_string()),
                    "party": party.as_ref().map(Party::to_string),
                    "agreements": list.iter().map(|a| agreement_json(&registry, a, day)).collect::<Vec<_>>(),
                }))?;
            } else {
                let mut table =
                    output::table(["id", "name", "signed", "in force", "status", "parties"]);
                for a in &list {
                    table.add_row([
                        a.id.0.clone(),
                        a.name.clone(),
                        stated(a.signed),
                        stated(a.in_force),
                        a.status(day).as_str().to_owned(),
                        parties_text(a),
                    ]);
                }
                let scope = if all {
                    "all agreements".to_owned()
                } else {
                    format!("in force on {day}")
                };
                let who = party.map(|p| format!(", party {p}")).unwrap_or_default();
                output::print(format!("{} agreements ({scope}{who})", list.len()))?;
                output::print(table)?;
            }
        }
        Command::Nation { nation, at, json } => {
            let day = parse_day(at.as_deref())?;
            let code = registry.nation_code(&nation)?;
            let profile = registry.nation_profile(code, day)?;
            if json {
                output::print_json(&json!({
                    "nation": code.as_str(),
                    "name": profile.nation.name,
                    "at": day.to_string(),
                    "memberships": profile.memberships.iter().map(|m| json!({
                        "organization": m.organization.id.0,
                        "role": m.membership.role.as_str(),
                        "from": m.membership.stated_from.to_string(),
                        "until": m.membership.stated_until.map(|u| u.to_string()),
                        "current": m.current,
                    })).collect::<Vec<_>>(),
                    "agreements": profile.agreements.iter().map(|a| json!({
                        "id": a.agreement.id.0,
                        "name": a.agreement.name,
                        "via": a.via.as_ref().map(|o| o.0.clone()),
                        "status": a.status.as_str(),
                    })).collect::<Vec<_>>(),
                }))?;
            } else {
                output::print(format!("{} ({code}) on {day}", profile.nation.name))?;
                let mut table =
                    output::table(["organization", "role", "from", "until", "on that day"]);
                for m in &profile.memberships {
                    table.add_row([
                        m.organization.id.0.clone(),
                        m.membership.role.as_str().to_owned(),
                        m.membership.stated_from.to_string(),
                        stated(m.membership.stated_until),
                        if m.current { "member" } else { "-" }.to_owned(),
                    ]);
                }
                output::print(table)?;
                let mut table = output::table(["agreement", "name", "party", "status"]);
                for a in &profile.agreements {
                    table.add_row([
                        a.agreement.id.0.clone(),
                        a.agreement.name.clone(),
                        a.via
                            .as_ref()
                            .map_or("directly".to_owned(), |o| format!("as member of {o}")),
                        a.status.as_str().to_owned(),
                    ]);
                }
                output::print(table)?;
            }
        }
        Command::Timeline { from, to, json } => {
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    return Err(UsageError(format!("--from {f} is after --to {t}")).into());
                }
            }
            let events = registry.timeline(from, to);
            if json {
                output::print_json(&json!({
                    "from": from,
                    "to": to,
                    "events": events.iter().map(|e| json!({
                        "date": e.date.to_string(),
                        "kind": e.kind.as_str(),
                        "subject": e.subject,
                        "nation": e.nation.map(|n| n.as_str().to_owned()),
                        "description": e.description,
                    })).collect::<Vec<_>>(),
                }))?;
            } else {
                let mut table = output::table(["date", "event"]);
                for e in &events {
                    table.add_row([e.date.to_string(), e.description.clone()]);
                }
                output::print(table)?;
            }
        }
        Command::Graph { format, at } => {
            let day = parse_day(at.as_deref())?;
            let graph = registry.graph(day);
            match format {
                GraphFormat::Json => output::print_json(&graph_json(&graph))?,
                GraphFormat::Dot => output::print(graph.to_dot())?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(dir: PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    match Registry::load(&dir) {
        Ok(registry) if json => {
            output::print_json(&json!({
                "dir": dir.display().to_string(),
                "ok": true,
                "nations": registry.nations().count(),
                "organizations": registry.organizations().len(),
                "agreements": registry.agreements().len(),
                "sources": registry.sources().count(),
            }))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) if json && !err.diagnostics().is_empty() => {
            output::print_json(&json!({
                "dir": dir.display().to_string(),
                "ok": false,
                "problems": err.diagnostics().iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))?;
            Ok(ExitCode::from(2))
        }
        Ok(registry) => {
            output::print(format!(
                "ok: {}: {} nations, {} organizations, {} agreements, {} sources",
                dir.display(),
                registry.nations().count(),
                registry.organizations().len(),
                registry.agreements().len(),
                registry.sources().count(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) if !err.diagnostics().is_empty() => {
            for d in err.diagnostics() {
                eprintln!("{d}");
            }
            eprintln!(
                "error: {}: {} problem{}",
                dir.display(),
                err.diagnostics().len(),
                if err.diagnostics().len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            Ok(ExitCode::from(2))
        }
        Err(err) => Err(err).with_context(|| format!("cannot check {}", dir.display())),
    }
}

fn name_of(registry: &Registry, code: entente_types::NationCode) -> &str {
    registry.nation(code).map_or("", |n| n.name.as_str())
}

fn agreement_name<'a>(registry: &'a Registry, id: &'a str) -> &'a str {
    registry
        .agreement_by_id(&entente_registry::AgreementId(id.to_owned()))
        .map_or(id, |a| a.name.as_str())
}

fn stated(date: Option<StatedDate>) -> String {
    date.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

fn parties_text(a: &Agreement) -> String {
    let mut parts: Vec<String> = a.parties.iter().map(Party::to_string).collect();
    if let Some(o) = &a.parties_are_members_of {
        parts.push(format!("members of {o}"));
    }
    parts.join(", ")
}

fn agreement_json(registry: &Registry, a: &Agreement, day: Date) -> Value {
    json!({
        "id": a.id.0,
        "name": a.name,
        "kind": a.kind.as_str(),
        "binding": a.binding,
        "signed": a.signed.map(|d| d.to_string()),
        "in_force": a.in_force.map(|d| d.to_string()),
        "terminated": a.terminated.map(|d| d.to_string()),
        "status": a.status(day).as_str(),
        "in_force_on_day": a.status(day) == AgreementStatus::InForce,
        "parties": a.parties.iter().map(Party::to_string).collect::<Vec<_>>(),
        "parties_are_members_of": a.parties_are_members_of.as_ref().map(|o| o.0.clone()),
        "parties_on_day": registry.parties_on(a, day).iter().map(|n| n.as_str().to_owned()).collect::<Vec<_>>(),
        "clauses": a.clauses.iter().map(|c| json!({
            "id": c.id,
            "article": c.article,
            "kind": c.kind.as_str(),
            "summary": c.summary,
        })).collect::<Vec<_>>(),
        "sources": a.sources.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
    })
}

fn graph_json(graph: &Graph) -> Value {
    json!({
        "at": graph.day.to_string(),
        "nodes": graph.nodes.iter().map(|n| json!({
            "id": n.id, "label": n.label, "kind": n.kind.as_str(),
        })).collect::<Vec<_>>(),
        "edges": graph.edges.iter().map(|e| json!({
            "from": e.from, "to": e.to, "kind": e.kind.as_str(),
        })).collect::<Vec<_>>(),
    })
}
