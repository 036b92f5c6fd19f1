//! Setting up a new node's folder: `node.toml` with its `[federation]` table, a development PKI
//! under `tls/` (a CA, the TAXII server certificate and the certificate the node presents to its
//! partners) and the node's keys (`node.keys`). What is already there is kept unless `force`.
//! Pairing two nodes by script: [`export_partner`] on one, [`import_partner`] on the other.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use entente_node::pki::{DevCa, PkiError};
use entente_seal::{Existing, NodeIdentity, SealError};
use entente_types::{ErrorCode, NationCode};

use crate::{FederationConfig, FederationError};

/// Why a node folder cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{} exists (use --force to replace it)", path.display())]
    Exists { path: PathBuf },
    #[error("{flag}: {value:?} is not an address (host:port): {message}")]
    Address {
        flag: &'static str,
        value: String,
        message: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A configuration or partner block that is not what it must be.
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Federation(#[from] FederationError),
}

impl SetupError {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            SetupError::Exists { .. }
            | SetupError::Address { .. }
            | SetupError::Invalid { .. }
            | SetupError::Pki(_) => ErrorCode::InvalidInput,
            SetupError::Io { .. } | SetupError::Read { .. } | SetupError::Seal(_) => {
                ErrorCode::Internal
            }
            SetupError::Federation(e) => e.code(),
        }
    }
}

/// What a node gives a partner to pair with it: its `[[federation.partner]]` block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartnerExport {
    pub nation: NationCode,
    pub url: String,
    /// The audit key partners check this node's checkpoints with (C2SP vkey).
    pub audit_key: String,
    pub block: String,
}

/// The federation table of the node configuration at `path` (the file is named in errors).
pub fn federation_of(
    node: &entente_node::NodeConfig,
    path: &Path,
) -> Result<FederationConfig, SetupError> {
    let table = node
        .federation
        .as_ref()
        .ok_or_else(|| SetupError::Invalid {
            what: path.display().to_string(),
            message: "no [federation] table (entente node init writes one)".into(),
        })?;
    Ok(FederationConfig::from_table(table, &node.base_dir)?)
}

/// This node's partner block, reachable at `url` (default: its own federation listener).
pub fn export_partner(
    fed: &FederationConfig,
    url: Option<String>,
) -> Result<PartnerExport, SetupError> {
    let identity = NodeIdentity::load(&fed.keys)?;
    let ca = std::fs::read_to_string(&fed.tls_ca).map_err(|source| SetupError::Read {
        path: fed.tls_ca.clone(),
        source,
    })?;
    let url = url.unwrap_or_else(|| format!("https://{}", fed.listen));
    crate::config::parse_url(&url).map_err(|e| SetupError::Invalid {
        what: "--url".into(),
        message: e.to_string(),
    })?;
    let nation = identity.nation();
    let audit_key = entente_audit::vkey(
        &entente_audit::origin_for(nation.as_str()),
        &identity.signing_key().verifying_key(),
    );
    let block = crate::partner_block(&url, &identity.public(), &ca, Some(&audit_key));
    Ok(PartnerExport {
        nation,
        url,
        audit_key,
        block,
    })
}

/// Appends a partner's block (read from `source`) to the node configuration at `config`, after
/// checking the whole result; returns the partner's nation. Nothing is written if it fails.
pub fn import_partner(config: &Path, block: &str, source: &str) -> Result<NationCode, SetupError> {
    let current = std::fs::read_to_string(config).map_err(|e| SetupError::Read {
        path: config.to_path_buf(),
        source: e,
    })?;
    let own = entente_node::NodeConfig::parse(&current, config.parent().unwrap_or(Path::new(".")))
        .map_err(|e| invalid(config.display().to_string(), e))?
        .nation;
    let updated = format!("{}\n{}", current.trim_end(), block);
    let base = config.parent().unwrap_or(Path::new("."));
    let check = entente_node::NodeConfig::parse(&updated, base).map_err(|e| invalid(source, e))?;
    let added = federation_of(&check, config)?
        .partners
        .last()
        .map(|p| p.nation);
    let added = match added {
        Some(nation) if nation != own => nation,
        Some(_) => return Err(invalid(source, "this node's own block")),
        None => return Err(invalid(source, "no [[federation.partner]] block")),
    };
    std::fs::write(config, updated).map_err(|e| SetupError::Io {
        path: config.to_path_buf(),
        source: e,
    })?;
    Ok(added)
}

fn invalid(what: impl Into<String>, message: impl std::fmt::Display) -> SetupError {
    SetupError::Invalid {
        what: what.into(),
        message: message.to_string(),
    }
}

/// A node to set up.
#[derive(Debug, Clone, Copy)]
pub struct NodeSetup<'a> {
    pub nation: NationCode,
    /// The node's folder (created owner-only).
    pub data: &'a Path,
    /// Replace an existing configuration, PKI and keys.
    pub force: bool,
    pub taxii_listen: &'a str,
    pub federation_listen: &'a str,
    pub admin_listen: &'a str,
}

/// The files a set-up wrote or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFiles {
    pub config: PathBuf,
    /// The development CA's certificate, which clients of the node trust.
    pub ca_cert: PathBuf,
    pub keys: PathBuf,
}

/// A node set up, as `entente node init` reports it.
pub struct Initialised<'a> {
    pub setup: &'a NodeSetup<'a>,
    pub files: &'a NodeFiles,
}

impl serde::Serialize for Initialised<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (setup, files) = (self.setup, self.files);
        serde_json::json!({
            "nation": setup.nation.as_str(),
            "config": files.config.display().to_string(),
            "ca": files.ca_cert.display().to_string(),
            "keys": files.keys.display().to_string(),
            "listen": {"taxii": setup.taxii_listen, "federation": setup.federation_listen, "admin": setup.admin_listen},
        })
        .serialize(s)
    }
}

impl entente_types::report::ToReport for Initialised<'_> {
    fn report(&self) -> entente_types::report::Report {
        let (nation, path) = (self.setup.nation, self.files.config.display());
        let mut report = entente_types::report::Report::default();
        report.text(format!(
            "wrote {path}\nTLS: clients trust {} (the node's development CA)\nnext: entente user add --config {path} --name NAME --nation {nation} --clearance \"NATO SECRET\" --password-stdin --write intel\nthen: entente node --config {path}",
            self.files.ca_cert.display(),
        ));
        report
    }
}

fn address(flag: &'static str, value: &str) -> Result<(), SetupError> {
    value
        .parse::<SocketAddr>()
        .map(|_| ())
        .map_err(|e| SetupError::Address {
            flag,
            value: value.to_owned(),
            message: e.to_string(),
        })
}

/// Writes the node's folder. The configuration is written last, owner-only like the rest of the
/// folder (a `database_url` may carry a password).
pub fn write_node(setup: &NodeSetup<'_>) -> Result<NodeFiles, SetupError> {
    entente_seal::create_private_dir(setup.data)?;
    let config = setup.data.join("node.toml");
    if config.exists() && !setup.force {
        return Err(SetupError::Exists { path: config });
    }
    address("--listen", setup.taxii_listen)?;
    address("--federation-listen", setup.federation_listen)?;
    address("--admin-listen", setup.admin_listen)?;
    let ca_cert = write_dev_pki(setup.nation, &setup.data.join("tls"), setup.force)?;
    // Paths are written relative to the config file, so the folder can move.
    let tls = (Path::new("tls/server.pem"), Path::new("tls/server.key"));
    let text = entente_node::initial_config(setup.nation, Path::new("."), Some(tls))
        .replace(
            &format!("listen = \"{}\"", entente_node::DEFAULT_LISTEN),
            &format!("listen = \"{}\"", setup.taxii_listen),
        )
        .replace(
            &format!("listen = \"{}\"", entente_node::DEFAULT_ADMIN_LISTEN),
            &format!("listen = \"{}\"", setup.admin_listen),
        )
        + &crate::initial_table(setup.federation_listen);
    let keys = write_keys(setup.nation, setup.data, setup.force)?;
    entente_seal::write_private(&config, text.as_bytes(), Existing::Replace)?;
    Ok(NodeFiles {
        config,
        ca_cert,
        keys,
    })
}

/// The node's development PKI under `tls/`: one CA (`ca.pem`, `ca.key`) that issued the TAXII
/// server certificate (`server.pem`) and the certificate the node presents to its partners on
/// both ends of mutual TLS (`node.crt`). Kept when complete, so that setting up again never
/// changes a node's identity unless `force` is given. Returns the CA certificate's path.
fn write_dev_pki(nation: NationCode, tls: &Path, force: bool) -> Result<PathBuf, SetupError> {
    let files = [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "node.crt",
        "node.key",
    ];
    if !force && files.iter().all(|f| tls.join(f).exists()) {
        return Ok(tls.join("ca.pem"));
    }
    let written =
        entente_node::pki::write_dev_pki(tls, &format!("Entente {nation} development CA"))?;
    let ca = DevCa::load(&written.ca_cert, &written.ca_key)?;
    let peer = crate::tls::peer_certificate(&ca, nation)?;
    let cert = tls.join("node.crt");
    std::fs::write(&cert, &peer.cert_pem).map_err(|source| SetupError::Io {
        path: cert.clone(),
        source,
    })?;
    entente_seal::write_private(
        &tls.join("node.key"),
        peer.key_pem.as_bytes(),
        Existing::Replace,
    )?;
    Ok(written.ca_cert)
}

/// The node's keys (`node.keys`): kept when present, unless `force` is given.
fn write_keys(nation: NationCode, data: &Path, force: bool) -> Result<PathBuf, SetupError> {
    let keys = data.join("node.keys");
    if keys.exists() && force {
        std::fs::remove_file(&keys).map_err(|source| SetupError::Io {
            path: keys.clone(),
            source,
        })?;
    }
    if !keys.exists() {
        NodeIdentity::generate(nation).save(&keys)?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(data: &Path, force: bool) -> NodeSetup<'_> {
        NodeSetup {
            nation: "FRA".parse().unwrap(),
            data,
            force,
            taxii_listen: "127.0.0.1:0",
            federation_listen: "127.0.0.1:8500",
            admin_listen: "127.0.0.1:0",
        }
    }

    #[test]
    fn a_new_folder_gets_config_pki_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("fra");
        let files = write_node(&setup(&data, false)).unwrap();
        let text = std::fs::read_to_string(&files.config).unwrap();
        assert!(text.contains("nation = \"FRA\""), "{text}");
        assert!(
            text.contains("[federation]\nlisten = \"127.0.0.1:8500\""),
            "{text}"
        );
        for f in [
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "node.crt",
            "node.key",
        ] {
            assert!(data.join("tls").join(f).is_file(), "{f}");
        }
        assert!(files.keys.is_file());
        let node = entente_node::NodeConfig::load(&files.config).unwrap();
        assert!(node.federation.is_some());
    }

    #[test]
    fn an_existing_node_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_node(&setup(dir.path(), false)).unwrap();
        let keys = std::fs::read(&first.keys).unwrap();
        let err = write_node(&setup(dir.path(), false)).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        write_node(&setup(dir.path(), true)).unwrap();
        assert_ne!(std::fs::read(&first.keys).unwrap(), keys);
    }

    #[test]
    fn a_bad_address_names_its_flag() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = setup(dir.path(), false);
        s.admin_listen = "nowhere";
        let err = write_node(&s).unwrap_err();
        assert!(
            err.to_string().starts_with("--admin-listen: \"nowhere\""),
            "{err}"
        );
    }
}
