//! `entente user …`: the users of a node (nation, clearance, collection rights, credentials).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use entente_node::auth;
use entente_store::CollectionRight;
use entente_types::NationCode;

use crate::cmd::node::{load_config, runtime};
use crate::cmd::read_input;
use crate::output::{self, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node's configuration file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Creates or replaces a user; the password is read from standard input.
    Add(AddArgs),
    /// Issues a bearer token for a user (printed once; the node keeps only its hash).
    Token {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    nation: String,
    /// The clearance as a marking: policy, level and caveats, e.g. "NATO SECRET".
    #[arg(long)]
    clearance: String,
    /// Read the password from standard input (one line).
    #[arg(long)]
    password_stdin: bool,
    /// Collections the user may read.
    #[arg(long = "read", value_name = "COLLECTION")]
    read: Vec<String>,
    /// Collections the user may read and write.
    #[arg(long = "write", value_name = "COLLECTION")]
    write: Vec<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = args
        .config
        .ok_or_else(|| UsageError("--config FILE is required".into()))?;
    let config = load_config(&path)?;
    let runtime = runtime()?;
    let store = || runtime.block_on(entente_node::open_store(&config));
    match args.command {
        Command::Add(a) => {
            let password = if a.password_stdin {
                read_input(Path::new("-"), 4096, "a password")?.1
            } else {
                String::new()
            };
            let user = auth::NewUser {
                name: a.name,
                nation: a.nation.parse::<NationCode>().context("--nation")?,
                clearance: &a.clearance,
                password: a.password_stdin.then_some(password.as_str()),
                rights: CollectionRight::merged(&a.read, &a.write),
            }
            .into_user(&config)?;
            runtime.block_on(store()?.put_user(&user))?;
            if a.json {
                output::print_json(&user)?;
            } else {
                output::print(format!(
                    "user {} ({}) cleared {} {}",
                    user.name, user.nation, user.clearance_policy, user.clearance_level
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { name } => {
            let token = auth::new_token();
            runtime.block_on(store()?.add_token(&name, &auth::token_hash(&token)))?;
            output::print(token)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
