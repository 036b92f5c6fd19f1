//! `entente user …`: the users of a node (nation, clearance, collection rights, credentials).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_labels::{parse_marking, PolicySet};
use entente_node::auth;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;

use crate::cmd::node::{load_config, runtime};
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
    match args.command {
        Command::Add(a) => {
            let (name, nation) = (a.name, a.nation.parse::<NationCode>().context("--nation")?);
            if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
                return Err(UsageError(format!(
                    "--name {name:?}: a user name is non-empty, without ':' or control characters"
                ))
                .into());
            }
            let policies = PolicySet::load(&config.policy_data.join("policies"))?;
            let label = parse_marking(&policies, &a.clearance).context("--clearance")?;
            let password_hash = if a.password_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the password from standard input")?;
                let password = text.lines().next().unwrap_or("");
                if password.is_empty() {
                    return Err(UsageError("the password on standard input is empty".into()).into());
                }
                Some(auth::hash_password(password)?)
            } else {
                None
            };
            let rights = CollectionRight::merged(&a.read, &a.write);
            let user = User {
                name,
                nation,
                clearance_policy: label.policy().to_owned(),
                clearance_level: label.classification().to_owned(),
                clearance_caveats: label.caveats().iter().cloned().collect(),
                password_hash,
                rights,
            };
            runtime()?.block_on(async {
                let store = entente_node::open_store(&config).await?;
                store.put_user(&user).await?;
                anyhow::Ok(())
            })?;
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
            runtime()?.block_on(async {
                let store = entente_node::open_store(&config).await?;
                store.add_token(&name, &auth::token_hash(&token)).await?;
                anyhow::Ok(())
            })?;
            output::print(token)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
