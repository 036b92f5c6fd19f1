//! Release decisions in Cedar: the same semantics as [`ReleasePolicy::decide`], written as Cedar
//! policies over a Cedar schema, plus the nations' own release rules (`data/policies/rules/`).
//!
//! [`CedarPolicy`] compiles the registry and the classification policies into one Cedar policy
//! set, independently of [`ReleasePolicy`] (the two are checked against each other by the
//! differential test), and decides each request with [`Authorizer::is_authorized`]:
//!
//! - one `permit` per security-of-information clause, annotated `@id("<agreement>/<clause>")`
//!   (which is also its policy id), so the response's reasons name the agreement and clause;
//! - a `permit` for the originating nation itself;
//! - `forbid` policies for the releasability rules: the policy's default release, and for each
//!   "Releasable To" set an empty set, an unknown token, or a recipient it does not admit.
//!
//! Requests: the principal is the originating nation, the resource the label, the context the
//! recipient and the day. Nations are built per request with the organisations they are members
//! of *on that day* as parents, so `in` expresses membership on the day.
//!
//! Cedar skips a policy whose evaluation errors, so an erroring `forbid` would silently stop
//! applying: any evaluation error here denies the release instead.
//!
//! [`ReleasePolicy`]: crate::ReleasePolicy
//! [`ReleasePolicy::decide`]: crate::ReleasePolicy::decide

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Decision as CedarDecision, Entities, EntityId, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet as CedarPolicySet, Request,
};
use chrono::Datelike;
use entente_labels::{Label, PolicySet};
use entente_registry::{ClauseKind, Registry};
use entente_types::{Date, NationCode};

use crate::compiled::RulesError;
use crate::decision::{CoveringClause, Decision, Reason, Verdict};

pub use compile::CompiledNationalRules;
use encode::Encoder;
use generate::{clause_policy, releasability_policies};
pub use rules::CedarNationalRules;

/// The Cedar schema of release requests, shared by the generated policies and the national rules.
///
/// Days are `Long`s written `YYYYMMDD` (2024-08-02 is `20240802`), so that they compare in date
/// order and read as dates in a rules file.
pub const SCHEMA: &str = r#"
// An organisation or group of nations (NATO, EU, FVEY…).
entity Organization;
// A nation; its parents are the organisations it is a member of on the day of the request.
entity Nation in [Organization];
// A classification policy (NATO, EU, or a nation code).
entity Policy;
// What the registry knows: every nation code and organisation id a "Releasable To" may name.
entity Registry = {
  releaseTokens: Set<String>,
};
// One "Releasable To" set. Every token is listed in all three forms: as text, as a nation and as
// an organisation (a token that is not a nation simply names a nation no one is).
type ReleaseSet = {
  tokens: Set<String>,
  nations: Set<Nation>,
  groups: Set<Organization>,
};
// A confidentiality label. relN is its N-th "Releasable To" set, when it has one.
entity Label = {
  policy: Policy,
  level: String,
  rank: Long,
  caveats: Set<String>,
  contexts: Set<String>,
  releaseSetCount: Long,
  defaultReleaseTo?: Organization,
  rel0?: ReleaseSet, rel1?: ReleaseSet, rel2?: ReleaseSet, rel3?: ReleaseSet,
  rel4?: ReleaseSet, rel5?: ReleaseSet, rel6?: ReleaseSet, rel7?: ReleaseSet,
  rel8?: ReleaseSet, rel9?: ReleaseSet, rel10?: ReleaseSet, rel11?: ReleaseSet,
  rel12?: ReleaseSet, rel13?: ReleaseSet, rel14?: ReleaseSet, rel15?: ReleaseSet,
};
// The originating nation (principal) releases information under a label (resource) to a
// recipient on a day (YYYYMMDD).
action release appliesTo {
  principal: Nation,
  resource: Label,
  context: {
    recipient: Nation,
    day: Long,
  },
};
"#;

/// The id of the single registry entity.
const REGISTRY_ID: &str = "registry";
/// The id of the label entity of a request (one label per request).
const LABEL_ID: &str = "label";
const SAME_NATION: &str = "same-nation";
const DEFAULT_RELEASE: &str = "releasable-to/default";

/// Errors building the Cedar encoding or loading national rules. Messages name the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CedarError {
    /// The schema does not parse (a defect of this crate, reported loudly).
    #[error("cedar schema: {0}")]
    Schema(String),
    /// A generated policy does not parse or collides with another (e.g. two clauses whose
    /// `agreement/clause` ids coincide).
    #[error("cedar policy {id}: {message}")]
    Policy { id: String, message: String },
    /// The strict validator refused generated policies; every problem is listed.
    #[error("cedar validation of the release policies failed: {}", .0.join("; "))]
    Validation(Vec<String>),
    /// A national rules file is unreadable, malformed or invalid; every problem is listed.
    #[error("{file}: {}", .problems.join("; "))]
    Rules { file: String, problems: Vec<String> },
}

impl CedarError {
    pub fn code(&self) -> entente_types::ErrorCode {
        match self {
            CedarError::Schema(_) | CedarError::Policy { .. } | CedarError::Validation(_) => {
                entente_types::ErrorCode::Internal
            }
            CedarError::Rules { .. } => entente_types::ErrorCode::InvalidInput,
        }
    }
}

/// A day as the schema's `Long`: `YYYYMMDD`.
fn day_number(day: Date) -> i64 {
    i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day())
}

/// A Cedar string literal (with its quotes).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn type_name(name: &str) -> Result<EntityTypeName, CedarError> {
    EntityTypeName::from_str(name).map_err(|e| CedarError::Schema(e.to_string()))
}

fn uid(kind: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
}

/// Runs `policies` and returns the satisfied policies' ids, or the evaluation errors. A policy
/// that errors is never skipped: the errors are returned, and callers deny.
fn evaluate(
    authorizer: &Authorizer,
    policies: &CedarPolicySet,
    request: &Request,
    entities: &Entities,
) -> Result<(CedarDecision, Vec<String>), RulesError> {
    let response = authorizer.is_authorized(request, policies, entities);
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| e.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(RulesError::Evaluation(errors));
    }
    let reasons = response
        .diagnostics()
        .reason()
        .map(|id| id.to_string())
        .collect();
    Ok((response.decision(), reasons))
}

/// The clause behind a generated `permit`, in the order [`ReleasePolicy`](crate::ReleasePolicy)
/// prefers clauses (by agreement id, then clause id).
#[derive(Debug, Clone)]
struct ClauseInfo {
    order: usize,
    covering: Arc<CoveringClause>,
}

/// The whole release decision as a Cedar policy set. See the module documentation.
pub struct CedarPolicy {
    encoder: Encoder,
    authorizer: Authorizer,
    policies: CedarPolicySet,
    source: String,
    clauses: HashMap<String, ClauseInfo>,
    rules: Option<CedarNationalRules>,
}

impl CedarPolicy {
    /// Compiles the registry's security-of-information clauses and the releasability rules into
    /// Cedar, and validates the result against [`SCHEMA`] with the strict validator.
    pub fn new(registry: &Registry, policies: &PolicySet) -> Result<CedarPolicy, CedarError> {
        let encoder = Encoder::new(registry, policies)?;
        let mut texts: Vec<(String, String)> = releasability_policies();
        let mut clauses: Vec<(String, ClauseInfo)> = Vec::new();
        for a in registry.agreements() {
            // Never in force: it covers nothing, and gets no policy.
            let Some(force) = a.force_period() else {
                continue;
            };
            for c in a
                .clauses
                .iter()
                .filter(|c| c.kind == ClauseKind::SecurityOfInformation)
            {
                let Some(text) = clause_policy(a, c, force, policies) else {
                    continue;
                };
                let id = format!("{}/{}", a.id.0, c.id);
                texts.push((id.clone(), format!("@id({})\n{text}", quoted(&id))));
                clauses.push((
                    id,
                    ClauseInfo {
                        order: 0,
                        covering: Arc::new(CoveringClause {
                            agreement: a.id.0.clone(),
                            agreement_name: a.name.clone(),
                            clause: c.id.clone(),
                            article: c.article.clone(),
                        }),
                    },
                ));
            }
        }
        clauses.sort_by(|(_, x), (_, y)| {
            let (x, y) = (&x.covering, &y.covering);
            (&x.agreement, &x.clause).cmp(&(&y.agreement, &y.clause))
        });
        for (order, (_, info)) in clauses.iter_mut().enumerate() {
            info.order = order;
        }
        let mut set = CedarPolicySet::new();
        let mut source = String::new();
        for (id, text) in texts {
            let policy =
                Policy::parse(Some(PolicyId::new(&id)), &text).map_err(|e| CedarError::Policy {
                    id: id.clone(),
                    message: e.to_string(),
                })?;
            set.add(policy).map_err(|e| CedarError::Policy {
                id: id.clone(),
                message: e.to_string(),
            })?;
            source.push_str(&text);
            source.push_str("\n\n");
        }
        let problems = encoder.validate(&set);
        if !problems.is_empty() {
            return Err(CedarError::Validation(problems));
        }
        Ok(CedarPolicy {
            encoder,
            authorizer: Authorizer::new(),
            policies: set,
            source,
            clauses: clauses.into_iter().collect(),
            rules: None,
        })
    }

    /// Adds the nations' own rules, evaluated (as forbids) after the agreements.
    pub fn with_national_rules(mut self, rules: CedarNationalRules) -> CedarPolicy {
        self.rules = Some(rules);
        self
    }

    /// The generated Cedar policies, as text (for review and explanation).
    pub fn policy_text(&self) -> &str {
        &self.source
    }

    /// Decides whether `label` may be released by `originator` to `recipient` on `day`, with the
    /// same semantics and explanations as [`ReleasePolicy::decide`](crate::ReleasePolicy::decide).
    pub fn decide(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Decision {
        let decision = |verdict, reason| Decision {
            verdict,
            reason,
            originator,
            recipient,
            day,
        };
        let error = |message: String| {
            decision(
                Verdict::Deny,
                Reason::RuleError {
                    nation: originator.to_string(),
                    message,
                },
            )
        };
        let (request, entities) = match self.encoder.encode(label, originator, recipient, day) {
            Ok(r) => r,
            Err(e) => return error(format!("request not encodable: {e}")),
        };
        let (verdict, reasons) =
            match evaluate(&self.authorizer, &self.policies, &request, &entities) {
                Ok(r) => r,
                Err(e) => return error(e.to_string()),
            };
        if verdict == CedarDecision::Deny {
            return decision(Verdict::Deny, self.deny_reason(label, &reasons));
        }
        if reasons.iter().any(|r| r == SAME_NATION) {
            return decision(Verdict::Permit, Reason::SameNation);
        }
        let Some(info) = reasons
            .iter()
            .filter_map(|r| self.clauses.get(r))
            .min_by_key(|c| c.order)
        else {
            // Allowed by no known permit: cannot happen, and is refused rather than trusted.
            return error(format!("allowed by unexpected policies {reasons:?}"));
        };
        if let Some(rules) = &self.rules {
            if let Some(reason) = Reason::from_national_rules(
                originator,
                rules.evaluate(originator, &request, &entities),
            ) {
                return decision(Verdict::Deny, reason);
            }
        }
        decision(Verdict::Permit, Reason::Covered(info.covering.clone()))
    }

    /// The explanation of a denial from the forbids that applied, in the order the compiled
    /// policy checks them: the default release, then each set in turn (empty, an unknown token,
    /// not admitted); no forbid means no agreement covered the release.
    fn deny_reason(&self, label: &Label, reasons: &[String]) -> Reason {
        if reasons.iter().any(|r| r == DEFAULT_RELEASE) {
            return match self.encoder.default_release.get(label.policy()) {
                Some(org) => Reason::NotMemberForDefault {
                    policy: label.policy().to_owned(),
                    organization: org.clone(),
                },
                None => Reason::OriginatorOnly {
                    policy: label.policy().to_owned(),
                },
            };
        }
        let fired = |k: usize, what: &str| {
            let id = format!("releasable-to/{k}/{what}");
            reasons.contains(&id)
        };
        for (k, set) in label.releasable_to().iter().enumerate() {
            if fired(k, "empty") {
                return Reason::EmptyReleaseSet;
            }
            if fired(k, "unknown-token") {
                let token = set
                    .iter()
                    .find(|t| !self.encoder.known_tokens.contains(t.as_str()))
                    .map_or_else(String::new, |t| t.as_str().to_owned());
                return Reason::UnknownReleaseToken { token };
            }
            if fired(k, "not-admitted") {
                let set = set
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Reason::NotInReleaseSet { set };
            }
        }
        Reason::NoAgreement {
            policy: label.policy().to_owned(),
            classification: label.classification().to_owned(),
            caveats: label.caveats().iter().cloned().collect(),
        }
    }
}

mod compile;
mod encode;
mod generate;
mod rules;

#[cfg(test)]
mod tests;
