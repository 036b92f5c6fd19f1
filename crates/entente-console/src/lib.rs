//! The web console of a national node: the analyst's and the staff officer's window onto what
//! the node holds, served under `/console/` on the node's TLS listener.
//!
//! Pages are rendered on the server (askama templates, checked at compile time and escaped by
//! default) and updated in parts with htmx; the only JavaScript is vendored (see
//! `assets/VENDORED.md`) or ours, served from `/console/assets/`, so the Content-Security-Policy
//! allows no inline script.
//!
//! - [`session`]: sign-in with the node's users, session cookies, CSRF tokens, back-off;
//! - [`security`]: the headers every answer carries;
//! - [`banner`]: the classification banner of a page, the dominant label of what it shows;
//! - [`holdings`]: what a reader may see, kept per reader and brought up to date on writes;
//! - [`pages`]: one module per page;
//! - `airmap`: the geography of the air map (`assets/airmap.js`), shared by the map pages.
//!
//! Everything a page shows of objects comes from `entente_node::view`, which releases through
//! the node's one release path, or from the reader's search view (`Node::search_view`, built
//! from the same releases): no page, count, facet, correlation or link is built from a stored
//! object the reader was not released.

mod airmap;
mod assets;
mod audit_trail;
pub mod banner;
mod error;
pub mod holdings;
mod pages;
pub mod security;
pub mod session;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use entente_federation::Federation;
use entente_node::Node;
use entente_registry::Registry;

pub use crate::error::ConsoleError;

/// Where the console is mounted on the node's listener.
pub const BASE: &str = "/console";

/// The console of one node: its state shared by every request.
pub struct Console {
    pub(crate) node: Arc<Node>,
    pub(crate) federation: Option<Arc<Federation>>,
    pub(crate) registry: Registry,
    pub(crate) sessions: session::Sessions,
    pub(crate) holdings: holdings::Holdings,
    /// Where the audit log records each version published or received here.
    pub(crate) audit_trail: Arc<tokio::sync::Mutex<audit_trail::AuditTrail>>,
    /// Recorded exercise runs: the configured folder's, read on use, and each session's uploads.
    pub(crate) exercises: pages::exercises::Runs,
}

impl Console {
    /// The console of `node` (and of its federation, when it federates).
    pub fn new(
        node: Arc<Node>,
        federation: Option<Arc<Federation>>,
    ) -> Result<Arc<Console>, ConsoleError> {
        let dir = node.config().policy_data.join("registry");
        let registry = Registry::load(&dir).map_err(|e| ConsoleError::Registry {
            dir: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let minutes = node.config().console.session_minutes;
        Ok(Arc::new(Console {
            node,
            federation,
            registry,
            sessions: session::Sessions::new(std::time::Duration::from_secs(minutes * 60)),
            holdings: holdings::Holdings::default(),
            audit_trail: Arc::default(),
            exercises: pages::exercises::Runs::default(),
        }))
    }

    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }
}

/// The console's routes, under [`BASE`]; an empty router when `[console] enabled = false`.
pub fn router(console: Arc<Console>) -> Router {
    if !console.node.config().console.enabled {
        return Router::new();
    }
    let at = |path: &str| format!("{BASE}{path}");
    Router::new()
        .route(BASE, get(pages::home))
        .route(&at("/"), get(pages::home))
        .route(
            &at("/signin"),
            get(session::signin_page).post(session::signin),
        )
        .route(&at("/signout"), post(session::signout))
        .route(&at("/holdings"), get(pages::holdings::page))
        .route(&at("/objects/{collection}/{id}"), get(pages::object::page))
        .route(&at("/search"), get(pages::search::page))
        .route(
            &at("/publish"),
            get(pages::publish::page).post(pages::publish::send),
        )
        .route(&at("/publish/preview"), post(pages::publish::preview))
        .route(&at("/partners"), get(pages::partners::page))
        .route(
            &at("/partners/verify/{index}"),
            get(pages::partners::verify),
        )
        .route(&at("/picture"), get(pages::picture::page))
        .route(&at("/picture/stream"), get(pages::picture::stream))
        .route(&at("/picture/tracks/{stn}"), get(pages::picture::history))
        .route(&at("/crisis"), get(pages::crisis::list))
        .route(&at("/crisis/"), get(pages::crisis::list))
        .route(&at("/crisis/open"), post(pages::crisis::open))
        .route(&at("/crisis/{room}"), get(pages::crisis::room))
        .route(&at("/crisis/{room}/timeline"), get(pages::crisis::timeline))
        .route(&at("/crisis/{room}/publish"), post(pages::crisis::publish))
        .route(
            &at("/crisis/{room}/close"),
            get(pages::crisis::close_confirm).post(pages::crisis::close),
        )
        .route(&at("/registry"), get(pages::registry::page))
        .route(&at("/registry/decision"), get(pages::registry::decision))
        .route(&at("/burden"), get(pages::burden::page))
        .route(&at("/burden/charts/{file}"), get(pages::burden::chart))
        .route(&at("/exercises"), get(pages::exercises::list))
        .route(&at("/exercises/"), get(pages::exercises::list))
        .route(
            &at("/exercises/upload"),
            post(pages::exercises::upload).layer(axum::extract::DefaultBodyLimit::max(
                pages::exercises::UPLOAD_LIMIT + pages::exercises::MULTIPART_SLACK,
            )),
        )
        .route(&at("/exercises/{run}"), get(pages::exercises::page))
        .route(
            &at("/exercises/{run}/data.json"),
            get(pages::exercises::data),
        )
        .route(&at("/map/lines.json"), get(airmap::lines))
        .route(&at("/assets/{*path}"), get(assets::serve))
        .route(&at("/{*rest}"), get(pages::not_found))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(console)
}
