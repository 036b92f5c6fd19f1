//! The federation endpoint: HTTP/1.1 over mutually authenticated TLS. The partner is recognised
//! from its client certificate once per connection and handed to the handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::tls::Peer;
use crate::{audit, receive, wire, Federation, FederationError};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The inbox with its OpenAPI description (declared once, on the handler).
pub(crate) fn inbox_api() -> OpenApiRouter<Arc<Federation>> {
    OpenApiRouter::new()
        .routes(routes!(receive::inbox))
        .routes(routes!(receive::held))
}

pub fn router(fed: Arc<Federation>) -> Router {
    let (inbox, _) = inbox_api().split_for_parts();
    inbox
        .layer(axum::extract::DefaultBodyLimit::max(wire::MAX_BATCH_BYTES))
        .with_state(fed.clone())
        .merge(audit::audit_routes(fed.audit.clone()))
}

pub async fn serve(
    fed: Arc<Federation>,
    listener: tokio::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), FederationError> {
    let acceptor = TlsAcceptor::from(fed.tls.server.clone());
    let app = router(fed.clone());
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(nation = %fed.nation(), %addr, "federation endpoint listening");
    }
    loop {
        let (tcp, remote) = tokio::select! {
            _ = crate::stopped(&mut shutdown) => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "federation accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app, fed) = (acceptor.clone(), app.clone(), fed.clone());
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    // A wrong or missing client certificate ends here.
                    tracing::warn!(%remote, error = %e, "federation TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::warn!(%remote, "federation TLS handshake timed out");
                    return;
                }
            };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| fed.tls.identify(chain));
            let Some(peer) = peer else {
                tracing::warn!(%remote, "federation client certificate matches no configured partner");
                return;
            };
            let service = TowerToHyperService::new(app.layer(axum::Extension(Peer(peer))));
            drop(fed);
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service);
            // Kept-alive connections end with the node, so its state (store, audit log) is freed.
            tokio::select! {
                ended = connection => {
                    if let Err(e) = ended {
                        tracing::debug!(%remote, partner = %peer, error = %e, "federation connection ended");
                    }
                }
                _ = crate::stopped(&mut conn_shutdown) => {}
            }
        });
    }
}
