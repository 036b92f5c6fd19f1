//! Sealed batches (format 2): many bound objects and recalls sealed to one recipient under one
//! HPKE context.
//!
//! One HPKE base-mode setup per batch (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, info
//! `entente.seal/v2 batch`) gives the encapsulated key; the batch's envelope key is exported from
//! that context (RFC 9180 §5.3, exporter context `entente.seal/v2 envelope key`). Envelope `i` is
//! ChaCha20-Poly1305 under that key with the nonce `0⁴ ‖ i` (64-bit big-endian), and its
//! associated data is the canonical JSON of the clear header: format, suite, sender, recipient,
//! collection, object id, version and `i`. So each envelope still opens, and fails, on its own
//! (a bad one does not spoil the others, and they open in parallel), while an envelope moved to
//! another position or another batch, or a header changed in transit, does not open. Only the
//! holder of the recipient's X25519 key derives the envelope key.
//!
//! What an envelope carries once opened is the same [`Payload`] as in format 1, and the origin's
//! binding is verified for each object individually before anything is returned.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload as AeadPayload};
use chacha20poly1305::ChaCha20Poly1305;
use entente_types::NationCode;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::binding::{object_version, Binding, BindingKind, Signers};
use crate::canonical::{canonical_value, write_string};
use crate::envelope::{Payload, SUITE};
use crate::identity::Kem;
use crate::shared::{CanonicalMemo, WriteCanonical};
use crate::signatures::{verify_signatures, SignatureCheck};
use crate::{NodeIdentity, PublicIdentity, SealError};

type HpkeAead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;

/// The format number of sealed batches.
pub const BATCH_FORMAT: u32 = 2;
const BATCH_INFO: &[u8] = b"entente.seal/v2 batch";
const ENVELOPE_KEY: &[u8] = b"entente.seal/v2 envelope key";
/// The most envelopes one batch may hold (the nonce space is far larger; this bounds memory).
pub const MAX_BATCH_ENVELOPES: usize = 100_000;

/// A batch of envelopes from one sender to one recipient, as it travels (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedBatch {
    pub v: u32,
    pub suite: String,
    pub sender: NationCode,
    pub recipient: NationCode,
    /// Base64 HPKE encapsulated key of the batch.
    pub enc: String,
    /// In the sender's stream order; an envelope's position is part of what it is sealed with.
    pub envelopes: Vec<SealedItem>,
}

/// One envelope of a batch: its clear header and ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedItem {
    pub collection: String,
    pub object_id: String,
    pub version: String,
    /// Base64 ChaCha20-Poly1305 ciphertext of the payload.
    pub ct: String,
}

/// The plaintext of an envelope: a binding, and for an object the object and its labels.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plaintext<'a> {
    binding: Binding,
    /// Read as text: the envelopes of a batch mostly carry the same definitions, parsed once
    /// ([`CanonicalMemo::of_text`]).
    #[serde(default, borrow)]
    markings: Vec<&'a RawValue>,
    #[serde(default)]
    object: Option<Value>,
}

/// The plaintext bytes of an object payload, from the object's canonical bytes (no copy of the
/// object as a value).
pub fn object_plaintext<M: WriteCanonical>(
    binding: &Binding,
    markings: &[M],
    canonical_object: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(canonical_object.len() + 512 + 1024 * markings.len());
    out.extend_from_slice(b"{\"binding\":");
    write_binding(binding, &mut out);
    out.extend_from_slice(b",\"markings\":[");
    for (i, m) in markings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        m.write_canonical_to(&mut out);
    }
    out.extend_from_slice(b"],\"object\":");
    out.extend_from_slice(canonical_object);
    out.push(b'}');
    out
}

/// The plaintext bytes of a recall payload.
pub fn recall_plaintext(binding: &Binding) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"binding\":");
    write_binding(binding, &mut out);
    out.push(b'}');
    out
}

/// The plaintext bytes of any payload.
pub fn payload_plaintext(payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::Object {
            object,
            markings,
            binding,
        } => object_plaintext(binding, markings, &canonical_value(object)),
        Payload::Recall { binding } => recall_plaintext(binding),
    }
}

fn write_binding(b: &Binding, out: &mut Vec<u8>) {
    let kind = match b.kind {
        BindingKind::Object => "object",
        BindingKind::Recall => "recall",
    };
    // Keys in canonical (sorted) order; `cut` only when set, as serde writes it.
    out.extend_from_slice(b"{");
    if b.cut {
        out.extend_from_slice(b"\"cut\":true,");
    }
    out.extend_from_slice(b"\"digest\":");
    write_string(&b.digest, out);
    out.extend_from_slice(b",\"kind\":");
    write_string(kind, out);
    out.extend_from_slice(b",\"object_id\":");
    write_string(&b.object_id, out);
    out.extend_from_slice(b",\"origin\":");
    write_string(b.origin.as_str(), out);
    out.extend_from_slice(b",\"signature\":");
    write_string(&b.signature, out);
    if let Some(tree) = &b.tree {
        out.extend_from_slice(
            format!(",\"tree\":{{\"index\":{},\"path\":[", tree.index).as_bytes(),
        );
        for (i, h) in tree.path.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_string(h, out);
        }
        out.extend_from_slice(format!("],\"size\":{}}}", tree.size).as_bytes());
    }
    out.extend_from_slice(b",\"version\":");
    write_string(&b.version, out);
    out.push(b'}');
}

/// The associated data of envelope `index`: the canonical JSON of its clear header.
fn associated_data(
    sender: NationCode,
    recipient: NationCode,
    item: (&str, &str, &str),
    index: u64,
) -> Vec<u8> {
    let (collection, object_id, version) = item;
    let mut out = Vec::with_capacity(256 + object_id.len());
    out.extend_from_slice(b"{\"collection\":");
    write_string(collection, &mut out);
    out.extend_from_slice(format!(",\"index\":{index},\"object_id\":").as_bytes());
    write_string(object_id, &mut out);
    out.extend_from_slice(b",\"recipient\":");
    write_string(recipient.as_str(), &mut out);
    out.extend_from_slice(b",\"sender\":");
    write_string(sender.as_str(), &mut out);
    out.extend_from_slice(b",\"suite\":");
    write_string(SUITE, &mut out);
    out.extend_from_slice(format!(",\"v\":{BATCH_FORMAT},\"version\":").as_bytes());
    write_string(version, &mut out);
    out.push(b'}');
    out
}

fn nonce(index: u64) -> chacha20poly1305::Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&index.to_be_bytes());
    n.into()
}

/// Seals the envelopes of one batch: one key encapsulation, then one AEAD per envelope.
/// `seal` takes `&self` and the envelope's position, so envelopes may be sealed in parallel.
pub struct BatchSealer {
    sender: NationCode,
    recipient: NationCode,
    enc: String,
    aead: ChaCha20Poly1305,
}

impl BatchSealer {
    pub fn new(sender: NationCode, recipient: &PublicIdentity) -> Result<BatchSealer, SealError> {
        let fail = |message: String| SealError::Envelope {
            sender: sender.to_string(),
            object_id: "(batch)".into(),
            message,
        };
        let (enc, context) = hpke::setup_sender::<HpkeAead, Kdf, Kem>(
            &OpModeS::Base,
            &recipient.hpke_key()?,
            BATCH_INFO,
        )
        .map_err(|e| fail(format!("cannot set up the batch context: {e}")))?;
        let mut key = [0u8; 32];
        context
            .export(ENVELOPE_KEY, &mut key)
            .map_err(|e| fail(format!("cannot export the envelope key: {e}")))?;
        Ok(BatchSealer {
            sender,
            recipient: recipient.nation,
            enc: B64.encode(enc.to_bytes()),
            aead: ChaCha20Poly1305::new(&key.into()),
        })
    }

    /// Seals one payload's plaintext (see [`object_plaintext`], [`recall_plaintext`]) as envelope
    /// `index` of the batch, filed under `collection`.
    pub fn seal(
        &self,
        index: u64,
        collection: &str,
        binding: &Binding,
        plaintext: &[u8],
    ) -> Result<SealedItem, SealError> {
        let aad = associated_data(
            self.sender,
            self.recipient,
            (collection, &binding.object_id, &binding.version),
            index,
        );
        let ct = self
            .aead
            .encrypt(
                &nonce(index),
                AeadPayload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Envelope {
                sender: self.sender.to_string(),
                object_id: binding.object_id.clone(),
                message: "cannot seal".into(),
            })?;
        Ok(SealedItem {
            collection: collection.to_owned(),
            object_id: binding.object_id.clone(),
            version: binding.version.clone(),
            ct: B64.encode(ct),
        })
    }

    /// The batch of `envelopes`, which must be in the positions they were sealed at.
    pub fn finish(self, envelopes: Vec<SealedItem>) -> SealedBatch {
        SealedBatch {
            v: BATCH_FORMAT,
            suite: SUITE.to_owned(),
            sender: self.sender,
            recipient: self.recipient,
            enc: self.enc,
            envelopes,
        }
    }
}

/// An opened envelope: the payload, and for an object its canonical bytes (verified against the
/// binding; what the receiver stores).
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub payload: Payload,
    pub canonical_object: Option<Vec<u8>>,
}

/// An opened envelope whose content its binding's digest covers, the origin's signature not
/// yet verified: only [`verify_opened`] gives the [`Opened`] out.
#[derive(Debug)]
pub struct Unverified {
    opened: Opened,
    signature: SignatureCheck,
}

/// The envelopes [`BatchOpener::open_unverified`] opened, their signatures verified together
/// ([`verify_signatures`]): each is its [`Opened`] when its signature verifies, its error
/// otherwise, in order.
pub fn verify_opened(
    envelopes: Vec<Result<Unverified, SealError>>,
) -> Vec<Result<Opened, SealError>> {
    let checks: Vec<&SignatureCheck> = envelopes
        .iter()
        .filter_map(|e| e.as_ref().ok().map(|u| &u.signature))
        .collect();
    let mut verdicts = verify_signatures(&checks).into_iter();
    envelopes
        .into_iter()
        .map(|e| {
            let u = e?;
            // One verdict per opened envelope, in order (verified alone should one lack).
            verdicts.next().unwrap_or_else(|| u.signature.verify())?;
            Ok(u.opened)
        })
        .collect()
}

/// Opens the envelopes of one batch addressed to this node. `open` takes `&self`, so envelopes
/// may be opened and verified in parallel.
pub struct BatchOpener {
    sender: NationCode,
    recipient: NationCode,
    aead: ChaCha20Poly1305,
}

impl BatchOpener {
    /// Checks the batch's format, suite and recipient and decapsulates its key.
    pub fn new(identity: &NodeIdentity, batch: &SealedBatch) -> Result<BatchOpener, SealError> {
        let fail = |message: String| SealError::Envelope {
            sender: batch.sender.to_string(),
            object_id: "(batch)".into(),
            message,
        };
        if batch.v != BATCH_FORMAT || batch.suite != SUITE {
            return Err(fail(format!(
                "unsupported batch format {} or suite {:?} (this node reads format {BATCH_FORMAT})",
                batch.v, batch.suite
            )));
        }
        if batch.recipient != identity.nation() {
            return Err(fail(format!(
                "sealed for {}, not for {}",
                batch.recipient,
                identity.nation()
            )));
        }
        if batch.envelopes.len() > MAX_BATCH_ENVELOPES {
            return Err(fail(format!(
                "{} envelopes, more than {MAX_BATCH_ENVELOPES}",
                batch.envelopes.len()
            )));
        }
        let enc_bytes = B64
            .decode(&batch.enc)
            .map_err(|e| fail(format!("enc: not base64: {e}")))?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes)
            .map_err(|e| fail(format!("enc: {e}")))?;
        let context = hpke::setup_receiver::<HpkeAead, Kdf, Kem>(
            &OpModeR::Base,
            identity.hpke_secret(),
            &enc,
            BATCH_INFO,
        )
        .map_err(|e| fail(format!("cannot open the batch context: {e}")))?;
        let mut key = [0u8; 32];
        context
            .export(ENVELOPE_KEY, &mut key)
            .map_err(|e| fail(format!("cannot export the envelope key: {e}")))?;
        Ok(BatchOpener {
            sender: batch.sender,
            recipient: batch.recipient,
            aead: ChaCha20Poly1305::new(&key.into()),
        })
    }

    /// Opens envelope `index` and verifies the origin's binding of what it carries with
    /// `signers`; nothing is returned unless both succeed.
    pub fn open(
        &self,
        signers: &Signers,
        index: u64,
        item: &SealedItem,
    ) -> Result<Opened, SealError> {
        let unverified =
            self.open_unverified(signers, &mut CanonicalMemo::default(), index, item)?;
        unverified.signature.verify()?;
        Ok(unverified.opened)
    }

    /// Opens envelope `index` and checks that the origin's binding covers what it carries, but
    /// leaves the signature to [`verify_opened`], which verifies many at once.
    pub fn open_unverified(
        &self,
        signers: &Signers,
        markings_seen: &mut CanonicalMemo,
        index: u64,
        item: &SealedItem,
    ) -> Result<Unverified, SealError> {
        let fail = |message: String| SealError::Envelope {
            sender: self.sender.to_string(),
            object_id: item.object_id.clone(),
            message,
        };
        let ct = B64
            .decode(&item.ct)
            .map_err(|e| fail(format!("ct: not base64: {e}")))?;
        let aad = associated_data(
            self.sender,
            self.recipient,
            (&item.collection, &item.object_id, &item.version),
            index,
        );
        let plaintext = self
            .aead
            .decrypt(
                &nonce(index),
                AeadPayload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                fail(format!(
                    "envelope {index} does not decrypt (wrong key, moved, or header or ciphertext altered)"
                ))
            })?;
        let plain: Plaintext<'_> =
            serde_json::from_slice(&plaintext).map_err(|e| fail(format!("payload: {e}")))?;
        let binding = plain.binding;
        if binding.object_id != item.object_id || binding.version != item.version {
            return Err(SealError::WrongObject {
                bound_id: binding.object_id,
                bound_version: binding.version,
                object_id: item.object_id.clone(),
                version: item.version.clone(),
            });
        }
        match (binding.kind, plain.object) {
            (BindingKind::Recall, None) if plain.markings.is_empty() => {
                let signature =
                    binding.recall_signature(signers, &item.object_id, &item.version)?;
                Ok(Unverified {
                    opened: Opened {
                        payload: Payload::Recall { binding },
                        canonical_object: None,
                    },
                    signature,
                })
            }
            (BindingKind::Object, Some(object)) => {
                let (id, version) = object_version(&object)?;
                if id != item.object_id || version != item.version {
                    return Err(SealError::WrongObject {
                        bound_id: item.object_id.clone(),
                        bound_version: item.version.clone(),
                        object_id: id,
                        version,
                    });
                }
                let canonical = canonical_value(&object);
                let markings = plain
                    .markings
                    .iter()
                    .map(|m| markings_seen.of_text(m))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| fail(format!("payload: a marking definition: {e}")))?;
                let signature =
                    binding.object_signature(signers, &object, &canonical, &markings)?;
                Ok(Unverified {
                    opened: Opened {
                        payload: Payload::Object {
                            object,
                            markings,
                            binding,
                        },
                        canonical_object: Some(canonical),
                    },
                    signature,
                })
            }
            (BindingKind::Recall, _) => Err(fail("a recall carries no object or labels".into())),
            (BindingKind::Object, None) => Err(fail("an object binding without its object".into())),
        }
    }
}
