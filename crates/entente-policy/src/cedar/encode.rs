//! The Cedar form of a request: the registry as one entity, nations with the organisations they
//! belong to on the day as parents, the label with its "Releasable To" sets, and the context.

use std::collections::{BTreeSet, HashMap, HashSet};

use cedar_policy::{
    Context, Entities, Entity, EntityTypeName, EntityUid, PolicySet as CedarPolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use entente_labels::{DefaultRelease, Label, PolicySet, MAX_RELEASE_SETS};
use entente_registry::{Interval, Registry, Role};
use entente_types::{Date, NationCode};

use super::*;

/// Turns a registry, a set of classification policies and a request into Cedar entities and a
/// request. Shared by the generated policies and the national rules.
#[derive(Clone)]
pub(super) struct Encoder {
    pub(super) schema: Schema,
    pub(super) nation_type: EntityTypeName,
    pub(super) org_type: EntityTypeName,
    pub(super) policy_type: EntityTypeName,
    pub(super) label_uid: EntityUid,
    pub(super) action: EntityUid,
    /// Nation → (organisation, period) of each full membership.
    pub(super) memberships: HashMap<NationCode, Vec<(EntityUid, Interval)>>,
    pub(super) known_tokens: BTreeSet<String>,
    /// Policy id → organisation of its default release.
    pub(super) default_release: HashMap<String, String>,
    pub(super) registry_entity: Entity,
}

impl Encoder {
    pub(super) fn new(registry: &Registry, policies: &PolicySet) -> Result<Encoder, CedarError> {
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

    pub(super) fn nation(&self, nation: NationCode, day: Date) -> Entity {
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

    pub(super) fn label(&self, label: &Label) -> Result<Entity, RulesError> {
        let strings = |values: &BTreeSet<String>| {
            RestrictedExpression::new_set(
                values
                    .iter()
                    .map(|v| RestrictedExpression::new_string(v.clone())),
            )
        };
        let count = label.releasable_to().len();
        if count > MAX_RELEASE_SETS {
            return Err(RulesError::TooManyReleaseSets {
                limit: MAX_RELEASE_SETS,
            });
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
            .map_err(|e| RulesError::Request(e.to_string()))?;
            attrs.insert(format!("rel{k}"), record);
        }
        Entity::new(self.label_uid.clone(), attrs, HashSet::new())
            .map_err(|e| RulesError::Request(e.to_string()))
    }

    /// The request and entities for one decision; an error means the decision cannot be made.
    pub(super) fn encode(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<(Request, Entities), RulesError> {
        let mut entities = vec![
            self.registry_entity.clone(),
            self.label(label)?,
            self.nation(originator, day),
        ];
        if recipient != originator {
            entities.push(self.nation(recipient, day));
        }
        let entities = Entities::from_entities(entities, Some(&self.schema))
            .map_err(|e| RulesError::Request(e.to_string()))?;
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
        .map_err(|e| RulesError::Request(e.to_string()))?;
        let request = Request::new(
            uid(&self.nation_type, originator.as_str()),
            self.action.clone(),
            self.label_uid.clone(),
            context,
            Some(&self.schema),
        )
        .map_err(|e| RulesError::Request(e.to_string()))?;
        Ok((request, entities))
    }

    /// Validates `policies` against the schema in strict mode; each problem names its policy.
    pub(super) fn validate(&self, policies: &CedarPolicySet) -> Vec<String> {
        let result = Validator::new(self.schema.clone()).validate(policies, ValidationMode::Strict);
        result
            .validation_errors()
            .map(|e| format!("policy {}: {e}", e.policy_id()))
            .collect()
    }
}
