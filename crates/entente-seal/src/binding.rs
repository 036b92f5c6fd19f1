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
//!
//! An origin that binds many copies at once (a federation batch) may sign them together: the
//! bindings' digests are the leaves of an RFC 9162 Merkle tree ([`crate::merkle`], leaf
//! `SHA-256(0x00 ‖ digest)`), and one Ed25519 signature covers
//! `"entente.binding-tree/v1\n" ‖ size (8 bytes, big-endian) ‖ root`. Each binding then carries
//! its place in the tree (`tree`: the leaf's index, the tree's size and its inclusion path), so
//! it is still verified alone, wherever it travels; a receiver of many verifies each distinct
//! root once. A binding without `tree` is signed on its own, as above.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use entente_types::NationCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::canonical::{canonical_json, canonical_value, hex, sha256, write_string};
use crate::merkle::{leaf_hash, root_and_paths, root_from_path, Hash};
use crate::shared::WriteCanonical;
use crate::signatures::SignatureCheck;
use crate::{NodeIdentity, SealError};

const OBJECT_DOMAIN: &str = "entente.binding/v1";
const RECALL_DOMAIN: &str = "entente.recall/v1";
const TREE_DOMAIN: &str = "entente.binding-tree/v1";

/// The most bindings signed under one root (a path of at most 16 hashes).
pub const MAX_TREE: u64 = 1 << 16;

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
    /// Where the binding sits in the tree its origin signed it in, when signed together with
    /// others (the signature is then over the tree's root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<BindingTree>,
}

/// A binding's place in the tree of bindings signed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingTree {
    /// The binding's leaf, from 0.
    pub index: u64,
    /// How many bindings the tree holds.
    pub size: u64,
    /// The inclusion path, leaf side first, as lowercase hex hashes.
    pub path: Vec<String>,
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
fn labels_in_order<'a, M: WriteCanonical>(
    object_id: &str,
    object: &Value,
    markings: &'a [M],
) -> Result<Vec<&'a M>, SealError> {
    let refs = referenced_markings(object);
    let mut by_id: BTreeMap<&str, &M> = BTreeMap::new();
    for m in markings {
        let id = m
            .json()
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
fn object_digest_of<M: WriteCanonical>(
    origin: NationCode,
    object: &Value,
    canonical_object: &[u8],
    markings: &[M],
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
        label.write_canonical_to(&mut bytes);
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
    let (unsigned, canonical) = digest_copy(identity.nation(), object, markings, cut)?;
    let binding = sign_together(identity, std::slice::from_ref(&unsigned))
        .pop()
        .ok_or_else(|| SealError::json("binding", "nothing signed"))?;
    Ok((binding, canonical))
}

/// What the origin is about to sign for one copy: its digest and what the binding names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedBinding {
    pub origin: NationCode,
    pub object_id: String,
    pub version: String,
    pub digest: [u8; 32],
    pub cut: bool,
}

/// The digest of a copy the origin will bind (see [`bind_copy`]), and the copy's canonical bytes;
/// signed later with others by [`sign_together`].
pub fn digest_copy<M: WriteCanonical>(
    origin: NationCode,
    object: &Value,
    markings: &[M],
    cut: bool,
) -> Result<(UnsignedBinding, Vec<u8>), SealError> {
    let canonical = canonical_value(object);
    let (object_id, version, digest) = object_digest_of(origin, object, &canonical, markings, cut)?;
    Ok((
        UnsignedBinding {
            origin,
            object_id,
            version,
            digest,
            cut,
        },
        canonical,
    ))
}

/// Signs bindings, in order: one alone is signed directly; several (up to [`MAX_TREE`]) are
/// signed together, one signature over the root of their tree, each binding with its path.
pub fn sign_together(identity: &NodeIdentity, unsigned: &[UnsignedBinding]) -> Vec<Binding> {
    let key = identity.signing_key();
    let mut out = Vec::with_capacity(unsigned.len());
    for chunk in unsigned.chunks(MAX_TREE as usize) {
        if let [one] = chunk {
            let signature = key.sign(&signed_message(BindingKind::Object, &one.digest));
            out.push(signed(one, B64.encode(signature.to_bytes()), None));
            continue;
        }
        let leaves: Vec<_> = chunk.iter().map(|u| leaf_hash(&u.digest)).collect();
        let (root, paths) = root_and_paths(&leaves);
        let size = chunk.len() as u64;
        let signature = B64.encode(key.sign(&tree_message(size, &root)).to_bytes());
        for (index, (u, path)) in chunk.iter().zip(paths).enumerate() {
            let tree = BindingTree {
                index: index as u64,
                size,
                path: path.iter().map(|h| hex(h)).collect(),
            };
            out.push(signed(u, signature.clone(), Some(tree)));
        }
    }
    out
}

fn signed(u: &UnsignedBinding, signature: String, tree: Option<BindingTree>) -> Binding {
    Binding {
        kind: BindingKind::Object,
        origin: u.origin,
        object_id: u.object_id.clone(),
        version: u.version.clone(),
        digest: hex(&u.digest),
        signature,
        cut: u.cut,
        tree,
    }
}

/// What the origin signs for a tree of `size` bindings with `root`.
fn tree_message(size: u64, root: &Hash) -> Vec<u8> {
    let mut m = Vec::with_capacity(TREE_DOMAIN.len() + 41);
    m.extend_from_slice(TREE_DOMAIN.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(root);
    m
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
        tree: None,
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
        let message = match &self.tree {
            None => signed_message(self.kind, digest),
            Some(tree) if self.kind == BindingKind::Object => {
                tree_message(tree.size, &self.tree_root(tree, digest)?)
            }
            Some(_) => {
                return Err(SealError::BadTree {
                    origin: self.origin.to_string(),
                    object_id: self.object_id.clone(),
                    message: "a recall is signed on its own".into(),
                })
            }
        };
        Ok(SignatureCheck {
            key: *key,
            message,
            signature: Signature::from_bytes(&bytes),
            origin: self.origin,
            object_id: self.object_id.clone(),
        })
    }

    /// The root of the tree this binding's path leads to from its digest.
    fn tree_root(&self, tree: &BindingTree, digest: &[u8; 32]) -> Result<Hash, SealError> {
        let bad = |message: String| SealError::BadTree {
            origin: self.origin.to_string(),
            object_id: self.object_id.clone(),
            message,
        };
        if tree.size > MAX_TREE {
            return Err(bad(format!(
                "tree of {} bindings, more than {MAX_TREE}",
                tree.size
            )));
        }
        let path = tree
            .path
            .iter()
            .enumerate()
            .map(|(i, h)| {
                unhex32(h).ok_or_else(|| bad(format!("path hash {i} is not 64 hex digits")))
            })
            .collect::<Result<Vec<Hash>, SealError>>()?;
        root_from_path(&leaf_hash(digest), tree.index, tree.size, &path)
            .map_err(|e| bad(e.to_string()))
    }

    /// Checks that this binding covers exactly `object` and `markings` and is signed by the
    /// origin's known key.
    pub fn verify_object<M: WriteCanonical>(
        &self,
        signers: &Signers,
        object: &Value,
        markings: &[M],
    ) -> Result<(), SealError> {
        self.verify_object_canonical(signers, object, &canonical_value(object), markings)
    }

    /// [`Binding::verify_object`] when the object's canonical bytes are already at hand (the
    /// receiver stores exactly those bytes).
    pub fn verify_object_canonical<M: WriteCanonical>(
        &self,
        signers: &Signers,
        object: &Value,
        canonical_object: &[u8],
        markings: &[M],
    ) -> Result<(), SealError> {
        self.object_signature(signers, object, canonical_object, markings)?
            .verify()
    }

    /// Checks that this binding covers exactly `object` and `markings` (its digest) and gives
    /// the origin's signature of it to verify, alone ([`SignatureCheck::verify`]) or with others
    /// ([`crate::verify_signatures`]).
    pub fn object_signature<M: WriteCanonical>(
        &self,
        signers: &Signers,
        object: &Value,
        canonical_object: &[u8],
        markings: &[M],
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

/// 32 bytes from 64 lowercase or uppercase hex digits.
fn unhex32(text: &str) -> Option<Hash> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let value = |d: u8| (d as char).to_digit(16).map(|v| v as u8);
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = value(pair[0])? << 4 | value(pair[1])?;
    }
    Some(out)
}
