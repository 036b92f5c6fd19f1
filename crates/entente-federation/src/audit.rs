//! The audit log's place in federation: local publish and recall events, the audit routes, and
//! the periodic check that each partner shows one consistent history.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use entente_audit::{
    check_consistent, parse_vkey, AuditEvent, Checkpoint, ConsistencyProof, EventKind, Journal,
    NoteVerifier,
};
use entente_policy::KindRule;
use entente_store::Cursor;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::client::PartnerClient;
use crate::config::PartnerConfig;
use entente_node::clock::now_text;

use crate::{Federation, FederationError};

/// The most entries one `GET /audit/entries` returns.
const MAX_ENTRIES: u64 = 1000;
const LOCAL_CURSOR: &str = "federation/audit/local";

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}

/// A query parameter of the audit routes that is missing or not a number.
#[derive(Debug, thiserror::Error)]
enum QueryError {
    #[error("missing query parameter {0}")]
    Missing(String),
    #[error("query parameter {0} must be a non-negative integer")]
    NotANumber(String),
}

fn number(params: &HashMap<String, String>, name: &str) -> Result<u64, QueryError> {
    params
        .get(name)
        .ok_or_else(|| QueryError::Missing(name.to_owned()))?
        .parse()
        .map_err(|_| QueryError::NotANumber(name.to_owned()))
}

fn failed(e: entente_audit::AuditError) -> Response {
    let status = match e.code() {
        entente_types::ErrorCode::InvalidInput | entente_types::ErrorCode::NotFound => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, e.to_string()).into_response()
}

fn json(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// `GET /audit/checkpoint` (the signed note, text/plain), `GET
/// /audit/proof/inclusion?index=&size=`, `GET /audit/proof/consistency?first=&second=`, `GET
/// /audit/entries?start=&end=` (at most 1000).
pub fn audit_routes(log: Arc<Journal>) -> Router {
    audit_api().with_state(log).split_for_parts().0
}

/// The audit routes with their OpenAPI description (each declared once, on its handler).
pub(crate) fn audit_api() -> OpenApiRouter<Arc<Journal>> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(entries))
}

type Params = Query<HashMap<String, String>>;

/// The latest signed checkpoint.
///
/// A C2SP signed note: origin `entente.audit/<NATION>`, tree size, base64 root hash (RFC 9162),
/// and an Ed25519 signature line.
#[utoipa::path(
    get,
    path = "/audit/checkpoint",
    tag = "audit",
    operation_id = "audit_checkpoint",
    responses(
        (status = 200, description = "The signed checkpoint.", body = String, content_type = "text/plain"),
        (status = 500, description = "The log cannot be read.", body = String, content_type = "text/plain"),
    )
)]
async fn checkpoint(State(log): State<Arc<Journal>>) -> Response {
    match log.checkpoint().await {
        Ok(c) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            c.note,
        )
            .into_response(),
        Err(e) => failed(e),
    }
}

/// Inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3).
#[utoipa::path(
    get,
    path = "/audit/proof/inclusion",
    tag = "audit",
    operation_id = "audit_inclusion_proof",
    params(
        ("index" = u64, Query, description = "The entry, from 0."),
        ("size" = u64, Query, description = "The tree size the proof is for (that of a checkpoint)."),
    ),
    responses(
        (status = 200, description = "The proof: leaf index, tree size and the audit path (base64 hashes).", body = Object, content_type = "application/json"),
        (status = 400, description = "A parameter missing or out of range.", body = String, content_type = "text/plain"),
        (status = 500, description = "The log cannot be read.", body = String, content_type = "text/plain"),
    )
)]
async fn inclusion(State(log): State<Arc<Journal>>, Query(p): Params) -> Response {
    let (index, size) = match (number(&p, "index"), number(&p, "size")) {
        (Ok(i), Ok(s)) => (i, s),
        (Err(r), _) | (_, Err(r)) => return bad(r.to_string()),
    };
    match log.prove_inclusion(index, size).await {
        Ok(proof) => json(proof.to_json()),
        Err(e) => failed(e),
    }
}

/// Consistency proof between the trees of `first` and `second` entries (RFC 9162 §2.1.4).
#[utoipa::path(
    get,
    path = "/audit/proof/consistency",
    tag = "audit",
    operation_id = "audit_consistency_proof",
    params(
        ("first" = u64, Query, description = "The older tree size."),
        ("second" = u64, Query, description = "The newer tree size."),
    ),
    responses(
        (status = 200, description = "The proof: both sizes and the path (base64 hashes).", body = Object, content_type = "application/json"),
        (status = 400, description = "A parameter missing or out of range.", body = String, content_type = "text/plain"),
        (status = 500, description = "The log cannot be read.", body = String, content_type = "text/plain"),
    )
)]
async fn consistency(State(log): State<Arc<Journal>>, Query(p): Params) -> Response {
    let (first, second) = match (number(&p, "first"), number(&p, "second")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return bad(r.to_string()),
    };
    match log.prove_consistency(first, second).await {
        Ok(proof) => json(proof.to_json()),
        Err(e) => failed(e),
    }
}

/// The entries `start..end` (at most 1000), as audit events.
#[utoipa::path(
    get,
    path = "/audit/entries",
    tag = "audit",
    operation_id = "audit_entries",
    params(
        ("start" = u64, Query, description = "The first entry, from 0."),
        ("end" = u64, Query, description = "One past the last entry; at most start + 1000."),
    ),
    responses(
        (status = 200, description = "The events (publish, release, receive, deny, recall) in log order.", body = Vec<Object>, content_type = "application/json"),
        (status = 400, description = "A parameter missing, a range reversed or longer than 1000.", body = String, content_type = "text/plain"),
        (status = 500, description = "The log cannot be read.", body = String, content_type = "text/plain"),
    )
)]
async fn entries(State(log): State<Arc<Journal>>, Query(p): Params) -> Response {
    let (start, end) = match (number(&p, "start"), number(&p, "end")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return bad(r.to_string()),
    };
    if end < start || end - start > MAX_ENTRIES {
        return bad(format!(
            "need start <= end and at most {MAX_ENTRIES} entries"
        ));
    }
    match log.entries(start..end).await {
        Ok(list) => match serde_json::to_string(&list) {
            Ok(text) => json(text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        Err(e) => failed(e),
    }
}

/// The source stream of the events taken from the store's change stream (`change/<seq>`).
const CHANGE_STREAM: &str = "change";

/// Records the node's own publishes and deletes (recalls at the origin) from the change stream,
/// in `seq` order, each event carrying its `change/<seq>`. It starts past the higher of its
/// cursor and the log's highest `change` position: the append and the cursor's move are two
/// steps, and a crash between them leaves the cursor behind what the log holds, which is not
/// appended again (the log leaves out, in the append itself, every change at or below its
/// highest `change` position; so several processes of a node may follow the stream at once).
/// The cursor still saves walking the pages that record nothing (other nations' objects).
pub async fn record_local(
    fed: Arc<Federation>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    let store = fed.node.store().clone();
    let me = fed.nation();
    let saved = store.cursor(LOCAL_CURSOR).await?.map_or(0, |c| c.seq);
    let recorded = fed
        .audit
        .position(CHANGE_STREAM)
        .await?
        .map_or(0, |p| i64::try_from(p).unwrap_or(i64::MAX));
    let mut cursor = saved.max(recorded);
    // Where a restart would begin (the saved cursor or the log's position): pages that record
    // nothing (versions received from partners) are passed over without saving the cursor,
    // until the stream goes quiet.
    let mut resume_at = cursor;
    let mut changes = fed.node.watch_changes();
    loop {
        changes.borrow_and_update();
        let page = store.changes(cursor, 1000).await?;
        let Some(last) = page.last().map(|c| c.object.seq) else {
            if resume_at < cursor {
                save_local_cursor(&store, cursor).await?;
                resume_at = cursor;
            }
            tokio::select! {
                _ = crate::stopped(&mut shutdown) => return Ok(()),
                _ = changes.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            continue;
        };
        let mut events = Vec::new();
        // One instant for the page: the events are recorded together.
        let at = now_text();
        for c in &page {
            let o = &c.object;
            if o.originator != me || !KindRule::of(&o.kind).is_federated() {
                continue;
            }
            // The digest of the canonical form, read from the stored text (an unreadable one,
            // which ingest never stores, gets none).
            let digest = entente_seal::sha256_hex_text(&o.json).unwrap_or_default();
            events.push(AuditEvent {
                kind: if c.deleted {
                    EventKind::Recall
                } else {
                    EventKind::Publish
                },
                at: at.clone(),
                origin: me.to_string(),
                node: me.to_string(),
                partner: None,
                object_id: o.id.clone(),
                version: o.taxii_version(),
                digest,
                detail: Some(format!("collection {}", c.collection)),
                source: Some(format!("{CHANGE_STREAM}/{}", o.seq)),
            });
        }
        cursor = last;
        if !events.is_empty() {
            fed.audit.append(events).await?;
            crate::failpoint("after-local-append");
            save_local_cursor(&store, cursor).await?;
            resume_at = cursor;
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// Saves how far the local recorder has walked the change stream. Only a shortcut for the next
/// start: what it recorded is also known from the audit log's position, and walking again what
/// it passed over records nothing.
async fn save_local_cursor(
    store: &Arc<dyn entente_store::Store>,
    seq: i64,
) -> Result<(), FederationError> {
    let cursor = Cursor {
        seq,
        fingerprint: String::new(),
    };
    Ok(store.set_cursor(LOCAL_CURSOR, &cursor).await?)
}

/// Fetches a partner's checkpoint now and then, verifies its signature, and proves it consistent
/// with the last one kept (beside the audit log: in its folder, or in the database, where every
/// process of the node keeps the same one). A split view is logged as an error and the old checkpoint is kept.
pub async fn watch_partner(
    fed: Arc<Federation>,
    partner: PartnerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    let Some(vkey) = partner.audit_key.as_deref() else {
        return Ok(());
    };
    let (_, key) = parse_vkey(vkey).map_err(|e| {
        FederationError::config(format!("partner {} audit_key: {e}", partner.nation))
    })?;
    let verifier = NoteVerifier::new(partner.nation.as_str(), key);
    let tls = fed.tls.client(partner.nation).ok_or_else(|| {
        FederationError::config(format!("no TLS client for partner {}", partner.nation))
    })?;
    let mut client = PartnerClient::new(&partner, tls)?;
    let partner_name = partner.nation.as_str();
    let mut kept: Option<Checkpoint> = match fed.audit.kept_checkpoint(partner_name).await {
        Ok(note) => note.and_then(|note| verifier.verify(&note).ok()),
        Err(e) => {
            tracing::warn!(partner = %partner.nation, error = %e, "cannot read the kept partner checkpoint");
            None
        }
    };
    loop {
        match check_once(&mut client, &verifier, kept.as_ref()).await {
            Ok(newer) => {
                if kept.as_ref().is_none_or(|k| newer.size >= k.size) {
                    if let Err(e) = fed.audit.keep_checkpoint(partner_name, &newer).await {
                        tracing::warn!(partner = %partner.nation, error = %e, "cannot keep the partner checkpoint");
                    }
                    tracing::debug!(partner = %partner.nation, size = newer.size, "partner audit log consistent");
                    fed.status.checkpoint_checked(
                        partner.nation,
                        entente_node::clock::now_us(),
                        crate::status::CheckpointState::Consistent {
                            size: newer.size,
                            root: base64::engine::general_purpose::STANDARD.encode(newer.root),
                        },
                    );
                    kept = Some(newer);
                }
            }
            Err(CheckError::SplitView(message)) => {
                tracing::error!(partner = %partner.nation, %message, "SPLIT VIEW: partner audit log shows an inconsistent history");
                fed.status
                    .split_view(partner.nation, entente_node::clock::now_us(), message);
            }
            Err(CheckError::Unreachable(message)) => {
                tracing::debug!(partner = %partner.nation, %message, "partner checkpoint not fetched");
                fed.status.checkpoint_checked(
                    partner.nation,
                    entente_node::clock::now_us(),
                    crate::status::CheckpointState::Unreachable(message),
                );
            }
        }
        tokio::select! {
            _ = crate::stopped(&mut shutdown) => return Ok(()),
            _ = tokio::time::sleep(fed.config.checkpoint_interval) => {}
        }
    }
}

enum CheckError {
    SplitView(String),
    Unreachable(String),
}

async fn check_once(
    client: &mut PartnerClient,
    verifier: &NoteVerifier,
    kept: Option<&Checkpoint>,
) -> Result<Checkpoint, CheckError> {
    let (status, body) = client
        .request(hyper::Method::GET, "/audit/checkpoint", Vec::new())
        .await
        .map_err(|e| CheckError::Unreachable(e.to_string()))?;
    if !status.is_success() {
        return Err(CheckError::Unreachable(format!("checkpoint: {status}")));
    }
    let note = String::from_utf8_lossy(&body).into_owned();
    let newer = verifier
        .verify(&note)
        .map_err(|e| CheckError::SplitView(format!("checkpoint signature: {e}")))?;
    let Some(older) = kept else {
        return Ok(newer);
    };
    let (a, b) = if older.size <= newer.size {
        (older, &newer)
    } else {
        (&newer, older)
    };
    let (status, body) = client
        .request(
            hyper::Method::GET,
            &format!(
                "/audit/proof/consistency?first={}&second={}",
                a.size, b.size
            ),
            Vec::new(),
        )
        .await
        .map_err(|e| CheckError::Unreachable(e.to_string()))?;
    if !status.is_success() {
        return Err(CheckError::SplitView(format!(
            "no consistency proof from {} to {}: {status} {}",
            a.size,
            b.size,
            String::from_utf8_lossy(&body)
        )));
    }
    let proof = ConsistencyProof::from_json(&body)
        .map_err(|e| CheckError::SplitView(format!("consistency proof: {e}")))?;
    check_consistent(a, b, &proof.hashes).map_err(|e| CheckError::SplitView(e.to_string()))?;
    Ok(newer)
}
