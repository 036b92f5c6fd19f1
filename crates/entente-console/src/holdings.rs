//! What a reader may see of the node's holdings, as rows the holdings page filters, sorts and
//! pages, kept per reader (nation and clearance) and brought up to date after writes.
//!
//! An index is built by releasing every latest version through `entente_node::view` (the node's
//! one release path), so it holds only what the reader was released: the page's rows, counts
//! and facets are all computed from it. After a write, the objects changed since the index was
//! built (the store's change stream, tombstones included) are released again and replace their
//! rows; a new day rebuilds it (releases depend on the day).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use entente_labels::Label;
use entente_node::view::{ReleasedRow, ViewSlots};
use entente_node::{Node, NodeError, Reader};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::banner::{label_class, label_text};

/// Rows released per store read while an index is built.
const BATCH: usize = 2_000;
/// Changes read at once while an index is brought up to date.
const CHANGES: usize = 10_000;
/// Readers whose index is kept; past it the least recently used is dropped.
const MAX_READERS: usize = 64;

/// One object as the holdings page lists it: the latest version the reader may see.
#[derive(Debug, Clone)]
pub struct Holding {
    pub seq: i64,
    pub collection: Arc<str>,
    pub id: String,
    /// The version's key in the store (for its provenance).
    pub version_key: String,
    pub kind: String,
    pub name: String,
    pub originator: NationCode,
    /// The banner label of the copy (object and portions).
    pub label: Option<Label>,
    pub label_text: Arc<str>,
    pub label_class: &'static str,
    pub tear_lined: bool,
    pub added_us: i64,
    /// `source_ref` and `target_ref` of a relationship, for the object page's links.
    pub refs: Option<(String, String, String)>,
}

/// A reader's holdings on one day.
pub struct Index {
    day: Date,
    /// The node's write count when the index was last brought up to date.
    writes: u64,
    /// The change stream's position the index reflects.
    since: i64,
    rows: Vec<Holding>,
    /// What the filters and facets read of each row, at the row's position: a query walks
    /// these small integers, not the rows' strings.
    keys: Vec<RowKey>,
    /// The values of the filtered fields, each given a number once.
    kinds: Values,
    originators: Values,
    labels: Values,
    /// Position of each object in `rows`, by collection and id.
    at: HashMap<(Arc<str>, String), usize>,
    /// Row positions in each sort order, made on first use.
    orders: Mutex<HashMap<SortKey, Arc<Vec<u32>>>>,
    /// Rows by id and relationships by the ids they join, made on first use.
    lookups: std::sync::OnceLock<Lookups>,
}

/// A row's filtered fields as numbers: its type, originator and label by their number in the
/// index's [`Values`], and the day it was added (days since 1970-01-01, UTC).
#[derive(Debug, Clone, Copy)]
struct RowKey {
    kind: u32,
    originator: u32,
    label: u32,
    day: i64,
}

/// The distinct values of one field, numbered in the order met (a number is never reused while
/// the index lives), with the label each label text stands for.
#[derive(Debug, Clone, Default)]
struct Values {
    names: Vec<String>,
    numbers: HashMap<String, u32>,
    labels: Vec<Option<Label>>,
}

impl Values {
    fn number(&mut self, name: &str, label: Option<&Label>) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), n);
        self.labels.push(label.cloned());
        n
    }

    /// Each value's place when the values are sorted by `key` of their label, then by name.
    fn ranks<K: Ord>(&self, key: impl Fn(&Option<Label>) -> K) -> Vec<u32> {
        let mut by: Vec<usize> = (0..self.names.len()).collect();
        by.sort_by_cached_key(|&n| (key(&self.labels[n]), self.names[n].clone()));
        let mut ranks = vec![0u32; by.len()];
        for (place, n) in by.into_iter().enumerate() {
            ranks[n] = u32::try_from(place).unwrap_or(u32::MAX);
        }
        ranks
    }

    /// The number a filter's value has; a value never met matches no row.
    fn wanted(&self, name: Option<&str>) -> Option<u32> {
        name.map(|n| self.numbers.get(n).copied().unwrap_or(u32::MAX))
    }

    /// Counts by number as counts by name, the values counted at least once.
    fn named(&self, counts: &[usize]) -> BTreeMap<String, usize> {
        (counts.iter().enumerate())
            .filter(|(_, &count)| count > 0)
            .map(|(n, &count)| (self.names[n].clone(), count))
            .collect()
    }
}

/// Days since 1970-01-01 of a time in microseconds since the epoch, or of a date.
fn day_of_us(us: i64) -> i64 {
    us.div_euclid(86_400_000_000)
}

fn day_of(date: Date) -> i64 {
    (date - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days()
}

/// Row positions by object id, and of the relationships that name each id.
#[derive(Default)]
struct Lookups {
    by_id: HashMap<String, u32>,
    relationships: HashMap<String, Vec<u32>>,
}

/// The indexes of every reader met recently.
pub struct Holdings {
    readers: ViewSlots<Reader, Index>,
}

impl Default for Holdings {
    fn default() -> Holdings {
        Holdings {
            readers: ViewSlots::new(MAX_READERS),
        }
    }
}

impl Holdings {
    /// The reader's holdings on `day`, up to date with every write made before the call.
    pub async fn of(
        &self,
        node: &Node,
        reader: &Reader,
        day: Date,
    ) -> Result<Arc<Index>, NodeError> {
        let slot = self.readers.slot(reader);
        // One refresh per reader at a time: readers alike wait for it rather than repeat it.
        let mut guard = slot.lock().await;
        let writes = node.writes_seen();
        if let Some(index) = guard.as_ref() {
            if index.day == day && index.writes == writes {
                return Ok(index.clone());
            }
        }
        let index = match guard.take() {
            Some(old) if old.day == day => {
                let old = Arc::try_unwrap(old).unwrap_or_else(|shared| shared.copy());
                old.refresh(node, reader, writes).await?
            }
            _ => {
                let index = Index::build(node, reader, day, writes).await?;
                // A new reader's (or a new day's) index is made whole at once: its sort orders
                // and lookups are ready before its first page. After a write they are made
                // again on first use instead, so that each write costs only what is read.
                index.prepare();
                index
            }
        };
        let index = Arc::new(index);
        *guard = Some(index.clone());
        Ok(index)
    }
}

impl Index {
    async fn build(
        node: &Node,
        reader: &Reader,
        day: Date,
        writes: u64,
    ) -> Result<Index, NodeError> {
        let mut index = Index::empty(day, writes);
        let mut last = 0i64;
        for collection in collections(node).await? {
            let name: Arc<str> = collection.as_str().into();
            let mut after = 0;
            loop {
                let batch = node
                    .release_latest(reader, &collection, after, BATCH, day)
                    .await?;
                for row in batch.rows {
                    index.put(node, &name, row);
                }
                after = batch.last_seq;
                if !batch.more {
                    break;
                }
            }
            // Writes during the build are read again from the change stream: start it at the
            // lowest position any collection was read to.
            index.since = index.since.min(after);
            last = last.max(after);
        }
        // Nothing written meanwhile: every collection is read up to the last position.
        if index.since == i64::MAX || node.writes_seen() == writes {
            index.since = last;
        }
        let index = index.refresh_changes(node, reader).await?;
        Ok(index)
    }

    fn empty(day: Date, writes: u64) -> Index {
        Index {
            day,
            writes,
            since: i64::MAX,
            rows: Vec::new(),
            keys: Vec::new(),
            kinds: Values::default(),
            originators: Values::default(),
            labels: Values::default(),
            at: HashMap::new(),
            orders: Mutex::default(),
            lookups: std::sync::OnceLock::new(),
        }
    }

    /// Makes every sort order and the lookups now rather than on first use.
    fn prepare(&self) {
        for key in [
            SortKey::Added,
            SortKey::Name,
            SortKey::Kind,
            SortKey::Originator,
            SortKey::Label,
        ] {
            self.order(key);
        }
        self.lookups();
    }

    /// A copy that can be changed (another request holds this one).
    fn copy(&self) -> Index {
        Index {
            day: self.day,
            writes: self.writes,
            since: self.since,
            rows: self.rows.clone(),
            keys: self.keys.clone(),
            kinds: self.kinds.clone(),
            originators: self.originators.clone(),
            labels: self.labels.clone(),
            at: self.at.clone(),
            orders: Mutex::default(),
            lookups: std::sync::OnceLock::new(),
        }
    }

    async fn refresh(
        mut self,
        node: &Node,
        reader: &Reader,
        writes: u64,
    ) -> Result<Index, NodeError> {
        self.writes = writes;
        self.orders = Mutex::default();
        self.lookups = std::sync::OnceLock::new();
        self.refresh_changes(node, reader).await
    }

    /// Releases again every object changed after `since` and replaces its row.
    async fn refresh_changes(mut self, node: &Node, reader: &Reader) -> Result<Index, NodeError> {
        loop {
            let changes = node.changed_since(self.since, CHANGES).await?;
            let Some((last, _, _)) = changes.last() else {
                return Ok(self);
            };
            self.since = *last;
            let mut by_collection: BTreeMap<String, HashSet<String>> = BTreeMap::new();
            for (_, collection, id) in &changes {
                by_collection
                    .entry(collection.clone())
                    .or_default()
                    .insert(id.clone());
            }
            for (collection, ids) in by_collection {
                let name: Arc<str> = collection.as_str().into();
                let ids: Vec<String> = ids.into_iter().collect();
                for chunk in ids.chunks(500) {
                    let released = node
                        .release_latest_of(reader, &collection, chunk.to_vec(), self.day)
                        .await?;
                    let seen: HashSet<&str> = released.iter().map(|r| r.id.as_str()).collect();
                    let gone: Vec<String> = chunk
                        .iter()
                        .filter(|id| !seen.contains(id.as_str()))
                        .cloned()
                        .collect();
                    for row in released {
                        self.put(node, &name, row);
                    }
                    for id in gone {
                        self.remove(&name, &id);
                    }
                }
            }
            if changes.len() < CHANGES {
                return Ok(self);
            }
        }
    }

    fn put(&mut self, node: &Node, collection: &Arc<str>, row: ReleasedRow) {
        if !entente_node::view::is_holding(&row.kind) {
            return;
        }
        let policies = node.release_policy().policies();
        let (label_text_, class) = match &row.banner {
            Some(l) => (label_text(policies, l), label_class(policies, l)),
            None => ("UNLABELLED".to_owned(), "level-none"),
        };
        let refs = (row.kind == "relationship").then(|| {
            let s = |k: &str| {
                row.copy
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (s("relationship_type"), s("source_ref"), s("target_ref"))
        });
        let holding = Holding {
            seq: row.seq,
            collection: collection.clone(),
            name: display_name(&row.copy),
            kind: row.kind,
            originator: row.originator,
            label: row.banner,
            label_text: label_text_.into(),
            label_class: class,
            tear_lined: row.tear_lined,
            added_us: row.added_us,
            refs,
            id: row.id,
            version_key: row.version_key,
        };
        self.insert(collection, holding);
    }

    /// Adds a row, or replaces the object's row.
    fn insert(&mut self, collection: &Arc<str>, holding: Holding) {
        let row_key = RowKey {
            kind: self.kinds.number(&holding.kind, None),
            originator: self.originators.number(holding.originator.as_str(), None),
            label: (self.labels).number(&holding.label_text, holding.label.as_ref()),
            day: day_of_us(holding.added_us),
        };
        let key = (collection.clone(), holding.id.clone());
        match self.at.get(&key) {
            Some(&i) => {
                self.rows[i] = holding;
                self.keys[i] = row_key;
            }
            None => {
                self.at.insert(key, self.rows.len());
                self.rows.push(holding);
                self.keys.push(row_key);
            }
        }
    }

    fn remove(&mut self, collection: &Arc<str>, id: &str) {
        let Some(i) = self.at.remove(&(collection.clone(), id.to_owned())) else {
            return;
        };
        self.rows.swap_remove(i);
        self.keys.swap_remove(i);
        if let Some(moved) = self.rows.get(i) {
            self.at
                .insert((moved.collection.clone(), moved.id.clone()), i);
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row of an object, when the reader may see it.
    pub fn get(&self, collection: &str, id: &str) -> Option<&Holding> {
        self.at
            .get(&(Arc::from(collection), id.to_owned()))
            .map(|&i| &self.rows[i])
    }

    fn lookups(&self) -> &Lookups {
        self.lookups.get_or_init(|| {
            let mut l = Lookups::default();
            for (i, h) in self.rows.iter().enumerate() {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                l.by_id.entry(h.id.clone()).or_insert(i);
                if let Some((_, source, target)) = &h.refs {
                    l.relationships.entry(source.clone()).or_default().push(i);
                    if target != source {
                        l.relationships.entry(target.clone()).or_default().push(i);
                    }
                }
            }
            l
        })
    }

    /// Relationships whose source or target is `id`.
    pub fn relationships_of(&self, id: &str) -> impl Iterator<Item = &Holding> + '_ {
        self.lookups()
            .relationships
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.rows.get(i as usize))
    }

    /// Any object with this id, whatever its collection.
    pub fn find(&self, id: &str) -> Option<&Holding> {
        self.lookups()
            .by_id
            .get(id)
            .and_then(|&i| self.rows.get(i as usize))
    }

    /// Row positions in ascending order of `key` (ties by `seq`), made on first use; a
    /// descending order is this one read backwards. The keys are compared as numbers (each
    /// value's rank among the distinct values) where they can be, names as lowered once.
    fn order(&self, key: SortKey) -> Arc<Vec<u32>> {
        if let Ok(orders) = self.orders.lock() {
            if let Some(o) = orders.get(&key) {
                return o.clone();
            }
        }
        let mut order: Vec<u32> = (0..u32::try_from(self.rows.len()).unwrap_or(u32::MAX)).collect();
        let (rows, keys) = (&self.rows, &self.keys);
        let by_rank = |order: &mut Vec<u32>, ranks: Vec<u32>, of: fn(&RowKey) -> u32| {
            order.sort_unstable_by_key(|&i| {
                (ranks[of(&keys[i as usize]) as usize], rows[i as usize].seq)
            });
        };
        match key {
            SortKey::Added => {
                order.sort_unstable_by_key(|&i| (rows[i as usize].added_us, rows[i as usize].seq))
            }
            SortKey::Name => {
                let lowered: Vec<String> = rows.iter().map(|h| h.name.to_lowercase()).collect();
                order.sort_unstable_by(|&a, &b| {
                    let (a, b) = (a as usize, b as usize);
                    (lowered[a].cmp(&lowered[b])).then(rows[a].seq.cmp(&rows[b].seq))
                });
            }
            SortKey::Kind => by_rank(&mut order, self.kinds.ranks(|_| ()), |k| k.kind),
            SortKey::Originator => {
                by_rank(&mut order, self.originators.ranks(|_| ()), |k| k.originator)
            }
            SortKey::Label => {
                // By policy, then level (lowest first), then the label's text.
                let place =
                    |l: &Option<Label>| l.as_ref().map(|l| (l.policy().to_owned(), l.rank()));
                by_rank(&mut order, self.labels.ranks(place), |k| k.label)
            }
        }
        let order = Arc::new(order);
        if let Ok(mut orders) = self.orders.lock() {
            orders.insert(key, order.clone());
        }
        order
    }

    /// One page of the rows that pass `filter`, in `sort` order, with the facets of the rows
    /// that pass the other filters.
    pub fn query(&self, filter: &Filter, sort: Sort, page: usize, per_page: usize) -> Page {
        let order = self.order(sort.key);
        let kind = self.kinds.wanted(filter.kind.as_deref());
        let originator = self.originators.wanted(filter.originator.as_deref());
        let label = self.labels.wanted(filter.label.as_deref());
        let (from, to) = (filter.from.map(day_of), filter.to.map(day_of));
        let mut counts = (
            vec![0usize; self.kinds.names.len()],
            vec![0usize; self.originators.names.len()],
            vec![0usize; self.labels.names.len()],
        );
        let mut total = 0usize;
        let mut rows = Vec::with_capacity(per_page);
        let skip = page.saturating_mul(per_page);
        let mut visit = |i: u32| {
            let k = self.keys[i as usize];
            let dates = from.is_none_or(|f| k.day >= f) && to.is_none_or(|t| k.day <= t);
            if !dates {
                return;
            }
            let by_kind = kind.is_none_or(|n| k.kind == n);
            let by_originator = originator.is_none_or(|n| k.originator == n);
            let by_label = label.is_none_or(|n| k.label == n);
            // A facet counts the rows that pass every filter but its own.
            if by_originator && by_label {
                counts.0[k.kind as usize] += 1;
            }
            if by_kind && by_label {
                counts.1[k.originator as usize] += 1;
            }
            if by_kind && by_originator {
                counts.2[k.label as usize] += 1;
            }
            if by_kind && by_originator && by_label {
                if total >= skip && rows.len() < per_page {
                    rows.push(self.rows[i as usize].clone());
                }
                total += 1;
            }
        };
        if sort.descending {
            order.iter().rev().for_each(|&i| visit(i));
        } else {
            order.iter().for_each(|&i| visit(i));
        }
        let label_values = (counts.2.iter().enumerate())
            .filter(|(_, &count)| count > 0)
            .filter_map(|(n, _)| {
                let value = self.labels.labels[n].clone()?;
                Some((self.labels.names[n].clone(), value))
            })
            .collect();
        Page {
            rows,
            total,
            facets: Facets {
                kinds: self.kinds.named(&counts.0),
                originators: self.originators.named(&counts.1),
                labels: self.labels.named(&counts.2),
                label_values,
            },
        }
    }
}

/// The collections a node holds.
async fn collections(node: &Node) -> Result<Vec<String>, NodeError> {
    Ok(node
        .store()
        .collections()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

pub use entente_node::view::display_name;

/// The filters of the holdings page; empty fields do not filter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    pub kind: Option<String>,
    pub originator: Option<String>,
    pub label: Option<String>,
    /// Days, inclusive, as `YYYY-MM-DD`.
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// What the rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Added,
    Name,
    Kind,
    Originator,
    Label,
}

impl SortKey {
    pub fn parse(text: &str) -> Option<SortKey> {
        Some(match text {
            "added" => SortKey::Added,
            "name" => SortKey::Name,
            "type" => SortKey::Kind,
            "originator" => SortKey::Originator,
            "label" => SortKey::Label,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Added => "added",
            SortKey::Name => "name",
            SortKey::Kind => "type",
            SortKey::Originator => "originator",
            SortKey::Label => "label",
        }
    }
}

/// Counts of the values of each filtered field.
#[derive(Debug, Default)]
pub struct Facets {
    pub kinds: BTreeMap<String, usize>,
    pub originators: BTreeMap<String, usize>,
    pub labels: BTreeMap<String, usize>,
    /// The labels the label facet names (the page's banner covers them).
    pub label_values: BTreeMap<String, Label>,
}

/// One page of holdings.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Holding>,
    pub total: usize,
    pub facets: Facets,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn index_of(rows: &[(u8, u8, u8, i64)]) -> Index {
        let mut index = Index::empty(Date::default(), 0);
        let nations = ["FRA", "GBR", "USA"];
        let collection: Arc<str> = "intel".into();
        for (seq, &(kind, originator, label, added_us)) in rows.iter().enumerate() {
            let holding = Holding {
                seq: seq as i64,
                collection: collection.clone(),
                id: format!("indicator--{seq}"),
                version_key: String::new(),
                kind: ["indicator", "malware", "report"][kind as usize % 3].to_owned(),
                // Names that tie once lowered, so that ties go by `seq`.
                name: ["alpha", "Alpha", "beta", "Zulu"][(kind + label) as usize % 4].to_owned(),
                originator: nations[originator as usize % 3].parse().unwrap(),
                label: None,
                label_text: ["NATO SECRET", "NATO RESTRICTED"][label as usize % 2].into(),
                label_class: "level-none",
                tear_lined: false,
                added_us,
                refs: None,
            };
            index.insert(&collection, holding);
        }
        index
    }

    /// The query as first written: every row's strings compared and counted.
    fn reference(index: &Index, filter: &Filter, sort: Sort) -> (Vec<String>, usize, Facets) {
        let day = |us: i64| chrono::DateTime::from_timestamp_micros(us).map(|t| t.date_naive());
        let mut facets = Facets::default();
        let (mut ids, mut total) = (Vec::new(), 0);
        let rank = |h: &Holding| {
            (h.label.as_ref()).map_or((String::new(), 0), |l| (l.policy().to_owned(), l.rank()))
        };
        let mut order: Vec<&Holding> = index.rows.iter().collect();
        order.sort_by(|x, y| {
            let by = match sort.key {
                SortKey::Added => x.added_us.cmp(&y.added_us),
                SortKey::Name => x.name.to_lowercase().cmp(&y.name.to_lowercase()),
                SortKey::Kind => x.kind.cmp(&y.kind),
                SortKey::Originator => x.originator.as_str().cmp(y.originator.as_str()),
                SortKey::Label => rank(x).cmp(&rank(y)).then(x.label_text.cmp(&y.label_text)),
            };
            let by = by.then(x.seq.cmp(&y.seq));
            if sort.descending {
                by.reverse()
            } else {
                by
            }
        });
        for h in order {
            let kind = filter.kind.as_deref().is_none_or(|k| h.kind == k);
            let originator =
                (filter.originator.as_deref()).is_none_or(|o| h.originator.as_str() == o);
            let label = filter.label.as_deref().is_none_or(|l| &*h.label_text == l);
            let dates = filter
                .from
                .is_none_or(|f| day(h.added_us).is_some_and(|d| d >= f))
                && filter
                    .to
                    .is_none_or(|t| day(h.added_us).is_some_and(|d| d <= t));
            if originator && label && dates {
                *facets.kinds.entry(h.kind.clone()).or_default() += 1;
            }
            if kind && label && dates {
                *(facets.originators)
                    .entry(h.originator.as_str().to_owned())
                    .or_default() += 1;
            }
            if kind && originator && dates {
                *facets.labels.entry(h.label_text.to_string()).or_default() += 1;
            }
            if kind && originator && label && dates {
                ids.push(h.id.clone());
                total += 1;
            }
        }
        (ids, total, facets)
    }

    proptest! {
        #[test]
        fn a_query_finds_what_comparing_every_row_finds(
            rows in prop::collection::vec((0u8..3, 0u8..3, 0u8..2, -200_000_000_000i64..400_000_000_000), 0..60),
            kind in prop::option::of(prop::sample::select(vec!["indicator", "malware", "nothing"])),
            originator in prop::option::of(prop::sample::select(vec!["FRA", "USA", "JPN"])),
            label in prop::option::of(prop::sample::select(vec!["NATO SECRET", "NATO RESTRICTED", "x"])),
            from in prop::option::of(-3i64..5),
            to in prop::option::of(-3i64..5),
            key in prop::sample::select(vec![SortKey::Added, SortKey::Name, SortKey::Kind, SortKey::Originator, SortKey::Label]),
            descending in any::<bool>(),
            page in 0usize..4,
        ) {
            let index = index_of(&rows);
            let date = |d: i64| chrono::DateTime::UNIX_EPOCH.date_naive() + chrono::Duration::days(d);
            let filter = Filter {
                kind: kind.map(str::to_owned),
                originator: originator.map(str::to_owned),
                label: label.map(str::to_owned),
                from: from.map(date),
                to: to.map(date),
            };
            let sort = Sort { key, descending };
            let got = index.query(&filter, sort, page, 7);
            let (ids, total, facets) = reference(&index, &filter, sort);
            let want: Vec<String> = ids.into_iter().skip(page * 7).take(7).collect();
            prop_assert_eq!(got.rows.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), want);
            prop_assert_eq!(got.total, total);
            prop_assert_eq!(got.facets.kinds, facets.kinds);
            prop_assert_eq!(got.facets.originators, facets.originators);
            prop_assert_eq!(got.facets.labels, facets.labels);
        }
    }

    #[test]
    fn a_name_is_the_best_property_there_is_and_is_kept_short() {
        assert_eq!(display_name(&json!({"name": "APT", "pattern": "x"})), "APT");
        assert_eq!(
            display_name(&json!({"pattern": "[ipv4-addr:value = '1.2.3.4']"})),
            "[ipv4-addr:value = '1.2.3.4']"
        );
        let long = "x".repeat(200);
        assert_eq!(display_name(&json!({"name": long})).chars().count(), 121);
        assert_eq!(display_name(&json!({})), "(unnamed)");
    }
}
