//! `entente audit …`: the verifiable audit log of a node — keys, appends, signed checkpoints,
//! inclusion and consistency proofs, and their verification by a partner.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use entente_audit::report::{Appended, NoteSummary, Verified};
use entente_audit::{keys, AuditLog};
use entente_federation::{AuditClient, FederationError};

use crate::cmd::read_input;
use crate::output::{self, UsageError};

/// The most a batch of events read from standard input may weigh.
const MAX_BATCH_BYTES: usize = 64 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Generates a log signing key: writes FILE (private, mode 0600) and FILE.vkey, prints the vkey.
    Keygen {
        /// The nation whose log the key signs (its checkpoints name `entente.audit/<NATION>`).
        #[arg(long)]
        nation: String,
        /// Where to write the private key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace an existing key file.
        #[arg(long)]
        force: bool,
    },
    /// Appends events (a JSON object or an array of them, `-` for standard input) in one batch.
    Append {
        #[arg(long, value_name = "DIR")]
        log: PathBuf,
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long, value_name = "JSON")]
        event: String,
    },
    /// Prints a checkpoint of the log's current size, signed now (a C2SP signed note); with
    /// `--url`, the one a running node serves.
    Checkpoint(CheckpointArgs),
    /// Prints an inclusion proof (`--index`) or a consistency proof (`--consistency`) as JSON.
    Prove(ProveArgs),
    /// Verifies a signed checkpoint, and with it an inclusion proof or a consistency proof from an
    /// older checkpoint. Exit code 4 when a signature or proof fails.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The signed checkpoint (with `--url`: the one the node serves now).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    remote: Remote,
    /// With `--url`: fetch the inclusion proof of entry N in the checkpoint and verify it.
    #[arg(long, value_name = "N", requires = "url", conflicts_with = "proof")]
    index: Option<u64>,
    /// The log's verifier key: the text `entente.audit/FRA+<id>+<key>` or a file holding it.
    #[arg(long, value_name = "VKEY")]
    vkey: String,
    /// A proof document (`entente audit prove`).
    #[arg(long, value_name = "FILE", conflicts_with = "url")]
    proof: Option<PathBuf>,
    /// The entry (event JSON) the inclusion proof is about; default: the one in the proof.
    #[arg(
        long,
        value_name = "FILE",
        requires = "proof",
        conflicts_with = "old_checkpoint"
    )]
    leaf: Option<PathBuf>,
    /// An older checkpoint the proof shows this one extends (with `--url`, the consistency
    /// proof is fetched from the node).
    #[arg(long, value_name = "FILE")]
    old_checkpoint: Option<PathBuf>,
    /// Print what was verified as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ProveArgs {
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    log: Option<PathBuf>,
    #[command(flatten)]
    remote: Remote,
    /// The entry to prove.
    #[arg(long, value_name = "N", conflicts_with = "consistency")]
    index: Option<u64>,
    /// The tree size the inclusion proof is for (default: the log's current size).
    #[arg(long, value_name = "M", requires = "index")]
    size: Option<u64>,
    /// The two tree sizes of a consistency proof.
    #[arg(long, num_args = 2, value_names = ["FIRST", "SECOND"])]
    consistency: Option<Vec<u64>>,
}

#[derive(Debug, clap::Args)]
struct CheckpointArgs {
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "url",
        requires = "key",
        conflicts_with = "url"
    )]
    log: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    #[command(flatten)]
    remote: Remote,
    /// Print origin, size, root and the signed note as one JSON object.
    #[arg(long)]
    json: bool,
}

/// A running node's audit routes (`/audit/…` on its TAXII or federation port).
#[derive(Debug, clap::Args)]
struct Remote {
    /// The node's base URL, e.g. https://127.0.0.1:8401 (ask the node instead of a local log).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The CA certificate (PEM) that an https URL's server certificate must chain to.
    #[arg(long, value_name = "FILE", requires = "url")]
    ca: Option<PathBuf>,
}

impl Remote {
    fn client(&self) -> anyhow::Result<Option<AuditClient>> {
        match &self.url {
            Some(url) => Ok(Some(
                AuditClient::new(url, self.ca.as_deref()).map_err(unwrap_audit)?,
            )),
            None => Ok(None),
        }
    }
}

/// A failed signature or proof from the remote client keeps its audit error (exit code 4).
fn unwrap_audit(e: FederationError) -> anyhow::Error {
    match e {
        FederationError::Audit(a) => a.into(),
        other => other.into(),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Keygen { nation, out, force } => {
            let nation: entente_types::NationCode = nation.parse().context("--nation")?;
            output::print(keys::generate(nation, &out, force)?.vkey)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Append { log, key, event } => append(&log, &key, &event),
        Command::Checkpoint(a) => {
            let note = if let Some(mut client) = a.remote.client()? {
                block_on(client.checkpoint_note())?
            } else {
                let (Some(log), Some(key)) = (a.log, a.key) else {
                    return Err(UsageError("give --log DIR --key FILE, or --url URL".into()).into());
                };
                keys::open_signed(&log, &key)?.checkpoint()?.note
            };
            if a.json {
                output::print_json(&NoteSummary::of(&note)?)?;
            } else {
                output::print(note.trim_end_matches('\n'))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Prove(a) => {
            let (index, size) = (a.index, a.size);
            let proof_json = if let Some(mut client) = a.remote.client()? {
                match (index, a.consistency.as_deref()) {
                    (Some(index), None) => {
                        let size = match size {
                            Some(s) => s,
                            None => block_on(client.size())?,
                        };
                        block_on(client.inclusion(index, size))?.to_json()
                    }
                    (None, Some(&[first, second])) => {
                        block_on(client.consistency(first, second))?.to_json()
                    }
                    _ => return Err(prove_usage()),
                }
            } else {
                let Some(log) = a.log else {
                    return Err(UsageError("give --log DIR or --url URL".into()).into());
                };
                let log = AuditLog::open_without_key(&log)?;
                match (index, a.consistency.as_deref()) {
                    (Some(index), None) => {
                        let size = size.unwrap_or_else(|| log.size());
                        log.prove_inclusion(index, size)?.to_json()
                    }
                    (None, Some(&[first, second])) => {
                        log.prove_consistency(first, second)?.to_json()
                    }
                    _ => return Err(prove_usage()),
                }
            };
            output::print(proof_json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(a) => {
            let verifier = keys::read_verifier(&a.vkey)?;
            let mut steps = Vec::new();
            let outcome = match (a.remote.client()?, &a.checkpoint) {
                (Some(mut client), _) => {
                    let old = (a.old_checkpoint.as_deref())
                        .map(|path| keys::read_checkpoint(&verifier, path))
                        .transpose()?;
                    let step = |s: Verified| steps.push(s);
                    block_on(client.verify_served(&verifier, a.index, old.as_ref(), step))
                }
                (None, Some(checkpoint)) => {
                    let files = keys::ProofFiles {
                        checkpoint,
                        proof: a.proof.as_deref(),
                        leaf: a.leaf.as_deref(),
                        old_checkpoint: a.old_checkpoint.as_deref(),
                    };
                    let step = |s: Verified| steps.push(s);
                    keys::verify_files(&verifier, files, step).map_err(Into::into)
                }
                (None, None) => {
                    return Err(UsageError("give --checkpoint FILE or --url URL".into()).into())
                }
            };
            // What was established is shown even when a later step fails.
            let mut report = Report::new(a.json);
            for step in steps {
                report.add(step)?;
            }
            outcome?;
            report.finish()
        }
    }
}

/// What `verify` established: printed line by line as text, or gathered into one JSON object.
struct Report {
    json: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Report {
    fn new(json: bool) -> Report {
        Report {
            json: json.then(serde_json::Map::new),
        }
    }

    fn add(&mut self, step: Verified) -> anyhow::Result<()> {
        match &mut self.json {
            Some(map) => {
                map.insert(step.key().to_owned(), serde_json::to_value(&step)?);
                Ok(())
            }
            None => output::print(step),
        }
    }

    fn finish(self) -> anyhow::Result<ExitCode> {
        if let Some(map) = self.json {
            output::print_json(&map)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn prove_usage() -> anyhow::Error {
    UsageError("give --index N [--size M] or --consistency FIRST SECOND".into()).into()
}

/// Runs one request of the remote client to completion.
fn block_on<T>(
    future: impl std::future::Future<Output = Result<T, FederationError>>,
) -> anyhow::Result<T> {
    crate::cmd::node::runtime()?
        .block_on(future)
        .map_err(unwrap_audit)
}

fn append(log: &Path, key: &Path, event: &str) -> anyhow::Result<ExitCode> {
    let text = match event {
        "-" => read_input(Path::new("-"), MAX_BATCH_BYTES, "a batch of events")?.1,
        inline => inline.to_owned(),
    };
    let events = keys::parse_events(&text)?;
    let log = keys::open_signed(log, key)?;
    let range = log.append_batch(&events)?;
    output::print_json(&Appended {
        origin: log.origin().to_owned(),
        first: range.start,
        end: range.end,
        size: log.size(),
    })?;
    Ok(ExitCode::SUCCESS)
}
