//! `entente federation …`: a node's public identity, its partners, and pairing nodes by script
//! (`export` on one node, `import` on the other).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_federation::{partner_block, FederationConfig};
use entente_seal::NodeIdentity;
use serde_json::json;

use crate::cmd::node::load_config;
use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node's configuration file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Prints the node's public identity line (nation, Ed25519 and X25519 keys).
    Identity,
    /// Prints a `[[federation.partner]]` block describing this node, for a partner to import.
    Export {
        /// The URL partners reach this node's federation endpoint at (default: https://LISTEN).
        #[arg(long)]
        url: Option<String>,
    },
    /// Appends a partner block (from `entente federation export` on the partner) to node.toml.
    Import {
        /// The block's file, or `-` for standard input.
        file: PathBuf,
    },
    /// Lists the configured partners.
    Partners,
    /// Makes the node, at its next start, send every stored version again to every partner
    /// (what became releasable goes out; what was sent is acknowledged as duplicate). Run it
    /// while the node is stopped.
    Rescan,
}

fn config_path(args: &Args) -> anyhow::Result<&Path> {
    args.config
        .as_deref()
        .ok_or_else(|| UsageError("give --config FILE (the node's node.toml)".into()).into())
}

fn federation_of(node: &entente_node::NodeConfig, path: &Path) -> anyhow::Result<FederationConfig> {
    let table = node.federation.as_ref().ok_or_else(|| {
        UsageError(format!(
            "{} has no [federation] table (entente node init writes one)",
            path.display()
        ))
    })?;
    Ok(FederationConfig::from_table(table, &node.base_dir)?)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = config_path(&args)?.to_owned();
    let node = load_config(&path)?;
    let fed = federation_of(&node, &path)?;
    match args.command {
        Command::Identity => {
            let identity = NodeIdentity::load(&fed.keys)?;
            let line = identity.public().to_string();
            if args.json {
                output::print_json(
                    &json!({"nation": identity.nation().as_str(), "identity": line}),
                )?;
            } else {
                output::print(line)?;
            }
        }
        Command::Export { url } => {
            let identity = NodeIdentity::load(&fed.keys)?;
            let ca = std::fs::read_to_string(&fed.tls_ca)
                .with_context(|| format!("cannot read {}", fed.tls_ca.display()))?;
            let url = url.unwrap_or_else(|| format!("https://{}", fed.listen));
            entente_federation::config::parse_url(&url).map_err(|e| UsageError(e.to_string()))?;
            // The audit key partners check our checkpoints with (C2SP vkey).
            let vkey = entente_audit::vkey(
                &entente_audit::origin_for(identity.nation().as_str()),
                &identity.signing_key().verifying_key(),
            );
            let block = partner_block(&url, &identity.public(), &ca, Some(&vkey));
            if args.json {
                output::print_json(&json!({
                    "nation": identity.nation().as_str(), "url": url, "audit_key": vkey, "block": block,
                }))?;
            } else {
                output::print(block)?;
            }
        }
        Command::Import { file } => {
            let mut block = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut block)
                    .context("cannot read standard input")?;
            } else {
                block = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
            }
            let current = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let updated = format!("{}\n{}", current.trim_end(), block);
            // Validate the whole result before writing anything.
            let base = path.parent().unwrap_or(Path::new("."));
            let check = entente_node::NodeConfig::parse(&updated, base)
                .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
            let fed = federation_of(&check, &path)?;
            let added = fed
                .partners
                .last()
                .map(|p| p.nation.to_string())
                .unwrap_or_default();
            let own = node.nation.to_string();
            if added == own {
                return Err(
                    UsageError(format!("{} is this node's own block", file.display())).into(),
                );
            }
            std::fs::write(&path, updated)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if args.json {
                output::print_json(&json!({"added": added, "config": path.display().to_string()}))?;
            } else {
                output::print(format!("partner {added} added to {}", path.display()))?;
            }
        }
        Command::Partners => {
            let partners = entente_federation::config::Partners(&fed.partners);
            output::emit(args.json, &partners)?;
        }
        Command::Rescan => {
            let partners = fed.partners.len();
            crate::cmd::node::runtime()?.block_on(async {
                let node = entente_node::Node::open(node).await?;
                let fed = entente_federation::Federation::open(node)?
                    .ok_or_else(|| UsageError("no [federation] table".into()))?;
                fed.rescan().await?;
                anyhow::Ok(())
            })?;
            if args.json {
                output::print_json(&json!({"rescan": true, "partners": partners}))?;
            } else {
                output::print("every partner's stream will be walked again")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
