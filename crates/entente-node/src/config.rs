//! `node.toml`: read raw (unknown keys refused), then validated into a [`NodeConfig`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use entente_store::postgres::{PgSettings, PgTls};
use entente_types::NationCode;
use serde::Deserialize;

use crate::error::NodeError;

/// The configuration format version this build reads.
pub const CONFIG_VERSION: u32 = 1;

/// Why a node configuration's text is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or not the keys of a node configuration (the message names line and key).
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error("version {0} is not supported (expected {CONFIG_VERSION})")]
    Version(u32),
    /// A value that does not read.
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("collection id {0:?} must be letters, digits and hyphens")]
    CollectionId(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: u32,
    nation: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    listen: Option<String>,
    /// Where the SQLite database lives (relative paths are relative to the config file).
    data_dir: PathBuf,
    /// A PostgreSQL URL; when set, the node stores its objects there instead of in SQLite
    /// (the short form of `[database]`).
    #[serde(default)]
    database_url: Option<String>,
    #[serde(default)]
    database_schema: Option<String>,
    /// PostgreSQL, with every setting: where the URL and password come from, the pool, TLS.
    #[serde(default)]
    database: Option<RawDatabase>,
    /// The folder holding `registry/` and `policies/` (default: the shipped data).
    #[serde(default)]
    policy_data: Option<PathBuf>,
    #[serde(default)]
    max_content_length: Option<u64>,
    /// A folder of MISP warning lists (`*/list.json`); default: `warninglists/` of the
    /// policy data.
    #[serde(default)]
    warning_lists: Option<PathBuf>,
    /// The label given to objects that arrive without one, as a marking; without it they are
    /// refused.
    #[serde(default)]
    default_label: Option<String>,
    #[serde(default)]
    collections: Vec<RawCollection>,
    /// TLS: without it the node speaks plain HTTP (loopback development only).
    #[serde(default)]
    tls: Option<RawTls>,
    /// The admin listener (metrics, the OpenAPI document); without it they are not served.
    #[serde(default)]
    admin: Option<RawAdmin>,
    /// Node-to-node federation; read and validated by `entente-federation`.
    #[serde(default)]
    federation: Option<toml::Table>,
    /// The web console under `/console/` on the TAXII listener.
    #[serde(default)]
    console: Option<RawConsole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    #[serde(default = "enabled")]
    enabled: bool,
    /// How long a console session lasts without a new sign-in, in minutes.
    #[serde(default)]
    session_minutes: Option<u64>,
    /// A folder of recorded exercise runs (one folder per run, each with its `run.json`), replayed
    /// by the console's exercises page; relative to the config file. Default: none.
    #[serde(default)]
    exercise_runs: Option<PathBuf>,
}

fn enabled() -> bool {
    true
}

/// The web console's settings (`[console]` in node.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// Served under `/console/` unless `enabled = false`.
    pub enabled: bool,
    pub session_minutes: u64,
    /// The folder of recorded exercise runs the exercises page lists (`exercise_runs`), if any.
    pub exercise_runs: Option<PathBuf>,
}

/// A console session's default length: a working day.
pub const DEFAULT_SESSION_MINUTES: u64 = 8 * 60;

/// `[database]`: the URL comes from exactly one of `url`, `url_file` (a file holding it) and
/// `url_env` (an environment variable holding it); a password kept apart from the URL from
/// `password_file` or `password_env`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    url_file: Option<PathBuf>,
    #[serde(default)]
    url_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    pool_size: Option<usize>,
    #[serde(default)]
    statement_timeout_ms: Option<u64>,
    #[serde(default)]
    connect_timeout_ms: Option<u64>,
    #[serde(default)]
    tls: Option<RawDatabaseTls>,
}

/// `[database.tls]`: the CA the server's certificate chains to, and a client certificate when
/// the server authenticates clients by certificate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabaseTls {
    ca: PathBuf,
    #[serde(default)]
    client_cert: Option<PathBuf>,
    #[serde(default)]
    client_key: Option<PathBuf>,
}

impl RawDatabase {
    /// The settings, with the URL and password read from where they are kept.
    fn settings(self, base: &Path) -> Result<PgSettings, ConfigError> {
        let field = |field: &'static str, message: String| ConfigError::Field { field, message };
        let read_file = |field_name: &'static str, path: &Path| {
            std::fs::read_to_string(base.join(path))
                .map(|t| t.trim().to_owned())
                .map_err(|e| {
                    field(
                        field_name,
                        format!("cannot read {}: {e}", base.join(path).display()),
                    )
                })
        };
        let read_env = |field_name: &'static str, var: &str| {
            std::env::var(var).map_err(|_| {
                field(
                    field_name,
                    format!("the environment variable {var} is not set"),
                )
            })
        };
        let url = match (self.url, self.url_file, self.url_env) {
            (Some(url), None, None) => url,
            (None, Some(path), None) => read_file("database.url_file", &path)?,
            (None, None, Some(var)) => read_env("database.url_env", &var)?,
            (None, None, None) => {
                return Err(field(
                    "database",
                    "give the URL by one of url, url_file or url_env".into(),
                ))
            }
            _ => {
                return Err(field(
                    "database",
                    "give the URL by only one of url, url_file or url_env".into(),
                ))
            }
        };
        let password = match (self.password_file, self.password_env) {
            (Some(path), None) => Some(read_file("database.password_file", &path)?),
            (None, Some(var)) => Some(read_env("database.password_env", &var)?),
            (None, None) => None,
            _ => {
                return Err(field(
                    "database",
                    "give the password by only one of password_file or password_env".into(),
                ))
            }
        };
        let mut settings = PgSettings::new(url, self.schema.unwrap_or_else(|| "entente".into()));
        settings.password = password;
        if let Some(n) = self.pool_size {
            if n == 0 {
                return Err(field("database.pool_size", "must be at least 1".into()));
            }
            settings.pool_size = n;
        }
        if let Some(ms) = self.statement_timeout_ms {
            settings.statement_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = self.connect_timeout_ms {
            settings.connect_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(tls) = self.tls {
            let client_cert = match (tls.client_cert, tls.client_key) {
                (Some(cert), Some(key)) => Some((base.join(cert), base.join(key))),
                (None, None) => None,
                _ => {
                    return Err(field(
                        "database.tls",
                        "client_cert and client_key go together".into(),
                    ))
                }
            };
            settings.tls = Some(PgTls {
                ca: base.join(tls.ca),
                client_cert,
            });
        }
        Ok(settings)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    /// Default: 127.0.0.1:8600 (loopback).
    #[serde(default)]
    listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    /// The certificate chain (PEM), relative to the config file.
    cert: PathBuf,
    /// The private key (PEM).
    key: PathBuf,
    /// When set, clients must present a certificate issued by this CA (mutual TLS).
    #[serde(default)]
    client_ca: Option<PathBuf>,
}

/// The TLS files of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollection {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
}

/// Where the node keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Sqlite { path: PathBuf },
    Postgres(Box<PgSettings>),
}

/// A collection created at start if missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionConfig {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// A validated node configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub nation: NationCode,
    pub title: String,
    pub listen: SocketAddr,
    pub storage: Storage,
    pub policy_data: PathBuf,
    /// The folder of MISP warning lists values are flagged by (`*/list.json`).
    pub warning_lists: PathBuf,
    pub max_content_length: u64,
    pub default_label: Option<String>,
    pub collections: Vec<CollectionConfig>,
    pub tls: Option<TlsFiles>,
    /// Where the admin listener (metrics, OpenAPI document) listens; `None` without `[admin]`.
    pub admin_listen: Option<SocketAddr>,
    /// The `[federation]` table, as written (validated by `entente-federation`).
    pub federation: Option<toml::Table>,
    pub console: ConsoleSettings,
    /// The folder of the config file: relative paths in `[federation]` start there.
    pub base_dir: PathBuf,
}

/// The default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8400";
/// The admin listener's default address when `[admin]` gives none: loopback only, since it has
/// no authentication.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8600";
/// The default largest request body.
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 100 * 1024 * 1024;

/// The data shipped in the source tree (registry and policies).
pub fn shipped_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

impl NodeConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<NodeConfig, NodeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NodeError::config(format!("cannot read {}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        NodeConfig::parse(&text, base)
            .map_err(|e| NodeError::config(format!("{}: {e}", path.display())))
    }

    /// Parses and validates config text; relative paths are taken from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<NodeConfig, ConfigError> {
        let raw: RawConfig = toml::from_str(text)?;
        if raw.version != CONFIG_VERSION {
            return Err(ConfigError::Version(raw.version));
        }
        let field = |field: &'static str| {
            move |e: &dyn std::fmt::Display| ConfigError::Field {
                field,
                message: e.to_string(),
            }
        };
        let nation: NationCode = raw.nation.parse().map_err(|e| field("nation")(&e))?;
        let listen = raw
            .listen
            .as_deref()
            .unwrap_or(DEFAULT_LISTEN)
            .parse()
            .map_err(|e| field("listen")(&e))?;
        let admin_listen = match raw.admin {
            Some(admin) => Some(
                admin
                    .listen
                    .as_deref()
                    .unwrap_or(DEFAULT_ADMIN_LISTEN)
                    .parse()
                    .map_err(|e| field("admin.listen")(&e))?,
            ),
            None => None,
        };
        let data_dir = base.join(raw.data_dir);
        let storage = match (raw.database_url, raw.database) {
            (Some(url), None) => Storage::Postgres(Box::new(PgSettings::new(
                url,
                raw.database_schema.unwrap_or_else(|| "entente".to_owned()),
            ))),
            (None, Some(database)) => {
                if raw.database_schema.is_some() {
                    return Err(ConfigError::Field {
                        field: "database_schema",
                        message: "with [database], write its schema there".into(),
                    });
                }
                Storage::Postgres(Box::new(database.settings(base)?))
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::Field {
                    field: "database_url",
                    message: "give either database_url or [database], not both".into(),
                })
            }
            (None, None) => Storage::Sqlite {
                path: data_dir.join("node.db"),
            },
        };
        let mut collections = Vec::new();
        for c in raw.collections {
            if c.id.is_empty() || !c.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ConfigError::CollectionId(c.id));
            }
            collections.push(CollectionConfig {
                id: c.id,
                title: c.title,
                description: c.description,
            });
        }
        let policy_data = raw
            .policy_data
            .map(|p| base.join(p))
            .unwrap_or_else(shipped_data);
        Ok(NodeConfig {
            nation,
            warning_lists: raw
                .warning_lists
                .map(|p| base.join(p))
                .unwrap_or_else(|| policy_data.join("warninglists")),
            title: raw
                .title
                .unwrap_or_else(|| format!("Entente national node {nation}")),
            listen,
            storage,
            policy_data,
            max_content_length: raw.max_content_length.unwrap_or(DEFAULT_MAX_CONTENT_LENGTH),
            default_label: raw.default_label,
            collections,
            tls: raw.tls.map(|t| TlsFiles {
                cert: base.join(t.cert),
                key: base.join(t.key),
                client_ca: t.client_ca.map(|c| base.join(c)),
            }),
            admin_listen,
            federation: raw.federation,
            console: ConsoleSettings {
                enabled: raw.console.as_ref().is_none_or(|c| c.enabled),
                session_minutes: raw
                    .console
                    .as_ref()
                    .and_then(|c| c.session_minutes)
                    .unwrap_or(DEFAULT_SESSION_MINUTES),
                exercise_runs: raw
                    .console
                    .and_then(|c| c.exercise_runs)
                    .map(|p| base.join(p)),
            },
            base_dir: base.to_owned(),
        })
    }

    /// A config for tests: SQLite under `dir`, the shipped data, one collection `intel`.
    pub fn for_test(nation: NationCode, dir: &Path) -> NodeConfig {
        NodeConfig {
            nation,
            title: format!("test node {nation}"),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage: Storage::Sqlite {
                path: dir.join("node.db"),
            },
            policy_data: shipped_data(),
            warning_lists: shipped_data().join("warninglists"),
            max_content_length: 1024 * 1024,
            default_label: None,
            collections: vec![CollectionConfig {
                id: "intel".into(),
                title: "Intelligence".into(),
                description: None,
            }],
            tls: None,
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            federation: None,
            console: ConsoleSettings {
                enabled: true,
                session_minutes: DEFAULT_SESSION_MINUTES,
                exercise_runs: None,
            },
            base_dir: dir.to_owned(),
        }
    }
}

/// The text of a new `node.toml` (written by `entente node init`); with `tls`, the paths of the
/// server certificate chain and key (relative to the config file).
pub fn initial_config(nation: NationCode, data_dir: &Path, tls: Option<(&Path, &Path)>) -> String {
    let mut text = format!(
        "# Entente national node\nversion = {CONFIG_VERSION}\nnation = \"{nation}\"\nlisten = \"{DEFAULT_LISTEN}\"\ndata_dir = {:?}\n",
        data_dir.display().to_string()
    );
    if let Some((cert, key)) = tls {
        text.push_str(&format!(
            "\n[tls]\ncert = {:?}\nkey = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ));
    }
    text.push_str(&format!(
        "\n# Metrics and the OpenAPI document: plain HTTP, no authentication, so loopback.\n[admin]\nlisten = \"{DEFAULT_ADMIN_LISTEN}\"\n"
    ));
    text.push_str(&format!(
        "\n[[collections]]\nid = \"intel\"\ntitle = \"Intelligence\"\ndescription = \"Objects published by {nation} analysts\"\n"
    ));
    text
}
