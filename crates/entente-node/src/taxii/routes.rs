//! The router of the TAXII routes and its middleware (one span per request, answers counted by
//! class), and what every handler checks first: the caller, what it accepts, its rights on a
//! collection.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use entente_store::{CollectionRight, User};
use tracing::Instrument;

use super::collections::{api_root, collection, collections, discovery};
use super::manifest::manifest;
use super::objects::{get_object, get_objects, post_objects};
use super::status::status;
use super::versions::{delete_object, versions};
use super::{error, Shared};
use crate::auth::authenticate;
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::{Node, MEDIA_TYPE_TAXII};

pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/api/", get(api_root))
        .route("/api/status/{id}/", get(status))
        .route("/api/collections/", get(collections))
        .route("/api/collections/{cid}/", get(collection))
        .route(
            "/api/collections/{cid}/objects/",
            get(get_objects).post(post_objects),
        )
        .route(
            "/api/collections/{cid}/objects/{oid}/",
            get(get_object).delete(delete_object),
        )
        .route(
            "/api/collections/{cid}/objects/{oid}/versions/",
            get(versions),
        )
        .route("/api/collections/{cid}/manifest/", get(manifest))
        .merge(crate::openapi::public_routes().split_for_parts().0)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(node.clone(), observe))
        .with_state(node)
}

/// One span per request; counts answers by class.
async fn observe(State(node): Shared, request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = std::time::Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let m = &node.metrics;
    m.answer_seconds.observe(started.elapsed().as_secs_f64());
    Metrics::add(&m.requests, 1);
    let status = response.status();
    if status.is_client_error() {
        Metrics::add(&m.client_errors, 1);
    } else if status.is_server_error() {
        Metrics::add(&m.server_errors, 1);
    }
    span.in_scope(|| tracing::debug!(status = status.as_u16(), "answered"));
    response
}

/// Whether a media type (with parameters) is TAXII 2.1 JSON.
pub(super) fn is_taxii_media(text: &str) -> bool {
    let mut parts = text.split(';').map(|p| p.trim().to_ascii_lowercase());
    if parts.next().as_deref() != Some("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some(("version", v)) => v.trim_matches('"') == "2.1",
        _ => true,
    })
}

pub(super) fn acceptable(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::ACCEPT) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    text.split(',').any(|item| {
        let media = item.split(';').next().unwrap_or("").trim();
        media == "*/*" || media == "application/*" || is_taxii_media(item)
    })
}

/// The authenticated user, when the request accepts TAXII answers.
pub(super) async fn caller(node: &Node, headers: &HeaderMap) -> Result<User, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, headers).await?;
    if !acceptable(headers) {
        return Err(error(
            NodeErrorKind::NotAcceptable,
            format!("this server answers {MEDIA_TYPE_TAXII}"),
        ));
    }
    Ok(user)
}

/// Whether collection `cid` exists: from the ids already seen, else from the store.
pub(super) async fn collection_exists(node: &Node, cid: &str) -> Result<bool, NodeError> {
    if node
        .known_collections
        .read()
        .is_ok_and(|known| known.contains(cid))
    {
        return Ok(true);
    }
    let all = node.store.collections().await?;
    let exists = all.iter().any(|c| c.id == cid);
    if let Ok(mut known) = node.known_collections.write() {
        known.extend(all.into_iter().map(|c| c.id));
    }
    Ok(exists)
}

/// The user's rights on a collection that exists; a collection the user has no right on does
/// not exist for them (404).
pub(super) async fn right(
    node: &Node,
    user: &User,
    cid: &str,
    write: bool,
) -> Result<CollectionRight, NodeError> {
    let not_found = || error(NodeErrorKind::NotFound, format!("no collection {cid:?}"));
    let right = user
        .right(cid)
        .filter(|r| r.read || r.write)
        .cloned()
        .ok_or_else(not_found)?;
    if !collection_exists(node, cid).await? {
        return Err(not_found());
    }
    if write && !right.write {
        return Err(error(
            NodeErrorKind::Forbidden,
            format!("no write access to collection {cid:?}"),
        ));
    }
    if !write && !right.read {
        return Err(error(
            NodeErrorKind::Forbidden,
            format!("no read access to collection {cid:?}"),
        ));
    }
    Ok(right)
}

async fn fallback() -> NodeError {
    error(NodeErrorKind::NotFound, "no such resource")
}
