//! The one error type of the crate: each variant names the object, nation or field at fault.

use entente_types::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// JSON that cannot be canonicalised or parsed.
    #[error("{what}: {message}")]
    Json { what: String, message: String },
    /// A key file or public identity that cannot be read.
    #[error("{what}: {message}")]
    Key { what: String, message: String },
    /// A private file or folder that cannot be written safely.
    #[error("{path}: {message}")]
    File { path: String, message: String },
    /// The object, or one of its labels, differs from what the origin signed.
    #[error("object {object_id} version {version}: content or labels differ from what {origin} signed (digest {found} instead of {expected})")]
    Tampered {
        object_id: String,
        version: String,
        origin: String,
        expected: String,
        found: String,
    },
    /// The binding was made for another object or version than the one it came with.
    #[error("binding for {bound_id} version {bound_version} presented with {object_id} version {version}")]
    WrongObject {
        bound_id: String,
        bound_version: String,
        object_id: String,
        version: String,
    },
    /// The marking definitions shipped with an object are not exactly those it refers to.
    #[error("object {object_id}: labels shipped do not match its marking references: {message}")]
    Labels { object_id: String, message: String },
    /// No key is known for the nation named as origin.
    #[error("object {object_id}: unknown signer {origin} (no key configured for that nation)")]
    UnknownSigner { origin: String, object_id: String },
    /// The signature does not verify under the origin's key.
    #[error("object {object_id}: signature of {origin} does not verify")]
    BadSignature { origin: String, object_id: String },
    /// A binding signed with others whose place in their tree does not hold.
    #[error("object {object_id}: binding tree of {origin}: {message}")]
    BadTree {
        origin: String,
        object_id: String,
        message: String,
    },
    /// An envelope that does not parse, is for another node, or does not decrypt.
    #[error("envelope from {sender} for object {object_id}: {message}")]
    Envelope {
        sender: String,
        object_id: String,
        message: String,
    },
}

impl SealError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SealError::Json { .. } | SealError::Key { .. } => ErrorCode::InvalidInput,
            SealError::File { .. } => ErrorCode::Internal,
            _ => ErrorCode::Forbidden,
        }
    }

    pub(crate) fn json(what: impl Into<String>, e: impl std::fmt::Display) -> SealError {
        SealError::Json {
            what: what.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn key(what: impl Into<String>, message: impl Into<String>) -> SealError {
        SealError::Key {
            what: what.into(),
            message: message.into(),
        }
    }
}
