//! An HTTP/1.1 client over mutually authenticated TLS to one partner, keeping its connection.

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

pub struct PartnerClient {
    partner: String,
    addr: String,
    authority: String,
    name: ServerName<'static>,
    connector: TlsConnector,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl PartnerClient {
    pub fn new(
        partner: &PartnerConfig,
        tls: Arc<ClientConfig>,
    ) -> Result<PartnerClient, FederationError> {
        Ok(PartnerClient {
            partner: partner.nation.to_string(),
            addr: format!("{}:{}", partner.host, partner.port),
            authority: format!("{}:{}", partner.host, partner.port),
            name: crate::tls::server_name(partner)?,
            connector: TlsConnector::from(tls),
            conn: None,
        })
    }

    fn fail(&self, message: impl Into<String>) -> FederationError {
        FederationError::Transport {
            partner: self.partner.clone(),
            message: message.into(),
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, FederationError> {
        let tcp = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(|e| self.fail(format!("connect {}: {e}", self.addr)))?;
        let _ = tcp.set_nodelay(true);
        let tls = self
            .connector
            .connect(self.name.clone(), tcp)
            .await
            .map_err(|e| self.fail(format!("TLS with {}: {e}", self.addr)))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| self.fail(format!("HTTP with {}: {e}", self.addr)))?;
        let partner = self.partner.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%partner, error = %e, "federation connection closed");
            }
        });
        Ok(sender)
    }

    async fn exchange(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(hyper::StatusCode, Bytes), FederationError> {
        let reusable = match self.conn.as_mut() {
            Some(c) => c.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            self.conn = Some(self.open().await?);
        }
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| self.fail(e.to_string()))?;
        let sender = self
            .conn
            .as_mut()
            .ok_or_else(|| FederationError::Transport {
                partner: String::new(),
                message: "no connection".into(),
            })?;
        let response = sender.send_request(request).await;
        let response = response.map_err(|e| self.fail(format!("request {path}: {e}")))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.fail(format!("response {path}: {e}")))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// Sends a request and returns the status and body.
    pub async fn request(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(hyper::StatusCode, Bytes), FederationError> {
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body)).await;
        match result {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(self.fail(format!("{path}: no answer in {REQUEST_TIMEOUT:?}")))
            }
        }
    }
}
