//! The ledger of joint programmes: who takes part when, what each planned to pay and paid, and what
//! work each receives. Read from TOML (the shipped files or any file given on the command line) and
//! validated as a whole: every problem is reported with its file, line and field.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use entente_types::{Date, NationCode};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Problem};
use crate::input::Ctx;

/// How a nation takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Participant,
    Coordinator,
    ThirdState,
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Coordinator => "coordinator",
            Role::ThirdState => "third-state",
            Role::Observer => "observer",
        }
    }

    /// Whether this role pays into the programme (observers do not).
    pub fn contributes(self) -> bool {
        !matches!(self, Role::Observer)
    }
}

/// A period of participation. `until` is the last day, inclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct Participation {
    pub nation: NationCode,
    pub role: Role,
    pub from: Date,
    pub until: Option<Date>,
    pub source: String,
    pub note: Option<String>,
}

impl Participation {
    pub fn active_on(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }
}

/// A national contribution to a phase, as planned on `as_of`. A later entry for the same nation and
/// phase supersedes an earlier one; the history is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub nation: NationCode,
    pub as_of: Date,
    /// Planned amount, in the programme's currency.
    pub planned: Option<f64>,
    /// Planned share of the phase cost (0..=1), when only a share is published.
    pub share: Option<f64>,
    /// Amount actually paid.
    pub actual: Option<f64>,
    pub source: String,
    pub note: Option<String>,
}

/// Share of the industrial work placed in a nation.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkShare {
    pub nation: NationCode,
    pub share: f64,
    pub source: String,
}

/// Money from outside the participants (e.g. an EU grant).
#[derive(Debug, Clone, PartialEq)]
pub struct External {
    pub funder: String,
    pub amount: f64,
    pub source: String,
    pub note: Option<String>,
}

/// A phase with its own cost and funding.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub id: String,
    pub name: Option<String>,
    pub cost: Option<f64>,
    pub source: String,
    pub note: Option<String>,
    pub contributions: Vec<Contribution>,
    pub work_share: Vec<WorkShare>,
    pub external: Vec<External>,
}

impl Phase {
    /// The contribution in force for each nation on `day` (the latest `as_of` not after it).
    pub fn current(&self, day: Option<Date>) -> BTreeMap<NationCode, &Contribution> {
        let mut out: BTreeMap<NationCode, &Contribution> = BTreeMap::new();
        for c in &self.contributions {
            if day.is_some_and(|d| c.as_of > d) {
                continue;
            }
            let later = out.get(&c.nation).is_none_or(|prev| c.as_of >= prev.as_of);
            if later {
                out.insert(c.nation, c);
            }
        }
        out
    }

    /// A contribution's planned amount, from the amount or from its share of the cost.
    pub fn planned_amount(&self, c: &Contribution) -> Option<f64> {
        c.planned.or_else(|| Some(c.share? * self.cost?))
    }
}

/// A joint programme (PESCO project, NATO programme, OCCAR programme…).
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub launched: Option<String>,
    pub currency: Option<String>,
    pub source: String,
    pub note: Option<String>,
    pub participants: Vec<Participation>,
    pub phases: Vec<Phase>,
}

impl Programme {
    /// Participations in force on `day`.
    pub fn participants_on(&self, day: Date) -> Vec<&Participation> {
        self.participants
            .iter()
            .filter(|p| p.active_on(day))
            .collect()
    }

    /// The days on which the set of participants changed, with who joined and who left.
    pub fn timeline(&self) -> Vec<(Date, Vec<NationCode>, Vec<NationCode>)> {
        let mut events: BTreeMap<Date, (Vec<NationCode>, Vec<NationCode>)> = BTreeMap::new();
        for p in &self.participants {
            events.entry(p.from).or_default().0.push(p.nation);
            if let Some(u) = p.until.and_then(|u| u.succ_opt()) {
                events.entry(u).or_default().1.push(p.nation);
            }
        }
        events.into_iter().map(|(d, (j, l))| (d, j, l)).collect()
    }

    /// Per-nation totals over all phases: contributions in force on `day` (all if `None`).
    pub fn balance(&self, day: Option<Date>) -> Vec<Balance> {
        let mut rows: BTreeMap<NationCode, Balance> = BTreeMap::new();
        for phase in &self.phases {
            for (nation, c) in phase.current(day) {
                let row = rows.entry(nation).or_insert_with(|| Balance::new(nation));
                if let Some(v) = phase.planned_amount(c) {
                    row.planned += v;
                }
                if let Some(v) = c.actual {
                    row.actual = Some(row.actual.unwrap_or(0.0) + v);
                }
            }
            for w in &phase.work_share {
                rows.entry(w.nation)
                    .or_insert_with(|| Balance::new(w.nation))
                    .work_share = Some(w.share);
            }
        }
        let total: f64 = rows.values().map(|r| r.planned).sum();
        for r in rows.values_mut() {
            r.cost_share = (total > 0.0).then(|| r.planned / total);
            // "Juste retour": work received per unit of cost borne; 1.0 is a balanced return.
            r.return_ratio = match (r.work_share, r.cost_share) {
                (Some(w), Some(c)) if c > 0.0 => Some(w / c),
                _ => None,
            };
        }
        rows.into_values().collect()
    }
}

/// One nation's position in a programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub nation: NationCode,
    pub planned: f64,
    pub actual: Option<f64>,
    pub cost_share: Option<f64>,
    pub work_share: Option<f64>,
    pub return_ratio: Option<f64>,
}

impl Balance {
    fn new(nation: NationCode) -> Balance {
        Balance {
            nation,
            planned: 0.0,
            actual: None,
            cost_share: None,
            work_share: None,
            return_ratio: None,
        }
    }
}

/// All programmes, with the sources that ledger files may define for themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    pub(crate) programmes: Vec<Programme>,
}

impl Ledger {
    pub fn programmes(&self) -> &[Programme] {
        &self.programmes
    }

    /// Finds a programme by id, or by name ignoring case.
    pub fn get(&self, name: &str) -> Result<&Programme, Error> {
        let lower = name.to_lowercase();
        self.programmes
            .iter()
            .find(|p| p.id == name)
            .or_else(|| {
                self.programmes
                    .iter()
                    .find(|p| p.name.to_lowercase() == lower)
            })
            .or_else(|| {
                let hits: Vec<&Programme> = self
                    .programmes
                    .iter()
                    .filter(|p| p.name.to_lowercase().contains(&lower))
                    .collect();
                (hits.len() == 1).then(|| hits[0])
            })
            .ok_or_else(|| {
                let known: Vec<&str> = self.programmes.iter().map(|p| p.id.as_str()).collect();
                Error::not_found(
                    "programme",
                    name,
                    Some(format!("known: {}", known.join(", "))),
                )
            })
    }

    /// Parses one ledger text. `known_source` says whether a source id exists; ids defined by
    /// `[[source]]` entries in the text itself are also accepted.
    pub fn parse(
        text: &str,
        file: Option<&Path>,
        known_source: &dyn Fn(&str) -> Option<u8>,
    ) -> Result<Ledger, Error> {
        let mut ctx = Ctx::new(file, text);
        let ledger = parse_into(&mut ctx, known_source);
        if ctx.problems.is_empty() {
            Ok(ledger)
        } else {
            Err(Error::invalid(ctx.problems))
        }
    }

    /// Adds another ledger's programmes, read from `file`; an id already present is an error.
    pub fn merge(&mut self, other: Ledger, file: Option<&Path>) -> Result<(), Error> {
        let mut problems = Vec::new();
        for p in other.programmes {
            if self.programmes.iter().any(|q| q.id == p.id) {
                problems.push(Problem {
                    location: crate::error::Location {
                        file: file.map(Path::to_path_buf),
                        field: Some("programme.id".to_owned()),
                        ..Default::default()
                    },
                    message: format!("programme id {:?} is defined twice", p.id),
                });
            } else {
                self.programmes.push(p);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(problems))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    programme: Vec<Spanned<RawProgramme>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read for validation; the dataset's own sources live in sources.toml
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
struct RawProgramme {
    id: Spanned<String>,
    name: String,
    kind: String,
    launched: Option<Spanned<String>>,
    currency: Option<String>,
    source: Spanned<String>,
    note: Option<String>,
    #[serde(default)]
    participants: Vec<Spanned<RawParticipation>>,
    #[serde(default)]
    phase: Vec<Spanned<RawPhase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParticipation {
    nation: NationCode,
    #[serde(default = "default_role")]
    role: Role,
    from: Spanned<String>,
    until: Option<Spanned<String>>,
    source: Spanned<String>,
    note: Option<String>,
}

fn default_role() -> Role {
    Role::Participant
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    id: Spanned<String>,
    name: Option<String>,
    cost: Option<Spanned<f64>>,
    source: Spanned<String>,
    note: Option<String>,
    #[serde(default)]
    contributions: Vec<Spanned<RawContribution>>,
    #[serde(default)]
    work_share: Vec<Spanned<RawWorkShare>>,
    #[serde(default)]
    external: Vec<Spanned<RawExternal>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContribution {
    nation: NationCode,
    as_of: Spanned<String>,
    planned: Option<f64>,
    share: Option<f64>,
    actual: Option<f64>,
    source: Spanned<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkShare {
    nation: NationCode,
    share: f64,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExternal {
    funder: String,
    amount: f64,
    source: Spanned<String>,
    note: Option<String>,
}

/// Slack for sums of published, rounded figures.
const TOLERANCE: f64 = 1e-6;

fn parse_into(ctx: &mut Ctx<'_>, known_source: &dyn Fn(&str) -> Option<u8>) -> Ledger {
    let Some(raw) = ctx.parse::<RawFile>() else {
        return Ledger::default();
    };
    let mut local: BTreeMap<String, u8> = BTreeMap::new();
    for s in &raw.source {
        let id = s.get_ref().id.clone();
        if local.contains_key(&id) || known_source(&id).is_some() {
            ctx.report(
                s.span(),
                "source.id",
                format!("source id {id:?} is defined twice"),
            );
        }
        let tier = crate::data::source_tier(ctx, s.span(), &id, s.get_ref().tier.as_ref());
        if let Some(tier) = tier {
            local.insert(id, tier);
        }
    }
    let known = |id: &str| local.get(id).copied().or_else(|| known_source(id));
    let mut programmes = Vec::new();
    let mut ids = BTreeSet::new();
    for sp in raw.programme {
        let span = sp.span();
        let rp = sp.into_inner();
        let id = rp.id.get_ref().trim().to_owned();
        if id.is_empty() {
            ctx.report(rp.id.span(), "programme.id", "must not be empty");
        } else if !ids.insert(id.clone()) {
            ctx.report(
                rp.id.span(),
                "programme.id",
                format!("programme id {id:?} is defined twice"),
            );
        }
        ctx.sources(
            rp.source.span(),
            "programme.source",
            rp.source.get_ref(),
            &known,
        );
        if let Some(l) = &rp.launched {
            ctx.start_date(l.span(), "programme.launched", l.get_ref());
        }
        let participants = participants(ctx, &rp.participants, &known);
        if participants.is_empty() && rp.participants.is_empty() {
            ctx.report(
                span.clone(),
                "programme.participants",
                format!("programme {id:?} has no participants"),
            );
        }
        let mut phase_ids = BTreeSet::new();
        let mut phases = Vec::new();
        for ph in rp.phase {
            let phase_span = ph.span();
            let ph = ph.into_inner();
            if !phase_ids.insert(ph.id.get_ref().clone()) {
                ctx.report(
                    ph.id.span(),
                    "programme.phase.id",
                    format!("phase id {:?} is defined twice", ph.id.get_ref()),
                );
            }
            phases.push(phase(ctx, phase_span, ph, &participants, &known));
        }
        programmes.push(Programme {
            id,
            name: rp.name,
            kind: rp.kind,
            launched: rp.launched.map(Spanned::into_inner),
            currency: rp.currency,
            source: rp.source.into_inner(),
            note: rp.note,
            participants,
            phases,
        });
    }
    Ledger { programmes }
}

fn participants(
    ctx: &mut Ctx<'_>,
    raw: &[Spanned<RawParticipation>],
    known: &dyn Fn(&str) -> Option<u8>,
) -> Vec<Participation> {
    let mut out: Vec<Participation> = Vec::new();
    for sp in raw {
        let span = sp.span();
        let r = sp.get_ref();
        ctx.sources(
            r.source.span(),
            "participants.source",
            r.source.get_ref(),
            known,
        );
        let from = ctx.start_date(r.from.span(), "participants.from", r.from.get_ref());
        let until = match &r.until {
            Some(u) => ctx
                .end_date(u.span(), "participants.until", u.get_ref())
                .map(Some),
            None => Some(None),
        };
        let (Some(from), Some(until)) = (from, until) else {
            continue;
        };
        if until.is_some_and(|u| u < from) {
            ctx.report(
                span.clone(),
                "participants.until",
                format!("{}: until is before from", r.nation),
            );
            continue;
        }
        let overlaps = out.iter().any(|p| {
            p.nation == r.nation
                && p.from <= until.unwrap_or(Date::MAX)
                && from <= p.until.unwrap_or(Date::MAX)
        });
        if overlaps {
            ctx.report(
                span,
                "participants",
                format!("{} has overlapping participation periods", r.nation),
            );
            continue;
        }
        out.push(Participation {
            nation: r.nation,
            role: r.role,
            from,
            until,
            source: r.source.get_ref().clone(),
            note: r.note.clone(),
        });
    }
    out
}

fn phase(
    ctx: &mut Ctx<'_>,
    span: Range<usize>,
    raw: RawPhase,
    participants: &[Participation],
    known: &dyn Fn(&str) -> Option<u8>,
) -> Phase {
    ctx.sources(
        raw.source.span(),
        "phase.source",
        raw.source.get_ref(),
        known,
    );
    let cost = raw.cost.as_ref().and_then(|c| {
        ctx.amount(c.span(), "phase.cost", *c.get_ref())
            .then_some(*c.get_ref())
    });
    let mut contributions = Vec::new();
    for sc in &raw.contributions {
        let cspan = sc.span();
        let c = sc.get_ref();
        ctx.sources(
            c.source.span(),
            "contributions.source",
            c.source.get_ref(),
            known,
        );
        let Some(as_of) = ctx.start_date(c.as_of.span(), "contributions.as_of", c.as_of.get_ref())
        else {
            continue;
        };
        let mut ok = true;
        for (field, v) in [
            ("contributions.planned", c.planned),
            ("contributions.actual", c.actual),
        ] {
            if let Some(v) = v {
                ok &= ctx.amount(cspan.clone(), field, v);
            }
        }
        if let Some(s) = c.share {
            ok &= ctx.fraction(cspan.clone(), "contributions.share", s);
        }
        if c.planned.is_none() && c.share.is_none() && c.actual.is_none() {
            ctx.report(
                cspan.clone(),
                "contributions",
                format!("{}: give planned, share or actual", c.nation),
            );
            ok = false;
        }
        if c.planned.is_some() && c.share.is_some() {
            ctx.report(
                cspan.clone(),
                "contributions",
                format!("{}: give planned or share, not both", c.nation),
            );
            ok = false;
        }
        match participants
            .iter()
            .find(|p| p.nation == c.nation && p.active_on(as_of))
        {
            None => {
                ctx.report(
                    cspan.clone(),
                    "contributions.nation",
                    format!("{} is not a participant on {as_of}", c.nation),
                );
                ok = false;
            }
            Some(p) if !p.role.contributes() => {
                ctx.report(
                    cspan.clone(),
                    "contributions.nation",
                    format!(
                        "{} is an observer on {as_of} and cannot contribute",
                        c.nation
                    ),
                );
                ok = false;
            }
            Some(_) => {}
        }
        if contributions
            .iter()
            .any(|x: &Contribution| x.nation == c.nation && x.as_of == as_of)
        {
            ctx.report(
                cspan.clone(),
                "contributions",
                format!("{} has two contributions as of {as_of}", c.nation),
            );
            ok = false;
        }
        if ok {
            contributions.push(Contribution {
                nation: c.nation,
                as_of,
                planned: c.planned,
                share: c.share,
                actual: c.actual,
                source: c.source.get_ref().clone(),
                note: c.note.clone(),
            });
        }
    }
    let mut work_share = Vec::new();
    for sw in &raw.work_share {
        let w = sw.get_ref();
        ctx.sources(
            w.source.span(),
            "work_share.source",
            w.source.get_ref(),
            known,
        );
        if ctx.fraction(sw.span(), "work_share.share", w.share) {
            if !participants.iter().any(|p| p.nation == w.nation) {
                ctx.report(
                    sw.span(),
                    "work_share.nation",
                    format!("{} is not a participant", w.nation),
                );
            }
            work_share.push(WorkShare {
                nation: w.nation,
                share: w.share,
                source: w.source.get_ref().clone(),
            });
        }
    }
    let total_work: f64 = work_share.iter().map(|w| w.share).sum();
    if total_work > 1.0 + TOLERANCE {
        ctx.report(
            span.clone(),
            "work_share",
            format!("work shares add up to {total_work:.4}, more than 1"),
        );
    }
    let mut external = Vec::new();
    for se in &raw.external {
        let e = se.get_ref();
        ctx.sources(
            e.source.span(),
            "external.source",
            e.source.get_ref(),
            known,
        );
        if ctx.amount(se.span(), "external.amount", e.amount) {
            external.push(External {
                funder: e.funder.clone(),
                amount: e.amount,
                source: e.source.get_ref().clone(),
                note: e.note.clone(),
            });
        }
    }
    let phase = Phase {
        id: raw.id.into_inner(),
        name: raw.name,
        cost,
        source: raw.source.into_inner(),
        note: raw.note,
        contributions,
        work_share,
        external,
    };
    // The plans in force on each revision day must fit in the cost: nobody plans to pay more than
    // the whole, and the shares cannot exceed it.
    if let Some(cost) = phase.cost {
        let days: BTreeSet<Date> = phase.contributions.iter().map(|c| c.as_of).collect();
        for day in days {
            let current = phase.current(Some(day));
            let planned: f64 = current
                .values()
                .filter_map(|c| phase.planned_amount(c))
                .sum();
            let ext: f64 = phase.external.iter().map(|e| e.amount).sum();
            if planned > cost * (1.0 + TOLERANCE) + TOLERANCE {
                ctx.report(
                    span.clone(),
                    "contributions",
                    format!("phase {:?}: plans as of {day} add up to {planned}, more than the cost {cost}", phase.id),
                );
            } else if planned + ext > (cost + TOLERANCE) * (1.0 + TOLERANCE) && ext > 0.0 {
                ctx.report(
                    span.clone(),
                    "external",
                    format!(
                        "phase {:?}: national plans and external funding exceed the cost {cost}",
                        phase.id
                    ),
                );
            }
        }
    }
    let shares: f64 = phase.current(None).values().filter_map(|c| c.share).sum();
    if shares > 1.0 + TOLERANCE {
        ctx.report(
            span,
            "contributions.share",
            format!(
                "phase {:?}: shares add up to {shares:.4}, more than 1",
                phase.id
            ),
        );
    }
    phase
}
