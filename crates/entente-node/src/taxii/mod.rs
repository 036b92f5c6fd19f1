//! The TAXII 2.1 routes. Handlers parse the request, ask the store, release what it returns
//! through [`Access::release_rows`](crate::access::Access::release_rows) and write what it
//! released; they never pick a status code themselves (errors go through `error::status_of`).
//!
//! - [`routes`]: the router, the request span and counts, the caller and its rights;
//! - [`collections`]: discovery, the API root, the collections;
//! - [`objects`]: `GET` and `POST …/objects/`, `GET …/objects/{id}/` (with [`ingest`] for the
//!   checks on posted objects and [`page`] for the page read);
//! - [`versions`]: `GET …/versions/`, `DELETE …/objects/{id}/`;
//! - [`manifest`], [`status`];
//! - [`filters`]: the query parameters; [`envelope`]: the envelope writer and the page's headers.

use std::sync::Arc;

use axum::extract::{Query, State};

use crate::error::{NodeError, NodeErrorKind};
use crate::Node;

mod collections;
mod envelope;
mod filters;
mod ingest;
mod manifest;
mod objects;
mod page;
mod routes;
mod status;
mod versions;

pub(crate) use objects::{post_descriptor, post_envelope, PageKey};
pub(crate) use routes::router;

type Shared = State<Arc<Node>>;
type Params = Query<Vec<(String, String)>>;

const API_ROOT: &str = "/api/";
const DATE_FIRST: &str = "x-taxii-date-added-first";
const DATE_LAST: &str = "x-taxii-date-added-last";

fn error(kind: NodeErrorKind, message: impl Into<String>) -> NodeError {
    NodeError::new(kind, message)
}

fn bad(message: String) -> NodeError {
    error(NodeErrorKind::BadRequest, message)
}
