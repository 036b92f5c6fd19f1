//! The node's audit log behind one async interface, whichever its storage: a directory
//! ([`AuditLog`], one process) or PostgreSQL ([`PgAuditLog`], any number of processes).

use std::ops::Range;
use std::sync::Arc;

use crate::merkle::Hash;
use crate::{
    Appended, AuditError, AuditEvent, AuditLog, Checkpoint, ConsistencyProof, InclusionProof,
    NoteVerifier, PgAuditLog,
};

/// A node's audit log, in files or in PostgreSQL. Both give the same leaves, roots, checkpoints
/// and proofs for the same events. Share it as `Arc<Journal>`.
#[derive(Debug)]
pub enum Journal {
    /// A log directory, held by this process alone. Appends wait for an fsync on a blocking
    /// thread; reads are a few positional reads and run inline.
    Files(Arc<AuditLog>),
    /// The log in the node's PostgreSQL database, shared by every process of the node.
    Postgres(Box<PgAuditLog>),
}

impl From<AuditLog> for Journal {
    fn from(log: AuditLog) -> Journal {
        Journal::Files(Arc::new(log))
    }
}

impl From<PgAuditLog> for Journal {
    fn from(log: PgAuditLog) -> Journal {
        Journal::Postgres(Box::new(log))
    }
}

impl Journal {
    /// The origin line of this log, e.g. `entente.audit/FRA`.
    pub fn origin(&self) -> &str {
        match self {
            Journal::Files(log) => log.origin(),
            Journal::Postgres(log) => log.origin(),
        }
    }

    /// The verifier of this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        match self {
            Journal::Files(log) => log.verifier(),
            Journal::Postgres(log) => log.verifier(),
        }
    }

    /// The verifier key text partners configure: `entente.audit/FRA+<id>+<key>`.
    pub fn vkey(&self) -> String {
        match self {
            Journal::Files(log) => log.vkey(),
            Journal::Postgres(log) => log.vkey(),
        }
    }

    /// Where the log is, for messages: its directory, or `PostgreSQL`.
    pub fn location(&self) -> String {
        match self {
            Journal::Files(log) => log.dir().display().to_string(),
            Journal::Postgres(_) => "PostgreSQL".to_owned(),
        }
    }

    /// Appends, in order, the events whose source is not recorded yet (an event whose source
    /// position is at or below the highest recorded position of its stream is left out, see
    /// [`AuditLog::append_unrecorded`]); returns once they are durable. Either every event is
    /// valid, or none is appended.
    pub async fn append(&self, events: Vec<AuditEvent>) -> Result<Appended, AuditError> {
        match self {
            Journal::Files(log) => {
                let log = Arc::clone(log);
                let dir = log.dir().to_owned();
                tokio::task::spawn_blocking(move || log.append_unrecorded(&events))
                    .await
                    .map_err(|e| AuditError::Poisoned {
                        path: dir,
                        cause: format!("the append task failed: {e}"),
                    })?
            }
            Journal::Postgres(log) => log.append_batch(&events).await,
        }
    }

    /// The highest position of `stream` among the sources of the entries, `None` when no
    /// entry comes from it (see [`AuditLog::position`]).
    pub async fn position(&self, stream: &str) -> Result<Option<u64>, AuditError> {
        match self {
            Journal::Files(log) => Ok(log.position(stream)),
            Journal::Postgres(log) => log.position(stream).await,
        }
    }

    /// Number of entries.
    pub async fn size(&self) -> Result<u64, AuditError> {
        match self {
            Journal::Files(log) => Ok(log.size()),
            Journal::Postgres(log) => log.size().await,
        }
    }

    /// The stored leaf (canonical event JSON) at `index`.
    pub async fn leaf(&self, index: u64) -> Result<Vec<u8>, AuditError> {
        match self {
            Journal::Files(log) => log.leaf(index),
            Journal::Postgres(log) => log.leaf(index).await,
        }
    }

    /// The event at `index`.
    pub async fn entry(&self, index: u64) -> Result<AuditEvent, AuditError> {
        match self {
            Journal::Files(log) => log.entry(index),
            Journal::Postgres(log) => log.entry(index).await,
        }
    }

    /// The events in `range` (which must lie within the log).
    pub async fn entries(&self, range: Range<u64>) -> Result<Vec<AuditEvent>, AuditError> {
        match self {
            Journal::Files(log) => log.entries(range),
            Journal::Postgres(log) => log.entries(range).await,
        }
    }

    /// The root of the tree of the first `size` entries.
    pub async fn root(&self, size: u64) -> Result<Hash, AuditError> {
        match self {
            Journal::Files(log) => log.root(size),
            Journal::Postgres(log) => log.root(size).await,
        }
    }

    /// The signed checkpoint of the current size.
    pub async fn checkpoint(&self) -> Result<Checkpoint, AuditError> {
        match self {
            Journal::Files(log) => log.checkpoint(),
            Journal::Postgres(log) => log.checkpoint().await,
        }
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
        match self {
            Journal::Files(log) => log.inclusion_proof(index, size),
            Journal::Postgres(log) => log.inclusion_proof(index, size).await,
        }
    }

    /// The consistency proof between the trees of the first `first` and `second` entries.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, AuditError> {
        match self {
            Journal::Files(log) => log.consistency_proof(first, second),
            Journal::Postgres(log) => log.consistency_proof(first, second).await,
        }
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries, as a document.
    pub async fn prove_inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, AuditError> {
        match self {
            Journal::Files(log) => log.prove_inclusion(index, size),
            Journal::Postgres(log) => log.prove_inclusion(index, size).await,
        }
    }

    /// The consistency proof from `first` to `second` entries, as a document.
    pub async fn prove_consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, AuditError> {
        match self {
            Journal::Files(log) => log.prove_consistency(first, second),
            Journal::Postgres(log) => log.prove_consistency(first, second).await,
        }
    }

    /// The signed note of the last checkpoint of `partner`'s log that the node kept (in the
    /// log's `partners` folder, or in the database), `None` when there is none.
    pub async fn kept_checkpoint(&self, partner: &str) -> Result<Option<String>, AuditError> {
        match self {
            Journal::Files(log) => {
                let path = kept_path(log, partner);
                match std::fs::read_to_string(&path) {
                    Ok(note) => Ok(Some(note)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(AuditError::io(path, e)),
                }
            }
            Journal::Postgres(log) => log.kept_checkpoint(partner).await,
        }
    }

    /// Keeps `checkpoint`, verified by the caller, as the last of `partner`'s log, unless one of
    /// a larger size is kept already (in the database, another process may have moved on). In
    /// files it is written aside then renamed, so a reader (or a crash) never sees half a note.
    pub async fn keep_checkpoint(
        &self,
        partner: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), AuditError> {
        match self {
            Journal::Files(log) => {
                let path = kept_path(log, partner);
                let kept_size = std::fs::read_to_string(&path).ok().and_then(|note| {
                    let (text, _) = crate::parse_note(&note).ok()?;
                    Some(crate::parse_checkpoint_body(text).ok()?.1)
                });
                if kept_size.is_some_and(|size| size > checkpoint.size) {
                    return Ok(());
                }
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| AuditError::io(dir, e))?;
                }
                let aside = path.with_extension("checkpoint.tmp");
                std::fs::write(&aside, &checkpoint.note).map_err(|e| AuditError::io(&aside, e))?;
                std::fs::rename(&aside, &path).map_err(|e| AuditError::io(&path, e))
            }
            Journal::Postgres(log) => log.keep_checkpoint(partner, checkpoint).await,
        }
    }
}

/// Where a log directory keeps a partner's last checkpoint: `partners/<PARTNER>.checkpoint`.
fn kept_path(log: &AuditLog, partner: &str) -> std::path::PathBuf {
    log.dir()
        .join("partners")
        .join(format!("{partner}.checkpoint"))
}
