//! Burden sharing: defence spending against the NATO guidelines in a year and over time, the
//! ledger of joint programmes, and cost shares (NATO common funding as published, and a cost
//! shared under the rules `entente_burden` implements), from the sourced dataset shipped in the
//! node's data folder (`<policy_data>/burden`, what `entente burden …` reads).
//!
//! Charts are `entente_burden::chart`'s SVGs, served as images from
//! `/console/burden/charts/{name}.svg`; each has a table of its values beside it. The data is
//! public, so the page carries no label.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entente_burden::chart::{self, Format, ShareSeries};
use entente_burden::cost_share::{self, CostShare, ShareRequest, ShareRule};
use entente_burden::Dataset;
use entente_types::NationCode;
use serde::Deserialize;

use super::{encode, render, Frame};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::{Console, BASE};

/// The dataset folder of a node: `burden` beside its registry and policies.
fn data_dir(console: &Console) -> PathBuf {
    console.node.config().policy_data.join("burden")
}

/// Loads the dataset off the async workers.
async fn load(console: &Console) -> Result<Dataset, String> {
    let dir = data_dir(console);
    let shown = dir.display().to_string();
    tokio::task::spawn_blocking(move || entente_burden::load(&dir))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{shown}: {e}"))
}

/// Registers the chart font once per process; `Err` says why charts cannot be drawn.
fn chart_font() -> Result<(), &'static str> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| entente_burden::chart_files::load_font(None).map_err(|e| e.to_string()))
        .as_ref()
        .map(|_| ())
        .map_err(|e| e.as_str())
}

/// Two decimals, as the sources publish shares of GDP.
fn pct(v: f64) -> String {
    format!("{v:.2}")
}

/// The source ids of a `source` field (`B1;B3`).
pub fn source_ids(field: &str) -> Vec<String> {
    field
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An ally's standing in the guideline table.
pub struct StandingRow {
    pub nation: String,
    pub pct: String,
    pub estimate: bool,
    /// Per assessable guideline: met, and the gap in percentage points when not.
    pub checks: Vec<(bool, String)>,
    pub edition: String,
    pub sources: Vec<String>,
}

pub struct GuidelineRow {
    pub name: String,
    pub threshold: String,
    pub adopted: String,
    pub target_year: String,
    pub assessed: bool,
    pub meeting: String,
    pub note: String,
    pub sources: Vec<String>,
}

pub struct TrendRow {
    pub nation: String,
    pub first: String,
    pub last: String,
    pub change: String,
    pub slope: String,
    pub mixed: bool,
    /// One cell per year of the page's years: the value, or empty.
    pub values: Vec<String>,
}

pub struct ProgrammeView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub launched: String,
    pub currency: String,
    pub note: String,
    pub sources: Vec<String>,
    pub participants: Vec<ParticipantRow>,
    pub phases: Vec<PhaseView>,
    pub balance: Vec<BalanceRow>,
}

pub struct ParticipantRow {
    pub nation: String,
    pub role: &'static str,
    pub from: String,
    pub until: String,
    pub sources: Vec<String>,
}

pub struct PhaseView {
    pub id: String,
    pub name: String,
    pub cost: String,
    pub note: String,
    pub sources: Vec<String>,
    pub contributions: Vec<ContributionRow>,
    pub work_share: Vec<(String, String)>,
    pub external: Vec<(String, String)>,
}

pub struct ContributionRow {
    pub nation: String,
    pub as_of: String,
    pub planned: String,
    pub share: String,
    pub actual: String,
    pub in_force: bool,
    pub sources: Vec<String>,
}

pub struct BalanceRow {
    pub nation: String,
    pub planned: String,
    pub cost_share: String,
    pub actual: String,
    pub work_share: String,
    pub return_ratio: String,
}

/// A cost shared under several rules, with its chart.
pub struct ShareView {
    pub title: String,
    pub chart: String,
    pub alt: String,
    pub context: String,
    /// Column headings: one per rule or series.
    pub columns: Vec<String>,
    /// Per nation: its fraction (percent) under each column, empty where it has none.
    pub rows: Vec<(String, Vec<String>)>,
    /// One line per rule: HHI, Gini, proportionality gap.
    pub fairness: Vec<String>,
    pub sources: Vec<String>,
}

pub struct SourceRow {
    pub id: String,
    pub title: String,
    pub reference: String,
    pub edition: String,
}

#[derive(Template)]
#[template(path = "burden.html")]
struct Page {
    frame: Frame,
    failure: Option<String>,
    charts: Option<&'static str>,
    year: i32,
    years: Vec<i32>,
    guideline_chart: String,
    guideline_columns: Vec<String>,
    guidelines: Vec<GuidelineRow>,
    standings: Vec<StandingRow>,
    trend_years: Vec<i32>,
    trends: Vec<TrendRow>,
    programmes: Vec<ProgrammeView>,
    funding_formula: String,
    funding_sources: Vec<String>,
    budgets: Vec<Vec<String>>,
    known_shares: Vec<Vec<String>>,
    edf: Vec<Vec<String>>,
    edf_title: String,
    shares: Vec<ShareView>,
    sources: Vec<SourceRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    year: Option<i32>,
}

/// The year shown by default: the latest with values for most allies (the newest year often
/// holds a few early estimates only).
pub fn default_year(data: &Dataset) -> Option<i32> {
    let mut counts: std::collections::BTreeMap<i32, usize> = std::collections::BTreeMap::new();
    for p in data.expenditure.points() {
        *counts.entry(p.year).or_default() += 1;
    }
    let most = counts.values().copied().max()?;
    counts
        .iter()
        .rev()
        .find(|(_, n)| **n * 2 >= most)
        .map(|(y, _)| *y)
}

/// The rules a common cost is shown under, on a basis.
const BASIS_RULES: [ShareRule; 2] = [ShareRule::Gni, ShareRule::Equal];

fn request(rule: ShareRule, basis: Option<&str>, programme: Option<(&str, &str)>) -> ShareRequest {
    ShareRequest {
        rule,
        total: None,
        basis: basis.map(str::to_owned),
        weights: Vec::new(),
        nations: Vec::new(),
        cap: None,
        floor: None,
        game: None,
        programme: programme.map(|(p, _)| p.to_owned()),
        phase: programme.map(|(_, ph)| ph.to_owned()),
        at: None,
        today: entente_node::clock::today(),
    }
}

/// The cost shares the page shows: for each basis, a common cost of 100 shared in proportion
/// to it and equally; for each programme phase with a cost and plans, the planned shares beside
/// equal shares among its participants. Each with the chart's name and series.
pub fn share_cases(data: &Dataset) -> Vec<(String, String, Vec<CostShare>, Vec<ShareSeries>)> {
    let mut out = Vec::new();
    for basis in &data.bases {
        let rules: Vec<CostShare> = BASIS_RULES
            .iter()
            .filter_map(|rule| {
                let kind_fits = rule.as_str() == basis.kind || *rule == ShareRule::Equal;
                kind_fits
                    .then(|| cost_share::resolve(data, &request(*rule, Some(&basis.name), None)))
                    .and_then(Result::ok)
            })
            .collect();
        if rules.is_empty() {
            continue;
        }
        let series = rules
            .iter()
            .map(|s| (rule_text(s.rule, Some(&basis.name)), fractions(s)))
            .collect();
        out.push((
            format!("basis-{}", basis.name),
            format!(
                "A common cost shared among the allies of basis {}",
                basis.name
            ),
            rules,
            series,
        ));
    }
    for p in data.ledger.programmes() {
        for phase in &p.phases {
            let planned_any = phase.cost.is_some() && !phase.contributions.is_empty();
            if !planned_any {
                continue;
            }
            let Ok(equal) = cost_share::resolve(
                data,
                &request(ShareRule::Equal, None, Some((&p.id, &phase.id))),
            ) else {
                continue;
            };
            let planned: Vec<(NationCode, f64)> = equal
                .allocation
                .shares
                .iter()
                .filter_map(|s| Some((s.nation, equal.planned_share(s.nation)?)))
                .collect();
            let series = vec![
                ("planned (ledger)".to_owned(), planned),
                ("equal shares".to_owned(), fractions(&equal)),
            ];
            out.push((
                format!("programme-{}-{}", p.id, phase.id),
                format!(
                    "{}: {}",
                    p.name,
                    phase.name.as_deref().unwrap_or(phase.id.as_str())
                ),
                vec![equal],
                series,
            ));
        }
    }
    out
}

fn rule_text(rule: ShareRule, basis: Option<&str>) -> String {
    match (rule, basis) {
        (ShareRule::Gni | ShareRule::Gdp | ShareRule::Proportional, Some(b)) => {
            format!("proportional to {b}")
        }
        (ShareRule::Equal, _) => "equal shares".to_owned(),
        (ShareRule::Shapley, _) => "Shapley value".to_owned(),
        (r, None) => r.as_str().to_owned(),
    }
}

fn fractions(share: &CostShare) -> Vec<(NationCode, f64)> {
    share
        .allocation
        .shares
        .iter()
        .map(|s| (s.nation, s.fraction))
        .collect()
}

fn share_view(
    name: &str,
    title: String,
    shares: &[CostShare],
    series: &[ShareSeries],
    data: &Dataset,
) -> ShareView {
    let mut nations: Vec<NationCode> = Vec::new();
    for (_, values) in series {
        for (n, _) in values {
            if !nations.contains(n) {
                nations.push(*n);
            }
        }
    }
    let rows = nations
        .iter()
        .map(|n| {
            let cells = series
                .iter()
                .map(|(_, values)| {
                    values
                        .iter()
                        .find(|(m, _)| m == n)
                        .map(|(_, f)| format!("{:.2}%", f * 100.0))
                        .unwrap_or_default()
                })
                .collect();
            (n.as_str().to_owned(), cells)
        })
        .collect();
    let fairness = shares
        .iter()
        .map(|s| {
            format!(
                "{}: HHI {:.4} (equal split {:.4}), Gini {:.4}, proportionality gap {:.2}% of the total, against {}",
                rule_text(s.rule, s.basis.as_ref().map(|b| b.name.as_str())),
                s.fairness.hhi,
                1.0 / s.allocation.shares.len().max(1) as f64,
                s.fairness.gini,
                s.fairness.proportionality_gap * 100.0,
                if s.against_basis { "the basis" } else { "equal shares" }
            )
        })
        .collect();
    let mut sources: Vec<String> = Vec::new();
    let mut context = Vec::new();
    for s in shares {
        if let Some(b) = &s.basis {
            sources.extend(source_ids(&b.source));
            context.push(format!(
                "basis {} ({}, {}{})",
                b.name,
                b.kind,
                b.unit,
                b.year.map(|y| format!(", {y}")).unwrap_or_default()
            ));
        }
        context.extend(s.context.iter().cloned());
        if !s.planned.is_empty() {
            context.push(format!("phase cost {}", s.total));
        }
    }
    context.dedup();
    if let Some(rest) = name.strip_prefix("programme-") {
        if let Some(p) = data
            .ledger
            .programmes()
            .iter()
            .find(|p| rest.starts_with(&format!("{}-", p.id)))
        {
            sources.extend(source_ids(&p.source));
        }
    }
    sources.dedup();
    ShareView {
        alt: format!(
            "Bar chart of each nation's share of the total: {}. The values are in the table beside it.",
            series
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        chart: chart_link(&format!("shares-{name}")),
        title,
        context: context.join("; "),
        columns: series.iter().map(|(s, _)| s.clone()).collect(),
        rows,
        fairness,
        sources,
    }
}

fn chart_link(name: &str) -> String {
    format!("{BASE}/burden/charts/{}.svg", encode(name))
}

fn money(v: Option<f64>) -> String {
    v.map(|v| format!("{}", (v * 1000.0).round() / 1000.0))
        .unwrap_or_else(|| "—".into())
}

fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn programme_view(p: &entente_burden::ledger::Programme) -> ProgrammeView {
    ProgrammeView {
        id: p.id.clone(),
        name: p.name.clone(),
        kind: p.kind.clone(),
        launched: p.launched.clone().unwrap_or_default(),
        currency: p.currency.clone().unwrap_or_else(|| "amounts".into()),
        note: p.note.clone().unwrap_or_default(),
        sources: source_ids(&p.source),
        participants: p
            .participants
            .iter()
            .map(|x| ParticipantRow {
                nation: x.nation.as_str().to_owned(),
                role: x.role.as_str(),
                from: x.from.to_string(),
                until: x.until.map(|u| u.to_string()).unwrap_or_default(),
                sources: source_ids(&x.source),
            })
            .collect(),
        phases: p
            .phases
            .iter()
            .map(|ph| {
                let current = ph.current(None);
                PhaseView {
                    id: ph.id.clone(),
                    name: ph.name.clone().unwrap_or_default(),
                    cost: money(ph.cost),
                    note: ph.note.clone().unwrap_or_default(),
                    sources: source_ids(&ph.source),
                    contributions: ph
                        .contributions
                        .iter()
                        .map(|c| {
                            let amount = ph.planned_amount(c);
                            ContributionRow {
                                nation: c.nation.as_str().to_owned(),
                                as_of: c.as_of.to_string(),
                                planned: money(amount),
                                share: percent(amount.zip(ph.cost).map(|(a, t)| a / t)),
                                actual: money(c.actual),
                                in_force: current
                                    .get(&c.nation)
                                    .is_some_and(|x| x.as_of == c.as_of),
                                sources: source_ids(&c.source),
                            }
                        })
                        .collect(),
                    work_share: ph
                        .work_share
                        .iter()
                        .map(|w| (w.nation.as_str().to_owned(), percent(Some(w.share))))
                        .collect(),
                    external: ph
                        .external
                        .iter()
                        .map(|e| (e.funder.clone(), money(Some(e.amount))))
                        .collect(),
                }
            })
            .collect(),
        balance: p
            .balance(None)
            .iter()
            .filter(|_| p.phases.iter().any(|ph| !ph.contributions.is_empty()))
            .map(|b| BalanceRow {
                nation: b.nation.as_str().to_owned(),
                planned: money(Some(b.planned)),
                cost_share: percent(b.cost_share),
                actual: money(b.actual),
                work_share: percent(b.work_share),
                return_ratio: b
                    .return_ratio
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or_else(|| "—".into()),
            })
            .collect(),
    }
}

/// `GET /console/burden`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let frame = Frame::new(&console, &signed_in, "Burden sharing", "burden");
    let data = match load(&console).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "burden-sharing dataset not loaded");
            return Ok(render(StatusCode::OK, &Page::failed(frame, e)));
        }
    };
    let years: Vec<i32> = data.expenditure.years().into_iter().rev().collect();
    let year = params
        .year
        .filter(|y| years.contains(y))
        .or_else(|| default_year(&data))
        .unwrap_or_default();
    let assessable: Vec<&entente_burden::Guideline> =
        data.guidelines.iter().filter(|g| g.assessable()).collect();
    let assessment = entente_burden::assess(&data.expenditure, &data.guidelines, year, None).ok();
    let counts = |id: &str| {
        assessment.as_ref().and_then(|a| {
            a.counts
                .iter()
                .find(|(g, _)| g == id)
                .map(|(_, n)| format!("{n} of {}", a.standings.len()))
        })
    };
    let guidelines = data
        .guidelines
        .iter()
        .map(|g| GuidelineRow {
            name: g.name.clone(),
            threshold: format!("{}%", g.threshold_pct),
            adopted: g.adopted.to_string(),
            target_year: g.target_year.map(|y| y.to_string()).unwrap_or_default(),
            assessed: g.assessable(),
            meeting: counts(&g.id).unwrap_or_else(|| "not assessed".into()),
            note: g.note.clone().unwrap_or_default(),
            sources: source_ids(&g.source),
        })
        .collect();
    let mut standings: Vec<StandingRow> = assessment
        .as_ref()
        .map(|a| {
            let mut rows: Vec<_> = a.standings.iter().collect();
            rows.sort_by(|x, y| {
                y.pct_gdp
                    .total_cmp(&x.pct_gdp)
                    .then(x.nation.cmp(&y.nation))
            });
            rows.into_iter()
                .map(|s| StandingRow {
                    nation: s.nation.as_str().to_owned(),
                    pct: pct(s.pct_gdp),
                    estimate: s.estimate,
                    checks: s.checks.iter().map(|c| (c.met, pct(c.gap_pp))).collect(),
                    edition: s.edition.clone(),
                    sources: source_ids(&s.source),
                })
                .collect()
        })
        .unwrap_or_default();
    standings.shrink_to_fit();
    let trend_years: Vec<i32> = data.expenditure.years().into_iter().collect();
    let trends = data
        .expenditure
        .nations()
        .into_iter()
        .filter_map(|n| entente_burden::trend(&data.expenditure, n).ok())
        .map(|t| TrendRow {
            nation: t.nation.as_str().to_owned(),
            first: t
                .points
                .first()
                .map(|p| format!("{} ({})", pct(p.pct_gdp), p.year))
                .unwrap_or_default(),
            last: t
                .points
                .last()
                .map(|p| format!("{} ({})", pct(p.pct_gdp), p.year))
                .unwrap_or_default(),
            change: format!("{:+.2}", t.change_pp),
            slope: format!("{:+.3}", t.slope_pp_per_year),
            mixed: t.mixed_editions,
            values: trend_years
                .iter()
                .map(|y| {
                    t.points
                        .iter()
                        .find(|p| p.year == *y)
                        .map(|p| pct(p.pct_gdp))
                        .unwrap_or_default()
                })
                .collect(),
        })
        .collect();
    let cf = &data.common_funding;
    let budgets = cf
        .budgets
        .iter()
        .map(|b| {
            vec![
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
                b.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let known_shares = cf
        .shares
        .iter()
        .map(|s| {
            vec![
                s.period.clone(),
                s.nation.as_str().to_owned(),
                format!("{:.2}%", s.pct),
                s.source.clone(),
                s.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let edf = data
        .edf
        .strands
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                format!("{}", s.amount),
                s.source.clone(),
                s.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let shares = share_cases(&data)
        .into_iter()
        .map(|(name, title, shares, series)| share_view(&name, title, &shares, &series, &data))
        .collect();
    let page = Page {
        frame,
        failure: None,
        charts: chart_font().err(),
        year,
        years,
        guideline_chart: chart_link(&format!("guideline-{year}")),
        guideline_columns: assessable
            .iter()
            .map(|g| format!("{}%", g.threshold_pct))
            .collect(),
        guidelines,
        standings,
        trend_years,
        trends,
        programmes: data
            .ledger
            .programmes()
            .iter()
            .map(programme_view)
            .collect(),
        funding_formula: cf.formula.clone(),
        funding_sources: source_ids(&cf.formula_source),
        budgets,
        known_shares,
        edf_title: format!(
            "{} {}: {} {} (source {})",
            data.edf.name, data.edf.period, data.edf.total, data.edf.currency, data.edf.source
        ),
        edf,
        shares,
        sources: data
            .sources
            .iter()
            .map(|s| SourceRow {
                id: s.id.clone(),
                title: s.title.clone(),
                reference: s.reference.clone(),
                edition: s.edition.clone().unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

impl Page {
    fn failed(frame: Frame, failure: String) -> Page {
        Page {
            frame,
            failure: Some(failure),
            charts: None,
            year: 0,
            years: Vec::new(),
            guideline_chart: String::new(),
            guideline_columns: Vec::new(),
            guidelines: Vec::new(),
            standings: Vec::new(),
            trend_years: Vec::new(),
            trends: Vec::new(),
            programmes: Vec::new(),
            funding_formula: String::new(),
            funding_sources: Vec::new(),
            budgets: Vec::new(),
            known_shares: Vec::new(),
            edf: Vec::new(),
            edf_title: String::new(),
            shares: Vec::new(),
            sources: Vec::new(),
        }
    }
}

/// The SVG of a chart the page shows, by name: `guideline-<year>`, `trend`, or
/// `shares-<case>` (see [`share_cases`]).
pub fn chart_svg(data: &Dataset, name: &str) -> Option<Result<Vec<u8>, entente_burden::Error>> {
    if name == "trend" {
        let trends: Vec<_> = data
            .expenditure
            .nations()
            .into_iter()
            .filter_map(|n| entente_burden::trend(&data.expenditure, n).ok())
            .collect();
        return Some(chart::trend_chart(&trends, &data.guidelines, Format::Svg));
    }
    if let Some(year) = name.strip_prefix("guideline-") {
        let year: i32 = year.parse().ok()?;
        let a = entente_burden::assess(&data.expenditure, &data.guidelines, year, None).ok()?;
        return Some(chart::guideline_chart(&a, &data.guidelines, Format::Svg));
    }
    let case = name.strip_prefix("shares-")?;
    let (_, title, _, series) = share_cases(data).into_iter().find(|(n, ..)| n == case)?;
    Some(chart::share_chart(&title, &series, Format::Svg))
}

/// `GET /console/burden/charts/{name}.svg`.
pub async fn chart(
    State(console): State<Arc<Console>>,
    _signed_in: SignedIn,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let name = file
        .strip_suffix(".svg")
        .ok_or_else(PageError::not_found)?
        .to_owned();
    if let Err(why) = chart_font() {
        return Err(PageError::new(StatusCode::SERVICE_UNAVAILABLE, why));
    }
    let data = load(&console).await.map_err(PageError::internal)?;
    let svg = tokio::task::spawn_blocking(move || chart_svg(&data, &name))
        .await
        .map_err(PageError::internal)?
        .ok_or_else(PageError::not_found)?
        .map_err(PageError::internal)?;
    let mut response = svg.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Dataset {
        entente_burden::load(&entente_node::shipped_data().join("burden")).unwrap()
    }

    #[test]
    fn source_fields_split_into_ids() {
        assert_eq!(source_ids("B1; B3;"), vec!["B1", "B3"]);
        assert!(source_ids("").is_empty());
    }

    #[test]
    fn the_default_year_is_the_latest_with_values_for_most_allies() {
        let data = shipped();
        let year = default_year(&data).unwrap();
        let count = |y: i32| data.expenditure.year_values(y, None).unwrap().len();
        let most = data
            .expenditure
            .years()
            .into_iter()
            .map(count)
            .max()
            .unwrap();
        assert!(count(year) * 2 >= most);
        assert!(data
            .expenditure
            .years()
            .into_iter()
            .filter(|y| *y > year)
            .all(|y| count(y) * 2 < most));
    }

    #[test]
    fn every_share_case_has_a_chart_and_fractions_that_add_up() {
        let data = shipped();
        let cases = share_cases(&data);
        assert_eq!(
            cases.iter().any(|(n, ..)| n.starts_with("basis-")),
            !data.bases.is_empty()
        );
        assert!(cases.iter().any(|(n, ..)| n.starts_with("programme-")));
        for (name, _, shares, series) in &cases {
            for s in shares {
                let sum: f64 = s.allocation.shares.iter().map(|x| x.fraction).sum();
                assert!((sum - 1.0).abs() < 1e-9, "{name}: {sum}");
            }
            assert!(!series.is_empty(), "{name}");
        }
        if chart_font().is_ok() {
            for (name, ..) in &cases {
                let svg = chart_svg(&data, &format!("shares-{name}"))
                    .unwrap()
                    .unwrap();
                assert!(String::from_utf8(svg).unwrap().contains("<svg"), "{name}");
            }
            assert!(chart_svg(&data, "trend").unwrap().is_ok());
        }
        assert!(chart_svg(&data, "guideline-abc").is_none());
        assert!(chart_svg(&data, "shares-nothing").is_none());
        assert!(chart_svg(&data, "../etc/passwd").is_none());
    }
}
