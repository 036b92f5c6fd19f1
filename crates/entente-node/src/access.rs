//! What a user may see and post: every read goes through `entente_policy::ReleasePolicy` (the
//! recipient is the user's nation, the originator the nation of the node that published the
//! object) and then through the user's clearance ceiling.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, RwLock};

use entente_labels::portion::object_labels;
use entente_labels::{parse_marking, stix, Label};
use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_store::{AddRequest, NewObject, Store, StoredObject, User};
use entente_types::{Date, NationCode};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// What the release of a stored object needs to read of it when it has no granular marking: its
/// object markings, read in place from the stored text (no JSON value is built).
///
/// `None` (read the whole object instead) for an object with `granular_markings` (portions to
/// decide), with a top-level empty list (the release refuses a required one), with a key twice,
/// or whose `object_marking_refs` is not a list of strings: the full release path handles each of
/// these exactly as before.
pub fn object_markings_only(json: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let view = (&mut de).deserialize_map(TopLevelVisitor).ok()?;
    de.end().ok()?;
    (!view.read_whole).then_some(view.refs)
}

/// The top level of an object as [`object_markings_only`] reads it.
struct TopLevel<'a> {
    refs: Vec<Cow<'a, str>>,
    /// Something the full release path must see.
    read_whole: bool,
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<TopLevel<'de>, M::Error> {
        let mut view = TopLevel {
            refs: Vec::new(),
            read_whole: false,
        };
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        while let Some(InPlace(key)) = map.next_key::<InPlace<'de>>()? {
            if keys.contains(&key) {
                view.read_whole = true;
            }
            match key.as_ref() {
                "object_marking_refs" => {
                    view.refs = map
                        .next_value::<Vec<InPlace<'de>>>()?
                        .into_iter()
                        .map(|s| s.0)
                        .collect();
                }
                "granular_markings" => {
                    view.read_whole = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    if map.next_value::<EmptyList>()?.0 {
                        view.read_whole = true;
                    }
                }
            }
            keys.push(key);
        }
        Ok(view)
    }
}

/// A string borrowed from the stored text when it has no escape, else unescaped into a copy.
struct InPlace<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for InPlace<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<InPlace<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InPlace<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<InPlace<'de>, E> {
                Ok(InPlace(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<InPlace<'de>, E> {
                Ok(InPlace(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Whether a value is an empty list (anything else is skipped unread).
struct EmptyList(bool);

impl<'de> de::Deserialize<'de> for EmptyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EmptyList, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EmptyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EmptyList, A::Error> {
                let mut empty = true;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    empty = false;
                }
                Ok(EmptyList(empty))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EmptyList, A::Error> {
                IgnoredAny.visit_map(map).map(|_| EmptyList(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
            fn visit_unit<E>(self) -> Result<EmptyList, E> {
                Ok(EmptyList(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// How every object with a given list of object markings and no granular marking is released to
/// one reader on one day (from `ReleasePolicy::release_by_object_markings` and the clearance).
#[derive(Clone)]
pub enum ByMarkings {
    /// Released as stored, byte for byte; the label marking definitions the copy refers to.
    Unchanged(Arc<[Arc<Value>]>),
    /// Not released.
    Withheld,
    /// Released with its markings rewritten: each object goes through [`Access::release`].
    Rewritten,
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

    /// How objects of kinds other than marking and extension definitions, with no granular
    /// marking and the object markings `refs`, are released to `user` on `day`: the same
    /// decisions as [`Access::release`] takes for each of them (the property test
    /// `fast_and_full_release_agree` holds the two equal), taken once for them all.
    pub fn release_by_markings(
        &self,
        user: &User,
        originator: NationCode,
        refs: &[Cow<'_, str>],
        day: Date,
    ) -> ByMarkings {
        if !refs.iter().any(|id| self.cache.has_label(id)) {
            // An unlabelled object carries the node's default label, or nobody sees it.
            return match &self.default_label {
                Some(label) if self.permitted(user, label, originator, day) => {
                    ByMarkings::Unchanged(Arc::new([]))
                }
                _ => ByMarkings::Withheld,
            };
        }
        let refs: Vec<&str> = refs.iter().map(AsRef::as_ref).collect();
        let lookup = |id: &str| self.lookup(id);
        let Ok((release, unchanged)) =
            self.policy
                .release_by_object_markings(&refs, &lookup, originator, user.nation, day)
        else {
            return ByMarkings::Withheld;
        };
        if release.verdict == ReleaseVerdict::Deny {
            return ByMarkings::Withheld;
        }
        // The banner is the dominant label of what remains: the clearance must cover it.
        match &release.banner {
            Some(banner) if self.cleared(user, banner) => {}
            _ => return ByMarkings::Withheld,
        }
        if unchanged {
            ByMarkings::Unchanged(release.markings.into())
        } else {
            ByMarkings::Rewritten
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::OnceLock;

    use entente_labels::PolicySet;
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The fast path (one decision per list of object markings, the stored text served as
        /// is) serves exactly what the full release path serves: the same objects, byte for
        /// byte, and the same marking definitions to publish.
        #[test]
        fn fast_and_full_release_agree(
            labels in prop::collection::vec((0usize..SETS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len(), any::<bool>()), 0..3),
            tlp_at in prop::option::of(0usize..3),
            portion in prop::option::of((0usize..SETS.len(), 0usize..LEVELS.len())),
            empty_refs in any::<bool>(),
            with_default in any::<bool>(),
            reader in (0usize..NATIONS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len()),
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
                "object_refs": if empty_refs { json!([]) } else { json!(["indicator--1b2c3d4e-0000-4000-8000-000000000001"]) },
                "object_marking_refs": refs,
            });
            if let Some((set, level)) = portion {
                let id = mark(access, &format!("{}//REL TO {}", LEVELS[level], SETS[set]), true, 0);
                object["granular_markings"] = json!([{"marking_ref": id, "selectors": ["description"]}]);
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
            let stored = stored("report", &object);
            let full = access.release(&user, &stored, &object, day);
            let Some(refs) = object_markings_only(&stored.json) else {
                // Portions, or an empty list: only the full path serves it.
                prop_assert!(portion.is_some() || empty_refs);
                return Ok(());
            };
            prop_assert!(portion.is_none() && !empty_refs);
            match access.release_by_markings(&user, stored.originator, &refs, day) {
                ByMarkings::Unchanged(markings) => {
                    let full = full.expect("the full path withholds what the fast path serves");
                    prop_assert_eq!(serde_json::to_string(&full.object).unwrap(), stored.json);
                    let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
                    prop_assert_eq!(ids(&markings), ids(&full.markings));
                }
                ByMarkings::Withheld => prop_assert!(full.is_none(), "the fast path withholds a released object"),
                ByMarkings::Rewritten => {
                    let full = full.expect("rewritten, yet withheld by the full path");
                    prop_assert_ne!(serde_json::to_string(&full.object).unwrap(), stored.json);
                }
            }
        }
    }

    #[test]
    fn only_objects_without_portions_or_empty_lists_are_read_in_place() {
        let refs = object_markings_only(
            r#"{"type":"indicator","object_marking_refs":["a","b\u0041"],"x":{"y":[]}}"#,
        );
        assert_eq!(refs, Some(vec![Cow::from("a"), Cow::from("bA")]));
        assert_eq!(
            object_markings_only(r#"{"type":"indicator"}"#),
            Some(Vec::new())
        );
        for json in [
            r#"{"object_marking_refs":["a"],"granular_markings":[]}"#,
            r#"{"object_marking_refs":["a"],"object_refs":[]}"#,
            r#"{"object_marking_refs":["a"],"object_marking_refs":["b"]}"#,
            r#"{"object_marking_refs":null}"#,
            r#"{"object_marking_refs":[1]}"#,
            r#"["not an object"]"#,
            r#"{"object_marking_refs":["a"]} trailing"#,
        ] {
            assert_eq!(object_markings_only(json), None, "{json}");
        }
    }
}
