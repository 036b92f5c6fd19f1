//! `entente node …`: run a national node, or write a new node's configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_node::{initial_config, NodeConfig};
use entente_seal::Existing;
use entente_types::NationCode;

use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// The node's configuration file (`entente node init` writes one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Writes DIR/node.toml for a new node of NATION, a development PKI under DIR/tls/ (CA and a
    /// loopback server certificate), and creates its database and collections.
    Init {
        /// The node's nation (ISO 3166-1 alpha-3).
        #[arg(long)]
        nation: String,
        /// The node's folder: configuration and database.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Replace an existing node.toml.
        #[arg(long)]
        force: bool,
        /// The TAXII listening address.
        #[arg(long, value_name = "ADDR", default_value = entente_node::DEFAULT_LISTEN)]
        listen: String,
        /// The federation (mutually authenticated TLS) listening address.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8500")]
        federation_listen: String,
        /// The admin listening address (metrics, OpenAPI document; plain HTTP, no
        /// authentication, so loopback).
        #[arg(long, value_name = "ADDR", default_value = entente_node::DEFAULT_ADMIN_LISTEN)]
        admin_listen: String,
    },
    /// Prints the OpenAPI 3.1 document of every route a node serves besides TAXII (what its
    /// admin listener serves at /openapi.json).
    Openapi,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match (args.command, args.config) {
        (
            Some(Command::Init {
                nation,
                data,
                force,
                listen,
                federation_listen,
                admin_listen,
            }),
            _,
        ) => init(
            &nation,
            &data,
            force,
            Listen {
                taxii: &listen,
                federation: &federation_listen,
                admin: &admin_listen,
            },
        ),
        (Some(Command::Openapi), _) => {
            let document = entente_node::openapi::document([entente_federation::openapi()]);
            output::print(document.to_pretty_json().context("the OpenAPI document")?)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(config)) => serve(&config),
        (None, None) => Err(UsageError(
            "give --config FILE to run a node, or `entente node init --nation NATION --data DIR`"
                .into(),
        )
        .into()),
    }
}

/// A multi-threaded runtime for the node and the commands that talk to its store.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Reads a node configuration, reporting a bad one as bad input.
pub fn load_config(path: &Path) -> anyhow::Result<NodeConfig> {
    NodeConfig::load(path).map_err(|e| UsageError(e.to_string()).into())
}

/// The listening addresses `node init` writes.
struct Listen<'a> {
    taxii: &'a str,
    federation: &'a str,
    admin: &'a str,
}

fn init(nation: &str, data: &Path, force: bool, listen: Listen<'_>) -> anyhow::Result<ExitCode> {
    let nation: NationCode = nation.parse().context("--nation")?;
    entente_seal::create_private_dir(data)?;
    let path = data.join("node.toml");
    if path.exists() && !force {
        return Err(UsageError(format!(
            "{} exists (use --force to replace it)",
            path.display()
        ))
        .into());
    }
    let _: std::net::SocketAddr = listen.taxii.parse().context("--listen")?;
    let _: std::net::SocketAddr = listen.federation.parse().context("--federation-listen")?;
    let _: std::net::SocketAddr = listen.admin.parse().context("--admin-listen")?;
    let tls_dir = data.join("tls");
    let ca_cert = write_dev_pki(nation, &tls_dir, force)?;
    // Paths are written relative to the config file, so the folder can move.
    let tls = (Path::new("tls/server.pem"), Path::new("tls/server.key"));
    let text = initial_config(nation, Path::new("."), Some(tls))
        .replace(
            &format!("listen = \"{}\"", entente_node::DEFAULT_LISTEN),
            &format!("listen = \"{}\"", listen.taxii),
        )
        .replace(
            &format!("listen = \"{}\"", entente_node::DEFAULT_ADMIN_LISTEN),
            &format!("listen = \"{}\"", listen.admin),
        )
        + &entente_federation::initial_table(listen.federation);
    write_federation_keys(nation, data, force)?;
    // Owner-only like the rest of the folder: a `database_url` may carry a password.
    entente_seal::write_private(&path, text.as_bytes(), Existing::Replace)?;
    let config = load_config(&path)?;
    runtime()?.block_on(async {
        entente_node::Node::open(config).await?;
        anyhow::Ok(())
    })?;
    output::print(format!(
        "wrote {}\nTLS: clients trust {} (the node's development CA)\nnext: entente user add --config {} --name NAME --nation {nation} --clearance \"NATO SECRET\" --password-stdin --write intel\nthen: entente node --config {}",
        path.display(),
        ca_cert.display(),
        path.display(),
        path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The node's development PKI under `tls/`: one CA (`ca.pem`, `ca.key`) that issued the TAXII
/// server certificate (`server.pem`) and the certificate the node presents to its partners on
/// both ends of mutual TLS (`node.crt`). Kept when present, so that re-running init never changes
/// a node's identity unless `force` is given. Returns the CA certificate's path.
fn write_dev_pki(nation: NationCode, tls: &Path, force: bool) -> anyhow::Result<PathBuf> {
    let ca_cert = tls.join("ca.pem");
    let complete = [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "node.crt",
        "node.key",
    ]
    .iter()
    .all(|f| tls.join(f).exists());
    if complete && !force {
        return Ok(ca_cert);
    }
    let files = entente_node::pki::write_dev_pki(tls, &format!("Entente {nation} development CA"))?;
    let ca = entente_node::pki::DevCa::load(&files.ca_cert, &files.ca_key)?;
    let peer = entente_federation::tls::peer_certificate(&ca, nation)?;
    let cert = tls.join("node.crt");
    std::fs::write(&cert, &peer.cert_pem)
        .with_context(|| format!("cannot write {}", cert.display()))?;
    entente_seal::write_private(
        &tls.join("node.key"),
        peer.key_pem.as_bytes(),
        Existing::Replace,
    )?;
    Ok(files.ca_cert)
}

/// The node's keys (`node.keys`): kept when present, unless `force` is given.
fn write_federation_keys(nation: NationCode, data: &Path, force: bool) -> anyhow::Result<()> {
    let keys = data.join("node.keys");
    if keys.exists() && force {
        std::fs::remove_file(&keys)
            .with_context(|| format!("cannot replace {}", keys.display()))?;
    }
    if !keys.exists() {
        entente_seal::NodeIdentity::generate(nation).save(&keys)?;
    }
    Ok(())
}

fn serve(path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    install_logs();
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let admin_listener = match config.admin_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (admin.listen)"))?,
            ),
            None => {
                tracing::info!("no [admin] table: metrics and the OpenAPI document are not served");
                None
            }
        };
        let node = entente_node::Node::open(config).await?;
        let federation = entente_federation::Federation::open(node.clone())?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // The document describes the routes this node serves: federation's only when it federates.
        let document = entente_node::openapi::document(
            federation.as_ref().map(|_| entente_federation::openapi()),
        );
        let admin = admin_listener.map(|listener| {
            let mut admin_stopped = stopped.clone();
            tokio::spawn(entente_node::serve_admin(
                node.clone(),
                listener,
                document,
                async move {
                    let _ = admin_stopped.wait_for(|s| *s).await;
                },
            ))
        });
        let Some(federation) = federation else {
            entente_node::serve_node(node, listener, shutdown_signal()).await?;
            let _ = stop.send(true);
            if let Some(admin) = admin {
                admin.await.context("admin server")??;
            }
            return anyhow::Ok(());
        };
        let fed_listener = tokio::net::TcpListener::bind(federation.config().listen)
            .await
            .with_context(|| format!("cannot listen on {}", federation.config().listen))?;
        let extra = entente_federation::audit_routes(federation.audit().clone());
        let mut http_stopped = stopped.clone();
        let http = tokio::spawn(entente_node::serve_node_with(
            node,
            extra,
            listener,
            async move {
                let _ = http_stopped.wait_for(|s| *s).await;
            },
        ));
        let fed = tokio::spawn(federation.run(fed_listener, stopped));
        shutdown_signal().await;
        let _ = stop.send(true);
        http.await.context("node server")??;
        fed.await.context("federation")??;
        if let Some(admin) = admin {
            admin.await.context("admin server")??;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Structured logs on stderr; `RUST_LOG` selects, `ENTENTE_LOG_JSON=1` switches to JSON lines.
fn install_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if std::env::var_os("ENTENTE_LOG_JSON").is_some() {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
