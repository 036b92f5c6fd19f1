//! Defence expenditure as a share of GDP, kept per NATO edition, and the queries over it: which value
//! holds for an ally and year, assessments against guidelines, trends and what-if scenarios.

use std::collections::{BTreeMap, BTreeSet};

use entente_types::{Date, NationCode};
use serde::Serialize;

use crate::error::Error;

/// One NATO release of the expenditure series. Values from different editions are not mixed silently:
/// every answer says which edition it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Edition {
    pub id: String,
    pub title: String,
    /// `YYYY-MM`, used to order editions (latest wins by default).
    pub published: String,
    pub price_base: String,
    /// Years at or after this are NATO estimates.
    pub estimates_from: i32,
    pub source: String,
    pub note: Option<String>,
    /// Whether the edition publishes defence- and security-related spending per ally (The Hague's
    /// 1.5%), so that the 5% commitment can be assessed against it.
    pub related: bool,
}

/// One published value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    #[serde(skip)]
    pub nation: NationCode,
    pub year: i32,
    pub pct_gdp: f64,
    /// Defence- and security-related spending, % of GDP, where the edition publishes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_pct_gdp: Option<f64>,
    pub edition: String,
    pub source: String,
}

/// What a guideline is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Defence expenditure as NATO defines it, % of GDP: the series held here.
    DefencePctGdp,
    /// Defence plus defence-related spending (The Hague 5%): no series here, so never assessed.
    DefenceAndRelatedPctGdp,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::DefencePctGdp => "defence-pct-gdp",
            Metric::DefenceAndRelatedPctGdp => "defence-and-related-pct-gdp",
        }
    }
}

/// A component of a composite guideline (The Hague: 3.5% core + 1.5% related).
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub pct: f64,
}

/// A spending guideline (Wales 2%, The Hague 3.5% and 5%).
#[derive(Debug, Clone, PartialEq)]
pub struct Guideline {
    pub id: String,
    pub name: String,
    pub adopted: Date,
    pub metric: Metric,
    pub threshold_pct: f64,
    pub target_year: Option<i32>,
    pub components: Vec<Component>,
    pub source: String,
    pub note: Option<String>,
}

impl Guideline {
    /// Whether every edition's defence expenditure series can tell if an ally meets it (the
    /// defence-and-related metric needs an edition that publishes related spending).
    pub fn assessable(&self) -> bool {
        self.metric == Metric::DefencePctGdp
    }

    /// The part of the threshold that related spending may count for (The Hague: up to 1.5%).
    fn related_cap(&self) -> f64 {
        self.components.get(1).map_or(self.threshold_pct, |c| c.pct)
    }

    /// The core part of the threshold (The Hague: at least 3.5%).
    fn core_floor(&self) -> f64 {
        self.components.first().map_or(0.0, |c| c.pct)
    }
}

/// The expenditure table: editions and their points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expenditure {
    pub(crate) editions: Vec<Edition>,
    pub(crate) points: Vec<Point>,
}

impl Expenditure {
    /// Builds a table; editions are kept ordered by publication, oldest first.
    pub fn new(mut editions: Vec<Edition>, points: Vec<Point>) -> Expenditure {
        editions.sort_by(|a, b| a.published.cmp(&b.published).then(a.id.cmp(&b.id)));
        Expenditure { editions, points }
    }

    pub fn editions(&self) -> &[Edition] {
        &self.editions
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    pub fn edition(&self, id: &str) -> Result<&Edition, Error> {
        self.editions.iter().find(|e| e.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.editions.iter().map(|e| e.id.as_str()).collect();
            Error::not_found("edition", id, Some(format!("known: {}", known.join(", "))))
        })
    }

    fn rank(&self, edition: &str) -> usize {
        self.editions
            .iter()
            .position(|e| e.id == edition)
            .unwrap_or(0)
    }

    /// The value for `nation` in `year`: from `edition` if given, else from the latest edition that
    /// has it.
    pub fn value(&self, nation: NationCode, year: i32, edition: Option<&str>) -> Option<&Point> {
        self.points
            .iter()
            .filter(|p| p.nation == nation && p.year == year)
            .filter(|p| edition.is_none_or(|e| p.edition == e))
            .max_by_key(|p| self.rank(&p.edition))
    }

    /// Whether a point is a NATO estimate in its edition.
    pub fn is_estimate(&self, point: &Point) -> bool {
        self.editions
            .iter()
            .find(|e| e.id == point.edition)
            .is_some_and(|e| point.year >= e.estimates_from)
    }

    /// Every year with at least one value.
    pub fn years(&self) -> BTreeSet<i32> {
        self.points.iter().map(|p| p.year).collect()
    }

    /// Every nation with at least one value.
    pub fn nations(&self) -> BTreeSet<NationCode> {
        self.points.iter().map(|p| p.nation).collect()
    }

    /// One value per nation for `year` (see [`Expenditure::value`]), ordered by nation code.
    pub fn year_values(&self, year: i32, edition: Option<&str>) -> Result<Vec<&Point>, Error> {
        if let Some(e) = edition {
            self.edition(e)?;
        }
        let rows: Vec<&Point> = self
            .nations()
            .into_iter()
            .filter_map(|n| self.value(n, year, edition))
            .collect();
        if rows.is_empty() {
            let years: Vec<String> = self.years().iter().map(i32::to_string).collect();
            return Err(Error::not_found(
                "year",
                year.to_string(),
                Some(format!("years with data: {}", years.join(", "))),
            ));
        }
        Ok(rows)
    }
}

/// One ally's standing in a year against each assessable guideline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    pub nation: NationCode,
    pub pct_gdp: f64,
    pub estimate: bool,
    pub edition: String,
    pub price_base: String,
    pub source: String,
    /// Whether this value was set by a what-if scenario rather than read from the data.
    pub assumed: bool,
    /// `(guideline id, met, gap in percentage points: threshold - value, <= 0 when met)`.
    pub checks: Vec<Check>,
}

/// One guideline check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub guideline: String,
    #[serde(skip)]
    pub threshold_pct: f64,
    pub met: bool,
    pub gap_pp: f64,
}

/// A guideline the assessment could not check, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotAssessed {
    pub guideline: String,
    pub reason: String,
}

/// Who meets which guideline in one year.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub year: i32,
    pub standings: Vec<Standing>,
    /// `(guideline id, number of allies meeting it)` for each assessed guideline.
    pub counts: Vec<(String, usize)>,
    /// The guidelines not assessed in this year and edition, with the reason.
    pub not_assessed: Vec<NotAssessed>,
}

/// Assesses every ally with a value in `year` against the assessable guidelines. Values are compared
/// as published (two decimals), so 2.00 meets 2%.
pub fn assess(
    exp: &Expenditure,
    guidelines: &[Guideline],
    year: i32,
    edition: Option<&str>,
) -> Result<Assessment, Error> {
    assess_with(exp, guidelines, year, edition, &[])
}

/// Like [`assess`], with some allies' values replaced (`what-if`).
pub fn assess_with(
    exp: &Expenditure,
    guidelines: &[Guideline],
    year: i32,
    edition: Option<&str>,
    overrides: &[(NationCode, f64)],
) -> Result<Assessment, Error> {
    for (nation, v) in overrides {
        if !v.is_finite() || *v < 0.0 || *v > 100.0 {
            return Err(Error::input(
                "what-if",
                format!("{nation}: expected a share of GDP between 0 and 100, found {v}"),
            ));
        }
    }
    let mut by_nation: BTreeMap<NationCode, Standing> = BTreeMap::new();
    let values = exp.year_values(year, edition)?;
    let mut related: BTreeMap<NationCode, f64> = BTreeMap::new();
    // Editions of the year's values that publish no related spending: the 5% cannot be assessed.
    let mut lacking: BTreeSet<String> = BTreeSet::new();
    for p in &values {
        match (exp.edition(&p.edition)?.related, p.related_pct_gdp) {
            (true, Some(r)) => {
                related.insert(p.nation, r);
            }
            (true, None) => {
                lacking.insert(format!("{} (no value for {})", p.edition, p.nation));
            }
            (false, _) => {
                lacking.insert(p.edition.clone());
            }
        }
    }
    let mut assessable: Vec<&Guideline> = Vec::new();
    let mut not_assessed = Vec::new();
    for g in guidelines {
        if g.assessable() || (lacking.is_empty() && overrides.is_empty()) {
            assessable.push(g);
        } else {
            let why = if lacking.is_empty() {
                "a what-if value sets defence expenditure only, not related spending".to_owned()
            } else {
                format!(
                    "not assessed: no per-ally series of defence- and security-related spending in {} (needed for the {}% beyond core defence)",
                    lacking.iter().cloned().collect::<Vec<_>>().join(", "),
                    g.related_cap()
                )
            };
            not_assessed.push(NotAssessed {
                guideline: g.id.clone(),
                reason: why,
            });
        }
    }
    for p in values {
        let ed = exp.edition(&p.edition)?;
        by_nation.insert(
            p.nation,
            Standing {
                nation: p.nation,
                pct_gdp: p.pct_gdp,
                edition: p.edition.clone(),
                price_base: ed.price_base.clone(),
                estimate: exp.is_estimate(p),
                source: p.source.clone(),
                assumed: false,
                checks: Vec::new(),
            },
        );
    }
    for (nation, v) in overrides {
        let entry = by_nation.entry(*nation).or_insert_with(|| Standing {
            nation: *nation,
            pct_gdp: *v,
            edition: String::new(),
            price_base: String::new(),
            estimate: false,
            source: String::new(),
            assumed: true,
            checks: Vec::new(),
        });
        entry.pct_gdp = *v;
        entry.assumed = true;
        entry.edition = "what-if".to_owned();
        entry.source = "assumption".to_owned();
    }
    let mut standings: Vec<Standing> = by_nation.into_values().collect();
    for s in &mut standings {
        s.checks = assessable
            .iter()
            .map(|g| {
                let value = match g.metric {
                    Metric::DefencePctGdp => s.pct_gdp,
                    Metric::DefenceAndRelatedPctGdp => {
                        let r = related.get(&s.nation).copied().unwrap_or(0.0);
                        s.pct_gdp + r.min(g.related_cap())
                    }
                };
                let mut gap = round2(g.threshold_pct - value);
                if g.metric == Metric::DefenceAndRelatedPctGdp {
                    gap = gap.max(round2(g.core_floor() - s.pct_gdp));
                }
                Check {
                    guideline: g.id.clone(),
                    threshold_pct: g.threshold_pct,
                    met: gap <= 0.0,
                    gap_pp: gap,
                }
            })
            .collect();
    }
    let counts = assessable
        .iter()
        .map(|g| {
            let n = standings
                .iter()
                .filter(|s| s.checks.iter().any(|c| c.guideline == g.id && c.met))
                .count();
            (g.id.clone(), n)
        })
        .collect();
    Ok(Assessment {
        year,
        standings,
        counts,
        not_assessed,
    })
}

/// Rounds to hundredths, the precision NATO publishes, so that float noise never flips a check.
pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The difference a what-if makes to an assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    pub before: Assessment,
    pub after: Assessment,
    /// `(nation, guideline id, met before, met after)` for every check that changed.
    pub changes: Vec<(NationCode, String, bool, bool)>,
}

/// Assesses `year` as published and with `overrides`, and lists what changes.
pub fn what_if(
    exp: &Expenditure,
    guidelines: &[Guideline],
    year: i32,
    edition: Option<&str>,
    overrides: &[(NationCode, f64)],
) -> Result<WhatIf, Error> {
    let before = assess(exp, guidelines, year, edition)?;
    let after = assess_with(exp, guidelines, year, edition, overrides)?;
    let mut changes = Vec::new();
    for s in &after.standings {
        let prior = before.standings.iter().find(|b| b.nation == s.nation);
        for c in &s.checks {
            let was = prior
                .and_then(|b| b.checks.iter().find(|x| x.guideline == c.guideline))
                .is_some_and(|x| x.met);
            if was != c.met {
                changes.push((s.nation, c.guideline.clone(), was, c.met));
            }
        }
    }
    Ok(WhatIf {
        before,
        after,
        changes,
    })
}

/// One ally's series over the years held, with its direction of travel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub nation: NationCode,
    /// Last value minus first, in percentage points.
    pub change_pp: f64,
    /// Least-squares slope in percentage points per year (0 with fewer than two points).
    pub slope_pp_per_year: f64,
    /// Whether the points come from more than one edition (and so more than one price base).
    pub mixed_editions: bool,
    /// One point per year (latest edition per year), oldest first.
    pub points: Vec<Point>,
}

/// The trend for one ally (the latest edition holding each year).
pub fn trend(exp: &Expenditure, nation: NationCode) -> Result<Trend, Error> {
    trend_in(exp, nation, None)
}

/// The trend for one ally in one edition (`None`: the latest edition holding each year).
pub fn trend_in(
    exp: &Expenditure,
    nation: NationCode,
    edition: Option<&str>,
) -> Result<Trend, Error> {
    if let Some(e) = edition {
        exp.edition(e)?;
    }
    let points: Vec<Point> = exp
        .years()
        .into_iter()
        .filter_map(|y| exp.value(nation, y, edition).cloned())
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Err(Error::not_found(
            "nation in the expenditure table",
            nation.to_string(),
            None,
        ));
    };
    let change_pp = round2(last.pct_gdp - first.pct_gdp);
    let slope_pp_per_year = slope(&points);
    let mixed_editions = points.iter().any(|p| p.edition != first.edition);
    Ok(Trend {
        nation,
        points,
        change_pp,
        slope_pp_per_year,
        mixed_editions,
    })
}

fn slope(points: &[Point]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| f64::from(p.year)).sum::<f64>() / n;
    let my = points.iter().map(|p| p.pct_gdp).sum::<f64>() / n;
    let sxy: f64 = points
        .iter()
        .map(|p| (f64::from(p.year) - mx) * (p.pct_gdp - my))
        .sum();
    let sxx: f64 = points
        .iter()
        .map(|p| (f64::from(p.year) - mx).powi(2))
        .sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}
