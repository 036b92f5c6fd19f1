//! The national node's HTTP server: TAXII 2.1 over a [`Store`], with every read released through
//! `entente-policy` to the user's nation and clearance, plus health and Prometheus metrics.
//!
//! [`serve`] takes a validated [`NodeConfig`], a bound listener and a shutdown future, so tests
//! and the binary start nodes the same way (tests bind `127.0.0.1:0`).
//!
//! Routes (the API root is `/api/`):
//! - `GET /taxii2/` discovery; `GET /api/` the API root; `GET /api/status/{id}/`;
//! - `GET /api/collections/`, `GET /api/collections/{id}/`;
//! - `GET|POST /api/collections/{id}/objects/`, `GET|DELETE …/objects/{object-id}/`,
//!   `GET …/objects/{object-id}/versions/`, `GET …/manifest/`;
//! - `GET /health` (liveness).
//!
//! [`serve_admin`] serves the admin listener (`[admin]` in node.toml, loopback by default):
//! `GET /metrics` and `GET /openapi.json`, the OpenAPI document of every non-TAXII route
//! ([`openapi`]). Metrics count withheld objects, so they are not on the TAXII port.
//!
//! TLS (rustls) when the config has `[tls]`; [`pki`] makes a development CA and certificates.
//!
//! Only this crate knows HTTP. Errors become statuses in one function, [`error::status_of`].

mod access;
pub mod auth;
mod body;
pub mod clock;
mod config;
pub mod crisis;
pub mod error;
mod json;
mod metrics;
pub mod openapi;
mod pages;
pub mod picture;
pub mod pki;
pub mod search;
pub mod spread;
mod taxii;
mod tls;
pub mod view;

/// The scanner that reads a stored text's markings in place, and the `serde_json` readings it is
/// held equal to: public for the fuzz target `release_key`, not for use.
#[doc(hidden)]
pub mod scan {
    pub use crate::access::key::{
        parsed_release_key, release_key, scanner_agrees, ReleaseKey, Spans,
    };
    pub use crate::access::scan::{parsed_top_level, plain_strings, top_level};
}

use std::future::Future;
use std::sync::Arc;

use entente_labels::PolicySet;
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_store::postgres::PostgresStore;
use entente_store::sqlite::SqliteStore;
use entente_store::{CollectionInfo, Store};

pub use crate::access::{Clearance, Reader};
pub use crate::config::{
    initial_config, shipped_data, CollectionConfig, ConfigError, ConsoleSettings, NodeConfig,
    Storage, TlsFiles, CONFIG_VERSION, DEFAULT_ADMIN_LISTEN, DEFAULT_LISTEN,
};
pub use crate::error::{NodeError, NodeErrorKind};
pub use entente_stix::{MEDIA_TYPE_STIX, MEDIA_TYPE_TAXII};

/// A running node's shared state.
pub struct Node {
    pub(crate) config: NodeConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) access: access::Access,
    pub(crate) metrics: metrics::Metrics,
    /// Verified credentials, so that argon2 runs once per client and TTL, not per request.
    pub(crate) credentials: auth::CredentialCache,
    /// Bumped after every write to the objects (post, delete, federation), so followers of the
    /// change stream wake at once instead of polling.
    pub(crate) changes: tokio::sync::watch::Sender<u64>,
    /// Ids of collections seen in the store. A store never removes a collection, so one seen once
    /// exists for good and the per-request existence check needs no query; an id not seen is
    /// always looked up (it may have been added since, by this or another node process).
    pub(crate) known_collections: std::sync::RwLock<std::collections::HashSet<String>>,
    /// Released pages shared between readers of the same nation and clearance. Every write drops
    /// them: this process's at once, another process's (PostgreSQL) when its notification
    /// arrives, within milliseconds.
    pub(crate) pages: Option<pages::PageCache<taxii::PageKey>>,
    /// Page reads being released: with more than one, the requests already keep the cores busy
    /// and each releases its chunks on its own thread (spreading a chunk over the cores would
    /// only add hand-offs between threads).
    pub(crate) reads_in_flight: std::sync::atomic::AtomicUsize,
    /// Each reader's search view, and the warning lists values are flagged by.
    pub(crate) searches: search::Searches,
    /// Each reader's live air picture, while a browser watches it.
    pub(crate) pictures: picture::Pictures,
    /// The crisis rooms this node takes part in.
    pub(crate) rooms: crisis::Rooms,
    /// The registry the release policy was compiled from (who takes part in a crisis room).
    pub(crate) registry: Arc<Registry>,
    /// The pool of the node's PostgreSQL database (`None` over SQLite).
    pub(crate) pg_pool: Option<deadpool_postgres::Pool>,
    /// What `/ready` checks besides the store, registered by the node's other parts.
    pub(crate) readiness_checks: std::sync::RwLock<Vec<(String, ReadinessCheck)>>,
}

/// A readiness check: `Err` says what is not usable.
pub type ReadinessCheck = Box<
    dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync,
>;

/// How long `/ready` waits for the store to answer.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// While other processes' writes come in, crisis rooms are read again at most this often.
const ROOMS_RELOAD: std::time::Duration = std::time::Duration::from_millis(200);

/// Opens the store a config names (creating its tables).
pub async fn open_store(config: &NodeConfig) -> Result<Arc<dyn Store>, NodeError> {
    Ok(open_stores(config).await?.0)
}

/// The store a config names, and the pool of its database when it is PostgreSQL.
async fn open_stores(
    config: &NodeConfig,
) -> Result<(Arc<dyn Store>, Option<deadpool_postgres::Pool>), NodeError> {
    let fail =
        |e: entente_store::StoreError| NodeError::config(format!("cannot open the store: {e}"));
    Ok(match &config.storage {
        Storage::Sqlite { path } => {
            if let Some(dir) = path.parent() {
                // The folder of the database, which holds every object and the password hashes.
                entente_seal::create_private_dir(dir)
                    .map_err(|e| NodeError::config(e.to_string()))?;
            }
            (Arc::new(SqliteStore::open(path).map_err(fail)?), None)
        }
        Storage::Postgres(settings) => {
            let store = PostgresStore::open(settings).await.map_err(fail)?;
            let pool = store.pool().clone();
            (Arc::new(store), Some(pool))
        }
    })
}

impl Node {
    /// Opens the store, loads the registry and policies, and creates the configured collections.
    pub async fn open(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        let (store, pool) = open_stores(&config).await?;
        Node::with_store_and_pool(config, store, pool).await
    }

    /// A node over an already opened store.
    pub async fn with_store(
        config: NodeConfig,
        store: Arc<dyn Store>,
    ) -> Result<Arc<Node>, NodeError> {
        Node::with_store_and_pool(config, store, None).await
    }

    /// A node over an opened store and, when it is PostgreSQL, the pool of its database (the
    /// audit log keeps its tables there).
    pub async fn with_store_and_pool(
        config: NodeConfig,
        store: Arc<dyn Store>,
        pg_pool: Option<deadpool_postgres::Pool>,
    ) -> Result<Arc<Node>, NodeError> {
        let registry = Registry::load(&config.policy_data.join("registry"))
            .map_err(|e| NodeError::config(format!("registry: {e}")))?;
        let policies = PolicySet::load(&config.policy_data.join("policies"))
            .map_err(|e| NodeError::config(format!("policies: {e}")))?;
        let access = access::Access::new(
            ReleasePolicy::new(&registry, policies),
            config.default_label.as_deref(),
        )?;
        for c in &config.collections {
            store
                .put_collection(&CollectionInfo {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    description: c.description.clone(),
                })
                .await?;
        }
        let warnings = search::load_warnings(&config.warning_lists)?;
        let node = Arc::new(Node {
            searches: search::Searches::new(warnings),
            pictures: picture::Pictures::default(),
            store,
            access,
            metrics: metrics::Metrics::default(),
            credentials: auth::CredentialCache::default(),
            changes: tokio::sync::watch::Sender::new(0),
            known_collections: std::sync::RwLock::default(),
            reads_in_flight: std::sync::atomic::AtomicUsize::new(0),
            // Over PostgreSQL other processes write too; their notifications drop the pages
            // (`follow_other_processes`).
            pages: Some(pages::PageCache::default()),
            rooms: crisis::Rooms::default(),
            registry: Arc::new(registry),
            readiness_checks: std::sync::RwLock::default(),
            pg_pool,
            config,
        });
        node.load_rooms().await?;
        node.follow_other_processes();
        Ok(node)
    }

    /// With several processes over one database: another process's write drops this one's
    /// shared pages and wakes its followers of the change stream (dispatchers, live pictures)
    /// at once, and the crisis rooms are read again (one may have been opened or closed there).
    fn follow_other_processes(self: &Arc<Self>) {
        let Some(mut changes) = self.store.changes_elsewhere() else {
            return;
        };
        let mut rooms_changes = changes.clone();
        let node = Arc::downgrade(self);
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                let Some(node) = node.upgrade() else { return };
                node.notify_changed();
            }
        });
        let node = Arc::downgrade(self);
        tokio::spawn(async move {
            while rooms_changes.changed().await.is_ok() {
                // One reload for a burst of writes.
                tokio::time::sleep(ROOMS_RELOAD).await;
                rooms_changes.borrow_and_update();
                let Some(node) = node.upgrade() else { return };
                if let Err(e) = node.load_rooms().await {
                    tracing::warn!(error = %e, "cannot read the crisis rooms again");
                }
            }
        });
    }

    /// Adds a check to `/ready` (the audit log, the dispatch leases).
    pub fn add_readiness_check(&self, name: &str, check: ReadinessCheck) {
        if let Ok(mut checks) = self.readiness_checks.write() {
            checks.push((name.to_owned(), check));
        }
    }

    /// Whether the node can serve now: the store answers and every registered check passes.
    pub async fn readiness(&self) -> Result<(), String> {
        match tokio::time::timeout(READY_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("store: {e}")),
            Err(_) => return Err(format!("store: no answer within {READY_TIMEOUT:?}")),
        }
        let pending: Vec<_> = match self.readiness_checks.read() {
            Ok(checks) => checks
                .iter()
                .map(|(name, check)| (name.clone(), check()))
                .collect(),
            Err(_) => return Err("readiness checks unavailable".into()),
        };
        for (name, check) in pending {
            match tokio::time::timeout(READY_TIMEOUT, check).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => return Err(format!("{name}: {why}")),
                Err(_) => return Err(format!("{name}: no answer within {READY_TIMEOUT:?}")),
            }
        }
        Ok(())
    }

    /// The registry the node's release policy was compiled from.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The pool of the node's PostgreSQL database, whose connections work in the node's schema;
    /// `None` when the node keeps its data in SQLite.
    pub fn postgres_pool(&self) -> Option<deadpool_postgres::Pool> {
        self.pg_pool.clone()
    }

    /// The URL scheme clients reach the node with.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The release policy every read goes through (federation releases with the same one).
    pub fn release_policy(&self) -> &ReleasePolicy {
        &self.access.policy
    }

    /// Loads into the label cache the stored markings that `objects` refer to.
    pub async fn load_markings(&self, objects: &[&serde_json::Value]) -> Result<(), NodeError> {
        self.access
            .load_markings(self.store.as_ref(), objects.iter().copied())
            .await
    }

    /// The label of a stored marking definition loaded by [`Node::load_markings`].
    pub fn cached_label(&self, id: &str) -> Option<entente_labels::Label> {
        self.access.label(id)
    }

    /// The label a marking definition carries, validated; `None` for markings that carry none.
    pub fn label_of_marking(
        &self,
        marking: &serde_json::Value,
    ) -> Option<Result<entente_labels::Label, access::MarkingLabelError>> {
        access::label_of_marking(&self.access.policy, marking)
    }

    /// A receiver that sees every later write to the objects.
    pub fn watch_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Signals a write to the objects made outside the TAXII routes.
    pub fn notify_changed(&self) {
        // Shared released pages are stale after any write, whichever path made it.
        if let Some(pages) = &self.pages {
            pages.invalidate();
        }
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The version to store of a validated object: its header's id, type, versions, the nation that
/// published it, and its stored text. Every way objects are stored (TAXII POST, derived banners,
/// federation) builds it here.
pub fn new_object(
    header: entente_stix::ObjectHeader,
    originator: entente_types::NationCode,
    json: String,
) -> entente_store::NewObject {
    let (version, version_key) = match header.version() {
        Some(t) => (t.as_str().to_owned(), t.key()),
        None => (String::new(), String::new()),
    };
    entente_store::NewObject {
        id: header.id,
        kind: header.kind,
        spec_version: header.spec_version,
        version,
        version_key,
        originator,
        json,
    }
}

/// The HTTP application of a node.
pub fn app(node: Arc<Node>) -> axum::Router {
    taxii::router(node)
}

/// Serves a node on `listener` until `shutdown` completes.
pub async fn serve(
    config: NodeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let nation = config.nation;
    let node = Node::open(config).await?;
    serve_node(node, listener, shutdown).await.map(|_| {
        tracing::info!(%nation, "node stopped");
    })
}

/// Serves an opened node (tests keep a handle on the node to inspect its store): over TLS when
/// the config names a certificate, else plain HTTP.
pub async fn serve_node(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    serve_node_with(node, axum::Router::new(), listener, shutdown).await
}

/// Serves an opened node with extra routes (the audit routes of federation) beside TAXII.
pub async fn serve_node_with(
    node: Arc<Node>,
    extra: axum::Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let addr = listener
        .local_addr()
        .map_err(|e| NodeError::config(format!("listener: {e}")))?;
    let server_error =
        |e: std::io::Error| NodeError::new(NodeErrorKind::Internal, format!("server: {e}"));
    match node.config.tls.clone() {
        Some(files) => {
            let config = pki::server_config(&files.cert, &files.key, files.client_ca.as_deref())
                .map_err(|e| NodeError::config(format!("tls: {e}")))?;
            let listener = tls::TlsListener::new(listener, config).map_err(server_error)?;
            tracing::info!(nation = %node.config.nation, %addr, "node listening (TLS)");
            axum::serve(listener, app(node).merge(extra))
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(server_error)
        }
        None => {
            tracing::info!(nation = %node.config.nation, %addr, "node listening");
            axum::serve(listener, app(node).merge(extra))
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(server_error)
        }
    }
}

/// Serves the admin listener (plain HTTP) until `shutdown` completes: `GET /metrics` and
/// `GET /openapi.json`, which answers `document` (see [`openapi::document`]). Bind it to loopback
/// or a management network: it has no authentication.
pub async fn serve_admin(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    document: openapi::Document,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let addr = listener
        .local_addr()
        .map_err(|e| NodeError::config(format!("admin listener: {e}")))?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the admin listener is not on loopback; it has no authentication");
    }
    let nation = node.config.nation;
    let app = openapi::admin_app(node, &document)
        .map_err(|e| NodeError::new(NodeErrorKind::Internal, format!("openapi document: {e}")))?;
    tracing::info!(%nation, %addr, "admin listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| NodeError::new(NodeErrorKind::Internal, format!("admin server: {e}")))
}
