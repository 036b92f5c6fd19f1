//! The inbox: what a partner sends is opened, verified, checked against this nation's
//! entitlement and stored as received from its origin. Every refusal is logged and recorded in
//! the audit log; nothing is acknowledged before it is durable.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use entente_audit::EventKind;
use entente_labels::Label;
use entente_policy::{KindRule, ReleaseVerdict, SameMarkings, StoredRelease};
use entente_seal::{
    verify_opened, BatchOpener, Binding, Canonical, CanonicalMemo, Opened, Payload, SealError,
    SealedItem,
};
use entente_store::{NewObject, ReceivedObject};
use entente_types::NationCode;
use hyper::body::Bytes;
use serde_json::Value;

use crate::tls::Peer;
use crate::wire::{Ack, Batch, ItemResult, Outcome};
use entente_node::clock::today;
use entente_node::spread::{in_shares_on_all_cores, Grain};

use crate::Federation;

fn refuse(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

/// An object ready to store, and where its result goes (its receive event travels with it as
/// an intent).
struct Pending {
    result: usize,
}

/// A collection's versions to store, and per bound object its index among them.
type Group = (String, Vec<ReceivedObject>, Vec<(usize, Pending)>);

#[derive(Default)]
struct ToStore {
    by_collection: Vec<Group>,
    /// The marking definitions already among the versions to store (collection, id, JSON): the
    /// envelopes of a batch mostly carry the same ones, stored once.
    markings: HashSet<(String, String, String)>,
}

impl ToStore {
    fn push(&mut self, collection: &str, objects: Vec<ReceivedObject>, pending: Pending) {
        let i = match self
            .by_collection
            .iter()
            .position(|(c, _, _)| c == collection)
        {
            Some(i) => i,
            None => {
                self.by_collection
                    .push((collection.to_owned(), Vec::new(), Vec::new()));
                self.by_collection.len() - 1
            }
        };
        let entry = &mut self.by_collection[i];
        let n = objects.len();
        for (at, o) in objects.into_iter().enumerate() {
            let bound = at + 1 == n;
            if !bound
                && !self.markings.insert((
                    collection.to_owned(),
                    o.object.id.clone(),
                    o.object.json.clone(),
                ))
            {
                continue;
            }
            entry.1.push(o);
        }
        // The bound object is the last of its group.
        entry.2.push((entry.1.len() - 1, pending));
    }

    fn is_empty(&self) -> bool {
        self.by_collection.is_empty()
    }
}

/// Receives a sealed batch from a partner.
///
/// The batch (format 2) holds envelopes sealed to this node by the TLS peer, which must be the
/// batch's sender. Each envelope is opened, its origin's binding verified, its STIX validated and
/// its release to this nation checked; the accepted objects are stored in one transaction.
/// Which versions of the asking sender's stream this node holds as received from it.
///
/// Asked by a node process that took the dispatch to this node over from one that died: what
/// its predecessor delivered is not sent again.
#[utoipa::path(
    post,
    path = crate::wire::HELD,
    tag = "federation",
    operation_id = "federation_held",
    request_body(content = Object, content_type = "application/json", description = "The versions asked about: collection, object id, version, and whether the recall is meant."),
    responses(
        (status = 200, description = "One answer per item, in order: held as received from the asking sender (for a recall: applied).", body = Object, content_type = "application/json"),
        (status = 400, description = "Not a question of this form, or more than 10,000 items.", body = String, content_type = "text/plain"),
        (status = 503, description = "The store did not answer; ask again.", body = String, content_type = "text/plain"),
    )
)]
pub async fn held(
    State(fed): State<Arc<Federation>>,
    Extension(Peer(peer)): Extension<Peer>,
    body: Bytes,
) -> Response {
    let query: crate::wire::HeldQuery = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(e) => {
            return refuse(StatusCode::BAD_REQUEST, format!("not a held query: {e}"));
        }
    };
    if query.items.len() > crate::wire::MAX_HELD_ITEMS {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "{} items, more than {}",
                query.items.len(),
                crate::wire::MAX_HELD_ITEMS
            ),
        );
    }
    let store = fed.node.store();
    let mut held = Vec::with_capacity(query.items.len());
    for item in &query.items {
        let key = match entente_stix::Timestamp::parse(&item.version) {
            Ok(t) => t.key(),
            Err(_) => {
                held.push(false);
                continue;
            }
        };
        match store.binding(&item.collection, &item.object_id, &key).await {
            // Only what this sender delivered: nothing is said of other senders' copies.
            Ok(Some(b)) if b.sender == peer => held.push(!item.recall || b.recall.is_some()),
            Ok(_) => held.push(false),
            Err(e) => {
                tracing::error!(partner = %peer, error = %e, "held query: store");
                return refuse(StatusCode::SERVICE_UNAVAILABLE, "store unavailable".into());
            }
        }
    }
    Json(crate::wire::HeldAnswer {
        receiver: fed.nation(),
        held,
    })
    .into_response()
}

#[utoipa::path(
    post,
    path = crate::wire::INBOX,
    tag = "federation",
    operation_id = "federation_inbox",
    request_body(content = Object, content_type = "application/json", description = "A sealed batch (format 2): sender, recipient, the HPKE encapsulated key and the envelopes, each with its clear header."),
    responses(
        (status = 200, description = "The acknowledgement: the receiver and one result per envelope, in order (stored, already held, or refused with a reason).", body = Object, content_type = "application/json"),
        (status = 400, description = "Not a federation batch.", body = String, content_type = "text/plain"),
        (status = 403, description = "The batch claims another sender than the TLS peer.", body = String, content_type = "text/plain"),
        (status = 413, description = "Larger than the largest batch.", body = String, content_type = "text/plain"),
        (status = 503, description = "Not stored; nothing is acknowledged and the sender retries.", body = String, content_type = "text/plain"),
    )
)]
pub async fn inbox(
    State(fed): State<Arc<Federation>>,
    Extension(Peer(peer)): Extension<Peer>,
    body: Bytes,
) -> Response {
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(partner = %peer, error = %e, bytes = body.len(), "federation batch refused: not a batch");
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("not a federation batch (format 2): {e}"),
            );
        }
    };
    drop(body);
    if batch.sender != peer {
        tracing::warn!(partner = %peer, claimed = %batch.sender, "federation batch refused: sender is not the TLS peer");
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "batch claims sender {}, but the connection is {peer}'s",
                batch.sender
            ),
        );
    }
    // Run to completion in its own task: when the sender's connection drops, hyper drops this
    // handler. (A receive cut between the store's commit and the audit append, by a crash too,
    // loses nothing: its events committed with it as intents, recorded at the next drain.)
    let worker = fed.clone();
    let done = tokio::spawn(async move { receive(&worker, peer, batch).await }).await;
    let done =
        done.unwrap_or_else(|e| Err(crate::FederationError::config(format!("receive task: {e}"))));
    match done {
        Ok(results) => Json(Ack {
            receiver: fed.nation(),
            results,
        })
        .into_response(),
        Err(e) => {
            // Nothing acknowledged: the sender retries the whole batch (stores are idempotent).
            tracing::error!(partner = %peer, error = %e, "federation batch not stored");
            refuse(StatusCode::SERVICE_UNAVAILABLE, format!("not stored: {e}"))
        }
    }
}

/// What the CPU-bound pass made of one envelope.
enum Checked {
    /// Refused for good: the origin it claims (or the sender), what identifies it, why.
    Rejected {
        origin: String,
        digest: String,
        reason: String,
    },
    Recall(Binding),
    /// Our own object coming back through a third node: we hold the original.
    Own,
    Store {
        objects: Vec<NewObject>,
        binding: Binding,
    },
}

/// How many envelopes are opened and checked before their versions are stored (while the next
/// segment is opened). A multiple of [`VERIFY_TOGETHER`], so that the shares of a segment line up
/// with the trees of bindings a sender signs together.
const SEGMENT: usize = 8 * VERIFY_TOGETHER;

/// How many envelopes' signatures are verified together: enough for the batch equation to pay,
/// few enough that every core gets shares of a page.
const VERIFY_TOGETHER: usize = 64;

/// Opens every envelope, verifies the origins' bindings (the signatures many at once), validates
/// what opened and decides this nation's entitlement: a pure function of the envelopes, keys and
/// policy, run in shares on every core. One result per envelope, in order.
fn open_and_check_all(
    fed: &Federation,
    opener: &BatchOpener,
    peer: NationCode,
    envelopes: &[SealedItem],
    range: std::ops::Range<usize>,
) -> Vec<Checked> {
    let indexed: Vec<(usize, &SealedItem)> = range.map(|i| (i, &envelopes[i])).collect();
    in_shares_on_all_cores(Grain::Coarse, &indexed, VERIFY_TOGETHER, |share| {
        // The marking definitions the share's envelopes carry, each parsed once.
        let mut definitions = CanonicalMemo::default();
        let unverified = share
            .iter()
            .map(|(i, item)| {
                opener.open_unverified(&fed.signers, &mut definitions, *i as u64, item)
            })
            .collect();
        // The label checks of a batch's marking definitions, made once per share.
        let mut markings = MarkingMemo::default();
        verify_opened(unverified)
            .into_iter()
            .zip(share)
            .map(|(opened, (_, item))| checked(fed, peer, item, opened, &mut markings))
            .collect()
    })
}

/// What an envelope that opened (or did not) comes to: refused, a recall, our own object, or
/// versions to store.
fn checked(
    fed: &Federation,
    peer: NationCode,
    item: &SealedItem,
    opened: Result<Opened, SealError>,
    markings_seen: &mut MarkingMemo,
) -> Checked {
    let opened = match opened {
        Ok(o) => o,
        // The origin is unknown until the envelope opens: the sender stands for it.
        Err(e) => {
            return Checked::Rejected {
                origin: peer.to_string(),
                digest: item_digest(item),
                reason: e.to_string(),
            }
        }
    };
    match opened.payload {
        Payload::Recall { binding } => Checked::Recall(binding),
        Payload::Object { binding, .. } if binding.origin == fed.nation() => Checked::Own,
        Payload::Object {
            object,
            markings,
            binding,
        } => {
            let canonical = opened.canonical_object.unwrap_or_default();
            match check(
                fed,
                binding.origin,
                (&object, &canonical),
                &markings,
                &item.collection,
                markings_seen,
            ) {
                Ok(objects) => Checked::Store { objects, binding },
                Err(refusal) => Checked::Rejected {
                    origin: binding.origin.to_string(),
                    digest: binding.digest,
                    reason: refusal.to_string(),
                },
            }
        }
    }
}

/// What identifies an envelope that did not open: the digest of its canonical JSON.
fn item_digest(item: &SealedItem) -> String {
    entente_seal::sha256_hex(item).unwrap_or_default()
}

async fn receive(
    fed: &Arc<Federation>,
    peer: NationCode,
    batch: Batch,
) -> Result<Vec<ItemResult>, crate::FederationError> {
    let mut results: Vec<ItemResult> = batch
        .envelopes
        .iter()
        .map(|item| ItemResult {
            object_id: item.object_id.clone(),
            version: item.version.clone(),
            outcome: Outcome::Rejected,
            reason: None,
        })
        .collect();
    let mut events = Vec::new();
    let started = std::time::Instant::now();
    // One instant for the batch: its events are recorded together.
    let stamp = crate::Stamp::now(fed);
    let n = batch.envelopes.len();
    let batch = Arc::new(batch);
    // Nothing in a batch for another recipient, or of another format, opens.
    let opener = BatchOpener::new(&fed.identity, &batch).map(Arc::new);
    // The envelopes are opened and checked a segment at a time, the next segment's CPU work
    // running while this one's versions are stored: the store is one writer, the checks every
    // core. Results and storing stay in batch order.
    let segments: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(SEGMENT)
        .map(|start| start..(start + SEGMENT).min(n))
        .collect();
    let check_segment = |range: std::ops::Range<usize>| {
        let (fed, batch, opener) = (fed.clone(), batch.clone(), opener.clone());
        tokio::spawn(crate::cpu_bound(range.len(), move || match &opener {
            Ok(opener) => open_and_check_all(&fed, opener, peer, &batch.envelopes, range),
            Err(e) => batch.envelopes[range]
                .iter()
                .map(|item| Checked::Rejected {
                    origin: peer.to_string(),
                    digest: item_digest(item),
                    reason: e.to_string(),
                })
                .collect(),
        }))
    };
    let mut opened_ms = 0;
    let mut to_store = ToStore::default();
    let mut next = segments.first().cloned().map(&check_segment);
    for (s, range) in segments.iter().enumerate() {
        let Some(task) = next.take() else { break };
        let checked = task
            .await
            .map_err(|e| crate::FederationError::config(format!("receive checks: {e}")))??;
        next = segments.get(s + 1).cloned().map(&check_segment);
        opened_ms = started.elapsed().as_millis() as u64;
        for (index, checked) in range.clone().zip(checked) {
            let item = &batch.envelopes[index];
            match checked {
                Checked::Rejected {
                    origin,
                    digest,
                    reason,
                } => {
                    tracing::warn!(partner = %peer, object_id = %item.object_id, version = %item.version, %reason, "federation envelope rejected");
                    events.push(stamp.event(
                        EventKind::Deny,
                        &origin,
                        peer,
                        (&item.object_id, &item.version),
                        digest,
                        Some(format!("rejected from {peer}: {reason}")),
                    ));
                    results[index].reason = Some(reason);
                }
                Checked::Own => results[index].outcome = Outcome::Duplicate,
                Checked::Recall(binding) => {
                    // Apply what is pending first: a recall follows the version it withdraws.
                    flush(fed, &mut to_store, &mut results).await?;
                    let origin = binding.origin;
                    let key = match entente_stix::Timestamp::parse(&binding.version) {
                        Ok(t) => t.key(),
                        Err(_) => String::new(),
                    };
                    let recall = serde_json::to_string(&binding)
                        .map_err(|e| crate::FederationError::config(e.to_string()))?;
                    let recalled = crate::intent_of(&stamp.event(
                        EventKind::Recall,
                        origin.as_str(),
                        peer,
                        (&binding.object_id, &binding.version),
                        binding.digest.clone(),
                        Some(format!("recalled by {origin}")),
                    ))?;
                    let done = fed
                        .node
                        .store()
                        .recall_received(
                            &item.collection,
                            &binding.object_id,
                            &key,
                            &recall,
                            Some(&recalled),
                        )
                        .await?;
                    results[index].outcome = Outcome::Recalled;
                    if done {
                        fed.node.notify_changed();
                    } else {
                        results[index].reason = Some("no live version held".into());
                    }
                }
                Checked::Store { objects, binding } => {
                    let binding_json = serde_json::to_string(&binding)
                        .map_err(|e| crate::FederationError::config(e.to_string()))?;
                    let received_event = crate::intent_of(&stamp.event(
                        EventKind::Receive,
                        binding.origin.as_str(),
                        peer,
                        (&binding.object_id, &binding.version),
                        binding.digest.clone(),
                        None,
                    ))?;
                    if let Some(reason) =
                        take_room(fed, &item.collection, &objects, binding.origin).await
                    {
                        tracing::warn!(partner = %peer, object_id = %item.object_id, %reason, "federation envelope rejected");
                        events.push(stamp.event(
                            EventKind::Deny,
                            binding.origin.as_str(),
                            peer,
                            (&item.object_id, &item.version),
                            binding.digest.clone(),
                            Some(format!("rejected from {peer}: {reason}")),
                        ));
                        results[index].reason = Some(reason);
                        continue;
                    }
                    let n = objects.len();
                    let mut intent = Some(received_event);
                    let received = objects
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| {
                            let bound = i + 1 == n;
                            ReceivedObject {
                                object: o,
                                sender: peer,
                                binding: bound.then(|| binding_json.clone()),
                                supersedes: false,
                                // The receive is recorded with the bound object itself.
                                intent: if bound { intent.take() } else { None },
                            }
                        })
                        .collect();
                    to_store.push(&item.collection, received, Pending { result: index });
                }
            }
        }
        flush(fed, &mut to_store, &mut results).await?;
    }
    let refused = results
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .count() as u64;
    fed.status.received(
        peer,
        entente_node::clock::now_us(),
        results.len() as u64 - refused,
        refused,
    );
    let stored_ms = started.elapsed().as_millis() as u64;
    crate::failpoint("after-receive-commit");
    // Refusals stored nothing: they are appended as they are, each delivery refused an event.
    if !events.is_empty() {
        fed.append_audit(events).await?;
    }
    // The receive events are committed with the versions (as intents): the acknowledgement need
    // not wait for the audit log to take them.
    fed.record_intents_soon();
    tracing::debug!(partner = %peer, envelopes = results.len(), opened_ms, stored_ms, ms = started.elapsed().as_millis() as u64, "batch received");
    Ok(results)
}

/// Stores what is pending, one transaction per collection (each with the receive events of
/// what it stores, as intents), and fills in the results.
async fn flush(
    fed: &Arc<Federation>,
    to_store: &mut ToStore,
    results: &mut [ItemResult],
) -> Result<(), crate::FederationError> {
    if to_store.is_empty() {
        return Ok(());
    }
    let now_us = entente_node::clock::now_us();
    to_store.markings.clear();
    for (collection, objects, pending) in std::mem::take(&mut to_store.by_collection) {
        let bound: Vec<ReceivedObject> =
            pending.iter().map(|(at, _)| objects[*at].clone()).collect();
        let flags = fed
            .node
            .store()
            .add_received(&collection, now_us, objects)
            .await?;
        for ((at, p), copy) in pending.into_iter().zip(bound) {
            if flags.get(at).copied().unwrap_or(false)
                || supersede_if_fuller(fed, &collection, now_us, copy).await?
            {
                results[p.result].outcome = Outcome::Stored;
            } else {
                results[p.result].outcome = Outcome::Duplicate;
            }
        }
    }
    fed.node.notify_changed();
    Ok(())
}

/// A version already held may have come first as a relay's copy, tear-lined for the relay,
/// while the origin's own copy for this nation holds more. Both are bound by the origin and
/// released to this nation, so the one with more properties is kept: it replaces the held copy
/// when its top-level properties strictly include the held ones. Returns whether it did.
async fn supersede_if_fuller(
    fed: &Arc<Federation>,
    collection: &str,
    now_us: i64,
    mut copy: ReceivedObject,
) -> Result<bool, crate::FederationError> {
    if copy.binding.is_none() {
        return Ok(false);
    }
    let store = fed.node.store();
    let held = store.versions(collection, &copy.object.id).await?;
    let Some(held) = held
        .iter()
        .find(|v| v.version_key == copy.object.version_key)
    else {
        return Ok(false);
    };
    let keys = |json: &str| -> Option<std::collections::BTreeSet<String>> {
        match serde_json::from_str::<serde_json::Value>(json).ok()? {
            serde_json::Value::Object(map) => Some(map.into_iter().map(|(k, _)| k).collect()),
            _ => None,
        }
    };
    let (Some(new_keys), Some(held_keys)) = (keys(&copy.object.json), keys(&held.json)) else {
        return Ok(false);
    };
    if new_keys.len() <= held_keys.len() || !held_keys.is_subset(&new_keys) {
        return Ok(false);
    }
    copy.supersedes = true;
    let flags = store.add_received(collection, now_us, vec![copy]).await?;
    Ok(flags.first().copied().unwrap_or(false))
}

/// Why a bound object that opened is not stored here; the text goes back to the sender in the
/// acknowledgement and into the audit event.
#[derive(Debug, Clone, thiserror::Error)]
enum Refusal {
    #[error("collection {collection:?} does not exist on {me}")]
    UnknownCollection { collection: String, me: NationCode },
    #[error("marking definition: {0}")]
    InvalidMarking(String),
    #[error("label {marking}: {message}")]
    BadLabel { marking: String, message: String },
    #[error("invalid STIX: {0}")]
    InvalidStix(String),
    #[error("a {0} travels only with the objects that refer to it")]
    NotFederated(String),
    #[error("labels: {0}")]
    Labels(String),
    #[error("outside the entitlement of {me}: {explanation}")]
    NotEntitled { me: NationCode, explanation: String },
    #[error("{id}: canonical JSON is not UTF-8: {message}")]
    NotUtf8 { id: String, message: String },
}

/// The problems STIX validation found, on one line.
fn problems(e: &entente_stix::StixError) -> String {
    e.problems()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A crisis room's collection before an object is stored in it: a room's descriptor creates
/// it (or updates the room, a closing); anything else needs the room known already. Returns
/// why the object is refused, if it is.
async fn take_room(
    fed: &Federation,
    collection: &str,
    objects: &[NewObject],
    origin: NationCode,
) -> Option<String> {
    if !entente_crisis::is_room_collection(collection) {
        return None;
    }
    let bound = objects.last()?;
    if bound.kind == entente_crisis::ROOM_TYPE {
        let room: Value = match serde_json::from_str(&bound.json) {
            Ok(v) => v,
            Err(e) => return Some(format!("crisis room descriptor: {e}")),
        };
        return fed
            .node
            .room_received(collection, &room, origin)
            .await
            .err()
            .map(|e| e.to_string());
    }
    (!fed.node.knows_collection(collection)).then(|| {
        Refusal::UnknownCollection {
            collection: collection.to_owned(),
            me: fed.nation(),
        }
        .to_string()
    })
}

/// The checks on a bound object: valid STIX, a known collection, valid labels, and a release
/// to this nation that the policy permits whole. Returns the versions to store: the marking
/// definitions, then the object.
fn check(
    fed: &Federation,
    origin: NationCode,
    (object, canonical_object): (&Value, &[u8]),
    markings: &[Canonical],
    collection: &str,
    markings_seen: &mut MarkingMemo,
) -> Result<Vec<NewObject>, Refusal> {
    let me = fed.nation();
    // A crisis room's collection is created by its descriptor, which may come earlier in the
    // same batch: whether it exists is checked again, in batch order, before storing.
    if !entente_crisis::is_room_collection(collection) && !fed.node.knows_collection(collection) {
        return Err(Refusal::UnknownCollection {
            collection: collection.to_owned(),
            me,
        });
    }
    let mut labels: HashMap<String, Label> = HashMap::new();
    let mut out = Vec::with_capacity(markings.len() + 1);
    // Which of the share's marking definitions this object came with: objects that came with
    // the same ones share their release decisions.
    let mut seen = Vec::with_capacity(markings.len());
    for m in markings {
        let key = (origin, m.shared_bytes().clone());
        let next = markings_seen.checked.len();
        let (at, marking) = match markings_seen.checked.get(&key) {
            Some((at, known)) => (*at, known.clone()?),
            None => {
                let checked = check_marking(fed, origin, m.value(), m.bytes().to_vec());
                markings_seen.checked.insert(key, (next, checked.clone()));
                (next, checked?)
            }
        };
        seen.push(at);
        if let Some((id, label)) = marking.label {
            labels.insert(id, label);
        }
        out.push(marking.version);
    }
    let header =
        entente_stix::validate_object(object).map_err(|e| Refusal::InvalidStix(problems(&e)))?;
    if !KindRule::of(&header.kind).is_federated() {
        return Err(Refusal::NotFederated(header.kind));
    }
    let lookup = |id: &str| labels.get(id).cloned();
    seen.sort_unstable();
    let memo = markings_seen.releases.entry(seen).or_default();
    let release = fed
        .node
        .release_policy()
        .release_stored_memo(object, &lookup, origin, me, today(), memo)
        .map_err(|e| Refusal::Labels(e.to_string()))?;
    if let StoredRelease::Own(release) = release {
        if release.verdict != ReleaseVerdict::Permit {
            return Err(Refusal::NotEntitled {
                me,
                explanation: release.explain(),
            });
        }
    }
    out.push(new_object(header, origin, canonical_object.to_vec())?);
    Ok(out)
}

/// A marking definition that came with a bound object, checked: the version to store, and the
/// label it carries (with its id) when it is a confidentiality label.
#[derive(Clone)]
struct CheckedMarking {
    version: NewObject,
    label: Option<(String, Label)>,
}

/// A marking definition checked, or why it was refused.
type CheckedOnce = Result<CheckedMarking, Refusal>;

/// A marking definition as an origin sent it: the origin and the definition's canonical bytes.
type DefinitionFrom = (NationCode, Arc<[u8]>);

/// What a share of a batch has decided already: each marking definition checked (by origin and
/// canonical JSON, with its place in the order first seen), and the release decisions of the
/// objects that came with the same definitions.
#[derive(Default)]
struct MarkingMemo {
    checked: HashMap<DefinitionFrom, (usize, CheckedOnce)>,
    releases: HashMap<Vec<usize>, SameMarkings>,
}

fn check_marking(
    fed: &Federation,
    origin: NationCode,
    marking: &Value,
    canonical: Vec<u8>,
) -> Result<CheckedMarking, Refusal> {
    let header = entente_stix::validate_object(marking)
        .map_err(|e| Refusal::InvalidMarking(problems(&e)))?;
    let label = match fed.node.label_of_marking(marking) {
        Some(Ok(label)) => Some((header.id.clone(), label)),
        Some(Err(e)) => {
            return Err(Refusal::BadLabel {
                marking: header.id,
                message: e.to_string(),
            })
        }
        None => None,
    };
    Ok(CheckedMarking {
        version: new_object(header, origin, canonical)?,
        label,
    })
}

/// A version to store: `canonical` is the object's canonical JSON, the bytes the origin's binding
/// covers.
fn new_object(
    header: entente_stix::ObjectHeader,
    origin: NationCode,
    canonical: Vec<u8>,
) -> Result<NewObject, Refusal> {
    let json = String::from_utf8(canonical).map_err(|e| Refusal::NotUtf8 {
        id: header.id.clone(),
        message: e.to_string(),
    })?;
    Ok(entente_node::new_object(header, origin, json))
}
