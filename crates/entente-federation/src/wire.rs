//! What partners exchange: a sealed batch (`entente_seal::SealedBatch`, format 2: one key
//! encapsulation per batch, one AEAD per envelope), and the receiver's acknowledgement.

use entente_types::NationCode;
use serde::{Deserialize, Serialize};

/// The inbox path on a partner's federation endpoint. Version 2 takes sealed batches of format 2;
/// a sender of format 1 batches (one key encapsulation per envelope) finds no inbox (404).
pub const INBOX: &str = "/federation/v2/inbox";
/// The largest batch body accepted.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

pub use entente_seal::{SealedBatch as Batch, SealedItem};

/// What became of one envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Stored now.
    Stored,
    /// Already held (a retry or a replay): nothing changed.
    Duplicate,
    /// A recall applied (or of a version not held).
    Recalled,
    /// Refused for good (bad envelope, binding, entitlement); recorded by the receiver.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub object_id: String,
    pub version: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The receiver's answer to a batch: one result per envelope, in order. A batch is acknowledged
/// only after everything stored is durable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    pub receiver: NationCode,
    pub results: Vec<ItemResult>,
}
