//! A node's keys: Ed25519 for signing bindings (and audit checkpoints), X25519 for receiving
//! sealed envelopes.
//!
//! The key file is TOML with base64 secrets, written with mode 0600. The public identity is one
//! line partners can exchange by script:
//! `entente-node FRA ed25519:<base64 32 bytes> x25519:<base64 32 bytes>`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use entente_types::NationCode;
use hpke::{Deserializable, Kem as _, Serializable};
use rand::Rng;

use crate::private::Existing;
use crate::SealError;

/// The HPKE KEM of the suite.
pub(crate) type Kem = hpke::kem::X25519HkdfSha256;
pub(crate) type HpkeSecret = <Kem as hpke::Kem>::PrivateKey;
pub(crate) type HpkePublic = <Kem as hpke::Kem>::PublicKey;

/// A node's secret keys.
#[derive(Clone)]
pub struct NodeIdentity {
    nation: NationCode,
    signing: SigningKey,
    hpke_secret: HpkeSecret,
    hpke_public: HpkePublic,
}

impl fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secrets.
        write!(f, "NodeIdentity({})", self.public())
    }
}

struct KeyFile {
    nation: String,
    ed25519_secret: String,
    x25519_secret: String,
}

fn decode32(what: &str, text: &str) -> Result<[u8; 32], SealError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|e| SealError::key(what, format!("not base64: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| SealError::key(what, format!("{} bytes, expected 32", b.len())))
}

impl NodeIdentity {
    /// New random keys for `nation`.
    pub fn generate(nation: NationCode) -> NodeIdentity {
        let mut seed = [0u8; 32];
        rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut seed);
        let signing = SigningKey::from_bytes(&seed);
        rand::rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut seed);
        let (hpke_secret, hpke_public) = Kem::derive_keypair(&seed);
        NodeIdentity {
            nation,
            signing,
            hpke_secret,
            hpke_public,
        }
    }

    /// Keys from their secret bytes.
    pub fn from_secrets(
        nation: NationCode,
        ed25519: &[u8; 32],
        x25519: &[u8; 32],
    ) -> Result<NodeIdentity, SealError> {
        let hpke_secret = HpkeSecret::from_bytes(x25519)
            .map_err(|e| SealError::key("x25519_secret", e.to_string()))?;
        let hpke_public = Kem::sk_to_pk(&hpke_secret);
        Ok(NodeIdentity {
            nation,
            signing: SigningKey::from_bytes(ed25519),
            hpke_secret,
            hpke_public,
        })
    }

    pub fn nation(&self) -> NationCode {
        self.nation
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub(crate) fn hpke_secret(&self) -> &HpkeSecret {
        &self.hpke_secret
    }

    /// What partners need to know of this node.
    pub fn public(&self) -> PublicIdentity {
        PublicIdentity {
            nation: self.nation,
            signing: self.signing.verifying_key(),
            hpke: self.hpke_public.to_bytes().into(),
        }
    }

    /// The key file text.
    pub fn to_file_text(&self) -> String {
        let file = KeyFile {
            nation: self.nation.to_string(),
            ed25519_secret: B64.encode(self.signing.to_bytes()),
            x25519_secret: B64.encode(self.hpke_secret.to_bytes()),
        };
        format!(
            "# Entente node keys: secret, keep with mode 0600\n{}",
            toml_text(&file)
        )
    }

    /// Parses key file text; `what` names the file in errors.
    pub fn from_file_text(what: &str, text: &str) -> Result<NodeIdentity, SealError> {
        let file = parse_key_file(what, text)?;
        let nation: NationCode = file
            .nation
            .parse()
            .map_err(|e| SealError::key(format!("{what}: nation"), format!("{e}")))?;
        let ed = decode32(&format!("{what}: ed25519_secret"), &file.ed25519_secret)?;
        let x = decode32(&format!("{what}: x25519_secret"), &file.x25519_secret)?;
        NodeIdentity::from_secrets(nation, &ed, &x)
    }

    /// Writes the key file (mode 0600 from creation, never through a symbolic link); refuses to
    /// overwrite one.
    pub fn save(&self, path: &Path) -> Result<(), SealError> {
        crate::private::write_private(path, self.to_file_text().as_bytes(), Existing::Refuse)
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<NodeIdentity, SealError> {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SealError::key(&what, format!("cannot read: {e}")))?;
        NodeIdentity::from_file_text(&what, &text)
    }
}

// The key file is three `name = "value"` lines; written and read here so that the crate needs no
// TOML library (base64 and nation codes never need escaping).
fn toml_text(file: &KeyFile) -> String {
    format!(
        "nation = \"{}\"\ned25519_secret = \"{}\"\nx25519_secret = \"{}\"\n",
        file.nation, file.ed25519_secret, file.x25519_secret
    )
}

fn parse_key_file(what: &str, text: &str) -> Result<KeyFile, SealError> {
    let (mut nation, mut ed, mut x) = (None, None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{what}:{}", n + 1);
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| SealError::key(at(), "expected name = \"value\""))?;
        let value = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| SealError::key(at(), "value must be a quoted string"))?
            .to_owned();
        let slot = match name.trim() {
            "nation" => &mut nation,
            "ed25519_secret" => &mut ed,
            "x25519_secret" => &mut x,
            other => return Err(SealError::key(at(), format!("unknown key {other:?}"))),
        };
        if slot.replace(value).is_some() {
            return Err(SealError::key(at(), format!("{} given twice", name.trim())));
        }
    }
    let missing = |f: &str| SealError::key(what, format!("missing {f}"));
    Ok(KeyFile {
        nation: nation.ok_or_else(|| missing("nation"))?,
        ed25519_secret: ed.ok_or_else(|| missing("ed25519_secret"))?,
        x25519_secret: x.ok_or_else(|| missing("x25519_secret"))?,
    })
}

/// A node's public keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIdentity {
    pub nation: NationCode,
    pub signing: VerifyingKey,
    /// The X25519 HPKE public key.
    pub hpke: [u8; 32],
}

impl PublicIdentity {
    pub(crate) fn hpke_key(&self) -> Result<HpkePublic, SealError> {
        HpkePublic::from_bytes(&self.hpke)
            .map_err(|e| SealError::key(format!("x25519 key of {}", self.nation), e.to_string()))
    }

    /// Parses an Ed25519 public key in base64.
    pub fn parse_signing_key(what: &str, text: &str) -> Result<VerifyingKey, SealError> {
        let bytes = decode32(what, text)?;
        VerifyingKey::from_bytes(&bytes).map_err(|e| SealError::key(what, e.to_string()))
    }

    /// Parses an X25519 public key in base64.
    pub fn parse_hpke_key(what: &str, text: &str) -> Result<[u8; 32], SealError> {
        let bytes = decode32(what, text)?;
        HpkePublic::from_bytes(&bytes).map_err(|e| SealError::key(what, e.to_string()))?;
        Ok(bytes)
    }

    pub fn signing_base64(&self) -> String {
        B64.encode(self.signing.to_bytes())
    }

    pub fn hpke_base64(&self) -> String {
        B64.encode(self.hpke)
    }
}

impl fmt::Display for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entente-node {} ed25519:{} x25519:{}",
            self.nation,
            self.signing_base64(),
            self.hpke_base64()
        )
    }
}

impl FromStr for PublicIdentity {
    type Err = SealError;

    fn from_str(text: &str) -> Result<PublicIdentity, SealError> {
        let what = "public identity";
        let mut parts = text.split_whitespace();
        if parts.next() != Some("entente-node") {
            return Err(SealError::key(what, "must start with \"entente-node\""));
        }
        let nation: NationCode = parts
            .next()
            .ok_or_else(|| SealError::key(what, "missing nation"))?
            .parse()
            .map_err(|e| SealError::key(format!("{what}: nation"), format!("{e}")))?;
        let ed = parts
            .next()
            .and_then(|p| p.strip_prefix("ed25519:"))
            .ok_or_else(|| SealError::key(what, "missing ed25519:<key>"))?;
        let x = parts
            .next()
            .and_then(|p| p.strip_prefix("x25519:"))
            .ok_or_else(|| SealError::key(what, "missing x25519:<key>"))?;
        if let Some(extra) = parts.next() {
            return Err(SealError::key(what, format!("unexpected {extra:?}")));
        }
        Ok(PublicIdentity {
            nation,
            signing: PublicIdentity::parse_signing_key(&format!("{what}: ed25519"), ed)?,
            hpke: PublicIdentity::parse_hpke_key(&format!("{what}: x25519"), x)?,
        })
    }
}
