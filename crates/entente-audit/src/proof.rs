//! Proofs as JSON documents, as the CLI prints them and nodes serve them. Hashes are standard
//! base64. A document's own `root` is informative: a verifier checks it against the root of a
//! checkpoint it verified ([`InclusionProof::verify_against`]).

use serde::{Deserialize, Serialize};

use crate::merkle::Hash;
use crate::{check_consistent, verify_inclusion, AuditError, AuditEvent, Checkpoint};

/// More hashes than any proof in a tree of 2^64 leaves has.
const MAX_PROOF_HASHES: usize = 128;

/// Largest proof document read.
const MAX_PROOF_BYTES: usize = 1 << 20;

/// That entry `index` is in the tree of the first `size` entries of the log `origin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub origin: String,
    pub index: u64,
    pub size: u64,
    /// The entry, when the prover included it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<AuditEvent>,
    #[serde(with = "b64_hash")]
    pub leaf_hash: Hash,
    #[serde(with = "b64_hash")]
    pub root: Hash,
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

/// That the tree of the first `second` entries of the log `origin` extends that of the first
/// `first`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub origin: String,
    pub first: u64,
    pub second: u64,
    #[serde(with = "b64_hash")]
    pub first_root: Hash,
    #[serde(with = "b64_hash")]
    pub second_root: Hash,
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

fn parse<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, AuditError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(AuditError::malformed(
            what,
            format!("{} bytes, more than {MAX_PROOF_BYTES}", bytes.len()),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| AuditError::malformed(what, e.to_string()))
}

fn render<T: Serialize>(value: &T) -> String {
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

impl InclusionProof {
    /// Reads a proof document.
    pub fn from_json(bytes: &[u8]) -> Result<InclusionProof, AuditError> {
        let proof: InclusionProof = parse("inclusion proof", bytes)?;
        if let Some(leaf) = &proof.leaf {
            if crate::leaf_hash(&leaf.leaf_bytes()) != proof.leaf_hash {
                return Err(AuditError::malformed(
                    "inclusion proof",
                    "`leaf_hash` is not the hash of `leaf`",
                ));
            }
        }
        Ok(proof)
    }

    /// The document, pretty-printed.
    pub fn to_json(&self) -> String {
        render(self)
    }

    /// Verifies the proof against a trusted root of the tree of `self.size` entries.
    pub fn verify(&self, root: &Hash) -> Result<(), AuditError> {
        if let Some(leaf) = &self.leaf {
            if crate::leaf_hash(&leaf.leaf_bytes()) != self.leaf_hash {
                return Err(AuditError::rejected(
                    "`leaf_hash` is not the hash of `leaf`",
                ));
            }
        }
        verify_inclusion(&self.leaf_hash, self.index, self.size, &self.hashes, root)
    }

    /// Verifies the proof against a verified checkpoint of the same log and size.
    pub fn verify_against(&self, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        if self.origin != checkpoint.origin {
            return Err(AuditError::rejected(format!(
                "the proof is for the log {}, the checkpoint of {}",
                self.origin, checkpoint.origin
            )));
        }
        if self.size != checkpoint.size {
            return Err(AuditError::rejected(format!(
                "the proof is for size {}, the checkpoint has size {}",
                self.size, checkpoint.size
            )));
        }
        self.verify(&checkpoint.root)
    }
}

impl ConsistencyProof {
    /// Reads a proof document.
    pub fn from_json(bytes: &[u8]) -> Result<ConsistencyProof, AuditError> {
        parse("consistency proof", bytes)
    }

    /// The document, pretty-printed.
    pub fn to_json(&self) -> String {
        render(self)
    }

    /// Verifies that `newer` extends `older` (verified checkpoints of one log) with this proof;
    /// a failure is a split view naming both checkpoints.
    pub fn verify_between(&self, older: &Checkpoint, newer: &Checkpoint) -> Result<(), AuditError> {
        let (a, b) = if older.size <= newer.size {
            (older, newer)
        } else {
            (newer, older)
        };
        if self.origin != a.origin || (self.first, self.second) != (a.size, b.size) {
            return Err(AuditError::rejected(format!(
                "the proof is from size {} to {} of {}, the checkpoints are of sizes {} and {} of {}",
                self.first, self.second, self.origin, a.size, b.size, a.origin
            )));
        }
        check_consistent(a, b, &self.hashes)
    }
}

mod b64_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::b64(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::unb64_hash(&text).map_err(serde::de::Error::custom)
    }
}

mod b64_hashes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hashes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| crate::b64(h)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        if texts.len() > super::MAX_PROOF_HASHES {
            return Err(serde::de::Error::custom(format!(
                "{} hashes, more than any proof has",
                texts.len()
            )));
        }
        texts
            .iter()
            .map(|t| crate::unb64_hash(t).map_err(serde::de::Error::custom))
            .collect()
    }
}
