//! `entente node …`: run a national node, or write a new node's configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_node::{initial_config, NodeConfig};
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
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match (args.command, args.config) {
        (
            Some(Command::Init {
                nation,
                data,
                force,
            }),
            _,
        ) => init(&nation, &data, force),
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

fn init(nation: &str, data: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let nation: NationCode = nation.parse().context("--nation")?;
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let path = data.join("node.toml");
    if path.exists() && !force {
        return Err(UsageError(format!(
            "{} exists (use --force to replace it)",
            path.display()
        ))
        .into());
    }
    // A development PKI: a CA of the node and a server certificate for loopback signed by it.
    let pki = entente_node::pki::write_dev_pki(
        &data.join("tls"),
        &format!("Entente {nation} development CA"),
    )?;
    // Paths are written relative to the config file, so the folder can move.
    let tls = (Path::new("tls/server.pem"), Path::new("tls/server.key"));
    std::fs::write(&path, initial_config(nation, Path::new("."), Some(tls)))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let config = load_config(&path)?;
    runtime()?.block_on(async {
        entente_node::Node::open(config).await?;
        anyhow::Ok(())
    })?;
    output::print(format!(
        "wrote {}\nTLS: clients trust {} (the node's development CA)\nnext: entente user add --config {} --name NAME --nation {nation} --clearance \"NATO SECRET\" --password-stdin --write intel\nthen: entente node --config {}",
        path.display(),
        pki.ca_cert.display(),
        path.display(),
        path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn serve(path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    install_logs();
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        entente_node::serve(config, listener, shutdown_signal()).await?;
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

async fn shutdown_signal() {
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
