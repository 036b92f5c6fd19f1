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
//! - `GET /health`, `GET /metrics`.
//!
//! Only this crate knows HTTP. Errors become statuses in one function, [`error::status_of`].

mod access;
pub mod auth;
mod config;
pub mod error;
mod metrics;
mod pages;
mod taxii;

use std::future::Future;
use std::sync::Arc;

use entente_labels::PolicySet;
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_store::postgres::PostgresStore;
use entente_store::sqlite::SqliteStore;
use entente_store::{CollectionInfo, Store};

pub use crate::config::{
    initial_config, shipped_data, CollectionConfig, NodeConfig, Storage, CONFIG_VERSION,
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
    /// Ids of collections seen in the store. A store never removes a collection, so one seen once
    /// exists for good and the per-request existence check needs no query; an id not seen is
    /// always looked up (it may have been added since, by this or another node process).
    pub(crate) known_collections: std::sync::RwLock<std::collections::HashSet<String>>,
    /// Released pages shared between readers of the same nation and clearance; only over SQLite,
    /// whose database this process alone writes (several node processes share a PostgreSQL
    /// database, and a write by another would not reach this cache).
    pub(crate) pages: Option<pages::PageCache>,
}

/// Opens the store a config names (creating its tables).
pub async fn open_store(config: &NodeConfig) -> Result<Arc<dyn Store>, NodeError> {
    let fail =
        |e: entente_store::StoreError| NodeError::config(format!("cannot open the store: {e}"));
    Ok(match &config.storage {
        Storage::Sqlite { path } => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    NodeError::config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            Arc::new(SqliteStore::open(path).map_err(fail)?)
        }
        Storage::Postgres { url, schema } => {
            Arc::new(PostgresStore::connect(url, schema).await.map_err(fail)?)
        }
    })
}

impl Node {
    /// Opens the store, loads the registry and policies, and creates the configured collections.
    pub async fn open(config: NodeConfig) -> Result<Arc<Node>, NodeError> {
        let store = open_store(&config).await?;
        Node::with_store(config, store).await
    }

    /// A node over an already opened store.
    pub async fn with_store(
        config: NodeConfig,
        store: Arc<dyn Store>,
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
        Ok(Arc::new(Node {
            store,
            access,
            metrics: metrics::Metrics::default(),
            credentials: auth::CredentialCache::default(),
            known_collections: std::sync::RwLock::default(),
            pages: matches!(config.storage, Storage::Sqlite { .. }).then(pages::PageCache::default),
            config,
        }))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
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

/// Serves an opened node (tests keep a handle on the node to inspect its store).
pub async fn serve_node(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let addr = listener
        .local_addr()
        .map_err(|e| NodeError::config(format!("listener: {e}")))?;
    tracing::info!(nation = %node.config.nation, %addr, "node listening");
    axum::serve(listener, app(node))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| NodeError::new(NodeErrorKind::Internal, format!("server: {e}")))
}
