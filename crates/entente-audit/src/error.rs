//! The error type of the audit crate: what was wrong, and where.

use std::path::PathBuf;

use entente_types::ErrorCode;

/// Everything that can go wrong with an audit log, a proof or a signed checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A file of the log could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of the log holds something that no write of ours produces.
    #[error("{}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// A log directory opened for another origin or with another key than it was created with.
    #[error("{}: {message}", path.display())]
    Mismatch { path: PathBuf, message: String },
    /// Another process holds the log open.
    #[error("{}: the audit log is open in another process", path.display())]
    Locked { path: PathBuf },
    /// An earlier write failed half-way; the log refuses further appends until reopened.
    #[error("{}: an earlier write failed ({cause}); reopen the log to recover", path.display())]
    Poisoned { path: PathBuf, cause: String },
    /// An event that may not be recorded.
    #[error("audit event field `{field}`: {message}")]
    InvalidEvent {
        field: &'static str,
        message: String,
    },
    /// The database holding the log could not be reached, read or written.
    #[error("PostgreSQL audit log: {context}: {message}")]
    Database { context: String, message: String },
    /// A table of the log in the database holds something that no append of ours writes.
    #[error("PostgreSQL audit log, table {table}: {message}")]
    DatabaseCorrupt {
        table: &'static str,
        message: String,
    },
    /// The log in the database was created for another origin or with another key.
    #[error("PostgreSQL audit log, table audit_head: {message}")]
    DatabaseMismatch { message: String },
    /// An index or size outside the log, or sizes in the wrong order.
    #[error("{0}")]
    OutOfRange(String),
    /// A signed note, checkpoint body, key or proof document that does not parse.
    #[error("{what}: {message}")]
    Malformed { what: &'static str, message: String },
    /// A signed note without a valid signature by the expected key.
    #[error("signed note: {0}")]
    BadSignature(String),
    /// A proof that does not prove what it claims.
    #[error("proof rejected: {0}")]
    ProofRejected(String),
    /// Two checkpoints of one log that no append-only history explains.
    #[error(
        "split view of {origin}: the checkpoint of size {old_size} (root {old_root}) and the checkpoint of \
         size {new_size} (root {new_root}) are not consistent: {reason}"
    )]
    SplitView {
        origin: String,
        old_size: u64,
        old_root: String,
        new_size: u64,
        new_root: String,
        reason: String,
    },
}

impl AuditError {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuditError::Io { .. }
            | AuditError::Corrupt { .. }
            | AuditError::Locked { .. }
            | AuditError::Poisoned { .. }
            | AuditError::Database { .. }
            | AuditError::DatabaseCorrupt { .. } => ErrorCode::Internal,
            AuditError::OutOfRange(_) => ErrorCode::NotFound,
            AuditError::InvalidEvent { .. }
            | AuditError::Mismatch { .. }
            | AuditError::DatabaseMismatch { .. }
            | AuditError::Malformed { .. }
            | AuditError::BadSignature(_)
            | AuditError::ProofRejected(_)
            | AuditError::SplitView { .. } => ErrorCode::InvalidInput,
        }
    }

    /// True when a signature, proof or pair of checkpoints failed to verify (as opposed to input that
    /// could not even be read): the CLI gives these their own exit code.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            AuditError::BadSignature(_)
                | AuditError::ProofRejected(_)
                | AuditError::SplitView { .. }
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.into(),
            source,
        }
    }

    /// A database failure while doing `context`, with every cause of the error (the server's
    /// own message is a cause, not the error's text).
    pub(crate) fn database(
        context: impl Into<String>,
        e: &(dyn std::error::Error + 'static),
    ) -> AuditError {
        let mut message = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cause = c.source();
        }
        AuditError::Database {
            context: context.into(),
            message,
        }
    }

    pub(crate) fn malformed(what: &'static str, message: impl Into<String>) -> AuditError {
        AuditError::Malformed {
            what,
            message: message.into(),
        }
    }

    pub(crate) fn rejected(message: impl Into<String>) -> AuditError {
        AuditError::ProofRejected(message.into())
    }
}
