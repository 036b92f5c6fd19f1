//! C2SP signed notes (https://c2sp.org/signed-note) carrying C2SP checkpoints
//! (https://c2sp.org/tlog-checkpoint), and the text forms of their keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one line per signature:
//! `— <key name> <base64(key id ‖ signature)>`. For Ed25519 the key id is the first four bytes of
//! SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key) and the signature covers the text alone. The
//! verifier key form is `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, the signer key form
//! `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`, as in Go's `golang.org/x/mod/sumdb/note`,
//! so keys can be exchanged with other tools of that ecosystem.

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;
use crate::AuditError;

/// The prefix of a log's origin line and key name: `entente.audit/FRA`.
pub const ORIGIN_PREFIX: &str = "entente.audit/";

/// Signature algorithm byte of Ed25519 in key ids and key encodings.
const ALG_ED25519: u8 = 0x01;

/// Most signature lines read from one note (as Go's reader): more is a malformed note.
const MAX_SIGNATURES: usize = 100;

/// Largest note accepted.
const MAX_NOTE_BYTES: usize = 1 << 16;

const SIG_PREFIX: &str = "\u{2014} ";

/// The origin line of `nation`'s log: `entente.audit/<NATION>`. An argument that already carries
/// the prefix is returned as it is, so callers may pass either form.
pub fn origin_for(nation_or_origin: &str) -> String {
    if nation_or_origin.starts_with(ORIGIN_PREFIX) {
        nation_or_origin.to_owned()
    } else {
        format!("{ORIGIN_PREFIX}{nation_or_origin}")
    }
}

/// A signed checkpoint: the log's origin, its size, and the root of the tree of that size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The origin line, e.g. `entente.audit/FRA`.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The whole C2SP signed note.
    pub note: String,
}

/// The checkpoint body: `<origin>\n<size>\n<base64 root>\n`.
pub fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", crate::b64(root))
}

/// Reads a checkpoint body (the text of a note), allowing extension lines after the root.
pub fn parse_checkpoint_body(text: &str) -> Result<(String, u64, Hash), AuditError> {
    let bad = |m: String| AuditError::malformed("checkpoint", m);
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("the text does not end with a newline".into()))?;
    let mut lines = body.split('\n');
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err(bad("line 1 (origin) is empty".into()));
    }
    let size_text = lines
        .next()
        .ok_or_else(|| bad("line 2 (tree size) is missing".into()))?;
    let canonical = size_text == "0" || (!size_text.starts_with('0') && !size_text.is_empty());
    let size = size_text
        .parse::<u64>()
        .ok()
        .filter(|_| canonical && size_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            bad(format!(
                "line 2 (tree size) {size_text:?} is not a decimal number"
            ))
        })?;
    let root_text = lines
        .next()
        .ok_or_else(|| bad("line 3 (root hash) is missing".into()))?;
    let root = crate::unb64_hash(root_text).map_err(|m| bad(format!("line 3 (root hash): {m}")))?;
    for (i, extension) in lines.enumerate() {
        if extension.is_empty() {
            return Err(bad(format!("line {} (extension) is empty", i + 4)));
        }
    }
    Ok((origin.to_owned(), size, root))
}

/// The key id of an Ed25519 key of this name.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The verifier key text `<name>+<hex id>+<base64(0x01 ‖ key)>`.
pub fn vkey(name: &str, key: &VerifyingKey) -> String {
    let mut raw = vec![ALG_ED25519];
    raw.extend_from_slice(key.as_bytes());
    format!("{name}+{:08x}+{}", key_id(name, key), crate::b64(&raw))
}

/// The signer key text `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
pub fn skey(name: &str, key: &SigningKey) -> String {
    let mut raw = vec![ALG_ED25519];
    raw.extend_from_slice(key.as_bytes());
    format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        key_id(name, &key.verifying_key()),
        crate::b64(&raw)
    )
}

/// Reads `<name>+<hex id>+<base64 key>`; the id must be the one the name and key give.
fn parse_key_parts(what: &'static str, text: &str) -> Result<(String, u32, [u8; 32]), AuditError> {
    let bad = |m: String| AuditError::malformed(what, m);
    let text = text.trim_end_matches(['\n', '\r']);
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected <name>+<hex key id>+<base64 key>".into()));
    };
    check_key_name(name).map_err(|e| bad(e.to_string()))?;
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!("key id {id_hex:?} is not 8 hex digits")));
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|e| bad(e.to_string()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .map_err(|e| bad(format!("key {key_b64:?} is not base64: {e}")))?;
    if raw.len() != 33 || raw[0] != ALG_ED25519 {
        return Err(bad(
            "the key is not an Ed25519 key (algorithm byte 0x01 and 32 bytes)".into(),
        ));
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&raw[1..]);
    Ok((name.to_owned(), id, key))
}

/// Reads a verifier key text: its name and Ed25519 public key.
pub fn parse_vkey(text: &str) -> Result<(String, VerifyingKey), AuditError> {
    let (name, id, raw) = parse_key_parts("verifier key", text)?;
    let key = VerifyingKey::from_bytes(&raw)
        .map_err(|e| AuditError::malformed("verifier key", format!("not an Ed25519 point: {e}")))?;
    if key.is_weak() {
        return Err(AuditError::malformed(
            "verifier key",
            "a small-order (weak) key",
        ));
    }
    if key_id(&name, &key) != id {
        return Err(AuditError::malformed(
            "verifier key",
            format!("key id {id:08x} does not match the name {name:?} and key"),
        ));
    }
    Ok((name, key))
}

/// Reads a signer key text: its name and Ed25519 private key.
pub fn parse_skey(text: &str) -> Result<(String, SigningKey), AuditError> {
    let rest = text
        .trim_end_matches(['\n', '\r'])
        .strip_prefix("PRIVATE+KEY+")
        .ok_or_else(|| AuditError::malformed("signer key", "does not start with PRIVATE+KEY+"))?;
    let (name, id, seed) = parse_key_parts("signer key", rest)?;
    let key = SigningKey::from_bytes(&seed);
    if key_id(&name, &key.verifying_key()) != id {
        return Err(AuditError::malformed(
            "signer key",
            format!("key id {id:08x} does not match the name {name:?} and key"),
        ));
    }
    Ok((name, key))
}

/// Why a key name is refused.
#[derive(Debug, thiserror::Error)]
enum KeyNameError {
    #[error("the key name is empty")]
    Empty,
    #[error("the key name {name:?} contains {character:?}")]
    Forbidden { name: String, character: char },
}

fn check_key_name(name: &str) -> Result<(), KeyNameError> {
    if name.is_empty() {
        return Err(KeyNameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || *c == '+' || c.is_control())
    {
        return Err(KeyNameError::Forbidden {
            name: name.to_owned(),
            character: c,
        });
    }
    Ok(())
}

/// Signs `text` (which must be valid note text) as a note with one signature.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> Result<String, AuditError> {
    check_text(text)?;
    check_key_name(name).map_err(|e| AuditError::malformed("signer key", e.to_string()))?;
    let signature = key.sign(text.as_bytes());
    let mut blob = key_id(name, &key.verifying_key()).to_be_bytes().to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{text}\n{SIG_PREFIX}{name} {}\n",
        crate::b64(&blob)
    ))
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

/// Splits a note into its text and signature lines, checking the format but no signature.
pub fn parse_note(note: &str) -> Result<(&str, Vec<NoteSignature>), AuditError> {
    let bad = |m: String| AuditError::malformed("signed note", m);
    if note.len() > MAX_NOTE_BYTES {
        return Err(bad(format!(
            "{} bytes, more than {MAX_NOTE_BYTES}",
            note.len()
        )));
    }
    // The text ends at the last blank line: signature lines never contain one.
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line between the text and the signatures".into()))?;
    let text = &note[..=split];
    let sigs = &note[split + 2..];
    check_text(text)?;
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(bad("the signature lines do not end with a newline".into()));
    };
    let mut out = Vec::new();
    for (i, line) in sigs.split('\n').enumerate() {
        let bad_line = |m: &str| bad(format!("signature line {}: {m}", i + 1));
        if out.len() == MAX_SIGNATURES {
            return Err(bad(format!("more than {MAX_SIGNATURES} signatures")));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad_line("does not start with an em dash and a space"))?;
        let (name, blob) = rest
            .split_once(' ')
            .ok_or_else(|| bad_line("expected `— <name> <base64>`"))?;
        check_key_name(name).map_err(|e| bad_line(&e.to_string()))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(blob)
            .map_err(|_| bad_line("the signature is not base64"))?;
        if raw.len() < 5 {
            return Err(bad_line("the signature is shorter than a key id"));
        }
        out.push(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            signature: raw[4..].to_vec(),
        });
    }
    if out.is_empty() {
        return Err(bad("no signature".into()));
    }
    Ok((text, out))
}

/// The note text rules: non-empty, ends with a newline, no control characters but newlines.
fn check_text(text: &str) -> Result<(), AuditError> {
    let bad = |m: String| AuditError::malformed("signed note", m);
    if !text.ends_with('\n') {
        return Err(bad("the text does not end with a newline".into()));
    }
    if let Some((line, _)) = text
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.chars().any(|c| c.is_control()))
    {
        return Err(bad(format!(
            "line {} contains a control character",
            line + 1
        )));
    }
    Ok(())
}

/// Verifies checkpoints of one log signed by its key.
#[derive(Debug, Clone)]
pub struct NoteVerifier {
    origin: String,
    key: VerifyingKey,
    id: u32,
}

impl NoteVerifier {
    /// A verifier of the log of `origin` (a nation code such as `FRA`, or the whole origin line
    /// `entente.audit/FRA`), whose key name is that origin line.
    pub fn new(origin: &str, key: VerifyingKey) -> NoteVerifier {
        let origin = origin_for(origin);
        let id = key_id(&origin, &key);
        NoteVerifier { origin, key, id }
    }

    /// A verifier from the key text a partner published (see [`vkey`]).
    pub fn from_vkey(text: &str) -> Result<NoteVerifier, AuditError> {
        let (name, key) = parse_vkey(text)?;
        let id = key_id(&name, &key);
        Ok(NoteVerifier {
            origin: name,
            key,
            id,
        })
    }

    /// The origin line (and key name) this verifier accepts.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key text.
    pub fn vkey(&self) -> String {
        vkey(&self.origin, &self.key)
    }

    /// Checks the note's signature by this key and returns its text. Signatures by other keys
    /// (witnesses, say) are ignored.
    pub fn open<'n>(&self, note: &'n str) -> Result<&'n str, AuditError> {
        let (text, sigs) = parse_note(note)?;
        let mut found = false;
        for sig in sigs
            .iter()
            .filter(|s| s.name == self.origin && s.key_id == self.id)
        {
            found = true;
            let bytes: [u8; 64] = sig.signature.as_slice().try_into().map_err(|_| {
                AuditError::BadSignature(format!(
                    "the signature of {} is {} bytes, not 64",
                    self.origin,
                    sig.signature.len()
                ))
            })?;
            let signature = ed25519_dalek::Signature::from_bytes(&bytes);
            self.key
                .verify_strict(text.as_bytes(), &signature)
                .map_err(|_| {
                    AuditError::BadSignature(format!(
                        "the signature of {} (key id {:08x}) does not verify",
                        self.origin, self.id
                    ))
                })?;
        }
        if !found {
            return Err(AuditError::BadSignature(format!(
                "no signature by {} (key id {:08x}); signed by: {}",
                self.origin,
                self.id,
                sigs.iter()
                    .map(|s| format!("{} ({:08x})", s.name, s.key_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(text)
    }

    /// Verifies a signed checkpoint of this log and reads it.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, AuditError> {
        let text = self.open(note)?;
        let (origin, size, root) = parse_checkpoint_body(text)?;
        if origin != self.origin {
            return Err(AuditError::BadSignature(format!(
                "the checkpoint is of the log {origin:?}, not {:?}",
                self.origin
            )));
        }
        Ok(Checkpoint {
            origin,
            size,
            root,
            note: note.to_owned(),
        })
    }
}

/// Signs checkpoints of one log.
#[derive(Clone)]
pub(crate) struct NoteSigner {
    pub(crate) origin: String,
    key: SigningKey,
}

impl NoteSigner {
    pub(crate) fn new(origin: &str, key: SigningKey) -> NoteSigner {
        NoteSigner {
            origin: origin_for(origin),
            key,
        }
    }

    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub(crate) fn checkpoint(&self, size: u64, root: Hash) -> Result<Checkpoint, AuditError> {
        let note = sign_note(
            &checkpoint_body(&self.origin, size, &root),
            &self.origin,
            &self.key,
        )?;
        Ok(Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
            note,
        })
    }
}
