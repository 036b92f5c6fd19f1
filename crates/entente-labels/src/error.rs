//! The error type of the labels crate: what was wrong, and where.

use std::fmt;

use entente_types::ErrorCode;

/// A label, marking, policy file or portion selector that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    kind: LabelErrorKind,
    /// Where the problem is: a field of a label, a file and line, a selector.
    context: String,
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelErrorKind {
    /// Text that does not follow the grammar of its form (marking, JSON, XML).
    Malformed(String),
    /// A policy that is not defined.
    UnknownPolicy {
        policy: String,
        suggestion: Option<String>,
    },
    /// A classification that the policy does not define.
    UnknownClassification {
        text: String,
        suggestion: Option<String>,
    },
    /// A category value the policy does not know (a caveat, a context).
    UnknownCategoryValue { category: String, value: String },
    /// A release token that is not a nation code or group name.
    BadReleaseToken { token: String, reason: &'static str },
    /// Invisible, bidirectional or control characters, or lookalike letters.
    ForbiddenCharacter { codepoint: u32 },
    /// More values, bytes or portions than a label may carry.
    TooLarge { what: &'static str, limit: usize },
    /// Labels of different policies cannot be combined.
    PolicyMismatch { left: String, right: String },
    /// A granular-marking selector that names no property of the object.
    BadSelector { selector: String, reason: String },
    /// A policy file that cannot be read or is invalid.
    PolicyFile(String),
}

impl LabelError {
    pub fn new(kind: LabelErrorKind, context: impl Into<String>) -> LabelError {
        LabelError {
            kind,
            context: context.into(),
        }
    }

    pub fn kind(&self) -> &LabelErrorKind {
        &self.kind
    }

    /// Where the problem is.
    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            LabelErrorKind::UnknownPolicy { .. } => ErrorCode::NotFound,
            _ => ErrorCode::InvalidInput,
        }
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.context.is_empty() {
            write!(f, "{}: ", self.context)?;
        }
        let suggest = |f: &mut fmt::Formatter<'_>, s: &Option<String>| match s {
            Some(s) => write!(f, "; did you mean {s:?}?"),
            None => Ok(()),
        };
        match &self.kind {
            LabelErrorKind::Malformed(m) => write!(f, "{m}"),
            LabelErrorKind::UnknownPolicy { policy, suggestion } => {
                write!(f, "unknown policy {policy:?}")?;
                suggest(f, suggestion)
            }
            LabelErrorKind::UnknownClassification { text, suggestion } => {
                write!(f, "unknown classification {text:?}")?;
                suggest(f, suggestion)
            }
            LabelErrorKind::UnknownCategoryValue { category, value } => {
                write!(f, "unknown {category} value {value:?}")
            }
            LabelErrorKind::BadReleaseToken { token, reason } => {
                write!(f, "bad release token {token:?}: {reason}")
            }
            LabelErrorKind::ForbiddenCharacter { codepoint } => {
                write!(
                    f,
                    "forbidden character U+{codepoint:04X} (invisible, bidirectional or control)"
                )
            }
            LabelErrorKind::TooLarge { what, limit } => {
                write!(f, "too many {what}: at most {limit}")
            }
            LabelErrorKind::PolicyMismatch { left, right } => {
                write!(f, "cannot combine labels of policies {left} and {right}")
            }
            LabelErrorKind::BadSelector { selector, reason } => {
                write!(f, "selector {selector:?}: {reason}")
            }
            LabelErrorKind::PolicyFile(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for LabelError {}
