//! What the audit commands show: a checkpoint's fields, a batch appended, and each thing a
//! verification established — as JSON (`Serialize`) and as text.

use std::fmt;

use serde::Serialize;

use crate::{b64, parse_checkpoint_body, AuditError, Checkpoint};

/// A signed checkpoint note with the fields of its body (the signature is not checked here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteSummary {
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub note: String,
}

impl NoteSummary {
    pub fn of(note: &str) -> Result<NoteSummary, AuditError> {
        let body = note.split("\n\n").next().unwrap_or("");
        let (origin, size, root) = parse_checkpoint_body(&format!("{body}\n"))?;
        Ok(NoteSummary {
            origin,
            size,
            root: b64(&root),
            note: note.to_owned(),
        })
    }
}

/// A batch of events appended: entries `first..end`, and the log's size after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    pub origin: String,
    pub first: u64,
    pub end: u64,
    pub size: u64,
}

/// One thing a verification established, in the order established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// A checkpoint whose signature verified; `url` when a node served it, else the file.
    Checkpoint {
        source: String,
        remote: bool,
        checkpoint: Checkpoint,
    },
    /// An entry is in the tree of `size`; `entry` says what it records, when known.
    Inclusion {
        index: u64,
        size: u64,
        entry: Option<String>,
    },
    /// The tree of `to` entries extends that of `from`.
    Consistency { from: u64, to: u64 },
}

impl Verified {
    /// Consistency between two checkpoints, in whichever order they came.
    pub fn consistency(old: u64, new: u64) -> Verified {
        Verified::Consistency {
            from: old.min(new),
            to: old.max(new),
        }
    }

    /// The key of this step in the JSON object of a whole verification.
    pub fn key(&self) -> &'static str {
        match self {
            Verified::Checkpoint { .. } => "checkpoint",
            Verified::Inclusion { .. } => "inclusion",
            Verified::Consistency { .. } => "consistency",
        }
    }
}

impl Serialize for Verified {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = match self {
            Verified::Checkpoint {
                source, checkpoint, ..
            } => serde_json::json!({
                "source": source, "origin": checkpoint.origin, "size": checkpoint.size,
                "root": b64(&checkpoint.root), "signature_verified": true,
            }),
            Verified::Inclusion { index, size, .. } => {
                serde_json::json!({"index": index, "size": size, "verified": true})
            }
            Verified::Consistency { from, to } => {
                serde_json::json!({"from": from, "to": to, "verified": true})
            }
        };
        value.serialize(s)
    }
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verified::Checkpoint {
                source,
                remote,
                checkpoint: cp,
            } => write!(
                f,
                "checkpoint {}{source}: {} size {} root {} (signature verified)",
                if *remote { "of " } else { "" },
                cp.origin,
                cp.size,
                b64(&cp.root)
            ),
            Verified::Inclusion { index, size, entry } => {
                let what = entry
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "inclusion of entry {index}{what} in size {size} verified"
                )
            }
            Verified::Consistency { from, to } => {
                write!(f, "consistency from size {from} to {to} verified")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_is_shown_from_the_smaller_size() {
        let v = Verified::consistency(9, 4);
        assert_eq!(v.to_string(), "consistency from size 4 to 9 verified");
        assert_eq!(v.key(), "consistency");
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"from": 4, "to": 9, "verified": true})
        );
    }

    #[test]
    fn an_inclusion_names_its_entry_when_known() {
        let v = Verified::Inclusion {
            index: 3,
            size: 8,
            entry: Some("release x FRA".into()),
        };
        assert_eq!(
            v.to_string(),
            "inclusion of entry 3 (release x FRA) in size 8 verified"
        );
    }
}
