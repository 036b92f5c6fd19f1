//! The outcome of a release decision and its explanation.

use std::fmt;
use std::sync::Arc;

use entente_types::{Date, NationCode};

use crate::compiled::RulesError;

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Permit,
    Deny,
}

/// Why a decision came out as it did. Every variant names the rule, agreement or clause at play,
/// never the content of the information.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The recipient is the originating nation.
    SameNation,
    /// A security-of-information clause in force covers the whole decision. Shared text: a
    /// permit, the most frequent decision, allocates nothing to say which clause, and counts one
    /// reference rather than one per text.
    Covered(Arc<CoveringClause>),
    /// A "Releasable To" set of the label admits no recipient.
    EmptyReleaseSet,
    /// A "Releasable To" set does not admit the recipient on the day.
    NotInReleaseSet { set: String },
    /// The label names no "Releasable To" and its policy keeps such labels national.
    OriginatorOnly { policy: String },
    /// The label names no "Releasable To"; its policy releases to members of an organisation, and
    /// the recipient is not one on the day.
    NotMemberForDefault {
        policy: String,
        organization: String,
    },
    /// A "Releasable To" value that is neither a known nation nor a known group.
    UnknownReleaseToken { token: String },
    /// No security-of-information agreement in force between the two covers the label.
    NoAgreement {
        policy: String,
        classification: String,
        caveats: Vec<String>,
    },
    /// A national release rule of the originator forbids it.
    NationalRule { nation: String, rule: String },
    /// The national rules could not be evaluated: denied rather than skipped.
    RuleError { nation: String, message: String },
    /// The object describes other objects and holds no information of its own (an extension
    /// definition, or a marking definition that carries no confidentiality label).
    NotInformation { kind: String },
    /// The object carries no confidentiality label: nobody receives it.
    Unlabelled,
}

impl Reason {
    /// The refusal, if any, from the outcome of the originator's national rules: a forbidding
    /// rule, or an evaluation error (which denies rather than being skipped).
    pub fn from_national_rules(
        originator: NationCode,
        outcome: Result<Option<String>, RulesError>,
    ) -> Option<Reason> {
        match outcome {
            Ok(None) => None,
            Ok(Some(rule)) => Some(Reason::NationalRule {
                nation: originator.to_string(),
                rule,
            }),
            Err(error) => Some(Reason::RuleError {
                nation: originator.to_string(),
                message: error.to_string(),
            }),
        }
    }
}

/// The security-of-information clause a permit rests on, as a decision names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoveringClause {
    /// The agreement's id.
    pub agreement: String,
    /// The agreement's name, as an officer reads it.
    pub agreement_name: String,
    /// The clause's id within the agreement.
    pub clause: String,
    /// The article the clause is, e.g. `Article 1 and Annex I`.
    pub article: String,
}

/// A release decision for one label, originator, recipient and day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: Reason,
    pub originator: NationCode,
    pub recipient: NationCode,
    pub day: Date,
}

impl Decision {
    pub fn is_permit(&self) -> bool {
        self.verdict == Verdict::Permit
    }

    /// The agreement that allowed the release, if one did.
    pub fn agreement(&self) -> Option<&str> {
        match &self.reason {
            Reason::Covered(covering) => Some(&covering.agreement),
            _ => None,
        }
    }

    /// The clause (article) that allowed the release, if one did.
    pub fn clause(&self) -> Option<&str> {
        match &self.reason {
            Reason::Covered(covering) => Some(&covering.article),
            _ => None,
        }
    }
}

/// A decision as the command line prints it: the verdict, the reason, and the clause it rests on.
impl serde::Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "decision": self.verdict_str(),
            "reason": self.to_string(),
            "agreement": self.agreement(),
            "clause": self.clause(),
        })
        .serialize(s)
    }
}

impl Decision {
    /// `permit` or `deny`.
    pub fn verdict_str(&self) -> &'static str {
        if self.is_permit() {
            "permit"
        } else {
            "deny"
        }
    }
}

impl fmt::Display for Decision {
    /// The explanation a security officer reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to, day) = (self.originator, self.recipient, self.day);
        match &self.reason {
            Reason::SameNation => write!(f, "{to} is the originating nation"),
            Reason::Covered(covering) => write!(
                f,
                "permitted from {from} to {to} on {day} under {}, {}",
                covering.agreement_name, covering.article
            ),
            Reason::EmptyReleaseSet => {
                write!(f, "the label is releasable to nobody (an empty Releasable To set)")
            }
            Reason::NotInReleaseSet { set } => {
                write!(f, "{to} is not in REL TO {set} on {day}")
            }
            Reason::OriginatorOnly { policy } => write!(
                f,
                "the label names no Releasable To, and policy {policy} keeps such information within {from}"
            ),
            Reason::NotMemberForDefault {
                policy,
                organization,
            } => write!(
                f,
                "the label names no Releasable To, so policy {policy} releases it to members of {organization} only, and {to} is not one on {day}"
            ),
            Reason::UnknownReleaseToken { token } => write!(
                f,
                "Releasable To value {token:?} is neither a known nation nor a known group"
            ),
            Reason::NoAgreement {
                policy,
                classification,
                caveats,
            } => {
                write!(
                    f,
                    "no security-of-information agreement in force between {from} and {to} on {day} covers {policy} {classification}"
                )?;
                if !caveats.is_empty() {
                    write!(f, " with {}", caveats.join(", "))?;
                }
                Ok(())
            }
            Reason::NationalRule { nation, rule } => {
                write!(f, "national release rule {rule:?} of {nation} forbids it")
            }
            Reason::RuleError { nation, message } => write!(
                f,
                "national release rules of {nation} could not be evaluated ({message}): denied"
            ),
            Reason::NotInformation { kind } => write!(
                f,
                "a {kind} describes other objects and holds no information of its own: every reader of the collection may see it"
            ),
            Reason::Unlabelled => write!(
                f,
                "the object carries no confidentiality label, so it is released to nobody"
            ),
        }
    }
}
