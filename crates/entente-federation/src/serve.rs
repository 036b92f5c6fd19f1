//! Running a node: TAXII, the admin listener and, when the node federates, the federation
//! endpoint and the audit routes beside TAXII, until a shutdown signal stops them all.

use std::future::Future;

use entente_node::{NodeConfig, NodeError};
use entente_types::ErrorCode;
use tokio::net::TcpListener;

use crate::{Federation, FederationError};

/// Why a node could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An address could not be bound.
    #[error("cannot listen on {what}")]
    Listen {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A server task ended abnormally.
    #[error("{0}")]
    Task(&'static str, #[source] tokio::task::JoinError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Federation(#[from] FederationError),
    /// The routes served beside TAXII could not be built.
    #[error("{0}")]
    Routes(String),
}

impl ServeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ServeError::Node(e) => e.code(),
            ServeError::Federation(e) => e.code(),
            _ => ErrorCode::Internal,
        }
    }
}

async fn bind(addr: std::net::SocketAddr, what: String) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { what, source })
}

/// Waits for a server task, keeping its own error.
async fn join<E>(
    what: &'static str,
    task: tokio::task::JoinHandle<Result<(), E>>,
) -> Result<(), ServeError>
where
    ServeError: From<E>,
{
    Ok(task.await.map_err(|e| ServeError::Task(what, e))??)
}

/// Routes a caller serves beside TAXII on the node's listener (the web console), built once
/// the node and its federation are open.
pub type ExtraRoutes<'a> = Box<
    dyn FnOnce(
            &std::sync::Arc<entente_node::Node>,
            Option<&std::sync::Arc<Federation>>,
        ) -> Result<axum::Router, ServeError>
        + 'a,
>;

/// Opens the node and serves it until `shutdown` completes.
pub async fn serve(
    config: NodeConfig,
    extra_routes: ExtraRoutes<'_>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = bind(config.listen, config.listen.to_string()).await?;
    let admin_listener = match config.admin_listen {
        Some(addr) => Some(bind(addr, format!("{addr} (admin.listen)")).await?),
        None => {
            tracing::info!("no [admin] table: metrics and the OpenAPI document are not served");
            None
        }
    };
    let node = entente_node::Node::open(config).await?;
    let federation = Federation::open(node.clone()).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    // The document describes the routes this node serves: federation's only when it federates.
    let document = entente_node::openapi::document(federation.as_ref().map(|_| crate::openapi()));
    let admin = admin_listener.map(|listener| {
        tokio::spawn(entente_node::serve_admin(
            node.clone(),
            listener,
            document,
            until_stopped(stopped.clone()),
        ))
    });
    let extra = extra_routes(&node, federation.as_ref())?;
    match federation {
        None => {
            entente_node::serve_node_with(node, extra, listener, shutdown).await?;
            let _ = stop.send(true);
        }
        Some(federation) => {
            let listen = federation.config().listen;
            let fed_listener = bind(listen, listen.to_string()).await?;
            let extra = crate::audit_routes(federation.audit().clone()).merge(extra);
            let http = tokio::spawn(entente_node::serve_node_with(
                node,
                extra,
                listener,
                until_stopped(stopped.clone()),
            ));
            let fed = tokio::spawn(federation.run(fed_listener, stopped));
            shutdown.await;
            let _ = stop.send(true);
            join("node server", http).await?;
            join("federation", fed).await?;
        }
    }
    if let Some(admin) = admin {
        join("admin server", admin).await?;
    }
    Ok(())
}
