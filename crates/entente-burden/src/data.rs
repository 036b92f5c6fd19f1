//! Reading the dataset directory (`data/burden`): raw TOML shapes, checked into the model types.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use entente_types::NationCode;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, ErrorKind, Problem};
use crate::expenditure::{Component, Edition, Expenditure, Guideline, Metric, Point};
use crate::input::Ctx;
use crate::ledger::Ledger;
use crate::{Basis, BudgetYear, CommonFunding, Dataset, Edf, KnownShare, Source, Strand};

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| {
        Error::new(ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// The `*.toml` files of a sub-directory, sorted, or none if it does not exist.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let io = |source| {
        Error::new(ErrorKind::Io {
            path: dir.to_path_buf(),
            source,
        })
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    source: Vec<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    title: String,
    reference: String,
    edition: Option<String>,
    url: Option<String>,
    tier: Option<Spanned<i64>>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpenditure {
    edition: Vec<Spanned<RawEdition>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdition {
    id: String,
    title: String,
    published: Spanned<String>,
    price_base: String,
    estimates_from: i32,
    source: Spanned<String>,
    note: Option<String>,
    /// Whether the edition publishes defence- and security-related spending per ally.
    #[serde(default)]
    related: bool,
    points: Vec<Spanned<RawPoint>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    nation: NationCode,
    year: i32,
    pct_gdp: f64,
    related_pct_gdp: Option<f64>,
    source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuidelines {
    guideline: Vec<Spanned<RawGuideline>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuideline {
    id: String,
    name: String,
    adopted: Spanned<String>,
    metric: Spanned<String>,
    threshold_pct: f64,
    target_year: Option<i32>,
    #[serde(default)]
    components: Vec<RawComponent>,
    source: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: String,
    pct: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommonFunding {
    formula: RawFormula,
    #[serde(default)]
    budget: Vec<Spanned<RawBudget>>,
    #[serde(default)]
    share: Vec<Spanned<RawShare>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormula {
    basis: String,
    description: String,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    year: i32,
    civil: f64,
    military: f64,
    nsip: f64,
    #[serde(default)]
    nsip_ceiling: bool,
    currency: String,
    source: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShare {
    period: String,
    nation: NationCode,
    pct: f64,
    source: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdf {
    fund: RawFund,
    #[serde(default)]
    strand: Vec<Spanned<RawStrand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFund {
    name: String,
    period: String,
    currency: String,
    total: f64,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrand {
    name: String,
    amount: f64,
    source: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasis {
    name: String,
    kind: String,
    year: Option<i32>,
    unit: String,
    source: Spanned<String>,
    values: Vec<Spanned<RawBasisValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasisValue {
    nation: NationCode,
    value: f64,
}

/// Loads and validates the whole dataset directory. All problems in all files are reported together.
pub fn load(dir: &Path) -> Result<Dataset, Error> {
    let mut problems: Vec<Problem> = Vec::new();

    let path = dir.join("sources.toml");
    let text = read(&path)?;
    let mut ctx = Ctx::new(Some(&path), &text);
    let mut sources = Vec::new();
    if let Some(raw) = ctx.parse::<RawSources>() {
        let mut ids = BTreeSet::new();
        for s in raw.source {
            let span = s.span();
            let s = s.into_inner();
            if !ids.insert(s.id.clone()) {
                ctx.report(
                    span.clone(),
                    "source.id",
                    format!("source id {:?} is defined twice", s.id),
                );
            }
            let Some(tier) = source_tier(&mut ctx, span, &s.id, s.tier.as_ref()) else {
                continue;
            };
            sources.push(Source {
                id: s.id,
                title: s.title,
                reference: s.reference,
                edition: s.edition,
                url: s.url,
                tier,
                note: s.note,
            });
        }
    }
    problems.append(&mut ctx.problems);
    let tiers: std::collections::BTreeMap<String, u8> =
        sources.iter().map(|s| (s.id.clone(), s.tier)).collect();
    let known = |id: &str| tiers.get(id).copied();

    let expenditure = load_expenditure(&dir.join("expenditure.toml"), &known, &mut problems)?;
    let guidelines = load_guidelines(&dir.join("guidelines.toml"), &known, &mut problems)?;
    let common_funding =
        load_common_funding(&dir.join("common-funding.toml"), &known, &mut problems)?;
    let edf = load_edf(&dir.join("edf.toml"), &known, &mut problems)?;

    let mut bases = Vec::new();
    for path in toml_files(&dir.join("bases"))? {
        let text = read(&path)?;
        match Basis::parse(&text, Some(&path), &known) {
            Ok(b) => {
                if bases.iter().any(|x: &Basis| x.name == b.name) {
                    problems.push(Problem {
                        location: crate::error::Location {
                            file: Some(path.clone()),
                            field: Some("name".to_owned()),
                            line: None,
                        },
                        message: format!("basis {:?} is defined twice", b.name),
                    });
                }
                bases.push(b);
            }
            Err(e) => problems.extend(e.problems().iter().cloned()),
        }
    }

    let mut ledger = Ledger::default();
    for path in toml_files(&dir.join("programmes"))? {
        let text = read(&path)?;
        match Ledger::parse(&text, Some(&path), &known) {
            Ok(l) => {
                if let Err(e) = ledger.merge(l, Some(&path)) {
                    problems.extend(e.problems().iter().cloned());
                }
            }
            Err(e) => problems.extend(e.problems().iter().cloned()),
        }
    }

    if !problems.is_empty() {
        return Err(Error::invalid(problems));
    }
    Ok(Dataset {
        sources,
        expenditure,
        guidelines,
        common_funding,
        edf,
        bases,
        ledger,
    })
}

/// A source's tier (1 primary, 2 reputable secondary, 3 weak), or a problem when it is missing or
/// out of range.
pub(crate) fn source_tier(
    ctx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    id: &str,
    tier: Option<&Spanned<i64>>,
) -> Option<u8> {
    match tier {
        None => {
            ctx.report(
                span,
                "source.tier",
                format!("source {id:?} has no tier (1 primary, 2 reputable secondary, 3 weak)"),
            );
            None
        }
        Some(t) => match u8::try_from(*t.get_ref()) {
            Ok(v @ 1..=3) => Some(v),
            _ => {
                ctx.report(
                    t.span(),
                    "source.tier",
                    format!(
                        "source {id:?}: tier must be 1, 2 or 3, found {}",
                        t.get_ref()
                    ),
                );
                None
            }
        },
    }
}

fn load_expenditure(
    path: &Path,
    known: &dyn Fn(&str) -> Option<u8>,
    problems: &mut Vec<Problem>,
) -> Result<Expenditure, Error> {
    let text = read(path)?;
    let mut ctx = Ctx::new(Some(path), &text);
    let mut editions = Vec::new();
    let mut points = Vec::new();
    if let Some(raw) = ctx.parse::<RawExpenditure>() {
        for e in raw.edition {
            let span = e.span();
            let e = e.into_inner();
            if editions.iter().any(|x: &Edition| x.id == e.id) {
                ctx.report(
                    span.clone(),
                    "edition.id",
                    format!("edition {:?} is defined twice", e.id),
                );
            }
            let p = e.published.get_ref();
            let shape = p.len() == 7 && p.as_bytes()[4] == b'-';
            if !shape || crate::input::start_of(p).is_err() {
                ctx.report(
                    e.published.span(),
                    "edition.published",
                    format!("expected YYYY-MM, found {p:?}"),
                );
            }
            ctx.sources(e.source.span(), "edition.source", e.source.get_ref(), known);
            let mut seen = BTreeSet::new();
            for sp in e.points {
                let pspan = sp.span();
                let rp = sp.into_inner();
                if !seen.insert((rp.nation, rp.year)) {
                    ctx.report(
                        pspan.clone(),
                        "points",
                        format!(
                            "{} {} appears twice in edition {:?}",
                            rp.nation, rp.year, e.id
                        ),
                    );
                }
                if !(rp.pct_gdp.is_finite() && (0.0..=100.0).contains(&rp.pct_gdp)) {
                    ctx.report(
                        pspan.clone(),
                        "points.pct_gdp",
                        format!(
                            "expected a share of GDP between 0 and 100, found {}",
                            rp.pct_gdp
                        ),
                    );
                }
                if !(1949..=2100).contains(&rp.year) {
                    ctx.report(
                        pspan.clone(),
                        "points.year",
                        format!("implausible year {}", rp.year),
                    );
                }
                if rp.related_pct_gdp.is_some() && !e.related {
                    ctx.report(
                        pspan.clone(),
                        "points.related_pct_gdp",
                        format!(
                            "edition {:?} does not publish related spending (related = false)",
                            e.id
                        ),
                    );
                }
                if let Some(r) = rp.related_pct_gdp {
                    if !(r.is_finite() && (0.0..=100.0).contains(&r)) {
                        ctx.report(
                            pspan.clone(),
                            "points.related_pct_gdp",
                            format!("expected a share of GDP between 0 and 100, found {r}"),
                        );
                    }
                }
                let source = match rp.source {
                    Some(s) => {
                        ctx.sources(s.span(), "points.source", s.get_ref(), known);
                        s.into_inner()
                    }
                    None => e.source.get_ref().clone(),
                };
                points.push(Point {
                    nation: rp.nation,
                    year: rp.year,
                    pct_gdp: rp.pct_gdp,
                    related_pct_gdp: rp.related_pct_gdp,
                    edition: e.id.clone(),
                    source,
                });
            }
            editions.push(Edition {
                id: e.id,
                title: e.title,
                published: e.published.into_inner(),
                price_base: e.price_base,
                estimates_from: e.estimates_from,
                source: e.source.into_inner(),
                note: e.note,
                related: e.related,
            });
        }
    }
    problems.append(&mut ctx.problems);
    Ok(Expenditure::new(editions, points))
}

fn load_guidelines(
    path: &Path,
    known: &dyn Fn(&str) -> Option<u8>,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Guideline>, Error> {
    let text = read(path)?;
    let mut ctx = Ctx::new(Some(path), &text);
    let mut out = Vec::new();
    if let Some(raw) = ctx.parse::<RawGuidelines>() {
        for g in raw.guideline {
            let span = g.span();
            let g = g.into_inner();
            ctx.sources(
                g.source.span(),
                "guideline.source",
                g.source.get_ref(),
                known,
            );
            let metric = match g.metric.get_ref().as_str() {
                "defence-pct-gdp" => Some(Metric::DefencePctGdp),
                "defence-and-related-pct-gdp" => Some(Metric::DefenceAndRelatedPctGdp),
                other => {
                    ctx.report(
                        g.metric.span(),
                        "guideline.metric",
                        format!("unknown metric {other:?} (expected defence-pct-gdp or defence-and-related-pct-gdp)"),
                    );
                    None
                }
            };
            let adopted = entente_types::parse_date(g.adopted.get_ref());
            if let Err(e) = &adopted {
                ctx.report(g.adopted.span(), "guideline.adopted", e.to_string());
            }
            if !(g.threshold_pct.is_finite() && g.threshold_pct > 0.0 && g.threshold_pct <= 100.0) {
                ctx.report(
                    span.clone(),
                    "guideline.threshold_pct",
                    format!("expected a share of GDP, found {}", g.threshold_pct),
                );
            }
            if !g.components.is_empty() {
                let sum: f64 = g.components.iter().map(|c| c.pct).sum();
                if (sum - g.threshold_pct).abs() > 1e-9 {
                    ctx.report(
                        span.clone(),
                        "guideline.components",
                        format!("components add up to {sum}, not {}", g.threshold_pct),
                    );
                }
            }
            if out.iter().any(|x: &Guideline| x.id == g.id) {
                ctx.report(
                    span.clone(),
                    "guideline.id",
                    format!("guideline {:?} is defined twice", g.id),
                );
            }
            if let (Some(metric), Ok(adopted)) = (metric, adopted) {
                out.push(Guideline {
                    id: g.id,
                    name: g.name,
                    adopted,
                    metric,
                    threshold_pct: g.threshold_pct,
                    target_year: g.target_year,
                    components: g
                        .components
                        .into_iter()
                        .map(|c| Component {
                            name: c.name,
                            pct: c.pct,
                        })
                        .collect(),
                    source: g.source.into_inner(),
                    note: g.note,
                });
            }
        }
    }
    problems.append(&mut ctx.problems);
    Ok(out)
}

fn load_common_funding(
    path: &Path,
    known: &dyn Fn(&str) -> Option<u8>,
    problems: &mut Vec<Problem>,
) -> Result<CommonFunding, Error> {
    let text = read(path)?;
    let mut ctx = Ctx::new(Some(path), &text);
    let mut out = CommonFunding::default();
    if let Some(raw) = ctx.parse::<RawCommonFunding>() {
        ctx.sources(
            raw.formula.source.span(),
            "formula.source",
            raw.formula.source.get_ref(),
            known,
        );
        out.basis = raw.formula.basis;
        out.formula = raw.formula.description;
        out.formula_source = raw.formula.source.into_inner();
        for b in raw.budget {
            let span = b.span();
            let b = b.into_inner();
            ctx.sources(b.source.span(), "budget.source", b.source.get_ref(), known);
            for (f, v) in [
                ("budget.civil", b.civil),
                ("budget.military", b.military),
                ("budget.nsip", b.nsip),
            ] {
                ctx.amount(span.clone(), f, v);
            }
            out.budgets.push(BudgetYear {
                year: b.year,
                civil: b.civil,
                military: b.military,
                nsip: b.nsip,
                nsip_ceiling: b.nsip_ceiling,
                currency: b.currency,
                source: b.source.into_inner(),
                note: b.note,
            });
        }
        for s in raw.share {
            let span = s.span();
            let s = s.into_inner();
            ctx.sources(s.source.span(), "share.source", s.source.get_ref(), known);
            if !(s.pct.is_finite() && (0.0..=100.0).contains(&s.pct)) {
                ctx.report(
                    span,
                    "share.pct",
                    format!("expected a percentage, found {}", s.pct),
                );
            }
            out.shares.push(KnownShare {
                period: s.period,
                nation: s.nation,
                pct: s.pct,
                source: s.source.into_inner(),
                note: s.note,
            });
        }
    }
    problems.append(&mut ctx.problems);
    Ok(out)
}

fn load_edf(
    path: &Path,
    known: &dyn Fn(&str) -> Option<u8>,
    problems: &mut Vec<Problem>,
) -> Result<Edf, Error> {
    let text = read(path)?;
    let mut ctx = Ctx::new(Some(path), &text);
    let mut out = Edf::default();
    if let Some(raw) = ctx.parse::<RawEdf>() {
        ctx.sources(
            raw.fund.source.span(),
            "fund.source",
            raw.fund.source.get_ref(),
            known,
        );
        out.name = raw.fund.name;
        out.period = raw.fund.period;
        out.currency = raw.fund.currency;
        out.total = raw.fund.total;
        out.source = raw.fund.source.into_inner();
        for s in raw.strand {
            let span = s.span();
            let s = s.into_inner();
            ctx.sources(s.source.span(), "strand.source", s.source.get_ref(), known);
            ctx.amount(span, "strand.amount", s.amount);
            out.strands.push(Strand {
                name: s.name,
                amount: s.amount,
                source: s.source.into_inner(),
                note: s.note,
            });
        }
        let sum: f64 = out.strands.iter().map(|s| s.amount).sum();
        // Strands are published rounded to EUR 0.1 billion, so allow that much difference.
        if !out.strands.is_empty() && (sum - out.total).abs() > 100.0 {
            ctx.report(
                0..0,
                "strand.amount",
                format!("strands add up to {sum}, far from the total {}", out.total),
            );
        }
    }
    problems.append(&mut ctx.problems);
    Ok(out)
}

impl Basis {
    /// Parses a basis file (`name`, `kind`, `unit`, `source`, `values = [{ nation, value }]`).
    pub fn parse(
        text: &str,
        file: Option<&Path>,
        known_source: &dyn Fn(&str) -> Option<u8>,
    ) -> Result<Basis, Error> {
        let mut ctx = Ctx::new(file, text);
        let mut out = None;
        if let Some(raw) = ctx.parse::<RawBasis>() {
            ctx.sources(
                raw.source.span(),
                "source",
                raw.source.get_ref(),
                known_source,
            );
            let mut values: Vec<(NationCode, f64)> = Vec::new();
            for v in raw.values {
                let span = v.span();
                let v = v.into_inner();
                if values.iter().any(|(n, _)| *n == v.nation) {
                    ctx.report(
                        span.clone(),
                        "values.nation",
                        format!("{} appears twice", v.nation),
                    );
                }
                if ctx.amount(span, "values.value", v.value) {
                    values.push((v.nation, v.value));
                }
            }
            if values.is_empty() {
                ctx.report(0..0, "values", "a basis needs at least one value");
            }
            out = Some(Basis {
                name: raw.name,
                kind: raw.kind,
                year: raw.year,
                unit: raw.unit,
                source: raw.source.into_inner(),
                values,
            });
        }
        match out {
            Some(b) if ctx.problems.is_empty() => Ok(b),
            _ => Err(Error::invalid(ctx.problems)),
        }
    }
}
