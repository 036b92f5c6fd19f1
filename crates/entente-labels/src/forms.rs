//! A label in whichever form it comes (a marking, a STIX marking-definition in JSON, a STANAG 4774
//! label in XML), told apart by its first character, and the label's fields for display.

use std::collections::BTreeSet;

use crate::{
    parse_marking, render_marking, stix, xml, DefaultRelease, Label, LabelError, LabelErrorKind,
    PolicySet, ReleaseToken,
};

fn empty_input(context: &str) -> LabelError {
    LabelError::new(
        LabelErrorKind::Malformed(
            "empty input: expected a marking, a STIX marking-definition (JSON) or a STANAG 4774 label (XML)"
                .to_owned(),
        ),
        context,
    )
}

/// Reads a marking, refusing blank input with a message that lists the accepted forms.
pub fn read_marking(policies: &PolicySet, text: &str) -> Result<Label, LabelError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty_input("marking"));
    }
    parse_marking(policies, text)
}

/// Reads a label in whichever form `text` is: `{` JSON, `<` XML, otherwise a marking.
pub fn read_any(policies: &PolicySet, text: &str) -> Result<Label, LabelError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            LabelError::new(
                LabelErrorKind::Malformed(format!("malformed JSON: {e}")),
                "json",
            )
        })?;
        stix::from_marking_definition(policies, &value)
    } else if trimmed.starts_with('<') {
        xml::from_xml(policies, text)
    } else {
        read_marking(policies, text)
    }
}

/// The label's fields, one per line, values aligned.
pub fn describe(policies: &PolicySet, label: &Label) -> Result<String, LabelError> {
    let lines = fields(policies, label)?;
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    Ok(lines
        .iter()
        .map(|(k, v)| format!("{:width$} {v}", format!("{k}:")))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The label's fields as (name, value) pairs, in display order: policy, classification,
/// releasable-to sets (or the policy's default), caveats, contexts, originator, dates, marking.
pub fn fields(
    policies: &PolicySet,
    label: &Label,
) -> Result<Vec<(&'static str, String)>, LabelError> {
    let policy = label.policy_in(policies)?;
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    let oid = policy
        .oid
        .as_deref()
        .map(|o| format!(", OID {o}"))
        .unwrap_or_default();
    lines.push(("policy", format!("{} ({}{oid})", policy.id, policy.name)));
    lines.push((
        "classification",
        format!(
            "{} (level {} of {})",
            label.classification(),
            u32::from(label.rank()) + 1,
            policy.levels.len()
        ),
    ));
    if label.releasable_to().is_empty() {
        let default = match &policy.default_release {
            DefaultRelease::MembersOf(org) => format!("members of {org} (policy default)"),
            DefaultRelease::OriginatorOnly => {
                "the originating nation only (policy default)".to_owned()
            }
        };
        lines.push(("releasable to", default));
    }
    for (i, set) in label.releasable_to().iter().enumerate() {
        let tokens = if set.is_empty() {
            "nobody".to_owned()
        } else {
            set.iter()
                .map(ReleaseToken::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Several sets all apply: the second and later ones read as "and …".
        let tokens = if i == 0 {
            tokens
        } else {
            format!("and {tokens}")
        };
        lines.push(("releasable to", tokens));
    }
    let list = |values: &BTreeSet<String>| {
        if values.is_empty() {
            "-".to_owned()
        } else {
            values
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    lines.push(("caveats", list(label.caveats())));
    lines.push(("contexts", list(label.contexts())));
    if let Some(o) = label.originator() {
        lines.push(("originator", o.to_owned()));
    }
    if let Some(t) = label.created() {
        lines.push(("created", t.to_owned()));
    }
    if let Some(t) = label.review() {
        lines.push(("review", t.to_owned()));
    }
    lines.push(("marking", render_marking(policies, label)?));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn policies() -> PolicySet {
        PolicySet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/policies")).unwrap()
    }

    const MARKING: &str = "NATO SECRET//REL TO FRA, GBR, USA";

    #[test]
    fn every_form_reads_to_the_same_label() {
        let p = policies();
        let label = read_marking(&p, MARKING).unwrap();
        let json = stix::to_marking_definition(&p, &label).unwrap().to_string();
        let xml = xml::to_xml(&p, &label).unwrap();
        for text in [MARKING.to_owned(), format!("  {json}"), xml] {
            assert_eq!(read_any(&p, &text).unwrap(), label, "{text}");
        }
    }

    #[test]
    fn blank_and_malformed_inputs_say_what_was_expected() {
        let p = policies();
        let err = read_any(&p, "  \n").unwrap_err();
        assert!(
            err.to_string().contains("empty input: expected a marking"),
            "{err}"
        );
        let err = read_any(&p, "{ not json").unwrap_err();
        assert!(err.to_string().contains("malformed JSON"), "{err}");
    }

    #[test]
    fn a_description_aligns_the_values() {
        let p = policies();
        let label = read_marking(&p, MARKING).unwrap();
        let text = describe(&p, &label).unwrap();
        // The value starts in the same column on every line.
        let column = |l: &str| {
            let after = &l[l.find(':').unwrap() + 1..];
            l.len() - after.trim_start().len()
        };
        let starts: Vec<usize> = text.lines().map(column).collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(text.starts_with("policy:"), "{text}");
    }

    #[test]
    fn fields_list_policy_classification_sets_and_marking() {
        let p = policies();
        let label = read_marking(&p, MARKING).unwrap();
        let fields = fields(&p, &label).unwrap();
        let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(names[0], "policy");
        assert_eq!(names[1], "classification");
        assert!(
            fields.contains(&("releasable to", "FRA, GBR, USA".to_owned())),
            "{fields:?}"
        );
        assert_eq!(fields.last().unwrap(), &("marking", MARKING.to_owned()));
        let default = read_marking(&p, "NATO SECRET").unwrap();
        let fields = super::fields(&p, &default).unwrap();
        assert!(fields
            .iter()
            .any(|(k, v)| *k == "releasable to" && v.contains("policy default")));
    }
}
