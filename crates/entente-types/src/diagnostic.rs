//! Problems found in an input file, located to the line and field, and the byte-offset-to-line
//! arithmetic every loader of TOML inputs needs to produce them.
//!
//! Loaders collect every problem as a [`Diagnostic`] rather than stopping at the first, so that a
//! user fixes a dataset or scenario in one pass.

use std::fmt;
use std::path::PathBuf;

/// A problem found in an input file, located to the line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The input file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The field at fault, as a path: `organization[NATO].members[3].until`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.field,
            self.message
        )
    }
}

/// The start of every line of a text, so that byte offsets (as TOML spans give them) turn into
/// line numbers without rescanning the text for each problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the first character of each line; the first is always 0.
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the lines of `text`.
    pub fn new(text: &str) -> LineIndex {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { line_starts }
    }

    /// The 1-based line holding byte `offset`; offsets past the end fall on the last line.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }
}

/// The 1-based line of `text` holding byte `offset`, for one-off lookups (see [`LineIndex`] for many).
pub fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text).line_of(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_their_line() {
        let text = "a = 1\nb = 2\n\nc = 3";
        let index = LineIndex::new(text);
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(5), 1, "the newline belongs to its line");
        assert_eq!(index.line_of(6), 2);
        assert_eq!(index.line_of(12), 3);
        assert_eq!(index.line_of(13), 4);
        assert_eq!(index.line_of(1000), 4, "past the end is the last line");
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of("", 0), 1);
    }

    #[test]
    fn diagnostics_display_file_line_field_message() {
        let d = Diagnostic {
            file: PathBuf::from("data/x.toml"),
            line: 3,
            field: "nation[FRA].name".into(),
            message: "must not be empty".into(),
        };
        assert_eq!(
            d.to_string(),
            "data/x.toml:3: nation[FRA].name: must not be empty"
        );
    }
}
