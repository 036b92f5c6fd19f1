//! The federation's one HTTP client: [`HttpClient`], a `reqwest` client for one base URL (plain
//! HTTP or TLS with a given rustls configuration, HTTP/1.1 with keep-alive), and on top of it
//! [`PartnerClient`] (mutually authenticated TLS to one partner, with the node's client
//! certificate and that partner's CA as the only trust root).
//!
//! It replaced a client connection written on raw hyper. That one had not been chosen for
//! measured speed (BENCHMARKS.md's federation figures never compared clients), so the ordinary
//! client took its place; `cargo run --release -p entente-federation --example federation_bench
//! -- latency 500` and `… -- catchup 100000` are the runs that compare the two.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use rustls::ClientConfig;

use crate::config::PartnerConfig;
use crate::FederationError;

/// How long one connection attempt or request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Why one request to a peer failed: the message names the request and carries every cause
/// `reqwest` reports (connection refused, TLS alert, timeout…). Callers add the peer.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {message}")]
pub(crate) struct RequestError {
    method: hyper::Method,
    path: String,
    message: String,
}

impl RequestError {
    fn new(method: &hyper::Method, path: &str, error: &reqwest::Error) -> RequestError {
        let mut message = if error.is_timeout() {
            "no answer in time".to_owned()
        } else {
            error.to_string()
        };
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        RequestError {
            method: method.clone(),
            path: path.to_owned(),
            message,
        }
    }
}

/// A keep-alive HTTP/1.1 client of one peer at `base` (`https://host:port` or
/// `http://host:port`, optionally with a path prefix). Connections are pooled by `reqwest` and
/// opened again after a failure.
pub(crate) struct HttpClient {
    base: String,
    client: reqwest::Client,
    /// The `Authorization` header sent with every request, when the peer wants a user's.
    authorization: Option<String>,
}

impl HttpClient {
    /// A client of `base`, over TLS configured by `tls` for `https` URLs (a plain `http` client
    /// is given one that trusts nobody); every request (connecting included) ends after
    /// `timeout`. No proxy is used: peers are reached directly.
    pub(crate) fn new(
        base: String,
        tls: ClientConfig,
        timeout: Duration,
    ) -> Result<HttpClient, reqwest::Error> {
        // A peer's answer is its own: no redirect is followed.
        let builder = reqwest::Client::builder()
            .http1_only()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .timeout(timeout)
            .use_preconfigured_tls(tls);
        Ok(HttpClient {
            base,
            client: builder.build()?,
            authorization: None,
        })
    }

    /// The client sending `Authorization: Bearer <token>` with every request.
    pub(crate) fn with_bearer(mut self, token: &str) -> HttpClient {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    /// Sends a request for `path` (below the base) and returns the status and body; a body that
    /// is not empty is sent as JSON.
    pub(crate) async fn request(
        &self,
        method: hyper::Method,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<(hyper::StatusCode, Bytes), RequestError> {
        let body: Bytes = body.into();
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(a) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        if !body.is_empty() {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let fail = |e: reqwest::Error| RequestError::new(&method, path, &e);
        let response = request.send().await.map_err(fail)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(fail)?;
        Ok((status, bytes))
    }
}

/// The base URL of `host:port` over HTTPS (an IPv6 address in brackets).
pub(crate) fn https_base(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("https://[{host}]:{port}")
    } else {
        format!("https://{host}:{port}")
    }
}

/// A client of one partner's federation endpoint, over mutually authenticated TLS.
pub struct PartnerClient {
    partner: String,
    http: HttpClient,
}

impl PartnerClient {
    /// A client of `partner` with `tls`, the client configuration the node holds for it (its
    /// client certificate, the partner's CA as the only root): the partner's certificate is
    /// checked against the host of its URL.
    pub fn new(
        partner: &PartnerConfig,
        tls: Arc<ClientConfig>,
    ) -> Result<PartnerClient, FederationError> {
        // The name the certificate must carry is the URL's host: refuse one rustls cannot check.
        crate::tls::server_name(partner)?;
        let http = HttpClient::new(
            https_base(&partner.host, partner.port),
            ClientConfig::clone(&tls),
            REQUEST_TIMEOUT,
        )
        .map_err(|e| {
            FederationError::config(format!("HTTP client for partner {}: {e}", partner.nation))
        })?;
        Ok(PartnerClient {
            partner: partner.nation.to_string(),
            http,
        })
    }

    /// Sends a request and returns the status and body.
    pub async fn request(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<(hyper::StatusCode, Bytes), FederationError> {
        self.http
            .request(method, path, body)
            .await
            .map_err(|e| FederationError::Transport {
                partner: self.partner.clone(),
                message: e.to_string(),
            })
    }
}
