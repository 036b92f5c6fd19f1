//! The crate's one error type. Every message names the input: file, line and field where there is one.

use std::fmt;
use std::path::PathBuf;

use entente_types::ErrorCode;

/// Where in an input a problem sits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, when the input came from one.
    pub file: Option<PathBuf>,
    /// 1-based line number.
    pub line: Option<usize>,
    /// The field (TOML key path or CLI argument).
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(match self.line {
                Some(line) => format!("{}:{line}", file.display()),
                None => file.display().to_string(),
            });
        } else if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(field) = &self.field {
            parts.push(format!("field `{field}`"));
        }
        f.write_str(&parts.join(": "))
    }
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.location.to_string();
        if at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{at}: {}", self.message)
        }
    }
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A data file could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// One or more inputs are malformed or inconsistent; all problems found are listed.
    Invalid(Vec<Problem>),
    /// A named thing (programme, edition, basis, nation in a table) does not exist.
    NotFound {
        what: &'static str,
        name: String,
        hint: Option<String>,
    },
    /// A computation was asked for with arguments that cannot be satisfied (e.g. caps below 1/n).
    Infeasible(String),
    /// A chart could not be drawn.
    Chart(String),
}

/// The error of every fallible function in this crate.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            ErrorKind::Invalid(problems) => {
                let n = problems.len();
                write!(
                    f,
                    "{n} problem{} in burden-sharing input",
                    if n == 1 { "" } else { "s" }
                )?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            ErrorKind::NotFound { what, name, hint } => {
                write!(f, "unknown {what} {name:?}")?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            ErrorKind::Infeasible(msg) => write!(f, "cannot compute: {msg}"),
            ErrorKind::Chart(msg) => write!(f, "cannot draw chart: {msg}"),
        }
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub(crate) fn invalid(problems: Vec<Problem>) -> Error {
        Error::new(ErrorKind::Invalid(problems))
    }

    pub(crate) fn input(field: &str, message: impl Into<String>) -> Error {
        Error::invalid(vec![Problem {
            location: Location {
                field: Some(field.to_owned()),
                ..Location::default()
            },
            message: message.into(),
        }])
    }

    pub(crate) fn not_found(
        what: &'static str,
        name: impl Into<String>,
        hint: Option<String>,
    ) -> Error {
        Error::new(ErrorKind::NotFound {
            what,
            name: name.into(),
            hint,
        })
    }

    pub(crate) fn infeasible(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Infeasible(msg.into()))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The problems, when the error is a validation failure.
    pub fn problems(&self) -> &[Problem] {
        match &self.kind {
            ErrorKind::Invalid(p) => p,
            _ => &[],
        }
    }

    /// The transport-neutral class of this error.
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            ErrorKind::Io { .. } | ErrorKind::Chart(_) => ErrorCode::Internal,
            ErrorKind::Invalid(_) | ErrorKind::Infeasible(_) => ErrorCode::InvalidInput,
            ErrorKind::NotFound { .. } => ErrorCode::NotFound,
        }
    }
}
