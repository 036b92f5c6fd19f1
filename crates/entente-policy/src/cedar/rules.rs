//! National release rules in Cedar (`data/policies/rules/<NATION>.cedar`): loaded, validated
//! against the schema, and evaluated for information the nation originates.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Authorizer, Effect, Entities, PolicyId, PolicySet as CedarPolicySet, Request};
use entente_labels::{Label, PolicySet};
use entente_registry::Registry;
use entente_types::{Date, NationCode};

use crate::compiled::NationalRules;

use super::*;

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

    /// Each nation's rules.
    pub(super) fn sets(&self) -> impl Iterator<Item = (&NationCode, &CedarPolicySet)> {
        self.by_nation.iter()
    }

    /// These rules with, per nation, only those whose ids `keep` lists (a nation with none
    /// left has no rules).
    pub(super) fn restricted_to(
        &self,
        keep: &HashMap<NationCode, std::collections::BTreeSet<String>>,
    ) -> CedarNationalRules {
        let mut by_nation = HashMap::new();
        for (nation, set) in &self.by_nation {
            let Some(ids) = keep.get(nation).filter(|ids| !ids.is_empty()) else {
                continue;
            };
            let mut kept = CedarPolicySet::new();
            for p in set.policies().filter(|p| ids.contains(&p.id().to_string())) {
                // Ids are unique within a set already validated: adding cannot fail.
                let _ = kept.add(p.clone());
            }
            by_nation.insert(*nation, kept);
        }
        CedarNationalRules {
            encoder: self.encoder.clone(),
            authorizer: Authorizer::new(),
            by_nation,
        }
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
    pub(super) fn evaluate(
        &self,
        originator: NationCode,
        request: &Request,
        entities: &Entities,
    ) -> Result<Option<String>, RulesError> {
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
    ) -> Result<Option<String>, RulesError> {
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
