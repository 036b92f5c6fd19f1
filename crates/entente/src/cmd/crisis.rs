//! `entente crisis …`: crisis rooms at a node, through its `/api/crisis/rooms` routes, as the
//! user a bearer token stands for (`entente user token`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_crisis::{OpenRequest, RoomList};
use entente_federation::CrisisClient;

use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node's base URL (`https://127.0.0.1:8443`).
    #[arg(long, global = true, env = "ENTENTE_NODE_URL", value_name = "URL")]
    node: Option<String>,
    /// The CA certificate the node's TLS certificate is checked against (HTTPS).
    #[arg(long, global = true, env = "ENTENTE_NODE_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// A file whose first line is the user's bearer token.
    #[arg(
        long = "token-file",
        global = true,
        env = "ENTENTE_TOKEN_FILE",
        value_name = "FILE"
    )]
    token_file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Open a room for an invoked clause: who takes part and why comes from the registry.
    Open {
        /// The clause: an alias (`nato-art-4`, `nato-art-5`, `eu-art-42-7`) or `agreement/clause`.
        #[arg(long)]
        clause: String,
        /// The requesting nations (ISO 3166-1 alpha-3), comma-separated.
        #[arg(long = "requested-by", value_delimiter = ',', required = true)]
        requested_by: Vec<String>,
        /// The day the room is opened as of (YYYY-MM-DD; default today).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// A label (marking) instead of the one derived from the clause.
        #[arg(long)]
        label: Option<String>,
    },
    /// The rooms the user may see.
    List,
    /// One room: clause, participants and why, and who joined or left since.
    Show {
        /// The room's UUID, collection or descriptor id.
        room: String,
    },
    /// Close a room: it takes no new objects; what it holds and its audit entries stay.
    Close { room: String },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args
        .node
        .as_deref()
        .ok_or_else(|| output::UsageError("give --node URL (or ENTENTE_NODE_URL)".into()))?;
    let token_file = args.token_file.as_deref().ok_or_else(|| {
        output::UsageError("give --token-file FILE (or ENTENTE_TOKEN_FILE)".into())
    })?;
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("--token-file {}", token_file.display()))?;
    let token = token.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err(output::UsageError(format!(
            "--token-file {}: the first line is empty",
            token_file.display()
        ))
        .into());
    }
    let client = CrisisClient::new(node, args.ca.as_deref(), &token)?;
    let runtime = crate::cmd::node::runtime()?;
    match args.command {
        Command::Open {
            clause,
            requested_by,
            at,
            title,
            label,
        } => {
            let requested_by = requested_by
                .iter()
                .map(|n| {
                    n.trim()
                        .parse()
                        .with_context(|| format!("--requested-by {n:?}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let request = OpenRequest {
                clause,
                requested_by,
                as_of: crate::cmd::parse_day(at.as_deref())?,
                title,
                label,
            };
            let room = runtime.block_on(client.open(&request))?;
            output::emit(args.json, &room)
        }
        Command::List => {
            let list: RoomList = runtime.block_on(client.list())?;
            output::emit(args.json, &list)
        }
        Command::Show { room } => output::emit(args.json, &runtime.block_on(client.show(&room))?),
        Command::Close { room } => output::emit(args.json, &runtime.block_on(client.close(&room))?),
    }
}
