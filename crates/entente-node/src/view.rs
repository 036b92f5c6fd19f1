//! What a node holds as one reader may see it, for readers other than TAXII clients (the web
//! console): released rows with what a page shows of them (their banner, their portion labels,
//! whether the copy was tear-lined for the reader). Every row goes through the one release path
//! of the TAXII reads, [`Access::release_rows`](crate::access::Access::release_rows); nothing
//! here reads a stored text that the reader was not released.

use entente_labels::Label;
use entente_store::{ObjectQuery, StatusRecord, StoredObject, User, VersionFilter};
use entente_types::Date;
use serde_json::Value;

use crate::access::{Outcome, Reader, Served};
use crate::error::{NodeError, NodeErrorKind};
use crate::Node;

/// Whether objects of `kind` are holdings, listed by pages and found by search: not labels
/// (shown as the labels of what refers to them), schemas, nor the air picture's sensor reports
/// (many a second; the picture page shows them fused).
pub fn is_holding(kind: &str) -> bool {
    !matches!(
        kind,
        "marking-definition"
            | "extension-definition"
            | entente_fusion::stix::PLOT_TYPE
            | entente_fusion::stix::NATIONAL_TRACK_TYPE
            | entente_fusion::stix::SYSTEM_TRACK_TYPE
    )
}

/// A stored version released to a reader.
#[derive(Debug, Clone)]
pub struct ReleasedRow {
    pub seq: i64,
    pub added_us: i64,
    pub id: String,
    pub kind: String,
    pub version: String,
    /// The version's key in the store (for its provenance).
    pub version_key: String,
    pub originator: entente_types::NationCode,
    /// The copy the reader may see.
    pub copy: Value,
    /// The dominant label of the copy and its portions (what the reader's clearance covers).
    pub banner: Option<Label>,
    /// Portions of the stored version were cut out of the copy for this reader.
    pub tear_lined: bool,
}

/// Why a reader sees an object.
#[derive(Debug, Clone)]
pub struct ReleaseReason {
    /// The decision on the object, as the policy explains it.
    pub decision: String,
    pub agreement: Option<String>,
    pub clause: Option<String>,
}

/// A batch of released rows and where the next batch starts.
#[derive(Debug, Default)]
pub struct ReleasedBatch {
    pub rows: Vec<ReleasedRow>,
    /// The greatest `seq` read (released or withheld): the next batch reads after it.
    pub last_seq: i64,
    pub more: bool,
}

impl Node {
    /// The latest versions stored in collection `cid` after `after_seq` (at most `limit` read)
    /// that `reader` may see on `day`, released as TAXII's `GET …/objects/` releases them.
    pub async fn release_latest(
        &self,
        reader: &Reader,
        cid: &str,
        after_seq: i64,
        limit: usize,
        day: Date,
    ) -> Result<ReleasedBatch, NodeError> {
        let page = self
            .store
            .objects(
                cid,
                &ObjectQuery {
                    after_seq,
                    limit,
                    versions: VersionFilter::last(),
                    ..ObjectQuery::default()
                },
            )
            .await?;
        let last_seq = page.objects.last().map_or(after_seq, |o| o.seq);
        let rows = self.release_stored_rows(reader, &page.objects, day).await?;
        Ok(ReleasedBatch {
            rows,
            last_seq,
            more: page.more,
        })
    }

    /// The latest versions of objects `ids` of collection `cid` that `reader` may see on `day`.
    pub async fn release_latest_of(
        &self,
        reader: &Reader,
        cid: &str,
        ids: Vec<String>,
        day: Date,
    ) -> Result<Vec<ReleasedRow>, NodeError> {
        let limit = ids.len();
        let page = self
            .store
            .objects(
                cid,
                &ObjectQuery {
                    ids,
                    limit,
                    versions: VersionFilter::last(),
                    ..ObjectQuery::default()
                },
            )
            .await?;
        self.release_stored_rows(reader, &page.objects, day).await
    }

    /// The objects written after `after_seq` (stored, replaced or deleted), at most `limit`, in
    /// `seq` order: `(seq, collection, id)`. Ids only: what a reader may see of them is released
    /// by the calls above.
    pub async fn changed_since(
        &self,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>, NodeError> {
        Ok(self
            .store
            .changes(after_seq, limit)
            .await?
            .into_iter()
            .map(|c| (c.object.seq, c.collection, c.object.id))
            .collect())
    }

    /// The number of writes to the objects so far (it moves on with every write).
    pub fn writes_seen(&self) -> u64 {
        *self.changes.borrow()
    }

    /// Every version of object `id` in collection `cid` that `reader` may see on `day`, oldest
    /// first. Empty when there is none: an object the reader may not see is one that is absent.
    pub async fn release_versions(
        &self,
        reader: &Reader,
        cid: &str,
        id: &str,
        day: Date,
    ) -> Result<Vec<ReleasedRow>, NodeError> {
        let versions = self.store.versions(cid, id).await?;
        self.release_stored_rows(reader, &versions, day).await
    }

    pub(crate) async fn release_stored_rows(
        &self,
        reader: &Reader,
        rows: &[StoredObject],
        day: Date,
    ) -> Result<Vec<ReleasedRow>, NodeError> {
        let spread = rows.len() > 256;
        let released = self
            .access
            .release_rows(self.store.as_ref(), reader, rows, day, spread)
            .await?;
        let mut out = Vec::with_capacity(released.len());
        for (stored, outcome) in released {
            let Outcome::Served(served, _) = outcome else {
                continue;
            };
            let (copy, tear_lined) = match served {
                Served::Stored(json) => (parse(stored, json)?, false),
                Served::Relabelled {
                    json,
                    spans,
                    refs,
                    portions,
                } => {
                    let mut text = Vec::with_capacity(json.len());
                    if !crate::access::key::write_relabelled(
                        &mut text,
                        json,
                        &spans,
                        &refs,
                        portions.as_deref(),
                    ) {
                        continue;
                    }
                    let copy = serde_json::from_slice(&text).map_err(|e| internal(stored, e))?;
                    // Relabelled copies are whole: only their markings differ.
                    (copy, false)
                }
                Served::Text(text) => {
                    let copy = parse(stored, &text)?;
                    let whole = parse(stored, &stored.json)?;
                    let cut = without_markings(&copy) != without_markings(&whole);
                    (copy, cut)
                }
            };
            let banner = self.banner_of(&copy);
            out.push(ReleasedRow {
                seq: stored.seq,
                added_us: stored.added_us,
                id: stored.id.clone(),
                kind: stored.kind.clone(),
                version: stored.taxii_version(),
                version_key: stored.version_key.clone(),
                originator: stored.originator,
                copy,
                banner,
                tear_lined,
            });
        }
        Ok(out)
    }

    /// The dominant label of a released copy: its object label and the labels of its portions.
    pub(crate) fn banner_of(&self, copy: &Value) -> Option<Label> {
        crate::access::labels::marking_ref_strs(copy)
            .filter_map(|id| self.access.label(id))
            .reduce(|a, b| self.access.policy.dominate(&a, &b).unwrap_or(a))
    }

    /// Why `reader` is released the latest version of object `id` on `day`: the decision on the
    /// object (the agreement and clause that allow it, or that the reader's nation originated
    /// it). `None` when the reader may not see it. Says nothing of what was cut, nor why: that
    /// would name the labels of portions the reader may not see.
    pub async fn release_reason(
        &self,
        reader: &Reader,
        cid: &str,
        id: &str,
        day: Date,
    ) -> Result<Option<ReleaseReason>, NodeError> {
        let versions = self.store.versions(cid, id).await?;
        let Some(latest) = versions.last() else {
            return Ok(None);
        };
        if self
            .release_stored_rows(reader, std::slice::from_ref(latest), day)
            .await?
            .is_empty()
        {
            return Ok(None);
        }
        let object = parse(latest, &latest.json)?;
        let lookup = |id: &str| self.access.label(id);
        let Ok(release) = self.access.policy.release_stored(
            &object,
            &lookup,
            latest.originator,
            reader.nation,
            day,
        ) else {
            return Ok(None);
        };
        let d = &release.object_decision;
        Ok(Some(ReleaseReason {
            decision: d.to_string(),
            agreement: d.agreement().map(str::to_owned),
            clause: d.clause().map(str::to_owned),
        }))
    }

    /// The provenance of a version received from a partner: its origin, the partner that sent
    /// it and the origin's binding (JSON). `None` for what was published here.
    pub async fn provenance(
        &self,
        cid: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<entente_store::BindingRecord>, NodeError> {
        Ok(self.store.binding(cid, id, version_key).await?)
    }

    /// Whether the originator cut portions out of a received version before it sent it here:
    /// its binding says so, under its signature, and names nothing that was cut. False for a
    /// version published here or held without a binding.
    pub async fn cut_by_origin(
        &self,
        cid: &str,
        id: &str,
        version_key: &str,
    ) -> Result<bool, NodeError> {
        let Some(record) = self.store.binding(cid, id, version_key).await? else {
            return Ok(false);
        };
        let binding: entente_seal::Binding =
            serde_json::from_str(&record.binding).map_err(|e| {
                let message = format!("the stored binding of {id} ({version_key}): {e}");
                NodeError::new(NodeErrorKind::Internal, message)
            })?;
        Ok(binding.cut)
    }

    /// The label of a marking definition the node holds (loaded by a release that referred to
    /// it), for rendering a released copy's markings.
    pub fn marking_label(&self, id: &str) -> Option<Label> {
        self.access.label(id)
    }

    /// Posts a TAXII envelope (its JSON text) to collection `cid` as `user`, through the checks
    /// and the store writes of TAXII's `POST …/objects/`.
    pub async fn post_envelope(
        &self,
        user: &User,
        cid: &str,
        envelope: &[u8],
    ) -> Result<StatusRecord, NodeError> {
        crate::taxii::post_envelope(self, user, cid, envelope).await
    }

    /// Verifies a user's password (argon2, as TAXII Basic); every failure looks the same.
    pub async fn verify_password(&self, name: &str, password: &str) -> Result<User, NodeError> {
        crate::auth::verify_password(self.store.as_ref(), name, password).await
    }

    /// The user named `name`, as stored now (a session checks it again from time to time).
    pub async fn user(&self, name: &str) -> Result<Option<User>, NodeError> {
        Ok(self.store.user(name).await?)
    }
}

fn parse(stored: &StoredObject, text: &str) -> Result<Value, NodeError> {
    serde_json::from_str(text).map_err(|e| internal(stored, e))
}

fn internal(stored: &StoredObject, e: serde_json::Error) -> NodeError {
    NodeError::new(
        NodeErrorKind::Internal,
        format!(
            "stored object {} (seq {}) is not JSON: {e}",
            stored.id, stored.seq
        ),
    )
}

/// An object without its markings: what remains equal between a copy and its stored version
/// when nothing was cut.
fn without_markings(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("object_marking_refs");
        map.remove("granular_markings");
    }
    v
}

/// What a list shows as an object's name: its `name`, else what best stands for it (at most
/// 120 characters).
pub fn display_name(copy: &Value) -> String {
    let s = |k: &str| copy.get(k).and_then(Value::as_str);
    let text = s("name")
        .or_else(|| s("abstract"))
        .or_else(|| s("value"))
        .or_else(|| s("pattern"))
        .or_else(|| s("content"))
        .or_else(|| s("relationship_type"))
        .or_else(|| s("id"))
        .unwrap_or("(unnamed)");
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// A reader's view (an index of what it was released), built or refreshed by one request at a
/// time: requests alike wait on the slot's lock rather than repeat the work.
pub type ViewSlot<V> = std::sync::Arc<tokio::sync::Mutex<Option<std::sync::Arc<V>>>>;

/// The views of the readers met recently, at most `capacity`: past it, the least recently used
/// is dropped.
pub struct ViewSlots<K, V> {
    slots: std::sync::Mutex<std::collections::HashMap<K, (ViewSlot<V>, u64)>>,
    uses: std::sync::atomic::AtomicU64,
    capacity: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V> ViewSlots<K, V> {
    pub fn new(capacity: usize) -> ViewSlots<K, V> {
        ViewSlots {
            slots: std::sync::Mutex::default(),
            uses: std::sync::atomic::AtomicU64::new(0),
            capacity,
        }
    }

    /// The slot of `key`'s view (empty when new).
    pub fn slot(&self, key: &K) -> ViewSlot<V> {
        let now = self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Ok(mut map) = self.slots.lock() else {
            return std::sync::Arc::default();
        };
        if !map.contains_key(key) && map.len() >= self.capacity {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let entry = map
            .entry(key.clone())
            .or_insert_with(|| (std::sync::Arc::default(), now));
        entry.1 = now;
        entry.0.clone()
    }
}
