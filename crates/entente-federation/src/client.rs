//! HTTP/1.1 clients that keep their connection: [`HttpConnection`] (plain or TLS, to one
//! address) and, on top of it, [`PartnerClient`] (mutually authenticated TLS to one partner).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio_rustls::TlsConnector;

use crate::config::PartnerConfig;
use crate::FederationError;

/// How long one connection attempt or request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// One HTTP/1.1 connection to `addr`, over TLS when a connector is given, opened on first use
/// and opened again after a failure. Errors are plain messages; callers name the peer.
pub(crate) struct HttpConnection {
    addr: String,
    authority: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl HttpConnection {
    pub(crate) fn new(
        addr: String,
        authority: String,
        tls: Option<(TlsConnector, ServerName<'static>)>,
    ) -> HttpConnection {
        HttpConnection {
            addr,
            authority,
            tls,
            conn: None,
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        let _ = tcp.set_nodelay(true);
        let addr = self.addr.clone();
        let on_close =
            move |e: hyper::Error| tracing::debug!(%addr, error = %e, "connection closed");
        let http = |e: hyper::Error| format!("HTTP with {}: {e}", self.addr);
        match &self.tls {
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS with {}: {e}", self.addr))?;
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .map_err(http)?;
                tokio::spawn(async move { connection.await.map_err(on_close) });
                Ok(sender)
            }
            None => {
                let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .map_err(http)?;
                tokio::spawn(async move { connection.await.map_err(on_close) });
                Ok(sender)
            }
        }
    }

    async fn exchange(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(hyper::StatusCode, Bytes), String> {
        let reusable = match self.conn.as_mut() {
            Some(c) => c.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            self.conn = Some(self.open().await?);
        }
        let mut request = hyper::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(hyper::header::HOST, &self.authority);
        if !body.is_empty() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let Some(sender) = self.conn.as_mut() else {
            return Err("no connection".into());
        };
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// Sends a request and returns the status and body; after a failure or `timeout` the
    /// connection is dropped and the next request opens a new one.
    pub(crate) async fn request(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(hyper::StatusCode, Bytes), String> {
        match tokio::time::timeout(timeout, self.exchange(method, path, body)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(format!("{path}: no answer in {timeout:?}"))
            }
        }
    }
}

pub struct PartnerClient {
    partner: String,
    http: HttpConnection,
}

impl PartnerClient {
    pub fn new(
        partner: &PartnerConfig,
        tls: Arc<ClientConfig>,
    ) -> Result<PartnerClient, FederationError> {
        let addr = format!("{}:{}", partner.host, partner.port);
        let name = crate::tls::server_name(partner)?;
        Ok(PartnerClient {
            partner: partner.nation.to_string(),
            http: HttpConnection::new(addr.clone(), addr, Some((TlsConnector::from(tls), name))),
        })
    }

    /// Sends a request and returns the status and body.
    pub async fn request(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(hyper::StatusCode, Bytes), FederationError> {
        self.http
            .request(method, path, body, REQUEST_TIMEOUT)
            .await
            .map_err(|message| FederationError::Transport {
                partner: self.partner.clone(),
                message,
            })
    }
}
