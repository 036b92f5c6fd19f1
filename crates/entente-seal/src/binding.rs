//! Binding labels to content, after the STANAG 4778 idea.
//!
//! The origin signs `SHA-256(JCS({"binding": "entente.binding/v1", "origin", "object_id",
//! "version", "object", "labels"}))`, where `labels` are the marking definitions the object refers
//! to (object and granular markings), each once, sorted by id. The signature is Ed25519 over
//! `"entente.binding/v1\n" || digest`. A copy the origin tear-lined for its recipient (portions
//! cut out) says so in a signed `"cut": true` member of the bound content, so that the receiver
//! can tell its readers the copy is not the whole object without learning what was cut; the
//! content of a whole copy has no such member. A recall is signed the same way over
//! `{"binding": "entente.recall/v1", "origin", "object_id", "version"}` so that only the origin can
//! withdraw what it released.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use entente_types::NationCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::canonical::{
    canonical_json, canonical_value, hex, sha256, write_canonical, write_string,
};
use crate::signatures::SignatureCheck;
use crate::{NodeIdentity, SealError};

const OBJECT_DOMAIN: &str = "entente.binding/v1";
const RECALL_DOMAIN: &str = "entente.recall/v1";

/// What a binding covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingKind {
    /// An object version and its labels.
    Object,
    /// The withdrawal of an object version by its origin.
    Recall,
}

/// A signed binding, as it travels and as the receiver keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub kind: BindingKind,
    pub origin: NationCode,
    pub object_id: String,
    pub version: String,
    /// Lowercase hex SHA-256 of the canonical bound content.
    pub digest: String,
    /// Base64 Ed25519 signature.
    pub signature: String,
    /// The origin cut portions out of the copy it bound (covered by the signature).
    #[serde(default, skip_serializing_if = "is_false")]
    pub cut: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The nations whose signatures are accepted, with their keys.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    keys: HashMap<NationCode, SignerKey>,
}

/// A signer's key, and whether its signatures may be verified in a batch (see
/// [`crate::signatures`]): decided once, when the key is added.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignerKey {
    pub(crate) key: VerifyingKey,
    pub(crate) batchable: bool,
}

impl Signers {
    pub fn new() -> Signers {
        Signers::default()
    }

    pub fn insert(&mut self, nation: NationCode, key: VerifyingKey) {
        let batchable = crate::signatures::batchable_key(&key);
        self.keys.insert(nation, SignerKey { key, batchable });
    }

    pub fn get(&self, nation: NationCode) -> Option<&VerifyingKey> {
        self.keys.get(&nation).map(|k| &k.key)
    }
}

/// The id and version (`modified`, else `created`) of a STIX object.
pub fn object_version(object: &Value) -> Result<(String, String), SealError> {
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| SealError::json("object", "no string \"id\""))?;
    let version = object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok((id.to_owned(), version.to_owned()))
}

/// The marking-definition ids an object refers to, each once, sorted.
pub fn referenced_markings(object: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    if let Some(list) = object.get("object_marking_refs").and_then(Value::as_array) {
        ids.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(list) = object.get("granular_markings").and_then(Value::as_array) {
        ids.extend(
            list.iter()
                .filter_map(|g| g.get("marking_ref").and_then(Value::as_str))
                .map(str::to_owned),
        );
    }
    ids
}

/// The shipped markings by id, checked to be exactly those the object refers to. Markings that
/// are referenced but not shipped are allowed only when they carry no label of ours (TLP and
/// other well-known markings are referenced by id and not re-sent); every shipped one must be
/// referenced.
fn labels_in_order<'a>(
    object_id: &str,
    object: &Value,
    markings: &'a [Value],
) -> Result<Vec<&'a Value>, SealError> {
    let refs = referenced_markings(object);
    let mut by_id: BTreeMap<&str, &Value> = BTreeMap::new();
    for m in markings {
        let id = m
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| SealError::Labels {
                object_id: object_id.to_owned(),
                message: "a marking definition has no id".into(),
            })?;
        if !refs.contains(id) {
            return Err(SealError::Labels {
                object_id: object_id.to_owned(),
                message: format!("{id} is shipped but not referenced"),
            });
        }
        if by_id.insert(id, m).is_some() {
            return Err(SealError::Labels {
                object_id: object_id.to_owned(),
                message: format!("{id} is shipped twice"),
            });
        }
    }
    Ok(by_id.into_values().collect())
}

/// The digest of an object whose canonical bytes are already known. The bound content is written
/// member by member in canonical order (`binding`, `labels`, `object`, `object_id`, `origin`,
/// `version`), which gives the canonical JSON of the whole without copying the object into it.
fn object_digest_of(
    origin: NationCode,
    object: &Value,
    canonical_object: &[u8],
    markings: &[Value],
    cut: bool,
) -> Result<(String, String, [u8; 32]), SealError> {
    let (object_id, version) = object_version(object)?;
    let labels = labels_in_order(&object_id, object, markings)?;
    let mut bytes = Vec::with_capacity(canonical_object.len() + 1024 * (labels.len() + 1));
    bytes.extend_from_slice(b"{\"binding\":");
    write_string(OBJECT_DOMAIN, &mut bytes);
    if cut {
        bytes.extend_from_slice(b",\"cut\":true");
    }
    bytes.extend_from_slice(b",\"labels\":[");
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        write_canonical(label, &mut bytes);
    }
    bytes.extend_from_slice(b"],\"object\":");
    bytes.extend_from_slice(canonical_object);
    bytes.extend_from_slice(b",\"object_id\":");
    write_string(&object_id, &mut bytes);
    bytes.extend_from_slice(b",\"origin\":");
    write_string(origin.as_str(), &mut bytes);
    bytes.extend_from_slice(b",\"version\":");
    write_string(&version, &mut bytes);
    bytes.push(b'}');
    Ok((object_id, version, sha256(&bytes)))
}

/// The digest as first written: the canonical JSON of the bound content built as one value.
/// Kept as the reference the streamed digest is tested against.
#[cfg(test)]
pub(crate) fn object_digest_reference(
    origin: NationCode,
    object: &Value,
    markings: &[Value],
    cut: bool,
) -> Result<[u8; 32], SealError> {
    let (object_id, version) = object_version(object)?;
    let labels = labels_in_order(&object_id, object, markings)?;
    let mut content = json!({
        "binding": OBJECT_DOMAIN,
        "origin": origin.as_str(),
        "object_id": object_id,
        "version": version,
        "object": object,
        "labels": labels,
    });
    if cut {
        content["cut"] = json!(true);
    }
    let bytes = serde_jcs::to_vec(&content).map_err(|e| SealError::json("canonical JSON", e))?;
    Ok(sha256(&bytes))
}

fn recall_digest(
    origin: NationCode,
    object_id: &str,
    version: &str,
) -> Result<[u8; 32], SealError> {
    let bytes = canonical_json(&json!({
        "binding": RECALL_DOMAIN,
        "origin": origin.as_str(),
        "object_id": object_id,
        "version": version,
    }))?;
    Ok(sha256(&bytes))
}

fn signed_message(kind: BindingKind, digest: &[u8; 32]) -> Vec<u8> {
    let domain = match kind {
        BindingKind::Object => OBJECT_DOMAIN,
        BindingKind::Recall => RECALL_DOMAIN,
    };
    let mut m = Vec::with_capacity(domain.len() + 33);
    m.extend_from_slice(domain.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(digest);
    m
}

/// The origin's binding of an object and the marking definitions it refers to.
pub fn bind(
    identity: &NodeIdentity,
    object: &Value,
    markings: &[Value],
) -> Result<Binding, SealError> {
    Ok(bind_canonical(identity, object, markings)?.0)
}

/// [`bind`], also returning the object's canonical bytes (what a sealed payload carries).
pub fn bind_canonical(
    identity: &NodeIdentity,
    object: &Value,
    markings: &[Value],
) -> Result<(Binding, Vec<u8>), SealError> {
    bind_copy(identity, object, markings, false)
}

/// [`bind_canonical`] of a copy released to one recipient; `cut` when the origin tear-lined
/// it (the binding then says so, under the signature).
pub fn bind_copy(
    identity: &NodeIdentity,
    object: &Value,
    markings: &[Value],
    cut: bool,
) -> Result<(Binding, Vec<u8>), SealError> {
    let origin = identity.nation();
    let canonical = canonical_value(object);
    let (object_id, version, digest) = object_digest_of(origin, object, &canonical, markings, cut)?;
    let signature = identity
        .signing_key()
        .sign(&signed_message(BindingKind::Object, &digest));
    let binding = Binding {
        kind: BindingKind::Object,
        origin,
        object_id,
        version,
        digest: hex(&digest),
        signature: B64.encode(signature.to_bytes()),
        cut,
    };
    Ok((binding, canonical))
}

/// The origin's recall of an object version.
pub fn bind_recall(
    identity: &NodeIdentity,
    object_id: &str,
    version: &str,
) -> Result<Binding, SealError> {
    let origin = identity.nation();
    let digest = recall_digest(origin, object_id, version)?;
    let signature = identity
        .signing_key()
        .sign(&signed_message(BindingKind::Recall, &digest));
    Ok(Binding {
        kind: BindingKind::Recall,
        origin,
        object_id: object_id.to_owned(),
        version: version.to_owned(),
        digest: hex(&digest),
        signature: B64.encode(signature.to_bytes()),
        cut: false,
    })
}

impl Binding {
    /// The signature to check for `digest`: the origin's known key, the signed message and the
    /// signature, decoded. Fails when the origin is unknown or the signature is not 64 bytes of
    /// base64.
    fn signature_check(
        &self,
        signers: &Signers,
        digest: &[u8; 32],
    ) -> Result<SignatureCheck, SealError> {
        let key = signers
            .keys
            .get(&self.origin)
            .ok_or_else(|| SealError::UnknownSigner {
                origin: self.origin.to_string(),
                object_id: self.object_id.clone(),
            })?;
        let bytes: [u8; 64] = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SealError::BadSignature {
                origin: self.origin.to_string(),
                object_id: self.object_id.clone(),
            })?;
        Ok(SignatureCheck {
            key: *key,
            message: signed_message(self.kind, digest),
            signature: Signature::from_bytes(&bytes),
            origin: self.origin,
            object_id: self.object_id.clone(),
        })
    }

    /// Checks that this binding covers exactly `object` and `markings` and is signed by the
    /// origin's known key.
    pub fn verify_object(
        &self,
        signers: &Signers,
        object: &Value,
        markings: &[Value],
    ) -> Result<(), SealError> {
        self.verify_object_canonical(signers, object, &canonical_value(object), markings)
    }

    /// [`Binding::verify_object`] when the object's canonical bytes are already at hand (the
    /// receiver stores exactly those bytes).
    pub fn verify_object_canonical(
        &self,
        signers: &Signers,
        object: &Value,
        canonical_object: &[u8],
        markings: &[Value],
    ) -> Result<(), SealError> {
        self.object_signature(signers, object, canonical_object, markings)?
            .verify()
    }

    /// Checks that this binding covers exactly `object` and `markings` (its digest) and gives
    /// the origin's signature of it to verify, alone ([`SignatureCheck::verify`]) or with others
    /// ([`crate::verify_signatures`]).
    pub fn object_signature(
        &self,
        signers: &Signers,
        object: &Value,
        canonical_object: &[u8],
        markings: &[Value],
    ) -> Result<SignatureCheck, SealError> {
        let (object_id, version) = object_version(object)?;
        if self.kind != BindingKind::Object
            || object_id != self.object_id
            || version != self.version
        {
            return Err(SealError::WrongObject {
                bound_id: self.object_id.clone(),
                bound_version: self.version.clone(),
                object_id,
                version,
            });
        }
        let (_, _, digest) =
            object_digest_of(self.origin, object, canonical_object, markings, self.cut)?;
        if hex(&digest) != self.digest {
            return Err(SealError::Tampered {
                object_id,
                version,
                origin: self.origin.to_string(),
                expected: self.digest.clone(),
                found: hex(&digest),
            });
        }
        self.signature_check(signers, &digest)
    }

    /// Checks a recall of `object_id` at `version`, signed by the origin's known key.
    pub fn verify_recall(
        &self,
        signers: &Signers,
        object_id: &str,
        version: &str,
    ) -> Result<(), SealError> {
        self.recall_signature(signers, object_id, version)?.verify()
    }

    /// [`Binding::verify_recall`] up to the signature, which it gives to verify.
    pub fn recall_signature(
        &self,
        signers: &Signers,
        object_id: &str,
        version: &str,
    ) -> Result<SignatureCheck, SealError> {
        if self.kind != BindingKind::Recall
            || object_id != self.object_id
            || version != self.version
        {
            return Err(SealError::WrongObject {
                bound_id: self.object_id.clone(),
                bound_version: self.version.clone(),
                object_id: object_id.to_owned(),
                version: version.to_owned(),
            });
        }
        let digest = recall_digest(self.origin, object_id, version)?;
        if hex(&digest) != self.digest {
            return Err(SealError::Tampered {
                object_id: object_id.to_owned(),
                version: version.to_owned(),
                origin: self.origin.to_string(),
                expected: self.digest.clone(),
                found: hex(&digest),
            });
        }
        self.signature_check(signers, &digest)
    }
}
