//! Search, correlation and pattern matching over each reader's released view.
//!
//! A [`SearchView`] is an [`entente_search::SearchIndex`] of the latest versions a reader may
//! read in the collections a user has read access to, each released through the one release
//! path of TAXII ([`Node::release_latest`]). Users alike (same nation, clearance and readable
//! collections) share one view. A view follows the store's change stream: after a write by this
//! process at once, and otherwise at most [`RECHECK`] after another process wrote to a shared
//! PostgreSQL database; a new day rebuilds it (releases depend on the day).

pub(crate) mod api;

pub use api::GRAPH_NODES;

use std::collections::{BTreeMap, HashSet};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_search::{Document, SearchIndex, Warnings};
use entente_store::User;
use entente_types::Date;

use crate::access::Reader;
use crate::error::NodeError;
use crate::view::{display_name, ReleasedRow, ViewSlots};
use crate::Node;

/// Rows released per store read while a view is built.
const BATCH: usize = 2_000;
/// Changes read at once while a view is brought up to date.
const CHANGES: usize = 10_000;
/// Views kept; past it the least recently used is dropped.
const MAX_VIEWS: usize = 64;
/// How long a view is trusted without asking the store for changes made by other processes.
pub const RECHECK: Duration = Duration::from_millis(500);

/// Who a view is for: the reader and the collections it may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    reader: Reader,
    collections: Vec<String>,
}

/// The search views of the readers met recently.
pub struct Searches {
    warnings: Warnings,
    views: ViewSlots<ViewKey, SearchView>,
}

/// One reader's index on one day.
pub struct SearchView {
    pub day: Date,
    /// The node's write count when the view was last brought up to date.
    writes: u64,
    /// The change stream's position the view reflects.
    since: i64,
    checked: Instant,
    pub index: SearchIndex,
}

impl Deref for SearchView {
    type Target = SearchIndex;
    fn deref(&self) -> &SearchIndex {
        &self.index
    }
}

impl Searches {
    pub fn new(warnings: Warnings) -> Searches {
        Searches {
            warnings,
            views: ViewSlots::new(MAX_VIEWS),
        }
    }

    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }
}

impl Node {
    /// The warning lists this node flags values with.
    pub fn warnings(&self) -> &Warnings {
        self.searches.warnings()
    }

    /// What `user` may search on `day`: the latest versions released to the user's nation and
    /// clearance in the collections it may read, up to date with every write this process made
    /// before the call, and with other processes' writes older than [`RECHECK`].
    pub async fn search_view(&self, user: &User, day: Date) -> Result<Arc<SearchView>, NodeError> {
        let mut collections: Vec<String> = Vec::new();
        for c in self.store.collections().await? {
            if user.may_read(&c.id) {
                collections.push(c.id);
            }
        }
        let key = ViewKey {
            reader: Reader::of(user),
            collections,
        };
        let slot = self.searches.views.slot(&key);
        // One refresh per view at a time: readers alike wait for it rather than repeat it.
        let mut guard = slot.lock().await;
        let writes = self.writes_seen();
        if let Some(view) = guard.as_ref() {
            if view.day == day && view.writes == writes && view.checked.elapsed() < RECHECK {
                return Ok(view.clone());
            }
        }
        let view = match guard.take() {
            Some(old) if old.day == day => {
                let mut view = Arc::try_unwrap(old).unwrap_or_else(|shared| SearchView {
                    day: shared.day,
                    writes: shared.writes,
                    since: shared.since,
                    checked: shared.checked,
                    index: shared.index.clone(),
                });
                view.writes = writes;
                view.checked = Instant::now();
                self.follow_changes(&key, &mut view).await?;
                view
            }
            _ => self.build_view(&key, day, writes).await?,
        };
        let view = Arc::new(view);
        *guard = Some(view.clone());
        Ok(view)
    }

    async fn build_view(
        &self,
        key: &ViewKey,
        day: Date,
        writes: u64,
    ) -> Result<SearchView, NodeError> {
        let mut view = SearchView {
            day,
            writes,
            since: i64::MAX,
            checked: Instant::now(),
            index: SearchIndex::new(self.searches.warnings.clone()),
        };
        let mut last = 0i64;
        for collection in &key.collections {
            let name: Arc<str> = collection.as_str().into();
            let mut after = 0;
            loop {
                let batch = self
                    .release_latest(&key.reader, collection, after, BATCH, day)
                    .await?;
                for row in batch.rows {
                    self.index_row(&mut view.index, &name, row);
                }
                after = batch.last_seq;
                if !batch.more {
                    break;
                }
            }
            // Writes made during the build are read again from the change stream: start it
            // at the lowest position any collection was read to.
            view.since = view.since.min(after);
            last = last.max(after);
        }
        if view.since == i64::MAX || self.writes_seen() == writes {
            view.since = last;
        }
        self.follow_changes(key, &mut view).await?;
        Ok(view)
    }

    /// Releases again every object changed after the view's position and replaces its
    /// document, or takes it out when it is no longer released.
    async fn follow_changes(&self, key: &ViewKey, view: &mut SearchView) -> Result<(), NodeError> {
        let readable: HashSet<&str> = key.collections.iter().map(String::as_str).collect();
        loop {
            let changes = self.changed_since(view.since, CHANGES).await?;
            let Some((last, _, _)) = changes.last() else {
                return Ok(());
            };
            view.since = *last;
            let mut by_collection: BTreeMap<String, HashSet<String>> = BTreeMap::new();
            for (_, collection, id) in &changes {
                if readable.contains(collection.as_str()) {
                    by_collection
                        .entry(collection.clone())
                        .or_default()
                        .insert(id.clone());
                }
            }
            for (collection, ids) in by_collection {
                let name: Arc<str> = collection.as_str().into();
                let ids: Vec<String> = ids.into_iter().collect();
                for chunk in ids.chunks(500) {
                    let released = self
                        .release_latest_of(&key.reader, &collection, chunk.to_vec(), view.day)
                        .await?;
                    let seen: HashSet<&str> = released.iter().map(|r| r.id.as_str()).collect();
                    let gone: Vec<&String> = chunk
                        .iter()
                        .filter(|id| !seen.contains(id.as_str()))
                        .collect();
                    for id in gone {
                        view.index.remove(&collection, id);
                    }
                    for row in released {
                        self.index_row(&mut view.index, &name, row);
                    }
                }
            }
            if changes.len() < CHANGES {
                return Ok(());
            }
        }
    }

    fn index_row(&self, index: &mut SearchIndex, collection: &Arc<str>, row: ReleasedRow) {
        if !crate::view::is_holding(&row.kind) {
            return;
        }
        index.put(Document {
            collection: collection.clone(),
            name: display_name(&row.copy),
            label: self.banner_text(row.banner.as_ref()),
            originator: row.originator.to_string(),
            added_us: row.added_us,
            kind: row.kind,
            id: row.id,
            copy: row.copy,
        });
    }

    /// The banner text of a released copy: the dominant label of the copy and its portions.
    pub fn copy_banner_text(&self, copy: &serde_json::Value) -> String {
        self.banner_text(self.banner_of(copy).as_ref())
    }

    /// The banner text of a label as pages and search show it.
    pub fn banner_text(&self, label: Option<&entente_labels::Label>) -> String {
        match label {
            Some(l) => {
                let policies = self.access.policy.policies();
                entente_labels::render_marking(policies, l)
                    .unwrap_or_else(|_| format!("{} {}", l.policy(), l.classification()))
            }
            None => "UNLABELLED".to_owned(),
        }
    }
}

/// Loads the warning lists a config names; a missing folder means no list.
pub fn load_warnings(dir: &std::path::Path) -> Result<Warnings, NodeError> {
    if !dir.exists() {
        return Ok(Warnings::none());
    }
    let lists = entente_warninglists::WarningLists::load_dir(dir)
        .map_err(|e| NodeError::config(format!("warning lists: {e}")))?;
    Ok(Warnings::from_lists(Arc::new(lists)))
}
