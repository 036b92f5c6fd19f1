//! What the store holds.

use entente_types::NationCode;
use serde::{Deserialize, Serialize};

/// An object version to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub id: String,
    pub kind: String,
    pub spec_version: String,
    /// The version as written in the object (`modified`, else `created`); empty for objects that
    /// have neither, whose version is their `date_added`.
    pub version: String,
    /// A fixed-width text whose order is the order of versions (empty when `version` is).
    pub version_key: String,
    /// The nation of the node that published the object.
    pub originator: NationCode,
    /// The object, serialized.
    pub json: String,
}

/// A stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub seq: i64,
    /// Microseconds since the epoch; strictly increasing with `seq`.
    pub added_us: i64,
    pub id: String,
    pub kind: String,
    pub spec_version: String,
    pub version: String,
    pub version_key: String,
    pub originator: NationCode,
    pub json: String,
}

impl StoredObject {
    /// `date_added` in TAXII form.
    pub fn date_added(&self) -> String {
        format_added(self.added_us)
    }

    /// The TAXII version: as written in the object, or the `date_added` of objects without one.
    pub fn taxii_version(&self) -> String {
        if self.version.is_empty() {
            self.date_added()
        } else {
            self.version.clone()
        }
    }
}

/// A `date_added` in microseconds as an RFC 3339 UTC timestamp with six fractional digits.
pub fn format_added(us: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(us) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => String::from("1970-01-01T00:00:00.000000Z"),
    }
}

/// Which versions of each object a query returns (TAXII `match[version]`); several may be set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    pub first: bool,
    pub last: bool,
    pub all: bool,
    /// Exact versions, as version keys.
    pub keys: Vec<String>,
}

impl VersionFilter {
    /// TAXII's default: the latest version of each object.
    pub fn last() -> VersionFilter {
        VersionFilter {
            last: true,
            ..VersionFilter::default()
        }
    }

    pub fn all() -> VersionFilter {
        VersionFilter {
            all: true,
            ..VersionFilter::default()
        }
    }
}

/// A query on a collection's objects. Empty lists do not filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// Only versions with a greater `seq` (the `next` cursor).
    pub after_seq: i64,
    /// Only versions added strictly after this instant (microseconds).
    pub added_after_us: Option<i64>,
    pub ids: Vec<String>,
    pub kinds: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: VersionFilter,
    pub limit: usize,
}

impl Default for ObjectQuery {
    fn default() -> ObjectQuery {
        ObjectQuery {
            after_seq: 0,
            added_after_us: None,
            ids: Vec::new(),
            kinds: Vec::new(),
            spec_versions: Vec::new(),
            versions: VersionFilter::last(),
            limit: 100,
        }
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub objects: Vec<StoredObject>,
    /// Whether versions matching the query remain after this page.
    pub more: bool,
}

/// A request to add objects: the valid objects to store and the failures found before storing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddRequest {
    /// The id of the status resource to create.
    pub status_id: String,
    /// The user who posted, the only one who may read the status.
    pub owner: String,
    pub collection: String,
    /// Microseconds since the epoch: the request time, and the floor of the `date_added`s.
    pub now_us: i64,
    pub objects: Vec<NewObject>,
    pub failures: Vec<StatusDetail>,
    /// Objects accepted but held back until the marking definitions they refer to are known;
    /// nobody reads them before ([`Store::pending_objects`]).
    pub pending: Vec<PendingObject>,
    /// Pending objects (of earlier requests) this request settles: each leaves the pending ones,
    /// and its outcome joins the status of the request that posted it.
    pub settles: Vec<Settled>,
    /// A message for the status entry of a stored object, by id (values on a warning list).
    pub notes: std::collections::HashMap<String, String>,
}

/// An object accepted by a request but held back: one of the marking definitions it refers to
/// is not known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingObject {
    pub id: String,
    pub version: String,
    pub version_key: String,
    /// The marking definitions it waits for.
    pub waiting: Vec<String>,
    /// The object as posted.
    pub json: String,
}

impl PendingObject {
    /// Its entry in the `pendings` of a status: what it waits for.
    pub fn status_detail(&self) -> StatusDetail {
        PendingObject::detail(self.id.clone(), self.version.clone(), &self.waiting)
    }

    pub(crate) fn detail(id: String, version: String, waiting: &[String]) -> StatusDetail {
        StatusDetail {
            id,
            version,
            message: Some(format!(
                "held back until marking definition {} is known to this node",
                waiting.join(", ")
            )),
        }
    }
}

impl StatusRecord {
    /// Adds the outcome of a pending object settled since (`failure` is `None` when stored).
    pub(crate) fn settle(&mut self, (id, version, failure): (String, String, Option<String>)) {
        let detail = StatusDetail {
            id,
            version,
            message: failure.clone(),
        };
        match failure {
            None => self.successes.push(detail),
            Some(_) => self.failures.push(detail),
        }
    }
}

/// A held-back object as stored, with the request that posted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    pub collection: String,
    pub status_id: String,
    pub owner: String,
    pub object: PendingObject,
}

/// The outcome of a pending object: stored (in the same request, `failure` is `None`) or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub status_id: String,
    pub id: String,
    pub version: String,
    pub version_key: String,
    pub failure: Option<String>,
}

/// One object's outcome in a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    pub id: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A status resource as stored: what its request stored and refused, what it holds back until
/// their marking definitions are known (`pendings`), and how those held back were settled since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    pub id: String,
    pub owner: String,
    pub collection: String,
    pub request_us: i64,
    pub successes: Vec<StatusDetail>,
    pub failures: Vec<StatusDetail>,
    pub pendings: Vec<StatusDetail>,
}

/// A collection's description (rights are per user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionInfo {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// What a user may do in one collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRight {
    pub collection: String,
    pub read: bool,
    pub write: bool,
}

/// A user of the node: a nation, a clearance and collection rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub nation: NationCode,
    /// The clearance: a policy id and the highest classification of that policy the user may see.
    pub clearance_policy: String,
    pub clearance_level: String,
    /// The caveats ("Additional Sensitivity" values) the user is cleared for.
    pub clearance_caveats: Vec<String>,
    /// A PHC-format password hash (argon2), when the user may log in with a password.
    pub password_hash: Option<String>,
    pub rights: Vec<CollectionRight>,
}

/// A user as an administrator sees it: no password hash.
impl Serialize for User {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "name": self.name,
            "nation": self.nation,
            "clearance": {"policy": self.clearance_policy, "level": self.clearance_level, "caveats": self.clearance_caveats},
            "rights": self.rights,
        })
        .serialize(s)
    }
}

impl CollectionRight {
    /// One right per collection: read for each of `read`, read and write for each of `write`.
    pub fn merged(read: &[String], write: &[String]) -> Vec<CollectionRight> {
        let mut rights: Vec<CollectionRight> = Vec::new();
        let all = read.iter().map(|c| (c, false));
        for (c, w) in all.chain(write.iter().map(|c| (c, true))) {
            match rights.iter_mut().find(|r| &r.collection == c) {
                Some(r) => r.write |= w,
                None => rights.push(CollectionRight {
                    collection: c.clone(),
                    read: true,
                    write: w,
                }),
            }
        }
        rights
    }
}

impl User {
    /// The user's right on `collection`: the right named for it, else the right on a pattern
    /// that ends in `*` and matches its start (`crisis-*` is every crisis room's).
    pub fn right(&self, collection: &str) -> Option<&CollectionRight> {
        self.rights
            .iter()
            .find(|r| r.collection == collection)
            .or_else(|| {
                self.rights.iter().find(|r| {
                    r.collection
                        .strip_suffix('*')
                        .is_some_and(|prefix| collection.starts_with(prefix))
                })
            })
    }

    /// The user may read `collection` (a right to write implies it: [`CollectionRight::merged`]).
    pub fn may_read(&self, collection: &str) -> bool {
        self.right(collection).is_some_and(|r| r.read)
    }
}

/// One entry of the change stream: a stored version, or the tombstone of a deleted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub collection: String,
    pub deleted: bool,
    pub object: StoredObject,
}

/// A version received from a partner node, with the origin's binding (none for the marking
/// definitions that travel with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedObject {
    pub object: NewObject,
    pub sender: NationCode,
    /// The origin's binding, as JSON.
    pub binding: Option<String>,
    /// The caller found this copy fuller than the live one held for the same version (a relay's
    /// tear-lined copy arrived before the origin's own): it replaces that copy and its binding
    /// in place, under a new `seq`. A recalled version is never replaced.
    pub supersedes: bool,
    /// An audit event (JSON) to keep as an intent, in the same transaction, when this version is
    /// stored now (or replaces the held copy): what records its receipt cannot be lost to a
    /// crash after the commit.
    pub intent: Option<String>,
}

/// An audit event committed with what it records and not yet known to be in the audit log.
/// `seq` is its position: increasing in commit order, never given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditIntent {
    pub seq: i64,
    pub event: String,
}

/// What a node keeps of a received version's provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    pub origin: NationCode,
    pub sender: NationCode,
    pub binding: String,
    /// The origin's recall, when the version was withdrawn.
    pub recall: Option<String>,
}

/// A durable position in the change stream, with the fingerprint of the rules it was reached
/// under (a new fingerprint means the stream must be walked again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub seq: i64,
    pub fingerprint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_merge_per_collection_and_write_implies_read() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rights = CollectionRight::merged(&names(&["intel", "ops"]), &names(&["ops", "logs"]));
        let shown: Vec<_> = rights
            .iter()
            .map(|r| (r.collection.as_str(), r.read, r.write))
            .collect();
        assert_eq!(
            shown,
            [
                ("intel", true, false),
                ("ops", true, true),
                ("logs", true, true)
            ]
        );
    }
}
