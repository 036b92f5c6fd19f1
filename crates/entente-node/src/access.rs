//! What a user may see and post: every read goes through `entente_policy::ReleasePolicy` (the
//! recipient is the user's nation, the originator the nation of the node that published the
//! object) and then through the user's clearance ceiling.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use entente_labels::portion::object_labels;
use entente_labels::{parse_marking, stix, Label};
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_store::{AddRequest, NewObject, Store, StoredObject, User};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::error::NodeError;

/// Labels of marking definitions, by id. Only markings that exist are cached: one that is missing
/// now may be posted later.
#[derive(Default)]
pub struct LabelCache {
    labels: RwLock<HashMap<String, Option<Label>>>,
}

impl LabelCache {
    fn get(&self, id: &str) -> Option<Option<Label>> {
        self.labels.read().ok()?.get(id).cloned()
    }

    /// Whether `id` is a cached marking that carries a label (without cloning the label).
    fn has_label(&self, id: &str) -> bool {
        self.labels
            .read()
            .ok()
            .is_some_and(|m| matches!(m.get(id), Some(Some(_))))
    }

    fn insert(&self, id: String, label: Option<Label>) {
        if let Ok(mut m) = self.labels.write() {
            m.insert(id, label);
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
fn marking_ref_strs(object: &Value) -> impl Iterator<Item = &str> {
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

/// The release policy of a node and its label cache.
pub struct Access {
    pub policy: ReleasePolicy,
    pub cache: LabelCache,
    /// The label of objects that arrive without one, when the node has one.
    pub default_label: Option<Label>,
    /// Marking-definition ids known to be stored, by collection.
    published: RwLock<HashMap<String, HashSet<String>>>,
}

/// A released copy and the label marking definitions it refers to.
pub struct Released {
    pub object: Value,
    pub markings: Vec<Arc<Value>>,
}

/// The outcome of the ingest checks on one object's labels.
pub enum IngestLabel {
    /// Acceptable.
    Ok,
    /// Refused, with the message for the status resource.
    Refused(String),
}

impl Access {
    pub fn new(policy: ReleasePolicy, default_label: Option<&str>) -> Result<Access, NodeError> {
        let default_label = match default_label {
            Some(text) => {
                let label = parse_marking(policy.policies(), text)
                    .map_err(|e| NodeError::config(format!("default_label: {e}")))?;
                policy
                    .validate(&label)
                    .map_err(|e| NodeError::config(format!("default_label: {e}")))?;
                Some(label)
            }
            None => None,
        };
        Ok(Access {
            policy,
            cache: LabelCache::default(),
            default_label,
            published: RwLock::default(),
        })
    }

    /// Loads into the cache the markings that `objects` refer to and that are stored.
    pub async fn load_markings<'a>(
        &self,
        store: &dyn Store,
        objects: impl Iterator<Item = &'a Value>,
    ) -> Result<(), NodeError> {
        let mut wanted = HashSet::new();
        for o in objects {
            for id in marking_ref_strs(o) {
                if !self.knows_marking(id) {
                    wanted.insert(id.to_owned());
                }
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

    fn permitted(&self, user: &User, label: &Label, originator: NationCode, day: Date) -> bool {
        self.policy
            .decide(label, originator, user.nation, day)
            .is_permit()
            && self.cleared(user, label)
    }

    /// The copy of a stored object that `user` may see on `day`, or `None`. The markings the
    /// object refers to must have been loaded first ([`Access::load_markings`]).
    pub fn release(
        &self,
        user: &User,
        stored: &StoredObject,
        object: &Value,
        day: Date,
    ) -> Option<Released> {
        let originator = stored.originator;
        let whole = || {
            Some(Released {
                object: object.clone(),
                markings: Vec::new(),
            })
        };
        if stored.kind == "extension-definition" {
            // A schema, not information: every reader of the collection may see it.
            return whole();
        }
        if stored.kind == "marking-definition" {
            return match label_of_marking(&self.policy, object) {
                None => whole(),
                Some(Ok(label)) if self.permitted(user, &label, originator, day) => whole(),
                Some(_) => None,
            };
        }
        let labelled = marking_ref_strs(object).any(|id| self.cache.has_label(id));
        if !labelled {
            // An unlabelled object carries the node's default label, or nobody sees it.
            return match &self.default_label {
                Some(label) if self.permitted(user, label, originator, day) => whole(),
                _ => None,
            };
        }
        let lookup = |id: &str| self.lookup(id);
        let release = self
            .policy
            .release_object(object, &lookup, originator, user.nation, day)
            .ok()?;
        if release.verdict == ReleaseVerdict::Deny {
            return None;
        }
        // The banner is the dominant label of what remains: the clearance must cover it.
        let banner = release.banner.as_ref()?;
        if !self.cleared(user, banner) {
            return None;
        }
        Some(Released {
            object: release.object?,
            markings: release.markings,
        })
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
            let (version, version_key) = match header.version() {
                Some(t) => (t.as_str().to_owned(), t.key()),
                None => (String::new(), String::new()),
            };
            objects.push(NewObject {
                id: header.id,
                kind: header.kind,
                spec_version: header.spec_version,
                version,
                version_key,
                originator,
                json: md.to_string(),
            });
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
        for id in &refs {
            if !envelope.contains_key(id) && !self.knows_marking(id) {
                return IngestLabel::Refused(format!(
                    "marking definition {id} is not known to this node (post it first or in the same envelope)"
                ));
            }
        }
        let lookup = |id: &str| match envelope.get(id) {
            Some(l) => l.clone(),
            None => self.lookup(id),
        };
        // Presence only: no label is cloned to answer it.
        let labelled = refs.iter().any(|id| match envelope.get(id) {
            Some(l) => l.is_some(),
            None => self.cache.has_label(id),
        });
        if !labelled {
            return match &self.default_label {
                Some(l) if self.cleared(user, l) => IngestLabel::Ok,
                Some(_) => IngestLabel::Refused(
                    "the node's default label is above the poster's clearance".into(),
                ),
                None => IngestLabel::Refused(
                    "the object has no confidentiality label (object_marking_refs)".into(),
                ),
            };
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
