//! The caches of the read path, each shared by every request: release keys of stored rows by
//! `seq` ([`RowKeys`]), decisions on release keys and copies released through the full path
//! ([`OnLabels`], scoped to one generation of the label cache), and the per-batch memo of
//! decisions ([`Decisions`]).
//!
//! They stay hand-made rather than `quick_cache`/`moka`: each is read under one read lock per
//! chunk of rows (`RowKeys::kept` takes the lock once for 256 lookups, where a crate's cache
//! takes a shard lock and records recency per lookup), and the label-scoped maps must drop
//! every entry at once when a label is cached, which a crate's per-entry eviction does not
//! express. Their bounds empty the map rather than track recency: forgetting an entry costs time,
//! never correctness, and the entries of a page are read again within milliseconds anyway.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use entente_types::{Date, NationCode};

use super::key::{ReleaseKey, RowKey};
use super::release::{ByMarkings, ReleasedText};
use super::Reader;

/// [`row_key`](super::key::row_key) of stored rows by `seq`, shared by every request: readers paging through a
/// collection read the same rows again and again, and reading a key from a text is most of the
/// cost of releasing an object on its markings. A row's text and kind change only under a new
/// `seq` (every write that changes a row gives it the next one), so a key kept under a `seq`
/// never goes stale.
#[derive(Default)]
pub struct RowKeys(
    pub(super) RwLock<HashMap<i64, Option<Arc<RowKey>>, foldhash::fast::RandomState>>,
);

/// Rows whose keys are kept at most (a few hundred bytes each); past it the map starts again
/// empty (a key is read again on demand, so forgetting one costs time, never correctness).
pub(super) const ROW_KEYS: usize = 1 << 17;

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

/// What a decision on a [`ReleaseKey`] depends on besides the labels cached: the reader's
/// nation and clearance (not the reader: two readers alike share decisions), the originator and
/// the day. The policy and the default label are fixed for the life of an [`Access`](super::Access).
#[derive(PartialEq, Eq, Hash)]
pub(super) struct DecisionKey {
    pub(super) reader: Reader,
    pub(super) originator: NationCode,
    pub(super) day: Date,
    pub(super) key: ReleaseKey<'static>,
}

/// Values computed on the labels cached, kept across requests: entries are taken on the labels
/// cached at one [`LabelCache`](super::LabelCache) generation, and a newer one empties the map. Each entry weighs
/// what `weigh` says; past `budget` the map starts again empty rather than tracking recency
/// (forgetting an entry costs time, never correctness).
pub(super) struct OnLabels<K, V> {
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
    pub(super) fn new(budget: usize, weigh: fn(&V) -> usize) -> OnLabels<K, V> {
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

    pub(super) fn get(&self, generation: u64, key: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        if map.generation != generation {
            return None;
        }
        map.entries.get(key).cloned()
    }

    pub(super) fn insert(&self, generation: u64, key: K, value: V) {
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
pub(super) fn shared_decisions() -> OnLabels<DecisionKey, ByMarkings> {
    OnLabels::new(4096, |_| 1)
}

/// What a copy in [`released_copies`] depends on besides the labels cached: the stored row (its
/// `seq`), its originator, the readers' nation and the day.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct ReleasedKey {
    pub(super) seq: i64,
    pub(super) originator: NationCode,
    pub(super) nation: NationCode,
    pub(super) day: Date,
}

/// Copies released through the full path, by row and nation, shared by every request: readers
/// of one nation paging through a collection each need the same tear-lined copies, and the
/// full path (parse, labels, cuts, serialization) costs tens of microseconds per object. `None`:
/// not released to that nation. 32 MiB of texts at most (an entry's own share counted as 64
/// bytes).
pub(super) fn released_copies() -> OnLabels<ReleasedKey, Option<Arc<ReleasedText>>> {
    OnLabels::new(32 * 1024 * 1024, |copy| {
        64 + copy.as_ref().map_or(0, |c| c.text.len())
    })
}

/// Release decisions by originator and [`ReleaseKey`], taken for one reader on one day (both
/// fixed for a batch, as are the labels cached) and kept for the batch. Neighbouring objects
/// mostly share their markings: the last decision is tried before the map.
#[derive(Default)]
pub(super) struct Decisions {
    last: Option<(NationCode, Arc<RowKey>, ByMarkings)>,
    map: HashMap<(NationCode, SameKey), ByMarkings, foldhash::fast::RandomState>,
}

/// A row key compared and hashed on its release key alone (rows with equal keys are released
/// alike, wherever their markings are in their texts).
#[derive(Clone)]
struct SameKey(Arc<RowKey>);

impl SameKey {
    fn same(a: &Arc<RowKey>, b: &Arc<RowKey>) -> bool {
        Arc::ptr_eq(a, b) || a.key == b.key
    }
}

impl PartialEq for SameKey {
    fn eq(&self, other: &SameKey) -> bool {
        SameKey::same(&self.0, &other.0)
    }
}

impl Eq for SameKey {}

impl std::hash::Hash for SameKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.key.hash(state);
    }
}

impl Decisions {
    pub(super) fn get(
        &mut self,
        originator: NationCode,
        row: &Arc<RowKey>,
        decide: impl FnOnce(&ReleaseKey<'static>) -> ByMarkings,
    ) -> ByMarkings {
        if let Some((o, k, d)) = &self.last {
            if *o == originator && SameKey::same(k, row) {
                return d.clone();
            }
        }
        let entry = (originator, SameKey(row.clone()));
        let decision = match self.map.get(&entry) {
            Some(d) => d.clone(),
            None => {
                let d = decide(&row.key);
                self.map.insert(entry, d.clone());
                d
            }
        };
        self.last = Some((originator, row.clone(), decision.clone()));
        decision
    }
}
