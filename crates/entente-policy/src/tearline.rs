//! Tear lines: the copy of a STIX object that one recipient may receive.
//!
//! Each portion (a property named by a granular marking) is decided on its effective label; the
//! object as a whole on its object label. Denied portions are cut out, the selectors of the portions
//! that remain are re-indexed, and the object's label is replaced by the banner: the dominant label
//! of what remains. A denied portion leaves no trace in the copy: not its content, not its label,
//! not its selector, not a count.

use std::collections::HashMap;

use entente_labels::portion::{object_labels, Selector, Step};
use entente_labels::{stix, Label};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::compiled::ReleasePolicy;
use crate::decision::Decision;
use crate::PolicyError;

/// The outcome for a whole object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseVerdict {
    /// Released whole.
    Permit,
    /// Released with portions cut out.
    Partial,
    /// Not released.
    Deny,
}

/// A released (or refused) object, with every decision taken on the way.
#[derive(Debug, Clone)]
pub struct Release {
    pub verdict: ReleaseVerdict,
    /// The tear-lined copy, when released.
    pub object: Option<Value>,
    /// The marking definitions the copy refers to (its banner and remaining portion labels).
    pub markings: Vec<Value>,
    /// The banner label of the copy.
    pub banner: Option<Label>,
    /// The decision on the object's own label.
    pub object_decision: Decision,
    /// The decision on each portion, by selector (for the releasing side's explanation only).
    pub portions: Vec<(String, Decision)>,
    /// A required property whose portion was denied, which makes the whole object undeliverable.
    pub required_denied: Option<String>,
}

/// Properties a STIX 2.1 object of a given type cannot lose and stay valid.
fn required_properties(kind: &str) -> &'static [&'static str] {
    match kind {
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "incident"
        | "infrastructure" | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => {
            &["name"]
        }
        "grouping" => &["context", "object_refs"],
        "indicator" => &["pattern", "pattern_type", "valid_from"],
        "malware" => &["is_family"],
        "malware-analysis" => &["product"],
        "note" => &["content", "object_refs"],
        "observed-data" => &["first_observed", "last_observed", "number_observed"],
        "opinion" => &["opinion", "object_refs"],
        "report" => &["name", "published", "object_refs"],
        "relationship" => &["relationship_type", "source_ref", "target_ref"],
        "sighting" => &["sighting_of_ref"],
        _ => &[],
    }
}

impl ReleasePolicy {
    /// The copy of `object` that `recipient` may receive from `originator` on `day`. `lookup`
    /// maps marking-definition ids to labels.
    pub fn release_object(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Release, PolicyError> {
        let labels = object_labels(object, lookup)?;
        self.validate(&labels.object)
            .map_err(PolicyError::Invalid)?;
        for (_, l) in &labels.portions {
            self.validate(l).map_err(PolicyError::Invalid)?;
        }
        let object_decision = self.decide(&labels.object, originator, recipient, day);
        let refused = |object_decision, portions, required_denied| Release {
            verdict: ReleaseVerdict::Deny,
            object: None,
            markings: Vec::new(),
            banner: None,
            object_decision,
            portions,
            required_denied,
        };
        if !object_decision.is_permit() {
            return Ok(refused(object_decision, Vec::new(), None));
        }
        // Decide each portion on its effective label; the same label is decided once.
        let mut cache: HashMap<Label, Decision> = HashMap::new();
        let mut portions = Vec::with_capacity(labels.portions.len());
        let mut denied: Vec<&Selector> = Vec::new();
        for (selector, _) in &labels.portions {
            let effective = labels.effective(selector)?;
            let decision = match cache.get(&effective) {
                Some(d) => d.clone(),
                None => {
                    let d = self.decide(&effective, originator, recipient, day);
                    cache.insert(effective, d.clone());
                    d
                }
            };
            if !decision.is_permit() {
                denied.push(selector);
            }
            portions.push((selector.as_str().to_owned(), decision));
        }
        // Only the outermost denied portions are cut (inner ones go with them).
        let mut cuts: Vec<&Selector> = denied
            .iter()
            .copied()
            .filter(|s| {
                !denied
                    .iter()
                    .any(|o| o.steps() != s.steps() && o.contains(s))
            })
            .collect();
        cuts.sort_by(|a, b| b.steps().cmp(a.steps()));
        cuts.dedup_by(|a, b| a.steps() == b.steps());

        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let required = required_properties(kind);
        let mut copy = object.clone();
        for cut in &cuts {
            if let [Step::Key(k)] = cut.steps() {
                if required.contains(&k.as_str()) {
                    return Ok(refused(object_decision, portions, Some(k.clone())));
                }
            }
            remove(&mut copy, cut.steps());
        }
        for key in required {
            if copy
                .get(key)
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                return Ok(refused(object_decision, portions, Some((*key).to_owned())));
            }
        }

        // Rewrite what remains of the granular markings, and compute the banner over it.
        let mut banner = labels.object.clone();
        let mut remaining_labels: Vec<Label> = Vec::new();
        if let Some(Value::Array(granular)) = copy.get_mut("granular_markings") {
            let mut kept_markings = Vec::new();
            for g in granular.iter() {
                let mut g = g.clone();
                let label = g
                    .get("marking_ref")
                    .and_then(Value::as_str)
                    .and_then(lookup);
                let Some(label) = label else {
                    kept_markings.push(g);
                    continue;
                };
                let selectors: Vec<String> = g
                    .get("selectors")
                    .and_then(Value::as_array)
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let mut kept = Vec::new();
                for text in selectors {
                    let Ok(selector) = Selector::parse(&text, object) else {
                        continue;
                    };
                    if cuts.iter().any(|c| c.contains(&selector)) {
                        continue;
                    }
                    kept.push(Value::String(reindex(selector.steps(), &cuts)));
                }
                if kept.is_empty() {
                    continue;
                }
                banner = banner.dominate(&label)?;
                remaining_labels.push(label);
                g["selectors"] = Value::Array(kept);
                kept_markings.push(g);
            }
            *granular = kept_markings;
        }
        if copy
            .get("granular_markings")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            if let Some(map) = copy.as_object_mut() {
                map.remove("granular_markings");
            }
        }
        let policies = self.policies();
        let banner_id = stix::marking_definition_id(policies, &banner)?;
        if let Some(Value::Array(refs)) = copy.get_mut("object_marking_refs") {
            let others: Vec<Value> = refs
                .iter()
                .filter(|r| r.as_str().and_then(lookup).is_none())
                .cloned()
                .collect();
            *refs = std::iter::once(Value::String(banner_id))
                .chain(others)
                .collect();
        }
        let mut markings = vec![stix::to_marking_definition(policies, &banner)?];
        for label in &remaining_labels {
            let md = stix::to_marking_definition(policies, label)?;
            if !markings.iter().any(|m| m["id"] == md["id"]) {
                markings.push(md);
            }
        }
        Ok(Release {
            verdict: if cuts.is_empty() {
                ReleaseVerdict::Permit
            } else {
                ReleaseVerdict::Partial
            },
            object: Some(copy),
            markings,
            banner: Some(banner),
            object_decision,
            portions,
            required_denied: None,
        })
    }
}

/// Removes the property or list element at `steps`.
fn remove(value: &mut Value, steps: &[Step]) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut here = value;
    for step in parents {
        let next = match step {
            Step::Key(k) => here.get_mut(k.as_str()),
            Step::Index(i) => here.get_mut(*i),
        };
        match next {
            Some(n) => here = n,
            None => return,
        }
    }
    match (last, here) {
        (Step::Key(k), Value::Object(map)) => {
            map.remove(k);
        }
        (Step::Index(i), Value::Array(list)) if *i < list.len() => {
            list.remove(*i);
        }
        _ => {}
    }
}

/// The selector text for `steps` after the list elements in `cuts` were removed.
fn reindex(steps: &[Step], cuts: &[&Selector]) -> String {
    let mut out = Vec::with_capacity(steps.len());
    for (k, step) in steps.iter().enumerate() {
        match step {
            Step::Key(key) => out.push(key.clone()),
            Step::Index(j) => {
                let prefix = &steps[..k];
                let removed_before = cuts
                    .iter()
                    .filter(|c| {
                        let c = c.steps();
                        c.len() == k + 1
                            && &c[..k] == prefix
                            && matches!(c[k], Step::Index(i) if i < *j)
                    })
                    .count();
                out.push(format!("[{}]", j - removed_before));
            }
        }
    }
    out.join(".")
}
