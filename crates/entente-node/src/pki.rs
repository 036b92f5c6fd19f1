//! A node's development PKI and its TLS configurations.
//!
//! [`DevCa`] is a certificate authority of one node (ECDSA P-256, made with rcgen): it issues the
//! node's server certificate (names and addresses as subject alternative names) and client
//! certificates (for mutual TLS between nodes). [`write_dev_pki`] lays out the files that
//! `entente node init` writes under `DIR/tls/`; [`server_config`] and [`client_config`] turn PEM
//! files into rustls configurations, with the CA as the only root.
//!
//! This is a development PKI: a production node is given certificates by its nation's PKI and
//! only points `tls.cert` and `tls.key` at them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Datelike;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A failure to make, read or use certificates; the message names the file or name at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PkiError(String);

fn fail(what: impl std::fmt::Display, e: impl std::fmt::Display) -> PkiError {
    PkiError(format!("{what}: {e}"))
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    // The key stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").finish_non_exhaustive()
    }
}

/// A certificate authority that issues server and client certificates.
pub struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

/// Years a development certificate is valid.
const VALID_YEARS: i32 = 5;

fn params(common_name: &str, names: &[&str]) -> Result<CertificateParams, PkiError> {
    let owned: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut p = CertificateParams::new(owned).map_err(|e| fail("subject alternative names", e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Entente");
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    // Valid from yesterday, so that clocks a little behind accept it.
    let today = crate::clock::today();
    let from = today.pred_opt().unwrap_or(today);
    let day = |d: chrono::NaiveDate, years: i32| {
        // Months and days are always in range for a calendar date; 28 avoids 29 February.
        rcgen::date_time_ymd(d.year() + years, d.month() as u8, d.day().min(28) as u8)
    };
    p.not_before = day(from, 0);
    p.not_after = day(from, VALID_YEARS);
    let mut serial = [0u8; 16];
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut serial)
        .map_err(|e| fail("certificate serial number", e))?;
    serial[0] &= 0x7f; // a positive integer
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

impl DevCa {
    /// A new CA named `common_name` (e.g. "Entente FRA development CA").
    pub fn generate(common_name: &str) -> Result<DevCa, PkiError> {
        let key = KeyPair::generate().map_err(|e| fail("CA key", e))?;
        let mut p = params(common_name, &[])?;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        p.use_authority_key_identifier_extension = false;
        let cert = p.self_signed(&key).map_err(|e| fail("CA certificate", e))?;
        Ok(DevCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(p, key),
        })
    }

    /// A CA from its certificate and key (PEM), e.g. as written by [`write_dev_pki`].
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<DevCa, PkiError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| fail("CA key", e))?;
        let issuer =
            Issuer::from_ca_cert_pem(cert_pem, key).map_err(|e| fail("CA certificate", e))?;
        Ok(DevCa {
            issuer,
            cert_pem: cert_pem.to_owned(),
        })
    }

    /// Reads a CA from its two PEM files.
    pub fn load(cert: &Path, key: &Path) -> Result<DevCa, PkiError> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| fail(p.display(), e));
        DevCa::from_pem(&read(cert)?, &read(key)?)
            .map_err(|e| PkiError(format!("{}: {e}", cert.display())))
    }

    /// The CA certificate (the root clients trust).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    fn issue(
        &self,
        common_name: &str,
        names: &[&str],
        usages: &[ExtendedKeyUsagePurpose],
    ) -> Result<Issued, PkiError> {
        let key = KeyPair::generate().map_err(|e| fail("key", e))?;
        let mut p = params(common_name, names)?;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = usages.to_vec();
        let cert = p
            .signed_by(&key, &self.issuer)
            .map_err(|e| fail(format!("certificate for {common_name:?}"), e))?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server certificate for `names` (DNS names or IP addresses, e.g. "localhost",
    /// "127.0.0.1"); the first is its common name.
    pub fn issue_server(&self, names: &[&str]) -> Result<Issued, PkiError> {
        let cn = names
            .first()
            .ok_or_else(|| PkiError("a server certificate needs at least one name".into()))?;
        self.issue(cn, names, &[ExtendedKeyUsagePurpose::ServerAuth])
    }

    /// A client certificate whose common name is `common_name` (e.g. a peer node's nation, "GBR"),
    /// for mutual TLS.
    pub fn issue_client(&self, common_name: &str) -> Result<Issued, PkiError> {
        self.issue(common_name, &[], &[ExtendedKeyUsagePurpose::ClientAuth])
    }

    /// A certificate a node uses on both ends of mutual TLS between nodes: as server for
    /// `names` and as client named `common_name`.
    pub fn issue_peer(&self, common_name: &str, names: &[&str]) -> Result<Issued, PkiError> {
        self.issue(
            common_name,
            names,
            &[
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        )
    }
}

/// The files of a node's development PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPkiFiles {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Writes a key readable by its owner only (see [`entente_seal::write_private`]).
fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    entente_seal::write_private(path, text.as_bytes(), entente_seal::Existing::Replace)
        .map_err(|e| PkiError(e.to_string()))
}

/// Creates `dir` with a new CA (`ca.pem`, `ca.key`) and a server certificate for `localhost` and
/// `127.0.0.1` signed by it (`server.pem`, `server.key`).
pub fn write_dev_pki(dir: &Path, ca_name: &str) -> Result<DevPkiFiles, PkiError> {
    entente_seal::create_private_dir(dir).map_err(|e| PkiError(e.to_string()))?;
    let ca = DevCa::generate(ca_name)?;
    let server = ca.issue_server(&["localhost", "127.0.0.1"])?;
    let files = DevPkiFiles {
        ca_cert: dir.join("ca.pem"),
        ca_key: dir.join("ca.key"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    };
    let write = |p: &Path, t: &str| std::fs::write(p, t).map_err(|e| fail(p.display(), e));
    write(&files.ca_cert, ca.cert_pem())?;
    write_private(&files.ca_key, &ca.key_pem())?;
    // The server's chain: its certificate, then the CA's.
    write(
        &files.server_cert,
        &format!("{}{}", server.cert_pem, ca.cert_pem()),
    )?;
    write_private(&files.server_key, &server.key_pem)?;
    Ok(files)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(path.display(), e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(path.display(), e))?;
    if certs.is_empty() {
        return Err(PkiError(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| fail(path.display(), e))
}

fn roots(ca: &Path) -> Result<rustls::RootCertStore, PkiError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certs(ca)? {
        roots.add(cert).map_err(|e| fail(ca.display(), e))?;
    }
    Ok(roots)
}

/// A TLS server configuration from a certificate chain and key (PEM files). With `client_ca`,
/// clients must present a certificate issued by it (mutual TLS).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, PkiError> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS versions", e))?;
    let builder = match client_ca {
        Some(ca) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(ca)?),
                provider(),
            )
            .build()
            .map_err(|e| fail(ca.display(), e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(read_certs(cert)?, read_key(key)?)
        .map_err(|e| fail(format!("{} with {}", cert.display(), key.display()), e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS client configuration that trusts only `ca`, presenting `identity` (certificate chain
/// and key files) when given.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, PkiError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS versions", e))?
        .with_root_certificates(roots(ca)?);
    let config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(read_certs(cert)?, read_key(key)?)
            .map_err(|e| fail(cert.display(), e))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A TLS client configuration that trusts no certificate, for clients that speak plain HTTP:
/// `reqwest` builds a TLS configuration whatever the scheme, and this one keeps ring as the only
/// crypto provider without installing a process-wide default.
pub fn trust_nobody_client_config() -> Result<Arc<rustls::ClientConfig>, PkiError> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS versions", e))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_reloaded_ca_issues_certificates_that_chain_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_dev_pki(&dir.path().join("tls"), "Entente FRA development CA").unwrap();
        let ca = DevCa::load(&files.ca_cert, &files.ca_key).unwrap();
        let client = ca.issue_client("GBR").unwrap();
        let (cert, key) = (dir.path().join("gbr.pem"), dir.path().join("gbr.key"));
        std::fs::write(&cert, &client.cert_pem).unwrap();
        std::fs::write(&key, &client.key_pem).unwrap();
        // The server accepts clients of its CA; the client config loads the identity.
        server_config(&files.server_cert, &files.server_key, Some(&files.ca_cert)).unwrap();
        client_config(&files.ca_cert, Some((&cert, &key))).unwrap();
        // A client certificate verifies against the CA as a client, not as a server.
        let roots = Arc::new(roots(&files.ca_cert).unwrap());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
                .build()
                .unwrap();
        let der = read_certs(&cert).unwrap();
        let now = rustls::pki_types::UnixTime::now();
        verifier.verify_client_cert(&der[0], &[], now).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.ca_key)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the CA key is private");
        }
    }

    #[test]
    fn a_key_that_is_not_pem_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_dev_pki(dir.path(), "test CA").unwrap();
        std::fs::write(&files.server_key, "not a key").unwrap();
        let e = server_config(&files.server_cert, &files.server_key, None).unwrap_err();
        assert!(e.to_string().contains("server.key"), "{e}");
    }
}
