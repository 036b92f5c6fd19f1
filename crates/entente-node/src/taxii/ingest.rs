//! What `POST …/objects/` does with an envelope before it is stored: the body read within
//! `max_content_length`, the objects validated, their labels checked (markings known, labels
//! valid, within the poster's clearance, the default label written in), and the objects held
//! back until their marking definitions are known settled once they are.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use entente_labels::Label;
use entente_policy::KindRule;
use entente_stix::validate_object;
use entente_store::{AddRequest, NewObject, PendingObject, Settled, StatusDetail, User};
use entente_types::NationCode;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{bad, error};
use crate::access::{label_of_marking, IngestLabel, Reader, RoomIngest};
use crate::clock;
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::spread::{on_all_cores, on_cores, Grain};
use crate::Node;

/// Reads a body of at most `limit` bytes.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> Result<Bytes, NodeError> {
    let too_large = || {
        error(
            NodeErrorKind::TooLarge,
            format!("the body exceeds max_content_length ({limit} bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| too_large())
}

pub(super) fn failure(object: &Value, message: String) -> StatusDetail {
    let text = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let version = match text("modified") {
        m if !m.is_empty() => m,
        _ => text("created"),
    };
    StatusDetail {
        id: text("id"),
        version,
        message: Some(message),
    }
}

/// An object of a posted envelope after validation: the parsed object, its header and its text
/// for storage, or the failure to report.
pub(super) enum Validated {
    Valid(Value, entente_stix::ObjectHeader, String),
    Invalid(StatusDetail),
}

/// The object markings of an object whose labels come from them alone (no granular markings):
/// the list of `object_marking_refs` (empty when absent); `None` for any other object.
pub(super) fn object_marking_list(o: &Value) -> Option<Vec<String>> {
    let obj = o.as_object()?;
    if obj.contains_key("granular_markings") {
        return None;
    }
    match obj.get("object_marking_refs") {
        None => Some(Vec::new()),
        Some(Value::Array(refs)) => refs.iter().map(|r| r.as_str().map(str::to_owned)).collect(),
        Some(_) => None,
    }
}

/// The objects of a TAXII envelope, each as its text in the body (an envelope is a JSON object
/// with an "objects" list; the last of repeated keys counts, as with any JSON object here).
pub(super) fn envelope_objects(
    bytes: &[u8],
) -> Result<Vec<&serde_json::value::RawValue>, NodeError> {
    use serde_json::error::Category;
    use serde_json::value::RawValue;
    let not_envelope = || {
        error(
            NodeErrorKind::Unprocessable,
            "expected a TAXII envelope: an object with an \"objects\" list",
        )
    };
    let malformed = |e: serde_json::Error| {
        bad(format!(
            "malformed JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    };
    // Checked as JSON first, so that a syntax error is reported as such wherever it is.
    let top: HashMap<String, &RawValue> = match serde_json::from_slice(bytes) {
        Ok(top) => top,
        Err(e) if e.classify() == Category::Data => {
            serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(malformed)?;
            return Err(not_envelope());
        }
        Err(e) => return Err(malformed(e)),
    };
    let objects: &RawValue = top.get("objects").copied().ok_or_else(not_envelope)?;
    serde_json::from_str(objects.get()).map_err(|_| not_envelope())
}

/// The objects of a posted envelope after the checks: to store, refused, held back; and the
/// default label's marking definition when it was written into some.
pub(super) struct Sorted {
    pub(super) new_objects: Vec<NewObject>,
    pub(super) failures: Vec<StatusDetail>,
    pub(super) pending: Vec<PendingObject>,
    pub(super) default_marking: Option<Arc<Value>>,
}

/// Where a posted envelope goes: a crisis room's collection (`room`), and whether a room's
/// descriptor may be in it (only when the node writes it, opening or closing the room).
pub(super) struct Target {
    pub(super) room: Option<Arc<crate::crisis::NodeRoom>>,
    pub(super) descriptor: bool,
}

/// Validates the objects of a posted envelope and checks their labels for `poster`.
pub(super) async fn sort_envelope(
    node: &Node,
    poster: &Reader,
    raw_objects: Vec<&RawValue>,
    target: &Target,
) -> Result<Sorted, NodeError> {
    // Each object parsed, validated and serialized for storage on every core: a large envelope
    // is milliseconds of CPU work, and the store's writer waits for it.
    let validated = on_all_cores(
        Grain::Fine,
        raw_objects,
        |raw| -> Result<Validated, NodeError> {
            let o: Value = serde_json::from_str(raw.get())
                .map_err(|e| bad(format!("malformed JSON in an object of the envelope: {e}")))?;
            Ok(match validate_object(&o) {
                Ok(header) => {
                    // The stored text, as it has always been: the object's compact serialization.
                    let json = serde_json::to_string(&o)
                        .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
                    Validated::Valid(o, header, json)
                }
                Err(e) => {
                    let message = e
                        .problems()
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    Validated::Invalid(failure(&o, message))
                }
            })
        },
    )
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;

    // Marking definitions of this envelope first, so that objects may refer to them.
    let mut envelope_labels: HashMap<String, Option<Label>> = HashMap::new();
    let mut checked = Vec::with_capacity(validated.len());
    for item in validated {
        let (o, header, json) = match item {
            Validated::Valid(o, header, json) => (o, header, json),
            Validated::Invalid(f) => {
                checked.push(Err(f));
                continue;
            }
        };
        if header.kind == entente_crisis::ROOM_TYPE && !target.descriptor {
            checked.push(Err(failure(
                &o,
                "a crisis room's descriptor is written by the node: open or close rooms through /api/crisis/rooms".into(),
            )));
            continue;
        }
        if header.kind == "marking-definition" {
            match label_of_marking(&node.access.policy, &o) {
                Some(Err(e)) => {
                    checked.push(Err(failure(&o, format!("label: {e}"))));
                    continue;
                }
                Some(Ok(label)) => {
                    if !node.access.cleared(poster, &label) {
                        checked.push(Err(failure(
                            &o,
                            "the label is above the poster's clearance".into(),
                        )));
                        continue;
                    }
                    envelope_labels.insert(header.id.clone(), Some(label));
                }
                None => {
                    envelope_labels.insert(header.id.clone(), None);
                }
            }
        }
        checked.push(Ok((o, header, json)));
    }
    node.access
        .load_markings(
            node.store.as_ref(),
            checked
                .iter()
                .filter_map(|c| c.as_ref().ok().map(|(o, _, _)| o)),
        )
        .await?;
    // The label checks, on every core too (the objects are dropped there as well).
    let nation = node.config.nation;
    let (access, envelope_labels) = (&node.access, &envelope_labels);
    let room = target.room.as_deref().map(|room| RoomIngest {
        room,
        originator: nation,
        day: clock::today(),
    });
    let room = room.as_ref();
    // Objects labelled by their object markings alone get the same outcome for the same list:
    // each share of the work keeps the outcomes it has decided (for this request only, as the
    // labels known here stay fixed during it).
    let decided = on_cores(
        true,
        Grain::Fine,
        checked,
        HashMap::<Vec<String>, IngestLabel>::new,
        |memo, item| -> Result<Checked, StatusDetail> {
            let (o, header, json) = item?;
            if !KindRule::of(&header.kind).is_federated() {
                return Ok(Checked::Store(
                    crate::new_object(header, nation, json),
                    None,
                ));
            }
            let check = || access.check_ingest(poster, &o, envelope_labels, room);
            let outcome = match object_marking_list(&o) {
                Some(refs) => match memo.get(&refs) {
                    Some(outcome) => outcome.clone(),
                    None => {
                        let outcome = check();
                        memo.insert(refs, outcome.clone());
                        outcome
                    }
                },
                None => check(),
            };
            labelled(o, header, json, outcome, nation)
        },
    );
    let mut new_objects = Vec::with_capacity(decided.len());
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    let mut default_marking = None;
    for d in decided {
        match d {
            Ok(Checked::Store(n, marking)) => {
                default_marking = default_marking.or(marking);
                new_objects.push(n);
            }
            Ok(Checked::Hold(p)) => pending.push(p),
            Err(f) => failures.push(f),
        }
    }
    Ok(Sorted {
        new_objects,
        failures,
        pending,
        default_marking,
    })
}

/// What ingest does with one object that passed validation.
pub(super) enum Checked {
    /// Stored now; with the default label's marking definition when it was written in.
    Store(NewObject, Option<Arc<Value>>),
    /// Held back until the marking definitions it refers to are known.
    Hold(PendingObject),
}

/// The object to store (or hold back) after the label checks' `outcome`.
pub(super) fn labelled(
    mut o: Value,
    header: entente_stix::ObjectHeader,
    mut json: String,
    outcome: IngestLabel,
    nation: NationCode,
) -> Result<Checked, StatusDetail> {
    let default = match outcome {
        IngestLabel::Ok => None,
        IngestLabel::Refused(message) => return Err(failure(&o, message)),
        IngestLabel::Pending(waiting) => {
            let n = crate::new_object(header, nation, json);
            return Ok(Checked::Hold(PendingObject {
                id: n.id,
                version: n.version,
                version_key: n.version_key,
                waiting,
                json: n.json,
            }));
        }
        IngestLabel::Default(marking) => {
            // The stored object carries the label it is served and federated under.
            add_object_marking(&mut o, &marking).map_err(|e| failure(&o, e.to_string()))?;
            json = serde_json::to_string(&o).map_err(|e| failure(&o, e.to_string()))?;
            Some(marking)
        }
    };
    Ok(Checked::Store(
        crate::new_object(header, nation, json),
        default,
    ))
}

/// Stores the objects of collection `cid` held back until marking definitions were known, now
/// that they are: each goes through the label checks it would have met had its markings been
/// known when it was posted (as its poster), and its outcome joins its request's status.
pub(super) async fn settle_pending(node: &Node, cid: &str) -> Result<(), NodeError> {
    let rows = node.store.pending_objects(cid).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let store = node.store.as_ref();
    node.access
        .load_marking_ids(
            store,
            rows.iter()
                .flat_map(|r| r.object.waiting.iter().map(String::as_str)),
        )
        .await?;
    let nation = node.config.nation;
    let held_room = node.room(cid);
    let room = held_room.as_deref().map(|room| RoomIngest {
        room,
        originator: nation,
        day: clock::today(),
    });
    let mut objects = Vec::new();
    let mut settles = Vec::new();
    let mut default_marking = None;
    let mut posters: HashMap<String, Option<User>> = HashMap::new();
    for row in rows {
        if !row
            .object
            .waiting
            .iter()
            .all(|id| node.access.knows_marking(id))
        {
            continue;
        }
        let settled = |failure: Option<String>| Settled {
            status_id: row.status_id.clone(),
            id: row.object.id.clone(),
            version: row.object.version.clone(),
            version_key: row.object.version_key.clone(),
            failure,
        };
        if !posters.contains_key(&row.owner) {
            let user = node.store.user(&row.owner).await?;
            posters.insert(row.owner.clone(), user);
        }
        let Some(Some(poster)) = posters.get(&row.owner) else {
            settles.push(settled(Some(format!(
                "its poster {} is no longer a user of this node",
                row.owner
            ))));
            continue;
        };
        let parsed = serde_json::from_str::<Value>(&row.object.json)
            .map_err(|e| e.to_string())
            .and_then(|o| {
                validate_object(&o)
                    .map(|header| (o, header))
                    .map_err(|e| e.to_string())
            });
        let (o, header) = match parsed {
            Ok(p) => p,
            Err(e) => {
                settles.push(settled(Some(e)));
                continue;
            }
        };
        node.access
            .load_markings(store, std::iter::once(&o))
            .await?;
        let outcome =
            node.access
                .check_ingest(&Reader::of(poster), &o, &HashMap::new(), room.as_ref());
        match labelled(o, header, row.object.json.clone(), outcome, nation) {
            Ok(Checked::Store(n, marking)) => {
                default_marking = default_marking.or(marking);
                objects.push(n);
                settles.push(settled(None));
            }
            // Still waiting: another of its markings is unknown.
            Ok(Checked::Hold(_)) => {}
            Err(f) => settles.push(settled(f.message)),
        }
    }
    if settles.is_empty() {
        return Ok(());
    }
    if let Some(marking) = default_marking {
        node.access
            .publish(store, cid, vec![marking], nation, clock::now_us())
            .await?;
    }
    let (added, refused) = (
        objects.len(),
        settles.iter().filter(|s| s.failure.is_some()).count(),
    );
    let result = store
        .add_objects(AddRequest {
            status_id: uuid::Uuid::new_v4().to_string(),
            // No user has an empty name: nobody reads this status; the posters read theirs.
            owner: String::new(),
            collection: cid.to_owned(),
            now_us: clock::now_us(),
            objects,
            failures: Vec::new(),
            pending: Vec::new(),
            settles,
            notes: Default::default(),
        })
        .await;
    node.notify_changed();
    result?;
    Metrics::add(&node.metrics.objects_added, added as u64);
    Metrics::add(&node.metrics.objects_refused, refused as u64);
    tracing::info!(collection = %cid, added, refused, "held-back objects settled");
    Ok(())
}

/// Why the default label could not be written into an object.
#[derive(Debug, thiserror::Error)]
pub(super) enum DefaultLabelError {
    #[error("the default label's marking definition has no id")]
    NoId,
    #[error("the object is not a JSON object")]
    NotAnObject,
    #[error("object_marking_refs: expected a list")]
    RefsNotAList,
}

/// Adds `marking` (a marking definition) to the object markings of `object`.
pub(super) fn add_object_marking(
    object: &mut Value,
    marking: &Value,
) -> Result<(), DefaultLabelError> {
    let id = marking.get("id").cloned().ok_or(DefaultLabelError::NoId)?;
    let map = object
        .as_object_mut()
        .ok_or(DefaultLabelError::NotAnObject)?;
    match map
        .entry("object_marking_refs")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(refs) => {
            // First, where a release writes an object's banner: the copy served is the stored one.
            refs.insert(0, id);
            Ok(())
        }
        _ => Err(DefaultLabelError::RefsNotAList),
    }
}
