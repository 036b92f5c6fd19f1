//! The error of the STIX crate: an object that is not acceptable, with every problem located.

use std::fmt;

use entente_types::ErrorCode;

/// One problem in one object: where (a JSON path from the object's root, `$`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A STIX object that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StixError {
    kind: StixErrorKind,
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StixErrorKind {
    /// The object breaks STIX 2.1 rules; `id` is its id when it had a readable one.
    Invalid {
        id: Option<String>,
        problems: Vec<Problem>,
    },
}

impl StixError {
    pub(crate) fn invalid(id: Option<String>, problems: Vec<Problem>) -> StixError {
        StixError {
            kind: StixErrorKind::Invalid { id, problems },
        }
    }

    pub fn kind(&self) -> &StixErrorKind {
        &self.kind
    }

    /// Every problem found, in document order.
    pub fn problems(&self) -> &[Problem] {
        match &self.kind {
            StixErrorKind::Invalid { problems, .. } => problems,
        }
    }

    /// The object's id, when it had a readable one.
    pub fn object_id(&self) -> Option<&str> {
        match &self.kind {
            StixErrorKind::Invalid { id, .. } => id.as_deref(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidInput
    }
}

impl fmt::Display for StixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StixErrorKind::Invalid { id, problems } => {
                match id {
                    Some(id) => write!(f, "invalid STIX object {id}: ")?,
                    None => f.write_str("invalid STIX object: ")?,
                }
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}
