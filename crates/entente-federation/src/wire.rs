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

/// Where a sender asks which versions the receiver already holds from it. A node process that
/// takes a partner's dispatch over from one that died asks before it sends the first page after
/// the durable cursor: what its predecessor delivered but could not record is recorded, not
/// sent again.
pub const HELD: &str = "/federation/v2/held";
/// The most versions one question names.
pub const MAX_HELD_ITEMS: usize = 10_000;

/// Versions of the asking sender's stream, as its envelopes would name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldQuery {
    pub items: Vec<HeldItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldItem {
    pub collection: String,
    pub object_id: String,
    /// The version (its STIX `modified` timestamp).
    pub version: String,
    /// Whether the envelope is the version's recall rather than the version.
    #[serde(default)]
    pub recall: bool,
}

/// One answer per item, in order: whether the receiver holds it as received from the asking
/// sender (for a recall: whether the recall is applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAnswer {
    pub receiver: NationCode,
    pub held: Vec<bool>,
}
