//! Labels: the label cache (the label of every stored marking definition the node has met), the
//! label a marking definition carries, the marking ids an object refers to, and the ingest checks
//! on a posted object's labels.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use entente_labels::portion::object_labels;
use entente_labels::{stix, Label};
use entente_policy::{AtIngest, ReleasePolicy};
use entente_store::Store;
use serde_json::Value;

use super::{Access, Reader};
use crate::error::NodeError;

/// Labels of marking definitions, by id. Only markings that exist are cached: one that is missing
/// now may be posted later.
#[derive(Default)]
pub struct LabelCache {
    labels: RwLock<HashMap<String, Option<Label>>>,
    /// Inserts so far: a decision taken on the labels cached is good while this is unchanged.
    generation: AtomicU64,
}

impl LabelCache {
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(super) fn get(&self, id: &str) -> Option<Option<Label>> {
        self.labels.read().ok()?.get(id).cloned()
    }

    pub(super) fn insert(&self, id: String, label: Option<Label>) {
        if let Ok(mut m) = self.labels.write() {
            m.insert(id, label);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
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

/// Why a marking definition that carries a label yields none.
#[derive(Debug, thiserror::Error)]
pub enum MarkingLabelError {
    /// The label extension does not read.
    #[error(transparent)]
    Unreadable(#[from] entente_labels::LabelError),
    /// The label reads but the node's policies refuse it.
    #[error(transparent)]
    Invalid(#[from] entente_policy::UnknownReleaseToken),
}

/// The label a marking definition carries, or `None` for other markings (TLP, statements).
pub fn label_of_marking(
    policy: &ReleasePolicy,
    marking: &Value,
) -> Option<Result<Label, MarkingLabelError>> {
    if !stix::is_label_marking(marking) {
        return None;
    }
    Some(
        stix::from_marking_definition(policy.policies(), marking)
            .map_err(MarkingLabelError::from)
            .and_then(|l| {
                policy
                    .check_release_tokens(&l)
                    .map(|()| l)
                    .map_err(MarkingLabelError::Invalid)
            }),
    )
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

/// The crisis room an object is posted in, by this node's nation, on a day.
pub struct RoomIngest<'a> {
    pub room: &'a crate::crisis::NodeRoom,
    pub originator: entente_types::NationCode,
    pub day: entente_types::Date,
}

impl Access {
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

    pub(super) fn lookup(&self, id: &str) -> Option<Label> {
        self.cache.get(id).flatten()
    }

    /// The ingest checks on an object's labels, for `poster`: markings that exist, labels
    /// that parse and are valid, within the poster's clearance. `envelope` holds the labels of
    /// marking definitions posted in the same request. In a crisis room (`room`), the room's
    /// label stands for the node's default, and a label that would release the object to a
    /// nation outside the room is refused.
    pub fn check_ingest(
        &self,
        poster: &Reader,
        object: &Value,
        envelope: &HashMap<String, Option<Label>>,
        room: Option<&RoomIngest<'_>>,
    ) -> IngestLabel {
        // Each id once, sorted (`referenced_markings`), so the list waited for reads the same
        // every time.
        let unknown: Vec<String> = entente_seal::binding::referenced_markings(object)
            .into_iter()
            .filter(|id| !envelope.contains_key(id) && !self.knows_marking(id))
            .collect();
        if !unknown.is_empty() {
            // Nothing of it can be decided yet: a granular marking not known would leave its
            // portion under the object's label.
            return IngestLabel::Pending(unknown);
        }
        let lookup = |id: &str| match envelope.get(id) {
            Some(l) => l.clone(),
            None => self.lookup(id),
        };
        let default = match room {
            Some(r) => Some(&r.room.label),
            None => self.policy.default_label(),
        };
        let at_ingest = self.policy.label_at_ingest_under(object, &lookup, default);
        match at_ingest {
            Ok(AtIngest::Labelled) => {}
            Ok(AtIngest::Default(marking)) => {
                return match default {
                    Some(l) if self.cleared(poster, l) => IngestLabel::Default(marking),
                    _ => IngestLabel::Refused(
                        if room.is_some() {
                            "the crisis room's label is above the poster's clearance"
                        } else {
                            "the node's default label is above the poster's clearance"
                        }
                        .into(),
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
            if let Err(e) = self.policy.check_release_tokens(label) {
                return IngestLabel::Refused(format!("label: {e}"));
            }
        }
        if let Some(r) = room {
            let boundary = entente_crisis::Boundary {
                policy: &self.policy,
                room_label: &r.room.label,
                originator: r.originator,
            };
            if let Err(outside) = boundary.admits(&labels.object, r.day) {
                return IngestLabel::Refused(outside.to_string());
            }
        }
        match labels.banner() {
            Ok(banner) if self.cleared(poster, &banner) => IngestLabel::Ok,
            Ok(_) => {
                IngestLabel::Refused("the object's label is above the poster's clearance".into())
            }
            Err(e) => IngestLabel::Refused(format!("label: {e}")),
        }
    }
}
