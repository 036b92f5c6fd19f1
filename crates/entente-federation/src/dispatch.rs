//! One dispatcher per partner: it walks the node's change stream (stored versions and
//! tombstones, in `seq` order) from a durable cursor, releases each version to the partner
//! through the release policy, binds and seals what is released, and delivers batches until the
//! partner acknowledges them. Only then does the cursor move: a crash or a dropped link replays
//! the batch, which the receiver recognises as duplicates.

use std::sync::Arc;
use std::time::Duration;

use entente_audit::{AuditEvent, EventKind};
use entente_policy::{KindRule, Release, ReleaseVerdict, SameMarkings, StoredRelease};
use entente_seal::batch::{object_plaintext, recall_plaintext};
use entente_seal::canonical::hex;
use entente_seal::{
    bind_recall, canonical_value, digest_copy, sha256_hex_value, sign_together, BatchSealer,
    Binding, Canonical, CanonicalMemo, NodeIdentity, SealedBatch, SealedItem, UnsignedBinding,
};
use entente_store::{Change, Cursor, Lease};
use entente_types::NationCode;
use rand::RngExt;
use serde_json::Value;
use tokio::sync::watch;

use crate::client::PartnerClient;
use crate::config::PartnerConfig;
use crate::wire::{Ack, HeldAnswer, HeldItem, HeldQuery, Outcome, HELD, INBOX, MAX_HELD_ITEMS};
use entente_node::clock::today;
use entente_node::spread::{on_all_cores, on_cores, Grain};

use crate::{sleep_or_stop, Federation, FederationError};

/// The name of a partner's cursor in the store.
pub fn cursor_name(partner: NationCode) -> String {
    format!("federation/partner/{partner}")
}

/// How long an idle dispatcher sleeps when no write wakes it (a safety net, not the trigger).
const IDLE: Duration = Duration::from_secs(2);
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// Exponential backoff with jitter, capped.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Backoff {
        Backoff {
            next: FIRST_RETRY,
            max,
        }
    }

    fn reset(&mut self) {
        self.next = FIRST_RETRY;
    }

    /// The next wait: the current step with ±50 % jitter, then the step doubles up to the cap.
    fn step(&mut self) -> Duration {
        let base = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        let jitter = rand::rng().random_range(0.5..1.5);
        base.mul_f64(jitter)
    }
}

/// What one pass over a page of the stream produced for a partner.
struct Prepared {
    /// The sealed batch, when anything is to be sent.
    batch: Option<SealedBatch>,
    /// Release events, recorded once the partner acknowledges (one per envelope, recalls too).
    sent: Vec<AuditEvent>,
    /// Deny events, recorded whatever happens to the delivery.
    denied: Vec<AuditEvent>,
    /// The last stream position the page covers: the cursor once this is acknowledged.
    last: i64,
    /// Whether the batch announces a crisis room (carries a room's descriptor).
    announces_room: bool,
}

/// A delivery that ended: the partner acknowledged it (`None` when nothing was sent), or
/// shutdown came first (`Err`).
struct Delivered {
    prepared: Prepared,
    ack: Option<Ack>,
}

/// Delivers a prepared batch until the partner acknowledges it, retrying with backoff; gives
/// the client back with the outcome. `None`: shutdown came first.
async fn deliver_until_acked(
    fed: Arc<Federation>,
    mut client: PartnerClient,
    partner: PartnerConfig,
    retry_max: Duration,
    mut prepared: Prepared,
    mut shutdown: watch::Receiver<bool>,
) -> (PartnerClient, Option<Delivered>) {
    let Some(batch) = prepared.batch.take() else {
        return (
            client,
            Some(Delivered {
                prepared,
                ack: None,
            }),
        );
    };
    let n = batch.envelopes.len();
    // Written once into a buffer of about its size (the envelopes' text and their headers).
    let size: usize = batch
        .envelopes
        .iter()
        .map(|e| e.ct.len() + e.object_id.len() + e.collection.len() + 128)
        .sum();
    let mut body = Vec::with_capacity(size + 256);
    let body = match serde_json::to_writer(&mut body, &batch).map(|()| body) {
        // Shared by every attempt, not copied.
        Ok(b) => hyper::body::Bytes::from(b),
        Err(e) => {
            // Serialising our own types does not fail; if it did, nothing may be skipped.
            tracing::error!(partner = %partner.nation, error = %e, "cannot serialise a batch");
            let _ = crate::stopped(&mut shutdown).await;
            return (client, None);
        }
    };
    let mut backoff = Backoff::new(retry_max);
    let started = std::time::Instant::now();
    loop {
        match deliver(&mut client, &partner, &body, n).await {
            Ok(ack) => {
                tracing::debug!(partner = %partner.nation, envelopes = n, bytes = body.len(), ms = started.elapsed().as_millis() as u64, "batch delivered");
                return (
                    client,
                    Some(Delivered {
                        prepared,
                        ack: Some(ack),
                    }),
                );
            }
            Err(e) => {
                fed.status.attempt_failed(
                    partner.nation,
                    entente_node::clock::now_us(),
                    e.to_string(),
                );
                let wait = backoff.step();
                tracing::warn!(partner = %partner.nation, error = %e, retry_in_ms = wait.as_millis() as u64, objects = n, "delivery failed; will retry");
                if sleep_or_stop(&mut shutdown, wait).await {
                    return (client, None);
                }
            }
        }
    }
}

/// Records what an acknowledged delivery did and moves the cursor past it.
async fn acknowledged(
    fed: &Arc<Federation>,
    partner: NationCode,
    name: &str,
    lease: &Lease,
    delivered: Delivered,
) -> Result<i64, FederationError> {
    let Delivered { prepared, ack } = delivered;
    let mut events = Vec::with_capacity(prepared.sent.len() + prepared.denied.len());
    fed.status.denied(partner, prepared.denied.len() as u64);
    if let Some(ack) = &ack {
        let refused = ack
            .results
            .iter()
            .filter(|r| r.outcome == Outcome::Rejected)
            .count() as u64;
        fed.status.delivered(
            partner,
            entente_node::clock::now_us(),
            ack.results.len() as u64 - refused,
            refused,
        );
        let mut stored = 0usize;
        for r in &ack.results {
            match r.outcome {
                Outcome::Rejected => tracing::warn!(
                    partner = %partner,
                    object_id = %r.object_id,
                    version = %r.version,
                    reason = r.reason.as_deref().unwrap_or(""),
                    "partner rejected an object"
                ),
                Outcome::Stored => stored += 1,
                _ => {}
            }
        }
        tracing::debug!(partner = %partner, sent = ack.results.len(), stored, "batch acknowledged");
        if prepared.announces_room {
            // The partner holds the room; this node has not yet recorded so (cursor, releases).
            crate::failpoint("after-room-announced");
        }
        events.extend(
            prepared
                .sent
                .into_iter()
                .zip(&ack.results)
                .filter(|(_, r)| r.outcome != Outcome::Rejected)
                .map(|(e, _)| e),
        );
    }
    events.extend(prepared.denied);
    let started = std::time::Instant::now();
    // The events commit with the cursor's move as intents: what the cursor passed is recorded
    // once, whatever crash comes before or after the append.
    let intents = events
        .iter()
        .map(crate::intent_of)
        .collect::<Result<Vec<String>, FederationError>>()?;
    fed.node
        .store()
        .set_cursor_fenced(
            name,
            &Cursor {
                seq: prepared.last,
                fingerprint: fed.fingerprint(),
            },
            intents,
            lease,
        )
        .await?;
    // The release events are committed with the cursor (as intents): the next page need not
    // wait for the audit log to take them.
    fed.record_intents_soon();
    tracing::debug!(partner = %partner, ms = started.elapsed().as_millis() as u64, "cursor moved");
    Ok(prepared.last)
}

/// Whether a change of the stream is never sent to `partner`: not of a kind that federates, or
/// the partner's own object.
fn nothing_for(c: &Change, partner: NationCode) -> bool {
    !KindRule::of(&c.object.kind).is_federated() || c.object.originator == partner
}

/// Saves the cursor at `passed`, the end of pages that had nothing for the partner (no events).
async fn save_passed(
    fed: &Arc<Federation>,
    name: &str,
    lease: &Lease,
    passed: i64,
) -> Result<i64, FederationError> {
    let cursor = Cursor {
        seq: passed,
        fingerprint: fed.fingerprint(),
    };
    fed.node
        .store()
        .set_cursor_fenced(name, &cursor, Vec::new(), lease)
        .await?;
    Ok(passed)
}

type InFlight = tokio::task::JoinHandle<(PartnerClient, Option<Delivered>)>;

/// Waits for the delivery in flight, if any, and records it. `Ok(false)`: shutdown came first.
async fn settle(
    fed: &Arc<Federation>,
    partner: NationCode,
    name: &str,
    lease: &Lease,
    in_flight: &mut Option<InFlight>,
    client: &mut Option<PartnerClient>,
    cursor: &mut i64,
) -> Result<bool, FederationError> {
    match collect(in_flight, client).await? {
        Collected::Nothing => Ok(true),
        Collected::Delivered(d) => {
            *cursor = acknowledged(fed, partner, name, lease, d).await?;
            Ok(true)
        }
        Collected::Shutdown => Ok(false),
    }
}

/// How the delivery in flight ended.
enum Collected {
    /// None was in flight.
    Nothing,
    /// Acknowledged (or nothing to send), not yet recorded.
    Delivered(Delivered),
    /// Shutdown came first.
    Shutdown,
}

/// Waits for the delivery in flight, if any, and takes its client back.
async fn collect(
    in_flight: &mut Option<InFlight>,
    client: &mut Option<PartnerClient>,
) -> Result<Collected, FederationError> {
    let Some(task) = in_flight.take() else {
        return Ok(Collected::Nothing);
    };
    let (back, delivered) = task
        .await
        .map_err(|e| FederationError::config(format!("delivery task: {e}")))?;
    *client = Some(back);
    Ok(delivered.map_or(Collected::Shutdown, Collected::Delivered))
}

/// The name of the lease that makes one process of the node the dispatcher to a partner.
pub fn lease_name(partner: NationCode) -> String {
    format!("dispatch/{partner}")
}

/// Between attempts to take a partner's lease held by another process: a takeover after the
/// holder dies waits at most this long once the database has released its lock.
const LEASE_RETRY: Duration = Duration::from_millis(250);

/// This process, as recorded with the leases it holds.
fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!("{host}/{}", std::process::id())
}

/// Dispatches to `partner` whenever this process holds the partner's lease: with several node
/// processes over one database exactly one sends to each partner, and when it dies (or loses its
/// database connection) another takes over from the durable cursor.
pub async fn run(
    fed: Arc<Federation>,
    partner: PartnerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    let name = lease_name(partner.nation);
    let holder = holder();
    loop {
        let lease = loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            match fed.node.store().try_lease(&name, &holder).await {
                Ok(Some(lease)) => break lease,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(partner = %partner.nation, error = %e, "cannot ask for the dispatch lease")
                }
            }
            if sleep_or_stop(&mut shutdown, LEASE_RETRY).await {
                return Ok(());
            }
        };
        tracing::info!(partner = %partner.nation, token = lease.token(), holder, "dispatch lease taken");
        let lease = Arc::new(lease);
        fed.leases.hold(partner.nation, lease.clone());
        let outcome = tokio::select! {
            outcome = dispatch_holding(fed.clone(), partner.clone(), shutdown.clone(), lease.clone()) => outcome,
            _ = lease.lost() => {
                tracing::warn!(partner = %partner.nation, token = lease.token(), "dispatch lease lost (database connection ended); another process may take over");
                Ok(false)
            }
        };
        fed.leases.release(partner.nation);
        match outcome {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(FederationError::Store(e))
                if matches!(e.kind(), entente_store::StoreErrorKind::Fenced(_)) =>
            {
                tracing::warn!(partner = %partner.nation, error = %e, "dispatch lease taken over by another process");
            }
            Err(e) => return Err(e),
        }
        if sleep_or_stop(&mut shutdown, LEASE_RETRY).await {
            return Ok(());
        }
    }
}

/// Dispatches while `lease` is held; `Ok(true)` at shutdown.
async fn dispatch_holding(
    fed: Arc<Federation>,
    partner: PartnerConfig,
    shutdown: watch::Receiver<bool>,
    lease: Arc<Lease>,
) -> Result<bool, FederationError> {
    dispatch(fed, partner, shutdown, &lease)
        .await
        .map(|()| true)
}

async fn dispatch(
    fed: Arc<Federation>,
    partner: PartnerConfig,
    mut shutdown: watch::Receiver<bool>,
    lease: &Lease,
) -> Result<(), FederationError> {
    let store = fed.node.store().clone();
    let name = cursor_name(partner.nation);
    let mut cursor = match store.cursor(&name).await? {
        Some(c) if c.fingerprint == fed.fingerprint() => c.seq,
        Some(_) => {
            tracing::info!(partner = %partner.nation, "registry or policies changed: walking the whole stream again");
            0
        }
        None => 0,
    };
    let tls = fed.tls.client(partner.nation).ok_or_else(|| {
        FederationError::config(format!("no TLS client for partner {}", partner.nation))
    })?;
    let mut client = Some(PartnerClient::new(&partner, tls)?);
    let mut changes = fed.node.watch_changes();
    let mut backoff = Backoff::new(fed.config.retry_max);
    let mut rescans = fed.rescans.subscribe();
    rescans.borrow_and_update();
    // Batch n+1 is read and prepared while batch n is in flight; batches are sent one at a
    // time, in stream order, and the cursor moves only when one is acknowledged.
    let mut in_flight: Option<InFlight> = None;
    let mut prepared_to = cursor;
    // The first page after the lease is taken is checked against what the partner holds: a
    // predecessor (or this process before a crash) may have delivered it without recording so.
    let mut check_held = true;
    // A dispatcher starts behind (after a restart or a partition) until a page comes back short.
    let mut behind = true;
    // How far pages with nothing for the partner were passed over: saved as the cursor when the
    // dispatcher goes idle, unless an acknowledged batch beyond them has moved it already.
    let mut passed = cursor;
    tracing::info!(partner = %partner.nation, url = %partner.url, cursor, "dispatcher started");
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        if rescans.has_changed().unwrap_or(false) {
            rescans.borrow_and_update();
            if !settle(
                &fed,
                partner.nation,
                &name,
                lease,
                &mut in_flight,
                &mut client,
                &mut cursor,
            )
            .await?
            {
                return Ok(());
            }
            tracing::info!(partner = %partner.nation, "rescan: walking the whole stream again");
            cursor = 0;
            prepared_to = 0;
            passed = 0;
        }
        changes.borrow_and_update();
        let limit = if behind {
            fed.config.catchup_batch
        } else {
            fed.config.batch
        };
        let page = match store.changes(prepared_to, limit).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(partner = %partner.nation, error = %e, "cannot read the change stream");
                if sleep_or_stop(&mut shutdown, backoff.step()).await {
                    return Ok(());
                }
                continue;
            }
        };
        behind = page.len() >= limit;
        let Some(last) = page.last().map(|c| c.object.seq) else {
            if in_flight.is_some() {
                if !settle(
                    &fed,
                    partner.nation,
                    &name,
                    lease,
                    &mut in_flight,
                    &mut client,
                    &mut cursor,
                )
                .await?
                {
                    return Ok(());
                }
                continue;
            }
            if passed > cursor {
                cursor = save_passed(&fed, &name, lease, passed).await?;
            }
            tokio::select! {
                _ = crate::stopped(&mut shutdown) => return Ok(()),
                _ = changes.changed() => {}
                _ = tokio::time::sleep(IDLE) => {}
            }
            continue;
        };
        if page.iter().all(|c| nothing_for(c, partner.nation)) {
            // Its own objects coming back from the partner, labels: no batch, no cursor write.
            prepared_to = last;
            passed = last;
            continue;
        }
        let started = std::time::Instant::now();
        let n = page.len();
        let page_copy = check_held.then(|| page.clone());
        let prepared = match prepare(&fed, &partner, page, last).await {
            Ok(p) => {
                tracing::debug!(partner = %partner.nation, changes = n, envelopes = p.sent.len(), ms = started.elapsed().as_millis() as u64, "batch prepared");
                p
            }
            Err(e) => {
                tracing::error!(partner = %partner.nation, error = %e, "cannot prepare a batch");
                if sleep_or_stop(&mut shutdown, backoff.step()).await {
                    return Ok(());
                }
                continue;
            }
        };
        backoff.reset();
        if let (Some(page), Some(c)) = (page_copy, client.as_mut()) {
            check_held = false;
            match held_prefix(c, &partner, &prepared).await {
                Ok(0) => {}
                Ok(k) => {
                    cursor = record_held(&fed, &partner, &name, lease, &prepared, page, k).await?;
                    prepared_to = cursor;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(partner = %partner.nation, error = %e, "cannot ask what the partner already holds; sending (it recognises duplicates)")
                }
            }
        }
        // The batch in flight, once acknowledged, is recorded while the next one travels: the
        // cursor still moves in stream order, each move after the one before.
        let previous = match collect(&mut in_flight, &mut client).await? {
            Collected::Shutdown => return Ok(()),
            Collected::Nothing => None,
            Collected::Delivered(d) => Some(d),
        };
        let Some(c) = client.take() else {
            return Err(FederationError::config("delivery client lost"));
        };
        prepared_to = last;
        in_flight = Some(tokio::spawn(deliver_until_acked(
            fed.clone(),
            c,
            partner.clone(),
            fed.config.retry_max,
            prepared,
            shutdown.clone(),
        )));
        if let Some(delivered) = previous {
            cursor = acknowledged(&fed, partner.nation, &name, lease, delivered).await?;
        }
    }
}

/// How many envelopes of `prepared`, from the first, the partner already holds as received from
/// this node.
async fn held_prefix(
    client: &mut PartnerClient,
    partner: &PartnerConfig,
    prepared: &Prepared,
) -> Result<usize, FederationError> {
    let Some(batch) = &prepared.batch else {
        return Ok(0);
    };
    let items: Vec<HeldItem> = batch
        .envelopes
        .iter()
        .zip(&prepared.sent)
        .take(MAX_HELD_ITEMS)
        .map(|(e, event)| HeldItem {
            collection: e.collection.clone(),
            object_id: e.object_id.clone(),
            version: e.version.clone(),
            recall: event.kind == EventKind::Recall,
        })
        .collect();
    if items.is_empty() {
        return Ok(0);
    }
    let n = items.len();
    let fail = |message: String| FederationError::Transport {
        partner: partner.nation.to_string(),
        message,
    };
    let body = serde_json::to_vec(&HeldQuery { items }).map_err(|e| fail(e.to_string()))?;
    let (status, bytes) = client.request(hyper::Method::POST, HELD, body).await?;
    if status == hyper::StatusCode::NOT_FOUND {
        // A partner of a release without the question: it recognises duplicates instead.
        return Ok(0);
    }
    if !status.is_success() {
        return Err(fail(format!("{HELD} answered {status}")));
    }
    let answer: HeldAnswer =
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("held answer: {e}")))?;
    if answer.receiver != partner.nation || answer.held.len() != n {
        return Err(fail(format!(
            "held answer from {} with {} answers for {n} items",
            answer.receiver,
            answer.held.len()
        )));
    }
    Ok(answer.held.iter().take_while(|h| **h).count())
}

/// Records as delivered, without sending them, the first `held` envelopes of `prepared`
/// (the partner holds them), and moves the cursor past the changes they came from; returns the
/// new cursor.
async fn record_held(
    fed: &Arc<Federation>,
    partner: &PartnerConfig,
    name: &str,
    lease: &Lease,
    prepared: &Prepared,
    page: Vec<Change>,
    held: usize,
) -> Result<i64, FederationError> {
    let last_held = &prepared.sent[held - 1];
    let recall = last_held.kind == EventKind::Recall;
    let cut = page
        .iter()
        .position(|c| {
            c.object.id == last_held.object_id
                && c.object.taxii_version() == last_held.version
                && c.deleted == recall
        })
        .ok_or_else(|| {
            FederationError::config(format!(
                "held envelope {} {} not found in its page",
                last_held.object_id, last_held.version
            ))
        })?;
    let mut page = page;
    page.truncate(cut + 1);
    let last = page[cut].object.seq;
    let mut part = prepare(fed, partner, page, last).await?;
    part.batch = None;
    let results = part
        .sent
        .iter()
        .map(|e| crate::wire::ItemResult {
            object_id: e.object_id.clone(),
            version: e.version.clone(),
            outcome: Outcome::Duplicate,
            reason: Some("delivered before this dispatch started".into()),
        })
        .collect();
    tracing::info!(partner = %partner.nation, envelopes = part.sent.len(), cursor = last, "the partner already holds the first envelopes after the cursor: recorded, not sent again");
    acknowledged(
        fed,
        partner.nation,
        name,
        lease,
        Delivered {
            prepared: part,
            ack: Some(Ack {
                receiver: partner.nation,
                results,
            }),
        },
    )
    .await
}
async fn deliver(
    client: &mut PartnerClient,
    partner: &PartnerConfig,
    body: &hyper::body::Bytes,
    n: usize,
) -> Result<Ack, FederationError> {
    let fail = |message: String| FederationError::Transport {
        partner: partner.nation.to_string(),
        message,
    };
    let (status, bytes) = client
        .request(hyper::Method::POST, INBOX, body.clone())
        .await?;
    if !status.is_success() {
        return Err(fail(format!(
            "{INBOX} answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )));
    }
    let ack: Ack =
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("acknowledgement: {e}")))?;
    if ack.receiver != partner.nation || ack.results.len() != n {
        return Err(fail(format!(
            "acknowledgement from {} with {} results for {n} envelopes",
            ack.receiver,
            ack.results.len()
        )));
    }
    Ok(ack)
}

/// The audit event of a change of the stream, released, recalled or denied to `to`.
fn page_event(
    stamp: &crate::Stamp<'_>,
    to: NationCode,
    kind: EventKind,
    origin: NationCode,
    change: &Change,
    digest: String,
    detail: Option<String>,
) -> AuditEvent {
    let version = change.object.taxii_version();
    stamp.event(
        kind,
        origin.as_str(),
        to,
        (&change.object.id, &version),
        digest,
        detail,
    )
}

/// What the CPU-bound pass decided for one change of the page.
enum Step {
    /// Not for this partner (labels, extension definitions, its own objects, unreadable JSON).
    Skip,
    Deny {
        digest: String,
        detail: String,
    },
    /// A copy of this node's own object, digested, to be signed with the other copies of the
    /// page.
    Bind {
        copy: Box<CopyToSign>,
        detail: String,
    },
    /// Signed by this node (a recall of its own) and ready to seal.
    Send {
        binding: Binding,
        plaintext: Vec<u8>,
        kind: EventKind,
        detail: String,
    },
    /// A recall or re-release of another origin's version: needs the store, done in order.
    Later {
        value: Value,
        release: Box<Release>,
    },
}

/// The decision, binding and plaintext of one change: a pure function of the stored version,
/// the policy and the day, run on every core.
fn decide(
    fed: &Federation,
    to: NationCode,
    day: entente_types::Date,
    c: &Change,
    value: Option<Value>,
    memo: &mut PageMemo,
) -> Result<Step, FederationError> {
    let Some(value) = value else {
        return Ok(Step::Skip);
    };
    let me = fed.nation();
    let origin = c.object.originator;
    let lookup = |id: &str| fed.node.cached_label(id);
    let policy = fed.node.release_policy();
    let release = if origin == me && !c.deleted {
        // This node's own version: permitted whole with the page's others of the same markings.
        match policy.release_stored_memo(&value, &lookup, origin, to, day, &mut memo.releases) {
            Ok(StoredRelease::Whole(shared)) => {
                let markings = memo.canonical(&shared.markings);
                let (unsigned, canonical) = digest_copy(me, &value, &markings, false)?;
                return Ok(Step::Bind {
                    copy: Box::new(CopyToSign {
                        unsigned,
                        body: CopyBody {
                            canonical,
                            markings,
                        },
                    }),
                    detail: shared.explain(),
                });
            }
            Ok(StoredRelease::Own(release)) => Ok(*release),
            Err(e) => Err(e),
        }
    } else {
        policy.release_stored(&value, &lookup, origin, to, day)
    };
    if c.deleted {
        // A recall goes to the partners that may hold the version, signed by the origin.
        let release = match release {
            Ok(r) if r.verdict != ReleaseVerdict::Deny => r,
            _ => return Ok(Step::Skip),
        };
        if origin != me {
            return Ok(Step::Later {
                value,
                release: Box::new(release),
            });
        }
        let binding = bind_recall(&fed.identity, &c.object.id, &c.object.version)?;
        return Ok(Step::Send {
            plaintext: recall_plaintext(&binding),
            binding,
            kind: EventKind::Recall,
            detail: format!("recall sent to {to}"),
        });
    }
    let release = match release {
        Ok(r) => r,
        Err(e) => {
            return Ok(Step::Deny {
                digest: sha256_hex_value(&value),
                detail: format!("labels: {e}"),
            })
        }
    };
    let copy = match (&release.verdict, &release.object) {
        (ReleaseVerdict::Deny, _) | (_, None) => {
            return Ok(Step::Deny {
                digest: sha256_hex_value(&value),
                detail: release.explain(),
            })
        }
        (_, Some(copy)) => copy,
    };
    if origin != me {
        return Ok(Step::Later {
            value,
            release: Box::new(release),
        });
    }
    // A tear-lined copy is bound as one: the receiver can say so without knowing what was cut.
    let cut = release.verdict == ReleaseVerdict::Partial;
    let markings = memo.canonical(&release.markings);
    let (unsigned, canonical) = digest_copy(me, copy, &markings, cut)?;
    let detail = release.explain();
    Ok(Step::Bind {
        copy: Box::new(CopyToSign {
            unsigned,
            body: CopyBody {
                canonical,
                markings,
            },
        }),
        detail,
    })
}

/// What the pass over a page has decided already, on one core: the release decisions of
/// objects with the same markings, and the canonical bytes of each marking definition.
#[derive(Default)]
struct PageMemo {
    releases: SameMarkings,
    definitions: CanonicalMemo,
}

impl PageMemo {
    /// The marking definitions of a copy, with their canonical bytes written once per page.
    fn canonical(&mut self, markings: &[Arc<Value>]) -> Vec<Canonical> {
        markings
            .iter()
            .map(|m| self.definitions.of_shared(m))
            .collect()
    }
}

/// A copy of this node's own object released to the partner, before it is signed.
struct CopyToSign {
    unsigned: UnsignedBinding,
    body: CopyBody,
}

/// What the envelope of a copy carries besides its binding.
struct CopyBody {
    /// The copy's canonical bytes.
    canonical: Vec<u8>,
    /// The marking definitions bound with it.
    markings: Vec<Canonical>,
}

/// An envelope of the batch before it is sealed.
enum Unsealed {
    /// Signed already (a recall, or another origin's binding released onward).
    Signed {
        binding: Binding,
        plaintext: Vec<u8>,
    },
    /// The copy at this index of the page's copies to sign.
    Copy(usize),
}

/// How many copies are signed under one root: a path of six hashes in each binding, and a
/// receiver that verifies 64 envelopes at once checks one signature.
const SIGNED_TOGETHER: usize = 64;

/// Signs the page's copies together (in trees of [`SIGNED_TOGETHER`], in stream order), then
/// writes and seals every envelope at its position, on every core.
fn sign_and_seal(
    identity: &NodeIdentity,
    sealer: &BatchSealer,
    envelopes: Vec<(String, Unsealed)>,
    (unsigned, copies): (Vec<UnsignedBinding>, Vec<CopyBody>),
) -> Result<Vec<SealedItem>, FederationError> {
    let bindings: Vec<Binding> = unsigned
        .chunks(SIGNED_TOGETHER)
        .flat_map(|chunk| sign_together(identity, chunk))
        .collect();
    let sealed = on_all_cores(
        Grain::Coarse,
        envelopes.into_iter().enumerate().collect(),
        |(index, (collection, unsealed))| match unsealed {
            Unsealed::Signed { binding, plaintext } => {
                sealer.seal(index as u64, &collection, &binding, &plaintext)
            }
            Unsealed::Copy(k) => {
                let (copy, binding) = (&copies[k], &bindings[k]);
                let plaintext = object_plaintext(binding, &copy.markings, &copy.canonical);
                sealer.seal(index as u64, &collection, binding, &plaintext)
            }
        },
    );
    Ok(sealed.into_iter().collect::<Result<Vec<_>, _>>()?)
}

async fn prepare(
    fed: &Arc<Federation>,
    partner: &PartnerConfig,
    page: Vec<Change>,
    last: i64,
) -> Result<Prepared, FederationError> {
    let to = partner.nation;
    let day = today();
    // One instant for the page: its events are recorded together.
    let stamp = crate::Stamp::now(fed);
    let store = fed.node.store();
    // Parse every version once, on every core.
    let worker = fed.clone();
    let n = page.len();
    let (page, parsed) = crate::cpu_bound(n, move || {
        let parsed = on_all_cores(Grain::Coarse, page.iter().collect(), |c: &Change| {
            if nothing_for(c, to) {
                return None;
            }
            match serde_json::from_str::<Value>(&c.object.json) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(object_id = %c.object.id, error = %e, "stored object is not JSON; not federated");
                    None
                }
            }
        });
        drop(worker);
        (page, parsed)
    })
    .await?;
    let values: Vec<&Value> = parsed.iter().flatten().collect();
    fed.node.load_markings(&values).await?;
    // Decide, bind and write the plaintexts on every core.
    let worker = fed.clone();
    let (page, steps) = crate::cpu_bound(n, move || {
        let steps = on_cores(
            true,
            Grain::Coarse,
            page.iter().zip(parsed).collect(),
            PageMemo::default,
            |memo, (c, value)| decide(&worker, to, day, c, value, memo),
        );
        (page, steps)
    })
    .await?;
    let mut out = Prepared {
        batch: None,
        sent: Vec::new(),
        denied: Vec::new(),
        last,
        announces_room: false,
    };
    // In stream order: what needs the store, then the envelopes' positions.
    let mut to_seal: Vec<(String, Unsealed)> = Vec::new();
    let mut copies: (Vec<UnsignedBinding>, Vec<CopyBody>) = (Vec::new(), Vec::new());
    for (c, step) in page.iter().zip(steps) {
        let origin = c.object.originator;
        match step? {
            Step::Skip => {}
            Step::Deny { digest, detail } => {
                out.denied.push(page_event(
                    &stamp,
                    to,
                    EventKind::Deny,
                    origin,
                    c,
                    digest,
                    Some(detail),
                ));
            }
            Step::Send {
                binding,
                plaintext,
                kind,
                detail,
            } => {
                out.sent.push(page_event(
                    &stamp,
                    to,
                    kind,
                    origin,
                    c,
                    binding.digest.clone(),
                    Some(detail),
                ));
                to_seal.push((
                    c.collection.clone(),
                    Unsealed::Signed { binding, plaintext },
                ));
            }
            Step::Bind { copy, detail } => {
                out.sent.push(page_event(
                    &stamp,
                    to,
                    EventKind::Release,
                    origin,
                    c,
                    hex(&copy.unsigned.digest),
                    Some(detail),
                ));
                to_seal.push((c.collection.clone(), Unsealed::Copy(copies.0.len())));
                let CopyToSign { unsigned, body } = *copy;
                copies.0.push(unsigned);
                copies.1.push(body);
            }
            Step::Later { value, release } if c.deleted => {
                let held = store
                    .binding(&c.collection, &c.object.id, &c.object.version_key)
                    .await?;
                let Some(binding) = held
                    .and_then(|b| b.recall)
                    .and_then(|r| serde_json::from_str::<Binding>(&r).ok())
                else {
                    continue;
                };
                drop((value, release));
                out.sent.push(page_event(
                    &stamp,
                    to,
                    EventKind::Recall,
                    origin,
                    c,
                    binding.digest.clone(),
                    Some(format!("recall sent to {to}")),
                ));
                let plaintext = recall_plaintext(&binding);
                to_seal.push((
                    c.collection.clone(),
                    Unsealed::Signed { binding, plaintext },
                ));
            }
            Step::Later { value, release } => {
                let Some(copy) = release.object.as_ref() else {
                    continue;
                };
                match re_release(fed, c, &value, copy, &release).await? {
                    Ok((binding, plaintext)) => {
                        out.sent.push(page_event(
                            &stamp,
                            to,
                            EventKind::Release,
                            origin,
                            c,
                            binding.digest.clone(),
                            Some(release.explain()),
                        ));
                        to_seal.push((
                            c.collection.clone(),
                            Unsealed::Signed { binding, plaintext },
                        ));
                    }
                    Err(reason) => {
                        out.denied.push(page_event(
                            &stamp,
                            to,
                            EventKind::Deny,
                            origin,
                            c,
                            sha256_hex_value(&value),
                            Some(reason.to_string()),
                        ));
                    }
                }
            }
        }
    }
    // A room's descriptor is an object of the room's own type (its id says so).
    let room_prefix = format!("{}--", entente_crisis::ROOM_TYPE);
    out.announces_room = out
        .sent
        .iter()
        .any(|e| e.kind == EventKind::Release && e.object_id.starts_with(&room_prefix));
    if !to_seal.is_empty() {
        // One key encapsulation for the batch; each envelope its own AEAD at its position.
        let sealer = BatchSealer::new(fed.nation(), &partner.identity)?;
        let worker = fed.clone();
        let (sealer, envelopes) = crate::cpu_bound(to_seal.len(), move || {
            let sealed = sign_and_seal(&worker.identity, &sealer, to_seal, copies);
            (sealer, sealed)
        })
        .await?;
        out.batch = Some(sealer.finish(envelopes?));
    }
    Ok(out)
}

/// Why a version received from another nation is not released onward.
#[derive(Debug, thiserror::Error)]
enum NoReRelease {
    #[error("no binding of the originator held")]
    NoBinding,
    #[error("stored binding unreadable: {0}")]
    UnreadableBinding(serde_json::Error),
    #[error("re-release would alter the copy {0} bound")]
    WouldAlter(NationCode),
}

/// A version received from another nation, released onward: only the originator's bound copy,
/// unchanged, may travel (the policy decided with the originator as originator); a copy that
/// would need cutting further is not sent, since only the originator can bind a new one.
async fn re_release(
    fed: &Federation,
    c: &Change,
    value: &Value,
    copy: &Value,
    release: &Release,
) -> Result<Result<(Binding, Vec<u8>), NoReRelease>, FederationError> {
    let store = fed.node.store();
    let Some(held) = store
        .binding(&c.collection, &c.object.id, &c.object.version_key)
        .await?
    else {
        return Ok(Err(NoReRelease::NoBinding));
    };
    let binding: Binding = match serde_json::from_str(&held.binding) {
        Ok(b) => b,
        Err(e) => return Ok(Err(NoReRelease::UnreadableBinding(e))),
    };
    let canonical = canonical_value(value);
    if release.verdict != ReleaseVerdict::Permit || canonical_value(copy) != canonical {
        return Ok(Err(NoReRelease::WouldAlter(c.object.originator)));
    }
    let mut markings = Vec::new();
    for id in entente_seal::binding::referenced_markings(value) {
        if let Some(m) = store.marking(&id).await? {
            if let Ok(v) = serde_json::from_str::<Value>(&m.json) {
                if fed.node.label_of_marking(&v).is_some() {
                    markings.push(v);
                }
            }
        }
    }
    Ok(Ok((
        binding.clone(),
        object_plaintext(&binding, &markings, &canonical),
    )))
}
