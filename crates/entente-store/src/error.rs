//! The error of the store crate.

use entente_types::ErrorCode;

/// A storage operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct StoreError {
    kind: StoreErrorKind,
}

/// What failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreErrorKind {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A row that the code cannot read back (a bug or a foreign write).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A reference to something that does not exist (e.g. a token for an unknown user).
    #[error("not found: {0}")]
    NotFound(String),
    /// A configuration value that cannot be used (a schema name, a path).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The database cannot be reached now (no connection could be had in time).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A write under a lease that another process has taken over since.
    #[error("fenced: {0}")]
    Fenced(String),
    /// The store is shutting down or its writer is gone.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    pub fn kind(&self) -> &StoreErrorKind {
        &self.kind
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            StoreErrorKind::NotFound(_) => ErrorCode::NotFound,
            StoreErrorKind::Config(_) => ErrorCode::InvalidInput,
            _ => ErrorCode::Internal,
        }
    }
}

impl<E: Into<StoreErrorKind>> From<E> for StoreError {
    fn from(e: E) -> StoreError {
        StoreError { kind: e.into() }
    }
}
