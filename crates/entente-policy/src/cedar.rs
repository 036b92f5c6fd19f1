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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Effect, Entities, Entity, EntityId,
    EntityTypeName, EntityUid, Policy, PolicyId, PolicySet as CedarPolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use chrono::Datelike;
use entente_labels::{DefaultRelease, Label, PolicySet, MAX_RELEASE_SETS};
use entente_registry::{ClauseKind, Interval, Party, Registry, Role};
use entente_types::{Date, NationCode};

use crate::compiled::NationalRules;
use crate::decision::{Decision, Reason, Verdict};

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

/// Turns a registry, a set of classification policies and a request into Cedar entities and a
/// request. Shared by the generated policies and the national rules.
struct Encoder {
    schema: Schema,
    nation_type: EntityTypeName,
    org_type: EntityTypeName,
    policy_type: EntityTypeName,
    label_uid: EntityUid,
    action: EntityUid,
    /// Nation → (organisation, period) of each full membership.
    memberships: HashMap<NationCode, Vec<(EntityUid, Interval)>>,
    known_tokens: BTreeSet<String>,
    /// Policy id → organisation of its default release.
    default_release: HashMap<String, String>,
    registry_entity: Entity,
}

impl Encoder {
    fn new(registry: &Registry, policies: &PolicySet) -> Result<Encoder, CedarError> {
        let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| CedarError::Schema(format!("{e:?}")))?;
        let nation_type = type_name("Nation")?;
        let org_type = type_name("Organization")?;
        let policy_type = type_name("Policy")?;
        let label_uid = uid(&type_name("Label")?, LABEL_ID);
        let action = uid(&type_name("Action")?, "release");
        let mut memberships: HashMap<NationCode, Vec<(EntityUid, Interval)>> = HashMap::new();
        for org in registry.organizations() {
            for m in org.memberships.iter().filter(|m| m.role == Role::Member) {
                memberships
                    .entry(m.nation)
                    .or_default()
                    .push((uid(&org_type, &org.id.0), m.period));
            }
        }
        let known_tokens: BTreeSet<String> = registry
            .nations()
            .map(|n| n.code.to_string())
            .chain(registry.organizations().iter().map(|o| o.id.0.clone()))
            .collect();
        // A default release to an organisation the registry does not know releases to nobody.
        let default_release = policies
            .iter()
            .filter_map(|p| match &p.default_release {
                DefaultRelease::MembersOf(org)
                    if registry.organizations().iter().any(|o| o.id.0 == *org) =>
                {
                    Some((p.id.clone(), org.clone()))
                }
                _ => None,
            })
            .collect();
        let registry_entity = Entity::new(
            uid(&type_name("Registry")?, REGISTRY_ID),
            HashMap::from([(
                "releaseTokens".to_owned(),
                RestrictedExpression::new_set(
                    known_tokens
                        .iter()
                        .map(|t| RestrictedExpression::new_string(t.clone())),
                ),
            )]),
            HashSet::new(),
        )
        .map_err(|e| CedarError::Schema(e.to_string()))?;
        Ok(Encoder {
            schema,
            nation_type,
            org_type,
            policy_type,
            label_uid,
            action,
            memberships,
            known_tokens,
            default_release,
            registry_entity,
        })
    }

    fn nation(&self, nation: NationCode, day: Date) -> Entity {
        let parents = self
            .memberships
            .get(&nation)
            .into_iter()
            .flatten()
            .filter(|(_, period)| period.contains(day))
            .map(|(org, _)| org.clone())
            .collect();
        Entity::new_no_attrs(uid(&self.nation_type, nation.as_str()), parents)
    }

    fn label(&self, label: &Label) -> Result<Entity, String> {
        let strings = |values: &BTreeSet<String>| {
            RestrictedExpression::new_set(
                values
                    .iter()
                    .map(|v| RestrictedExpression::new_string(v.clone())),
            )
        };
        let count = label.releasable_to().len();
        if count > MAX_RELEASE_SETS {
            return Err(format!("more than {MAX_RELEASE_SETS} Releasable To sets"));
        }
        let mut attrs = HashMap::from([
            (
                "policy".to_owned(),
                RestrictedExpression::new_entity_uid(uid(&self.policy_type, label.policy())),
            ),
            (
                "level".to_owned(),
                RestrictedExpression::new_string(label.classification().to_owned()),
            ),
            (
                "rank".to_owned(),
                RestrictedExpression::new_long(i64::from(label.rank())),
            ),
            ("caveats".to_owned(), strings(label.caveats())),
            ("contexts".to_owned(), strings(label.contexts())),
            (
                "releaseSetCount".to_owned(),
                RestrictedExpression::new_long(i64::try_from(count).unwrap_or(i64::MAX)),
            ),
        ]);
        if let Some(org) = self.default_release.get(label.policy()) {
            attrs.insert(
                "defaultReleaseTo".to_owned(),
                RestrictedExpression::new_entity_uid(uid(&self.org_type, org)),
            );
        }
        for (k, set) in label.releasable_to().iter().enumerate() {
            let each = |f: &dyn Fn(&str) -> RestrictedExpression| {
                RestrictedExpression::new_set(set.iter().map(|t| f(t.as_str())))
            };
            let record = RestrictedExpression::new_record([
                (
                    "tokens".to_owned(),
                    each(&|t| RestrictedExpression::new_string(t.to_owned())),
                ),
                (
                    "nations".to_owned(),
                    each(&|t| RestrictedExpression::new_entity_uid(uid(&self.nation_type, t))),
                ),
                (
                    "groups".to_owned(),
                    each(&|t| RestrictedExpression::new_entity_uid(uid(&self.org_type, t))),
                ),
            ])
            .map_err(|e| e.to_string())?;
            attrs.insert(format!("rel{k}"), record);
        }
        Entity::new(self.label_uid.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())
    }

    /// The request and entities for one decision; an error means the decision cannot be made.
    fn encode(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<(Request, Entities), String> {
        let mut entities = vec![
            self.registry_entity.clone(),
            self.label(label)?,
            self.nation(originator, day),
        ];
        if recipient != originator {
            entities.push(self.nation(recipient, day));
        }
        let entities =
            Entities::from_entities(entities, Some(&self.schema)).map_err(|e| e.to_string())?;
        let context = Context::from_pairs([
            (
                "recipient".to_owned(),
                RestrictedExpression::new_entity_uid(uid(&self.nation_type, recipient.as_str())),
            ),
            (
                "day".to_owned(),
                RestrictedExpression::new_long(day_number(day)),
            ),
        ])
        .map_err(|e| e.to_string())?;
        let request = Request::new(
            uid(&self.nation_type, originator.as_str()),
            self.action.clone(),
            self.label_uid.clone(),
            context,
            Some(&self.schema),
        )
        .map_err(|e| e.to_string())?;
        Ok((request, entities))
    }

    /// Validates `policies` against the schema in strict mode; each problem names its policy.
    fn validate(&self, policies: &CedarPolicySet) -> Vec<String> {
        let result = Validator::new(self.schema.clone()).validate(policies, ValidationMode::Strict);
        result
            .validation_errors()
            .map(|e| format!("policy {}: {e}", e.policy_id()))
            .collect()
    }
}

/// Runs `policies` and returns the satisfied policies' ids, or the evaluation errors. A policy
/// that errors is never skipped: the errors are returned, and callers deny.
fn evaluate(
    authorizer: &Authorizer,
    policies: &CedarPolicySet,
    request: &Request,
    entities: &Entities,
) -> Result<(CedarDecision, Vec<String>), String> {
    let response = authorizer.is_authorized(request, policies, entities);
    let errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| e.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
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
    agreement: String,
    agreement_name: String,
    clause: String,
    article: String,
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
                        agreement: a.id.0.clone(),
                        agreement_name: a.name.clone(),
                        clause: c.id.clone(),
                        article: c.article.clone(),
                    },
                ));
            }
        }
        clauses.sort_by(|(_, x), (_, y)| (&x.agreement, &x.clause).cmp(&(&y.agreement, &y.clause)));
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
            Err(message) => return error(format!("request not encodable: {message}")),
        };
        let (verdict, reasons) =
            match evaluate(&self.authorizer, &self.policies, &request, &entities) {
                Ok(r) => r,
                Err(message) => return error(message),
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
        decision(
            Verdict::Permit,
            Reason::Covered {
                agreement: info.agreement.clone(),
                agreement_name: info.agreement_name.clone(),
                clause: info.clause.clone(),
                article: info.article.clone(),
            },
        )
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

/// The same-nation permit and the releasability forbids. Every forbid spares the originating
/// nation itself, which may always hold its own information.
fn releasability_policies() -> Vec<(String, String)> {
    let scope = "(principal, action == Action::\"release\", resource)";
    let mut out = vec![
        (
            SAME_NATION.to_owned(),
            format!(
                "@id(\"{SAME_NATION}\")\npermit {scope}\nwhen {{ principal == context.recipient }};"
            ),
        ),
        (
            DEFAULT_RELEASE.to_owned(),
            format!(
                "@id(\"{DEFAULT_RELEASE}\")\nforbid {scope}\nwhen {{\n  principal != context.recipient &&\n  resource.releaseSetCount == 0 &&\n  !(resource has defaultReleaseTo && context.recipient in resource.defaultReleaseTo)\n}};"
            ),
        ),
    ];
    // Cedar has no "for all" over a set of sets: a label holds at most MAX_RELEASE_SETS sets,
    // so each position gets its own forbids.
    for k in 0..MAX_RELEASE_SETS {
        let set = format!("resource.rel{k}");
        let rules = [
            ("empty", format!("{set}.tokens.isEmpty()")),
            (
                "unknown-token",
                format!(
                    "!Registry::\"{REGISTRY_ID}\".releaseTokens.containsAll({set}.tokens)"
                ),
            ),
            (
                "not-admitted",
                format!(
                    "!({set}.nations.contains(context.recipient) || context.recipient in {set}.groups)"
                ),
            ),
        ];
        for (what, condition) in rules {
            let id = format!("releasable-to/{k}/{what}");
            out.push((
                id.clone(),
                format!(
                    "@id(\"{id}\")\nforbid {scope}\nwhen {{\n  principal != context.recipient &&\n  resource has rel{k} &&\n  {condition}\n}};"
                ),
            ));
        }
    }
    out
}

/// The `permit` of one security-of-information clause, or `None` if it can cover nothing (no
/// level of any known policy lies under its ceiling).
fn clause_policy(
    a: &entente_registry::Agreement,
    c: &entente_registry::Clause,
    force: Interval,
    policies: &PolicySet,
) -> Option<String> {
    let security = c.security.clone().unwrap_or_default();
    let nation = |n: NationCode| format!("Nation::{}", quoted(n.as_str()));
    let org = |o: &str| format!("Organization::{}", quoted(o));
    let named: Vec<NationCode> = a
        .parties
        .iter()
        .filter_map(|p| match p {
            Party::Nation(n) => Some(*n),
            Party::Organization(_) => None,
        })
        .collect();
    let org_parties: Vec<&str> = a
        .parties
        .iter()
        .filter_map(|p| match p {
            Party::Organization(o) => Some(o.0.as_str()),
            Party::Nation(_) => None,
        })
        .collect();
    let member_org = a.parties_are_members_of.as_ref().map(|o| o.0.as_str());

    // Ceilings: policy → highest rank covered.
    let mut ceilings: Vec<(String, usize)> = Vec::new();
    match &security.max_classification {
        Some(max) => {
            if let Some(p) = policies.get(&max.policy) {
                if let Some(rank) = p.rank_of(&max.level) {
                    ceilings.push((p.id.clone(), usize::from(rank)));
                }
            }
        }
        None => {
            // No ceiling stated: the parties' own policies, at every level.
            let ids = named
                .iter()
                .map(|n| n.to_string())
                .chain(org_parties.iter().map(|o| (*o).to_owned()))
                .chain(member_org.map(str::to_owned));
            for id in ids {
                if let Some(p) = policies.get(&id) {
                    if !ceilings.iter().any(|(q, _)| *q == p.id) {
                        ceilings.push((p.id.clone(), p.levels.len().saturating_sub(1)));
                    }
                }
            }
        }
    }
    if ceilings.is_empty() {
        return None;
    }

    let mut when: Vec<String> = Vec::new();
    when.push(format!("context.day >= {}", day_number(force.from)));
    if let Some(until) = force.until {
        when.push(format!("context.day <= {}", day_number(until)));
    }
    for s in &a.suspended {
        let inside = match s.until {
            Some(u) => format!(
                "context.day >= {} && context.day <= {}",
                day_number(s.from),
                day_number(u)
            ),
            None => format!("context.day >= {}", day_number(s.from)),
        };
        when.push(format!("!({inside})"));
    }
    let ceilings: Vec<String> = ceilings
        .iter()
        .map(|(p, rank)| {
            format!(
                "(resource.policy == Policy::{} && resource.rank <= {rank})",
                quoted(p)
            )
        })
        .collect();
    when.push(format!("({})", ceilings.join(" || ")));
    when.push(if security.caveats.is_empty() {
        "resource.caveats.isEmpty()".to_owned()
    } else {
        format!(
            "[{}].containsAll(resource.caveats)",
            security
                .caveats
                .iter()
                .map(|c| quoted(c))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });

    // The parties each end stands for: `N` as a nation (named, or a member of the organisation
    // whose members are parties), `O` through an organisation party acting for its members (for
    // that organisation's own policy only). The two ends must be two different parties: N–N
    // (the nations differ), N–O or O–N, never O–O.
    let stands = |x: &str| {
        let accession: Vec<String> = a
            .accessions
            .iter()
            .map(|(n, d)| {
                format!(
                    "!({x} == {} && context.day < {})",
                    nation(*n),
                    day_number(d.earliest_certain_start())
                )
            })
            .collect();
        let mut as_nation: Vec<String> = named
            .iter()
            .map(|n| format!("{x} == {}", nation(*n)))
            .collect();
        as_nation.extend(member_org.map(|o| format!("{x} in {}", org(o))));
        let as_org: Vec<String> = org_parties
            .iter()
            .map(|o| {
                format!(
                    "(resource.policy == Policy::{} && {x} in {})",
                    quoted(o),
                    org(o)
                )
            })
            .collect();
        let any = |terms: Vec<String>| {
            if terms.is_empty() {
                "false".to_owned()
            } else {
                format!("({})", terms.join(" || "))
            }
        };
        let gate = if accession.is_empty() {
            String::new()
        } else {
            format!("{} && ", accession.join(" && "))
        };
        (
            format!("({gate}{})", any(as_nation)),
            format!("({gate}{})", any(as_org)),
        )
    };
    let (from_n, from_o) = stands("principal");
    let (to_n, to_o) = stands("context.recipient");
    when.push(format!(
        "(\n    ({from_n} && {to_n}) ||\n    ({from_n} && {to_o}) ||\n    ({from_o} && {to_n})\n  )"
    ));
    Some(format!(
        "permit (principal, action == Action::\"release\", resource)\nwhen {{\n  {}\n}};",
        when.join(" &&\n  ")
    ))
}

/// National release rules written in Cedar: one file per nation, `<NATION>.cedar`, holding
/// `forbid` policies each annotated `@id`. A nation's rules apply only to information it
/// originates, and only ever forbid: a nation can be stricter than its agreements, never looser.
pub struct CedarNationalRules {
    encoder: Encoder,
    authorizer: Authorizer,
    by_nation: HashMap<NationCode, CedarPolicySet>,
}

impl CedarNationalRules {
    /// Reads every `*.cedar` file of `dir` (the folder may be absent: no rules).
    pub fn load(
        dir: &Path,
        registry: &Registry,
        policies: &PolicySet,
    ) -> Result<CedarNationalRules, CedarError> {
        let io = |file: &Path, e: std::io::Error| CedarError::Rules {
            file: file.display().to_string(),
            problems: vec![e.to_string()],
        };
        let mut files = Vec::new();
        if dir.exists() {
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| io(dir, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
                .collect();
            paths.sort();
            for path in paths {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                files.push((path.display().to_string(), text));
            }
        }
        CedarNationalRules::from_texts(files, registry, policies)
    }

    /// Builds the rules from `(file name, Cedar text)` pairs; the file's stem names the nation.
    /// Each file is validated against [`SCHEMA`] in strict mode; every problem names the file
    /// and the policy's `@id`.
    pub fn from_texts(
        files: Vec<(String, String)>,
        registry: &Registry,
        policies: &PolicySet,
    ) -> Result<CedarNationalRules, CedarError> {
        let encoder = Encoder::new(registry, policies)?;
        let mut by_nation = HashMap::new();
        for (file, text) in files {
            let fail = |problems: Vec<String>| CedarError::Rules {
                file: file.clone(),
                problems,
            };
            let stem = Path::new(&file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let nation = match stem.parse::<NationCode>() {
                Ok(n) if registry.nation(n).is_some() => n,
                _ => {
                    return Err(fail(vec![format!(
                        "the file name must be a nation code of the registry, e.g. FRA.cedar (found {stem:?})"
                    )]))
                }
            };
            if by_nation.contains_key(&nation) {
                return Err(fail(vec![format!("a second rules file for {nation}")]));
            }
            let parsed = CedarPolicySet::from_str(&text).map_err(|e| fail(vec![e.to_string()]))?;
            let mut problems = Vec::new();
            if parsed.templates().next().is_some() {
                problems.push("templates are not allowed in release rules".to_owned());
            }
            let mut set = CedarPolicySet::new();
            for (i, policy) in parsed.policies().enumerate() {
                let Some(id) = policy.annotation("id").map(str::to_owned) else {
                    problems.push(format!("policy {} has no @id annotation", i + 1));
                    continue;
                };
                if policy.effect() != Effect::Forbid {
                    problems.push(format!(
                        "policy {id}: release rules may only forbid (a nation is never looser than its agreements)"
                    ));
                    continue;
                }
                if let Err(e) = set.add(policy.new_id(PolicyId::new(&id))) {
                    problems.push(format!("policy {id}: {e}"));
                }
            }
            problems.extend(encoder.validate(&set));
            if !problems.is_empty() {
                return Err(fail(problems));
            }
            by_nation.insert(nation, set);
        }
        Ok(CedarNationalRules {
            encoder,
            authorizer: Authorizer::new(),
            by_nation,
        })
    }

    /// The `@id`s of `nation`'s rules, sorted.
    pub fn rule_ids(&self, nation: NationCode) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_nation
            .get(&nation)
            .into_iter()
            .flat_map(|s| s.policies().map(|p| p.id().to_string()))
            .collect();
        ids.sort();
        ids
    }

    /// The first (by id) of `originator`'s rules that forbids the request, or the evaluation
    /// errors: an erroring rule is not skipped, it denies.
    fn evaluate(
        &self,
        originator: NationCode,
        request: &Request,
        entities: &Entities,
    ) -> Result<Option<String>, String> {
        let Some(set) = self.by_nation.get(&originator) else {
            return Ok(None);
        };
        let (_, mut fired) = evaluate(&self.authorizer, set, request, entities)?;
        fired.sort();
        Ok(fired.into_iter().next())
    }
}

impl NationalRules for CedarNationalRules {
    fn forbids(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Option<String>, String> {
        if !self.has_rules_for(originator) {
            return Ok(None);
        }
        let (request, entities) = self.encoder.encode(label, originator, recipient, day)?;
        self.evaluate(originator, &request, &entities)
    }

    fn has_rules_for(&self, nation: NationCode) -> bool {
        self.by_nation.contains_key(&nation)
    }
}

#[cfg(test)]
mod tests;
