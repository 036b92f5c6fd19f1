//! `entente federation …`: a node's public identity, its partners, and pairing nodes by script
//! (`export` on one node, `import` on the other).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use entente_federation::setup;
use entente_seal::NodeIdentity;
use serde_json::json;

use crate::cmd::node::load_config;
use crate::cmd::read_input;
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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = config_path(&args)?.to_owned();
    let node = load_config(&path)?;
    let fed = setup::federation_of(&node, &path)?;
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
            let export = setup::export_partner(&fed, url)?;
            if args.json {
                output::print_json(&export)?;
            } else {
                output::print(export.block)?;
            }
        }
        Command::Import { file } => {
            let (name, block) = read_input(&file, 1 << 20, "a partner block")?;
            let added = setup::import_partner(&path, &block, &name)?;
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
                let fed = entente_federation::Federation::open(node)
                    .await?
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
