//! Errors of parsing and of matching.

/// Why a pattern text is not a valid STIX 2.1 pattern, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at character {offset} (line {line}, column {column})")]
pub struct PatternError {
    /// 0-based offset in characters (Unicode scalar values) into the text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub kind: PatternErrorKind,
    /// What is wrong, e.g. "expected ']', found 'AND'".
    pub reason: String,
}

/// The class of a [`PatternError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// The pattern does not open with `[` (after any `(` and white space), as the OASIS validator
    /// requires even of otherwise valid text (a comment first, for instance).
    MissingBrackets,
    /// The same kind of qualifier twice on one bracketed observation expression.
    DuplicateQualifier,
    /// A value compared with a `hashes` property of a known algorithm that is not such a hash.
    InvalidHash,
}

impl PatternError {
    pub(crate) fn at(
        text: &str,
        byte_offset: usize,
        kind: PatternErrorKind,
        reason: String,
    ) -> Self {
        let before = &text[..byte_offset.min(text.len())];
        let offset = before.chars().count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        PatternError {
            offset,
            line: 1 + before.matches('\n').count(),
            column: 1 + before[line_start..].chars().count(),
            kind,
            reason,
        }
    }
}

/// Why a pattern could not be matched against observations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The pattern parses but cannot be evaluated (a timestamp that does not exist, `REPEATS 0`,
    /// `WITHIN 0`, a set of mixed types, a regular expression that does not compile).
    #[error("pattern cannot be matched: {0}")]
    Pattern(String),
    /// An observed-data object or its objects are not what matching needs.
    #[error("observed-data {}: {reason}", id.as_deref().unwrap_or("without id"))]
    Observation { id: Option<String>, reason: String },
    /// A value met while matching cannot be compared as the pattern asks (a string that is not a
    /// timestamp compared with a timestamp, an address that is not one, a reference that is not a
    /// string, a `_hex` or `_bin` property that does not decode).
    #[error("observation {observation} (0-based): {reason}")]
    Value { observation: usize, reason: String },
}
