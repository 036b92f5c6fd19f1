//! `entente node …`: run a national node, or write a new node's configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_federation::setup::{Initialised, NodeSetup};
use entente_node::NodeConfig;

use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// The node's configuration file (`entente node init` writes one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen for TAXII here instead of the config's `listen` (several processes of one node
    /// on one machine share a config and differ in their addresses).
    #[arg(long, value_name = "ADDR", requires = "config")]
    listen: Option<std::net::SocketAddr>,
    /// The admin listener's address instead of the config's `[admin] listen`.
    #[arg(long, value_name = "ADDR", requires = "config")]
    admin_listen: Option<std::net::SocketAddr>,
    /// The federation listener's address instead of the config's `[federation] listen`.
    #[arg(long, value_name = "ADDR", requires = "config")]
    federation_listen: Option<std::net::SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Writes DIR/node.toml for a new node of NATION, a development PKI under DIR/tls/ (CA and a
    /// loopback server certificate), and creates its database and collections.
    Init(InitArgs),
    /// Prints the OpenAPI 3.1 document of every route a node serves besides TAXII (what its
    /// admin listener serves at /openapi.json).
    Openapi,
}

#[derive(Debug, clap::Args)]
struct InitArgs {
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
    /// Print the files written as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match (args.command, args.config) {
        (Some(Command::Init(a)), _) => {
            let setup = NodeSetup {
                nation: a.nation.parse().context("--nation")?,
                data: &a.data,
                force: a.force,
                taxii_listen: &a.listen,
                federation_listen: &a.federation_listen,
                admin_listen: &a.admin_listen,
            };
            let files = entente_federation::setup::write_node(&setup)?;
            // Opening the node once creates its database and collections.
            let config = load_config(&files.config)?;
            runtime()?.block_on(async {
                entente_node::Node::open(config).await?;
                anyhow::Ok(())
            })?;
            let (setup, files) = (&setup, &files);
            output::emit(a.json, &Initialised { setup, files })
        }
        (Some(Command::Openapi), _) => {
            let document = entente_node::openapi::document([entente_federation::openapi()]);
            output::print(document.to_pretty_json().context("the OpenAPI document")?)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(config)) => serve(
            &config,
            Listeners {
                taxii: args.listen,
                admin: args.admin_listen,
                federation: args.federation_listen,
            },
        ),
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

/// Addresses given on the command line instead of the config's.
struct Listeners {
    taxii: Option<std::net::SocketAddr>,
    admin: Option<std::net::SocketAddr>,
    federation: Option<std::net::SocketAddr>,
}

fn serve(path: &Path, listeners: Listeners) -> anyhow::Result<ExitCode> {
    let mut config = load_config(path)?;
    if let Some(addr) = listeners.taxii {
        config.listen = addr;
    }
    if let Some(addr) = listeners.admin {
        config.admin_listen = Some(addr);
    }
    if let Some(addr) = listeners.federation {
        let table = config.federation.as_mut().ok_or_else(|| {
            UsageError(format!(
                "--federation-listen: {} has no [federation] table",
                path.display()
            ))
        })?;
        table.insert("listen".into(), toml::Value::String(addr.to_string()));
    }
    install_logs();
    // The web console is served beside TAXII (it depends on federation, so it is added here).
    let console: entente_federation::serve::ExtraRoutes<'_> = Box::new(|node, federation| {
        let console =
            entente_console::Console::new(node.clone(), federation.cloned()).map_err(|e| {
                entente_federation::serve::ServeError::Routes(format!("the web console: {e}"))
            })?;
        Ok(entente_console::router(console))
    });
    runtime()?.block_on(entente_federation::serve::serve(
        config,
        console,
        shutdown_signal(),
    ))?;
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
