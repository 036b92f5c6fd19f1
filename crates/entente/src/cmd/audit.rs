//! `entente audit …`: the verifiable audit log of a node — keys, appends, signed checkpoints,
//! inclusion and consistency proofs, and their verification by a partner.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use entente_audit::{
    origin_for, parse_skey, AuditEvent, AuditLog, ConsistencyProof, InclusionProof, NoteVerifier,
};
use entente_federation::{AuditClient, FederationError};
use serde_json::json;

use crate::output::{self, UsageError};

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
    Checkpoint {
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
    },
    /// Prints an inclusion proof (`--index`) or a consistency proof (`--consistency`) as JSON.
    Prove {
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
    },
    /// Verifies a signed checkpoint, and with it an inclusion proof or a consistency proof from an
    /// older checkpoint. Exit code 4 when a signature or proof fails.
    Verify {
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
    },
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
        Command::Keygen { nation, out, force } => keygen(&nation, &out, force),
        Command::Append { log, key, event } => append(&log, &key, &event),
        Command::Checkpoint { log, key, remote } => {
            if let Some(mut client) = remote.client()? {
                let note = block_on(client.checkpoint_note())?;
                output::print(note.trim_end_matches('\n'))?;
                return Ok(ExitCode::SUCCESS);
            }
            let (Some(log), Some(key)) = (log, key) else {
                return Err(UsageError("give --log DIR --key FILE, or --url URL".into()).into());
            };
            let log = open_signed(&log, &key)?;
            output::print(log.checkpoint()?.note.trim_end_matches('\n'))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Prove {
            log,
            remote,
            index,
            size,
            consistency,
        } => {
            let proof_json = if let Some(mut client) = remote.client()? {
                match (index, consistency.as_deref()) {
                    (Some(index), None) => {
                        let size = match size {
                            Some(s) => s,
                            None => current_size(&mut client)?,
                        };
                        block_on(client.inclusion(index, size))?.to_json()
                    }
                    (None, Some(&[first, second])) => {
                        block_on(client.consistency(first, second))?.to_json()
                    }
                    _ => return Err(prove_usage()),
                }
            } else {
                let Some(log) = log else {
                    return Err(UsageError("give --log DIR or --url URL".into()).into());
                };
                let log = AuditLog::open_without_key(&log)?;
                match (index, consistency.as_deref()) {
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
        Command::Verify {
            checkpoint,
            remote,
            index,
            vkey,
            proof,
            leaf,
            old_checkpoint,
        } => match remote.client()? {
            Some(client) => verify_remote(client, &vkey, index, old_checkpoint.as_deref()),
            None => {
                let Some(checkpoint) = checkpoint else {
                    return Err(UsageError("give --checkpoint FILE or --url URL".into()).into());
                };
                verify(
                    &checkpoint,
                    &vkey,
                    proof.as_deref(),
                    leaf.as_deref(),
                    old_checkpoint.as_deref(),
                )
            }
        },
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

/// The size of the checkpoint a node serves now (its signature is checked by `verify`).
fn current_size(client: &mut AuditClient) -> anyhow::Result<u64> {
    let note = block_on(client.checkpoint_note())?;
    let body = note.split("\n\n").next().unwrap_or("");
    let (_, size, _) = entente_audit::parse_checkpoint_body(&format!("{body}\n"))
        .with_context(|| format!("checkpoint of {}", client.url()))?;
    Ok(size)
}

fn read_vkey(vkey: &str) -> anyhow::Result<NoteVerifier> {
    let vkey_text = if Path::new(vkey).is_file() {
        read_text(Path::new(vkey))?
    } else {
        vkey.to_owned()
    };
    NoteVerifier::from_vkey(vkey_text.trim()).context("--vkey")
}

/// Verifies the checkpoint a node serves now, and with it the inclusion of one entry or the
/// consistency with an older checkpoint, the proofs fetched from the node.
fn verify_remote(
    mut client: AuditClient,
    vkey: &str,
    index: Option<u64>,
    old_checkpoint: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let verifier = read_vkey(vkey)?;
    let cp = block_on(client.checkpoint(&verifier))?;
    output::print(format!(
        "checkpoint of {}: {} size {} root {} (signature verified)",
        client.url(),
        cp.origin,
        cp.size,
        b64(&cp.root)
    ))?;
    if let Some(index) = index {
        let proof = block_on(client.verify_inclusion(&cp, index, None))?;
        let what = proof
            .leaf
            .as_ref()
            .map(|e| format!(" ({} {} {})", e.kind.as_str(), e.object_id, e.node))
            .unwrap_or_default();
        output::print(format!(
            "inclusion of entry {index}{what} in size {} verified",
            cp.size
        ))?;
    }
    if let Some(old_path) = old_checkpoint {
        let old = verifier
            .verify(&read_text(old_path)?)
            .with_context(|| format!("checkpoint {}", old_path.display()))?;
        block_on(client.verify_consistency(&old, &cp))?;
        output::print(format!(
            "consistency from size {} to {} verified",
            old.size.min(cp.size),
            old.size.max(cp.size)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn keygen(nation: &str, out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let nation: entente_types::NationCode = nation.parse().context("--nation")?;
    let vkey_path = PathBuf::from(format!("{}.vkey", out.display()));
    if !force && (out.exists() || vkey_path.exists()) {
        return Err(UsageError(format!(
            "{} exists; give --force to replace the key (checkpoints signed with it will no longer \
             verify against the new vkey)",
            out.display()
        ))
        .into());
    }
    let mut seed = [0u8; 32];
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut seed)
        .context("reading the system's random source for the signing key")?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let name = origin_for(nation.as_str());
    let skey = format!("{}\n", entente_audit::skey(&name, &key));
    entente_seal::write_private(out, skey.as_bytes(), entente_seal::Existing::Replace)?;
    let vkey = entente_audit::vkey(&name, &key.verifying_key());
    std::fs::write(&vkey_path, format!("{vkey}\n"))
        .with_context(|| format!("writing {}", vkey_path.display()))?;
    output::print(vkey)?;
    Ok(ExitCode::SUCCESS)
}

fn open_signed(log: &Path, key: &Path) -> anyhow::Result<AuditLog> {
    let (name, key) = parse_skey(&read_text(key)?).with_context(|| format!("{}", key.display()))?;
    Ok(AuditLog::open(log, &name, key)?)
}

fn append(log: &Path, key: &Path, event: &str) -> anyhow::Result<ExitCode> {
    let text = if event == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        event.to_owned()
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| UsageError(format!("--event: not JSON: {e}")))?;
    let values = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    let events = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<AuditEvent>(v)
                .map_err(|e| UsageError(format!("--event: event {i}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log = open_signed(log, key)?;
    let range = log.append_batch(&events)?;
    output::print_json(&json!({
        "origin": log.origin(),
        "first": range.start,
        "end": range.end,
        "size": log.size(),
    }))?;
    Ok(ExitCode::SUCCESS)
}

fn verify(
    checkpoint: &Path,
    vkey: &str,
    proof: Option<&Path>,
    leaf: Option<&Path>,
    old_checkpoint: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let verifier = read_vkey(vkey)?;
    let cp = verifier
        .verify(&read_text(checkpoint)?)
        .with_context(|| format!("checkpoint {}", checkpoint.display()))?;
    output::print(format!(
        "checkpoint {}: {} size {} root {} (signature verified)",
        checkpoint.display(),
        cp.origin,
        cp.size,
        b64(&cp.root)
    ))?;
    match (proof, old_checkpoint) {
        (None, _) => {}
        (Some(proof_path), None) => {
            let bytes = std::fs::read(proof_path)
                .with_context(|| format!("reading {}", proof_path.display()))?;
            let mut proof = InclusionProof::from_json(&bytes)
                .with_context(|| format!("{}", proof_path.display()))?;
            if let Some(leaf_path) = leaf {
                let event = AuditEvent::from_json(
                    &std::fs::read(leaf_path)
                        .with_context(|| format!("reading {}", leaf_path.display()))?,
                )
                .with_context(|| format!("{}", leaf_path.display()))?;
                proof.leaf = Some(event);
            } else if proof.leaf.is_none() {
                return Err(UsageError(format!(
                    "{} carries no entry; give --leaf FILE",
                    proof_path.display()
                ))
                .into());
            }
            proof
                .verify_against(&cp)
                .with_context(|| format!("{}", proof_path.display()))?;
            output::print(format!(
                "inclusion of entry {} in size {} verified",
                proof.index, proof.size
            ))?;
        }
        (Some(proof_path), Some(old_path)) => {
            let old = verifier
                .verify(&read_text(old_path)?)
                .with_context(|| format!("checkpoint {}", old_path.display()))?;
            let bytes = std::fs::read(proof_path)
                .with_context(|| format!("reading {}", proof_path.display()))?;
            let proof = ConsistencyProof::from_json(&bytes)
                .with_context(|| format!("{}", proof_path.display()))?;
            proof
                .verify_between(&old, &cp)
                .with_context(|| format!("{}", proof_path.display()))?;
            output::print(format!(
                "consistency from size {} to {} verified",
                old.size.min(cp.size),
                old.size.max(cp.size)
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
