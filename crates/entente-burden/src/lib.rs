//! Burden sharing: who pays what for allied defence, and how a joint cost could be shared fairly.
//!
//! The crate reads a sourced dataset (`data/burden`, see its README) through [`load`]: NATO defence
//! expenditure as a share of GDP kept per NATO edition and price base, the spending guidelines (Wales
//! 2%, The Hague 3.5% + 1.5%), what is known of NATO common funding and its cost-share formula, the
//! European Defence Fund envelope, bases for cost shares (e.g. GNI), and a ledger of joint programmes.
//!
//! On top of it:
//! - [`assess`] says who meets which guideline in a year, [`trend`] how an ally's share moves, and
//!   [`what_if`] what changes if some allies reach a given share;
//! - [`Ledger`] holds programmes with participants over time, planned and actual contributions and
//!   work share, validated with errors that name file, line and field;
//! - [`allocate`] shares a cost under several rules (proportional with caps and floors as NATO caps its
//!   largest contributor, equal shares, the Shapley value of a cost game) and measures fairness;
//! - [`cost_share`] resolves a request (basis, weights, programme phase, cost game read by
//!   [`game_file`]) into an allocation with its fairness indicators;
//! - [`chart`] draws spending against the guidelines and trends as SVG or PNG bytes, with the font
//!   and format [`chart_files`] finds.
//!
//! The crate does no IO beyond reading the files it is pointed at, and never reads the clock: a year or
//! a day is always a parameter. Every figure it returns carries the edition or source it comes from.

pub mod allocate;
pub mod chart;
pub mod chart_files;
pub mod cost_share;
mod data;
mod error;
pub mod expenditure;
pub mod game_file;
mod input;
pub mod ledger;
pub mod report;

use entente_types::NationCode;

pub use crate::data::load;
pub use crate::error::{Error, ErrorKind, Location, Problem};
pub use crate::expenditure::{
    assess, assess_with, trend, trend_in, what_if, Assessment, Check, Edition, Expenditure,
    Guideline, Metric, NotAssessed, Point, Standing, Trend, WhatIf,
};
pub use crate::input::{end_of, start_of, WEAK_TIER};
pub use crate::ledger::Ledger;

/// A bibliographic source, referred to by id from every figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub reference: String,
    pub edition: Option<String>,
    /// Where the document can be read, when it is published online.
    pub url: Option<String>,
    /// 1 primary (NATO, EUR-Lex and the Official Journal, official statistics), 2 reputable
    /// secondary, 3 weak (wikis, blogs, aggregators): never a figure's only support.
    pub tier: u8,
    /// What the source does and does not show (e.g. a copy of a primary document that was not found).
    pub note: Option<String>,
}

/// One year's NATO common-funded envelopes.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetYear {
    pub year: i32,
    pub civil: f64,
    pub military: f64,
    pub nsip: f64,
    /// The NSIP figure is a ceiling, not an appropriation.
    pub nsip_ceiling: bool,
    pub currency: String,
    pub source: String,
    pub note: Option<String>,
}

impl BudgetYear {
    pub fn total(&self) -> f64 {
        self.civil + self.military + self.nsip
    }
}

/// A published cost share of one ally in a cost-share period.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownShare {
    pub period: String,
    pub nation: NationCode,
    pub pct: f64,
    pub source: String,
    pub note: Option<String>,
}

/// What is known of NATO common funding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommonFunding {
    /// The basis of the cost-share formula (`gni`).
    pub basis: String,
    pub formula: String,
    pub formula_source: String,
    pub budgets: Vec<BudgetYear>,
    pub shares: Vec<KnownShare>,
}

/// A strand of the European Defence Fund.
#[derive(Debug, Clone, PartialEq)]
pub struct Strand {
    pub name: String,
    pub amount: f64,
    pub source: String,
    pub note: Option<String>,
}

/// The European Defence Fund envelope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edf {
    pub name: String,
    pub period: String,
    pub currency: String,
    pub total: f64,
    pub source: String,
    pub strands: Vec<Strand>,
}

/// Weights for a proportional cost share (GNI, GDP…), by nation.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    pub name: String,
    /// `gni`, `gdp` or another measure.
    pub kind: String,
    pub year: Option<i32>,
    pub unit: String,
    pub source: String,
    pub values: Vec<(NationCode, f64)>,
}

/// The loaded, validated dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub sources: Vec<Source>,
    pub expenditure: Expenditure,
    pub guidelines: Vec<Guideline>,
    pub common_funding: CommonFunding,
    pub edf: Edf,
    pub bases: Vec<Basis>,
    pub ledger: Ledger,
}

impl Dataset {
    /// The trend of each of `nations`, or of every ally with figures when none is named.
    pub fn trends(&self, nations: &[NationCode]) -> Result<Vec<Trend>, Error> {
        self.trends_in(nations, None)
    }

    /// Like [`Dataset::trends`], from one edition only (`None`: the latest holding each year). With
    /// no nation named, the allies that edition holds.
    pub fn trends_in(
        &self,
        nations: &[NationCode],
        edition: Option<&str>,
    ) -> Result<Vec<Trend>, Error> {
        let all: Vec<NationCode>;
        let nations = if nations.is_empty() {
            all = self
                .expenditure
                .points()
                .iter()
                .filter(|p| edition.is_none_or(|e| p.edition == e))
                .map(|p| p.nation)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            &all
        } else {
            nations
        };
        nations
            .iter()
            .map(|&c| trend_in(&self.expenditure, c, edition))
            .collect()
    }

    /// Every figure that no primary (tier 1) source supports: `(what, sources)`.
    pub fn unconfirmed(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |what: String, sources: &str| {
            if !self.confirmed(sources) {
                out.push((what, sources.to_owned()));
            }
        };
        for p in self.expenditure.points() {
            add(
                format!(
                    "expenditure {} {} {} = {}",
                    p.edition, p.nation, p.year, p.pct_gdp
                ),
                &p.source,
            );
        }
        for e in self.expenditure.editions() {
            add(
                format!("edition {} price base: {}", e.id, e.price_base),
                &e.source,
            );
        }
        for g in &self.guidelines {
            add(
                format!("guideline {} ({}%)", g.id, g.threshold_pct),
                &g.source,
            );
        }
        let cf = &self.common_funding;
        add(
            format!("common-funding formula: {}", cf.formula),
            &cf.formula_source,
        );
        for b in &cf.budgets {
            add(format!("common-funding budget {}", b.year), &b.source);
        }
        for s in &cf.shares {
            add(
                format!("cost share {} {} = {}%", s.period, s.nation, s.pct),
                &s.source,
            );
        }
        add(format!("EDF total {}", self.edf.total), &self.edf.source);
        for s in &self.edf.strands {
            add(format!("EDF {} = {}", s.name, s.amount), &s.source);
        }
        for b in &self.bases {
            add(
                format!("basis {} ({} values)", b.name, b.values.len()),
                &b.source,
            );
        }
        for p in self.ledger.programmes() {
            add(format!("programme {}", p.id), &p.source);
        }
        out
    }

    /// The shipped ledger with the programmes of `files` added (their sources may be the
    /// dataset's or their own).
    pub fn ledger_with(&self, files: &[std::path::PathBuf]) -> Result<Ledger, Error> {
        let mut ledger = self.ledger.clone();
        for file in files {
            let text = std::fs::read_to_string(file).map_err(|source| {
                let path = file.clone();
                Error::new(error::ErrorKind::Io { path, source })
            })?;
            let extra = Ledger::parse(&text, Some(file), &|id| self.source_tier(id))?;
            ledger.merge(extra, Some(file))?;
        }
        Ok(ledger)
    }

    /// Whether a source id is defined.
    pub fn has_source(&self, id: &str) -> bool {
        self.sources.iter().any(|s| s.id == id)
    }

    /// The tier of a defined source.
    pub fn source_tier(&self, id: &str) -> Option<u8> {
        self.sources.iter().find(|s| s.id == id).map(|s| s.tier)
    }

    /// Whether a `;`-separated source list holds a primary (tier 1) source.
    pub fn confirmed(&self, sources: &str) -> bool {
        sources
            .split(';')
            .any(|id| self.source_tier(id.trim()) == Some(1))
    }

    /// A basis by name.
    pub fn basis(&self, name: &str) -> Result<&Basis, Error> {
        self.bases.iter().find(|b| b.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.bases.iter().map(|b| b.name.as_str()).collect();
            Error::not_found("basis", name, Some(format!("known: {}", known.join(", "))))
        })
    }

    /// A guideline by id.
    pub fn guideline(&self, id: &str) -> Result<&Guideline, Error> {
        self.guidelines.iter().find(|g| g.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.guidelines.iter().map(|g| g.id.as_str()).collect();
            Error::not_found(
                "guideline",
                id,
                Some(format!("known: {}", known.join(", "))),
            )
        })
    }
}

#[cfg(test)]
mod tests;
