//! Correlation: the objects in a reader's view that share an observable value with a value or
//! an object, exactly or fuzzily, and the graph of references around an object.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use serde::Serialize;

use crate::index::{SearchIndex, Warned};
use crate::observable::Observable;
use crate::relate::{relation, Relation};

/// What a correlation is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CorrelationOptions {
    /// Use values on a warning list too (by default they link nothing, as in MISP).
    pub include_warned: bool,
}

/// An object that correlates, and through which values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correlated {
    pub collection: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub originator: String,
    pub label: String,
    /// (value asked about, the object's value, how they relate), sorted.
    pub through: Vec<Link>,
}

/// One shared or related value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Link {
    pub asked: String,
    pub value: String,
    pub relation: Relation,
}

/// The answer to a correlation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correlations {
    /// The values correlated from (those of the object, or the value given).
    pub values: Vec<String>,
    /// Values left out because they are on a warning list.
    pub ignored: Vec<Warned>,
    /// The objects found, by collection and id.
    pub objects: Vec<Correlated>,
}

impl SearchIndex {
    /// The objects in view naming `value` or a value related to it.
    pub fn correlate_value(&self, value: &Observable, options: CorrelationOptions) -> Correlations {
        self.correlate(std::slice::from_ref(value), None, options)
    }

    /// The objects in view sharing or relating through a value with object `id` (in any
    /// collection); `None` when the object is not in view.
    pub fn correlate_object(&self, id: &str, options: CorrelationOptions) -> Option<Correlations> {
        let mut values = BTreeSet::new();
        let mut any = false;
        for n in self.by_id.get(id)? {
            if let Some(e) = self.entry(n) {
                any = true;
                values.extend(e.observables.iter().cloned());
            }
        }
        any.then(|| {
            let values: Vec<Observable> = values.into_iter().collect();
            self.correlate(&values, Some(id), options)
        })
    }

    fn correlate(
        &self,
        asked: &[Observable],
        except: Option<&str>,
        options: CorrelationOptions,
    ) -> Correlations {
        let mut ignored = Vec::new();
        let mut used = Vec::new();
        for value in asked {
            let lists = self.warnings.lists_of(value);
            if lists.is_empty() || options.include_warned {
                used.push(value.clone());
            } else {
                ignored.push(Warned {
                    value: value.to_string(),
                    lists,
                });
            }
        }
        let mut links: BTreeMap<u32, BTreeSet<Link>> = BTreeMap::new();
        for value in &used {
            let same_file = match value {
                Observable::Hash(h) => self.same_file_hashes(h),
                _ => BTreeSet::new(),
            };
            let mut candidates = self.candidates(value);
            for other in &same_file {
                if let Some(set) = self.values.get(other) {
                    candidates |= set;
                }
            }
            for n in &candidates {
                let Some(e) = self.entry(n) else { continue };
                if Some(e.doc.id.as_str()) == except {
                    continue;
                }
                for v in &e.observables {
                    let how = relation(value, v)
                        .or_else(|| same_file.contains(v).then_some(Relation::SameFile));
                    let Some(how) = how else { continue };
                    if !options.include_warned && !self.warnings.lists_of(v).is_empty() {
                        continue;
                    }
                    links.entry(n).or_default().insert(Link {
                        asked: value.to_string(),
                        value: v.to_string(),
                        relation: how,
                    });
                }
            }
        }
        let mut objects: Vec<Correlated> = links
            .into_iter()
            .filter_map(|(n, through)| {
                let d = &self.entry(n)?.doc;
                Some(Correlated {
                    collection: d.collection.to_string(),
                    id: d.id.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    originator: d.originator.clone(),
                    label: d.label.clone(),
                    through: through.into_iter().collect(),
                })
            })
            .collect();
        objects.sort_by(|a, b| (&a.collection, &a.id).cmp(&(&b.collection, &b.id)));
        Correlations {
            values: used.iter().map(ToString::to_string).collect(),
            ignored,
            objects,
        }
    }

    /// The objects in view up to `hops` references away from object `id`, and the references
    /// between them (relationships, sightings, and `*_ref(s)` properties), at most `max_nodes`
    /// objects (nearest first). `None` when the object is not in view.
    pub fn graph(&self, id: &str, hops: usize, max_nodes: usize) -> Option<Graph> {
        self.by_id.get(id).filter(|s| !s.is_empty())?;
        let mut depth: BTreeMap<String, usize> = BTreeMap::new();
        depth.insert(id.to_owned(), 0);
        let mut queue = VecDeque::from([id.to_owned()]);
        let mut edges: BTreeSet<Edge> = BTreeSet::new();
        let mut truncated = false;
        while let Some(at) = queue.pop_front() {
            let d = depth.get(&at).copied().unwrap_or(0);
            for edge in self.edges_of(&at) {
                let other = if edge.source == at {
                    edge.target.clone()
                } else {
                    edge.source.clone()
                };
                if !depth.contains_key(&other) {
                    if d >= hops {
                        continue;
                    }
                    if depth.len() >= max_nodes {
                        truncated = true;
                        continue;
                    }
                    depth.insert(other.clone(), d + 1);
                    queue.push_back(other);
                }
                edges.insert(edge);
            }
        }
        let nodes = depth
            .iter()
            .filter_map(|(node, &distance)| {
                let d = self
                    .documents_of(node)
                    .min_by(|a, b| a.collection.cmp(&b.collection))?;
                Some(GraphNode {
                    id: node.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    originator: d.originator.clone(),
                    distance,
                })
            })
            .collect();
        Some(Graph {
            nodes,
            edges: edges
                .into_iter()
                .filter(|e| depth.contains_key(&e.source) && depth.contains_key(&e.target))
                .collect(),
            truncated,
        })
    }

    /// The edges at object `id` between objects in view: the relationships and sightings
    /// joining it, and the references it makes and that are made to it.
    fn edges_of(&self, id: &str) -> BTreeSet<Edge> {
        let mut out = Vec::new();
        let in_view = |other: &str| self.by_id.get(other).is_some_and(|s| !s.is_empty());
        let mut seen = HashSet::new();
        let mut from = |n: u32, out: &mut Vec<Edge>| {
            if !seen.insert(n) {
                return;
            }
            let Some(e) = self.entry(n) else { return };
            for edge in object_edges(&e.doc.id, &e.doc.kind, &e.doc.copy, &e.refs) {
                if (edge.source == id || edge.target == id)
                    && in_view(&edge.source)
                    && in_view(&edge.target)
                {
                    out.push(edge);
                }
            }
        };
        for n in self.by_id.get(id).into_iter().flatten() {
            from(n, &mut out);
        }
        for n in self.referrers.get(id).into_iter().flatten() {
            from(n, &mut out);
        }
        out.into_iter().collect()
    }
}

/// The edges an object makes: a relationship joins its source and target (and is no node of
/// its own); a sighting joins what was sighted to where and what observed it; any other
/// object points to what its references name.
pub(crate) fn object_edges(
    id: &str,
    kind: &str,
    copy: &serde_json::Value,
    refs: &[(String, String)],
) -> Vec<Edge> {
    let text = |k: &str| copy.get(k).and_then(serde_json::Value::as_str);
    match kind {
        "relationship" => match (text("source_ref"), text("target_ref")) {
            (Some(s), Some(t)) => vec![Edge {
                source: s.to_owned(),
                target: t.to_owned(),
                label: text("relationship_type").unwrap_or("related-to").to_owned(),
                via: Some(id.to_owned()),
            }],
            _ => Vec::new(),
        },
        _ => refs
            .iter()
            .map(|(key, target)| Edge {
                source: id.to_owned(),
                target: target.clone(),
                label: key
                    .trim_end_matches('s')
                    .trim_end_matches("_ref")
                    .replace('_', " "),
                via: None,
            })
            .collect(),
    }
}

/// The objects around one and the references between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<Edge>,
    /// More objects were in reach than were kept.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub originator: String,
    /// Hops from the object asked about.
    pub distance: usize,
}

/// A reference from one object to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edge {
    pub source: String,
    pub target: String,
    /// The relationship's type, or the referring property (`object`, `sighting of`).
    pub label: String,
    /// The relationship object that makes the edge, if one does.
    pub via: Option<String>,
}
