//! `entente registry …`: questions about alliances, agreements and obligations as of a day.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_registry::report::{
    Agreements, Checked, Invocations, Members, Obligations, Profile, Room, Timeline,
};
use entente_registry::Registry;

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
        /// Another dataset's sources.toml whose ids may not repeat the registry's (default: the
        /// burden dataset beside the registry, DIR/../burden/sources.toml, when there is one).
        #[arg(long, value_name = "FILE")]
        burden_sources: Option<PathBuf>,
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
    /// Recorded invocations of consultation and defence clauses (NATO Articles 4 and 5, Article
    /// 42(7) TEU), with their sources.
    Invocations {
        /// Only those of this clause: `agreement/clause` or an alias, e.g. nato-art-4.
        #[arg(long)]
        clause: Option<String>,
        /// Only those this nation requested (code or name).
        #[arg(long)]
        nation: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Who takes part in a consultation or invocation of a clause requested on a day, and why.
    Participants {
        /// `agreement/clause` or an alias, e.g. nato-art-4, nato-art-5, eu-art-42-7, aachen-art-4.
        #[arg(long)]
        clause: String,
        /// The requesting nations, comma-separated codes or names, e.g. POL,EST.
        #[arg(long, value_delimiter = ',', required = true)]
        requested_by: Vec<String>,
        /// The day of the request, YYYY-MM-DD (default: today).
        #[arg(long)]
        at: Option<String>,
        /// Also list who joins or leaves after that day up to this one (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
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
            burden_sources,
            json,
        } => return check(explicit.unwrap_or(dir), burden_sources, json),
        query => query,
    };
    let registry = Registry::load(&dir)?;
    match command {
        Command::Check {
            burden_sources,
            json,
            ..
        } => check(dir, burden_sources, json),
        Command::Members {
            organization,
            at,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            output::emit(json, &Members::of(&registry, &organization, day)?)
        }
        Command::Obligations { nation, at, json } => {
            let day = parse_day(at.as_deref())?;
            output::emit(json, &Obligations::toward(&registry, &nation, day)?)
        }
        Command::Agreements {
            party,
            at,
            all,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let list = Agreements::list(&registry, party.as_deref(), day, all)?;
            output::emit(json, &list)
        }
        Command::Nation { nation, at, json } => {
            let day = parse_day(at.as_deref())?;
            let code = registry.nation_code(&nation)?;
            output::emit(json, &Profile(registry.nation_profile(code, day)?))
        }
        Command::Timeline { from, to, json } => {
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    return Err(UsageError(format!("--from {f} is after --to {t}")).into());
                }
            }
            let events = registry.timeline(from, to);
            output::emit(json, &Timeline { from, to, events })
        }
        Command::Invocations {
            clause,
            nation,
            json,
        } => {
            let list = Invocations::list(&registry, clause.as_deref(), nation.as_deref())?;
            output::emit(json, &list)
        }
        Command::Participants {
            clause,
            requested_by,
            at,
            until,
            json,
        } => {
            let day = parse_day(at.as_deref())?;
            let until = until
                .as_deref()
                .map(entente_types::parse_date)
                .transpose()?;
            if let Some(u) = until {
                if u < day {
                    return Err(UsageError(format!(
                        "--until {u} is before the day asked about, {day}"
                    ))
                    .into());
                }
            }
            let requested_by: Vec<&str> = requested_by
                .iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                .collect();
            output::emit(
                json,
                &Room::of(&registry, &clause, &requested_by, day, until)?,
            )
        }
        Command::Graph { format, at } => {
            let graph = registry.graph(parse_day(at.as_deref())?);
            match format {
                GraphFormat::Json => output::print_json(&graph)?,
                GraphFormat::Dot => output::print(graph.to_dot())?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(dir: PathBuf, burden_sources: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    // The burden dataset cites sources by id as the registry does: an id may not name two
    // documents. Its sources.toml beside the registry is checked unless another file is named.
    let others: Vec<PathBuf> = match burden_sources {
        Some(file) => vec![file],
        None => dir
            .parent()
            .map(|p| p.join("burden").join("sources.toml"))
            .filter(|p| p.is_file())
            .into_iter()
            .collect(),
    };
    let checked = Checked::run_with(&dir, &others)
        .with_context(|| format!("cannot check {}", dir.display()))?;
    if checked.ok || json {
        output::emit(json, &checked)?;
    } else {
        eprint!("{}", checked.problems_text());
    }
    Ok(if checked.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
