//! The node's own (non-TAXII) routes and their OpenAPI 3.1 document.
//!
//! Each route is declared once, by `#[utoipa::path]` on its handler, and added with
//! `utoipa_axum::routes!`: the router that serves it and the document that describes it are
//! built from that one declaration, so a route cannot be served without being described.
//! `entente-federation` does the same for the audit routes and its inbox; [`document`] merges
//! its part in. TAXII 2.1 is specified by OASIS and is not described here.
//!
//! Where each route is served (the operation's tag):
//! - `node`: the node's TAXII port (`listen`): `GET /health`, for liveness probes, and
//!   `GET /ready`, for readiness (a load balancer sends requests only to ready processes);
//! - `admin`: the admin listener (`[admin] listen`, loopback by default, plain HTTP, no
//!   authentication): `GET /metrics` (counts of objects served and withheld) and
//!   `GET /openapi.json` (this document);
//! - `audit` and `federation`: described by `entente-federation`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use utoipa::openapi::OpenApi as Document;

use crate::Node;

/// The document's header: title, licence and the listeners its tags stand for.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Entente national node: the node's own API",
        description = "Every route a node serves besides TAXII 2.1 (whose API root is /api/ and discovery /taxii2/; OASIS specifies it). The tag of each operation names the listener that serves it.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "node", description = "Served on the node's TAXII port (`listen` in node.toml), beside TAXII."),
        (name = "admin", description = "Served on the admin listener (`[admin] listen` in node.toml; `entente node init` puts it on 127.0.0.1:8600). Plain HTTP without authentication: keep it on loopback or a management network."),
        (name = "audit", description = "The verifiable audit log, served on the node's TAXII port and on the federation port when the node federates."),
        (name = "federation", description = "Node to node, on the federation port (`[federation] listen`), over mutually authenticated TLS."),
    )
)]
struct Header;

/// `GET /health`.
///
/// Liveness: the node answers. Served on the public port so that probes need no access to the
/// admin listener.
#[utoipa::path(
    get,
    path = "/health",
    tag = "node",
    operation_id = "health",
    responses(
        (status = 200, description = "The node is up.", body = String, content_type = "text/plain", example = "ok\n"),
    )
)]
async fn health() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// Counters in the Prometheus text format.
///
/// Requests answered, client and server errors, answer times, objects added, refused, served
/// and withheld. Admin listener only: the counts of withheld objects say something of what
/// exists beyond a client's clearance.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "admin",
    operation_id = "metrics",
    responses(
        (status = 200, description = "The counters (Prometheus text format 0.0.4).", body = String, content_type = "text/plain",
         example = "# TYPE entente_http_requests_total counter\nentente_http_requests_total 1\n"),
    )
)]
async fn metrics(State(node): State<Arc<Node>>) -> Response {
    let mut response = (StatusCode::OK, node.metrics.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// This document.
///
/// The OpenAPI 3.1 description of every route the node serves besides TAXII 2.1.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "admin",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json"),
    )
)]
async fn openapi_json(Extension(text): Extension<Arc<str>>) -> Response {
    let mut response = (StatusCode::OK, text.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /ready`.
///
/// Readiness: the store answers, and every check registered by the node's parts (the audit log,
/// the dispatch leases this process holds) passes. A load balancer sends requests only to a
/// ready process; `/health` stays liveness (a process that is not ready is not restarted for it).
#[utoipa::path(
    get,
    path = "/ready",
    tag = "node",
    operation_id = "ready",
    responses(
        (status = 200, description = "The node can serve: store, audit log and leases usable.", body = String, content_type = "text/plain", example = "ready\n"),
        (status = 503, description = "Not ready; the body says what is not usable.", body = String, content_type = "text/plain", example = "not ready: store: the database is unavailable\n"),
    )
)]
async fn ready(State(node): State<Arc<Node>>) -> Response {
    match node.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

/// The routes served beside TAXII on the node's port.
pub(crate) fn public_routes() -> OpenApiRouter<Arc<Node>> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(crate::search::api::search))
        .routes(routes!(crate::search::api::correlate))
        .routes(routes!(crate::search::api::graph))
        .routes(routes!(crate::search::api::match_bundle))
        .routes(routes!(
            crate::crisis::api::list_rooms,
            crate::crisis::api::open_room
        ))
        .routes(routes!(crate::crisis::api::show_room))
        .routes(routes!(crate::crisis::api::close_room))
}

/// The routes of the admin listener.
fn admin_routes() -> OpenApiRouter<Arc<Node>> {
    OpenApiRouter::new()
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// The admin listener's application; `document` is what `GET /openapi.json` answers.
pub(crate) fn admin_app(
    node: Arc<Node>,
    document: &Document,
) -> Result<axum::Router, serde_json::Error> {
    let text: Arc<str> = document.to_json()?.into();
    let (router, _) = admin_routes().split_for_parts();
    Ok(router.layer(Extension(text)).with_state(node))
}

/// The node's part of the document: its header, the public routes and the admin routes.
pub fn node_document() -> Document {
    let mut doc = Header::openapi();
    doc.merge(public_routes().into_openapi());
    doc.merge(admin_routes().into_openapi());
    doc
}

/// The whole document: the node's part with `others` (federation's routes) merged in.
pub fn document(others: impl IntoIterator<Item = Document>) -> Document {
    let mut doc = node_document();
    for other in others {
        doc.merge(other);
    }
    doc
}
