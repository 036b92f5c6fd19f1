//! Release decisions: may this label, or this object, go from one nation to another on a day?
//!
//! [`ReleasePolicy`] compiles the registry (memberships, security-of-information clauses) and the
//! classification policies into tables. [`ReleasePolicy::decide`] answers for one label:
//!
//! 1. the recipient must be admitted by every "Releasable To" set of the label on the day (group
//!    tokens such as `NATO` resolve to the organisation's members that day); a label without one
//!    takes its policy's default (members of NATO for NATO labels; nobody beyond the originator for
//!    national labels); an empty set admits nobody;
//! 2. one security-of-information clause of one agreement in force that day (not suspended, and in
//!    force for both nations) must cover the whole decision: both nations parties, the label's
//!    policy and level within the clause's ceiling, and every caveat listed by the clause — the
//!    level of one agreement is never combined with the categories of another;
//! 3. the originator's national rules ([`NationalRules`], written in Cedar: [`CedarNationalRules`])
//!    may still forbid it.
//!
//! Every [`Decision`] explains itself: the agreement and article that allowed it, or the rule that
//! refused it. [`ReleasePolicy::release_object`] applies decisions to a STIX object's portions and
//! returns the tear-lined copy; [`bundle`] releases a whole STIX bundle. This is the only place
//! where releases are decided.

pub mod bundle;
mod cedar;
mod compiled;
mod decision;
mod stored;
mod tearline;

pub use crate::cedar::{
    CedarError, CedarNationalRules, CedarPolicy, CompiledNationalRules, SCHEMA as CEDAR_SCHEMA,
};
pub use crate::compiled::{
    Clearance, NationalRules, ReleasePolicy, RulesError, UnknownReleaseToken,
};
pub use crate::decision::{CoveringClause, Decision, Reason, Verdict};
pub use crate::stored::{AtIngest, KindRule, SameMarkings, StoredRelease};
pub use crate::tearline::{PreparedObject, Release, ReleaseVerdict, SharedRelease};

/// Errors of release processing: the input's labels are not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Label(#[from] entente_labels::LabelError),
    /// A "Releasable To" value names neither a known nation nor a known group.
    #[error(transparent)]
    UnknownToken(#[from] UnknownReleaseToken),
    #[error("{0}")]
    Invalid(String),
}

impl PolicyError {
    pub fn code(&self) -> entente_types::ErrorCode {
        match self {
            PolicyError::Label(e) => e.code(),
            PolicyError::UnknownToken(_) | PolicyError::Invalid(_) => {
                entente_types::ErrorCode::InvalidInput
            }
        }
    }
}

#[cfg(test)]
mod tests;
