//! Errors: one [`Error`] type whose kind says what went wrong, and [`Diagnostic`]s that point at the
//! file, line and field of a problem in the dataset.

use std::fmt;
use std::path::PathBuf;

use entente_types::{Date, ErrorCode, NationCode};

use crate::model::ClauseKind;

pub use entente_types::diagnostic::Diagnostic;

/// The error type of this crate.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A nation code or name that the registry does not know.
    UnknownNation {
        text: String,
        suggestion: Option<String>,
    },
    /// An organisation id or name that the registry does not know.
    UnknownOrganization {
        text: String,
        suggestion: Option<String>,
    },
    /// An agreement id or name that the registry does not know.
    UnknownAgreement {
        text: String,
        suggestion: Option<String>,
    },
    /// A clause reference (`agreement/clause` or an alias) that the registry does not know.
    UnknownClause {
        text: String,
        suggestion: Option<String>,
    },
    /// A clause asked about on a day its agreement does not apply (not yet in force, suspended,
    /// terminated).
    NotInForce {
        clause: String,
        day: Date,
        status: &'static str,
    },
    /// A clause that no party invokes (security of information, cooperation).
    NotInvocable { clause: String, kind: ClauseKind },
    /// A requesting nation that is not a party to the clause's agreement on the day.
    NotAParty {
        nation: NationCode,
        clause: String,
        day: Date,
    },
    /// A requesting nation outside the parties a defence clause protects.
    NotProtected { nation: NationCode, clause: String },
    /// The dataset has problems; every one is listed.
    Invalid(Vec<Diagnostic>),
    /// A dataset file or folder could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The diagnostics, when the dataset is invalid.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match &self.kind {
            ErrorKind::Invalid(d) => d,
            _ => &[],
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            ErrorKind::UnknownNation { .. }
            | ErrorKind::UnknownOrganization { .. }
            | ErrorKind::UnknownAgreement { .. }
            | ErrorKind::UnknownClause { .. } => ErrorCode::NotFound,
            // The question names things that exist but do not fit together on that day.
            ErrorKind::NotInForce { .. }
            | ErrorKind::NotInvocable { .. }
            | ErrorKind::NotAParty { .. }
            | ErrorKind::NotProtected { .. } => ErrorCode::InvalidInput,
            // A dataset folder is named by the user: failing to read it is bad input.
            ErrorKind::Invalid(_) | ErrorKind::Io { .. } => ErrorCode::InvalidInput,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unknown =
            |f: &mut fmt::Formatter<'_>, what, text: &str, suggestion: &Option<String>| {
                write!(f, "unknown {what} {text:?}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean {s}?"),
                    None => Ok(()),
                }
            };
        match &self.kind {
            ErrorKind::UnknownNation { text, suggestion } => unknown(f, "nation", text, suggestion),
            ErrorKind::UnknownOrganization { text, suggestion } => {
                unknown(f, "organization", text, suggestion)
            }
            ErrorKind::UnknownAgreement { text, suggestion } => {
                unknown(f, "agreement", text, suggestion)
            }
            ErrorKind::UnknownClause { text, suggestion } => {
                unknown(f, "clause", text, suggestion)
            }
            ErrorKind::NotInForce { clause, day, status } => {
                write!(f, "{clause} does not apply on {day}: its agreement is {status}")
            }
            ErrorKind::NotInvocable { clause, kind } => write!(
                f,
                "{clause} is a {} clause: only consultation, collective-defence and mutual-assistance clauses are invoked",
                kind.as_str()
            ),
            ErrorKind::NotAParty { nation, clause, day } => {
                write!(f, "{nation} is not a party to {clause} on {day}")
            }
            ErrorKind::NotProtected { nation, clause } => {
                write!(f, "{clause} does not protect {nation}")
            }
            ErrorKind::Invalid(diagnostics) => {
                let n = diagnostics.len();
                write!(
                    f,
                    "{n} problem{} in the dataset",
                    if n == 1 { "" } else { "s" }
                )?;
                for d in diagnostics {
                    write!(f, "\n  {d}")?;
                }
                Ok(())
            }
            ErrorKind::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
