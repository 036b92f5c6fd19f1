//! The `[federation]` table of `node.toml`:
//!
//! ```toml
//! [federation]
//! listen = "127.0.0.1:8500"          # the mutually authenticated TLS endpoint for partners
//! keys = "node.keys"                 # Ed25519 + X25519 secrets (entente node init writes it)
//! tls_cert = "tls/node.crt"          # this node's certificate chain (PEM)
//! tls_key = "tls/node.key"           # its private key (PEM)
//! tls_ca = "tls/ca.pem"              # the CA partners trust for this node (exported to them)
//!
//! [[federation.partner]]
//! nation = "USA"
//! url = "https://127.0.0.1:8501"
//! tls_ca_pem = """-----BEGIN CERTIFICATE-----..."""   # or tls_ca = "path"
//! identity = "entente-node USA ed25519:... x25519:..."
//! audit_key = "entente.audit/USA+1a2b3c4d+AQ..."        # optional: the partner's audit vkey
//! ```
//! Unknown keys are refused; relative paths start at the config file's folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use entente_seal::PublicIdentity;
use entente_types::NationCode;
use serde::Deserialize;

use crate::FederationError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFederation {
    listen: String,
    keys: PathBuf,
    tls_cert: PathBuf,
    tls_key: PathBuf,
    tls_ca: PathBuf,
    #[serde(default)]
    batch: Option<usize>,
    #[serde(default)]
    catchup_batch: Option<usize>,
    #[serde(default)]
    retry_max_ms: Option<u64>,
    #[serde(default)]
    checkpoint_interval_ms: Option<u64>,
    #[serde(default)]
    partner: Vec<RawPartner>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartner {
    nation: String,
    url: String,
    #[serde(default)]
    tls_ca: Option<PathBuf>,
    #[serde(default)]
    tls_ca_pem: Option<String>,
    identity: String,
    #[serde(default)]
    audit_key: Option<String>,
}

/// A partner node.
#[derive(Debug, Clone)]
pub struct PartnerConfig {
    pub nation: NationCode,
    /// `https://host:port` of the partner's federation endpoint.
    pub url: String,
    pub host: String,
    pub port: u16,
    /// The CA that issues the partner's certificates (PEM).
    pub tls_ca_pem: String,
    pub identity: PublicIdentity,
    /// The partner's audit log key, as a C2SP vkey.
    pub audit_key: Option<String>,
}

/// A validated `[federation]` table.
#[derive(Debug, Clone)]
pub struct FederationConfig {
    pub listen: SocketAddr,
    pub keys: PathBuf,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub tls_ca: PathBuf,
    /// Objects per delivery while the partner is up to date (a live write is usually one).
    pub batch: usize,
    /// Objects per delivery while the partner is behind (the last page read was full): fewer,
    /// larger requests, each with one key encapsulation, one store commit and one audit append
    /// at either end.
    pub catchup_batch: usize,
    /// The longest wait between retries.
    pub retry_max: Duration,
    /// How often partners' audit checkpoints are fetched and checked.
    pub checkpoint_interval: Duration,
    pub partners: Vec<PartnerConfig>,
}

/// A partner URL that is not `https://host:port`.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("url {0:?} must start with https://")]
    NotHttps(String),
    #[error("url {0:?} must name a port")]
    NoPort(String),
    #[error("url {url:?}: bad port {port:?}")]
    BadPort { url: String, port: String },
    #[error("url {0:?}: bad host")]
    BadHost(String),
}

/// Splits `https://host:port` (no path).
pub fn parse_url(url: &str) -> Result<(String, u16), UrlError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| UrlError::NotHttps(url.to_owned()))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| UrlError::NoPort(url.to_owned()))?;
    let port: u16 = port.parse().map_err(|_| UrlError::BadPort {
        url: url.to_owned(),
        port: port.to_owned(),
    })?;
    if host.is_empty() || host.contains('/') {
        return Err(UrlError::BadHost(url.to_owned()));
    }
    Ok((host.trim_matches(['[', ']']).to_owned(), port))
}

impl FederationConfig {
    /// Validates a `[federation]` table; `base` is the config file's folder.
    pub fn from_table(
        table: &toml::Table,
        base: &Path,
    ) -> Result<FederationConfig, FederationError> {
        let raw: RawFederation = table
            .clone()
            .try_into()
            .map_err(|e| FederationError::config(format!("[federation]: {e}")))?;
        let listen = raw
            .listen
            .parse()
            .map_err(|e| FederationError::config(format!("[federation] listen: {e}")))?;
        let mut partners: Vec<PartnerConfig> = Vec::new();
        for (i, p) in raw.partner.into_iter().enumerate() {
            let at = format!("[[federation.partner]] #{} ({})", i + 1, p.nation);
            let nation: NationCode = p
                .nation
                .parse()
                .map_err(|e| FederationError::config(format!("{at} nation: {e}")))?;
            if partners.iter().any(|q| q.nation == nation) {
                return Err(FederationError::config(format!(
                    "{at}: {nation} listed twice"
                )));
            }
            let (host, port) =
                parse_url(&p.url).map_err(|e| FederationError::config(format!("{at}: {e}")))?;
            let tls_ca_pem = match (p.tls_ca, p.tls_ca_pem) {
                (Some(path), None) => {
                    let path = base.join(path);
                    std::fs::read_to_string(&path).map_err(|e| {
                        FederationError::config(format!("{at} tls_ca {}: {e}", path.display()))
                    })?
                }
                (None, Some(pem)) => pem,
                _ => {
                    return Err(FederationError::config(format!(
                        "{at}: give exactly one of tls_ca (a file) or tls_ca_pem"
                    )))
                }
            };
            let identity: PublicIdentity = p
                .identity
                .parse()
                .map_err(|e| FederationError::config(format!("{at} identity: {e}")))?;
            if identity.nation != nation {
                return Err(FederationError::config(format!(
                    "{at}: identity is of {}, not {nation}",
                    identity.nation
                )));
            }
            partners.push(PartnerConfig {
                nation,
                url: p.url,
                host,
                port,
                tls_ca_pem,
                identity,
                audit_key: p.audit_key,
            });
        }
        Ok(FederationConfig {
            listen,
            keys: base.join(raw.keys),
            tls_cert: base.join(raw.tls_cert),
            tls_key: base.join(raw.tls_key),
            tls_ca: base.join(raw.tls_ca),
            batch: raw.batch.unwrap_or(500).clamp(1, 10_000),
            catchup_batch: raw
                .catchup_batch
                .unwrap_or(2_000)
                .clamp(raw.batch.unwrap_or(500).clamp(1, 10_000), 10_000),
            retry_max: Duration::from_millis(raw.retry_max_ms.unwrap_or(30_000).max(10)),
            checkpoint_interval: Duration::from_millis(
                raw.checkpoint_interval_ms.unwrap_or(10_000).max(50),
            ),
            partners,
        })
    }

    pub fn partner(&self, nation: NationCode) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.nation == nation)
    }
}

/// The `[federation]` table `entente node init` writes.
pub fn initial_table(listen: &str) -> String {
    format!(
        "\n[federation]\nlisten = \"{listen}\"\nkeys = \"node.keys\"\ntls_cert = \"tls/node.crt\"\ntls_key = \"tls/node.key\"\ntls_ca = \"tls/ca.pem\"\n"
    )
}

/// A `[[federation.partner]]` block describing this node, for partners to append.
pub fn partner_block(
    url: &str,
    identity: &PublicIdentity,
    ca_pem: &str,
    audit_key: Option<&str>,
) -> String {
    let mut s = format!(
        "\n[[federation.partner]]\nnation = \"{}\"\nurl = \"{url}\"\nidentity = \"{identity}\"\ntls_ca_pem = \"\"\"\n{}\"\"\"\n",
        identity.nation,
        ca_pem.trim_end().to_owned() + "\n"
    );
    if let Some(k) = audit_key {
        s.push_str(&format!("audit_key = \"{k}\"\n"));
    }
    s
}

/// The partners of a node, as `entente federation partners` lists them.
pub struct Partners<'a>(pub &'a [PartnerConfig]);

impl serde::Serialize for Partners<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "partners": self.0.iter().map(|p| serde_json::json!({
                "nation": p.nation.as_str(), "url": p.url, "audit_key": p.audit_key.is_some(),
            })).collect::<Vec<_>>(),
        })
        .serialize(s)
    }
}

impl entente_types::report::ToReport for Partners<'_> {
    fn report(&self) -> entente_types::report::Report {
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|p| {
                let key = if p.audit_key.is_some() { "yes" } else { "no" };
                format!("{}  {}  audit key: {key}", p.nation, p.url)
            })
            .collect();
        let mut report = entente_types::report::Report::default();
        report.text(if lines.is_empty() {
            "no partners".to_owned()
        } else {
            lines.join("\n")
        });
        report
    }
}
