//! The registry's data: plain values, validated once by the loader and immutable afterwards.

use std::fmt;

use entente_types::{Date, NationCode};

use crate::interval::{Interval, StatedDate};

/// The key of a source in `sources.toml` (e.g. `N9`); every fact names at least one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SourceId(pub String);

/// A bibliographic source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: SourceId,
    pub title: String,
    pub reference: String,
    /// Where the document can be read, when it is published online.
    pub url: Option<String>,
    /// How far the source can be relied on.
    pub tier: Tier,
}

/// How far a source can be relied on (`tier` in `sources.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// 1: the document itself or its publisher of record: treaty text, depositary, official
    /// journal, national treaty series, the organisation's own site, official statistics.
    Primary,
    /// 2: a reputable secondary source: an established news agency, a research institute, a
    /// parliament's research service.
    Secondary,
    /// 3: a weak source (wikis and their mirrors, blogs, aggregators): never a fact's only support.
    Weak,
}

impl Tier {
    pub const ALL: [(i64, Tier); 3] = [(1, Tier::Primary), (2, Tier::Secondary), (3, Tier::Weak)];

    /// The number written in `sources.toml`.
    pub fn number(self) -> u8 {
        match self {
            Tier::Primary => 1,
            Tier::Secondary => 2,
            Tier::Weak => 3,
        }
    }
}

/// A nation, keyed by its ISO 3166-1 alpha-3 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nation {
    pub code: NationCode,
    pub name: String,
    pub sources: Vec<SourceId>,
}

/// The id of an organisation or group, e.g. `NATO`, `PESCO-MM`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct OrgId(pub String);

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What sort of body an organisation is; used for display and graph styling only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgKind {
    Alliance,
    Union,
    Framework,
    Partnership,
    Project,
    Initiative,
    IntelligenceAlliance,
    Forum,
}

impl OrgKind {
    pub const ALL: [(&'static str, OrgKind); 8] = [
        ("alliance", OrgKind::Alliance),
        ("union", OrgKind::Union),
        ("framework", OrgKind::Framework),
        ("partnership", OrgKind::Partnership),
        ("project", OrgKind::Project),
        ("initiative", OrgKind::Initiative),
        ("intelligence-alliance", OrgKind::IntelligenceAlliance),
        ("forum", OrgKind::Forum),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }
}

/// The capacity in which a nation takes part in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A full member: counted by `members` and by obligations derived from membership.
    Member,
    /// A participating third state (e.g. the United States in PESCO Military Mobility).
    ThirdState,
    /// An observer without membership.
    Observer,
}

impl Role {
    pub const ALL: [(&'static str, Role); 3] = [
        ("member", Role::Member),
        ("third-state", Role::ThirdState),
        ("observer", Role::Observer),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }
}

/// One continuous period of a nation's participation; a nation that left and rejoined has two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub nation: NationCode,
    pub role: Role,
    /// The days on which participation is certain (partial dates resolved conservatively).
    pub period: Interval,
    /// The dates as the sources state them.
    pub stated_from: StatedDate,
    pub stated_until: Option<StatedDate>,
    pub sources: Vec<SourceId>,
    pub note: Option<String>,
    /// Stated conditions of this membership for part of its period (e.g. France outside NATO's
    /// integrated military command from 1966 to 2009). They describe the membership; they never
    /// change who is a member nor what membership obliges.
    pub attributes: Vec<MembershipAttribute>,
}

impl Membership {
    /// The attributes that hold on `day`.
    pub fn attributes_on(&self, day: Date) -> impl Iterator<Item = &MembershipAttribute> {
        self.attributes
            .iter()
            .filter(move |a| a.period.contains(day))
    }
}

/// A condition of one membership over a period of it, e.g. `outside-integrated-command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipAttribute {
    /// A lower-case keyword (letters, digits and `-`).
    pub id: String,
    /// The days on which the attribute is certain (partial dates resolved conservatively); it
    /// lies within the membership's period.
    pub period: Interval,
    pub stated_from: StatedDate,
    pub stated_until: Option<StatedDate>,
    pub sources: Vec<SourceId>,
    pub note: Option<String>,
}

/// A rule that no nation takes part in an organisation while its membership of another carries an
/// attribute (Denmark took part in no EU defence body while its CSDP opt-out applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub organization: OrgId,
    pub attribute: String,
}

/// An organisation, alliance, framework or group of nations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    /// The body this one belongs to (a PESCO project's parent is PESCO).
    pub parent: Option<OrgId>,
    pub established: Option<StatedDate>,
    pub memberships: Vec<Membership>,
    pub sources: Vec<SourceId>,
    pub note: Option<String>,
    /// Nations whose membership of another organisation carries a given attribute on a day do
    /// not take part in this one that day; the loader refuses a participation that would.
    pub excluded_by: Vec<Exclusion>,
}

impl Organization {
    /// The attributes of `nation`'s membership that hold on `day` (empty if it is no participant).
    pub fn attributes_of(&self, nation: NationCode, day: Date) -> Vec<&MembershipAttribute> {
        self.memberships
            .iter()
            .filter(|m| m.nation == nation && m.period.contains(day))
            .flat_map(|m| m.attributes_on(day))
            .collect()
    }

    /// Whether `nation` is a full member on `day`.
    pub fn has_member(&self, nation: NationCode, day: Date) -> bool {
        self.memberships
            .iter()
            .any(|m| m.nation == nation && m.role == Role::Member && m.period.contains(day))
    }
}

/// The id of an agreement, e.g. `north-atlantic-treaty`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AgreementId(pub String);

impl fmt::Display for AgreementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The legal character of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementKind {
    Treaty,
    Agreement,
    Arrangement,
    Declaration,
    Statement,
}

impl AgreementKind {
    pub const ALL: [(&'static str, AgreementKind); 5] = [
        ("treaty", AgreementKind::Treaty),
        ("agreement", AgreementKind::Agreement),
        ("arrangement", AgreementKind::Arrangement),
        ("declaration", AgreementKind::Declaration),
        ("statement", AgreementKind::Statement),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }
}

/// A party to an agreement: a nation, or an organisation acting as a legal person (e.g. NATO in
/// its security agreement with Japan).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    Nation(NationCode),
    Organization(OrgId),
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Nation(n) => write!(f, "{n}"),
            Party::Organization(o) => write!(f, "{o}"),
        }
    }
}

/// What a clause does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClauseKind {
    /// An attack on one party is an attack on all (NATO Art. 5).
    CollectiveDefence,
    /// An obligation of aid and assistance (TEU Art. 42(7), Aachen Art. 4(1)).
    MutualAssistance,
    /// Rules for exchanging classified information.
    SecurityOfInformation,
    /// An undertaking to consult (NATO Art. 4).
    Consultation,
    /// Cooperation without a defence obligation.
    Cooperation,
}

impl ClauseKind {
    pub const ALL: [(&'static str, ClauseKind); 5] = [
        ("collective-defence", ClauseKind::CollectiveDefence),
        ("mutual-assistance", ClauseKind::MutualAssistance),
        ("security-of-information", ClauseKind::SecurityOfInformation),
        ("consultation", ClauseKind::Consultation),
        ("cooperation", ClauseKind::Cooperation),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }

    /// Whether a party may invoke the clause, calling the others together: an undertaking to
    /// consult or a defence obligation.
    pub fn is_invocable(self) -> bool {
        matches!(
            self,
            ClauseKind::Consultation | ClauseKind::CollectiveDefence | ClauseKind::MutualAssistance
        )
    }

    /// Whether the clause binds parties to come to another's aid.
    pub fn is_defence_obligation(self) -> bool {
        matches!(
            self,
            ClauseKind::CollectiveDefence | ClauseKind::MutualAssistance
        )
    }
}

/// A classification level under a named policy, e.g. `NATO` / `SECRET`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyLevel {
    pub policy: String,
    pub level: String,
}

impl fmt::Display for PolicyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.policy, self.level)
    }
}

/// What a security-of-information clause allows: the ceiling, the domains, and which levels of
/// the parties' policies correspond (one row per equivalence, e.g. NATO SECRET = FRA SECRET).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityProvision {
    pub max_classification: Option<PolicyLevel>,
    pub domains: Vec<String>,
    /// Restrictive caveats (e.g. ATOMAL) the agreement explicitly covers; a label carrying any
    /// other caveat is not covered by it.
    pub caveats: Vec<String>,
    /// Whether the clause covers only labels carrying at least one of its `caveats` (the ATOMAL
    /// agreement protects atomic information, not every NATO label); otherwise it also covers
    /// labels without caveats.
    pub caveats_only: bool,
    pub equivalences: Vec<Vec<PolicyLevel>>,
}

/// One article or provision of an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub id: String,
    /// A short name unique across the registry (e.g. `nato-art-5`), usable wherever
    /// `agreement/clause` is.
    pub alias: Option<String>,
    /// The article as cited, e.g. "Article 5", "Article 42(7)".
    pub article: String,
    pub kind: ClauseKind,
    pub summary: String,
    /// For defence clauses: the parties whose territory the clause protects; empty means all parties.
    pub protects: Vec<NationCode>,
    pub security: Option<SecurityProvision>,
    pub sources: Vec<SourceId>,
}

/// A treaty, agreement, arrangement or declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: AgreementId,
    pub name: String,
    pub kind: AgreementKind,
    /// Whether the text creates legal obligations (political declarations do not).
    pub binding: bool,
    pub signed: Option<StatedDate>,
    pub in_force: Option<StatedDate>,
    /// The day it ceased to have effect: not in force on that day.
    pub terminated: Option<StatedDate>,
    /// Periods in which the agreement was suspended and did not apply.
    pub suspended: Vec<Interval>,
    /// Parties named individually.
    pub parties: Vec<Party>,
    /// When set, the members of this organisation on a given day are also parties that day.
    pub parties_are_members_of: Option<OrgId>,
    /// Nations for which the agreement took effect on a later day than for the others (it
    /// applies to them from that day only, e.g. a state that acceded after joining the
    /// organisation).
    pub accessions: Vec<(NationCode, StatedDate)>,
    /// The same accessions as the sources give them: how certain each day is, and on what source.
    pub accession_records: Vec<Accession>,
    /// Whether the sources give the days from which the members of `parties_are_members_of`
    /// without an accession record are parties (the later of `in_force` and their joining).
    pub member_dates: MemberDates,
    pub clauses: Vec<Clause>,
    pub sources: Vec<SourceId>,
    pub note: Option<String>,
}

impl Agreement {
    /// Whether a nation's own entry into force (if the agreement records one) has happened by `day`.
    pub fn applies_to_nation_on(&self, nation: NationCode, day: Date) -> bool {
        self.accessions
            .iter()
            .find(|(n, _)| *n == nation)
            .is_none_or(|(_, d)| d.earliest_certain_start() <= day)
    }

    /// The days on which the agreement is certainly in force, ignoring suspensions; `None` if it
    /// never entered into force (or the date is not known).
    pub fn force_period(&self) -> Option<Interval> {
        let from = self.in_force?.earliest_certain_start();
        let until = match self.terminated {
            // Not in force on the stated day of termination, nor (when only the month or year
            // is known) on any day of that period.
            Some(t) => Some(t.sort_key().pred_opt()?),
            None => None,
        };
        Interval::new(from, until)
    }

    /// Whether the agreement applies on `day`: in force, not terminated, not suspended.
    pub fn is_in_force(&self, day: Date) -> bool {
        self.force_period().is_some_and(|p| p.contains(day))
            && !self.suspended.iter().any(|s| s.contains(day))
    }

    /// The status on `day`, for display.
    pub fn status(&self, day: Date) -> AgreementStatus {
        if self.is_in_force(day) {
            return AgreementStatus::InForce;
        }
        if self.suspended.iter().any(|s| s.contains(day)) {
            return AgreementStatus::Suspended;
        }
        if let Some(t) = self.terminated {
            if t.sort_key() <= day {
                return AgreementStatus::Terminated;
            }
        }
        match self.signed {
            Some(s) if s.sort_key() <= day => AgreementStatus::SignedNotInForce,
            _ => AgreementStatus::NotYetSigned,
        }
    }
}

/// How a source gives the day from which an agreement applies to one nation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateQualifier {
    /// The agreement entered into force for the nation on that day.
    On,
    /// The nation was a party on that day at the latest: the registry counts it from that day.
    AtLatest,
    /// The nation's own day was not found; it cannot be earlier than that day (e.g. 30 days after
    /// its instrument could first have been deposited). The registry presumes it a party from that
    /// day, and says that the day is not confirmed.
    NotBefore,
}

impl DateQualifier {
    pub const ALL: [(&'static str, DateQualifier); 3] = [
        ("on", DateQualifier::On),
        ("at-latest", DateQualifier::AtLatest),
        ("not-before", DateQualifier::NotBefore),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(s, _)| s)
    }

    /// Whether a party counted from the day is certainly a party then.
    pub fn is_certain(self) -> bool {
        !matches!(self, DateQualifier::NotBefore)
    }
}

impl serde::Serialize for DateQualifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A nation for which an agreement took effect on its own day, as the sources give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accession {
    pub nation: NationCode,
    pub in_force: StatedDate,
    pub qualifier: DateQualifier,
    pub sources: Vec<SourceId>,
}

/// Whether the sources give when members of an organisation became parties to an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberDates {
    /// Members are parties from the later of the agreement's entry into force and their joining
    /// (e.g. a Council decision binding every member state).
    Confirmed,
    /// Each member became a party on its own day (deposit of its instrument), which the sources
    /// do not give unless an accession record does: the registry presumes members without one
    /// parties from the later of entry into force and their joining, and says so.
    Unconfirmed,
}

impl MemberDates {
    pub const ALL: [(&'static str, MemberDates); 2] = [
        ("confirmed", MemberDates::Confirmed),
        ("unconfirmed", MemberDates::Unconfirmed),
    ];
}

/// On what a nation's being a party to an agreement on a given day rests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PartyBasis {
    /// Named as a party.
    Named,
    /// A member of the organisation whose members are parties, on a confirmed basis.
    Member { organization: OrgId },
    /// Its own day of entry into force, as qualified by the source.
    OwnDate {
        day: StatedDate,
        qualifier: DateQualifier,
    },
    /// A member whose own day of entry into force was not found: presumed a party from the later
    /// of the agreement's entry into force and its joining the organisation.
    PresumedMember { organization: OrgId },
}

impl PartyBasis {
    /// Whether the sources confirm the nation a party on the day asked about.
    pub fn is_confirmed(&self) -> bool {
        match self {
            PartyBasis::Named | PartyBasis::Member { .. } => true,
            PartyBasis::OwnDate { qualifier, .. } => qualifier.is_certain(),
            PartyBasis::PresumedMember { .. } => false,
        }
    }
}

impl fmt::Display for PartyBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartyBasis::Named => f.write_str("a named party"),
            PartyBasis::Member { organization } => {
                write!(f, "a party as a member of {organization}")
            }
            PartyBasis::OwnDate { day, qualifier } => match qualifier {
                DateQualifier::On => write!(f, "a party since {day}"),
                DateQualifier::AtLatest => write!(f, "a party since {day} at the latest"),
                DateQualifier::NotBefore => write!(
                    f,
                    "presumed a party: its own date of entry into force was not found, and is not before {day}"
                ),
            },
            PartyBasis::PresumedMember { organization } => write!(
                f,
                "presumed a party as a member of {organization}: its own date of entry into force was not found"
            ),
        }
    }
}

/// An agreement's legal state on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    NotYetSigned,
    SignedNotInForce,
    InForce,
    Suspended,
    Terminated,
}

impl AgreementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::NotYetSigned => "not yet signed",
            AgreementStatus::SignedNotInForce => "signed, not in force",
            AgreementStatus::InForce => "in force",
            AgreementStatus::Suspended => "suspended",
            AgreementStatus::Terminated => "terminated",
        }
    }
}
