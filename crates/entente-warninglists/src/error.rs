//! The error of the warning-list crate: a list that cannot be read or compiled, located to its
//! file (or its place in the lists given) and field.

use std::path::PathBuf;

use entente_types::ErrorCode;

/// A warning list that could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WarningListError {
    /// The directory of lists could not be listed.
    #[error("cannot list warning lists in {}: {source}", path.display())]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `list.json` could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A list is not valid JSON, or one of its fields is missing or wrong. `origin` is the file,
    /// or `lists[INDEX]` for lists given in memory; `field` is a path such as `list[12]`.
    #[error("{origin}: field `{field}`: {message}")]
    Field {
        origin: String,
        field: String,
        message: String,
    },
    /// Two lists share a name (lists are known by name, as in MISP).
    #[error("{second}: list name {name:?} is already used by {first}")]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
}

impl WarningListError {
    pub(crate) fn field(
        origin: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> WarningListError {
        WarningListError::Field {
            origin: origin.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// The transport-neutral class of the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            WarningListError::ReadDir { .. } | WarningListError::ReadFile { .. } => {
                ErrorCode::Internal
            }
            WarningListError::Field { .. } | WarningListError::DuplicateName { .. } => {
                ErrorCode::InvalidInput
            }
        }
    }
}
