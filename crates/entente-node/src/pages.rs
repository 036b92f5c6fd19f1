//! Released pages shared between readers who would be served the same bytes.
//!
//! A page of objects depends only on the stored objects, the query, the day and the reader's
//! nation and clearance: the release path (`Access::release`) reads nothing else of the user.
//! Readers of one nation and clearance paging through a collection therefore get identical
//! bytes, and the first reader's page is kept for the others. The key holds every one of those
//! inputs; the stored objects enter through a generation number that every write to the store
//! moves on, so a page released before a write is never served after it.
//!
//! The key is typed (`taxii::PageKey`: the generation, the collection, the
//! [`Reader`](crate::access::Reader), the day and the filters); the cache takes any key.
//!
//! The cache is hand-made rather than `moka` or `quick_cache`: readers asking at once for a
//! page wait for the first one's release and a page is kept only when that wait happened or it
//! is asked for again, which a crate's insert-on-miss (`get_with`, placeholder guards) does not
//! express; and every write to the store must drop every page at once.
//!
//! A page is kept only once it proves to be shared: when readers waited on its release, or when
//! it is asked for a second time. A page read once (one reader walking a collection, readers
//! who never meet on a page) would only take memory that the next pages must then be given
//! afresh by the system.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes of released pages kept at most; past it the cache starts again empty (pages are
/// rebuilt on demand, so forgetting them costs time, never correctness).
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// A released page as served: its envelope, its headers and the counts for the metrics.
pub struct CachedPage {
    /// Shared with every answer that serves it (no copy per reader).
    pub body: crate::body::Pieces,
    pub headers: Vec<(&'static str, String)>,
    pub served: u64,
    pub withheld: u64,
}

struct Entries<K> {
    pages: HashMap<K, Arc<CachedPage>>,
    bytes: usize,
}

impl<K> Default for Entries<K> {
    fn default() -> Entries<K> {
        Entries {
            pages: HashMap::new(),
            bytes: 0,
        }
    }
}

/// The shared pages of one node process, by key `K`.
pub struct PageCache<K> {
    generation: AtomicU64,
    entries: Mutex<Entries<K>>,
    /// Pages being released, so that readers asking at once for the same page wait for the
    /// first one's release instead of each releasing it.
    building: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    /// Hashes of the keys of pages released and not kept (a collision only keeps a page that
    /// was not yet shared).
    asked: Mutex<HashSet<u64, foldhash::fast::FixedState>>,
}

/// Keys of pages not kept that are remembered at most; past it the set starts again empty.
const ASKED: usize = 1 << 16;

impl<K> Default for PageCache<K> {
    fn default() -> PageCache<K> {
        PageCache {
            generation: AtomicU64::new(0),
            entries: Mutex::new(Entries::default()),
            building: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashSet::default()),
        }
    }
}

impl<K: Hash + Eq + Clone> PageCache<K> {
    /// The generation a read starts under: read it before asking the store, so that a page built
    /// from data older than a write is filed under a generation no later read asks for.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Called after every write to the store (whether or not it succeeded): every page kept
    /// so far may be out of date.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut e) = self.entries.lock() {
            *e = Entries::default();
        }
    }

    /// The lock of the release of page `key`: hold it while releasing the page, then call
    /// [`PageCache::built`].
    pub fn building(&self, key: &K) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut b = self.building.lock().ok()?;
        Some(b.entry(key.clone()).or_default().clone())
    }

    /// The page `key` is in the cache (or could not be built): later readers need not wait.
    pub fn built(&self, key: &K) {
        if let Ok(mut b) = self.building.lock() {
            b.remove(key);
        }
    }

    /// Whether the page `key`, just released, is worth keeping: readers waited on its release
    /// (`waited`), or it was released before. Otherwise it is remembered as asked for.
    pub fn worth_keeping(&self, key: &K, waited: bool) -> bool {
        let Ok(mut asked) = self.asked.lock() else {
            return waited;
        };
        let hash = asked.hasher().hash_one(key);
        if waited || asked.remove(&hash) {
            return true;
        }
        if asked.len() >= ASKED {
            asked.clear();
        }
        asked.insert(hash);
        false
    }

    pub fn get(&self, key: &K) -> Option<Arc<CachedPage>> {
        self.entries.lock().ok()?.pages.get(key).cloned()
    }

    pub fn insert(&self, key: K, page: Arc<CachedPage>) {
        let key_len = std::mem::size_of::<K>();
        let size = key_len + page.body.len();
        if size > MAX_BYTES {
            return;
        }
        if let Ok(mut e) = self.entries.lock() {
            if e.bytes + size > MAX_BYTES {
                *e = Entries::default();
            }
            e.bytes += size;
            if let Some(old) = e.pages.insert(key, page) {
                e.bytes -= key_len + old.body.len();
            }
        }
    }
}

/// Whether readers other than the caller hold the release lock `lock` of a page (the map of
/// locks holds one reference, the caller another).
pub fn waited(lock: &Arc<tokio::sync::Mutex<()>>) -> bool {
    Arc::strong_count(lock) > 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &[u8]) -> Arc<CachedPage> {
        Arc::new(CachedPage {
            body: crate::body::Pieces::from(body.to_vec()),
            headers: Vec::new(),
            served: 1,
            withheld: 0,
        })
    }

    #[test]
    fn a_write_forgets_every_page_and_moves_the_generation_on() {
        let cache = PageCache::<String>::default();
        let before = cache.generation();
        cache.insert(format!("{before}/a"), page(b"{}"));
        assert!(cache.get(&format!("{before}/a")).is_some());
        cache.invalidate();
        assert_ne!(cache.generation(), before);
        assert!(cache.get(&format!("{before}/a")).is_none());
    }

    #[test]
    fn readers_of_one_page_share_one_release_lock_until_it_is_built() {
        let cache = PageCache::<String>::default();
        let a = cache.building(&"k".to_owned()).unwrap();
        let b = cache.building(&"k".to_owned()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(
            &a,
            &cache.building(&"other".to_owned()).unwrap()
        ));
        cache.built(&"k".to_owned());
        assert!(!Arc::ptr_eq(&a, &cache.building(&"k".to_owned()).unwrap()));
    }

    #[test]
    fn a_page_is_kept_once_it_is_asked_for_again_or_waited_for() {
        let cache = PageCache::<String>::default();
        assert!(!cache.worth_keeping(&"a".to_owned(), false));
        assert!(!cache.worth_keeping(&"b".to_owned(), false));
        assert!(cache.worth_keeping(&"a".to_owned(), false));
        assert!(cache.worth_keeping(&"c".to_owned(), true));
        // Kept once, forgotten as asked: evicted later, it must prove itself again.
        assert!(!cache.worth_keeping(&"a".to_owned(), false));
        let lock = cache.building(&"d".to_owned()).unwrap();
        assert!(!waited(&lock));
        let waiter = cache.building(&"d".to_owned()).unwrap();
        assert!(waited(&lock));
        drop(waiter);
        assert!(!waited(&lock));
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = PageCache::<String>::default();
        let big = vec![b' '; MAX_BYTES / 3];
        for i in 0..10 {
            cache.insert(format!("k{i}"), page(&big));
            let bytes = cache.entries.lock().map(|e| e.bytes).unwrap_or(usize::MAX);
            assert!(bytes <= MAX_BYTES, "{bytes} bytes kept after {i} inserts");
        }
        assert!(cache.get(&"k9".to_owned()).is_some());
        assert!(cache.get(&"k0".to_owned()).is_none());
        // A page larger than the whole bound is not kept at all.
        cache.insert("huge".into(), page(&vec![b' '; MAX_BYTES + 1]));
        assert!(cache.get(&"huge".to_owned()).is_none());
    }
}
