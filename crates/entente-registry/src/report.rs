//! What the registry queries show: each answer as the JSON the command line prints (`Serialize`)
//! and as text (`ToReport`).

use entente_types::report::{Report, Table, ToReport};
use entente_types::{Date, NationCode};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::{
    Agreement, AgreementId, AgreementStatus, Clause, ClauseRef, Defender, Error, Graph, Invocation,
    NationProfile, Organization, ParticipantChange, Participants, Party, Registry, StatedDate,
    TimelineEvent,
};

fn name_of(registry: &Registry, code: NationCode) -> &str {
    registry.nation(code).map_or("", |n| n.name.as_str())
}

fn stated(date: Option<StatedDate>) -> String {
    date.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

fn report_of(title: String, tables: impl IntoIterator<Item = Table>) -> Report {
    let mut report = Report::default();
    report.text(title);
    for t in tables {
        report.table(t);
    }
    report
}

/// The members of an organisation on a day.
pub struct Members<'a> {
    pub registry: &'a Registry,
    pub organization: &'a Organization,
    pub day: Date,
    pub members: Vec<NationCode>,
}

impl<'a> Members<'a> {
    /// The members on `day` of the organisation named `organization` (id or name).
    pub fn of(registry: &'a Registry, organization: &str, day: Date) -> Result<Self, Error> {
        let organization = registry.organization(organization)?;
        let members = registry.members(organization, day);
        Ok(Members {
            registry,
            organization,
            day,
            members,
        })
    }
}

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Attributes of the members' memberships that hold that day (e.g. outside the integrated
        // command), by nation; only members with at least one are listed.
        let attributes: serde_json::Map<String, serde_json::Value> = self
            .members
            .iter()
            .filter_map(|m| {
                let ids: Vec<&str> = self
                    .organization
                    .attributes_of(*m, self.day)
                    .iter()
                    .map(|a| a.id.as_str())
                    .collect();
                (!ids.is_empty()).then(|| (m.as_str().to_owned(), json!(ids)))
            })
            .collect();
        json!({
            "organization": self.organization.id.0,
            "at": self.day.to_string(),
            "members": self.members,
            "attributes": attributes,
        })
        .serialize(s)
    }
}

impl ToReport for Members<'_> {
    fn report(&self) -> Report {
        let mut table = Table::new(["code", "nation", "attributes"]);
        for m in &self.members {
            let attributes: Vec<&str> = self
                .organization
                .attributes_of(*m, self.day)
                .iter()
                .map(|a| a.id.as_str())
                .collect();
            table.add_row([
                m.as_str().to_owned(),
                name_of(self.registry, *m).to_owned(),
                attributes.join(", "),
            ]);
        }
        let org = self.organization;
        let title = format!(
            "{} ({}) on {}: {} members",
            org.name,
            org.id,
            self.day,
            self.members.len()
        );
        report_of(title, [table])
    }
}

/// Who is bound to come to a nation's aid on a day.
pub struct Obligations<'a> {
    pub registry: &'a Registry,
    pub nation: NationCode,
    pub day: Date,
    pub defenders: Vec<Defender>,
}

impl<'a> Obligations<'a> {
    /// Who is bound on `day` to come to the aid of `nation` (code or name).
    pub fn toward(registry: &'a Registry, nation: &str, day: Date) -> Result<Self, Error> {
        let nation = registry.nation_code(nation)?;
        let defenders = registry.obligations_toward(nation, day);
        Ok(Obligations {
            registry,
            nation,
            day,
            defenders,
        })
    }
}

impl Serialize for Obligations<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "nation": self.nation.as_str(),
            "at": self.day.to_string(),
            "defenders": self.defenders.iter().map(|d| json!({
                "nation": d.nation.as_str(),
                "basis": d.basis.iter().map(|b| json!({
                    "agreement": b.agreement.0,
                    "clause": b.article,
                    "kind": b.kind.as_str(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl ToReport for Obligations<'_> {
    fn report(&self) -> Report {
        let registry = self.registry;
        let agreement_name = |id: &AgreementId| {
            registry
                .agreement_by_id(id)
                .map_or(id.0.clone(), |a| a.name.clone())
        };
        let mut table = Table::new(["nation", "name", "basis"]);
        for d in &self.defenders {
            let basis: Vec<String> = d
                .basis
                .iter()
                .map(|b| format!("{} {}", agreement_name(&b.agreement), b.article))
                .collect();
            table.add_row([
                d.nation.as_str().to_owned(),
                name_of(registry, d.nation).to_owned(),
                basis.join("; "),
            ]);
        }
        let title = format!(
            "Bound to come to the aid of {} ({}) on {}: {} nations",
            name_of(registry, self.nation),
            self.nation,
            self.day,
            self.defenders.len()
        );
        report_of(title, [table])
    }
}

/// Agreements in force on a day (or all of them), optionally those of one party.
pub struct Agreements<'a> {
    pub registry: &'a Registry,
    pub day: Date,
    /// Every agreement, whatever its status on `day`.
    pub all: bool,
    pub party: Option<Party>,
    pub agreements: Vec<&'a Agreement>,
}

impl<'a> Agreements<'a> {
    /// The agreements in force on `day`, or all of them, of `party` (a nation or an
    /// organisation, by code, id or name) or of anyone.
    pub fn list(
        registry: &'a Registry,
        party: Option<&str>,
        day: Date,
        all: bool,
    ) -> Result<Self, Error> {
        let party = party.map(|p| registry.party(p)).transpose()?;
        let agreements = match (&party, all) {
            (Some(p), true) => registry.agreements_involving(p),
            (None, true) => registry.agreements().iter().collect(),
            (p, false) => registry.agreements_in_force(p.as_ref(), day),
        };
        Ok(Agreements {
            registry,
            day,
            all,
            party,
            agreements,
        })
    }
}

fn agreement_json(registry: &Registry, a: &Agreement, day: Date) -> serde_json::Value {
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
        "parties_on_day": registry.parties_on(a, day),
        "clauses": a.clauses.iter().map(|c| json!({
            "id": c.id,
            "article": c.article,
            "kind": c.kind.as_str(),
            "summary": c.summary,
        })).collect::<Vec<_>>(),
        "sources": a.sources.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
    })
}

impl Serialize for Agreements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let day = self.day;
        json!({
            "at": (!self.all).then(|| day.to_string()),
            "party": self.party.as_ref().map(Party::to_string),
            "agreements": self.agreements.iter().map(|a| agreement_json(self.registry, a, day)).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

fn parties_text(a: &Agreement) -> String {
    let mut parts: Vec<String> = a.parties.iter().map(Party::to_string).collect();
    if let Some(o) = &a.parties_are_members_of {
        parts.push(format!("members of {o}"));
    }
    parts.join(", ")
}

impl ToReport for Agreements<'_> {
    fn report(&self) -> Report {
        let day = self.day;
        let mut table = Table::new(["id", "name", "signed", "in force", "status", "parties"]);
        for a in &self.agreements {
            table.add_row([
                a.id.0.clone(),
                a.name.clone(),
                stated(a.signed),
                stated(a.in_force),
                a.status(day).as_str().to_owned(),
                parties_text(a),
            ]);
        }
        let scope = if self.all {
            "all agreements".to_owned()
        } else {
            format!("in force on {day}")
        };
        let who = self
            .party
            .as_ref()
            .map(|p| format!(", party {p}"))
            .unwrap_or_default();
        let title = format!("{} agreements ({scope}{who})", self.agreements.len());
        report_of(title, [table])
    }
}

/// A nation's memberships and agreements on a day.
pub struct Profile<'a>(pub NationProfile<'a>);

impl Serialize for Profile<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.0;
        json!({
            "nation": p.nation.code.as_str(),
            "name": p.nation.name,
            "at": p.day.to_string(),
            "memberships": p.memberships.iter().map(|m| json!({
                "organization": m.organization.id.0,
                "role": m.membership.role.as_str(),
                "from": m.membership.stated_from.to_string(),
                "until": m.membership.stated_until.map(|u| u.to_string()),
                "current": m.current,
            })).collect::<Vec<_>>(),
            "agreements": p.agreements.iter().map(|a| json!({
                "id": a.agreement.id.0,
                "name": a.agreement.name,
                "via": a.via.as_ref().map(|o| o.0.clone()),
                "status": a.status.as_str(),
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl ToReport for Profile<'_> {
    fn report(&self) -> Report {
        let p = &self.0;
        let mut memberships = Table::new(["organization", "role", "from", "until", "on that day"]);
        for m in &p.memberships {
            memberships.add_row([
                m.organization.id.0.clone(),
                m.membership.role.as_str().to_owned(),
                m.membership.stated_from.to_string(),
                stated(m.membership.stated_until),
                if m.current { "member" } else { "-" }.to_owned(),
            ]);
        }
        let mut agreements = Table::new(["agreement", "name", "party", "status"]);
        for a in &p.agreements {
            agreements.add_row([
                a.agreement.id.0.clone(),
                a.agreement.name.clone(),
                a.via
                    .as_ref()
                    .map_or("directly".to_owned(), |o| format!("as member of {o}")),
                a.status.as_str().to_owned(),
            ]);
        }
        let title = format!("{} ({}) on {}", p.nation.name, p.nation.code, p.day);
        report_of(title, [memberships, agreements])
    }
}

/// Dated events between two years.
pub struct Timeline {
    pub from: Option<i32>,
    pub to: Option<i32>,
    pub events: Vec<TimelineEvent>,
}

impl Serialize for Timeline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "from": self.from,
            "to": self.to,
            "events": self.events.iter().map(|e| json!({
                "date": e.date.to_string(),
                "kind": e.kind.as_str(),
                "subject": e.subject,
                "nation": e.nation,
                "description": e.description,
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl ToReport for Timeline {
    fn report(&self) -> Report {
        let mut table = Table::new(["date", "event"]);
        for e in &self.events {
            table.add_row([e.date.to_string(), e.description.clone()]);
        }
        let mut report = Report::default();
        report.table(table);
        report
    }
}

impl Serialize for Graph {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "at": self.day.to_string(),
            "nodes": self.nodes.iter().map(|n| json!({
                "id": n.id, "label": n.label, "kind": n.kind.as_str(),
            })).collect::<Vec<_>>(),
            "edges": self.edges.iter().map(|e| json!({
                "from": e.from, "to": e.to, "kind": e.kind.as_str(),
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

/// What checking a dataset found: what it holds when it loads and validates, else every
/// problem found (each naming its file, line and field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub dir: String,
    pub ok: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// How many of each thing a dataset holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub nations: usize,
    pub organizations: usize,
    pub agreements: usize,
    pub sources: usize,
}

impl Checked {
    pub fn new(dir: &std::path::Path, registry: &Registry) -> Checked {
        Checked {
            dir: dir.display().to_string(),
            ok: true,
            counts: Some(Counts {
                nations: registry.nations().count(),
                organizations: registry.organizations().len(),
                agreements: registry.agreements().len(),
                sources: registry.sources().count(),
            }),
            problems: Vec::new(),
        }
    }

    /// Loads and validates the dataset in `dir`; invalid data is a `Checked` that is not ok,
    /// a dataset that cannot be read at all an error.
    pub fn run(dir: &std::path::Path) -> Result<Checked, crate::Error> {
        Checked::run_with(dir, &[])
    }

    /// As [`Checked::run`], and also refuses a source id that one of `others` (the `sources.toml`
    /// of another dataset, e.g. `data/burden/sources.toml`) defines too.
    pub fn run_with(
        dir: &std::path::Path,
        others: &[std::path::PathBuf],
    ) -> Result<Checked, crate::Error> {
        match Registry::load(dir) {
            Ok(registry) => {
                let mut problems = Vec::new();
                for other in others {
                    let shared = crate::load::shared_source_ids(&registry, other)?;
                    problems.extend(shared.iter().map(ToString::to_string));
                }
                if problems.is_empty() {
                    Ok(Checked::new(dir, &registry))
                } else {
                    Ok(Checked {
                        dir: dir.display().to_string(),
                        ok: false,
                        counts: None,
                        problems,
                    })
                }
            }
            Err(err) if !err.diagnostics().is_empty() => Ok(Checked {
                dir: dir.display().to_string(),
                ok: false,
                counts: None,
                problems: err.diagnostics().iter().map(ToString::to_string).collect(),
            }),
            Err(err) => Err(err),
        }
    }

    /// The problems, a line each, and a summary line (for standard error).
    pub fn problems_text(&self) -> String {
        let n = self.problems.len();
        let plural = if n == 1 { "" } else { "s" };
        let mut text: String = self.problems.iter().map(|p| format!("{p}\n")).collect();
        text.push_str(&format!("error: {}: {n} problem{plural}\n", self.dir));
        text
    }
}

impl ToReport for Checked {
    fn report(&self) -> Report {
        let mut report = Report::default();
        match &self.counts {
            Some(c) => report.text(format!(
                "ok: {}: {} nations, {} organizations, {} agreements, {} sources",
                self.dir, c.nations, c.organizations, c.agreements, c.sources
            )),
            None => report.text(self.problems_text().trim_end()),
        };
        report
    }
}

/// The clause of an invocation as a table shows it: its alias or reference, and its article.
fn clause_text(registry: &Registry, clause: &ClauseRef) -> String {
    let found = registry
        .agreement_by_id(&clause.agreement)
        .and_then(|a| a.clauses.iter().find(|c| c.id == clause.clause));
    match found {
        Some(c) => format!(
            "{} ({})",
            c.alias.clone().unwrap_or_else(|| clause.to_string()),
            c.article
        ),
        None => clause.to_string(),
    }
}

/// Recorded invocations, optionally of one clause or requested by one nation.
pub struct Invocations<'a> {
    pub registry: &'a Registry,
    pub clause: Option<ClauseRef>,
    pub nation: Option<NationCode>,
    pub invocations: Vec<&'a Invocation>,
}

impl<'a> Invocations<'a> {
    /// The invocations of `clause` (`agreement/clause` or an alias) requested by `nation` (code or
    /// name), each filter only when given.
    pub fn list(
        registry: &'a Registry,
        clause: Option<&str>,
        nation: Option<&str>,
    ) -> Result<Self, Error> {
        let clause = clause
            .map(|c| registry.clause(c).map(|(a, c)| ClauseRef::of(a, c)))
            .transpose()?;
        let nation = nation.map(|n| registry.nation_code(n)).transpose()?;
        let invocations = registry
            .invocations()
            .iter()
            .filter(|i| clause.as_ref().is_none_or(|c| i.clause == *c))
            .filter(|i| nation.is_none_or(|n| i.requested_by.contains(&n)))
            .collect();
        Ok(Invocations {
            registry,
            clause,
            nation,
            invocations,
        })
    }
}

impl Serialize for Invocations<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let registry = self.registry;
        json!({
            "clause": self.clause,
            "nation": self.nation,
            "invocations": self.invocations.iter().map(|i| {
                let clause = registry
                    .agreement_by_id(&i.clause.agreement)
                    .and_then(|a| a.clauses.iter().find(|c| c.id == i.clause.clause));
                json!({
                    "id": i.id,
                    "clause": i.clause,
                    "alias": clause.and_then(|c| c.alias.clone()),
                    "article": clause.map(|c| c.article.clone()),
                    "kind": clause.map(|c| c.kind.as_str()),
                    "requested_by": i.requested_by,
                    "requested": i.requested,
                    "met": i.met,
                    "closed": i.closed,
                    "summary": i.summary,
                    "note": i.note,
                    "sources": i.sources.iter().map(|id| match registry.source(id) {
                        Some(src) => json!({
                            "id": src.id,
                            "title": src.title,
                            "reference": src.reference,
                            "url": src.url,
                        }),
                        None => json!({ "id": id }),
                    }).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl ToReport for Invocations<'_> {
    fn report(&self) -> Report {
        let mut table = Table::new([
            "id",
            "clause",
            "requested by",
            "requested",
            "met",
            "closed",
            "summary",
        ]);
        for i in &self.invocations {
            let by: Vec<&str> = i.requested_by.iter().map(|n| n.as_str()).collect();
            table.add_row([
                i.id.clone(),
                clause_text(self.registry, &i.clause),
                by.join(", "),
                i.requested.to_string(),
                stated(i.met),
                stated(i.closed),
                i.summary.clone(),
            ]);
        }
        let mut scope = Vec::new();
        if let Some(c) = &self.clause {
            scope.push(format!("of {}", clause_text(self.registry, c)));
        }
        if let Some(n) = self.nation {
            scope.push(format!("requested by {n}"));
        }
        let n = self.invocations.len();
        let title = format!(
            "{n} invocation{}{}{}",
            if n == 1 { "" } else { "s" },
            if scope.is_empty() { "" } else { " " },
            scope.join(", ")
        );
        report_of(title, [table])
    }
}

/// Who takes part in a consultation or invocation of a clause on a day, and, up to a later day,
/// how that changes.
pub struct Room<'a> {
    pub registry: &'a Registry,
    pub agreement: &'a Agreement,
    pub clause: &'a Clause,
    pub requested_by: Vec<NationCode>,
    pub participants: Participants,
    /// The last day of the changes asked about, and the changes in between.
    pub until: Option<(Date, Vec<ParticipantChange>)>,
}

impl<'a> Room<'a> {
    /// The room of `clause` (`agreement/clause` or an alias) requested by `requested_by` (codes or
    /// names) on `day`, with the changes up to `until` when given.
    pub fn of(
        registry: &'a Registry,
        clause: &str,
        requested_by: &[&str],
        day: Date,
        until: Option<Date>,
    ) -> Result<Self, Error> {
        let (agreement, clause) = registry.clause(clause)?;
        let requested_by = requested_by
            .iter()
            .map(|n| registry.nation_code(n))
            .collect::<Result<Vec<_>, _>>()?;
        let participants = registry.participants(agreement, clause, &requested_by, day)?;
        let until = until.map(|u| (u, registry.participant_changes(agreement, clause, day, u)));
        Ok(Room {
            registry,
            agreement,
            clause,
            requested_by,
            participants,
            until,
        })
    }
}

impl Serialize for Room<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let registry = self.registry;
        let with_name = |nation: NationCode, mut v: serde_json::Value| {
            v["name"] = json!(name_of(registry, nation));
            v
        };
        json!({
            "clause": ClauseRef::of(self.agreement, self.clause),
            "alias": self.clause.alias,
            "article": self.clause.article,
            "kind": self.clause.kind.as_str(),
            "agreement": self.agreement.name,
            "at": self.participants.day,
            "requested_by": self.requested_by,
            "participants": self.participants.entries.iter()
                .map(|p| with_name(p.nation, json!(p)))
                .collect::<Vec<_>>(),
            "until": self.until.as_ref().map(|(u, _)| *u),
            "changes": self.until.as_ref().map(|(_, changes)| changes.iter()
                .map(|c| with_name(c.nation, json!(c)))
                .collect::<Vec<_>>()),
        })
        .serialize(s)
    }
}

impl ToReport for Room<'_> {
    fn report(&self) -> Report {
        let registry = self.registry;
        let mut table = Table::new(["nation", "name", "requesting", "why"]);
        for p in &self.participants.entries {
            table.add_row([
                p.nation.as_str(),
                name_of(registry, p.nation),
                if p.requesting { "yes" } else { "" },
                p.reason.as_str(),
            ]);
        }
        let by: Vec<&str> = self.requested_by.iter().map(|n| n.as_str()).collect();
        let n = self.participants.entries.len();
        let title = format!(
            "{} of the {} ({}), requested by {} on {}: {n} participant{}",
            self.clause.article,
            self.agreement.name,
            self.clause.kind.as_str(),
            if by.is_empty() {
                "-".to_owned()
            } else {
                by.join(", ")
            },
            self.participants.day,
            if n == 1 { "" } else { "s" },
        );
        let mut report = report_of(title, [table]);
        if let Some((until, changes)) = &self.until {
            let mut table = Table::new(["day", "nation", "change", "why"]);
            for c in changes {
                table.add_row([
                    c.day.to_string(),
                    c.nation.to_string(),
                    if c.joined { "joins" } else { "leaves" }.to_owned(),
                    c.reason.clone(),
                ]);
            }
            report.text(format!(
                "Changes after {} up to {until}: {}",
                self.participants.day,
                changes.len()
            ));
            report.table(table);
        }
        report
    }
}
