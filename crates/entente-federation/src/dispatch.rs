//! One dispatcher per partner: it walks the node's change stream (stored versions and
//! tombstones, in `seq` order) from a durable cursor, releases each version to the partner
//! through the release policy, binds and seals what is released, and delivers batches until the
//! partner acknowledges them. Only then does the cursor move: a crash or a dropped link replays
//! the batch, which the receiver recognises as duplicates.

use std::sync::Arc;
use std::time::Duration;

use entente_audit::{AuditEvent, EventKind};
use entente_policy::{Release, ReleaseVerdict};
use entente_seal::{bind, bind_recall, canonical_json, seal, sha256_hex, Binding, Payload, Sealed};
use entente_store::{Change, Cursor};
use entente_types::NationCode;
use rand::Rng;
use serde_json::Value;
use tokio::sync::watch;

use crate::client::PartnerClient;
use crate::config::PartnerConfig;
use crate::wire::{Ack, Batch, Outcome, INBOX};
use crate::{now_text, today, Federation, FederationError};

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
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        base.mul_f64(jitter)
    }
}

/// What one pass over a page of the stream produced for a partner.
struct Prepared {
    envelopes: Vec<Sealed>,
    /// Release events, recorded once the partner acknowledges (one per envelope, recalls too).
    sent: Vec<AuditEvent>,
    /// Deny events, recorded whatever happens to the delivery.
    denied: Vec<AuditEvent>,
}

pub async fn run(
    fed: Arc<Federation>,
    partner: PartnerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    let store = fed.node.store().clone();
    let name = cursor_name(partner.nation);
    let mut cursor = match store.cursor(&name).await? {
        Some(c) if c.fingerprint == fed.fingerprint => c.seq,
        Some(_) => {
            tracing::info!(partner = %partner.nation, "registry or policies changed: walking the whole stream again");
            0
        }
        None => 0,
    };
    let tls = fed.tls.client(partner.nation).ok_or_else(|| {
        FederationError::config(format!("no TLS client for partner {}", partner.nation))
    })?;
    let mut client = PartnerClient::new(&partner, tls)?;
    let mut changes = fed.node.watch_changes();
    let mut backoff = Backoff::new(fed.config.retry_max);
    let mut rescans = fed.rescans.subscribe();
    rescans.borrow_and_update();
    tracing::info!(partner = %partner.nation, url = %partner.url, cursor, "dispatcher started");
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        if rescans.has_changed().unwrap_or(false) {
            rescans.borrow_and_update();
            tracing::info!(partner = %partner.nation, "rescan: walking the whole stream again");
            cursor = 0;
        }
        changes.borrow_and_update();
        let page = match store.changes(cursor, fed.config.batch).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(partner = %partner.nation, error = %e, "cannot read the change stream");
                if sleep_or_stop(&mut shutdown, backoff.step()).await {
                    return Ok(());
                }
                continue;
            }
        };
        let Some(last) = page.last().map(|c| c.object.seq) else {
            tokio::select! {
                _ = crate::stopped(&mut shutdown) => return Ok(()),
                _ = changes.changed() => {}
                _ = tokio::time::sleep(IDLE) => {}
            }
            continue;
        };
        let prepared = match prepare(&fed, &partner, &page).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(partner = %partner.nation, error = %e, "cannot prepare a batch");
                if sleep_or_stop(&mut shutdown, backoff.step()).await {
                    return Ok(());
                }
                continue;
            }
        };
        if !prepared.envelopes.is_empty() {
            let n = prepared.envelopes.len();
            let body = serde_json::to_vec(&Batch {
                sender: fed.nation(),
                envelopes: prepared.envelopes,
            })
            .map_err(|e| FederationError::config(format!("batch: {e}")))?;
            let ack = loop {
                match deliver(&mut client, &partner, &body, n).await {
                    Ok(ack) => break ack,
                    Err(e) => {
                        let wait = backoff.step();
                        tracing::warn!(partner = %partner.nation, error = %e, retry_in_ms = wait.as_millis() as u64, objects = n, "delivery failed; will retry");
                        if sleep_or_stop(&mut shutdown, wait).await {
                            return Ok(());
                        }
                    }
                }
            };
            backoff.reset();
            let mut stored = 0usize;
            for r in &ack.results {
                match r.outcome {
                    Outcome::Rejected => tracing::warn!(
                        partner = %partner.nation,
                        object_id = %r.object_id,
                        version = %r.version,
                        reason = r.reason.as_deref().unwrap_or(""),
                        "partner rejected an object"
                    ),
                    Outcome::Stored => stored += 1,
                    _ => {}
                }
            }
            tracing::debug!(partner = %partner.nation, sent = n, stored, "batch acknowledged");
            let events: Vec<AuditEvent> = prepared
                .sent
                .into_iter()
                .zip(&ack.results)
                .filter(|(_, r)| r.outcome != Outcome::Rejected)
                .map(|(e, _)| e)
                .chain(prepared.denied)
                .collect();
            if !events.is_empty() {
                fed.audit.append_batch(&events)?;
            }
        } else if !prepared.denied.is_empty() {
            fed.audit.append_batch(&prepared.denied)?;
        }
        cursor = last;
        store
            .set_cursor(
                &name,
                &Cursor {
                    seq: cursor,
                    fingerprint: fed.fingerprint.clone(),
                },
            )
            .await?;
    }
}

/// Sleeps, or returns true when shutdown comes first.
async fn sleep_or_stop(shutdown: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        _ = crate::stopped(shutdown) => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

async fn deliver(
    client: &mut PartnerClient,
    partner: &PartnerConfig,
    body: &[u8],
    n: usize,
) -> Result<Ack, FederationError> {
    let fail = |message: String| FederationError::Transport {
        partner: partner.nation.to_string(),
        message,
    };
    let (status, bytes) = client
        .request(hyper::Method::POST, INBOX, body.to_vec())
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

fn event(
    fed: &Federation,
    kind: EventKind,
    origin: NationCode,
    partner: NationCode,
    change: &Change,
    digest: String,
    detail: Option<String>,
) -> AuditEvent {
    AuditEvent {
        kind,
        at: now_text(),
        origin: origin.to_string(),
        node: fed.nation().to_string(),
        partner: Some(partner.to_string()),
        object_id: change.object.id.clone(),
        version: change.object.taxii_version(),
        digest,
        detail,
    }
}

/// Why a release was permitted, for the audit log: the agreement and article.
fn permit_detail(release: &Release) -> String {
    let d = &release.object_decision;
    let mut s = match (d.agreement(), d.clause()) {
        (Some(a), Some(c)) => format!("agreement {a} {c}"),
        _ => d.to_string(),
    };
    if release.verdict == ReleaseVerdict::Partial {
        let cut = release
            .portions
            .iter()
            .filter(|(_, d)| !d.is_permit())
            .count();
        s.push_str(&format!("; tear-lined ({cut} portions withheld)"));
    }
    s
}

fn deny_detail(release: &Release) -> String {
    match &release.required_denied {
        Some(p) => format!("required property {p} not releasable"),
        None => release.object_decision.to_string(),
    }
}

async fn prepare(
    fed: &Federation,
    partner: &PartnerConfig,
    page: &[Change],
) -> Result<Prepared, FederationError> {
    let me = fed.nation();
    let to = partner.nation;
    let day = today();
    let store = fed.node.store();
    let mut out = Prepared {
        envelopes: Vec::new(),
        sent: Vec::new(),
        denied: Vec::new(),
    };
    let mut parsed: Vec<Option<Value>> = Vec::with_capacity(page.len());
    for c in page {
        let skip = matches!(
            c.object.kind.as_str(),
            "marking-definition" | "extension-definition"
        ) || c.object.originator == to;
        parsed.push(if skip {
            None
        } else {
            match serde_json::from_str::<Value>(&c.object.json) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(object_id = %c.object.id, error = %e, "stored object is not JSON; not federated");
                    None
                }
            }
        });
    }
    let values: Vec<&Value> = parsed.iter().flatten().collect();
    fed.node.load_markings(&values).await?;
    let lookup = |id: &str| fed.node.cached_label(id);
    let policy = fed.node.release_policy();
    for (c, value) in page.iter().zip(&parsed) {
        let Some(value) = value else { continue };
        let origin = c.object.originator;
        let release = policy.release_object(value, &lookup, origin, to, day);
        if c.deleted {
            // A recall goes to the partners that may hold the version, signed by the origin.
            if !matches!(&release, Ok(r) if r.verdict != ReleaseVerdict::Deny) {
                continue;
            }
            let binding = if origin == me {
                bind_recall(&fed.identity, &c.object.id, &c.object.version)?
            } else {
                let held = store
                    .binding(&c.collection, &c.object.id, &c.object.version_key)
                    .await?;
                match held
                    .and_then(|b| b.recall)
                    .and_then(|r| serde_json::from_str::<Binding>(&r).ok())
                {
                    Some(b) => b,
                    None => continue,
                }
            };
            let digest = binding.digest.clone();
            out.envelopes.push(seal(
                me,
                &partner.identity,
                &c.collection,
                &Payload::Recall { binding },
            )?);
            out.sent.push(event(
                fed,
                EventKind::Recall,
                origin,
                to,
                c,
                digest,
                Some(format!("recall sent to {to}")),
            ));
            continue;
        }
        let release = match release {
            Ok(r) => r,
            Err(e) => {
                out.denied.push(event(
                    fed,
                    EventKind::Deny,
                    origin,
                    to,
                    c,
                    sha256_hex(value)?,
                    Some(format!("labels: {e}")),
                ));
                continue;
            }
        };
        let copy = match (&release.verdict, &release.object) {
            (ReleaseVerdict::Deny, _) | (_, None) => {
                out.denied.push(event(
                    fed,
                    EventKind::Deny,
                    origin,
                    to,
                    c,
                    sha256_hex(value)?,
                    Some(deny_detail(&release)),
                ));
                continue;
            }
            (_, Some(copy)) => copy,
        };
        let payload = if origin == me {
            let binding = bind(&fed.identity, copy, &release.markings)?;
            Payload::Object {
                object: copy.clone(),
                markings: release.markings.clone(),
                binding,
            }
        } else {
            match re_release(fed, c, value, copy, &release).await? {
                Ok(p) => p,
                Err(reason) => {
                    out.denied.push(event(
                        fed,
                        EventKind::Deny,
                        origin,
                        to,
                        c,
                        sha256_hex(value)?,
                        Some(reason),
                    ));
                    continue;
                }
            }
        };
        let digest = payload.binding().digest.clone();
        out.envelopes
            .push(seal(me, &partner.identity, &c.collection, &payload)?);
        out.sent.push(event(
            fed,
            EventKind::Release,
            origin,
            to,
            c,
            digest,
            Some(permit_detail(&release)),
        ));
    }
    Ok(out)
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
) -> Result<Result<Payload, String>, FederationError> {
    let store = fed.node.store();
    let Some(held) = store
        .binding(&c.collection, &c.object.id, &c.object.version_key)
        .await?
    else {
        return Ok(Err("no binding of the originator held".into()));
    };
    let binding: Binding = match serde_json::from_str(&held.binding) {
        Ok(b) => b,
        Err(e) => return Ok(Err(format!("stored binding unreadable: {e}"))),
    };
    if release.verdict != ReleaseVerdict::Permit || canonical_json(copy)? != canonical_json(value)?
    {
        return Ok(Err(format!(
            "re-release would alter the copy {} bound",
            c.object.originator
        )));
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
    Ok(Ok(Payload::Object {
        object: value.clone(),
        markings,
        binding,
    }))
}
