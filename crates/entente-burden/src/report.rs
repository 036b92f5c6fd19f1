//! What the burden queries show: each result as the JSON the command line prints (`Serialize`)
//! and as text (`ToReport`), so that every front end shows the same figures the same way.

use std::collections::BTreeSet;

use entente_types::report::{opt, Report, Table, ToReport};
use entente_types::{Date, NationCode};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::cost_share::CostShare;
use crate::ledger::Programme;
use crate::{Assessment, Dataset, Error, Trend, WhatIf};

fn pct(v: f64) -> String {
    format!("{v:.2}")
}

fn counts_json(counts: &[(String, usize)]) -> serde_json::Value {
    counts
        .iter()
        .map(|(g, n)| json!({"guideline": g, "allies_meeting": n}))
        .collect()
}

/// What a dataset (with extra ledgers) holds, once it has loaded and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub dir: String,
    pub ok: bool,
    pub sources: usize,
    pub expenditure_points: usize,
    pub editions: usize,
    pub guidelines: usize,
    pub bases: usize,
    pub programmes: usize,
    /// Every figure no primary (tier 1) source supports: `(what, sources)`.
    pub unconfirmed: Vec<(String, String)>,
}

impl Checked {
    /// The dataset loaded from `dir` with the programmes of `ledgers` added.
    pub fn run(
        data: &Dataset,
        dir: &std::path::Path,
        ledgers: &[std::path::PathBuf],
    ) -> Result<Checked, Error> {
        Ok(Checked {
            dir: dir.display().to_string(),
            ok: true,
            sources: data.sources.len(),
            expenditure_points: data.expenditure.points().len(),
            editions: data.expenditure.editions().len(),
            guidelines: data.guidelines.len(),
            bases: data.bases.len(),
            programmes: data.ledger_with(ledgers)?.programmes().len(),
            unconfirmed: data.unconfirmed(),
        })
    }
}

impl ToReport for Checked {
    fn report(&self) -> Report {
        let mut report = Report::default();
        report.text(format!(
            "{}: ok ({} sources, {} expenditure points in {} editions, {} guidelines, {} bases, {} programmes)",
            self.dir, self.sources, self.expenditure_points, self.editions, self.guidelines,
            self.bases, self.programmes,
        ));
        report.text(format!(
            "{} figures not confirmed by a primary (tier 1) source:",
            self.unconfirmed.len()
        ));
        for (what, sources) in &self.unconfirmed {
            report.text(format!("  {what} [{sources}]"));
        }
        report
    }
}

/// Who meets which guideline in a year, with the guidelines it was assessed against.
pub struct Standings<'a> {
    pub data: &'a Dataset,
    pub assessment: Assessment,
}

impl<'a> Standings<'a> {
    /// Who meets which guideline in `year` (one edition, or the latest holding each value).
    pub fn assess(data: &'a Dataset, year: i32, edition: Option<&str>) -> Result<Self, Error> {
        let assessment = crate::assess(&data.expenditure, &data.guidelines, year, edition)?;
        Ok(Standings { data, assessment })
    }

    /// The editions the values come from, each with its price base.
    fn editions(&self) -> Vec<serde_json::Value> {
        let ids: BTreeSet<&str> = self
            .assessment
            .standings
            .iter()
            .map(|s| s.edition.as_str())
            .collect();
        ids.into_iter()
            .filter_map(|id| self.data.expenditure.edition(id).ok())
            .map(|e| json!({"id": e.id, "title": e.title, "published": e.published, "price_base": e.price_base}))
            .collect()
    }
}

impl Serialize for Standings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (g, a) = (&self.data.guidelines, &self.assessment);
        json!({
            "year": a.year,
            "editions": self.editions(),
            "guidelines": g.iter().filter(|g| a.counts.iter().any(|(id, _)| *id == g.id)).map(|g| json!({
                "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct,
                "adopted": g.adopted.to_string(), "target_year": g.target_year, "source": g.source,
            })).collect::<Vec<_>>(),
            "not_assessed": a.not_assessed.iter().filter_map(|n| g.iter().find(|g| g.id == n.guideline).map(|g| json!({
                "id": g.id, "name": g.name, "threshold_pct": g.threshold_pct, "reason": n.reason, "note": g.note,
            }))).collect::<Vec<_>>(),
            "counts": counts_json(&a.counts),
            "allies": a.standings,
        })
        .serialize(s)
    }
}

impl ToReport for Standings<'_> {
    fn report(&self) -> Report {
        let (data, a) = (self.data, &self.assessment);
        let editions: BTreeSet<&str> = a.standings.iter().map(|s| s.edition.as_str()).collect();
        let counts: Vec<String> = a
            .counts
            .iter()
            .map(|(g, n)| format!("{g}: {n} of {}", a.standings.len()))
            .collect();
        let mut report = Report::default();
        report.text(format!(
            "Defence expenditure in {} (% of GDP; e = NATO estimate; editions: {})\nMeeting: {}",
            a.year,
            editions
                .into_iter()
                .map(|id| match data.expenditure.edition(id) {
                    Ok(e) => format!("{id}, {}", e.price_base),
                    Err(_) => id.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("; "),
            counts.join("; ")
        ));
        let mut header = vec!["nation".to_owned(), "% GDP".to_owned()];
        header.extend(
            data.guidelines
                .iter()
                .filter(|g| a.counts.iter().any(|(id, _)| *id == g.id))
                .map(|g| format!("{}%", g.threshold_pct)),
        );
        header.push("edition".to_owned());
        let mut table = Table::new(header);
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
        report.table(table);
        for n in &a.not_assessed {
            let name = data
                .guidelines
                .iter()
                .find(|g| g.id == n.guideline)
                .map_or(n.guideline.as_str(), |g| g.name.as_str());
            report.text(format!("{name}: {}", n.reason));
        }
        report
    }
}

/// Each ally's share of GDP over the years held.
pub struct Trends<'a> {
    pub data: &'a Dataset,
    pub trends: Vec<Trend>,
}

impl<'a> Trends<'a> {
    /// The trends of `nations`, or of every ally with figures when none is named.
    pub fn of(data: &'a Dataset, nations: &[NationCode]) -> Result<Self, Error> {
        Trends::in_edition(data, nations, None)
    }

    /// The trends from one edition only (`None`: the latest edition holding each year).
    pub fn in_edition(
        data: &'a Dataset,
        nations: &[NationCode],
        edition: Option<&str>,
    ) -> Result<Self, Error> {
        let trends = data.trends_in(nations, edition)?;
        Ok(Trends { data, trends })
    }
}

impl Serialize for Trends<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.trends.serialize(s)
    }
}

impl ToReport for Trends<'_> {
    fn report(&self) -> Report {
        let held: BTreeSet<i32> = self
            .trends
            .iter()
            .flat_map(|t| t.points.iter().map(|p| p.year))
            .collect();
        let years: Vec<i32> = held.into_iter().collect();
        let mut header = vec!["nation".to_owned()];
        header.extend(years.iter().map(i32::to_string));
        header.extend(["change (pp)".to_owned(), "slope (pp/yr)".to_owned()]);
        let mut table = Table::new(header);
        for t in &self.trends {
            let mut row = vec![t.nation.to_string()];
            for y in &years {
                let point = t.points.iter().find(|p| p.year == *y);
                row.push(point.map_or("—".to_owned(), |p| pct(p.pct_gdp)));
            }
            row.push(format!("{:+.2}", t.change_pp));
            row.push(format!("{:+.3}", t.slope_pp_per_year));
            table.add_row(row);
        }
        let mut report = Report::default();
        let editions: BTreeSet<&str> = self
            .trends
            .iter()
            .flat_map(|t| t.points.iter().map(|p| p.edition.as_str()))
            .collect();
        report
            .text(format!(
                "Defence expenditure, % of GDP (editions: {}; editions differ in price base)",
                editions.into_iter().collect::<Vec<_>>().join(", ")
            ))
            .table(table);
        report
    }
}

/// What changes if some allies spend the given shares of GDP in a year.
pub struct WhatIfReport {
    pub year: i32,
    pub overrides: Vec<(NationCode, f64)>,
    pub what_if: WhatIf,
}

impl WhatIfReport {
    /// Assesses `year` as published and with `overrides`.
    pub fn assess(
        data: &Dataset,
        year: i32,
        edition: Option<&str>,
        overrides: Vec<(NationCode, f64)>,
    ) -> Result<Self, Error> {
        let (exp, guidelines) = (&data.expenditure, &data.guidelines);
        let what_if = crate::what_if(exp, guidelines, year, edition, &overrides)?;
        Ok(WhatIfReport {
            year,
            overrides,
            what_if,
        })
    }
}

impl Serialize for WhatIfReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = &self.what_if;
        json!({
            "year": self.year,
            "assumptions": self.overrides.iter().map(|(n, v)| json!({"nation": n.as_str(), "pct_gdp": v})).collect::<Vec<_>>(),
            "counts_before": counts_json(&w.before.counts),
            "counts_after": counts_json(&w.after.counts),
            "changes": w.changes.iter().map(|(n, g, b, a)| json!({
                "nation": n.as_str(), "guideline": g, "met_before": b, "met_after": a,
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl ToReport for WhatIfReport {
    fn report(&self) -> Report {
        let (w, year) = (&self.what_if, self.year);
        let mut report = Report::default();
        for (nation, v) in &self.overrides {
            let standing = w.before.standings.iter().find(|s| s.nation == *nation);
            let was = standing.map_or("no published value".to_owned(), |s| {
                format!("{}% published ({})", pct(s.pct_gdp), s.edition)
            });
            report.text(format!(
                "If {nation} spends {}% of GDP in {year} (was {was}):",
                pct(*v)
            ));
        }
        let mut table = Table::new(["guideline", "allies meeting before", "after"]);
        for ((g, b), (_, a)) in w.before.counts.iter().zip(&w.after.counts) {
            table.add_row([g.clone(), b.to_string(), a.to_string()]);
        }
        report.table(table);
        if w.changes.is_empty() {
            report.text("No ally's standing against any guideline changes.");
        }
        for (n, g, _, after) in &w.changes {
            let verb = if *after {
                "now meets"
            } else {
                "no longer meets"
            };
            report.text(format!("{n} {verb} {g}"));
        }
        report
    }
}

/// The programmes of a ledger, one line each.
pub struct Programmes<'a>(pub &'a [Programme]);

impl Serialize for Programmes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|p| json!({
            "id": p.id, "name": p.name, "kind": p.kind, "participants": p.participants.len(), "source": p.source,
        })))
    }
}

impl ToReport for Programmes<'_> {
    fn report(&self) -> Report {
        let mut table = Table::new(["id", "name", "kind", "participants", "phases"]);
        for p in self.0 {
            table.add_row([
                p.id.clone(),
                p.name.clone(),
                p.kind.clone(),
                p.participants.len().to_string(),
                p.phases.len().to_string(),
            ]);
        }
        let mut report = Report::default();
        report.table(table);
        report
    }
}

/// One programme: participants, timeline, phases and balance, everything or as on a day.
pub struct ProgrammeReport<'a> {
    pub programme: &'a Programme,
    pub day: Option<Date>,
}

impl Serialize for ProgrammeReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, day) = (self.programme, self.day);
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
        .serialize(s)
    }
}

/// `+A +B` for the nations that joined on a day, `-C` for those that left.
fn timeline_entry(day: Date, joined: &[NationCode], left: &[NationCode]) -> String {
    let mut s = format!("{day}:");
    for (sign, nations) in [("+", joined), ("-", left)] {
        if !nations.is_empty() {
            let codes: Vec<&str> = nations.iter().map(NationCode::as_str).collect();
            s += &format!(" {sign}{}", codes.join(&format!(" {sign}")));
        }
    }
    s
}

fn share_pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

impl ToReport for ProgrammeReport<'_> {
    fn report(&self) -> Report {
        let (p, day) = (self.programme, self.day);
        let currency = p.currency.as_deref().unwrap_or("amounts");
        let mut report = Report::default();
        report.text(format!(
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
        ));
        let mut table = Table::new(["nation", "role", "from", "until", "source"]);
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
        report.text(match day {
            Some(d) => format!("Participants on {d}:"),
            None => "Participants:".to_owned(),
        });
        report.table(table);
        let timeline: Vec<String> = p
            .timeline()
            .iter()
            .map(|(d, j, l)| timeline_entry(*d, j, l))
            .collect();
        report.text(format!("Timeline: {}", timeline.join("; ")));
        for ph in &p.phases {
            report.text(format!(
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
            ));
            let current = ph.current(day);
            if ph.contributions.is_empty() {
                report.text("  national contributions: none recorded");
            } else {
                let mut table = Table::new([
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
                        opt(amount.zip(ph.cost).map(|(a, t)| a / t), share_pct),
                        opt(c.actual, |v| format!("{v}")),
                        if in_force { "yes" } else { "superseded" }.to_owned(),
                        c.source.clone(),
                    ]);
                }
                report.table(table);
            }
            for w in &ph.work_share {
                report.text(format!(
                    "  work share {}: {} ({})",
                    w.nation,
                    share_pct(w.share),
                    w.source
                ));
            }
            for e in &ph.external {
                report.text(format!(
                    "  external funding: {} {} ({})",
                    e.funder, e.amount, e.source
                ));
            }
        }
        let balance = p.balance(day);
        if balance.iter().any(|b| b.planned > 0.0) {
            let mut table = Table::new([
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
                    opt(b.cost_share, share_pct),
                    opt(b.actual, |v| format!("{v}")),
                    opt(b.work_share, share_pct),
                    opt(b.return_ratio, |v| format!("{v:.2}")),
                ]);
            }
            report.text(format!(
                "\nBalance over all phases (plans in force, {currency}):"
            ));
            report.table(table);
        }
        report
    }
}

fn bound_name(bound: Option<crate::allocate::Bound>) -> Option<String> {
    bound.map(|b| format!("{b:?}").to_lowercase())
}

impl Serialize for CostShare {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (allocation, fairness) = (&self.allocation, &self.fairness);
        json!({
            "rule": self.rule.as_str(),
            "total": allocation.total,
            "cap": self.cap, "floor": self.floor,
            "basis": self.basis.as_ref().map(|b| json!({"name": b.name, "kind": b.kind, "unit": b.unit, "source": b.source})),
            "context": self.context,
            "shares": allocation.shares.iter().map(|s| json!({
                "nation": s.nation.as_str(), "fraction": s.fraction, "amount": s.amount,
                "bound": bound_name(s.bound),
                "planned": self.planned.iter().find(|(n, _)| *n == s.nation).map(|(_, v)| v),
            })).collect::<Vec<_>>(),
            "fairness": {
                "reference": if self.against_basis { "basis" } else { "equal" },
                "hhi": fairness.hhi, "gini": fairness.gini,
                "proportionality_gap": fairness.proportionality_gap,
                "ratios": fairness.ratios.iter().map(|(n, r)| json!({"nation": n.as_str(), "share_over_reference": r})).collect::<Vec<_>>(),
            },
            "core": self.core.as_ref().map(|c| json!({
                "in_core": c.in_core,
                "worst_coalition": c.worst_coalition.iter().map(NationCode::as_str).collect::<Vec<_>>(),
                "worst_excess": c.worst_excess,
            })),
        })
        .serialize(s)
    }
}

impl ToReport for CostShare {
    fn report(&self) -> Report {
        let mut title = format!("Rule {}", self.rule.as_str());
        if let Some(c) = self.cap {
            title += &format!(", cap {c}");
        }
        if let Some(f) = self.floor {
            title += &format!(", floor {f}");
        }
        if let Some(b) = &self.basis {
            title += &format!(
                ", basis {} ({}, {}; source {})",
                b.name, b.kind, b.unit, b.source
            );
        }
        if !self.context.is_empty() {
            title += &format!(", {}", self.context.join(", "));
        }
        let mut report = Report::default();
        report.text(format!("{title}; total {}", self.total));
        let mut header = vec!["nation", "share", "amount", "bound", "vs reference"];
        if !self.planned.is_empty() {
            header.push("planned share");
        }
        let mut table = Table::new(header);
        for s in &self.allocation.shares {
            let ratio = self.fairness.ratios.iter().find(|(n, _)| *n == s.nation);
            let mut row = vec![
                s.nation.to_string(),
                format!("{:.4}%", s.fraction * 100.0),
                format!("{:.3}", s.amount),
                bound_name(s.bound).unwrap_or_default(),
                opt(ratio.map(|(_, r)| *r), |r| format!("{r:.3}")),
            ];
            if !self.planned.is_empty() {
                row.push(opt(self.planned_share(s.nation), |v| {
                    format!("{:.2}%", v * 100.0)
                }));
            }
            table.add_row(row);
        }
        report.table(table);
        let fairness = &self.fairness;
        report.text(format!(
            "Fairness against {}: HHI {:.4} (equal split {:.4}); Gini {:.4}; proportionality gap {:.2}% of the total",
            if self.against_basis { "the basis" } else { "equal shares" },
            fairness.hhi,
            1.0 / self.allocation.shares.len() as f64,
            fairness.gini,
            fairness.proportionality_gap * 100.0
        ));
        if let Some(c) = &self.core {
            let who = c
                .worst_coalition
                .iter()
                .map(NationCode::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            report.text(if c.in_core {
                format!("In the core: no coalition pays more than its stand-alone cost (tightest: [{who}], {:.3})", c.worst_excess)
            } else {
                format!(
                    "NOT in the core: [{who}] pays {:.3} more than on its own",
                    c.worst_excess
                )
            });
        }
        report
    }
}

/// NATO common funding and the European Defence Fund, as held in the dataset.
pub struct Funding<'a>(pub &'a Dataset);

impl Serialize for Funding<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (cf, edf) = (&self.0.common_funding, &self.0.edf);
        json!({
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
        })
        .serialize(s)
    }
}

impl ToReport for Funding<'_> {
    fn report(&self) -> Report {
        let (cf, edf) = (&self.0.common_funding, &self.0.edf);
        let mut report = Report::default();
        report.text(format!(
            "NATO common funding — formula: {} (source {})",
            cf.formula, cf.formula_source
        ));
        let mut table = Table::new([
            "year", "civil", "military", "NSIP", "total", "unit", "source",
        ]);
        for b in &cf.budgets {
            let ceiling = if b.nsip_ceiling { " (ceiling)" } else { "" };
            table.add_row([
                b.year.to_string(),
                format!("{}", b.civil),
                format!("{}", b.military),
                format!("{}{ceiling}", b.nsip),
                format!("{:.1}", b.total()),
                b.currency.clone(),
                b.source.clone(),
            ]);
        }
        report.table(table);
        let mut table = Table::new(["period", "nation", "cost share %", "source", "note"]);
        for s in &cf.shares {
            table.add_row([
                s.period.clone(),
                s.nation.to_string(),
                format!("{:.2}", s.pct),
                s.source.clone(),
                s.note.clone().unwrap_or_default(),
            ]);
        }
        report.text("Known cost shares (the full per-ally table was not found):");
        report.table(table);
        report.text(format!(
            "\n{} {}: {} {} (source {})",
            edf.name, edf.period, edf.total, edf.currency, edf.source
        ));
        for s in &edf.strands {
            report.text(format!("  {}: {} ({})", s.name, s.amount, s.source));
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_entry_lists_who_joined_and_who_left() {
        let day = entente_types::parse_date("2024-01-01").unwrap();
        let (fra, deu, ita) = (
            "FRA".parse().unwrap(),
            "DEU".parse().unwrap(),
            "ITA".parse().unwrap(),
        );
        assert_eq!(
            timeline_entry(day, &[fra, deu], &[ita]),
            "2024-01-01: +FRA +DEU -ITA"
        );
        assert_eq!(timeline_entry(day, &[], &[]), "2024-01-01:");
    }
}
