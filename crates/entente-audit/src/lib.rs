//! The verifiable audit log of a node.
//!
//! Every publish, release, receive, deny and recall is an [`AuditEvent`] appended to an
//! [`AuditLog`]: an append-only Merkle tree hashed as RFC 9162 (Certificate Transparency 2.0)
//! §2.1 says, whose leaves are the events' RFC 8785 canonical JSON. The log signs
//! [`Checkpoint`]s (size and root) as C2SP signed notes; it proves that an entry is in a
//! checkpoint (inclusion proof) and that a later checkpoint extends an earlier one (consistency
//! proof). Partners keep the checkpoints they were shown and ask for consistency proofs; a node
//! that showed them two histories is caught by [`check_consistent`].
//!
//! The same log lives in a directory ([`AuditLog`], held by one process) or in PostgreSQL
//! ([`PgAuditLog`], shared by every process of a node); [`Journal`] is either, behind one async
//! interface.
//!
//! [`keys`] writes and reads a log's key files and the command line's inputs.
//!
//! Verification needs no log: [`verify_inclusion`], [`verify_consistency`], [`NoteVerifier`].
//!
//! A partner keeps, per node, the last checkpoint it verified. On a newer one it verifies the
//! signature ([`NoteVerifier::verify`]), asks the node for the consistency proof between the two
//! sizes, and calls [`check_consistent`] (or [`ConsistencyProof::verify_between`]); an error there
//! is a [`AuditError::SplitView`] to record and report, and the newer checkpoint is not kept.

mod error;
mod event;
mod journal;
pub mod keys;
mod log;
mod merkle;
mod note;
mod postgres;
mod proof;
pub mod report;

use base64::Engine as _;

pub use error::AuditError;
pub use event::{parse_source, AuditEvent, EventKind, MAX_EVENT_BYTES};
pub use journal::Journal;
pub use log::{Appended, AuditLog, MARK_INTERVAL};
pub use merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MemoryTree, EMPTY_ROOT,
};
pub use note::{
    checkpoint_body, key_id, origin_for, parse_checkpoint_body, parse_note, parse_skey, parse_vkey,
    sign_note, skey, vkey, Checkpoint, NoteSignature, NoteVerifier, ORIGIN_PREFIX,
};
pub use postgres::PgAuditLog;
pub use proof::{ConsistencyProof, InclusionProof};

/// Checks that `newer` extends `older` (two verified checkpoints of the same log), given the
/// consistency proof between their sizes. The checkpoints may come in either order. Any failure
/// is a [`AuditError::SplitView`] naming both sizes and roots: the log signed both checkpoints,
/// so either it showed two histories or it cannot prove that it did not.
pub fn check_consistent(
    older: &Checkpoint,
    newer: &Checkpoint,
    proof: &[Hash],
) -> Result<(), AuditError> {
    let (a, b) = if older.size <= newer.size {
        (older, newer)
    } else {
        (newer, older)
    };
    let split = |reason: String| AuditError::SplitView {
        origin: a.origin.clone(),
        old_size: a.size,
        old_root: b64(&a.root),
        new_size: b.size,
        new_root: b64(&b.root),
        reason,
    };
    if a.origin != b.origin {
        return Err(AuditError::rejected(format!(
            "the checkpoints are of two logs, {} and {}",
            a.origin, b.origin
        )));
    }
    verify_consistency(a.size, b.size, &a.root, &b.root, proof).map_err(|e| match e {
        AuditError::ProofRejected(reason) => split(reason),
        other => other,
    })
}

/// Standard base64 with padding, as signed notes and checkpoints use.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Why a text is not a base64 hash; the message quotes the text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HashTextError {
    #[error("{text:?} is not base64: {source}")]
    NotBase64 {
        text: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("{text:?} is {len} bytes, not a 32-byte hash")]
    WrongLength { text: String, len: usize },
}

/// A 32-byte hash from standard base64.
pub(crate) fn unb64_hash(text: &str) -> Result<Hash, HashTextError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|source| HashTextError::NotBase64 {
            text: text.to_owned(),
            source,
        })?;
    raw.as_slice()
        .try_into()
        .map_err(|_| HashTextError::WrongLength {
            text: text.to_owned(),
            len: raw.len(),
        })
}

#[cfg(test)]
mod tests;
