//! One reader's search index: the objects released to the reader, their words, fields,
//! observable values and references, kept as sets of document numbers.
//!
//! It is built from released copies only, and every answer (results, counts, facets,
//! correlations, graph) is computed from it: nothing else is there to leak.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use roaring::RoaringBitmap;
use serde_json::Value;

use crate::observable::{observables_of, url_site, Observable};
use crate::query::{Query, Word};
use crate::text::{name_words, object_words};
use crate::warn::Warnings;

/// Hash maps with a fast hash: keys are the index's own strings, not an attacker's choice of
/// collisions (a reader searches only what it was released).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// An object released to the reader, as it is indexed.
#[derive(Debug, Clone)]
pub struct Document {
    pub collection: Arc<str>,
    pub id: String,
    pub kind: String,
    /// What the object is called on a page (its name, or what stands for it).
    pub name: String,
    pub originator: String,
    /// The banner text of the copy's label.
    pub label: String,
    /// When it was added to the node, in microseconds since 1970-01-01 (UTC).
    pub added_us: i64,
    /// The copy the reader was released.
    pub copy: Value,
}

impl Document {
    /// Days since 1970-01-01 (UTC) of the time it was added.
    pub fn added_day(&self) -> i64 {
        self.added_us.div_euclid(86_400_000_000)
    }
}

/// A document and what the index took from it (to take it out again).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub doc: Document,
    pub words: Vec<String>,
    pub name_words: Vec<String>,
    /// The name in lower case (what the name order compares).
    pub name_lower: String,
    /// Numbers of the type, originator and label in the index's [`Names`].
    pub facets: [u32; 3],
    pub observables: Vec<Observable>,
    /// References to other objects: (property, id).
    pub refs: Vec<(String, String)>,
}

/// A reader's index.
#[derive(Clone)]
pub struct SearchIndex {
    pub(crate) warnings: Warnings,
    pub(crate) entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    at: HashMap<(Arc<str>, String), u32>,
    /// Documents by STIX id (an id may be held in several collections).
    pub(crate) by_id: HashMap<String, RoaringBitmap>,
    pub(crate) all: RoaringBitmap,
    words: HashMap<String, RoaringBitmap>,
    /// The words held, in order, for prefixes.
    word_list: BTreeSet<String>,
    /// The type, originator and label of each document, numbered.
    names: [Names; 3],
    /// The day each document was added, by document number.
    days: Vec<i64>,
    /// What orders and facets read of each document, by document number.
    columns: Vec<Columns>,
    /// Each document's place in the order of names (made on first use after a change).
    name_ranks: std::sync::OnceLock<Arc<Vec<u32>>>,
    name_words: HashMap<String, RoaringBitmap>,
    kinds: HashMap<String, RoaringBitmap>,
    originators: HashMap<String, RoaringBitmap>,
    labels: HashMap<String, RoaringBitmap>,
    pub(crate) values: HashMap<Observable, RoaringBitmap>,
    /// IPv4 and IPv6 values by (first address, prefix length), for containment in both ways.
    pub(crate) v4: BTreeMap<(u32, u8), RoaringBitmap>,
    pub(crate) v6: BTreeMap<(u128, u8), RoaringBitmap>,
    /// How many values of each prefix length are held (to look up the networks holding one).
    pub(crate) v4_prefixes: BTreeMap<u8, usize>,
    pub(crate) v6_prefixes: BTreeMap<u8, usize>,
    /// Documents by the hosts their domains, URLs and e-mail addresses name, the host's labels
    /// reversed and ended by a dot (`com.example.mail.`), so that a domain's subdomains are a
    /// range.
    pub(crate) hosts: BTreeMap<String, RoaringBitmap>,
    /// Documents by the site (scheme, host, port) of their URLs.
    pub(crate) sites: HashMap<String, RoaringBitmap>,
    /// Documents whose references name an id.
    pub(crate) referrers: HashMap<String, RoaringBitmap>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchResults {
    /// How many objects match.
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// One object found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub collection: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub originator: String,
    pub label: String,
    pub added_us: i64,
    /// The object's values on a warning list, and the lists' names.
    pub warnings: Vec<Warned>,
}

/// A value on warning lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Warned {
    pub value: String,
    pub lists: Vec<String>,
}

/// Counts of the matching objects by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Facets {
    pub types: BTreeMap<String, usize>,
    pub originators: BTreeMap<String, usize>,
    pub labels: BTreeMap<String, usize>,
}

/// The order of results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Objects whose name holds every word first, then the newest.
    #[default]
    Relevance,
    Newest,
    Oldest,
    Name,
    Type,
    Originator,
}

impl Sort {
    pub const ALL: [Sort; 6] = [
        Sort::Relevance,
        Sort::Newest,
        Sort::Oldest,
        Sort::Name,
        Sort::Type,
        Sort::Originator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Name => "name",
            Sort::Type => "type",
            Sort::Originator => "originator",
        }
    }

    pub fn parse(text: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What orders and facets read of a document, kept together by document number.
#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    facets: [u32; 3],
    added_us: i64,
}

/// The values of one field, numbered in the order met.
#[derive(Debug, Clone, Default)]
struct Names {
    names: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Names {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), n);
        n
    }

    /// Each number's place when the names are sorted.
    fn ranks(&self) -> Vec<u32> {
        let mut by: Vec<usize> = (0..self.names.len()).collect();
        by.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
        let mut ranks = vec![0u32; by.len()];
        for (place, n) in by.into_iter().enumerate() {
            ranks[n] = u32::try_from(place).unwrap_or(u32::MAX);
        }
        ranks
    }
}

fn add(map: &mut HashMap<String, RoaringBitmap>, key: &str, n: u32) {
    match map.get_mut(key) {
        Some(set) => {
            set.insert(n);
        }
        None => {
            map.insert(key.to_owned(), RoaringBitmap::from_iter([n]));
        }
    }
}

fn take<K: std::hash::Hash + Eq + std::borrow::Borrow<Q>, Q: std::hash::Hash + Eq + ?Sized>(
    map: &mut HashMap<K, RoaringBitmap>,
    key: &Q,
    n: u32,
) {
    if let Some(set) = map.get_mut(key) {
        set.remove(n);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

fn take_ordered<K: Ord>(map: &mut BTreeMap<K, RoaringBitmap>, key: &K, n: u32) {
    if let Some(set) = map.get_mut(key) {
        set.remove(n);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

/// An object's `name`, else its id.
pub(crate) fn plain_name(object: &Value) -> String {
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    text("name")
        .or_else(|| text("id"))
        .unwrap_or_default()
        .to_owned()
}

/// A host as the index keys it: labels reversed, ended by a dot.
pub(crate) fn host_key(host: &str) -> String {
    let mut key = String::with_capacity(host.len() + 1);
    for label in host.rsplit('.') {
        key.push_str(label);
        key.push('.');
    }
    key
}

/// References an object makes to others, as (property, id): every `*_ref` and `*_refs` but
/// the author and the markings (which every object names and which say nothing of it).
pub(crate) fn references(object: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(map) = object.as_object() {
        for (key, value) in map {
            if matches!(key.as_str(), "created_by_ref" | "object_marking_refs") {
                continue;
            }
            if key.ends_with("_ref") {
                if let Some(id) = value.as_str() {
                    out.push((key.clone(), id.to_owned()));
                }
            } else if key.ends_with("_refs") {
                for id in value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    out.push((key.clone(), id.to_owned()));
                }
            }
        }
    }
    out
}

impl SearchIndex {
    pub fn new(warnings: Warnings) -> SearchIndex {
        SearchIndex {
            warnings,
            entries: Vec::new(),
            free: Vec::new(),
            at: HashMap::default(),
            by_id: HashMap::default(),
            all: RoaringBitmap::new(),
            words: HashMap::default(),
            word_list: BTreeSet::new(),
            names: Default::default(),
            days: Vec::new(),
            columns: Vec::new(),
            name_ranks: std::sync::OnceLock::new(),
            name_words: HashMap::default(),
            kinds: HashMap::default(),
            originators: HashMap::default(),
            labels: HashMap::default(),
            values: HashMap::default(),
            v4: BTreeMap::new(),
            v6: BTreeMap::new(),
            v4_prefixes: BTreeMap::new(),
            v6_prefixes: BTreeMap::new(),
            hosts: BTreeMap::new(),
            sites: HashMap::default(),
            referrers: HashMap::default(),
        }
    }

    /// How many objects are indexed.
    pub fn len(&self) -> usize {
        self.all.len() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// Adds an object, or replaces the one of the same collection and id.
    pub fn put(&mut self, doc: Document) {
        self.remove(&doc.collection, &doc.id);
        let words = object_words(&doc.copy);
        let names = name_words(&doc.name);
        let observables = observables_of(&doc.copy);
        let refs = references(&doc.copy);
        let n = match self.free.pop() {
            Some(n) => n,
            None => u32::try_from(self.entries.len()).unwrap_or(u32::MAX),
        };
        for w in &words {
            match self.words.get_mut(w) {
                Some(set) => {
                    set.insert(n);
                }
                None => {
                    self.words.insert(w.clone(), RoaringBitmap::from_iter([n]));
                    self.word_list.insert(w.clone());
                }
            }
        }
        let facets = [
            self.names[0].number(&doc.kind),
            self.names[1].number(&doc.originator),
            self.names[2].number(&doc.label),
        ];
        let slot = n as usize;
        if self.days.len() <= slot {
            self.days.resize(slot + 1, 0);
        }
        self.days[slot] = doc.added_day();
        if self.columns.len() <= slot {
            self.columns.resize(slot + 1, Columns::default());
        }
        self.columns[slot] = Columns {
            facets,
            added_us: doc.added_us,
        };
        self.name_ranks = std::sync::OnceLock::new();
        for w in &names {
            add(&mut self.name_words, w, n);
        }
        add(&mut self.kinds, &doc.kind, n);
        add(&mut self.originators, &doc.originator, n);
        add(&mut self.labels, &doc.label, n);
        add(&mut self.by_id, &doc.id, n);
        for (_, target) in &refs {
            add(&mut self.referrers, target, n);
        }
        for value in &observables {
            self.values.entry(value.clone()).or_default().insert(n);
            self.put_value(value, n);
        }
        self.at.insert((doc.collection.clone(), doc.id.clone()), n);
        self.all.insert(n);
        let entry = Entry {
            name_lower: doc.name.to_lowercase(),
            facets,
            doc,
            words,
            name_words: names,
            observables,
            refs,
        };
        match self.entries.get_mut(n as usize) {
            Some(slot) => *slot = Some(entry),
            None => self.entries.push(Some(entry)),
        }
    }

    fn put_value(&mut self, value: &Observable, n: u32) {
        match value {
            Observable::Ipv4(a, p) => {
                self.v4.entry((*a, *p)).or_default().insert(n);
                *self.v4_prefixes.entry(*p).or_default() += 1;
            }
            Observable::Ipv6(a, p) => {
                self.v6.entry((*a, *p)).or_default().insert(n);
                *self.v6_prefixes.entry(*p).or_default() += 1;
            }
            Observable::Url(u) => {
                if let Some(site) = url_site(u) {
                    add(&mut self.sites, site, n);
                }
            }
            _ => {}
        }
        if let Some(host) = value.host() {
            self.hosts.entry(host_key(host)).or_default().insert(n);
        }
    }

    fn take_value(&mut self, value: &Observable, n: u32) {
        take(&mut self.values, value, n);
        match value {
            Observable::Ipv4(a, p) => {
                take_ordered(&mut self.v4, &(*a, *p), n);
                uncount(&mut self.v4_prefixes, *p);
            }
            Observable::Ipv6(a, p) => {
                take_ordered(&mut self.v6, &(*a, *p), n);
                uncount(&mut self.v6_prefixes, *p);
            }
            Observable::Url(u) => {
                if let Some(site) = url_site(u) {
                    take(&mut self.sites, site, n);
                }
            }
            _ => {}
        }
        if let Some(host) = value.host() {
            take_ordered(&mut self.hosts, &host_key(host), n);
        }
    }

    /// Takes an object out (it was withdrawn, or is no longer released to the reader).
    pub fn remove(&mut self, collection: &str, id: &str) {
        let Some(n) = self.at.remove(&(Arc::from(collection), id.to_owned())) else {
            return;
        };
        let Some(entry) = self.entries.get_mut(n as usize).and_then(Option::take) else {
            return;
        };
        for w in &entry.words {
            take(&mut self.words, w.as_str(), n);
            if !self.words.contains_key(w.as_str()) {
                self.word_list.remove(w);
            }
        }
        for w in &entry.name_words {
            take(&mut self.name_words, w.as_str(), n);
        }
        take(&mut self.kinds, entry.doc.kind.as_str(), n);
        take(&mut self.originators, entry.doc.originator.as_str(), n);
        take(&mut self.labels, entry.doc.label.as_str(), n);
        take(&mut self.by_id, entry.doc.id.as_str(), n);
        for (_, target) in &entry.refs {
            take(&mut self.referrers, target.as_str(), n);
        }
        for value in &entry.observables {
            self.take_value(value, n);
        }
        self.all.remove(n);
        self.free.push(n);
        self.name_ranks = std::sync::OnceLock::new();
    }

    /// Each document's place in the order of lower-case names (equal names share a place).
    fn name_ranks(&self) -> Arc<Vec<u32>> {
        self.name_ranks
            .get_or_init(|| {
                let mut held: Vec<(&str, u32)> = (self.entries.iter().enumerate())
                    .filter_map(|(n, e)| {
                        Some((e.as_ref()?.name_lower.as_str(), u32::try_from(n).ok()?))
                    })
                    .collect();
                held.sort_unstable();
                let mut ranks = vec![0u32; self.entries.len()];
                let mut place = 0u32;
                for (i, &(name, n)) in held.iter().enumerate() {
                    if i > 0 && held[i - 1].0 != name {
                        place += 1;
                    }
                    ranks[n as usize] = place;
                }
                Arc::new(ranks)
            })
            .clone()
    }

    pub(crate) fn entry(&self, n: u32) -> Option<&Entry> {
        self.entries.get(n as usize).and_then(Option::as_ref)
    }

    /// The document of an object, by collection and id.
    pub fn document(&self, collection: &str, id: &str) -> Option<&Document> {
        let n = *self.at.get(&(Arc::from(collection), id.to_owned()))?;
        self.entry(n).map(|e| &e.doc)
    }

    /// The documents of an object held under `id` (in any collection).
    pub fn documents_of(&self, id: &str) -> impl Iterator<Item = &Document> {
        let set = self.by_id.get(id);
        set.into_iter()
            .flat_map(|s| s.iter())
            .filter_map(|n| self.entry(n).map(|e| &e.doc))
    }

    /// Every document (in no particular order).
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.entries.iter().flatten().map(|e| &e.doc)
    }

    /// The objects matching `query`: one page of them in `sort` order, their number, and the
    /// facets of all of them.
    pub fn search(&self, query: &Query, sort: Sort, offset: usize, limit: usize) -> SearchResults {
        let found = self.matching(query);
        let facets = self.facets(&found);
        let total = found.len() as usize;
        let relevant = match sort {
            Sort::Relevance => self.named_by_all(&query.words),
            _ => RoaringBitmap::new(),
        };
        // Every result by a key of two numbers read from the columns; only the page's and the
        // ties at its end are then ordered by the whole key (which breaks ties by collection
        // and id, and reads the entries).
        let ranks = match sort {
            Sort::Name => Some(self.name_ranks()),
            _ => None,
        };
        let facet_ranks = match sort {
            Sort::Type => Some(self.names[0].ranks()),
            Sort::Originator => Some(self.names[1].ranks()),
            _ => None,
        };
        let mut keys: Vec<(u64, i64, u32)> = found
            .iter()
            .filter_map(|n| {
                let c = self.columns.get(n as usize)?;
                let first = match sort {
                    Sort::Relevance => u64::from(!relevant.contains(n)),
                    Sort::Name => u64::from(ranks.as_ref().map_or(0, |r| r[n as usize])),
                    Sort::Type => {
                        u64::from(facet_ranks.as_ref().map_or(0, |r| r[c.facets[0] as usize]))
                    }
                    Sort::Originator => {
                        u64::from(facet_ranks.as_ref().map_or(0, |r| r[c.facets[1] as usize]))
                    }
                    Sort::Newest | Sort::Oldest => 0,
                };
                let second = if sort == Sort::Oldest {
                    c.added_us
                } else {
                    c.added_us.saturating_neg()
                };
                Some((first, second, n))
            })
            .collect();
        let wanted = offset.saturating_add(limit).min(keys.len());
        if wanted < keys.len() && wanted > 0 {
            let (_, &mut (a, b, _), _) =
                keys.select_nth_unstable_by_key(wanted - 1, |k| (k.0, k.1));
            keys.retain(|k| (k.0, k.1) <= (a, b));
        }
        let mut order: Vec<(SortKey<'_>, u32)> = keys
            .into_iter()
            .filter_map(|(_, _, n)| {
                let e = self.entry(n)?;
                Some((
                    sort_key(sort, &e.doc, &e.name_lower, relevant.contains(n)),
                    n,
                ))
            })
            .collect();
        order.sort_unstable();
        let hits = order
            .into_iter()
            .skip(offset)
            .take(limit)
            .filter_map(|(_, n)| self.entry(n))
            .map(|e| self.hit(e))
            .collect();
        SearchResults {
            total,
            hits,
            facets,
        }
    }

    pub(crate) fn hit(&self, entry: &Entry) -> Hit {
        let d = &entry.doc;
        Hit {
            collection: d.collection.to_string(),
            id: d.id.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            originator: d.originator.clone(),
            label: d.label.clone(),
            added_us: d.added_us,
            warnings: self.warned(&entry.observables),
        }
    }

    /// The values of `observables` on a warning list, with the lists.
    pub fn warned(&self, observables: &[Observable]) -> Vec<Warned> {
        observables
            .iter()
            .filter_map(|o| {
                let lists = self.warnings.lists_of(o);
                (!lists.is_empty()).then(|| Warned {
                    value: o.to_string(),
                    lists: lists.to_vec(),
                })
            })
            .collect()
    }

    /// The documents matching a query.
    pub fn matching(&self, query: &Query) -> RoaringBitmap {
        let mut found = self.all.clone();
        for word in &query.words {
            found &= self.with_word(word);
        }
        for word in &query.without_words {
            found -= self.with_word(word);
        }
        if !query.values.is_empty() {
            let mut any = RoaringBitmap::new();
            for value in &query.values {
                any |= self.naming_related(value);
            }
            found &= any;
        }
        let any_of = |map: &HashMap<String, RoaringBitmap>, keys: &[String]| {
            let mut any = RoaringBitmap::new();
            for k in keys {
                if let Some(set) = map.get(k) {
                    any |= set;
                }
            }
            any
        };
        if !query.types.is_empty() {
            found &= any_of(&self.kinds, &query.types);
        }
        found -= any_of(&self.kinds, &query.without_types);
        if !query.originators.is_empty() {
            found &= any_of(&self.originators, &query.originators);
        }
        found -= any_of(&self.originators, &query.without_originators);
        let labelled = |parts: &[String]| {
            let mut any = RoaringBitmap::new();
            for (text, set) in &self.labels {
                let lower = text.to_lowercase();
                if parts.iter().any(|p| lower.contains(p.as_str())) {
                    any |= set;
                }
            }
            any
        };
        if !query.labels.is_empty() {
            found &= labelled(&query.labels);
        }
        found -= labelled(&query.without_labels);
        if let Some((from, to)) = query.added {
            let inside = found.iter().filter(|&n| {
                self.days
                    .get(n as usize)
                    .is_some_and(|day| (from..=to).contains(day))
            });
            found = RoaringBitmap::from_sorted_iter(inside).unwrap_or_default();
        }
        found
    }

    /// Documents holding a word (or a word it begins, for a prefix), or, for a word that is an
    /// observable value, naming that value.
    fn with_word(&self, word: &Word) -> RoaringBitmap {
        let mut set = if word.value.is_some() {
            // The value's words must all be there (`198.51.100.7` is four words).
            let mut all: Option<RoaringBitmap> = None;
            for w in crate::text::words(&word.text) {
                let one = self.words.get(&w).cloned().unwrap_or_default();
                all = Some(match all {
                    Some(a) => a & one,
                    None => one,
                });
            }
            all.unwrap_or_default()
        } else if word.prefix {
            let mut any = RoaringBitmap::new();
            let range = self
                .word_list
                .range::<str, _>((Bound::Included(word.text.as_str()), Bound::Unbounded));
            for w in range {
                if !w.starts_with(&word.text) {
                    break;
                }
                if let Some(set) = self.words.get(w) {
                    any |= set;
                }
            }
            any
        } else {
            self.words.get(&word.text).cloned().unwrap_or_default()
        };
        if let Some(value) = &word.value {
            if let Some(naming) = self.values.get(value) {
                set |= naming;
            }
        }
        set
    }

    /// Documents whose name holds every word of the query.
    fn named_by_all(&self, words: &[Word]) -> RoaringBitmap {
        let mut set = self.all.clone();
        let mut any = false;
        for word in words.iter().filter(|w| w.value.is_none() && !w.prefix) {
            any = true;
            match self.name_words.get(&word.text) {
                Some(named) => set &= named,
                None => return RoaringBitmap::new(),
            }
        }
        if any {
            set
        } else {
            RoaringBitmap::new()
        }
    }

    fn facets(&self, found: &RoaringBitmap) -> Facets {
        let mut counts: [Vec<usize>; 3] =
            std::array::from_fn(|f| vec![0; self.names[f].names.len()]);
        for n in found {
            if let Some(e) = self.entry(n) {
                for (f, &number) in e.facets.iter().enumerate() {
                    counts[f][number as usize] += 1;
                }
            }
        }
        let named = |f: usize| -> BTreeMap<String, usize> {
            (counts[f].iter().enumerate())
                .filter(|(_, &c)| c > 0)
                .map(|(number, &c)| (self.names[f].names[number].clone(), c))
                .collect()
        };
        Facets {
            types: named(0),
            originators: named(1),
            labels: named(2),
        }
    }

    /// Documents naming `value` or a value related to it ([`crate::relate::relation`]).
    pub(crate) fn naming_related(&self, value: &Observable) -> RoaringBitmap {
        let mut found = self.candidates(value);
        let unrelated: Vec<u32> = found
            .iter()
            .filter(|&n| {
                self.entry(n).is_none_or(|e| {
                    !e.observables
                        .iter()
                        .any(|v| crate::relate::relation(value, v).is_some())
                })
            })
            .collect();
        for n in unrelated {
            found.remove(n);
        }
        found
    }

    /// Documents that may name a value related to `value`: a superset, quickly.
    pub(crate) fn candidates(&self, value: &Observable) -> RoaringBitmap {
        let mut found = self.values.get(value).cloned().unwrap_or_default();
        match value {
            Observable::Ipv4(a, p) => {
                for (&q, _) in self.v4_prefixes.range(..*p) {
                    if let Some(set) = self.v4.get(&(a & crate::observable::v4_mask(q), q)) {
                        found |= set;
                    }
                }
                let last = a | !crate::observable::v4_mask(*p);
                for ((_, q), set) in self.v4.range((*a, *p)..=(last, 32)) {
                    if q >= p {
                        found |= set;
                    }
                }
            }
            Observable::Ipv6(a, p) => {
                for (&q, _) in self.v6_prefixes.range(..*p) {
                    if let Some(set) = self.v6.get(&(a & crate::observable::v6_mask(q), q)) {
                        found |= set;
                    }
                }
                let last = a | !crate::observable::v6_mask(*p);
                for ((_, q), set) in self.v6.range((*a, *p)..=(last, 128)) {
                    if q >= p {
                        found |= set;
                    }
                }
            }
            Observable::Url(u) => {
                if let Some(set) = url_site(u).and_then(|s| self.sites.get(s)) {
                    found |= set;
                }
            }
            _ => {}
        }
        if let Some(host) = value.host() {
            let key = host_key(host);
            // The host itself and its subdomains: every key that starts with its key.
            for (k, set) in self
                .hosts
                .range::<str, _>((Bound::Included(key.as_str()), Bound::Unbounded))
            {
                if !k.starts_with(&key) {
                    break;
                }
                found |= set;
            }
            // The domains it is a subdomain of.
            let mut rest = host;
            while let Some((_, parent)) = rest.split_once('.') {
                if let Some(set) = self.hosts.get(&host_key(parent)) {
                    found |= set;
                }
                rest = parent;
            }
        }
        found
    }

    /// The ids of every object in view that a `file` object says is the same file as one
    /// naming `hash`, with its other hashes.
    pub(crate) fn same_file_hashes(&self, hash: &str) -> BTreeSet<Observable> {
        let mut others = BTreeSet::new();
        let asked = Observable::Hash(hash.to_owned());
        if let Some(set) = self.values.get(&asked) {
            for n in set {
                let Some(e) = self.entry(n) else { continue };
                if e.doc.kind != "file" {
                    continue;
                }
                for v in &e.observables {
                    if matches!(v, Observable::Hash(_)) && *v != asked {
                        others.insert(v.clone());
                    }
                }
            }
        }
        others
    }
}

fn uncount(map: &mut BTreeMap<u8, usize>, p: u8) {
    if let Some(c) = map.get_mut(&p) {
        *c -= 1;
        if *c == 0 {
            map.remove(&p);
        }
    }
}

/// What results are ordered by; ties are broken by collection and id so that every order is
/// total and pages do not overlap.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortKey<'a> {
    Time(i64, &'a str, &'a str),
    Text(&'a str, i64, &'a str, &'a str),
    Relevance(bool, i64, &'a str, &'a str),
}

pub(crate) fn sort_key<'a>(
    sort: Sort,
    d: &'a Document,
    name_lower: &'a str,
    relevant: bool,
) -> SortKey<'a> {
    let (c, id) = (&*d.collection, d.id.as_str());
    match sort {
        Sort::Relevance => SortKey::Relevance(!relevant, -d.added_us, c, id),
        Sort::Newest => SortKey::Time(-d.added_us, c, id),
        Sort::Oldest => SortKey::Time(d.added_us, c, id),
        Sort::Name => SortKey::Text(name_lower, -d.added_us, c, id),
        Sort::Type => SortKey::Text(&d.kind, -d.added_us, c, id),
        Sort::Originator => SortKey::Text(&d.originator, -d.added_us, c, id),
    }
}
