//! Sealed envelopes: a bound object, or a recall, encrypted to one recipient node.
//!
//! HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305.
//! The header travels in clear (the receiver needs it to route and to report) and is the
//! associated data, so a header changed in transit, or an envelope presented as coming from
//! another sender, for another recipient, collection, object or version, does not open.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use entente_types::NationCode;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::binding::{object_version, Binding, BindingKind, Signers};
use crate::canonical::canonical_json;
use crate::identity::Kem;
use crate::shared::Canonical;
use crate::{NodeIdentity, PublicIdentity, SealError};

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;

/// The suite name written in envelopes.
pub const SUITE: &str = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/ChaCha20Poly1305";
const INFO: &[u8] = b"entente.seal/v1";
/// The largest envelope the parser accepts (a STIX object with its labels is far smaller).
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024 * 1024;

/// What an envelope carries once opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Payload {
    /// An object version, the marking definitions it refers to, and the origin's binding.
    Object {
        object: Value,
        markings: Vec<Canonical>,
        binding: Binding,
    },
    /// The origin withdraws an object version.
    Recall { binding: Binding },
}

impl Payload {
    pub fn binding(&self) -> &Binding {
        match self {
            Payload::Object { binding, .. } | Payload::Recall { binding } => binding,
        }
    }

    /// Checks the binding against the content and the origin's key.
    pub fn verify(&self, signers: &Signers) -> Result<(), SealError> {
        match self {
            Payload::Object {
                object,
                markings,
                binding,
            } => binding.verify_object(signers, object, markings),
            Payload::Recall { binding } => {
                binding.verify_recall(signers, &binding.object_id, &binding.version)
            }
        }
    }
}

/// A sealed envelope as it travels (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    pub v: u32,
    pub suite: String,
    pub sender: NationCode,
    pub recipient: NationCode,
    pub collection: String,
    pub object_id: String,
    pub version: String,
    /// Base64 HPKE encapsulated key.
    pub enc: String,
    /// Base64 ciphertext of the canonical payload.
    pub ct: String,
}

impl Sealed {
    fn aad(&self) -> Result<Vec<u8>, SealError> {
        canonical_json(&json!({
            "v": self.v,
            "suite": self.suite,
            "sender": self.sender.as_str(),
            "recipient": self.recipient.as_str(),
            "collection": self.collection,
            "object_id": self.object_id,
            "version": self.version,
        }))
    }

    fn fail(&self, message: impl Into<String>) -> SealError {
        SealError::Envelope {
            sender: self.sender.to_string(),
            object_id: self.object_id.clone(),
            message: message.into(),
        }
    }

    /// Parses an envelope's JSON (bounded in size; unknown fields refused).
    pub fn from_json(bytes: &[u8]) -> Result<Sealed, SealError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(SealError::json(
                "envelope",
                format!("{} bytes, more than {MAX_ENVELOPE_BYTES}", bytes.len()),
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| SealError::json("envelope", e))
    }

    pub fn to_json(&self) -> Result<Vec<u8>, SealError> {
        serde_json::to_vec(self).map_err(|e| SealError::json("envelope", e))
    }
}

/// Seals a payload from `sender` to `recipient`, filed under `collection`.
pub fn seal(
    sender: NationCode,
    recipient: &PublicIdentity,
    collection: &str,
    payload: &Payload,
) -> Result<Sealed, SealError> {
    let binding = payload.binding();
    let mut sealed = Sealed {
        v: 1,
        suite: SUITE.to_owned(),
        sender,
        recipient: recipient.nation,
        collection: collection.to_owned(),
        object_id: binding.object_id.clone(),
        version: binding.version.clone(),
        enc: String::new(),
        ct: String::new(),
    };
    let plaintext = canonical_json(payload)?;
    let (enc, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &recipient.hpke_key()?,
        INFO,
        &plaintext,
        &sealed.aad()?,
    )
    .map_err(|e| sealed.fail(format!("cannot seal: {e}")))?;
    sealed.enc = B64.encode(enc.to_bytes());
    sealed.ct = B64.encode(ct);
    Ok(sealed)
}

/// Opens an envelope addressed to `identity`, and verifies the origin's binding with `signers`.
pub fn open(
    identity: &NodeIdentity,
    signers: &Signers,
    sealed: &Sealed,
) -> Result<Payload, SealError> {
    if sealed.v != 1 || sealed.suite != SUITE {
        return Err(sealed.fail(format!(
            "unsupported version {} or suite {:?}",
            sealed.v, sealed.suite
        )));
    }
    if sealed.recipient != identity.nation() {
        return Err(sealed.fail(format!(
            "sealed for {}, not for {}",
            sealed.recipient,
            identity.nation()
        )));
    }
    let enc_bytes = B64
        .decode(&sealed.enc)
        .map_err(|e| sealed.fail(format!("enc: not base64: {e}")))?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes)
        .map_err(|e| sealed.fail(format!("enc: {e}")))?;
    let ct = B64
        .decode(&sealed.ct)
        .map_err(|e| sealed.fail(format!("ct: not base64: {e}")))?;
    let plaintext = hpke::single_shot_open::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        identity.hpke_secret(),
        &enc,
        INFO,
        &ct,
        &sealed.aad()?,
    )
    .map_err(|_| sealed.fail("does not decrypt (wrong key, or header or ciphertext altered)"))?;
    let payload: Payload =
        serde_json::from_slice(&plaintext).map_err(|e| sealed.fail(format!("payload: {e}")))?;
    let binding = payload.binding();
    if binding.object_id != sealed.object_id || binding.version != sealed.version {
        return Err(SealError::WrongObject {
            bound_id: binding.object_id.clone(),
            bound_version: binding.version.clone(),
            object_id: sealed.object_id.clone(),
            version: sealed.version.clone(),
        });
    }
    if let Payload::Object { object, .. } = &payload {
        let (id, version) = object_version(object)?;
        if id != sealed.object_id || version != sealed.version {
            return Err(SealError::WrongObject {
                bound_id: sealed.object_id.clone(),
                bound_version: sealed.version.clone(),
                object_id: id,
                version,
            });
        }
    }
    if matches!(payload, Payload::Recall { .. }) && binding.kind != BindingKind::Recall {
        return Err(sealed.fail("a recall must carry a recall binding"));
    }
    payload.verify(signers)?;
    Ok(payload)
}
