//! What a user may see and post: every read goes through `entente_policy::ReleasePolicy` (the
//! recipient is the user's nation, the originator the nation of the node that published the
//! object) and then through the user's clearance ceiling.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use entente_labels::portion::object_labels;
use entente_labels::{stix, Label};
use entente_policy::{AtIngest, ReleasePolicy, ReleaseVerdict};
use entente_store::{AddRequest, Store, StoredObject, User};
use entente_types::{Date, NationCode};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::NodeError;

mod scan;

/// Labels of marking definitions, by id. Only markings that exist are cached: one that is missing
/// now may be posted later.
#[derive(Default)]
pub struct LabelCache {
    labels: RwLock<HashMap<String, Option<Label>>>,
    /// Inserts so far: a decision taken on the labels cached is good while this is unchanged.
    generation: AtomicU64,
}

impl LabelCache {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn get(&self, id: &str) -> Option<Option<Label>> {
        self.labels.read().ok()?.get(id).cloned()
    }

    fn insert(&self, id: String, label: Option<Label>) {
        if let Ok(mut m) = self.labels.write() {
            m.insert(id, label);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The marking-definition ids an object refers to.
pub fn marking_refs(object: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(list) = object.get("object_marking_refs").and_then(Value::as_array) {
        ids.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(list) = object.get("granular_markings").and_then(Value::as_array) {
        ids.extend(
            list.iter()
                .filter_map(|g| g.get("marking_ref").and_then(Value::as_str))
                .map(str::to_owned),
        );
    }
    ids
}

/// The marking-definition ids an object refers to, borrowed.
pub fn marking_ref_strs(object: &Value) -> impl Iterator<Item = &str> {
    let object_refs = object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let granular = object
        .get("granular_markings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("marking_ref").and_then(Value::as_str));
    object_refs.chain(granular)
}

/// The label a marking definition carries, or `None` for other markings (TLP, statements).
pub fn label_of_marking(policy: &ReleasePolicy, marking: &Value) -> Option<Result<Label, String>> {
    if !stix::is_label_marking(marking) {
        return None;
    }
    Some(
        stix::from_marking_definition(policy.policies(), marking)
            .map_err(|e| e.to_string())
            .and_then(|l| policy.validate(&l).map(|()| l)),
    )
}

/// What the release of a stored object depends on, read in place from its stored text: its
/// object markings and its granular markings. Objects with equal keys (and the same originator)
/// are released alike to a reader on a day, so the decision is taken once for them all
/// ([`Access::release_by_markings`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReleaseKey<'a> {
    /// `object_marking_refs`, in order.
    pub refs: Vec<Cow<'a, str>>,
    /// `granular_markings`, in order: each one's marking and selectors.
    pub portions: Vec<Portion<'a>>,
}

/// One granular marking of a [`ReleaseKey`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Portion<'a> {
    pub marking_ref: Cow<'a, str>,
    pub selectors: Vec<Cow<'a, str>>,
}

impl ReleaseKey<'_> {
    /// The same key, owning its text.
    pub fn to_owned_key(&self) -> ReleaseKey<'static> {
        let own = |s: &Cow<'_, str>| Cow::Owned(s.as_ref().to_owned());
        ReleaseKey {
            refs: self.refs.iter().map(own).collect(),
            portions: self
                .portions
                .iter()
                .map(|p| Portion {
                    marking_ref: own(&p.marking_ref),
                    selectors: p.selectors.iter().map(own).collect(),
                })
                .collect(),
        }
    }

    /// Every marking id the key refers to.
    pub fn marking_ids(&self) -> impl Iterator<Item = &str> {
        self.refs
            .iter()
            .map(AsRef::as_ref)
            .chain(self.portions.iter().map(|p| p.marking_ref.as_ref()))
    }
}

/// The [`ReleaseKey`] of a stored object, read without building a JSON value.
///
/// `None` (read the whole object instead) for an object with a top-level empty list (the
/// release refuses a required one), with a key twice, whose `object_marking_refs` is not a list
/// of strings, whose granular markings are anything but non-empty lists of entries holding
/// exactly a `marking_ref` and `selectors` (strings), or with a selector that names no property
/// of the object: the full release path handles each of these exactly as before.
pub fn release_key(json: &str) -> Option<(ReleaseKey<'_>, Spans)> {
    let view = match scan::top_level(json) {
        Some(members) => {
            let mut view = TopLevel {
                properties: Vec::with_capacity(members.len()),
                ..TopLevel::default()
            };
            for (name, value) in members {
                view.add(Cow::Borrowed(name), &json[value]).ok()?;
            }
            view
        }
        None => parsed_top_level(json)?,
    };
    key_of(json, view)
}

/// [`release_key`] with the top level read by the JSON parser alone: the reference the scanner
/// is tested against.
#[cfg(test)]
fn parsed_release_key(json: &str) -> Option<(ReleaseKey<'_>, Spans)> {
    key_of(json, parsed_top_level(json)?)
}

fn parsed_top_level(json: &str) -> Option<TopLevel<'_>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let view = (&mut de).deserialize_map(TopLevelVisitor).ok()?;
    de.end().ok()?;
    Some(view)
}

fn key_of<'a>(json: &'a str, view: TopLevel<'a>) -> Option<(ReleaseKey<'a>, Spans)> {
    if view.read_whole {
        return None;
    }
    let span = |text: Option<&str>| {
        text.map(|text| {
            let start = text.as_ptr() as usize - json.as_ptr() as usize;
            start..start + text.len()
        })
    };
    let spans = Spans {
        refs: span(view.refs_text),
        portions: span(view.portions_text),
    };
    let resolved = view
        .key
        .portions
        .iter()
        .all(|p| p.selectors.iter().all(|s| resolves(&view.properties, s)));
    resolved.then_some((view.key, spans))
}

/// Where the values of `object_marking_refs` and `granular_markings` are in a stored text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    pub refs: Option<Range<usize>>,
    pub portions: Option<Range<usize>>,
}

/// The release key of a stored row and where its markings are in the row's text, owning both.
#[derive(Debug)]
pub struct RowKey {
    pub key: ReleaseKey<'static>,
    pub spans: Spans,
}

/// How a stored row is read for its release: on its markings (`Some`), or whole (`None`: marking
/// and extension definitions, and the texts [`release_key`] leaves to the parser).
pub fn row_key(o: &StoredObject) -> Option<Arc<RowKey>> {
    if matches!(
        o.kind.as_str(),
        "marking-definition" | "extension-definition"
    ) {
        return None;
    }
    let (key, spans) = release_key(&o.json)?;
    Some(Arc::new(RowKey {
        key: key.to_owned_key(),
        spans,
    }))
}

/// [`row_key`] of stored rows by `seq`, shared by every request: readers paging through a
/// collection read the same rows again and again, and reading a key from a text is most of the
/// cost of releasing an object on its markings. A row's text and kind change only under a new
/// `seq` (every write that changes a row gives it the next one), so a key kept under a `seq`
/// never goes stale.
#[derive(Default)]
pub struct RowKeys(RwLock<HashMap<i64, Option<Arc<RowKey>>, foldhash::fast::RandomState>>);

/// Rows whose keys are kept at most (a few hundred bytes each); past it the map starts again
/// empty (a key is read again on demand, so forgetting one costs time, never correctness).
const ROW_KEYS: usize = 1 << 17;

impl RowKeys {
    /// The keys kept for `seqs`, in order (`None` where none is kept).
    pub fn kept(&self, seqs: impl Iterator<Item = i64>) -> Vec<Option<Option<Arc<RowKey>>>> {
        let Ok(map) = self.0.read() else {
            return seqs.map(|_| None).collect();
        };
        seqs.map(|seq| map.get(&seq).cloned()).collect()
    }

    /// Keeps the keys of rows just read.
    pub fn keep(&self, rows: impl Iterator<Item = (i64, Option<Arc<RowKey>>)>) {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return;
        }
        let Ok(mut map) = self.0.write() else {
            return;
        };
        for (seq, key) in rows {
            if map.len() >= ROW_KEYS {
                map.clear();
            }
            map.insert(seq, key);
        }
    }
}

/// Writes to `out` the stored text `json` with its markings replaced by those of a relabelled
/// copy ([`ByMarkings::Relabelled`]): the text the full release path would serialize, as only
/// these two values differ. `false` (nothing written) when a value to replace is not there.
pub fn write_relabelled(
    out: &mut Vec<u8>,
    json: &str,
    spans: &Spans,
    refs: &str,
    portions: Option<&str>,
) -> bool {
    let Some(refs_at) = spans.refs.clone() else {
        return false;
    };
    let mut pieces = vec![(refs_at, refs)];
    if let Some(portions) = portions {
        let Some(at) = spans.portions.clone() else {
            return false;
        };
        pieces.push((at, portions));
    }
    pieces.sort_by_key(|(at, _)| at.start);
    let mut from = 0;
    for (at, text) in pieces {
        out.extend_from_slice(&json.as_bytes()[from..at.start]);
        out.extend_from_slice(text.as_bytes());
        from = at.end;
    }
    out.extend_from_slice(&json.as_bytes()[from..]);
    true
}

/// Whether `selector` names a property of the object whose other top-level properties are
/// `properties`: the resolution of `entente_labels::portion::Selector`, on the stored text.
fn resolves(properties: &[(Cow<'_, str>, &str)], selector: &str) -> bool {
    let mut parts = selector.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut here) = properties.iter().find(|(k, _)| k == first).map(|(_, v)| *v) else {
        return false;
    };
    for part in parts {
        let next = match part
            .strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(index) => serde_json::from_str::<Vec<&RawValue>>(here)
                .ok()
                .and_then(|list| list.get(index).map(|v| v.get())),
            None => member(here, part),
        };
        match next {
            Some(v) => here = v,
            None => return false,
        }
    }
    true
}

/// The value of property `name` of the JSON object `text` (the last one, as a parsed value keeps).
fn member<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    struct Find<'n>(&'n str);
    impl<'de> de::DeserializeSeed<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut found = None;
            while let Some(InPlace(key)) = map.next_key::<InPlace<'de>>()? {
                let value = map.next_value::<&'de RawValue>()?;
                if key == self.0 {
                    found = Some(value);
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(Find(name), &mut de)
        .ok()
        .flatten()
        .map(RawValue::get)
}

/// The top level of an object as [`release_key`] reads it.
#[derive(Default)]
struct TopLevel<'a> {
    key: ReleaseKey<'a>,
    refs_text: Option<&'a str>,
    portions_text: Option<&'a str>,
    /// Every other property, unparsed, for resolving selectors.
    properties: Vec<(Cow<'a, str>, &'a str)>,
    /// Something the full release path must see.
    read_whole: bool,
}

impl<'a> TopLevel<'a> {
    /// Takes in one member: `value` is its text, valid JSON (an error for markings that are
    /// not as [`release_key`] reads them makes the whole object unreadable here).
    fn add(&mut self, name: Cow<'a, str>, value: &'a str) -> Result<(), serde_json::Error> {
        match name.as_ref() {
            "object_marking_refs" => {
                self.read_whole |= self.refs_text.replace(value).is_some();
                self.key.refs = match scan::plain_strings(value) {
                    Some(refs) => refs.into_iter().map(Cow::Borrowed).collect(),
                    None => serde_json::from_str::<Vec<InPlace<'a>>>(value)?
                        .into_iter()
                        .map(|s| s.0)
                        .collect(),
                };
            }
            "granular_markings" => {
                self.read_whole |= self.portions_text.replace(value).is_some();
                self.key.portions = serde_json::from_str::<Vec<StoredPortion<'a>>>(value)?
                    .into_iter()
                    .map(|p| Portion {
                        marking_ref: p.marking_ref.0,
                        selectors: p.selectors.into_iter().map(|s| s.0).collect(),
                    })
                    .collect();
                self.read_whole |= self.key.portions.is_empty();
            }
            _ => {
                self.read_whole |=
                    is_empty_list(value) || self.properties.iter().any(|(k, _)| *k == name);
                self.properties.push((name, value));
            }
        }
        Ok(())
    }
}

/// A granular marking as stored, when it holds exactly a marking and selectors.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPortion<'a> {
    #[serde(borrow)]
    marking_ref: InPlace<'a>,
    #[serde(borrow)]
    selectors: Vec<InPlace<'a>>,
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<TopLevel<'de>, M::Error> {
        let mut view = TopLevel {
            properties: Vec::with_capacity(16),
            ..TopLevel::default()
        };
        while let Some(InPlace(key)) = map.next_key::<InPlace<'de>>()? {
            let value = map.next_value::<&'de RawValue>()?;
            view.add(key, value.get()).map_err(de::Error::custom)?;
        }
        Ok(view)
    }
}

/// Whether a JSON value's text is an empty list.
fn is_empty_list(text: &str) -> bool {
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .is_some_and(|inside| inside.trim_matches([' ', '\t', '\n', '\r']).is_empty())
}

/// A string borrowed from the stored text when it has no escape, else unescaped into a copy.
struct InPlace<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for InPlace<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<InPlace<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = InPlace<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<InPlace<'a>, E> {
                Ok(InPlace(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<InPlace<'a>, E> {
                Ok(InPlace(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// How every object with a given [`ReleaseKey`] is released to one reader on one day (from
/// `ReleasePolicy::release_by_markings` and the clearance).
#[derive(Clone)]
pub enum ByMarkings {
    /// Released as stored, byte for byte; the label marking definitions the copy refers to.
    Unchanged(Arc<[Arc<Value>]>),
    /// Released whole under other markings: the copy is the stored text with the values of
    /// `object_marking_refs` and (with portions) `granular_markings` replaced by these
    /// ([`write_relabelled`]); the label marking definitions the copy refers to.
    Relabelled {
        refs: Arc<str>,
        portions: Option<Arc<str>>,
        markings: Arc<[Arc<Value>]>,
    },
    /// Not released.
    Withheld,
    /// Released with its markings rewritten: each object goes through [`Access::release`].
    Rewritten,
}

/// The release policy of a node and its label cache.
pub struct Access {
    pub policy: ReleasePolicy,
    pub cache: LabelCache,
    /// Marking-definition ids known to be stored, by collection.
    published: RwLock<HashMap<String, HashSet<String>>>,
    /// Decisions on release keys, shared by every request.
    decisions: OnLabels<DecisionKey, ByMarkings>,
    /// Copies released through the full path, shared by every request.
    released: OnLabels<ReleasedKey, Option<Arc<ReleasedText>>>,
    /// Release keys of stored rows, shared by every request.
    pub row_keys: RowKeys,
}

/// What a decision on a [`ReleaseKey`] depends on besides the labels cached: the reader's
/// nation and clearance (not the reader: two readers alike share decisions), the originator and
/// the day. The policy and the default label are fixed for the life of an [`Access`].
#[derive(PartialEq, Eq, Hash)]
struct DecisionKey {
    nation: NationCode,
    clearance_policy: String,
    clearance_level: String,
    clearance_caveats: Vec<String>,
    originator: NationCode,
    day: Date,
    key: ReleaseKey<'static>,
}

/// Values computed on the labels cached, kept across requests: entries are taken on the labels
/// cached at one [`LabelCache`] generation, and a newer one empties the map. Each entry weighs
/// what `weigh` says; past `budget` the map starts again empty rather than tracking recency
/// (forgetting an entry costs time, never correctness).
struct OnLabels<K, V> {
    map: RwLock<LabelScoped<K, V>>,
    budget: usize,
    weigh: fn(&V) -> usize,
}

struct LabelScoped<K, V> {
    generation: u64,
    entries: HashMap<K, V, foldhash::fast::RandomState>,
    weight: usize,
}

impl<K: Eq + std::hash::Hash, V: Clone> OnLabels<K, V> {
    fn new(budget: usize, weigh: fn(&V) -> usize) -> OnLabels<K, V> {
        OnLabels {
            map: RwLock::new(LabelScoped {
                generation: 0,
                entries: HashMap::default(),
                weight: 0,
            }),
            budget,
            weigh,
        }
    }

    fn get(&self, generation: u64, key: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        if map.generation != generation {
            return None;
        }
        map.entries.get(key).cloned()
    }

    fn insert(&self, generation: u64, key: K, value: V) {
        let Ok(mut map) = self.map.write() else {
            return;
        };
        if map.generation > generation {
            // Taken on labels since replaced.
            return;
        }
        let weight = (self.weigh)(&value);
        if map.generation < generation || map.weight + weight > self.budget {
            map.entries.clear();
            map.weight = 0;
            map.generation = generation;
        }
        map.weight += weight;
        map.entries.insert(key, value);
    }
}

/// Decisions on release keys, shared by every request: a stand-in release costs tens of
/// microseconds, and a page of a hundred objects usually has two or three keys. Keys are few
/// (labels × readers' clearances × originators × days), so 4,096 of them means unusual data.
fn shared_decisions() -> OnLabels<DecisionKey, ByMarkings> {
    OnLabels::new(4096, |_| 1)
}

/// The copy readers of one nation may see, and the label their clearance must cover to see it.
struct NationRelease {
    object: Value,
    markings: Vec<Arc<Value>>,
    clearance_needed: Option<Label>,
}

/// The label marking definitions a released copy refers to.
pub type Markings = Arc<[Arc<Value>]>;

/// A [`NationRelease`] as served: its JSON text.
struct ReleasedText {
    text: Arc<str>,
    markings: Markings,
    clearance_needed: Option<Label>,
}

/// What a copy in [`released_copies`] depends on besides the labels cached: the stored row (its
/// `seq`), its originator, the readers' nation and the day.
#[derive(PartialEq, Eq, Hash)]
struct ReleasedKey {
    seq: i64,
    originator: NationCode,
    nation: NationCode,
    day: Date,
}

/// Copies released through the full path, by row and nation, shared by every request: readers
/// of one nation paging through a collection each need the same tear-lined copies, and the
/// full path (parse, labels, cuts, serialization) costs tens of microseconds per object. `None`:
/// not released to that nation. 32 MiB of texts at most (an entry's own share counted as 64
/// bytes).
fn released_copies() -> OnLabels<ReleasedKey, Option<Arc<ReleasedText>>> {
    OnLabels::new(32 * 1024 * 1024, |copy| {
        64 + copy.as_ref().map_or(0, |c| c.text.len())
    })
}

/// A released copy and the label marking definitions it refers to.
#[cfg(test)]
pub struct Released {
    pub object: Value,
    pub markings: Vec<Arc<Value>>,
}

/// The outcome of the ingest checks on one object's labels.
#[derive(Clone)]
pub enum IngestLabel {
    /// Acceptable.
    Ok,
    /// Acceptable once this marking definition (the node's default label) is added to its
    /// `object_marking_refs`: it carries no confidentiality label of its own.
    Default(Arc<Value>),
    /// Held back until these marking definitions, which it refers to, are known.
    Pending(Vec<String>),
    /// Refused, with the message for the status resource.
    Refused(String),
}

impl Access {
    pub fn new(policy: ReleasePolicy, default_label: Option<&str>) -> Result<Access, NodeError> {
        let policy = policy
            .with_default_label(default_label)
            .map_err(|e| NodeError::config(format!("default_label: {e}")))?;
        Ok(Access {
            policy,
            cache: LabelCache::default(),
            published: RwLock::default(),
            decisions: shared_decisions(),
            released: released_copies(),
            row_keys: RowKeys::default(),
        })
    }

    /// Loads into the cache the markings that `objects` refer to and that are stored.
    pub async fn load_markings<'a>(
        &self,
        store: &dyn Store,
        objects: impl Iterator<Item = &'a Value>,
    ) -> Result<(), NodeError> {
        self.load_marking_ids(store, objects.flat_map(marking_ref_strs))
            .await
    }

    /// Loads into the cache the markings among `ids` that are stored.
    pub async fn load_marking_ids<'a>(
        &self,
        store: &dyn Store,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<(), NodeError> {
        let mut wanted = HashSet::new();
        for id in ids {
            if !self.knows_marking(id) {
                wanted.insert(id.to_owned());
            }
        }
        for id in wanted {
            if let Some(stored) = store.marking(&id).await? {
                let Ok(value) = serde_json::from_str::<Value>(&stored.json) else {
                    continue;
                };
                // A stored label that no longer validates (policies changed) labels nothing, so
                // objects under it are refused rather than guessed.
                let label = match label_of_marking(&self.policy, &value) {
                    Some(Ok(l)) => Some(l),
                    _ => None,
                };
                self.cache.insert(id, label);
            }
        }
        Ok(())
    }

    /// Whether a marking is known (stored and cached).
    pub fn knows_marking(&self, id: &str) -> bool {
        self.cache
            .labels
            .read()
            .ok()
            .is_some_and(|m| m.contains_key(id))
    }

    pub fn label(&self, id: &str) -> Option<Label> {
        self.lookup(id)
    }

    fn lookup(&self, id: &str) -> Option<Label> {
        self.cache.get(id).flatten()
    }

    /// Whether `label` is within the user's clearance (decided by the release policy).
    pub fn cleared(&self, user: &User, label: &Label) -> bool {
        let clearance = entente_policy::Clearance {
            policy: &user.clearance_policy,
            level: &user.clearance_level,
            caveats: &user.clearance_caveats,
        };
        self.policy.is_cleared(&clearance, label)
    }

    /// The copy of a stored object that `user` may see on `day`, or `None`, released afresh: what
    /// [`Access::release_text`] serves (the tests hold other paths to it). The markings the
    /// object refers to must have been loaded first ([`Access::load_markings`]).
    #[cfg(test)]
    pub fn release(
        &self,
        user: &User,
        stored: &StoredObject,
        object: &Value,
        day: Date,
    ) -> Option<Released> {
        let release = self.release_to_nation(stored, object, user.nation, day)?;
        if let Some(label) = &release.clearance_needed {
            if !self.cleared(user, label) {
                return None;
            }
        }
        Some(Released {
            object: release.object,
            markings: release.markings,
        })
    }

    /// The copy of a stored object that readers of `nation` may see on `day`, whatever their
    /// clearance, and the label their clearance must cover to see it: [`Access::release`] is
    /// this and that check, so readers of one nation can share the first part.
    fn release_to_nation(
        &self,
        stored: &StoredObject,
        object: &Value,
        nation: NationCode,
        day: Date,
    ) -> Option<NationRelease> {
        let lookup = |id: &str| self.lookup(id);
        let release = self
            .policy
            .release_stored(object, &lookup, stored.originator, nation, day)
            .ok()?;
        if release.verdict == ReleaseVerdict::Deny {
            return None;
        }
        // The banner is the dominant label of what remains: the clearance must cover it.
        Some(NationRelease {
            object: release.object?,
            markings: release.markings,
            clearance_needed: release.banner,
        })
    }

    /// [`Access::release`] of the stored object `stored` as JSON text, taken from the copies
    /// released to `user`'s nation so far when there is one (`object` parses the stored text
    /// when there is not). A row's text changes only under a new `seq` (the store's writes give
    /// every changed row the next one), so a copy filed under its `seq` stays right for as long
    /// as the labels cached are those it was released on.
    pub fn release_text(
        &self,
        user: &User,
        stored: &StoredObject,
        object: impl FnOnce() -> Option<Value>,
        day: Date,
    ) -> Option<(Arc<str>, Markings)> {
        let generation = self.cache.generation();
        let key = ReleasedKey {
            seq: stored.seq,
            originator: stored.originator,
            nation: user.nation,
            day,
        };
        let copy = match self.released.get(generation, &key) {
            Some(copy) => copy,
            None => {
                let copy = object()
                    .and_then(|v| self.release_to_nation(stored, &v, user.nation, day))
                    .and_then(|r| {
                        Some(Arc::new(ReleasedText {
                            text: serde_json::to_string(&r.object).ok()?.into(),
                            markings: r.markings.into(),
                            clearance_needed: r.clearance_needed,
                        }))
                    });
                self.released.insert(generation, key, copy.clone());
                copy
            }
        }?;
        if let Some(label) = &copy.clearance_needed {
            if !self.cleared(user, label) {
                return None;
            }
        }
        Some((copy.text.clone(), copy.markings.clone()))
    }

    /// How objects of kinds other than marking and extension definitions whose [`ReleaseKey`] is
    /// `key` are released to `user` on `day`: the same decisions as [`Access::release`] takes for
    /// each of them (the property test `fast_and_full_release_agree` holds the two equal), taken
    /// once for them all. Objects whose release depends on more than their markings (portions
    /// cut) are left to [`Access::release`], one by one.
    pub fn release_by_markings(
        &self,
        user: &User,
        originator: NationCode,
        key: &ReleaseKey<'_>,
        day: Date,
    ) -> ByMarkings {
        // Read before deciding: labels cached meanwhile make the decision stale, not wrong.
        let generation = self.cache.generation();
        let shared = DecisionKey {
            nation: user.nation,
            clearance_policy: user.clearance_policy.clone(),
            clearance_level: user.clearance_level.clone(),
            clearance_caveats: user.clearance_caveats.clone(),
            originator,
            day,
            key: key.to_owned_key(),
        };
        if let Some(decision) = self.decisions.get(generation, &shared) {
            return decision;
        }
        let decision = self.decide_by_markings(user, originator, key, day);
        self.decisions.insert(generation, shared, decision.clone());
        decision
    }

    fn decide_by_markings(
        &self,
        user: &User,
        originator: NationCode,
        key: &ReleaseKey<'_>,
        day: Date,
    ) -> ByMarkings {
        let refs: Vec<&str> = key.refs.iter().map(AsRef::as_ref).collect();
        let selectors: Vec<Vec<&str>> = key
            .portions
            .iter()
            .map(|p| p.selectors.iter().map(AsRef::as_ref).collect())
            .collect();
        let portions: Vec<(&str, &[&str])> = key
            .portions
            .iter()
            .zip(&selectors)
            .map(|(p, s)| (p.marking_ref.as_ref(), s.as_slice()))
            .collect();
        let lookup = |id: &str| self.lookup(id);
        let Ok((release, unchanged)) = self.policy.release_by_markings(
            &refs,
            &portions,
            &lookup,
            originator,
            user.nation,
            day,
        ) else {
            // Labels that do not read, or none at all: the policy refuses, so nobody sees it.
            return ByMarkings::Withheld;
        };
        match release.verdict {
            ReleaseVerdict::Deny if !release.object_decision.is_permit() || portions.is_empty() => {
                return ByMarkings::Withheld;
            }
            // Which portions go, and so the banner, may depend on what they hold.
            ReleaseVerdict::Deny | ReleaseVerdict::Partial => return ByMarkings::Rewritten,
            ReleaseVerdict::Permit => {}
        }
        // The banner is the dominant label of the object and its portions: the clearance must
        // cover it.
        match &release.banner {
            Some(banner) if self.cleared(user, banner) => {}
            _ => return ByMarkings::Withheld,
        }
        if unchanged {
            return ByMarkings::Unchanged(release.markings.into());
        }
        // Nothing cut: only the markings of the copy differ from the object's.
        let text = |name: &str| {
            release
                .object
                .as_ref()
                .and_then(|copy| copy.get(name))
                .and_then(|v| serde_json::to_string(v).ok())
                .map(Arc::<str>::from)
        };
        let Some(refs) = text("object_marking_refs") else {
            return ByMarkings::Rewritten;
        };
        let portions = if key.portions.is_empty() {
            None
        } else {
            match text("granular_markings") {
                Some(p) => Some(p),
                None => return ByMarkings::Rewritten,
            }
        };
        ByMarkings::Relabelled {
            refs,
            portions,
            markings: release.markings.into(),
        }
    }

    /// Stores in collection `cid` the label marking definitions among `markings` that it does not
    /// hold yet (the banners of tear-lined copies, derived from their labels), so that every
    /// marking reference a client receives resolves in the collection. Returns how many were
    /// stored. Re-storing one is harmless (a re-post changes nothing), so concurrent readers
    /// need no coordination.
    pub async fn publish(
        &self,
        store: &dyn Store,
        cid: &str,
        markings: Vec<Arc<Value>>,
        originator: NationCode,
        now_us: i64,
    ) -> Result<usize, NodeError> {
        let known = |id: &str| {
            self.published
                .read()
                .is_ok_and(|p| p.get(cid).is_some_and(|ids| ids.contains(id)))
        };
        let mut new: Vec<(String, Value)> = Vec::new();
        for md in markings {
            let Some(id) = md.get("id").and_then(Value::as_str) else {
                continue;
            };
            if known(id) || new.iter().any(|(k, _)| k == id) {
                continue;
            }
            let id = id.to_owned();
            if store.versions(cid, &id).await?.is_empty() {
                new.push((id, Value::clone(&md)));
            } else if let Ok(mut p) = self.published.write() {
                p.entry(cid.to_owned()).or_default().insert(id);
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        let mut objects = Vec::with_capacity(new.len());
        for (_, md) in &new {
            let header = entente_stix::validate_object(md).map_err(|e| {
                NodeError::new(
                    crate::error::NodeErrorKind::Internal,
                    format!("derived marking definition: {e}"),
                )
            })?;
            objects.push(crate::new_object(header, originator, md.to_string()));
        }
        let n = objects.len();
        store
            .add_objects(AddRequest {
                status_id: uuid::Uuid::new_v4().to_string(),
                // No user has an empty name: nobody can read this status.
                owner: String::new(),
                collection: cid.to_owned(),
                now_us,
                objects,
                failures: Vec::new(),
                ..Default::default()
            })
            .await?;
        if let Ok(mut p) = self.published.write() {
            p.entry(cid.to_owned())
                .or_default()
                .extend(new.into_iter().map(|(id, _)| id));
        }
        tracing::debug!(collection = %cid, count = n, "derived marking definitions stored");
        Ok(n)
    }

    /// The ingest checks on an object's labels, for a poster of `user`: markings that exist, labels
    /// that parse and are valid, within the poster's clearance. `envelope` holds the labels of
    /// marking definitions posted in the same request.
    pub fn check_ingest(
        &self,
        user: &User,
        object: &Value,
        envelope: &HashMap<String, Option<Label>>,
    ) -> IngestLabel {
        let refs = marking_refs(object);
        let mut unknown: Vec<String> = refs
            .iter()
            .filter(|id| !envelope.contains_key(*id) && !self.knows_marking(id))
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            // Nothing of it can be decided yet: a granular marking not known would leave its
            // portion under the object's label.
            return IngestLabel::Pending(unknown);
        }
        let lookup = |id: &str| match envelope.get(id) {
            Some(l) => l.clone(),
            None => self.lookup(id),
        };
        match self.policy.label_at_ingest(object, &lookup) {
            Ok(AtIngest::Labelled) => {}
            Ok(AtIngest::Default(marking)) => {
                return match self.policy.default_label() {
                    Some(l) if self.cleared(user, l) => IngestLabel::Default(marking),
                    _ => IngestLabel::Refused(
                        "the node's default label is above the poster's clearance".into(),
                    ),
                };
            }
            Err(e) => return IngestLabel::Refused(e.to_string()),
        }
        let labels = match object_labels(object, &lookup) {
            Ok(l) => l,
            Err(e) => return IngestLabel::Refused(format!("label: {e}")),
        };
        for label in std::iter::once(&labels.object).chain(labels.portions.iter().map(|(_, l)| l)) {
            if let Err(e) = self.policy.validate(label) {
                return IngestLabel::Refused(format!("label: {e}"));
            }
        }
        match labels.banner() {
            Ok(banner) if self.cleared(user, &banner) => IngestLabel::Ok,
            Ok(_) => {
                IngestLabel::Refused("the object's label is above the poster's clearance".into())
            }
            Err(e) => IngestLabel::Refused(format!("label: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::OnceLock;

    use entente_labels::{parse_marking, PolicySet};
    use entente_registry::Registry;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn policy() -> ReleasePolicy {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&root.join("registry")).unwrap();
        let policies = PolicySet::load(&root.join("policies")).unwrap();
        ReleasePolicy::new(&registry, policies)
    }

    /// Two nodes' access: one without a default label, one with.
    fn access(with_default: bool) -> &'static Access {
        static PLAIN: OnceLock<Access> = OnceLock::new();
        static DEFAULTED: OnceLock<Access> = OnceLock::new();
        let (cell, default) = if with_default {
            (&DEFAULTED, Some("NATO RESTRICTED"))
        } else {
            (&PLAIN, None)
        };
        cell.get_or_init(|| Access::new(policy(), default).unwrap())
    }

    const SETS: [&str; 6] = [
        "FRA, GBR, USA, JPN",
        "FRA, GBR",
        "NATO",
        "FRA, DEU",
        "EU",
        "NONE",
    ];
    const LEVELS: [&str; 4] = [
        "NATO RESTRICTED",
        "NATO CONFIDENTIAL",
        "NATO SECRET",
        "COSMIC TOP SECRET",
    ];
    const CAVEATS: [&str; 3] = ["", "//ATOMAL", "//ATOMAL, CRYPTO"];
    const NATIONS: [&str; 6] = ["FRA", "GBR", "USA", "DEU", "JPN", "SWE"];
    const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";

    /// The id of a marking carrying `marking` in `access`'s cache: derived from the label, or
    /// another id for the same label.
    fn mark(access: &Access, marking: &str, derived: bool, n: usize) -> String {
        let label = parse_marking(access.policy.policies(), marking).unwrap();
        let id = if derived {
            stix::marking_definition_id(access.policy.policies(), &label).unwrap()
        } else {
            format!("marking-definition--00000000-0000-4000-8000-{n:012}")
        };
        // Non-derived ids always name the same label, so tests sharing the cache agree.
        if derived || access.lookup(&id).is_none() {
            access.cache.insert(id.clone(), Some(label));
        }
        id
    }

    fn stored(kind: &str, object: &Value) -> StoredObject {
        StoredObject {
            seq: 1,
            added_us: 1,
            id: object["id"].as_str().unwrap_or_default().to_owned(),
            kind: kind.to_owned(),
            spec_version: "2.1".into(),
            version: String::new(),
            version_key: String::new(),
            originator: "FRA".parse().unwrap(),
            json: serde_json::to_string(object).unwrap(),
        }
    }

    fn reader(access: &Access, nation: &str, clearance: &str) -> User {
        let clearance = parse_marking(access.policy.policies(), clearance).unwrap();
        User {
            name: format!("reader-{nation}"),
            nation: nation.parse().unwrap(),
            clearance_policy: clearance.policy().to_owned(),
            clearance_level: clearance.classification().to_owned(),
            clearance_caveats: clearance.caveats().iter().cloned().collect(),
            password_hash: None,
            rights: Vec::new(),
        }
    }

    /// Copies kept by row and nation serve each reader what a fresh release serves: the same
    /// text, the same markings, and nothing to a reader of that nation whose clearance does not
    /// cover the copy; a label cached since makes the copy be released again.
    #[test]
    fn released_copies_are_what_a_fresh_release_serves_to_each_reader() {
        let access = Access::new(policy(), None).unwrap();
        let object_label = mark(&access, "NATO SECRET//REL TO FRA, GBR, USA, JPN", true, 0);
        let description = mark(&access, "NATO SECRET//REL TO FRA, GBR", true, 0);
        let object = json!({
            "type": "report", "spec_version": "2.1",
            "id": "report--6b1b8b02-4f4b-4c1c-9f3e-7a0e3c1d2e01",
            "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
            "name": "Air activity", "published": "2024-08-01T09:00:00.000Z",
            "description": "For FRA and GBR only",
            "object_refs": ["indicator--6b1b8b02-4f4b-4c1c-9f3e-7a0e3c1d2e02"],
            "object_marking_refs": [object_label],
            "granular_markings": [{"marking_ref": description, "selectors": ["description"]}],
        });
        let stored = stored("report", &object);
        let day = entente_types::parse_date("2025-01-01").unwrap();
        let readers = [
            ("FRA", "NATO SECRET"),
            ("JPN", "NATO SECRET"),
            ("JPN", "NATO CONFIDENTIAL"),
            ("JPN", "COSMIC TOP SECRET"),
            ("USA", "NATO RESTRICTED"),
            ("USA", "NATO SECRET"),
            ("DEU", "COSMIC TOP SECRET"),
        ];
        let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
        let mut served = 0;
        for round in 0..3 {
            if round == 2 {
                // Another label cached: every copy so far was taken on the labels before it.
                mark(&access, "NATO CONFIDENTIAL//REL TO FRA", true, 0);
            }
            for (nation, clearance) in readers {
                let user = reader(&access, nation, clearance);
                let fresh = access.release(&user, &stored, &object, day);
                let kept = access.release_text(&user, &stored, || Some(object.clone()), day);
                match (fresh, kept) {
                    (None, None) => {}
                    (Some(fresh), Some((text, markings))) => {
                        assert_eq!(&*text, serde_json::to_string(&fresh.object).unwrap());
                        assert_eq!(ids(&markings), ids(&fresh.markings));
                        served += 1;
                    }
                    (fresh, kept) => panic!(
                        "{nation} {clearance}, round {round}: fresh {}, kept {}",
                        fresh.is_some(),
                        kept.is_some()
                    ),
                }
            }
        }
        // FRA, JPN at NATO SECRET and above, USA at NATO SECRET, in each of three rounds.
        assert_eq!(served, 3 * 4);
        let jpn = reader(&access, "JPN", "NATO SECRET");
        let (text, _) = access
            .release_text(&jpn, &stored, || None, day)
            .expect("kept for JPN");
        assert!(!text.contains("For FRA and GBR only"), "{text}");
    }

    /// A row's key is read once and kept under its `seq`: definitions are read whole, other
    /// objects on their markings, and the map stays within its bound.
    #[test]
    fn row_keys_are_kept_by_seq_within_their_bound() {
        let access = Access::new(policy(), None).unwrap();
        let label = mark(&access, "NATO SECRET//REL TO FRA, GBR", true, 0);
        let indicator =
            json!({"type": "indicator", "id": "indicator--1", "object_marking_refs": [label]});
        let definition =
            json!({"type": "marking-definition", "id": label, "object_marking_refs": [label]});
        let mut rows = [
            stored("indicator", &indicator),
            stored("marking-definition", &definition),
        ];
        rows[1].seq = 2;
        let read: Vec<_> = rows.iter().map(|o| (o.seq, row_key(o))).collect();
        let key = read[0]
            .1
            .clone()
            .expect("an indicator is read on its markings");
        assert_eq!(key.key.refs, vec![Cow::Borrowed(label.as_str())]);
        assert!(read[1].1.is_none(), "a definition is read whole");
        assert!(access
            .row_keys
            .kept([1, 2, 3].into_iter())
            .iter()
            .all(Option::is_none));
        access.row_keys.keep(read.into_iter());
        let kept = access.row_keys.kept([1, 2, 3].into_iter());
        assert!(matches!(&kept[0], Some(Some(k)) if Arc::ptr_eq(k, &key)));
        assert!(matches!(kept[1], Some(None)));
        assert!(kept[2].is_none());
        access
            .row_keys
            .keep((10..10 + ROW_KEYS as i64).map(|seq| (seq, None)));
        let len = access
            .row_keys
            .0
            .read()
            .map(|m| m.len())
            .unwrap_or(usize::MAX);
        assert!(len <= ROW_KEYS, "{len} keys kept");
    }

    /// Selectors of the portions of the property test; the `kill_chain_phases` ones name nothing.
    const SELECTORS: [&str; 7] = [
        "description",
        "object_refs.[1]",
        "external_references.[0].description",
        "external_references.[1]",
        "name",
        "kill_chain_phases",
        "kill_chain_phases.[0]",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The fast path (one decision per originator and set of markings, the stored text
        /// served as is) serves exactly what the full release path serves: the same objects,
        /// byte for byte, and the same marking definitions to publish; and what it leaves to
        /// the full path is what the full path rewrites (or, with portions, may refuse).
        #[test]
        fn fast_and_full_release_agree(
            // Mostly one label (as a valid object has), and mostly readers who may see much, so
            // that every outcome is met often.
            labels in prop_oneof![
                3 => prop::collection::vec((0usize..SETS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len(), any::<bool>()), 1..2),
                1 => prop::collection::vec((0usize..SETS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len(), any::<bool>()), 0..3),
            ],
            tlp_at in prop::option::of(0usize..3),
            portions in prop::collection::vec(
                ((0usize..SETS.len(), 0usize..LEVELS.len()), prop::collection::vec(0usize..SELECTORS.len(), 1..3)),
                0..3,
            ),
            // The first portion under the object's own label: nothing to rewrite.
            portion_as_object in any::<bool>(),
            empty_refs in any::<bool>(),
            with_default in any::<bool>(),
            originator in 0usize..NATIONS.len(),
            reader in (
                prop_oneof![2 => Just(0usize), 1 => 0usize..NATIONS.len()],
                prop_oneof![2 => Just(LEVELS.len() - 1), 1 => 0usize..LEVELS.len()],
                prop_oneof![2 => Just(CAVEATS.len() - 1), 1 => 0usize..CAVEATS.len()],
            ),
            day in 0u64..6000,
        ) {
            let access = access(with_default);
            let mut refs: Vec<String> = labels
                .iter()
                .enumerate()
                .map(|(i, (set, level, caveats, derived))| {
                    let marking = format!("{}{}//REL TO {}", LEVELS[*level], CAVEATS[*caveats], SETS[*set]);
                    mark(access, &marking, *derived, i + 100 * (set * 100 + level * 10 + caveats))
                })
                .collect();
            if let Some(at) = tlp_at {
                refs.insert(at.min(refs.len()), TLP_GREEN.to_owned());
            }
            let mut object = json!({
                "type": "report", "spec_version": "2.1",
                "id": "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b",
                "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
                "name": "Air activity", "published": "2024-08-01T00:00:00.000Z",
                "description": "Two tracks",
                "object_refs": if empty_refs { json!([]) } else { json!(["indicator--1b2c3d4e-0000-4000-8000-000000000001", "indicator--1b2c3d4e-0000-4000-8000-000000000002"]) },
                "external_references": [{"source_name": "open-source", "description": "x"}, {"source_name": "liaison"}],
                "object_marking_refs": refs,
            });
            if !portions.is_empty() {
                let entries: Vec<Value> = portions
                    .iter()
                    .enumerate()
                    .map(|(i, ((set, level), selectors))| {
                        let id = match labels.first() {
                            Some((set, level, caveats, _)) if i == 0 && portion_as_object => {
                                let marking = format!("{}{}//REL TO {}", LEVELS[*level], CAVEATS[*caveats], SETS[*set]);
                                mark(access, &marking, true, 0)
                            }
                            _ => mark(access, &format!("{}//REL TO {}", LEVELS[*level], SETS[*set]), true, 0),
                        };
                        let selectors: Vec<&str> = selectors.iter().map(|i| SELECTORS[*i]).collect();
                        json!({"marking_ref": id, "selectors": selectors})
                    })
                    .collect();
                object["granular_markings"] = Value::Array(entries);
            }
            let (nation, level, caveats) = reader;
            let clearance = parse_marking(access.policy.policies(), &format!("{}{}", LEVELS[level], CAVEATS[caveats])).unwrap();
            let user = User {
                name: "reader".into(),
                nation: NATIONS[nation].parse().unwrap(),
                clearance_policy: clearance.policy().to_owned(),
                clearance_level: clearance.classification().to_owned(),
                clearance_caveats: clearance.caveats().iter().cloned().collect(),
                password_hash: None,
                rights: Vec::new(),
            };
            let day = entente_types::parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
            let mut stored = stored("report", &object);
            stored.originator = NATIONS[originator].parse().unwrap();
            let full = access.release(&user, &stored, &object, day);
            let Some((key, spans)) = release_key(&stored.json) else {
                // An empty list, or a selector naming nothing: only the full path serves it.
                let unresolved = portions.iter().flat_map(|(_, s)| s).any(|i| SELECTORS[*i].starts_with("kill_chain"));
                prop_assert!(empty_refs || unresolved);
                return Ok(());
            };
            prop_assert!(!empty_refs);
            match access.release_by_markings(&user, stored.originator, &key, day) {
                ByMarkings::Unchanged(markings) => {
                    let full = full.expect("the full path withholds what the fast path serves");
                    prop_assert_eq!(serde_json::to_string(&full.object).unwrap(), stored.json);
                    let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
                    prop_assert_eq!(ids(&markings), ids(&full.markings));
                }
                ByMarkings::Relabelled { refs, portions, markings } => {
                    let full = full.expect("the full path withholds what the fast path relabels");
                    let mut spliced = Vec::new();
                    prop_assert!(write_relabelled(&mut spliced, &stored.json, &spans, &refs, portions.as_deref()));
                    prop_assert_eq!(serde_json::to_string(&full.object).unwrap(), String::from_utf8(spliced).unwrap());
                    let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
                    prop_assert_eq!(ids(&markings), ids(&full.markings));
                }
                ByMarkings::Withheld => prop_assert!(full.is_none(), "the fast path withholds a released object"),
                ByMarkings::Rewritten => {
                    if portions.is_empty() {
                        let full = full.expect("rewritten, yet withheld by the full path");
                        prop_assert_ne!(serde_json::to_string(&full.object).unwrap(), stored.json);
                    } else if let Some(full) = full {
                        prop_assert_ne!(serde_json::to_string(&full.object).unwrap(), stored.json);
                    }
                }
            }
        }
    }

    /// JSON values whose strings hold what a scanner could trip on: quotes, escapes, brackets.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\\\"\\[\\]{}:, \n\u{e9}\u{1f600}]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z\\\"]{0,3}", inner), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A top-level member: mostly markings (well formed or not) and selectable properties.
    fn member() -> impl Strategy<Value = (String, Value)> {
        let portion = (
            prop_oneof![Just(json!("marking-definition--1")), json_value()],
            prop::collection::vec(prop::sample::select(SELECTORS.to_vec()), 0..3),
        )
            .prop_map(|(m, s)| json!({"marking_ref": m, "selectors": s}));
        prop_oneof![
            prop::collection::vec(
                prop_oneof![
                    Just(json!("marking-definition--1")),
                    Just(json!("a\"b")),
                    json_value()
                ],
                0..3
            )
            .prop_map(|refs| ("object_marking_refs".to_owned(), Value::Array(refs))),
            prop::collection::vec(portion, 0..3)
                .prop_map(|p| ("granular_markings".to_owned(), Value::Array(p))),
            (
                prop::sample::select(vec![
                    "description",
                    "object_refs",
                    "external_references",
                    "name",
                    "x\"y",
                    "t\u{e9}"
                ]),
                json_value()
            )
                .prop_map(|(n, v)| (n.to_owned(), v)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The scanner reads every valid object as the parser does; on a text cut or spliced
        /// anywhere, it never reads what the parser reads otherwise.
        #[test]
        fn scanned_and_parsed_release_keys_agree(
            members in prop::collection::vec(member(), 0..6),
            pretty in any::<bool>(),
            cut in any::<prop::sample::Index>(),
            splice in prop::sample::select(vec!["", "\"", "\\", "]", "}", "{", "[", ",", ":", "x", " "]),
        ) {
            // Written by hand so that a name may come twice.
            let mut json = String::from("{");
            for (i, (name, value)) in members.iter().enumerate() {
                if i > 0 {
                    json.push_str(if pretty { ",\n  " } else { "," });
                }
                json.push_str(&serde_json::to_string(name).unwrap());
                json.push_str(if pretty { ": " } else { ":" });
                let value = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
                json.push_str(&value.unwrap());
            }
            json.push('}');
            prop_assert_eq!(release_key(&json), parsed_release_key(&json), "{}", json);
            let at = cut.index(json.len() + 1);
            if json.is_char_boundary(at) {
                let spliced = format!("{}{}{}", &json[..at], splice, &json[at..]);
                let parsed = parsed_release_key(&spliced);
                if parsed.is_some() || serde_json::from_str::<Value>(&spliced).is_ok() {
                    prop_assert_eq!(release_key(&spliced), parsed, "{}", spliced);
                }
            }
        }
    }

    #[test]
    fn release_keys_are_read_in_place_and_only_where_the_markings_decide() {
        let json = r#"{"type":"indicator","object_marking_refs":["a","b\u0041"],"x":{"y":[]}}"#;
        let (key, spans) = release_key(json).unwrap();
        assert_eq!(&json[spans.refs.clone().unwrap()], r#"["a","b\u0041"]"#);
        assert_eq!(spans.portions, None);
        let mut out = Vec::new();
        assert!(write_relabelled(&mut out, json, &spans, r#"["c"]"#, None));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"indicator","object_marking_refs":["c"],"x":{"y":[]}}"#
        );
        assert_eq!(key.refs, vec![Cow::from("a"), Cow::from("bA")]);
        assert!(key.portions.is_empty());
        assert_eq!(
            release_key(r#"{"type":"indicator"}"#),
            Some((
                ReleaseKey {
                    refs: Vec::new(),
                    portions: Vec::new()
                },
                Spans::default()
            ))
        );
        let (key, _) = release_key(
            r#"{"type":"report","d":"x","l":[{"a":1},{"b":[0,{"c":null}]}],"object_marking_refs":["a"],
                "granular_markings":[{"marking_ref":"p","selectors":["d","l.[1].b.[1].c","l.[0]"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            key.portions,
            vec![Portion {
                marking_ref: "p".into(),
                selectors: vec!["d".into(), "l.[1].b.[1].c".into(), "l.[0]".into()],
            }]
        );
        assert_eq!(
            key.marking_ids().collect::<Vec<_>>(),
            vec!["a", "p"],
            "object markings, then portions"
        );
        for json in [
            r#"{"object_marking_refs":["a"],"granular_markings":[]}"#,
            r#"{"object_marking_refs":["a"],"object_refs":[]}"#,
            r#"{"object_marking_refs":["a"],"object_refs":[ ]}"#,
            r#"{"object_marking_refs":["a"],"object_marking_refs":["b"]}"#,
            r#"{"object_marking_refs":["a"],"name":"x","name":"y"}"#,
            r#"{"object_marking_refs":null}"#,
            r#"{"object_marking_refs":[1]}"#,
            r#"["not an object"]"#,
            r#"{"object_marking_refs":["a"]} trailing"#,
            // Portions the full path must read: a language marking, another property, a
            // selector naming nothing, an index past the end, a name inside a list.
            r#"{"d":"x","granular_markings":[{"lang":"fr","selectors":["d"]}]}"#,
            r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["d"],"x":1}]}"#,
            r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["e"]}]}"#,
            r#"{"l":[1],"granular_markings":[{"marking_ref":"p","selectors":["l.[1]"]}]}"#,
            r#"{"l":[1],"granular_markings":[{"marking_ref":"p","selectors":["l.a"]}]}"#,
            r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["d.[0]"]}]}"#,
            r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":"d"}]}"#,
        ] {
            assert_eq!(release_key(json), None, "{json}");
        }
    }
}
