//! The crate's one error type.

use std::path::PathBuf;

use entente_types::ErrorCode;

/// Anything that can go wrong in tracking, fusion, scoring or reading their files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A malformed value in a CSV file.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Csv {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (field number).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A malformed JSON file.
    #[error("{}: {message}", file.display())]
    Json {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file that cannot be read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A value outside its domain.
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// What was given.
        what: String,
        /// Why it is refused.
        message: String,
    },
    /// A covariance that is not symmetric positive definite.
    #[error("covariance is not positive definite")]
    NotPositiveDefinite,
    /// The assignment solver refused its input.
    #[error("assignment failed: {0}")]
    Assignment(String),
}

impl Error {
    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorCode::NotFound
            }
            Error::Io { .. } | Error::Assignment(_) => ErrorCode::Internal,
            Error::Csv { .. }
            | Error::Json { .. }
            | Error::InvalidInput { .. }
            | Error::NotPositiveDefinite => ErrorCode::InvalidInput,
        }
    }
}
