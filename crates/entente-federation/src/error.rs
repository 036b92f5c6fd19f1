//! Errors of federation: configuration, transport, peers.

use entente_types::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// A `[federation]` setting, key or certificate that cannot be used.
    #[error("federation config: {0}")]
    Config(String),
    /// A partner could not be reached or answered badly (retried).
    #[error("partner {partner}: {message}")]
    Transport { partner: String, message: String },
    /// A node's audit or crisis routes could not be reached or answered badly.
    #[error("{url}: {message}")]
    Remote { url: String, message: String },
    /// A node refused a user's request (its HTTP status and what it said).
    #[error("refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// The node's store failed.
    #[error("store: {0}")]
    Store(#[from] entente_store::StoreError),
    #[error("node: {0}")]
    Node(#[from] entente_node::NodeError),
    #[error("seal: {0}")]
    Seal(#[from] entente_seal::SealError),
    #[error("audit: {0}")]
    Audit(#[from] entente_audit::AuditError),
}

impl FederationError {
    pub fn code(&self) -> ErrorCode {
        match self {
            FederationError::Config(_) => ErrorCode::InvalidInput,
            FederationError::Seal(e) => e.code(),
            FederationError::Refused { status, .. } => match status {
                400 | 422 => ErrorCode::InvalidInput,
                401 | 403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                _ => ErrorCode::Internal,
            },
            _ => ErrorCode::Internal,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> FederationError {
        FederationError::Config(message.into())
    }
}
