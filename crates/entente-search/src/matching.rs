//! Indicators' STIX patterns matched against observations: the observed data and the
//! cyber-observable objects in a reader's view, or those of a bundle posted to be checked.
//!
//! Matching is `entente_pattern`'s (the semantics of OASIS's `stix2-matcher`); this module only
//! says which observations and indicators meet. A pattern of one bracketed expression is tried
//! on each observation and names every one it holds in; a pattern joining several (`AND`, `OR`,
//! `FOLLOWEDBY`, qualifiers) names the observations of one binding over all of them.

use std::collections::{BTreeSet, HashMap};

use entente_pattern::{Matcher, Observation, ObservationExpr, Pattern};
use serde::Serialize;
use serde_json::Value;

use crate::index::SearchIndex;

/// An indicator and the observations its pattern hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatternHit {
    pub indicator: String,
    pub name: String,
    /// Ids of the observed data, or of the objects held on their own.
    pub observations: Vec<String>,
}

/// What a bundle meets in a reader's view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatchReport {
    /// The bundle's indicators, and what they hit among the observations in view.
    pub bundle_indicators: Vec<PatternHit>,
    /// The indicators in view, and what they hit among the bundle's observations.
    pub held_indicators: Vec<PatternHit>,
    /// Indicators whose pattern could not be read or matched, and why.
    pub problems: Vec<String>,
}

/// Observations and what each is called.
struct Observations<'a> {
    items: Vec<Observation<'a>>,
    ids: Vec<String>,
    /// The object types each observation holds.
    types: Vec<BTreeSet<String>>,
}

impl<'a> Observations<'a> {
    /// Observations of `objects`: each observed-data with the objects its references name among
    /// `objects`, and each cyber-observable object on its own.
    fn of(objects: &[&'a Value]) -> Observations<'a> {
        let by_id: HashMap<&str, &Value> = objects
            .iter()
            .filter_map(|o| Some((o.get("id")?.as_str()?, *o)))
            .collect();
        let mut out = Observations {
            items: Vec::new(),
            ids: Vec::new(),
            types: Vec::new(),
        };
        for object in objects {
            let kind = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
            let observation = if kind == "observed-data" {
                Observation::from_observed_data(object, &|r: &str| by_id.get(r).copied())
            } else if entente_stix::is_sco_type(kind) {
                Observation::from_objects(&[*object], None)
            } else {
                continue;
            };
            let Ok(observation) = observation else {
                continue;
            };
            let mut types = BTreeSet::from([kind.to_owned()]);
            if kind == "observed-data" {
                let refs = object.get("object_refs").and_then(Value::as_array);
                for r in refs.into_iter().flatten().filter_map(Value::as_str) {
                    if let Some(t) = by_id
                        .get(r)
                        .and_then(|o| o.get("type"))
                        .and_then(Value::as_str)
                    {
                        types.insert(t.to_owned());
                    }
                }
                let embedded = object.get("objects").and_then(Value::as_object);
                for o in embedded.into_iter().flat_map(|m| m.values()) {
                    if let Some(t) = o.get("type").and_then(Value::as_str) {
                        types.insert(t.to_owned());
                    }
                }
            }
            out.items.push(observation);
            out.ids.push(id.to_owned());
            out.types.push(types);
        }
        out
    }

    /// The ids of the observations `pattern` hits.
    fn hit_by(&self, pattern: &Pattern, matcher: &Matcher) -> Result<Vec<String>, String> {
        let wanted: BTreeSet<&str> = pattern
            .comparisons()
            .map(|c| c.object_type.as_str())
            .collect();
        // An observation without an object of a type the pattern compares satisfies none of its
        // brackets, so it can be left out of every binding.
        let candidates: Vec<usize> = (0..self.items.len())
            .filter(|&i| self.types[i].iter().any(|t| wanted.contains(t.as_str())))
            .collect();
        let mut hits = Vec::new();
        if matches!(pattern.root(), ObservationExpr::Observation(_)) {
            for &i in &candidates {
                if matcher
                    .matches(std::slice::from_ref(&self.items[i]))
                    .map_err(|e| e.to_string())?
                {
                    hits.push(self.ids[i].clone());
                }
            }
        } else {
            let chosen: Vec<Observation<'_>> =
                candidates.iter().map(|&i| self.items[i].clone()).collect();
            if let Some(binding) = matcher.find(&chosen).map_err(|e| e.to_string())? {
                hits.extend(binding.into_iter().map(|b| self.ids[candidates[b]].clone()));
            }
        }
        Ok(hits)
    }
}

/// The STIX pattern of an indicator, compiled; `None` for other objects and other pattern
/// languages.
fn compiled(indicator: &Value) -> Option<Result<(Pattern, Matcher), String>> {
    if indicator.get("type").and_then(Value::as_str) != Some("indicator")
        || indicator.get("pattern_type").and_then(Value::as_str) != Some("stix")
    {
        return None;
    }
    let text = indicator.get("pattern").and_then(Value::as_str)?;
    Some(
        Pattern::parse(text)
            .map_err(|e| e.to_string())
            .and_then(|p| p.matcher().map(|m| (p, m)).map_err(|e| e.to_string())),
    )
}

fn hits_of(
    indicators: &[&Value],
    observations: &Observations<'_>,
    problems: &mut Vec<String>,
) -> Vec<PatternHit> {
    let mut out = Vec::new();
    for indicator in indicators {
        let id = indicator
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let found = match compiled(indicator) {
            None => continue,
            Some(Err(e)) => Err(e),
            Some(Ok((pattern, matcher))) => observations.hit_by(&pattern, &matcher),
        };
        match found {
            Ok(hits) if hits.is_empty() => {}
            Ok(hits) => out.push(PatternHit {
                indicator: id.to_owned(),
                name: crate::index::plain_name(indicator),
                observations: hits,
            }),
            Err(e) => problems.push(format!("{id}: {e}")),
        }
    }
    out.sort_by(|a, b| a.indicator.cmp(&b.indicator));
    out
}

impl SearchIndex {
    fn copies(&self) -> Vec<&Value> {
        let mut docs: Vec<_> = self.documents().collect();
        docs.sort_by(|a, b| (&a.collection, &a.id).cmp(&(&b.collection, &b.id)));
        docs.into_iter().map(|d| &d.copy).collect()
    }

    /// The indicators in view and what they hit among the observations in view.
    pub fn match_held(&self) -> (Vec<PatternHit>, Vec<String>) {
        let copies = self.copies();
        let observations = Observations::of(&copies);
        let mut problems = Vec::new();
        let hits = hits_of(&copies, &observations, &mut problems);
        (hits, problems)
    }

    /// What the objects of a bundle meet in view: its indicators against the observations in
    /// view, and the indicators in view against its observations.
    pub fn match_bundle(&self, objects: &[Value]) -> MatchReport {
        let copies = self.copies();
        let bundle: Vec<&Value> = objects.iter().collect();
        let mut problems = Vec::new();
        let bundle_indicators = hits_of(&bundle, &Observations::of(&copies), &mut problems);
        let held_indicators = hits_of(&copies, &Observations::of(&bundle), &mut Vec::new());
        MatchReport {
            bundle_indicators,
            held_indicators,
            problems,
        }
    }
}
