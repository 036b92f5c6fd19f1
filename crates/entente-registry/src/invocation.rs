//! Invocations of consultation and defence clauses, and who takes part in one: the parties of the
//! clause's agreement on the day it is requested, each with why.

use std::collections::BTreeSet;
use std::fmt;

use entente_types::suggest::closest;
use entente_types::{Date, NationCode};
use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::interval::StatedDate;
use crate::model::*;
use crate::query::NAME_NEARNESS;
use crate::Registry;

/// One clause of one agreement, written `agreement/clause` (e.g. `north-atlantic-treaty/art4`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClauseRef {
    pub agreement: AgreementId,
    pub clause: String,
}

impl ClauseRef {
    pub fn of(agreement: &Agreement, clause: &Clause) -> ClauseRef {
        ClauseRef {
            agreement: agreement.id.clone(),
            clause: clause.id.clone(),
        }
    }
}

impl fmt::Display for ClauseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.agreement, self.clause)
    }
}

impl Serialize for ClauseRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A recorded request for consultation under a clause, or invocation of a defence clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invocation {
    /// E.g. `nato-art4-2022-02-24`.
    pub id: String,
    pub clause: ClauseRef,
    /// The nations that made the request (for a defence clause, the party attacked on whose behalf
    /// it was invoked), sorted by code.
    pub requested_by: Vec<NationCode>,
    pub requested: StatedDate,
    /// The first meeting held under the clause on this request.
    pub met: Option<StatedDate>,
    /// The day the matter was closed, when the sources give one.
    pub closed: Option<StatedDate>,
    pub summary: String,
    pub sources: Vec<SourceId>,
    pub note: Option<String>,
}

impl Invocation {
    /// The days on which the request may have been made: the stated day, or every day of the
    /// stated month or year.
    pub fn requested_days(&self) -> (Date, Date) {
        (
            self.requested.sort_key(),
            self.requested.last_possible_day(),
        )
    }
}

/// Who takes part in a consultation or invocation on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participants {
    pub day: Date,
    /// Sorted by nation code.
    pub entries: Vec<Participant>,
}

impl Participants {
    pub fn nations(&self) -> impl Iterator<Item = NationCode> + '_ {
        self.entries.iter().map(|p| p.nation)
    }
}

/// One nation in the room, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub nation: NationCode,
    /// Whether the nation is one of those that requested the consultation.
    pub requesting: bool,
    pub basis: PartyBasis,
    /// One sentence a user reads, e.g. "member of NATO since 2004-03-29", "party to the Treaty of
    /// Aachen (bound by Article 4(1))", "member of the EU since 1995-01-01 (bound by Article 42(7))".
    pub reason: String,
}

/// A day on which a nation joins or leaves the parties to a clause's agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantChange {
    /// The first day on which the change holds.
    pub day: Date,
    pub nation: NationCode,
    pub joined: bool,
    pub reason: String,
}

/// The short name of an agreement for sentences: its parenthesised name when it has one
/// ("Treaty of Aachen"), else its name.
fn short_name(agreement: &Agreement) -> String {
    let name = agreement.name.trim();
    let short = name
        .strip_suffix(')')
        .and_then(|n| n.rsplit_once(" ("))
        .map(|(_, inner)| inner)
        .filter(|inner| {
            // A year or a list of instruments is not a name.
            !inner.contains(';') && inner.chars().next().is_some_and(char::is_alphabetic)
        })
        .unwrap_or(name);
    if short.starts_with("the ") || short.starts_with("The ") {
        short.to_owned()
    } else {
        format!("the {short}")
    }
}

/// How a sentence names an organisation: "NATO", "the EU".
fn org_name(org: &Organization) -> String {
    match org.kind {
        OrgKind::Union => format!("the {}", org.id),
        _ => org.id.to_string(),
    }
}

/// The clause as errors name it: `north-atlantic-treaty/art4 (Article 4)`.
fn clause_label(agreement: &Agreement, clause: &Clause) -> String {
    format!("{} ({})", ClauseRef::of(agreement, clause), clause.article)
}

impl Registry {
    /// Every recorded invocation, in the order of the days they were requested.
    pub fn invocations(&self) -> &[Invocation] {
        &self.invocations
    }

    /// Resolves `agreement/clause` (agreement id case-insensitive) or a clause alias. An unknown
    /// one is an error suggesting the closest.
    pub fn clause(&self, text: &str) -> Result<(&Agreement, &Clause), Error> {
        let trimmed = text.trim();
        let key = trimmed.to_ascii_lowercase();
        if let Some(&(a, c)) = self.clause_aliases.get(&key) {
            let agreement = &self.agreements[a];
            return Ok((agreement, &agreement.clauses[c]));
        }
        if let Some((agreement, clause)) = trimmed.split_once('/') {
            if let Some(a) = self.agreement_by_id(&AgreementId(agreement.trim().to_owned())) {
                if let Some(c) = a.clauses.iter().find(|c| c.id == clause.trim()) {
                    return Ok((a, c));
                }
            }
        }
        let candidates: Vec<(String, String)> = self
            .agreements
            .iter()
            .flat_map(|a| {
                a.clauses.iter().flat_map(move |c| {
                    let reference = ClauseRef::of(a, c).to_string();
                    let display = match &c.alias {
                        Some(alias) => format!("{alias} ({reference})"),
                        None => reference.clone(),
                    };
                    let mut keys = vec![(reference, display.clone())];
                    if let Some(alias) = &c.alias {
                        keys.push((alias.clone(), display));
                    }
                    keys
                })
            })
            .collect();
        let suggestion = closest(
            trimmed,
            candidates.iter().map(|(k, d)| (k.as_str(), d.clone())),
            NAME_NEARNESS,
        );
        Err(Error::new(ErrorKind::UnknownClause {
            text: text.to_owned(),
            suggestion,
        }))
    }

    /// Who takes part in a consultation or an invocation of `clause` requested by `requested_by`
    /// on `day`: the parties of the clause's agreement that day (for NATO, its members that day;
    /// for Article 42(7) TEU, the EU's; for a bilateral treaty, its parties), each with why.
    ///
    /// An error names the clause, day or nation at fault: the agreement does not apply that day,
    /// the clause is not a consultation, collective-defence or mutual-assistance clause, or a
    /// requesting nation is not a party that day (or, for a defence clause that protects only
    /// some parties, not one of them).
    pub fn participants(
        &self,
        agreement: &Agreement,
        clause: &Clause,
        requested_by: &[NationCode],
        day: Date,
    ) -> Result<Participants, Error> {
        let label = || clause_label(agreement, clause);
        if !clause.kind.is_invocable() {
            return Err(Error::new(ErrorKind::NotInvocable {
                clause: label(),
                kind: clause.kind,
            }));
        }
        if !agreement.is_in_force(day) {
            return Err(Error::new(ErrorKind::NotInForce {
                clause: label(),
                day,
                status: agreement.status(day).as_str(),
            }));
        }
        let parties = self.parties_on(agreement, day);
        for &nation in requested_by {
            if !parties.contains(&nation) {
                return Err(Error::new(ErrorKind::NotAParty {
                    nation,
                    clause: label(),
                    day,
                }));
            }
            if clause.kind.is_defence_obligation()
                && !clause.protects.is_empty()
                && !clause.protects.contains(&nation)
            {
                return Err(Error::new(ErrorKind::NotProtected {
                    nation,
                    clause: label(),
                }));
            }
        }
        let entries = parties
            .into_iter()
            .filter_map(|nation| {
                let basis = self.party_basis(agreement, nation, day)?;
                let reason = self.reason(agreement, clause, nation, &basis, day);
                Some(Participant {
                    nation,
                    requesting: requested_by.contains(&nation),
                    basis,
                    reason,
                })
            })
            .collect();
        Ok(Participants { day, entries })
    }

    /// The sentence saying why `nation` is in the room on `day`.
    fn reason(
        &self,
        agreement: &Agreement,
        clause: &Clause,
        nation: NationCode,
        basis: &PartyBasis,
        day: Date,
    ) -> String {
        let mut reason = match basis {
            PartyBasis::Named => format!("party to {}", short_name(agreement)),
            PartyBasis::Member { organization } => match self.organization_by_id(organization) {
                Some(org) => {
                    let since = org
                        .memberships
                        .iter()
                        .find(|m| {
                            m.nation == nation && m.role == Role::Member && m.period.contains(day)
                        })
                        .map(|m| format!(" since {}", m.stated_from))
                        .unwrap_or_default();
                    format!("member of {}{since}", org_name(org))
                }
                None => format!("member of {organization}"),
            },
            PartyBasis::OwnDate { day, qualifier } => match qualifier {
                DateQualifier::On => format!("party to {} since {day}", short_name(agreement)),
                DateQualifier::AtLatest => format!(
                    "party to {} since {day} at the latest",
                    short_name(agreement)
                ),
                DateQualifier::NotBefore => format!("{basis} ({})", short_name(agreement)),
            },
            PartyBasis::PresumedMember { .. } => format!("{basis} ({})", short_name(agreement)),
        };
        if clause.kind.is_defence_obligation() {
            reason.push_str(&format!(" (bound by {})", clause.article));
        }
        reason
    }

    /// The participants of `clause` on `day` as a set: the parties of its agreement that day,
    /// none when the agreement does not apply.
    fn participant_set(&self, agreement: &Agreement, day: Date) -> BTreeSet<NationCode> {
        if agreement.is_in_force(day) {
            self.parties_on(agreement, day)
        } else {
            BTreeSet::new()
        }
    }

    /// The days in `(from, until]` on which the participants of `clause` change (accessions,
    /// withdrawals, the agreement entering into force for a nation or ceasing to apply), each with
    /// the nation, whether it joined or left, and why. Sorted by day, then nation.
    pub fn participant_changes(
        &self,
        agreement: &Agreement,
        // Every clause of an agreement has the same parties.
        _clause: &Clause,
        from: Date,
        until: Date,
    ) -> Vec<ParticipantChange> {
        let org = agreement
            .parties_are_members_of
            .as_ref()
            .and_then(|o| self.organization_by_id(o));
        // The set can only change on the first day of an interval or the day after its end: the
        // agreement's force, its suspensions, the organisation's memberships and the accessions.
        let mut candidates: BTreeSet<Date> = BTreeSet::new();
        let mut bounds = |start: Date, end: Option<Date>| {
            candidates.insert(start);
            if let Some(next) = end.and_then(|e| e.succ_opt()) {
                candidates.insert(next);
            }
        };
        if let Some(p) = agreement.force_period() {
            bounds(p.from, p.until);
        }
        for s in &agreement.suspended {
            bounds(s.from, s.until);
        }
        if let Some(org) = org {
            for m in &org.memberships {
                bounds(m.period.from, m.period.until);
            }
        }
        for (_, d) in &agreement.accessions {
            bounds(d.earliest_certain_start(), None);
        }
        let mut changes = Vec::new();
        for day in candidates.range((
            std::ops::Bound::Excluded(from),
            std::ops::Bound::Included(until),
        )) {
            let Some(before) = day.pred_opt() else {
                continue;
            };
            let old = self.participant_set(agreement, before);
            let new = self.participant_set(agreement, *day);
            for &nation in new.difference(&old) {
                changes.push(ParticipantChange {
                    day: *day,
                    nation,
                    joined: true,
                    reason: self.change_reason(agreement, org, nation, *day, true),
                });
            }
            for &nation in old.difference(&new) {
                changes.push(ParticipantChange {
                    day: *day,
                    nation,
                    joined: false,
                    reason: self.change_reason(agreement, org, nation, *day, false),
                });
            }
        }
        changes.sort_by_key(|c| (c.day, c.nation));
        changes
    }

    /// Why `nation` joined (or left) on `day`: the first cause that holds.
    fn change_reason(
        &self,
        agreement: &Agreement,
        org: Option<&Organization>,
        nation: NationCode,
        day: Date,
        joined: bool,
    ) -> String {
        let name = short_name(agreement);
        let period = agreement.force_period();
        let before = day.pred_opt().unwrap_or(day);
        if joined {
            if period.is_some_and(|p| p.from == day) {
                return format!("{name} entered into force");
            }
            if agreement.suspended.iter().any(|s| s.contains(before)) {
                return format!("{name} applies again after its suspension");
            }
            if let Some(m) = org.and_then(|o| {
                o.memberships
                    .iter()
                    .find(|m| m.nation == nation && m.role == Role::Member && m.period.from == day)
            }) {
                let org = org.map(org_name).unwrap_or_default();
                return format!("joined {org} on {}", m.stated_from);
            }
            if let Some((_, d)) = agreement
                .accessions
                .iter()
                .find(|(n, d)| *n == nation && d.earliest_certain_start() == day)
            {
                return format!("{name} entered into force for it on {d}");
            }
            format!("became a party to {name}")
        } else {
            if period.is_some_and(|p| p.until == Some(before)) {
                return format!("{name} ceased to apply");
            }
            if agreement.suspended.iter().any(|s| s.contains(day)) {
                return format!("{name} was suspended");
            }
            if let Some(m) = org.and_then(|o| {
                o.memberships.iter().find(|m| {
                    m.nation == nation && m.role == Role::Member && m.period.until == Some(before)
                })
            }) {
                let org = org.map(org_name).unwrap_or_default();
                let last = m
                    .stated_until
                    .map_or_else(|| before.to_string(), |u| u.to_string());
                return format!("left {org} (last day {last})");
            }
            format!("ceased to be a party to {name}")
        }
    }
}

#[cfg(test)]
mod tests;
