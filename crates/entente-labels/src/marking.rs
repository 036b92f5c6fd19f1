//! The human marking form: `NATO SECRET//ATOMAL//REL TO FRA, GBR, USA`.
//!
//! Grammar (segments separated by `//`):
//! - first, a level marking of some policy (`NATO SECRET`, `FR SECRET`, `SECRET UE/EU SECRET`), which
//!   names both the policy and the classification;
//! - `REL TO a, b, …`: a "Releasable To" set (several segments: all must admit the recipient);
//!   `REL TO NONE` is the empty set, releasable to nobody;
//! - `CONTEXT a, b`: informative contexts;
//! - otherwise, a comma-separated list of the policy's caveats ("Additional Sensitivity").
//!
//! The marking carries no originator or times; the JSON and XML forms do.

use crate::error::{LabelError, LabelErrorKind};
use crate::label::{check_characters, Label, ReleaseToken, MAX_VALUES};
use crate::policy::PolicySet;

/// The longest marking accepted, in bytes.
pub const MAX_MARKING_BYTES: usize = 4096;
/// The token that stands for an empty "Releasable To" set.
pub const RELEASE_TO_NONE: &str = "NONE";

/// Parses a marking string into a validated label.
pub fn parse_marking(policies: &PolicySet, text: &str) -> Result<Label, LabelError> {
    let context = "marking";
    if text.len() > MAX_MARKING_BYTES {
        return Err(LabelError::new(
            LabelErrorKind::TooLarge {
                what: "bytes in a marking",
                limit: MAX_MARKING_BYTES,
            },
            context,
        ));
    }
    check_characters(text, context)?;
    let mut segments = text.split("//");
    let head = segments.next().unwrap_or_default().trim();
    let Some((policy, rank)) = policies.marking(head) else {
        return Err(LabelError::new(
            LabelErrorKind::UnknownClassification {
                text: head.to_owned(),
                suggestion: policies.closest_marking(head),
            },
            context,
        ));
    };
    let level = policy.level(rank).map_or("", |l| l.name.as_str());
    let mut label = Label::new(policies, &policy.id, level)?;
    let mut values = 0usize;
    for (i, segment) in segments.enumerate() {
        let segment = segment.trim();
        let field = format!("marking segment {}", i + 2);
        if segment.is_empty() {
            return Err(LabelError::new(
                LabelErrorKind::Malformed("empty segment between '//'".to_owned()),
                field,
            ));
        }
        let items = |rest: &str| -> Result<Vec<String>, LabelError> {
            let items: Vec<String> = rest.split(',').map(|t| t.trim().to_owned()).collect();
            if items.iter().any(String::is_empty) {
                return Err(LabelError::new(
                    LabelErrorKind::Malformed("empty value in a list".to_owned()),
                    field.clone(),
                ));
            }
            Ok(items)
        };
        let list = if let Some(rest) = segment.strip_prefix("REL TO ") {
            let list = items(rest)?;
            values += list.len();
            check_count(values, &field)?;
            if list.len() == 1 && list[0] == RELEASE_TO_NONE {
                label = label.with_releasable_to([])?;
                continue;
            }
            let mut tokens = Vec::with_capacity(list.len());
            for t in &list {
                let token = ReleaseToken::parse(t).map_err(|e| relocate(e, &field))?;
                if token.as_str() == RELEASE_TO_NONE {
                    return Err(LabelError::new(
                        LabelErrorKind::Malformed(
                            "NONE cannot be combined with other values".to_owned(),
                        ),
                        field,
                    ));
                }
                if tokens.contains(&token) {
                    return Err(LabelError::new(
                        LabelErrorKind::Malformed(format!("duplicate value {t:?}")),
                        field,
                    ));
                }
                tokens.push(token);
            }
            label = label.with_releasable_to(tokens)?;
            continue;
        } else if let Some(rest) = segment.strip_prefix("CONTEXT ") {
            let list = items(rest)?;
            values += list.len();
            check_count(values, &field)?;
            for c in &list {
                label = label
                    .with_context(policies, c)
                    .map_err(|e| relocate(e, &field))?;
            }
            continue;
        } else {
            items(segment)?
        };
        values += list.len();
        check_count(values, &field)?;
        for c in &list {
            label = label
                .with_caveat(policies, c)
                .map_err(|e| relocate(e, &field))?;
        }
    }
    Ok(label)
}

fn check_count(values: usize, field: &str) -> Result<(), LabelError> {
    if values > MAX_VALUES {
        return Err(LabelError::new(
            LabelErrorKind::TooLarge {
                what: "category values",
                limit: MAX_VALUES,
            },
            field.to_owned(),
        ));
    }
    Ok(())
}

fn relocate(err: LabelError, field: &str) -> LabelError {
    LabelError::new(err.kind().clone(), field.to_owned())
}

/// Renders a label as a marking. Parsing the result gives back the same policy, classification,
/// caveats, contexts and release sets.
pub fn render_marking(policies: &PolicySet, label: &Label) -> Result<String, LabelError> {
    let policy = label.policy_in(policies)?;
    let mut out = policy
        .level(label.rank())
        .map_or_else(|| label.classification().to_owned(), |l| l.marking.clone());
    if !label.caveats().is_empty() {
        out.push_str("//");
        out.push_str(&join(label.caveats().iter().map(String::as_str)));
    }
    for set in label.releasable_to() {
        out.push_str("//REL TO ");
        if set.is_empty() {
            out.push_str(RELEASE_TO_NONE);
        } else {
            out.push_str(&join(set.iter().map(ReleaseToken::as_str)));
        }
    }
    if !label.contexts().is_empty() {
        out.push_str("//CONTEXT ");
        out.push_str(&join(label.contexts().iter().map(String::as_str)));
    }
    Ok(out)
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}
