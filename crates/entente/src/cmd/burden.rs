//! `entente burden …`: defence expenditure against the NATO guidelines, joint programmes, cost shares
//! and charts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_burden::chart::{self, Format};
use entente_burden::chart_files;
use entente_burden::cost_share::{self, CostShare, ShareRequest, ShareRule};
use entente_burden::ledger::Programme;
use entente_burden::{Assessment, Dataset, Ledger};
use entente_types::{Date, NationCode};
use serde_json::{json, Value};

use crate::cmd::{data_dir, parse_day};
use crate::output::{self, UsageError};

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
    },
    /// Who meets which guideline in a year (Wales 2%, The Hague 3.5% core).
    Guideline {
        #[arg(long)]
        year: i32,
        /// Use one NATO edition only (default: the latest edition holding each value).
        #[arg(long)]
        edition: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Each ally's share of GDP over the years held, with change and slope.
    Trend {
        /// Nation codes (default: all).
        nations: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// What changes if some allies spend a given share of GDP, e.g. `DEU=3.5`.
    WhatIf {
        #[arg(long)]
        year: i32,
        /// NATION=PCT, one or more.
        #[arg(required = true, value_name = "NATION=PCT")]
        set: Vec<String>,
        #[arg(long)]
        edition: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A joint programme: participants over time, contributions, work share (no name: list them).
    Programme {
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
    },
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
        Command::Check { ledgers } => check(&data, &dir, &ledgers),
        Command::Guideline {
            year,
            edition,
            json,
        } => guideline(&data, year, edition.as_deref(), json),
        Command::Trend { nations, json } => trend(&data, &nations, json),
        Command::WhatIf {
            year,
            set,
            edition,
            json,
        } => what_if(&data, year, &set, edition.as_deref(), json),
        Command::Programme {
            name,
            ledgers,
            at,
            json,
        } => programme(&data, name.as_deref(), &ledgers, at.as_deref(), json),
        Command::Share(a) => share(&data, a),
        Command::Funding { json } => funding(&data, json),
        Command::Chart { chart } => draw(&data, chart),
    }
}

fn nation(text: &str) -> anyhow::Result<NationCode> {
    Ok(text.trim().parse::<NationCode>()?)
}

/// Parses `NATION=NUMBER`.
fn pair(text: &str, what: &str) -> anyhow::Result<(NationCode, f64)> {
    let (n, v) = text
        .split_once('=')
        .ok_or_else(|| UsageError(format!("{what}: expected NATION=NUMBER, found {text:?}")))?;
    let v: f64 = v
        .trim()
        .parse()
        .map_err(|_| UsageError(format!("{what}: {v:?} is not a number (in {text:?})")))?;
    Ok((nation(n)?, v))
}

fn pct(v: f64) -> String {
    format!("{v:.2}")
}

fn check(data: &Dataset, dir: &Path, ledgers: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut ledger = data.ledger.clone();
    for file in ledgers {
        let extra = read_ledger(data, file)?;
        ledger
            .merge(extra)
            .with_context(|| format!("merging {}", file.display()))?;
    }
    output::print(format!(
        "{}: ok ({} sources, {} expenditure points in {} editions, {} guidelines, {} bases, {} programmes)",
        dir.display(),
        data.sources.len(),
        data.expenditure.points().len(),
        data.expenditure.editions().len(),
        data.guidelines.len(),
        data.bases.len(),
        ledger.programmes().len(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn read_ledger(data: &Dataset, file: &Path) -> anyhow::Result<Ledger> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(Ledger::parse(&text, Some(file), &|id| data.has_source(id))?)
}

fn standing_json(data: &Dataset, a: &Assessment) -> Value {
    json!({
        "year": a.year,
        "guidelines": data.guidelines.iter().filter(|g| g.assessable()).map(|g| json!({
            "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct,
            "adopted": g.adopted.to_string(), "target_year": g.target_year, "source": g.source,
        })).collect::<Vec<_>>(),
        "not_assessed": data.guidelines.iter().filter(|g| !g.assessable()).map(|g| json!({
            "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct, "note": g.note,
        })).collect::<Vec<_>>(),
        "counts": a.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
        "allies": a.standings.iter().map(|s| json!({
            "nation": s.nation.as_str(),
            "pct_gdp": s.pct_gdp,
            "estimate": s.estimate,
            "edition": s.edition,
            "price_base": s.price_base,
            "source": s.source,
            "assumed": s.assumed,
            "checks": s.checks.iter().map(|c| json!({
                "guideline": c.guideline, "met": c.met, "gap_pp": c.gap_pp,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn standing_table(data: &Dataset, a: &Assessment) -> anyhow::Result<()> {
    let lines: Vec<_> = data.guidelines.iter().filter(|g| g.assessable()).collect();
    let mut header = vec!["nation".to_owned(), "% GDP".to_owned()];
    header.extend(lines.iter().map(|g| format!("{}%", g.threshold_pct)));
    header.push("edition".to_owned());
    let mut table = output::table(header);
    let mut rows: Vec<_> = a.standings.iter().collect();
    rows.sort_by(|x, y| {
        y.pct_gdp
            .total_cmp(&x.pct_gdp)
            .then(x.nation.cmp(&y.nation))
    });
    for s in rows {
        let mut row = vec![
            s.nation.to_string(),
            format!("{}{}", pct(s.pct_gdp), if s.estimate { "e" } else { "" }),
        ];
        row.extend(s.checks.iter().map(|c| {
            if c.met {
                "yes".to_owned()
            } else {
                format!("no (-{})", pct(c.gap_pp))
            }
        }));
        row.push(s.edition.clone());
        table.add_row(row);
    }
    output::print(table)?;
    Ok(())
}

fn guideline(
    data: &Dataset,
    year: i32,
    edition: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let a = entente_burden::assess(&data.expenditure, &data.guidelines, year, edition)?;
    if json {
        output::print_json(&standing_json(data, &a))?;
        return Ok(ExitCode::SUCCESS);
    }
    let editions: std::collections::BTreeSet<&str> =
        a.standings.iter().map(|s| s.edition.as_str()).collect();
    let counts: Vec<String> = a
        .counts
        .iter()
        .map(|(g, n)| format!("{g}: {n} of {}", a.standings.len()))
        .collect();
    output::print(format!(
        "Defence expenditure in {year} (% of GDP; e = NATO estimate; editions: {})\nMeeting: {}",
        editions.into_iter().collect::<Vec<_>>().join(", "),
        counts.join("; ")
    ))?;
    standing_table(data, &a)?;
    for g in data.guidelines.iter().filter(|g| !g.assessable()) {
        output::print(format!(
            "{}: {}",
            g.name,
            g.note.as_deref().unwrap_or("not assessed")
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn trends(data: &Dataset, nations: &[String]) -> anyhow::Result<Vec<entente_burden::Trend>> {
    let codes: Vec<NationCode> = if nations.is_empty() {
        data.expenditure.nations().into_iter().collect()
    } else {
        nations
            .iter()
            .map(|n| nation(n))
            .collect::<anyhow::Result<_>>()?
    };
    Ok(codes
        .into_iter()
        .map(|c| entente_burden::trend(&data.expenditure, c))
        .collect::<Result<_, _>>()?)
}

fn trend(data: &Dataset, nations: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let ts = trends(data, nations)?;
    if json {
        output::print_json(&ts
            .iter()
            .map(|t| json!({
                "nation": t.nation.as_str(),
                "change_pp": t.change_pp,
                "slope_pp_per_year": t.slope_pp_per_year,
                "mixed_editions": t.mixed_editions,
                "points": t.points.iter().map(|p| json!({
                    "year": p.year, "pct_gdp": p.pct_gdp, "edition": p.edition, "source": p.source,
                })).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>())?;
        return Ok(ExitCode::SUCCESS);
    }
    let years: Vec<i32> = data.expenditure.years().into_iter().collect();
    let mut header = vec!["nation".to_owned()];
    header.extend(years.iter().map(i32::to_string));
    header.extend(["change (pp)".to_owned(), "slope (pp/yr)".to_owned()]);
    let mut table = output::table(header);
    for t in &ts {
        let mut row = vec![t.nation.to_string()];
        for y in &years {
            row.push(
                t.points
                    .iter()
                    .find(|p| p.year == *y)
                    .map_or("—".to_owned(), |p| pct(p.pct_gdp)),
            );
        }
        row.push(format!("{:+.2}", t.change_pp));
        row.push(format!("{:+.3}", t.slope_pp_per_year));
        table.add_row(row);
    }
    output::print("Defence expenditure, % of GDP (latest NATO edition holding each year; editions differ in price base)")?;
    output::print(table)?;
    Ok(ExitCode::SUCCESS)
}

fn what_if(
    data: &Dataset,
    year: i32,
    set: &[String],
    edition: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let overrides: Vec<(NationCode, f64)> = set
        .iter()
        .map(|s| pair(s, "what-if"))
        .collect::<anyhow::Result<_>>()?;
    let w = entente_burden::what_if(
        &data.expenditure,
        &data.guidelines,
        year,
        edition,
        &overrides,
    )?;
    if json {
        output::print_json(&json!({
            "year": year,
            "assumptions": overrides.iter().map(|(n, v)| json!({"nation": n.as_str(), "pct_gdp": v})).collect::<Vec<_>>(),
            "counts_before": w.before.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
            "counts_after": w.after.counts.iter().map(|(g, n)| json!({"guideline": g, "allies_meeting": n})).collect::<Vec<_>>(),
            "changes": w.changes.iter().map(|(n, g, b, a)| json!({
                "nation": n.as_str(), "guideline": g, "met_before": b, "met_after": a,
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for (nation, v) in &overrides {
        let was = w
            .before
            .standings
            .iter()
            .find(|s| s.nation == *nation)
            .map_or("no published value".to_owned(), |s| {
                format!("{}% published ({})", pct(s.pct_gdp), s.edition)
            });
        output::print(format!(
            "If {nation} spends {}% of GDP in {year} (was {was}):",
            pct(*v)
        ))?;
    }
    let mut table = output::table(["guideline", "allies meeting before", "after"]);
    for ((g, b), (_, a)) in w.before.counts.iter().zip(&w.after.counts) {
        table.add_row([g.clone(), b.to_string(), a.to_string()]);
    }
    output::print(table)?;
    if w.changes.is_empty() {
        output::print("No ally's standing against any guideline changes.")?;
    }
    for (n, g, _, after) in &w.changes {
        output::print(format!(
            "{n} {} {g}",
            if *after {
                "now meets"
            } else {
                "no longer meets"
            }
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn full_ledger(data: &Dataset, ledgers: &[PathBuf]) -> anyhow::Result<Ledger> {
    let mut ledger = data.ledger.clone();
    for file in ledgers {
        ledger
            .merge(read_ledger(data, file)?)
            .with_context(|| format!("merging {}", file.display()))?;
    }
    Ok(ledger)
}

fn programme(
    data: &Dataset,
    name: Option<&str>,
    ledgers: &[PathBuf],
    at: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let ledger = full_ledger(data, ledgers)?;
    let day = at.map(entente_types::parse_date).transpose()?;
    let Some(name) = name else {
        if json {
            output::print_json(&ledger.programmes().iter().map(|p| json!({
                "id": p.id, "name": p.name, "kind": p.kind, "participants": p.participants.len(), "source": p.source,
            })).collect::<Vec<_>>())?;
        } else {
            let mut table = output::table(["id", "name", "kind", "participants", "phases"]);
            for p in ledger.programmes() {
                table.add_row([
                    p.id.clone(),
                    p.name.clone(),
                    p.kind.clone(),
                    p.participants.len().to_string(),
                    p.phases.len().to_string(),
                ]);
            }
            output::print(table)?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let p = ledger.get(name)?;
    if json {
        output::print_json(&programme_json(p, day))?;
    } else {
        programme_text(p, day)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn programme_json(p: &Programme, day: Option<Date>) -> Value {
    let participants: Vec<_> = match day {
        Some(d) => p.participants_on(d),
        None => p.participants.iter().collect(),
    };
    json!({
        "id": p.id, "name": p.name, "kind": p.kind, "launched": p.launched, "currency": p.currency,
        "source": p.source, "note": p.note, "at": day.map(|d| d.to_string()),
        "participants": participants.iter().map(|x| json!({
            "nation": x.nation.as_str(), "role": x.role.as_str(), "from": x.from.to_string(),
            "until": x.until.map(|u| u.to_string()), "source": x.source, "note": x.note,
        })).collect::<Vec<_>>(),
        "timeline": p.timeline().iter().map(|(d, j, l)| json!({
            "day": d.to_string(),
            "joined": j.iter().map(NationCode::as_str).collect::<Vec<_>>(),
            "left": l.iter().map(NationCode::as_str).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "phases": p.phases.iter().map(|ph| json!({
            "id": ph.id, "name": ph.name, "cost": ph.cost, "source": ph.source, "note": ph.note,
            "contributions": ph.contributions.iter().filter(|c| day.is_none_or(|d| c.as_of <= d)).map(|c| json!({
                "nation": c.nation.as_str(), "as_of": c.as_of.to_string(), "planned": c.planned,
                "share": c.share, "actual": c.actual, "planned_amount": ph.planned_amount(c), "source": c.source,
            })).collect::<Vec<_>>(),
            "current": ph.current(day).values().map(|c| json!({
                "nation": c.nation.as_str(), "as_of": c.as_of.to_string(), "planned_amount": ph.planned_amount(c), "actual": c.actual,
            })).collect::<Vec<_>>(),
            "work_share": ph.work_share.iter().map(|w| json!({"nation": w.nation.as_str(), "share": w.share, "source": w.source})).collect::<Vec<_>>(),
            "external": ph.external.iter().map(|e| json!({"funder": e.funder, "amount": e.amount, "source": e.source})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "balance": p.balance(day).iter().map(|b| json!({
            "nation": b.nation.as_str(), "planned": b.planned, "actual": b.actual,
            "cost_share": b.cost_share, "work_share": b.work_share, "return_ratio": b.return_ratio,
        })).collect::<Vec<_>>(),
    })
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("—".to_owned(), f)
}

fn programme_text(p: &Programme, day: Option<Date>) -> anyhow::Result<()> {
    let currency = p.currency.as_deref().unwrap_or("amounts");
    output::print(format!(
        "{} ({}) — {}{}\nsource: {}{}",
        p.name,
        p.id,
        p.kind,
        p.launched
            .as_deref()
            .map_or(String::new(), |l| format!(", launched {l}")),
        p.source,
        p.note
            .as_deref()
            .map_or(String::new(), |n| format!("\nnote: {n}")),
    ))?;
    let mut table = output::table(["nation", "role", "from", "until", "source"]);
    for x in &p.participants {
        if day.is_some_and(|d| !x.active_on(d)) {
            continue;
        }
        table.add_row([
            x.nation.to_string(),
            x.role.as_str().to_owned(),
            x.from.to_string(),
            x.until.map_or(String::new(), |u| u.to_string()),
            x.source.clone(),
        ]);
    }
    output::print(match day {
        Some(d) => format!("Participants on {d}:"),
        None => "Participants:".to_owned(),
    })?;
    output::print(table)?;
    let timeline: Vec<String> = p
        .timeline()
        .iter()
        .map(|(d, j, l)| {
            let mut s = format!("{d}:");
            if !j.is_empty() {
                s += &format!(
                    " +{}",
                    j.iter()
                        .map(NationCode::as_str)
                        .collect::<Vec<_>>()
                        .join(" +")
                );
            }
            if !l.is_empty() {
                s += &format!(
                    " -{}",
                    l.iter()
                        .map(NationCode::as_str)
                        .collect::<Vec<_>>()
                        .join(" -")
                );
            }
            s
        })
        .collect();
    output::print(format!("Timeline: {}", timeline.join("; ")))?;
    for ph in &p.phases {
        output::print(format!(
            "\nPhase {}{}: cost {} ({currency}); source {}{}",
            ph.id,
            ph.name
                .as_deref()
                .map_or(String::new(), |n| format!(" — {n}")),
            opt(ph.cost, |c| format!("{c}")),
            ph.source,
            ph.note
                .as_deref()
                .map_or(String::new(), |n| format!("\n  note: {n}")),
        ))?;
        let current = ph.current(day);
        if !ph.contributions.is_empty() {
            let mut table = output::table([
                "nation",
                "as of",
                "planned",
                "share of cost",
                "actual",
                "in force",
                "source",
            ]);
            for c in ph
                .contributions
                .iter()
                .filter(|c| day.is_none_or(|d| c.as_of <= d))
            {
                let in_force = current.get(&c.nation).is_some_and(|x| x.as_of == c.as_of);
                let amount = ph.planned_amount(c);
                table.add_row([
                    c.nation.to_string(),
                    c.as_of.to_string(),
                    opt(amount, |v| format!("{v}")),
                    opt(amount.zip(ph.cost).map(|(a, t)| a / t), |v| {
                        format!("{:.1}%", v * 100.0)
                    }),
                    opt(c.actual, |v| format!("{v}")),
                    if in_force { "yes" } else { "superseded" }.to_owned(),
                    c.source.clone(),
                ]);
            }
            output::print(table)?;
        } else {
            output::print("  national contributions: none recorded")?;
        }
        for w in &ph.work_share {
            output::print(format!(
                "  work share {}: {:.1}% ({})",
                w.nation,
                w.share * 100.0,
                w.source
            ))?;
        }
        for e in &ph.external {
            output::print(format!(
                "  external funding: {} {} ({})",
                e.funder, e.amount, e.source
            ))?;
        }
    }
    let balance = p.balance(day);
    if balance.iter().any(|b| b.planned > 0.0) {
        let mut table = output::table([
            "nation",
            "planned",
            "cost share",
            "actual",
            "work share",
            "work / cost",
        ]);
        for b in &balance {
            table.add_row([
                b.nation.to_string(),
                format!("{}", (b.planned * 1000.0).round() / 1000.0),
                opt(b.cost_share, |v| format!("{:.1}%", v * 100.0)),
                opt(b.actual, |v| format!("{v}")),
                opt(b.work_share, |v| format!("{:.1}%", v * 100.0)),
                opt(b.return_ratio, |v| format!("{v:.2}")),
            ]);
        }
        output::print(format!(
            "\nBalance over all phases (plans in force, {currency}):"
        ))?;
        output::print(table)?;
    }
    Ok(())
}

fn share(data: &Dataset, args: ShareArgs) -> anyhow::Result<ExitCode> {
    let request = ShareRequest {
        rule: args.rule.into(),
        total: args.total,
        basis: args.basis,
        weights: args
            .weights
            .iter()
            .map(|w| pair(w, "--weight"))
            .collect::<anyhow::Result<_>>()?,
        nations: args
            .nations
            .iter()
            .map(|n| nation(n))
            .collect::<anyhow::Result<_>>()?,
        cap: args.cap,
        floor: args.floor,
        game: args.game,
        programme: args.programme,
        phase: args.phase,
        at: args
            .at
            .as_deref()
            .map(entente_types::parse_date)
            .transpose()?,
        today: parse_day(None)?,
    };
    let share = cost_share::resolve(data, &request)?;
    if args.json {
        output::print_json(&share_json(&share))?;
    } else {
        share_text(&share)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn share_json(share: &CostShare) -> Value {
    let (allocation, fairness) = (&share.allocation, &share.fairness);
    json!({
        "rule": share.rule.as_str(),
        "total": allocation.total,
        "cap": share.cap, "floor": share.floor,
        "basis": share.basis.as_ref().map(|b| json!({"name": b.name, "kind": b.kind, "unit": b.unit, "source": b.source})),
        "context": share.context,
        "shares": allocation.shares.iter().map(|s| json!({
            "nation": s.nation.as_str(), "fraction": s.fraction, "amount": s.amount,
            "bound": s.bound.map(|b| format!("{b:?}").to_lowercase()),
            "planned": share.planned.iter().find(|(n, _)| *n == s.nation).map(|(_, v)| v),
        })).collect::<Vec<_>>(),
        "fairness": {
            "reference": if share.against_basis { "basis" } else { "equal" },
            "hhi": fairness.hhi, "gini": fairness.gini,
            "proportionality_gap": fairness.proportionality_gap,
            "ratios": fairness.ratios.iter().map(|(n, r)| json!({"nation": n.as_str(), "share_over_reference": r})).collect::<Vec<_>>(),
        },
        "core": share.core.as_ref().map(|c| json!({
            "in_core": c.in_core,
            "worst_coalition": c.worst_coalition.iter().map(NationCode::as_str).collect::<Vec<_>>(),
            "worst_excess": c.worst_excess,
        })),
    })
}

fn share_text(share: &CostShare) -> anyhow::Result<()> {
    let mut title = format!("Rule {}", share.rule.as_str());
    if let Some(c) = share.cap {
        title += &format!(", cap {c}");
    }
    if let Some(f) = share.floor {
        title += &format!(", floor {f}");
    }
    if let Some(b) = &share.basis {
        title += &format!(
            ", basis {} ({}, {}; source {})",
            b.name, b.kind, b.unit, b.source
        );
    }
    if !share.context.is_empty() {
        title += &format!(", {}", share.context.join(", "));
    }
    output::print(format!("{title}; total {}", share.total))?;
    let mut header = vec!["nation", "share", "amount", "bound", "vs reference"];
    if !share.planned.is_empty() {
        header.push("planned share");
    }
    let mut table = output::table(header);
    for s in &share.allocation.shares {
        let ratio = share
            .fairness
            .ratios
            .iter()
            .find(|(n, _)| *n == s.nation)
            .map(|(_, r)| *r);
        let mut row = vec![
            s.nation.to_string(),
            format!("{:.4}%", s.fraction * 100.0),
            format!("{:.3}", s.amount),
            s.bound
                .map_or(String::new(), |b| format!("{b:?}").to_lowercase()),
            opt(ratio, |r| format!("{r:.3}")),
        ];
        if !share.planned.is_empty() {
            row.push(opt(share.planned_share(s.nation), |v| {
                format!("{:.2}%", v * 100.0)
            }));
        }
        table.add_row(row);
    }
    output::print(table)?;
    let fairness = &share.fairness;
    output::print(format!(
        "Fairness against {}: HHI {:.4} (equal split {:.4}); Gini {:.4}; proportionality gap {:.2}% of the total",
        if share.against_basis { "the basis" } else { "equal shares" },
        fairness.hhi,
        1.0 / share.allocation.shares.len() as f64,
        fairness.gini,
        fairness.proportionality_gap * 100.0
    ))?;
    if let Some(c) = &share.core {
        let who: Vec<&str> = c.worst_coalition.iter().map(NationCode::as_str).collect();
        output::print(if c.in_core {
            format!("In the core: no coalition pays more than its stand-alone cost (tightest: [{}], {:.3})", who.join(", "), c.worst_excess)
        } else {
            format!(
                "NOT in the core: [{}] pays {:.3} more than on its own",
                who.join(", "),
                c.worst_excess
            )
        })?;
    }
    Ok(())
}

fn funding(data: &Dataset, json: bool) -> anyhow::Result<ExitCode> {
    let cf = &data.common_funding;
    let edf = &data.edf;
    if json {
        output::print_json(&json!({
            "nato_common_funding": {
                "basis": cf.basis, "formula": cf.formula, "source": cf.formula_source,
                "budgets": cf.budgets.iter().map(|b| json!({
                    "year": b.year, "civil": b.civil, "military": b.military, "nsip": b.nsip,
                    "nsip_ceiling": b.nsip_ceiling, "total": b.total(), "currency": b.currency, "source": b.source, "note": b.note,
                })).collect::<Vec<_>>(),
                "known_shares": cf.shares.iter().map(|s| json!({
                    "period": s.period, "nation": s.nation.as_str(), "pct": s.pct, "source": s.source, "note": s.note,
                })).collect::<Vec<_>>(),
                "full_table": "not found in the sources consulted",
            },
            "edf": {
                "name": edf.name, "period": edf.period, "currency": edf.currency, "total": edf.total, "source": edf.source,
                "strands": edf.strands.iter().map(|s| json!({"name": s.name, "amount": s.amount, "source": s.source, "note": s.note})).collect::<Vec<_>>(),
            },
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    output::print(format!(
        "NATO common funding — formula: {} (source {})",
        cf.formula, cf.formula_source
    ))?;
    let mut table = output::table([
        "year", "civil", "military", "NSIP", "total", "unit", "source",
    ]);
    for b in &cf.budgets {
        table.add_row([
            b.year.to_string(),
            format!("{}", b.civil),
            format!("{}", b.military),
            format!(
                "{}{}",
                b.nsip,
                if b.nsip_ceiling { " (ceiling)" } else { "" }
            ),
            format!("{:.1}", b.total()),
            b.currency.clone(),
            b.source.clone(),
        ]);
    }
    output::print(table)?;
    let mut table = output::table(["period", "nation", "cost share %", "source", "note"]);
    for s in &cf.shares {
        table.add_row([
            s.period.clone(),
            s.nation.to_string(),
            format!("{:.2}", s.pct),
            s.source.clone(),
            s.note.clone().unwrap_or_default(),
        ]);
    }
    output::print("Known cost shares (the full per-ally table was not found):")?;
    output::print(table)?;
    output::print(format!(
        "\n{} {}: {} {} (source {})",
        edf.name, edf.period, edf.total, edf.currency, edf.source
    ))?;
    for s in &edf.strands {
        output::print(format!("  {}: {} ({})", s.name, s.amount, s.source))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the chart font: `--font`, else DejaVu Sans from the usual system places.
pub(crate) fn font(explicit: Option<&Path>) -> anyhow::Result<()> {
    Ok(chart_files::load_font(explicit)?)
}

fn draw(data: &Dataset, command: ChartCommand) -> anyhow::Result<ExitCode> {
    let (bytes, out, what) = match command {
        ChartCommand::Guideline {
            year,
            edition,
            what_if,
            out,
            font: f,
        } => {
            let format = Format::for_file(&out)?;
            font(f.as_deref())?;
            let overrides: Vec<(NationCode, f64)> = what_if
                .iter()
                .map(|s| pair(s, "--what-if"))
                .collect::<anyhow::Result<_>>()?;
            let a = entente_burden::assess_with(
                &data.expenditure,
                &data.guidelines,
                year,
                edition.as_deref(),
                &overrides,
            )?;
            let n = a.standings.len();
            (
                chart::guideline_chart(&a, &data.guidelines, format)?,
                out,
                format!("{n} allies in {year}"),
            )
        }
        ChartCommand::Trend {
            nations,
            out,
            font: f,
        } => {
            let format = Format::for_file(&out)?;
            font(f.as_deref())?;
            let ts = trends(data, &nations)?;
            let n = ts.len();
            (
                chart::trend_chart(&ts, &data.guidelines, format)?,
                out,
                format!("{n} allies"),
            )
        }
    };
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    output::print(format!(
        "wrote {} ({} bytes, {what})",
        out.display(),
        bytes.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}
