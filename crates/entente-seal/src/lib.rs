//! Node identities, label binding and sealing of released objects.
//!
//! - [`canonical`]: RFC 8785 (JCS) canonical JSON and SHA-256 digests over it.
//! - [`identity`]: a node's Ed25519 signing key and X25519 HPKE key, their key file, and the
//!   one-line public identity text partners exchange.
//! - [`binding`]: after the STANAG 4778 idea, the originating node signs a digest over the
//!   canonical object, the marking definitions it refers to (object and portion labels, sorted by
//!   id), its origin nation, id and version. Any change of content or label, a binding moved onto
//!   another object, or a signer that is not the origin's known key is rejected.
//! - [`envelope`]: a bound object (or a recall) sealed to one recipient with HPKE (RFC 9180 base
//!   mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), the associated data
//!   naming sender, recipient, collection, object id and version (format 1, one envelope).
//! - [`batch`]: format 2, what federation sends: many envelopes to one recipient under one HPKE
//!   key encapsulation, each envelope its own AEAD with its position as nonce, so each still
//!   opens and is verified individually.
//! - [`signatures`]: the origins' signatures verified one at a time or, for a batch's envelopes,
//!   many at once.
//! - [`merkle`]: RFC 9162 tree hashing; the origin signs many bindings at once as the root of
//!   their tree, each binding carrying its inclusion path (the audit log's tree uses it too).
//!
//! - [`private`]: files and folders that hold secrets, created owner-only (0600, 0700) from
//!   the start, never through a symbolic link; every key writer of the workspace uses it.
//!
//! No IO beyond the key files; no clock.

pub mod batch;
pub mod binding;
pub mod canonical;
pub mod envelope;
mod error;
pub mod identity;
pub mod merkle;
pub mod private;
pub mod shared;
pub mod signatures;

pub use crate::batch::{
    verify_opened, BatchOpener, BatchSealer, Opened, SealedBatch, SealedItem, Unverified,
};
pub use crate::binding::{
    bind, bind_canonical, bind_copy, bind_recall, digest_copy, sign_together, Binding, BindingKind,
    BindingTree, Signers, UnsignedBinding,
};
pub use crate::canonical::{
    canonical_json, canonical_text, canonical_value, sha256_hex, sha256_hex_text, sha256_hex_value,
};
pub use crate::envelope::{open, seal, Payload, Sealed};
pub use crate::error::SealError;
pub use crate::identity::{NodeIdentity, PublicIdentity};
pub use crate::private::{create_private_dir, write_private, Existing};
pub use crate::shared::{Canonical, CanonicalMemo, WriteCanonical};
pub use crate::signatures::{verify_signatures, SignatureCheck};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_batch;
