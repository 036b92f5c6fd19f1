//! Mutually authenticated TLS between nodes (rustls, ring provider), and the development PKI
//! `entente node init` writes.
//!
//! Each node has a CA and a certificate it issued (server and client use). A partner's
//! configuration carries the partner's CA: our server accepts only client certificates issued by a
//! configured partner CA, and tells which partner connected by verifying the certificate against
//! each partner's CA in turn; our client trusts, for each partner, that partner's CA alone.

use std::sync::Arc;

use entente_node::pki::DevCa;
use entente_types::NationCode;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::config::{FederationConfig, PartnerConfig};
use crate::FederationError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A development CA and a node certificate issued by it, in PEM.
pub struct DevPki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// Generates a development PKI for `nation` with a new CA (see [`peer_certificate`]).
pub fn generate_dev_pki(nation: NationCode) -> Result<DevPki, FederationError> {
    let ca = DevCa::generate(&format!("Entente {nation} development CA"))
        .map_err(|e| FederationError::config(format!("development PKI: {e}")))?;
    peer_certificate(&ca, nation)
}

/// A node certificate issued by `ca` for `localhost`, `127.0.0.1` and `<nation>.node.entente`,
/// usable as TLS server and client between nodes.
pub fn peer_certificate(ca: &DevCa, nation: NationCode) -> Result<DevPki, FederationError> {
    let name = format!("{}.node.entente", nation.as_str().to_ascii_lowercase());
    let issued = ca
        .issue_peer(
            &format!("Entente node {nation}"),
            &[&name, "localhost", "127.0.0.1"],
        )
        .map_err(|e| FederationError::config(format!("development PKI: {e}")))?;
    Ok(DevPki {
        ca_pem: ca.cert_pem().to_owned(),
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    })
}

fn certs_from_pem(what: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, FederationError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FederationError::config(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(FederationError::config(format!("{what}: no certificate")));
    }
    Ok(certs)
}

fn roots(what: &str, pem: &[u8]) -> Result<RootCertStore, FederationError> {
    let mut store = RootCertStore::empty();
    for c in certs_from_pem(what, pem)? {
        store
            .add(c)
            .map_err(|e| FederationError::config(format!("{what}: {e}")))?;
    }
    Ok(store)
}

/// The partner at the other end of a connection, as its client certificate identified it
/// ([`Tls::identify`]); the endpoint hands it to the handlers.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub NationCode);

/// This node's TLS material and the partners' trust anchors, ready for server and clients.
pub struct Tls {
    pub server: Arc<ServerConfig>,
    /// Per partner: the client configuration (trusting that partner's CA only) and a verifier
    /// that recognises that partner's client certificates.
    partners: Vec<(NationCode, Arc<ClientConfig>, Arc<dyn ClientCertVerifier>)>,
}

impl Tls {
    pub fn load(config: &FederationConfig) -> Result<Tls, FederationError> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| FederationError::config(format!("{}: {e}", p.display())))
        };
        let chain = certs_from_pem(
            &config.tls_cert.display().to_string(),
            &read(&config.tls_cert)?,
        )?;
        let key_pem = read(&config.tls_key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| FederationError::config(format!("{}: {e}", config.tls_key.display())))?;
        let mut all = RootCertStore::empty();
        let mut partners = Vec::new();
        for p in &config.partners {
            let what = format!("partner {} tls_ca", p.nation);
            let anchors = roots(&what, p.tls_ca_pem.as_bytes())?;
            for c in certs_from_pem(&what, p.tls_ca_pem.as_bytes())? {
                all.add(c)
                    .map_err(|e| FederationError::config(format!("{what}: {e}")))?;
            }
            let anchors = Arc::new(anchors);
            let verifier = WebPkiClientVerifier::builder_with_provider(anchors.clone(), provider())
                .build()
                .map_err(|e| FederationError::config(format!("{what}: {e}")))?;
            let server_verifier =
                WebPkiServerVerifier::builder_with_provider(anchors.clone(), provider())
                    .build()
                    .map_err(|e| FederationError::config(format!("{what}: {e}")))?;
            let client = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| FederationError::config(format!("tls: {e}")))?
                .with_webpki_verifier(server_verifier)
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| {
                    FederationError::config(format!("{}: {e}", config.tls_cert.display()))
                })?;
            partners.push((p.nation, Arc::new(client), verifier));
        }
        // Without partners there is nobody to accept; the server still needs a verifier.
        let server = if all.is_empty() {
            ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| FederationError::config(format!("tls: {e}")))?
                .with_client_cert_verifier(
                    WebPkiClientVerifier::builder_with_provider(
                        Arc::new(roots(
                            "own tls_cert",
                            &read(&config.tls_ca).unwrap_or_default(),
                        )?),
                        provider(),
                    )
                    .build()
                    .map_err(|e| FederationError::config(format!("tls: {e}")))?,
                )
        } else {
            ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| FederationError::config(format!("tls: {e}")))?
                .with_client_cert_verifier(
                    WebPkiClientVerifier::builder_with_provider(Arc::new(all), provider())
                        .build()
                        .map_err(|e| FederationError::config(format!("tls: {e}")))?,
                )
        };
        let mut server = server
            .with_single_cert(chain, key)
            .map_err(|e| FederationError::config(format!("{}: {e}", config.tls_cert.display())))?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            server: Arc::new(server),
            partners,
        })
    }

    /// The partner whose CA issued this client certificate chain.
    pub fn identify(&self, chain: &[CertificateDer<'_>]) -> Option<NationCode> {
        let (leaf, intermediates) = chain.split_first()?;
        // The wall clock is read at the node's one entry point.
        let micros = u64::try_from(entente_node::clock::now_us()).unwrap_or(0);
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_micros(micros));
        self.partners
            .iter()
            .find(|(_, _, v)| v.verify_client_cert(leaf, intermediates, now).is_ok())
            .map(|(n, _, _)| *n)
    }

    /// The client configuration for a partner.
    pub fn client(&self, nation: NationCode) -> Option<Arc<ClientConfig>> {
        self.partners
            .iter()
            .find(|(n, _, _)| *n == nation)
            .map(|(_, c, _)| c.clone())
    }
}

/// The server name to check a partner's certificate against.
pub fn server_name(partner: &PartnerConfig) -> Result<ServerName<'static>, FederationError> {
    ServerName::try_from(partner.host.clone())
        .map_err(|e| FederationError::config(format!("partner {} url host: {e}", partner.nation)))
}
