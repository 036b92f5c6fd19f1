//! `entente burden …`: defence expenditure against the NATO guidelines, joint programmes, cost shares
//! and charts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use entente_burden::chart::{self, Format};
use entente_burden::chart_files;
use entente_burden::cost_share::{self, ShareRequest, ShareRule};
use entente_burden::report::{
    Checked, Funding, ProgrammeReport, Programmes, Standings, Trends, WhatIfReport,
};
use entente_burden::Dataset;
use entente_types::NationCode;

use crate::cmd::{data_dir, nation_pairs, parse_day};
use crate::output;

mod charts;

use charts::draw;
pub(crate) use charts::font;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset folder (default: data/burden).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate the dataset and any extra ledger files: every problem with its file, line and field.
    Check {
        /// Extra programme ledger files to validate against the dataset's sources.
        #[arg(long = "ledger", value_name = "FILE")]
        ledgers: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Who meets which guideline in a year (Wales 2%, The Hague 3.5% core).
    Guideline(GuidelineArgs),
    /// Each ally's share of GDP over the years held, with change and slope.
    Trend {
        /// Nation codes (default: all).
        nations: Vec<String>,
        /// Use one NATO edition only, e.g. nato-2024-06 or nato-2025-08 (default: the latest
        /// edition holding each year).
        #[arg(long)]
        edition: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What changes if some allies spend a given share of GDP, e.g. `DEU=3.5`.
    WhatIf(WhatIfArgs),
    /// A joint programme: participants over time, contributions, work share (no name: list them).
    Programme(ProgrammeArgs),
    /// Share a cost under a rule, with fairness indicators.
    Share(ShareArgs),
    /// NATO common funding and the European Defence Fund: envelopes, known cost shares, formula.
    Funding {
        #[arg(long)]
        json: bool,
    },
    /// Draw a chart as SVG or PNG (by the output file's extension).
    Chart {
        #[command(subcommand)]
        chart: ChartCommand,
    },
}

#[derive(Debug, clap::Args)]
struct ProgrammeArgs {
    /// Programme id or name, e.g. eurodrone.
    name: Option<String>,
    /// Extra ledger files (TOML, same format as data/burden/programmes).
    #[arg(long = "ledger", value_name = "FILE")]
    ledgers: Vec<PathBuf>,
    /// Show participants and plans in force on this day (default: everything recorded).
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct WhatIfArgs {
    #[arg(long)]
    year: i32,
    /// NATION=PCT, one or more.
    #[arg(required = true, value_name = "NATION=PCT")]
    set: Vec<String>,
    #[arg(long)]
    edition: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct GuidelineArgs {
    #[arg(long)]
    year: i32,
    /// Use one NATO edition only, e.g. nato-2024-06 or nato-2025-08 (default: the latest edition
    /// holding each value).
    #[arg(long)]
    edition: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RuleName {
    /// Proportional to gross national income.
    Gni,
    /// Proportional to gross domestic product.
    Gdp,
    /// Proportional to any basis given with --basis or --weight.
    Proportional,
    /// Equal shares.
    Equal,
    /// Shapley value of the cost game in --game.
    Shapley,
}

impl From<RuleName> for ShareRule {
    fn from(rule: RuleName) -> ShareRule {
        match rule {
            RuleName::Gni => ShareRule::Gni,
            RuleName::Gdp => ShareRule::Gdp,
            RuleName::Proportional => ShareRule::Proportional,
            RuleName::Equal => ShareRule::Equal,
            RuleName::Shapley => ShareRule::Shapley,
        }
    }
}

#[derive(Debug, clap::Args)]
struct ShareArgs {
    #[arg(long, value_enum)]
    rule: RuleName,
    /// Amount to share (default: the programme phase's cost, else the game's grand-coalition cost, else 100).
    #[arg(long)]
    total: Option<f64>,
    /// A basis from data/burden/bases by name, or a basis file.
    #[arg(long, value_name = "NAME|FILE")]
    basis: Option<String>,
    /// Basis values given inline, NATION=VALUE (added to or replacing --basis values).
    #[arg(long = "weight", value_name = "NATION=VALUE")]
    weights: Vec<String>,
    /// Share among these nations only (comma-separated; default: all in the basis or programme).
    #[arg(long, value_delimiter = ',')]
    nations: Vec<String>,
    /// Largest share any nation may bear, as a fraction (NATO: 0.1635).
    #[arg(long)]
    cap: Option<f64>,
    /// Smallest share any nation must bear, as a fraction.
    #[arg(long)]
    floor: Option<f64>,
    /// Coalition cost game (TOML: players, [[coalition]] members and cost) for --rule shapley.
    #[arg(long, value_name = "FILE")]
    game: Option<PathBuf>,
    /// Share a programme phase's cost among its contributing participants.
    #[arg(long)]
    programme: Option<String>,
    /// The phase (default: the first with a cost).
    #[arg(long)]
    phase: Option<String>,
    /// Participants on this day (default: the phase's latest plan, else today).
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum ChartCommand {
    /// Bars of each ally's share of GDP against the guidelines in a year.
    Guideline {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        edition: Option<String>,
        /// What-if values, NATION=PCT (drawn in a distinct colour).
        #[arg(long = "what-if", value_name = "NATION=PCT")]
        what_if: Vec<String>,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A TrueType font for the chart text (default: DejaVu Sans from the system).
        #[arg(long, value_name = "FILE")]
        font: Option<PathBuf>,
    },
    /// Lines of each ally's share of GDP by year.
    Trend {
        /// Nation codes (default: all).
        nations: Vec<String>,
        /// Use one NATO edition only, e.g. nato-2024-06 or nato-2025-08 (default: the latest
        /// edition holding each year).
        #[arg(long)]
        edition: Option<String>,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, value_name = "FILE")]
        font: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = data_dir(args.data, "burden");
    let data = entente_burden::load(&dir)?;
    match args.command {
        Command::Check { ledgers, json } => {
            output::emit(json, &Checked::run(&data, &dir, &ledgers)?)
        }
        Command::Guideline(a) => {
            let standings = Standings::assess(&data, a.year, a.edition.as_deref())?;
            output::emit(a.json, &standings)
        }
        Command::Trend {
            nations,
            edition,
            json,
        } => {
            let trends = Trends::in_edition(&data, &nations_of(&nations)?, edition.as_deref())?;
            output::emit(json, &trends)
        }
        Command::WhatIf(a) => {
            let overrides = nation_pairs(&a.set, ("what-if", "NATION=NUMBER"), number)?;
            let report = WhatIfReport::assess(&data, a.year, a.edition.as_deref(), overrides)?;
            output::emit(a.json, &report)
        }
        Command::Programme(a) => {
            let ledger = data.ledger_with(&a.ledgers)?;
            let day = a.at.as_deref().map(entente_types::parse_date).transpose()?;
            match a.name {
                None => output::emit(a.json, &Programmes(ledger.programmes())),
                Some(name) => {
                    let programme = ledger.get(&name)?;
                    output::emit(a.json, &ProgrammeReport { programme, day })
                }
            }
        }
        Command::Share(a) => {
            let request = ShareRequest {
                rule: a.rule.into(),
                total: a.total,
                basis: a.basis,
                weights: nation_pairs(&a.weights, ("--weight", "NATION=NUMBER"), number)?,
                nations: nations_of(&a.nations)?,
                cap: a.cap,
                floor: a.floor,
                game: a.game,
                programme: a.programme,
                phase: a.phase,
                at: a.at.as_deref().map(entente_types::parse_date).transpose()?,
                today: parse_day(None)?,
            };
            output::emit(a.json, &cost_share::resolve(&data, &request)?)
        }
        Command::Funding { json } => output::emit(json, &Funding(&data)),
        Command::Chart { chart } => draw(&data, chart),
    }
}

fn nations_of(texts: &[String]) -> anyhow::Result<Vec<NationCode>> {
    Ok(texts
        .iter()
        .map(|n| n.trim().parse::<NationCode>())
        .collect::<Result<_, _>>()?)
}

fn number(text: String) -> Result<f64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}
