//! The plain evaluation the index must agree with: every answer computed by looking at every
//! document given, one by one, with no index.
//!
//! Tests give it the objects a reader reads through TAXII and compare its answers with the
//! index's: equal answers mean the index answers from the reader's view and nothing else.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::correlate::{
    object_edges, Correlated, CorrelationOptions, Correlations, Edge, Graph, GraphNode, Link,
};
use crate::index::{references, sort_key, Document, Facets, Hit, SearchResults, Sort, Warned};
use crate::observable::{observables_of, Observable};
use crate::query::{Query, Word};
use crate::relate::{relation, Relation};
use crate::text::{name_words, object_words, words};
use crate::warn::Warnings;

/// Documents and warning lists, evaluated plainly.
pub struct Plain<'a> {
    pub docs: &'a [Document],
    pub warnings: &'a Warnings,
}

impl Plain<'_> {
    fn word_holds(doc_words: &[String], observables: &[Observable], word: &Word) -> bool {
        let text_holds = if word.value.is_some() {
            let all = words(&word.text);
            !all.is_empty() && all.iter().all(|w| doc_words.contains(w))
        } else if word.prefix {
            doc_words.iter().any(|w| w.starts_with(&word.text))
        } else {
            doc_words.contains(&word.text)
        };
        text_holds || word.value.as_ref().is_some_and(|v| observables.contains(v))
    }

    /// Does `doc` match `query`?
    pub fn matches(&self, doc: &Document, query: &Query) -> bool {
        let doc_words = object_words(&doc.copy);
        let observables = observables_of(&doc.copy);
        let any_or_none =
            |wanted: &[String], have: &str| wanted.is_empty() || wanted.iter().any(|w| w == have);
        let label = doc.label.to_lowercase();
        query
            .words
            .iter()
            .all(|w| Self::word_holds(&doc_words, &observables, w))
            && !query
                .without_words
                .iter()
                .any(|w| Self::word_holds(&doc_words, &observables, w))
            && (query.values.is_empty()
                || query
                    .values
                    .iter()
                    .any(|q| observables.iter().any(|v| relation(q, v).is_some())))
            && any_or_none(&query.types, &doc.kind)
            && !query.without_types.contains(&doc.kind)
            && any_or_none(&query.originators, &doc.originator)
            && !query.without_originators.contains(&doc.originator)
            && (query.labels.is_empty() || query.labels.iter().any(|p| label.contains(p.as_str())))
            && !query
                .without_labels
                .iter()
                .any(|p| label.contains(p.as_str()))
            && query
                .added
                .is_none_or(|(from, to)| (from..=to).contains(&doc.added_day()))
    }

    /// Every matching document in order, as the index would page it with no limit.
    pub fn search(&self, query: &Query, sort: Sort) -> SearchResults {
        let found: Vec<&Document> = self
            .docs
            .iter()
            .filter(|d| self.matches(d, query))
            .collect();
        let mut facets = Facets::default();
        for d in &found {
            *facets.types.entry(d.kind.clone()).or_default() += 1;
            *facets.originators.entry(d.originator.clone()).or_default() += 1;
            *facets.labels.entry(d.label.clone()).or_default() += 1;
        }
        let plain_words: Vec<&Word> = query
            .words
            .iter()
            .filter(|w| w.value.is_none() && !w.prefix)
            .collect();
        let lower: Vec<String> = found.iter().map(|d| d.name.to_lowercase()).collect();
        let mut ordered: Vec<_> = found
            .iter()
            .zip(&lower)
            .map(|(d, lower)| {
                let names = name_words(&d.name);
                let relevant = sort == Sort::Relevance
                    && !plain_words.is_empty()
                    && plain_words.iter().all(|w| names.contains(&w.text));
                (sort_key(sort, d, lower, relevant), *d)
            })
            .collect();
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        let hits = ordered
            .into_iter()
            .map(|(_, d)| {
                let observables = observables_of(&d.copy);
                Hit {
                    collection: d.collection.to_string(),
                    id: d.id.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    originator: d.originator.clone(),
                    label: d.label.clone(),
                    added_us: d.added_us,
                    warnings: self.warned(&observables),
                }
            })
            .collect();
        SearchResults {
            total: found.len(),
            hits,
            facets,
        }
    }

    fn warned(&self, observables: &[Observable]) -> Vec<Warned> {
        observables
            .iter()
            .filter_map(|o| {
                let lists = self.warnings.lists_of(o);
                (!lists.is_empty()).then(|| Warned {
                    value: o.to_string(),
                    lists,
                })
            })
            .collect()
    }

    /// The correlations of a value, computed over every document.
    pub fn correlate_value(&self, value: &Observable, options: CorrelationOptions) -> Correlations {
        self.correlate(std::slice::from_ref(value), None, options)
    }

    /// The correlations of an object, or `None` when no document has its id.
    pub fn correlate_object(&self, id: &str, options: CorrelationOptions) -> Option<Correlations> {
        let held: Vec<&Document> = self.docs.iter().filter(|d| d.id == id).collect();
        if held.is_empty() {
            return None;
        }
        let values: BTreeSet<Observable> =
            held.iter().flat_map(|d| observables_of(&d.copy)).collect();
        let values: Vec<Observable> = values.into_iter().collect();
        Some(self.correlate(&values, Some(id), options))
    }

    fn correlate(
        &self,
        asked: &[Observable],
        except: Option<&str>,
        options: CorrelationOptions,
    ) -> Correlations {
        let warned = |v: &Observable| !self.warnings.lists_of(v).is_empty();
        let (used, ignored): (Vec<&Observable>, Vec<&Observable>) = asked
            .iter()
            .partition(|v| options.include_warned || !warned(v));
        let mut objects = Vec::new();
        for d in self.docs {
            if Some(d.id.as_str()) == except {
                continue;
            }
            let mut through = BTreeSet::new();
            for v in observables_of(&d.copy) {
                if !options.include_warned && warned(&v) {
                    continue;
                }
                for q in &used {
                    let how = relation(q, &v)
                        .or_else(|| self.same_file(q, &v).then_some(Relation::SameFile));
                    if let Some(how) = how {
                        through.insert(Link {
                            asked: q.to_string(),
                            value: v.to_string(),
                            relation: how,
                        });
                    }
                }
            }
            if !through.is_empty() {
                objects.push(Correlated {
                    collection: d.collection.to_string(),
                    id: d.id.clone(),
                    kind: d.kind.clone(),
                    name: d.name.clone(),
                    originator: d.originator.clone(),
                    label: d.label.clone(),
                    through: through.into_iter().collect(),
                });
            }
        }
        objects.sort_by(|a, b| (&a.collection, &a.id).cmp(&(&b.collection, &b.id)));
        Correlations {
            values: used.iter().map(|v| v.to_string()).collect(),
            ignored: ignored
                .iter()
                .map(|v| Warned {
                    value: v.to_string(),
                    lists: self.warnings.lists_of(v),
                })
                .collect(),
            objects,
        }
    }

    /// Two different hashes that one `file` object in view gives.
    fn same_file(&self, a: &Observable, b: &Observable) -> bool {
        matches!((a, b), (Observable::Hash(x), Observable::Hash(y)) if x != y)
            && self.docs.iter().any(|d| {
                d.kind == "file" && {
                    let values = observables_of(&d.copy);
                    values.contains(a) && values.contains(b)
                }
            })
    }

    /// The graph around `id`, computed from every document's edges.
    pub fn graph(&self, id: &str, hops: usize, max_nodes: usize) -> Option<Graph> {
        let in_view: BTreeSet<&str> = self.docs.iter().map(|d| d.id.as_str()).collect();
        if !in_view.contains(id) {
            return None;
        }
        let edges: BTreeSet<Edge> = self
            .docs
            .iter()
            .flat_map(|d| object_edges(&d.id, &d.kind, &d.copy, &references(&d.copy)))
            .filter(|e| in_view.contains(e.source.as_str()) && in_view.contains(e.target.as_str()))
            .collect();
        let mut depth: BTreeMap<String, usize> = BTreeMap::from([(id.to_owned(), 0)]);
        let mut queue = VecDeque::from([id.to_owned()]);
        let mut truncated = false;
        while let Some(at) = queue.pop_front() {
            let d = depth[&at];
            // The index walks a node's edges in the order of the set: the same order here.
            for e in edges.iter().filter(|e| e.source == at || e.target == at) {
                let other = if e.source == at { &e.target } else { &e.source };
                if depth.contains_key(other) || d >= hops {
                    continue;
                }
                if depth.len() >= max_nodes {
                    truncated = true;
                    continue;
                }
                depth.insert(other.clone(), d + 1);
                queue.push_back(other.clone());
            }
        }
        let nodes = depth
            .iter()
            .filter_map(|(node, &distance)| {
                let d = (self.docs.iter().filter(|d| d.id == *node))
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
}
