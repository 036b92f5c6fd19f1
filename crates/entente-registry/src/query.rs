//! The questions coalition staff ask, each answered as of a given day.

use std::collections::{BTreeMap, BTreeSet};

use entente_types::suggest::{closest, Nearness};
use entente_types::{Date, NationCode};

use crate::error::{Error, ErrorKind};
use crate::interval::{Interval, StatedDate};
use crate::model::*;
use crate::Registry;

/// How close an unknown nation, organisation or agreement name must be to a known one to be
/// suggested.
pub(crate) const NAME_NEARNESS: Nearness = Nearness::JaroWinkler(0.7);

/// One agreement clause on which an obligation rests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    pub agreement: AgreementId,
    pub clause_id: String,
    /// The article as cited, e.g. "Article 5".
    pub article: String,
    pub kind: ClauseKind,
}

/// A nation bound to come to another's aid, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defender {
    pub nation: NationCode,
    pub basis: Vec<Basis>,
}

/// One of a nation's memberships, with whether it holds on the day asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationMembership<'a> {
    pub organization: &'a Organization,
    pub membership: &'a Membership,
    pub current: bool,
}

/// An agreement a nation is party to, directly or through an organisation's membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationAgreement<'a> {
    pub agreement: &'a Agreement,
    /// The organisation through whose membership the nation is a party, if not directly.
    pub via: Option<OrgId>,
    pub status: AgreementStatus,
}

/// Everything the registry knows about one nation on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationProfile<'a> {
    pub nation: &'a Nation,
    pub day: Date,
    /// Every membership period, past, present and future.
    pub memberships: Vec<NationMembership<'a>>,
    /// Agreements the nation is a direct party to (whatever their status), and agreements it is a
    /// party to on `day` through membership.
    pub agreements: Vec<NationAgreement<'a>>,
}

/// What happened in a timeline event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimelineEventKind {
    Signed,
    EnteredIntoForce,
    /// An agreement took effect for one nation later than for the others (an accession).
    EnteredIntoForceFor,
    Terminated,
    Established,
    Joined,
    Left,
}

impl TimelineEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineEventKind::Signed => "signed",
            TimelineEventKind::EnteredIntoForce => "entered into force",
            TimelineEventKind::EnteredIntoForceFor => "entered into force for",
            TimelineEventKind::Terminated => "terminated",
            TimelineEventKind::Established => "established",
            TimelineEventKind::Joined => "joined",
            TimelineEventKind::Left => "left",
        }
    }
}

/// A dated event: an agreement signed or in force, an organisation founded, a nation joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    pub date: StatedDate,
    pub kind: TimelineEventKind,
    /// The agreement or organisation concerned.
    pub subject: String,
    /// For membership and accession events, the nation.
    pub nation: Option<NationCode>,
    pub description: String,
    /// The sources of the fact: the membership's, else the agreement's or organisation's.
    pub sources: Vec<SourceId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphNodeKind {
    Nation,
    Organization,
    Agreement,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    pub id: String,
    pub label: String,
    pub kind: GraphNodeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GraphEdgeKind {
    /// A nation is a member of an organisation.
    MemberOf,
    /// An organisation belongs to another (a PESCO project to PESCO).
    PartOf,
    /// A nation or organisation is a party to an agreement.
    PartyTo,
    /// An organisation's members are the parties to an agreement.
    MembersArePartiesTo,
}

impl GraphEdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GraphEdgeKind::MemberOf => "member-of",
            GraphEdgeKind::PartOf => "part-of",
            GraphEdgeKind::PartyTo => "party-to",
            GraphEdgeKind::MembersArePartiesTo => "members-are-parties-to",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub kind: GraphEdgeKind,
}

/// Nations, organisations and agreements in force on one day, and how they connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub day: Date,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// A security-of-information clause in force that covers an exchange between two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityCover<'a> {
    pub agreement: &'a Agreement,
    pub clause: &'a Clause,
}

impl Registry {
    /// Resolves a nation from its alpha-3 code or English name (case-insensitive).
    pub fn nation_code(&self, text: &str) -> Result<NationCode, Error> {
        let trimmed = text.trim();
        if let Ok(code) = trimmed.to_ascii_uppercase().parse::<NationCode>() {
            if trimmed.is_ascii() && self.nations.contains_key(&code) {
                return Ok(code);
            }
        }
        if let Some(n) = self
            .nations
            .values()
            .find(|n| n.name.eq_ignore_ascii_case(trimmed))
        {
            return Ok(n.code);
        }
        let suggestion = closest(
            text.trim(),
            self.nations.values().flat_map(|n| {
                let display = format!("{} ({})", n.code, n.name);
                [
                    (n.code.as_str(), display.clone()),
                    (n.name.as_str(), display),
                ]
            }),
            NAME_NEARNESS,
        );
        Err(Error::new(ErrorKind::UnknownNation {
            text: text.to_owned(),
            suggestion,
        }))
    }

    /// Resolves an organisation from its id or name (case-insensitive).
    pub fn organization(&self, text: &str) -> Result<&Organization, Error> {
        let trimmed = text.trim();
        if let Some(&i) = self.org_index.get(&trimmed.to_ascii_uppercase()) {
            return Ok(&self.organizations[i]);
        }
        if let Some(o) = self
            .organizations
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(trimmed))
        {
            return Ok(o);
        }
        let suggestion = closest(
            text.trim(),
            self.organizations.iter().flat_map(|o| {
                let display = format!("{} ({})", o.id, o.name);
                [
                    (o.id.0.as_str(), display.clone()),
                    (o.name.as_str(), display),
                ]
            }),
            NAME_NEARNESS,
        );
        Err(Error::new(ErrorKind::UnknownOrganization {
            text: text.to_owned(),
            suggestion,
        }))
    }

    /// Resolves an agreement from its id or name (case-insensitive).
    pub fn agreement(&self, text: &str) -> Result<&Agreement, Error> {
        let trimmed = text.trim();
        if let Some(&i) = self.agreement_index.get(&trimmed.to_ascii_lowercase()) {
            return Ok(&self.agreements[i]);
        }
        if let Some(a) = self
            .agreements
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(trimmed))
        {
            return Ok(a);
        }
        let suggestion = closest(
            text.trim(),
            self.agreements.iter().flat_map(|a| {
                [
                    (a.id.0.as_str(), a.id.0.clone()),
                    (a.name.as_str(), a.id.0.clone()),
                ]
            }),
            NAME_NEARNESS,
        );
        Err(Error::new(ErrorKind::UnknownAgreement {
            text: text.to_owned(),
            suggestion,
        }))
    }

    /// Resolves a party: a nation (code or name) or an organisation (id or name). The suggestion,
    /// if nothing matches, is drawn from both.
    pub fn party(&self, text: &str) -> Result<Party, Error> {
        if let Ok(code) = self.nation_code(text) {
            return Ok(Party::Nation(code));
        }
        if let Ok(org) = self.organization(text) {
            return Ok(Party::Organization(org.id.clone()));
        }
        let suggestion = closest(
            text.trim(),
            self.nations
                .values()
                .flat_map(|n| {
                    let display = format!("{} ({})", n.code, n.name);
                    [
                        (n.code.as_str(), display.clone()),
                        (n.name.as_str(), display),
                    ]
                })
                .chain(self.organizations.iter().flat_map(|o| {
                    let display = format!("{} ({})", o.id, o.name);
                    [
                        (o.id.0.as_str(), display.clone()),
                        (o.name.as_str(), display),
                    ]
                })),
            NAME_NEARNESS,
        );
        Err(Error::new(ErrorKind::UnknownNation {
            text: text.to_owned(),
            suggestion,
        }))
    }

    /// The full members of `org` on `day`, sorted by code.
    pub fn members(&self, org: &Organization, day: Date) -> Vec<NationCode> {
        let set: BTreeSet<NationCode> = org
            .memberships
            .iter()
            .filter(|m| m.role == Role::Member && m.period.contains(day))
            .map(|m| m.nation)
            .collect();
        set.into_iter().collect()
    }

    /// Every day on which a membership, an agreement, a suspension or an accession starts or
    /// stops holding: the days on which an answer as of a day, and so a release decision, may
    /// change.
    pub fn change_days(&self) -> BTreeSet<Date> {
        let mut days = BTreeSet::new();
        let mut interval = |i: &Interval| {
            days.insert(i.from);
            if let Some(next) = i.until.and_then(|u| u.succ_opt()) {
                days.insert(next);
            }
        };
        for org in &self.organizations {
            for m in &org.memberships {
                interval(&m.period);
            }
        }
        for a in &self.agreements {
            if let Some(p) = a.force_period() {
                interval(&p);
            }
            for s in &a.suspended {
                interval(s);
            }
        }
        for a in &self.agreements {
            for (_, d) in &a.accessions {
                days.insert(d.earliest_certain_start());
            }
        }
        days
    }

    /// The last day on or before `day` on which anything the registry says changed
    /// ([`Registry::change_days`]): two days with the same epoch get the same answers.
    pub fn epoch(&self, day: Date) -> Option<Date> {
        self.change_days().range(..=day).next_back().copied()
    }

    /// Whether `nation` is a full member of the organisation `org` on `day`.
    pub fn is_member(&self, nation: NationCode, org: &OrgId, day: Date) -> bool {
        self.organization_by_id(org)
            .is_some_and(|o| o.has_member(nation, day))
    }

    /// The nations that are parties to `agreement` on `day` (directly or as members of the
    /// organisation whose members are the parties), whether or not it is in force that day.
    pub fn parties_on(&self, agreement: &Agreement, day: Date) -> BTreeSet<NationCode> {
        let mut parties: BTreeSet<NationCode> = agreement
            .parties
            .iter()
            .filter_map(|p| match p {
                Party::Nation(n) => Some(*n),
                Party::Organization(_) => None,
            })
            .collect();
        if let Some(org) = agreement
            .parties_are_members_of
            .as_ref()
            .and_then(|o| self.organization_by_id(o))
        {
            parties.extend(self.members(org, day));
        }
        parties.retain(|&n| agreement.applies_to_nation_on(n, day));
        parties
    }

    /// On what `nation`'s being a party to `agreement` on `day` rests, or `None` if it is not a
    /// party that day. A release decision made under the agreement should say so when the basis
    /// is not confirmed (a presumed date).
    pub fn party_basis(
        &self,
        agreement: &Agreement,
        nation: NationCode,
        day: Date,
    ) -> Option<PartyBasis> {
        if !self.is_party(agreement, &Party::Nation(nation), day) {
            return None;
        }
        if agreement.parties.contains(&Party::Nation(nation)) {
            return Some(PartyBasis::Named);
        }
        if let Some(acc) = agreement
            .accession_records
            .iter()
            .find(|a| a.nation == nation)
        {
            return Some(PartyBasis::OwnDate {
                day: acc.in_force,
                qualifier: acc.qualifier,
            });
        }
        let organization = agreement.parties_are_members_of.clone()?;
        Some(match agreement.member_dates {
            MemberDates::Confirmed => PartyBasis::Member { organization },
            MemberDates::Unconfirmed => PartyBasis::PresumedMember { organization },
        })
    }

    /// Whether `party` is a party to `agreement` on `day`. An organisation counts when it is named
    /// as a party or when its members are the parties.
    pub fn is_party(&self, agreement: &Agreement, party: &Party, day: Date) -> bool {
        match party {
            Party::Nation(n) => {
                (agreement.parties.contains(party)
                    || agreement
                        .parties_are_members_of
                        .as_ref()
                        .is_some_and(|o| self.is_member(*n, o, day)))
                    && agreement.applies_to_nation_on(*n, day)
            }
            Party::Organization(o) => {
                agreement.parties.contains(party)
                    || agreement.parties_are_members_of.as_ref() == Some(o)
            }
        }
    }

    /// Who is bound, on `day`, to come to `nation`'s aid, with every clause that binds them.
    /// Sorted by nation; each defender's basis is sorted by agreement and clause.
    pub fn obligations_toward(&self, nation: NationCode, day: Date) -> Vec<Defender> {
        let mut defenders: BTreeMap<NationCode, Vec<Basis>> = BTreeMap::new();
        for agreement in self.agreements.iter().filter(|a| a.is_in_force(day)) {
            let clauses: Vec<&Clause> = agreement
                .clauses
                .iter()
                .filter(|c| c.kind.is_defence_obligation())
                .filter(|c| c.protects.is_empty() || c.protects.contains(&nation))
                .collect();
            if clauses.is_empty() {
                continue;
            }
            let parties = self.parties_on(agreement, day);
            if !parties.contains(&nation) {
                continue;
            }
            for defender in parties.into_iter().filter(|&p| p != nation) {
                let basis = defenders.entry(defender).or_default();
                basis.extend(clauses.iter().map(|c| Basis {
                    agreement: agreement.id.clone(),
                    clause_id: c.id.clone(),
                    article: c.article.clone(),
                    kind: c.kind,
                }));
            }
        }
        defenders
            .into_iter()
            .map(|(nation, mut basis)| {
                basis.sort_by(|a, b| {
                    (&a.agreement, &a.clause_id).cmp(&(&b.agreement, &b.clause_id))
                });
                Defender { nation, basis }
            })
            .collect()
    }

    /// Agreements in force on `day`, optionally only those `party` is a party to on that day.
    pub fn agreements_in_force(&self, party: Option<&Party>, day: Date) -> Vec<&Agreement> {
        self.agreements
            .iter()
            .filter(|a| a.is_in_force(day))
            .filter(|a| party.is_none_or(|p| self.is_party(a, p, day)))
            .collect()
    }

    /// Every agreement `party` is or was a party to at some time, whatever its status.
    pub fn agreements_involving(&self, party: &Party) -> Vec<&Agreement> {
        self.agreements
            .iter()
            .filter(|a| match party {
                Party::Nation(n) => {
                    a.parties.contains(party)
                        || a.parties_are_members_of
                            .as_ref()
                            .and_then(|o| self.organization_by_id(o))
                            .is_some_and(|o| {
                                o.memberships
                                    .iter()
                                    .any(|m| m.nation == *n && m.role == Role::Member)
                            })
                }
                Party::Organization(_) => self.is_party(a, party, Date::MIN),
            })
            .collect()
    }

    /// A nation's memberships and agreements as of `day`.
    pub fn nation_profile(
        &self,
        nation: NationCode,
        day: Date,
    ) -> Result<NationProfile<'_>, Error> {
        let record = self.nation(nation).ok_or_else(|| {
            Error::new(ErrorKind::UnknownNation {
                text: nation.to_string(),
                suggestion: None,
            })
        })?;
        let mut memberships: Vec<NationMembership<'_>> = self
            .organizations
            .iter()
            .flat_map(|o| {
                o.memberships
                    .iter()
                    .filter(|m| m.nation == nation)
                    .map(move |m| NationMembership {
                        organization: o,
                        membership: m,
                        current: m.period.contains(day),
                    })
            })
            .collect();
        memberships.sort_by_key(|m| (m.membership.period.from, m.organization.id.clone()));
        let party = Party::Nation(nation);
        let agreements = self
            .agreements
            .iter()
            .filter_map(|a| {
                if a.parties.contains(&party) {
                    return Some(NationAgreement {
                        agreement: a,
                        via: None,
                        status: a.status(day),
                    });
                }
                let org = a.parties_are_members_of.as_ref()?;
                self.is_member(nation, org, day).then(|| NationAgreement {
                    agreement: a,
                    via: Some(org.clone()),
                    status: a.status(day),
                })
            })
            .collect();
        Ok(NationProfile {
            nation: record,
            day,
            memberships,
            agreements,
        })
    }

    /// Dated events between two years (inclusive), in date order.
    pub fn timeline(&self, from_year: Option<i32>, to_year: Option<i32>) -> Vec<TimelineEvent> {
        let mut events = Vec::new();
        for a in &self.agreements {
            let dates = [
                (a.signed, TimelineEventKind::Signed),
                (a.in_force, TimelineEventKind::EnteredIntoForce),
                (a.terminated, TimelineEventKind::Terminated),
            ];
            for (date, kind) in dates {
                let Some(date) = date else { continue };
                events.push(TimelineEvent {
                    date,
                    kind,
                    subject: a.id.0.clone(),
                    nation: None,
                    description: format!("{} {}", a.name, kind.as_str()),
                    sources: a.sources.clone(),
                });
            }
        }
        for o in &self.organizations {
            if let Some(date) = o.established {
                events.push(TimelineEvent {
                    date,
                    kind: TimelineEventKind::Established,
                    subject: o.id.0.clone(),
                    nation: None,
                    description: format!("{} established", o.name),
                    sources: o.sources.clone(),
                });
            }
            for m in &o.memberships {
                let name = self.nation(m.nation).map_or(m.nation.as_str(), |n| &n.name);
                let role = match m.role {
                    Role::Member => String::new(),
                    other => format!(" as {}", other.as_str().replace('-', " ")),
                };
                events.push(TimelineEvent {
                    date: m.stated_from,
                    kind: TimelineEventKind::Joined,
                    subject: o.id.0.clone(),
                    nation: Some(m.nation),
                    description: format!("{name} joins {}{role}", o.name),
                    sources: m.sources.clone(),
                });
                if let Some(until) = m.stated_until {
                    events.push(TimelineEvent {
                        date: until,
                        kind: TimelineEventKind::Left,
                        subject: o.id.0.clone(),
                        nation: Some(m.nation),
                        description: format!(
                            "{name}'s participation in {} ends (last day)",
                            o.name
                        ),
                        sources: m.sources.clone(),
                    });
                }
            }
        }
        events.retain(|e| {
            let y = e.date.year();
            from_year.is_none_or(|f| y >= f) && to_year.is_none_or(|t| y <= t)
        });
        sort_events(&mut events);
        events
    }

    /// The dated events that concern `nation`, in date order: its joining and leaving
    /// organisations, and the signature, entry into force and end of every agreement it is or was
    /// a party to, with the agreement's later entry into force for it where one is recorded.
    pub fn timeline_of(&self, nation: NationCode) -> Vec<TimelineEvent> {
        let involving: BTreeSet<&AgreementId> = self
            .agreements_involving(&Party::Nation(nation))
            .into_iter()
            .map(|a| &a.id)
            .collect();
        let mut events: Vec<TimelineEvent> = self
            .timeline(None, None)
            .into_iter()
            .filter(|e| match e.nation {
                Some(n) => n == nation,
                None => involving.contains(&AgreementId(e.subject.clone())),
            })
            .collect();
        let name = self.nation(nation).map_or(nation.as_str(), |n| &n.name);
        for a in self.agreements.iter().filter(|a| involving.contains(&a.id)) {
            for (_, date) in a.accessions.iter().filter(|(n, _)| *n == nation) {
                events.push(TimelineEvent {
                    date: *date,
                    kind: TimelineEventKind::EnteredIntoForceFor,
                    subject: a.id.0.clone(),
                    nation: Some(nation),
                    description: format!("{} enters into force for {name}", a.name),
                    sources: a.sources.clone(),
                });
            }
        }
        sort_events(&mut events);
        events
    }

    /// The graph of nations, organisations and agreements in force on `day`.
    pub fn graph(&self, day: Date) -> Graph {
        let mut nodes: BTreeMap<String, GraphNode> = BTreeMap::new();
        let mut edges: BTreeSet<GraphEdge> = BTreeSet::new();
        let nation_node = |nodes: &mut BTreeMap<String, GraphNode>, n: NationCode| {
            let label = self
                .nation(n)
                .map_or_else(|| n.to_string(), |x| x.name.clone());
            nodes.entry(n.to_string()).or_insert(GraphNode {
                id: n.to_string(),
                label,
                kind: GraphNodeKind::Nation,
            });
        };
        for o in &self.organizations {
            let members = self.members(o, day);
            if members.is_empty() {
                continue;
            }
            nodes.insert(
                o.id.0.clone(),
                GraphNode {
                    id: o.id.0.clone(),
                    label: o.name.clone(),
                    kind: GraphNodeKind::Organization,
                },
            );
            for n in members {
                nation_node(&mut nodes, n);
                edges.insert(GraphEdge {
                    from: n.to_string(),
                    to: o.id.0.clone(),
                    kind: GraphEdgeKind::MemberOf,
                });
            }
            if let Some(parent) = &o.parent {
                edges.insert(GraphEdge {
                    from: o.id.0.clone(),
                    to: parent.0.clone(),
                    kind: GraphEdgeKind::PartOf,
                });
            }
        }
        for a in self.agreements.iter().filter(|a| a.is_in_force(day)) {
            nodes.insert(
                a.id.0.clone(),
                GraphNode {
                    id: a.id.0.clone(),
                    label: a.name.clone(),
                    kind: GraphNodeKind::Agreement,
                },
            );
            for p in &a.parties {
                if let Party::Nation(n) = p {
                    nation_node(&mut nodes, *n);
                }
                edges.insert(GraphEdge {
                    from: p.to_string(),
                    to: a.id.0.clone(),
                    kind: GraphEdgeKind::PartyTo,
                });
            }
            if let Some(o) = &a.parties_are_members_of {
                edges.insert(GraphEdge {
                    from: o.0.clone(),
                    to: a.id.0.clone(),
                    kind: GraphEdgeKind::MembersArePartiesTo,
                });
            }
        }
        // An edge may name an organisation with no members that day (a party or a parent): keep
        // the graph closed by adding it as a node.
        for e in &edges {
            for end in [&e.from, &e.to] {
                if !nodes.contains_key(end) {
                    if let Some(o) = self.organization_by_id(&OrgId(end.clone())) {
                        nodes.insert(
                            end.clone(),
                            GraphNode {
                                id: end.clone(),
                                label: o.name.clone(),
                                kind: GraphNodeKind::Organization,
                            },
                        );
                    }
                }
            }
        }
        Graph {
            day,
            nodes: nodes.into_values().collect(),
            edges: edges.into_iter().collect(),
        }
    }

    /// Security-of-information clauses in force on `day` under which `a` and `b` may exchange
    /// classified information: both are parties to the same agreement that day.
    pub fn security_cover(&self, a: &Party, b: &Party, day: Date) -> Vec<SecurityCover<'_>> {
        self.agreements
            .iter()
            .filter(|ag| {
                ag.is_in_force(day) && self.is_party(ag, a, day) && self.is_party(ag, b, day)
            })
            .flat_map(|ag| {
                ag.clauses
                    .iter()
                    .filter(|c| c.kind == ClauseKind::SecurityOfInformation)
                    .map(move |clause| SecurityCover {
                        agreement: ag,
                        clause,
                    })
            })
            .collect()
    }
}

/// Date order; on one day, by kind, subject and nation, so that the order is stable.
fn sort_events(events: &mut [TimelineEvent]) {
    events.sort_by(|a, b| {
        (a.date.sort_key(), a.kind, &a.subject, a.nation).cmp(&(
            b.date.sort_key(),
            b.kind,
            &b.subject,
            b.nation,
        ))
    });
}

/// The interval of a membership, as a helper for callers that only need the days.
impl NationMembership<'_> {
    pub fn period(&self) -> Interval {
        self.membership.period
    }
}
