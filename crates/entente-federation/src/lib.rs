//! Federation between national nodes: each node replicates to each partner exactly what the
//! release policy lets that partner receive, bound to its labels, sealed to the partner's key,
//! over mutually authenticated TLS, and records every step in its audit log.
//!
//! - [`config`]: the `[federation]` table of `node.toml` (partners: nation, URL, TLS CA, public
//!   identity, audit key).
//! - [`tls`]: rustls server and clients, partner recognition from the client certificate, and the
//!   development PKI.
//! - `dispatch`: one task per partner walks the node's change stream from a durable cursor,
//!   decides each version with `ReleasePolicy::release_stored` (the only release path), binds and
//!   seals the tear-lined copy, and delivers batches with jittered exponential backoff; the cursor
//!   moves only on the partner's acknowledgement, which makes delivery resumable, ordered per
//!   origin and restart-safe. Deletes travel as signed recalls.
//! - `receive`: the inbox checks the TLS peer, opens each envelope, verifies the origin's binding,
//!   validates the STIX object, checks that this nation is entitled to it, and stores it
//!   idempotently as received from its origin.
//! - `audit`: publish, release, deny, receive and recall events in the node's Merkle log; the
//!   audit routes; the periodic check of partners' checkpoints for split views.
//! - [`audit_client`]: the HTTP client of a node's audit routes that verifies what it fetches
//!   (`entente audit … --url`, `entente demo`).

mod audit;
pub mod audit_client;
pub mod client;
pub mod config;
pub mod crisis_client;
mod dispatch;
mod error;
mod receive;
pub mod serve;
mod server;
pub mod setup;
pub mod status;
pub mod tls;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use entente_audit::{AuditLog, Journal, PgAuditLog};
use entente_node::clock::today;
use entente_node::Node;
use entente_seal::{NodeIdentity, Signers};
use entente_types::NationCode;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

pub use crate::audit::audit_routes;
pub use crate::audit_client::AuditClient;
pub use crate::config::{initial_table, partner_block, FederationConfig, PartnerConfig};
pub use crate::crisis_client::CrisisClient;
pub use crate::error::FederationError;
pub use crate::status::{CheckpointState, LinkState, PartnerStatus, SplitView};
pub use crate::tls::{generate_dev_pki, DevPki};

/// Federation's part of the node's OpenAPI document: the audit routes and the inbox (see
/// `entente_node::openapi::document`).
pub fn openapi() -> entente_node::openapi::Document {
    let mut doc = audit::audit_api().into_openapi();
    doc.merge(server::inbox_api().into_openapi());
    doc
}

/// A node's federation: its keys, partners, TLS and audit log.
pub struct Federation {
    pub(crate) node: Arc<Node>,
    pub(crate) config: FederationConfig,
    pub(crate) identity: NodeIdentity,
    pub(crate) signers: Signers,
    pub(crate) tls: tls::Tls,
    /// The node's audit log: in PostgreSQL when the store is (shared by every process of the
    /// node), else in the audit folder.
    pub(crate) audit: Arc<Journal>,
    /// A digest of the registry and policies in force, and the registry's epoch today (the last
    /// day on which a membership or an agreement started or stopped holding): when it changes,
    /// every partner's stream is walked again so that what became releasable is sent (a nation
    /// acceding to NATO receives what NATO SECRET objects it now may from its accession day).
    pub(crate) fingerprint: std::sync::RwLock<String>,
    /// The policy data's digest alone.
    policy_digest: String,
    /// Bumped by [`Federation::rescan`]: running dispatchers start again from the beginning.
    pub(crate) rescans: watch::Sender<u64>,
    /// Held while the pending audit intents are appended and cleared (one drain at a time).
    intents_drain: tokio::sync::Mutex<()>,
    /// Told when a commit has kept intents (the inbox's receive events, a dispatcher's release
    /// events): the intent recorder drains them.
    intents_kept: tokio::sync::Notify,
    /// Each link's state and counts since the process started, for the console.
    pub(crate) status: status::PartnerStatuses,
    /// The dispatch leases this process holds (readiness: each must still be held).
    pub(crate) leases: Arc<HeldLeases>,
}

/// The dispatch leases a process holds, by partner.
#[derive(Default)]
pub(crate) struct HeldLeases(
    std::sync::Mutex<std::collections::BTreeMap<NationCode, Arc<entente_store::Lease>>>,
);

impl HeldLeases {
    pub(crate) fn hold(&self, partner: NationCode, lease: Arc<entente_store::Lease>) {
        if let Ok(mut held) = self.0.lock() {
            held.insert(partner, lease);
        }
    }

    pub(crate) fn release(&self, partner: NationCode) {
        if let Ok(mut held) = self.0.lock() {
            held.remove(&partner);
        }
    }

    /// The partners whose lease this process holds.
    pub(crate) fn partners(&self) -> Vec<NationCode> {
        self.0
            .lock()
            .map(|h| h.keys().copied().collect())
            .unwrap_or_default()
    }

    /// `Err` naming the partners whose lease is lost but not yet let go of.
    fn check(&self) -> Result<(), String> {
        let lost: Vec<String> = self
            .0
            .lock()
            .map(|h| {
                h.iter()
                    .filter(|(_, l)| l.is_lost())
                    .map(|(p, _)| p.to_string())
                    .collect()
            })
            .unwrap_or_default();
        if lost.is_empty() {
            Ok(())
        } else {
            Err(format!("lost the dispatch lease of {}", lost.join(", ")))
        }
    }
}

/// The change-stream positions a partner has not acknowledged yet, counted up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Positions counted (at most the cap).
    pub count: usize,
    /// Whether there are more than the cap.
    pub more: bool,
}

/// The source stream of the events kept as audit intents in the store (`intent/<seq>`).
const INTENT_STREAM: &str = "intent";
/// Intents appended per batch when draining.
const INTENT_PAGE: usize = 4096;

/// The audit log folder of a node whose keys are at `keys`.
pub fn audit_dir(config: &FederationConfig) -> PathBuf {
    config
        .keys
        .parent()
        .map(|p| p.join("audit"))
        .unwrap_or_else(|| PathBuf::from("audit"))
}

/// A digest of every file under the policy data folder (registry and policies), in path order.
fn policy_fingerprint(dir: &std::path::Path) -> String {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(
            f.strip_prefix(dir)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.update([0]);
        h.update(std::fs::read(&f).unwrap_or_default());
        h.update([0]);
    }
    entente_seal::canonical::hex(&h.finalize())
}

/// The fingerprint of what decides releases on `day`: the policy data's digest and the
/// registry's epoch that day.
fn fingerprint_on(node: &Node, policy_digest: &str, day: entente_types::Date) -> String {
    match node.registry().epoch(day) {
        Some(epoch) => format!("{policy_digest}@{epoch}"),
        None => policy_digest.to_owned(),
    }
}

/// Checks, every minute, whether the registry's epoch moved (a day passed on which a
/// membership or an agreement started or stopped holding); if it did, every partner's stream is
/// walked again.
async fn watch_registry_days(
    fed: Arc<Federation>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        let now = fingerprint_on(&fed.node, &fed.policy_digest, today());
        if now != fed.fingerprint() {
            tracing::info!(day = %today(), "the registry's memberships or agreements in force changed today: walking every stream again");
            if let Ok(mut f) = fed.fingerprint.write() {
                *f = now;
            }
            fed.rescan().await?;
        }
    }
}

impl Federation {
    /// The fingerprint partner cursors are kept under.
    pub(crate) fn fingerprint(&self) -> String {
        self.fingerprint
            .read()
            .map(|f| f.clone())
            .unwrap_or_default()
    }

    /// The federation of a node, or `None` when its config has no `[federation]` table. The
    /// audit log is in the node's PostgreSQL database when its store is there (one log for every
    /// process of the node), else in the audit folder beside the keys.
    pub async fn open(node: Arc<Node>) -> Result<Option<Arc<Federation>>, FederationError> {
        let Some(table) = node.config().federation.clone() else {
            return Ok(None);
        };
        let config = FederationConfig::from_table(&table, &node.config().base_dir)?;
        let identity = NodeIdentity::load(&config.keys)?;
        if identity.nation() != node.config().nation {
            return Err(FederationError::config(format!(
                "{}: keys of {}, but the node is {}",
                config.keys.display(),
                identity.nation(),
                node.config().nation
            )));
        }
        let mut signers = Signers::new();
        signers.insert(identity.nation(), identity.public().signing);
        for p in &config.partners {
            signers.insert(p.nation, p.identity.signing);
        }
        let tls = tls::Tls::load(&config)?;
        let nation = identity.nation();
        let origin = nation.as_str();
        let key = identity.signing_key().clone();
        let audit = Arc::new(match node.postgres_pool() {
            Some(pool) => Journal::from(PgAuditLog::open(pool, origin, key).await?),
            None => Journal::from(AuditLog::open(&audit_dir(&config), origin, key)?),
        });
        let log = audit.clone();
        node.add_readiness_check(
            "audit log",
            Box::new(move || {
                let log = log.clone();
                Box::pin(async move { log.size().await.map(|_| ()).map_err(|e| e.to_string()) })
            }),
        );
        let leases = Arc::new(HeldLeases::default());
        let held = leases.clone();
        node.add_readiness_check(
            "dispatch leases",
            Box::new(move || {
                let outcome = held.check();
                Box::pin(async move { outcome })
            }),
        );
        let policy_digest = policy_fingerprint(&node.config().policy_data);
        let fingerprint = std::sync::RwLock::new(fingerprint_on(&node, &policy_digest, today()));
        Ok(Some(Arc::new(Federation {
            node,
            identity,
            signers,
            tls,
            audit,
            fingerprint,
            policy_digest,
            rescans: watch::Sender::new(0),
            intents_drain: tokio::sync::Mutex::new(()),
            intents_kept: tokio::sync::Notify::new(),
            status: status::PartnerStatuses::new(config.partners.iter().map(|p| p.nation)),
            leases,
            config,
        })))
    }

    pub fn nation(&self) -> NationCode {
        self.identity.nation()
    }

    pub fn config(&self) -> &FederationConfig {
        &self.config
    }

    pub fn audit(&self) -> &Arc<Journal> {
        &self.audit
    }

    pub fn identity(&self) -> &NodeIdentity {
        &self.identity
    }

    pub fn tls(&self) -> &tls::Tls {
        &self.tls
    }

    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The partners this process dispatches to now (it holds their leases).
    pub fn dispatching_to(&self) -> Vec<NationCode> {
        self.leases.partners()
    }

    /// Each partner's link state and counts since the process started.
    pub fn partner_status(&self) -> std::collections::BTreeMap<NationCode, PartnerStatus> {
        self.status.snapshot()
    }

    /// The change-stream positions after `partner`'s cursor (what it has not acknowledged, for
    /// it or not), counted up to `cap`. A cursor of other policies counts from the start, as
    /// its dispatcher will walk again.
    pub async fn backlog(
        &self,
        partner: NationCode,
        cap: usize,
    ) -> Result<Backlog, FederationError> {
        let store = self.node.store();
        let from = match store.cursor(&dispatch::cursor_name(partner)).await? {
            Some(c) if c.fingerprint == self.fingerprint() => c.seq,
            _ => 0,
        };
        let page = store.changes(from, cap.saturating_add(1)).await?;
        Ok(Backlog {
            count: page.len().min(cap),
            more: page.len() > cap,
        })
    }

    /// Checks again the origin's binding of a version held here (received from a partner):
    /// that it covers the stored text and the marking definitions it refers to, signed by the
    /// origin's known key. `Ok(None)` when the version has no binding (published here).
    pub async fn verify_held(
        &self,
        collection: &str,
        id: &str,
        version_key: &str,
    ) -> Result<Option<Result<(), entente_seal::SealError>>, FederationError> {
        let store = self.node.store();
        let Some(record) = store.binding(collection, id, version_key).await? else {
            return Ok(None);
        };
        let binding: entente_seal::Binding = match serde_json::from_str(&record.binding) {
            Ok(b) => b,
            Err(e) => {
                return Ok(Some(Err(entente_seal::SealError::Json {
                    what: format!("the binding of {id} held here"),
                    message: e.to_string(),
                })))
            }
        };
        let versions = store.versions(collection, id).await?;
        let Some(held) = versions.iter().find(|v| v.version_key == version_key) else {
            return Ok(None);
        };
        let object: serde_json::Value = match serde_json::from_str(&held.json) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Some(Err(entente_seal::SealError::Json {
                    what: format!("the stored text of {id}"),
                    message: e.to_string(),
                })))
            }
        };
        let mut markings: Vec<serde_json::Value> = Vec::new();
        for marking_id in entente_seal::binding::referenced_markings(&object) {
            if let Some(m) = store.marking(&marking_id).await? {
                if let Ok(v) = serde_json::from_str(&m.json) {
                    markings.push(v);
                }
            }
        }
        Ok(Some(binding.verify_object(
            &self.signers,
            &object,
            &markings,
        )))
    }

    /// Runs the federation endpoint on `listener`, one dispatcher per partner, the audit
    /// recorder and the partners' checkpoint checks, until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), FederationError> {
        // Events a crash left between their commit and the audit log.
        self.record_intents().await?;
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(server::serve(self.clone(), listener, shutdown.clone()));
        tasks.spawn(in_background(
            "entente-audit",
            audit::record_local(self.clone(), shutdown.clone()),
        ));
        tasks.spawn(watch_registry_days(self.clone(), shutdown.clone()));
        tasks.spawn(record_intents_when_told(self.clone(), shutdown.clone()));
        for p in self.config.partners.clone() {
            tasks.spawn(dispatch::run(self.clone(), p.clone(), shutdown.clone()));
            if p.audit_key.is_some() {
                tasks.spawn(audit::watch_partner(self.clone(), p, shutdown.clone()));
            }
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "federation task failed");
                    return Err(e);
                }
                Err(e) => {
                    return Err(FederationError::config(format!("federation task: {e}")));
                }
            }
        }
        Ok(())
    }

    /// Appends audit events (those whose source is already recorded are left out); returns once
    /// they are durable.
    pub(crate) async fn append_audit(
        &self,
        events: Vec<entente_audit::AuditEvent>,
    ) -> Result<(), FederationError> {
        self.audit.append(events).await?;
        Ok(())
    }

    /// Appends the pending audit intents to the audit log in position order, each as
    /// `intent/<seq>`, then clears them from the store. Intent positions are given in commit
    /// order, and the log leaves out, in the same step as the append, every intent at or below
    /// its highest `intent` position: those are already there (a crash came between their
    /// append and their clearing, or another process of the node drained them first), and are
    /// cleared without a second append. One drain runs at a time in a process; several
    /// processes may drain together. Run by the intent recorder after each commit that keeps
    /// intents ([`Federation::record_intents_soon`]), and at start-up.
    pub(crate) async fn record_intents(&self) -> Result<(), FederationError> {
        let _one_drain = self.intents_drain.lock().await;
        let store = self.node.store();
        loop {
            let pending = store.audit_intents(INTENT_PAGE).await?;
            let Some(last) = pending.last().map(|i| i.seq) else {
                return Ok(());
            };
            let mut events = Vec::with_capacity(pending.len());
            for intent in &pending {
                let seq = u64::try_from(intent.seq).unwrap_or(0);
                let mut event = entente_audit::AuditEvent::from_json(intent.event.as_bytes())
                    .map_err(|e| {
                        entente_store::StoreError::from(entente_store::StoreErrorKind::Corrupt(
                            format!("audit intent {}: {e}", intent.seq),
                        ))
                    })?;
                event.source = Some(format!("{INTENT_STREAM}/{seq}"));
                events.push(event);
            }
            let appended = self.audit.append(events).await?;
            if !appended.leaves.is_empty() {
                failpoint("after-intent-append");
            }
            store.clear_audit_intents(last).await?;
            if pending.len() < INTENT_PAGE {
                return Ok(());
            }
        }
    }

    /// Has the intent recorder drain the intents a commit kept, soon, without waiting for it.
    pub(crate) fn record_intents_soon(&self) {
        self.intents_kept.notify_one();
    }

    /// Makes every partner's dispatcher walk the whole stream again (after a registry change,
    /// or on request): what has become releasable is sent, what was sent is acknowledged as a
    /// duplicate.
    pub async fn rescan(&self) -> Result<(), FederationError> {
        for p in &self.config.partners {
            self.node
                .store()
                .set_cursor(
                    &dispatch::cursor_name(p.nation),
                    &entente_store::Cursor {
                        seq: 0,
                        fingerprint: self.fingerprint(),
                    },
                )
                .await?;
        }
        self.rescans.send_modify(|n| *n = n.wrapping_add(1));
        self.node.notify_changed();
        Ok(())
    }
}

/// What the audit events of one page or batch share: this node, and one instant (they are
/// recorded together).
pub(crate) struct Stamp<'a> {
    fed: &'a Federation,
    at: String,
}

impl<'a> Stamp<'a> {
    pub(crate) fn now(fed: &'a Federation) -> Stamp<'a> {
        Stamp {
            fed,
            at: entente_node::clock::now_text(),
        }
    }

    /// The event of one object version, from or to `partner`.
    pub(crate) fn event(
        &self,
        kind: entente_audit::EventKind,
        origin: &str,
        partner: NationCode,
        (object_id, version): (&str, &str),
        digest: String,
        detail: Option<String>,
    ) -> entente_audit::AuditEvent {
        entente_audit::AuditEvent {
            kind,
            at: self.at.clone(),
            origin: origin.to_owned(),
            node: self.fed.nation().to_string(),
            partner: Some(partner.to_string()),
            object_id: object_id.to_owned(),
            version: version.to_owned(),
            digest,
            detail,
            source: None,
        }
    }
}

/// An event as an audit intent: its canonical JSON, checked now, since an intent the log
/// refused would stop every drain after it.
pub(crate) fn intent_of(event: &entente_audit::AuditEvent) -> Result<String, FederationError> {
    event.validate()?;
    let leaf = event.leaf_bytes();
    if leaf.len() > entente_audit::MAX_EVENT_BYTES {
        return Err(FederationError::config(format!(
            "audit event of {} {} is {} bytes, more than {}",
            event.kind.as_str(),
            event.object_id,
            leaf.len(),
            entente_audit::MAX_EVENT_BYTES
        )));
    }
    String::from_utf8(leaf).map_err(|e| FederationError::config(format!("audit event: {e}")))
}

/// The environment variable that arms a failpoint (a test hook, see [`failpoint`]).
pub const FAILPOINT_VAR: &str = "ENTENTE_FAILPOINT";

/// A test hook: when the environment variable `ENTENTE_FAILPOINT` names this point, the process
/// kills itself here with SIGKILL, as a crash or `kill -9` would at exactly this step. The
/// fault tests of the binary start real nodes with it to cut the steps that must survive a crash
/// (a store commit and the audit append after it, an append and what marks it recorded).
///
/// It is read in every build, not behind a cargo feature: the tests run the `entente` binary
/// that `cargo test` builds, and a crate's own tests cannot turn on its features. Unset, it
/// costs one comparison per batch. Points: `after-receive-commit`, `after-local-append`,
/// `after-intent-append`, `after-room-announced` (a partner acknowledged a batch carrying a
/// crisis room's descriptor; the cursor has not moved).
pub(crate) fn failpoint(name: &str) {
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var(FAILPOINT_VAR).ok());
    if armed.as_deref() == Some(name) {
        tracing::error!(failpoint = name, "failpoint reached: killing the process");
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // SIGKILL cannot be caught; should it fail to be sent, stop as abruptly anyway.
        std::process::abort();
    }
}

/// Completes when `shutdown` turns true (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, so callers stay `Send`.
    let _ = shutdown.wait_for(|s| *s).await.map(|_| ());
}

/// Sleeps, or returns true when shutdown comes first.
pub(crate) async fn sleep_or_stop(shutdown: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        _ = crate::stopped(shutdown) => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

/// Runs the CPU-bound work of a page or batch of `items`: on the blocking pool when large, so
/// the async workers stay free, and inline when small (a live write is one object, and a
/// hand-off to another thread would cost it more latency than the work itself).
pub(crate) async fn cpu_bound<R: Send + 'static>(
    items: usize,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, FederationError> {
    if items < 16 {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FederationError::config(format!("worker task: {e}")))
}

/// How long the intent recorder waits before it tries again after a failed drain.
const INTENT_RETRY: Duration = Duration::from_secs(1);

/// Drains the audit intents that commits keep, each time it is told to, until shutdown; then
/// once more, so that a clean stop leaves none. Intents stay in the store until the audit log
/// holds them, so a drain that fails (or a crash) loses nothing: the next one, or the next
/// start, appends them.
async fn record_intents_when_told(
    fed: Arc<Federation>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    loop {
        tokio::select! {
            _ = fed.intents_kept.notified() => {}
            _ = stopped(&mut shutdown) => return fed.record_intents().await,
        }
        if let Err(e) = fed.record_intents().await {
            tracing::error!(error = %e, "cannot record the audit intents; trying again");
            if sleep_or_stop(&mut shutdown, INTENT_RETRY).await {
                return fed.record_intents().await;
            }
            fed.record_intents_soon();
        }
    }
}

/// Runs `task` on a thread of its own, at a lower scheduling priority than the node's threads,
/// and answers with its result. For work that must be done but may wait: recording the node's
/// own publishes in the audit log (a digest of every object) follows the change stream, and
/// while the node ingests it should take the cores the ingest leaves, not half of them; it
/// catches up as soon as they are idle. Its threads (those of its store reads too) inherit the
/// priority. Dropping the returned future stops the task, as dropping a spawned task's handle
/// in a `JoinSet` would.
async fn in_background<F>(name: &str, task: F) -> Result<(), FederationError>
where
    F: std::future::Future<Output = Result<(), FederationError>> + Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    let (_cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            lower_priority();
            let outcome = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async {
                    tokio::select! {
                        outcome = task => outcome,
                        _ = cancelled => Ok(()),
                    }
                }),
                Err(e) => Err(FederationError::config(format!(
                    "cannot start a background runtime: {e}"
                ))),
            };
            let _ = done.send(outcome);
        })
        .map_err(|e| FederationError::config(format!("cannot start thread {name}: {e}")))?;
    result
        .await
        .map_err(|_| FederationError::config(format!("thread {name} ended without an answer")))?
}

/// Lowers the calling thread's priority (Linux: its nice value, which threads it starts
/// inherit); elsewhere nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux a nice value is per thread: no pid names the calling thread.
        if rustix::process::setpriority_process(None, 10).is_err() {
            tracing::debug!("could not lower the priority of a background thread");
        }
    }
}
