//! The alliance and agreement registry: nations, organisations with dated memberships, treaties and
//! their clauses — all queried *as of a day*.
//!
//! The registry is loaded once from a folder of human-editable TOML files (see `data/registry/README.md`),
//! validated as a whole, and is immutable afterwards. Every question takes the day it is asked about
//! as a parameter; nothing here reads the clock.
//!
//! # Example
//!
//! ```ignore
//! let registry = Registry::load(Path::new("data/registry"))?;
//! let day = parse_date("2024-03-08")?;
//! let nato = registry.organization("NATO")?;
//! assert_eq!(registry.members(nato, day).len(), 32);
//! for defender in registry.obligations_toward(registry.nation_code("EST")?, day) {
//!     println!("{} must come to Estonia's aid: {:?}", defender.nation, defender.basis);
//! }
//! ```
//!
//! # Semantics
//! - Membership periods are closed intervals; `until` is the last day of membership.
//! - An agreement applies from its entry into force up to the day before its termination, minus any
//!   suspension. A signed but not ratified agreement creates no obligation.
//! - Obligations: for every agreement in force with a collective-defence or mutual-assistance
//!   clause, every other party on that day is bound toward a party the clause protects. Parties
//!   given as "members of an organisation" are the organisation's members on that day.

mod dot;
mod error;
mod interval;
mod invocation;
mod load;
mod model;
mod query;
pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use entente_types::NationCode;

pub use crate::error::{Diagnostic, Error, ErrorKind};
pub use crate::interval::{Interval, StatedDate};
pub use crate::invocation::{ClauseRef, Invocation, Participant, ParticipantChange, Participants};
pub use crate::load::DatasetText;
pub use crate::model::{
    Accession, Agreement, AgreementId, AgreementKind, AgreementStatus, Clause, ClauseKind,
    DateQualifier, Exclusion, MemberDates, Membership, MembershipAttribute, Nation, OrgId, OrgKind,
    Organization, Party, PartyBasis, PolicyLevel, Role, SecurityProvision, Source, SourceId, Tier,
};
pub use crate::query::{
    Basis, Defender, Graph, GraphEdge, GraphEdgeKind, GraphNode, GraphNodeKind, NationAgreement,
    NationMembership, NationProfile, SecurityCover, TimelineEvent, TimelineEventKind,
};

/// The loaded, validated registry.
#[derive(Debug, Clone)]
pub struct Registry {
    sources: BTreeMap<SourceId, Source>,
    nations: BTreeMap<NationCode, Nation>,
    organizations: Vec<Organization>,
    agreements: Vec<Agreement>,
    org_index: HashMap<String, usize>,
    agreement_index: HashMap<String, usize>,
    /// Lower-cased clause alias → (agreement, clause) indices.
    clause_aliases: HashMap<String, (usize, usize)>,
    invocations: Vec<Invocation>,
}

impl Registry {
    /// Loads and validates the dataset in `dir`. On invalid data the error lists every problem
    /// ([`Error::diagnostics`]).
    pub fn load(dir: &Path) -> Result<Registry, Error> {
        load::load(dir)
    }

    /// Converts and validates a dataset held in memory (e.g. generated for tests), with the same
    /// checks as [`Registry::load`].
    pub fn from_text(text: DatasetText) -> Result<Registry, Error> {
        load::load_text(text, None)
    }

    /// As [`Registry::from_text`], with the text of an `invocations.toml`.
    pub fn from_text_with_invocations(
        text: DatasetText,
        invocations: String,
    ) -> Result<Registry, Error> {
        load::load_text(text, Some(invocations))
    }

    fn from_parts(
        sources: BTreeMap<SourceId, Source>,
        nations: BTreeMap<NationCode, Nation>,
        organizations: Vec<Organization>,
        agreements: Vec<Agreement>,
    ) -> Registry {
        let org_index = organizations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.0.to_ascii_uppercase(), i))
            .collect();
        let agreement_index = agreements
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.0.to_ascii_lowercase(), i))
            .collect();
        let clause_aliases = agreements
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                a.clauses.iter().enumerate().filter_map(move |(j, c)| {
                    c.alias.as_ref().map(|x| (x.to_ascii_lowercase(), (i, j)))
                })
            })
            .collect();
        Registry {
            sources,
            nations,
            organizations,
            agreements,
            org_index,
            agreement_index,
            clause_aliases,
            invocations: Vec::new(),
        }
    }

    pub fn nations(&self) -> impl Iterator<Item = &Nation> {
        self.nations.values()
    }

    pub fn organizations(&self) -> &[Organization] {
        &self.organizations
    }

    pub fn agreements(&self) -> &[Agreement] {
        &self.agreements
    }

    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.sources.values()
    }

    pub fn source(&self, id: &SourceId) -> Option<&Source> {
        self.sources.get(id)
    }

    pub fn nation(&self, code: NationCode) -> Option<&Nation> {
        self.nations.get(&code)
    }

    /// The organisation with this exact id (case-insensitive), if any.
    pub fn organization_by_id(&self, id: &OrgId) -> Option<&Organization> {
        self.org_index
            .get(&id.0.to_ascii_uppercase())
            .map(|&i| &self.organizations[i])
    }

    /// The agreement with this exact id (case-insensitive), if any.
    pub fn agreement_by_id(&self, id: &AgreementId) -> Option<&Agreement> {
        self.agreement_index
            .get(&id.0.to_ascii_lowercase())
            .map(|&i| &self.agreements[i])
    }
}

#[cfg(test)]
mod tests;
