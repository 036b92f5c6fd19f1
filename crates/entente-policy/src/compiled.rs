//! The compiled release policy: the registry's agreements and memberships flattened into tables
//! that answer a decision in a few hundred nanoseconds, with no allocation on the permit path.

use std::collections::HashMap;
use std::sync::Arc;

use entente_labels::{DefaultRelease, Label, LabelError, PolicySet, ReleaseToken};
use entente_registry::{ClauseKind, Interval, Party, Registry, Role};
use entente_types::{Date, NationCode};

use crate::decision::{Decision, Reason, Verdict};

/// A national release rule engine: may forbid a release the agreements allow. A nation can always
/// be stricter than its agreements, never looser.
pub trait NationalRules: Send + Sync {
    /// `Ok(Some(rule id))` if a rule of `originator` forbids releasing `label` to `recipient` on
    /// `day`; `Err` if the rules could not be evaluated (the release is then denied).
    fn forbids(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Option<String>, RulesError>;

    /// Whether `nation` has any rule at all (lets the fast path skip the engine).
    fn has_rules_for(&self, nation: NationCode) -> bool;
}

/// Why a nation's release rules could not be evaluated. The release is then denied: an erroring
/// rule is never skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The label has more "Releasable To" sets than the rule engine is given.
    #[error("more than {limit} Releasable To sets")]
    TooManyReleaseSets {
        /// The most sets a label may have.
        limit: usize,
    },
    /// The label, the nations or the day could not be put in the rule engine's terms.
    #[error("{0}")]
    Request(String),
    /// The engine reported errors while evaluating the rules; every one is listed.
    #[error("{}", .0.join("; "))]
    Evaluation(Vec<String>),
}

/// A "Releasable To" value that names neither a nation nor a group the registry knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Releasable To value {token:?} is neither a known nation nor a known group")]
pub struct UnknownReleaseToken {
    /// The value as written in the label.
    pub token: String,
}

/// A person's clearance: a classification ceiling under one policy, and the caveats they hold.
#[derive(Debug, Clone, Copy)]
pub struct Clearance<'a> {
    pub policy: &'a str,
    pub level: &'a str,
    pub caveats: &'a [String],
}

/// An organisation's memberships, sorted by nation, for binary search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Members {
    pub(crate) periods: Vec<(NationCode, Interval)>,
}

impl Members {
    pub(crate) fn contains(&self, nation: NationCode, day: Date) -> bool {
        let start = self.periods.partition_point(|(n, _)| *n < nation);
        self.periods[start..]
            .iter()
            .take_while(|(n, _)| *n == nation)
            .any(|(_, p)| p.contains(day))
    }
}

/// A party to an agreement, as the two ends of an exchange must be two different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Nation(NationCode),
    Organization(usize),
}

/// One security-of-information clause, flattened.
#[derive(Debug, Clone)]
pub(crate) struct Cover {
    pub(crate) agreement: Arc<str>,
    pub(crate) agreement_name: Arc<str>,
    pub(crate) clause: Arc<str>,
    pub(crate) article: Arc<str>,
    pub(crate) force: Interval,
    pub(crate) suspended: Vec<Interval>,
    pub(crate) nation_parties: Vec<NationCode>,
    /// Organisations named as parties: they act for their members, for their own policy's information.
    pub(crate) org_parties: Vec<usize>,
    /// Members of this organisation are parties.
    pub(crate) member_org: Option<usize>,
    /// Nations whose own entry into force is later.
    pub(crate) accessions: Vec<(NationCode, Date)>,
    /// Policy index → highest rank covered.
    pub(crate) ceilings: Vec<(usize, u8)>,
    pub(crate) caveats: Vec<String>,
}

/// The compiled policy: what the registry and the classification policies say, ready to decide.
pub struct ReleasePolicy {
    pub(crate) policies: PolicySet,
    /// Policy id → index, and per index the organisation of its default release.
    pub(crate) policy_index: HashMap<String, usize>,
    pub(crate) policy_default: Vec<Option<usize>>,
    /// Organisation id (a group token) → index into `members`.
    pub(crate) groups: HashMap<String, usize>,
    pub(crate) group_names: Vec<String>,
    pub(crate) members: Vec<Members>,
    pub(crate) nations: Vec<NationCode>,
    pub(crate) covers: Vec<Cover>,
    pub(crate) national_rules: Option<Box<dyn NationalRules>>,
    /// Marking definitions already built, by label (see [`MarkingMemo`]).
    pub(crate) marking_memo: MarkingMemo,
    /// The label an object posted without one is stored under (`stored.rs`).
    pub(crate) default_label: Option<Label>,
}

/// The most marking definitions remembered; past it the memo starts again (labels are few in
/// practice: a node serves the same handful on most objects).
const MARKING_MEMO_CAPACITY: usize = 4096;

/// Marking definitions by label. Building one costs a canonical serialisation and a hash; it is a
/// pure function of the label and the policies, so it is done once per label, not per object.
#[derive(Default)]
pub(crate) struct MarkingMemo(std::sync::RwLock<HashMap<Label, std::sync::Arc<serde_json::Value>>>);

impl MarkingMemo {
    pub(crate) fn get_or_build(
        &self,
        policies: &PolicySet,
        label: &Label,
    ) -> Result<std::sync::Arc<serde_json::Value>, entente_labels::LabelError> {
        if let Some(m) = self.0.read().ok().and_then(|m| m.get(label).cloned()) {
            return Ok(m);
        }
        let built = std::sync::Arc::new(entente_labels::stix::to_marking_definition(
            policies, label,
        )?);
        if let Ok(mut memo) = self.0.write() {
            if memo.len() >= MARKING_MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(label.clone(), built.clone());
        }
        Ok(built)
    }
}

impl ReleasePolicy {
    /// Compiles the registry's memberships and security-of-information clauses.
    pub fn new(registry: &Registry, policies: PolicySet) -> ReleasePolicy {
        let mut groups = HashMap::new();
        let mut group_names = Vec::new();
        let mut members = Vec::new();
        for org in registry.organizations() {
            let mut periods: Vec<(NationCode, Interval)> = org
                .memberships
                .iter()
                .filter(|m| m.role == Role::Member)
                .map(|m| (m.nation, m.period))
                .collect();
            periods.sort();
            groups.insert(org.id.0.clone(), members.len());
            group_names.push(org.id.0.clone());
            members.push(Members { periods });
        }
        let policy_ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
        let policy_index: HashMap<String, usize> = policy_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let policy_default = policies
            .iter()
            .map(|p| match &p.default_release {
                DefaultRelease::MembersOf(org) => groups.get(org).copied(),
                DefaultRelease::OriginatorOnly => None,
            })
            .collect();
        let mut covers = Vec::new();
        for a in registry.agreements() {
            let Some(force) = a.force_period() else {
                continue;
            };
            for c in a
                .clauses
                .iter()
                .filter(|c| c.kind == ClauseKind::SecurityOfInformation)
            {
                let security = c.security.clone().unwrap_or_default();
                let nation_parties: Vec<NationCode> = a
                    .parties
                    .iter()
                    .filter_map(|p| match p {
                        Party::Nation(n) => Some(*n),
                        Party::Organization(_) => None,
                    })
                    .collect();
                let org_parties: Vec<usize> = a
                    .parties
                    .iter()
                    .filter_map(|p| match p {
                        Party::Organization(o) => groups.get(&o.0).copied(),
                        Party::Nation(_) => None,
                    })
                    .collect();
                let member_org = a
                    .parties_are_members_of
                    .as_ref()
                    .and_then(|o| groups.get(&o.0).copied());
                let mut ceilings = Vec::new();
                match &security.max_classification {
                    Some(max) => {
                        if let (Some(&i), Some(p)) =
                            (policy_index.get(&max.policy), policies.get(&max.policy))
                        {
                            if let Some(rank) = p.rank_of(&max.level) {
                                ceilings.push((i, rank));
                            }
                        }
                    }
                    None => {
                        // No ceiling stated: the clause covers the parties' own policies at every level.
                        let mut covered: Vec<String> =
                            nation_parties.iter().map(|n| n.to_string()).collect();
                        covered.extend(org_parties.iter().map(|&o| group_names[o].clone()));
                        covered.extend(member_org.map(|o| group_names[o].clone()));
                        for id in covered {
                            if let (Some(&i), Some(p)) = (policy_index.get(&id), policies.get(&id))
                            {
                                let top =
                                    u8::try_from(p.levels.len().saturating_sub(1)).unwrap_or(0);
                                ceilings.push((i, top));
                            }
                        }
                    }
                }
                covers.push(Cover {
                    agreement: a.id.0.as_str().into(),
                    agreement_name: a.name.as_str().into(),
                    clause: c.id.as_str().into(),
                    article: c.article.as_str().into(),
                    force,
                    suspended: a.suspended.clone(),
                    nation_parties,
                    org_parties,
                    member_org,
                    accessions: a
                        .accessions
                        .iter()
                        .map(|(n, d)| (*n, d.earliest_certain_start()))
                        .collect(),
                    ceilings,
                    caveats: security.caveats.clone(),
                });
            }
        }
        covers.sort_by(|x, y| (&x.agreement, &x.clause).cmp(&(&y.agreement, &y.clause)));
        ReleasePolicy {
            policies,
            policy_index,
            policy_default,
            groups,
            group_names,
            members,
            nations: registry.nations().map(|n| n.code).collect(),
            covers,
            national_rules: None,
            marking_memo: MarkingMemo::default(),
            default_label: None,
        }
    }

    /// Adds national release rules, evaluated after the agreements.
    pub fn with_national_rules(mut self, rules: Box<dyn NationalRules>) -> ReleasePolicy {
        self.national_rules = Some(rules);
        self
    }

    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The group tokens a "Releasable To" may name (organisations of the registry, e.g. `NATO`),
    /// sorted.
    pub fn group_tokens(&self) -> Vec<&str> {
        let mut tokens: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        tokens.sort_unstable();
        tokens
    }

    /// The nations of the registry, sorted.
    pub fn nations(&self) -> &[NationCode] {
        &self.nations
    }

    /// Whether a "Releasable To" token is a known nation or group.
    pub fn knows_token(&self, token: &str) -> bool {
        self.groups.contains_key(token) || self.known_nation(token).is_some()
    }

    fn known_nation(&self, token: &str) -> Option<NationCode> {
        let nation = token.parse::<NationCode>().ok()?;
        // Nations come from the registry's sorted map.
        self.nations.binary_search(&nation).ok().map(|_| nation)
    }

    /// Checks that every "Releasable To" value of `label` is a known nation or group.
    pub fn check_release_tokens(&self, label: &Label) -> Result<(), UnknownReleaseToken> {
        for set in label.releasable_to() {
            for token in set {
                if !self.knows_token(token.as_str()) {
                    return Err(UnknownReleaseToken {
                        token: token.as_str().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The dominant label of `a` and `b` (`Label::dominate`), keeping the default release of a
    /// label that names no "Releasable To": dominated with one that names a set, it would
    /// otherwise lose its policy's default (NATO members, or nobody beyond the originator) and
    /// widen the release of what it marks.
    pub fn dominate(&self, a: &Label, b: &Label) -> Result<Label, LabelError> {
        if a.releasable_to().is_empty() == b.releasable_to().is_empty() {
            return a.dominate(b);
        }
        self.with_default_release(a)?
            .dominate(&self.with_default_release(b)?)
    }

    /// `label` with its policy's default release written as a "Releasable To" set when it names
    /// none: the organisation, or the empty set (nobody beyond the originator).
    fn with_default_release(&self, label: &Label) -> Result<Label, LabelError> {
        if !label.releasable_to().is_empty() {
            return Ok(label.clone());
        }
        let tokens = match self
            .policies
            .get(label.policy())
            .map(|p| &p.default_release)
        {
            Some(DefaultRelease::MembersOf(org)) => vec![ReleaseToken::parse(org)?],
            _ => Vec::new(),
        };
        label.clone().with_releasable_to(tokens)
    }

    /// Whether `label` is within a clearance: the same policy, a level at most the cleared one,
    /// and every caveat held. A label of another policy is refused: no equivalence is applied.
    pub fn is_cleared(&self, clearance: &Clearance<'_>, label: &Label) -> bool {
        let Some(ceiling) = self
            .policies
            .get(clearance.policy)
            .and_then(|p| p.rank_of(clearance.level))
        else {
            return false;
        };
        label.policy() == clearance.policy
            && label.rank() <= ceiling
            && label
                .caveats()
                .iter()
                .all(|c| clearance.caveats.iter().any(|h| h == c))
    }

    /// Decides whether `label` may be released by `originator` to `recipient` on `day`.
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
        if originator == recipient {
            return decision(Verdict::Permit, Reason::SameNation);
        }
        let Some(&policy) = self.policy_index.get(label.policy()) else {
            // Labels are validated against the same policies; an unknown one is refused, not guessed.
            return decision(
                Verdict::Deny,
                Reason::NoAgreement {
                    policy: label.policy().to_owned(),
                    classification: label.classification().to_owned(),
                    caveats: Vec::new(),
                },
            );
        };
        // 1. Releasability: every "Releasable To" set must admit the recipient on the day.
        if label.releasable_to().is_empty() {
            match self.policy_default[policy] {
                Some(org) => {
                    if !self.members[org].contains(recipient, day) {
                        return decision(
                            Verdict::Deny,
                            Reason::NotMemberForDefault {
                                policy: label.policy().to_owned(),
                                organization: self.group_names[org].clone(),
                            },
                        );
                    }
                }
                None => {
                    return decision(
                        Verdict::Deny,
                        Reason::OriginatorOnly {
                            policy: label.policy().to_owned(),
                        },
                    )
                }
            }
        }
        // Every token is checked, admitted or not, so that an unknown value denies whatever its
        // position in the set.
        for set in label.releasable_to() {
            if set.is_empty() {
                return decision(Verdict::Deny, Reason::EmptyReleaseSet);
            }
            let mut admitted = false;
            for token in set {
                let t = token.as_str();
                if let Some(&g) = self.groups.get(t) {
                    admitted |= self.members[g].contains(recipient, day);
                } else if let Some(nation) = self.known_nation(t) {
                    admitted |= nation == recipient;
                } else {
                    return decision(
                        Verdict::Deny,
                        Reason::UnknownReleaseToken {
                            token: t.to_owned(),
                        },
                    );
                }
            }
            if !admitted {
                let set = set
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return decision(Verdict::Deny, Reason::NotInReleaseSet { set });
            }
        }
        // 2. One agreement in force must cover the whole decision: both parties, level, caveats.
        let Some(cover) = self
            .covers
            .iter()
            .find(|c| self.covers_decision(c, label, policy, originator, recipient, day))
        else {
            return decision(
                Verdict::Deny,
                Reason::NoAgreement {
                    policy: label.policy().to_owned(),
                    classification: label.classification().to_owned(),
                    caveats: label.caveats().iter().cloned().collect(),
                },
            );
        };
        // 3. The originator's own rules may still forbid it.
        if let Some(rules) = &self.national_rules {
            if rules.has_rules_for(originator) {
                if let Some(reason) = Reason::from_national_rules(
                    originator,
                    rules.forbids(label, originator, recipient, day),
                ) {
                    return decision(Verdict::Deny, reason);
                }
            }
        }
        decision(
            Verdict::Permit,
            Reason::Covered {
                agreement: cover.agreement.clone(),
                agreement_name: cover.agreement_name.clone(),
                clause: cover.clause.clone(),
                article: cover.article.clone(),
            },
        )
    }

    fn covers_decision(
        &self,
        cover: &Cover,
        label: &Label,
        policy: usize,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> bool {
        if !cover.force.contains(day) || cover.suspended.iter().any(|s| s.contains(day)) {
            return false;
        }
        let Some(&(_, ceiling)) = cover.ceilings.iter().find(|(p, _)| *p == policy) else {
            return false;
        };
        if label.rank() > ceiling {
            return false;
        }
        if !label.caveats().iter().all(|c| cover.caveats.contains(c)) {
            return false;
        }
        // The two nations must stand for two different parties: an agreement between Japan and
        // NATO covers exchanges between Japan and the allies, not between two allies.
        let from = self.sides(cover, policy, originator, day);
        let to = self.sides(cover, policy, recipient, day);
        from.iter()
            .flatten()
            .any(|a| to.iter().flatten().any(|b| a != b))
    }

    /// The parties a nation stands for under the cover's agreement on `day`, for information of
    /// `policy`: itself (named, or as a member of the organisation whose members are the parties)
    /// and any organisation named as a party that acts for it (for that organisation's own policy).
    fn sides(
        &self,
        cover: &Cover,
        policy: usize,
        nation: NationCode,
        day: Date,
    ) -> [Option<Side>; 3] {
        let mut sides = [None; 3];
        if let Some((_, from)) = cover.accessions.iter().find(|(n, _)| *n == nation) {
            if day < *from {
                return sides;
            }
        }
        if cover.nation_parties.contains(&nation)
            || cover
                .member_org
                .is_some_and(|org| self.members[org].contains(nation, day))
        {
            sides[0] = Some(Side::Nation(nation));
        }
        let mut slot = 1;
        for &org in &cover.org_parties {
            if slot < sides.len()
                && self.policy_index.get(&self.group_names[org]) == Some(&policy)
                && self.members[org].contains(nation, day)
            {
                sides[slot] = Some(Side::Organization(org));
                slot += 1;
            }
        }
        sides
    }
}

#[cfg(test)]
mod memo_tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use entente_labels::{parse_marking, stix, PolicySet};
    use entente_registry::Registry;

    use super::*;

    #[test]
    fn a_memoised_marking_definition_is_the_one_built_from_its_label() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&root.join("registry")).unwrap();
        let policies = PolicySet::load(&root.join("policies")).unwrap();
        let policy = ReleasePolicy::new(&registry, policies);
        let memo = MarkingMemo::default();
        for text in [
            "NATO SECRET//REL TO FRA, GBR",
            "NATO CONFIDENTIAL",
            "NATO SECRET//REL TO FRA, GBR",
        ] {
            let label = parse_marking(policy.policies(), text).unwrap();
            let built = stix::to_marking_definition(policy.policies(), &label).unwrap();
            let first = memo.get_or_build(policy.policies(), &label).unwrap();
            let again = memo.get_or_build(policy.policies(), &label).unwrap();
            assert_eq!(*first, built, "{text}");
            assert!(
                std::sync::Arc::ptr_eq(&first, &again),
                "{text}: built twice"
            );
        }
        assert_eq!(memo.0.read().unwrap().len(), 2);
    }
}
