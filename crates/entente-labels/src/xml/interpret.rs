//! From the element tree to a [`Label`]: the confidentiality information (policy, classification,
//! categories), the originator and the dates, each checked against the label's policy.

use std::collections::BTreeSet;

use crate::error::{LabelError, LabelErrorKind};
use crate::label::{check_characters, Label, ReleaseToken, MAX_VALUES};
use crate::marking::RELEASE_TO_NONE;

use super::*;

use super::read::Node;

/// Turns the tree into a label, validated against its policy.
pub(super) fn interpret(policies: &PolicySet, root: &Node) -> Result<Label, LabelError> {
    if root.name != ROOT {
        return Err(malformed(
            format!("root element {} refused: expected {ROOT}", root.name),
            &root.path,
        ));
    }
    root.check_attributes(&["ReviewDateTime"])?;
    root.check_no_text()?;
    let groups = root.ordered_children(
        &[
            "ConfidentialityInformation",
            "OriginatorID",
            "CreationDateTime",
            "ReviewDateTime",
        ],
        "",
    )?;
    let info = groups[0]
        .first()
        .ok_or_else(|| malformed("missing ConfidentialityInformation", &root.path))?;
    let mut label = confidentiality_information(policies, info)?;
    if let Some(originator) = groups[1].first() {
        originator.check_attributes(&["IDType"])?;
        if let Some(id_type) = originator.attribute("IDType") {
            if !ID_TYPES.contains(&id_type) {
                return Err(malformed(
                    format!(
                        "unknown IDType {id_type:?}: expected one of {}",
                        ID_TYPES.join(", ")
                    ),
                    originator.attribute_path("IDType"),
                ));
            }
        }
        let text = originator.leaf_text()?;
        label = label
            .with_originator(text)
            .map_err(|e| at(e, &originator.path))?;
    }
    if let Some(created) = groups[2].first() {
        created.check_attributes(&[])?;
        let text = created.leaf_text()?;
        label = label.with_created(text).map_err(|e| at(e, &created.path))?;
    }
    let review_attribute = root.attribute("ReviewDateTime");
    match (groups[3].first(), review_attribute) {
        (Some(element), Some(_)) => {
            return Err(malformed(
                "ReviewDateTime given both as an element and as an attribute of the root",
                &element.path,
            ))
        }
        (Some(element), None) => {
            element.check_attributes(&[])?;
            let text = element.leaf_text()?;
            label = label.with_review(text).map_err(|e| at(e, &element.path))?;
        }
        (None, Some(text)) => {
            let path = root.attribute_path("ReviewDateTime");
            check_characters(text, &path)?;
            label = label.with_review(text).map_err(|e| at(e, &path))?;
        }
        (None, None) => {}
    }
    Ok(label)
}

fn confidentiality_information(policies: &PolicySet, info: &Node) -> Result<Label, LabelError> {
    info.check_attributes(&[])?;
    info.check_no_text()?;
    let groups = info.ordered_children(
        &["PolicyIdentifier", "Classification", "Category"],
        "Category",
    )?;
    let policy_node = groups[0]
        .first()
        .ok_or_else(|| malformed("missing PolicyIdentifier", &info.path))?;
    let class_node = groups[1]
        .first()
        .ok_or_else(|| malformed("missing Classification", &info.path))?;
    policy_node.check_attributes(&["URI"])?;
    let policy_id = policy_node.leaf_text()?;
    let policy = policies
        .require(policy_id)
        .map_err(|e| at(e, &policy_node.path))?;
    if let Some(uri) = policy_node.attribute("URI") {
        let uri_path = policy_node.attribute_path("URI");
        let oid = parse_oid_uri(uri).map_err(|e| malformed(e.to_string(), &uri_path))?;
        if let Some(expected) = policy.oid.as_deref() {
            if oid != expected {
                return Err(malformed(
                    format!(
                        "OID {oid} is not the OID of policy {} ({expected})",
                        policy.id
                    ),
                    uri_path,
                ));
            }
        }
    }
    class_node.check_attributes(&[])?;
    let classification = class_node.leaf_text()?;
    let mut label =
        Label::new(policies, &policy.id, classification).map_err(|e| at(e, &class_node.path))?;

    let mut values = 0usize;
    let mut seen_caveats = false;
    let mut seen_contexts = false;
    for node in &groups[2] {
        node.check_attributes(&["Type", "TagName"])?;
        node.check_no_text()?;
        let kind = node
            .attribute("Type")
            .ok_or_else(|| malformed("missing attribute Type", &node.path))?;
        let tag = node
            .attribute("TagName")
            .ok_or_else(|| malformed("missing attribute TagName", &node.path))?;
        if !["PERMISSIVE", "RESTRICTIVE", "INFORMATIVE"].contains(&kind) {
            return Err(malformed(
                format!("category type {kind:?}: expected PERMISSIVE, RESTRICTIVE or INFORMATIVE"),
                node.attribute_path("Type"),
            ));
        }
        let allowed: &[&str] = match tag {
            TAG_RELEASABLE_TO => &["PERMISSIVE"],
            TAG_ADDITIONAL_SENSITIVITY => &["RESTRICTIVE"],
            TAG_CONTEXT => &["INFORMATIVE", "PERMISSIVE"],
            _ => {
                return Err(malformed(
                    format!(
                        "unknown category {tag:?}: expected \"{TAG_RELEASABLE_TO}\", \"{TAG_ADDITIONAL_SENSITIVITY}\" or \"{TAG_CONTEXT}\""
                    ),
                    node.attribute_path("TagName"),
                ))
            }
        };
        if !allowed.contains(&kind) {
            return Err(malformed(
                format!(
                    "category {tag:?} must be {}, not {kind}",
                    allowed.join(" or ")
                ),
                node.attribute_path("Type"),
            ));
        }
        values += node.children.len();
        if values > MAX_VALUES {
            return Err(LabelError::new(
                LabelErrorKind::TooLarge {
                    what: "category values",
                    limit: MAX_VALUES,
                },
                node.path.clone(),
            ));
        }
        let mut texts: Vec<(&str, &Node)> = Vec::with_capacity(node.children.len());
        for child in &node.children {
            if child.name != "GenericValue" {
                return Err(malformed(
                    "unknown element: a Category holds GenericValue elements",
                    &child.path,
                ));
            }
            child.check_attributes(&[])?;
            let text = child.leaf_text()?;
            if texts.iter().any(|(t, _)| *t == text) {
                return Err(malformed(format!("duplicate value {text:?}"), &child.path));
            }
            texts.push((text, child));
        }
        match tag {
            TAG_RELEASABLE_TO => {
                let mut tokens = BTreeSet::new();
                for (text, child) in &texts {
                    if *text == RELEASE_TO_NONE {
                        return Err(malformed(
                            "NONE is not a release token: an empty \"Releasable To\" category means releasable to nobody",
                            &child.path,
                        ));
                    }
                    tokens.insert(ReleaseToken::parse(text).map_err(|e| at(e, &child.path))?);
                }
                label = label
                    .with_releasable_to(tokens)
                    .map_err(|e| at(e, &node.path))?;
            }
            _ => {
                let seen = if tag == TAG_CONTEXT {
                    &mut seen_contexts
                } else {
                    &mut seen_caveats
                };
                if std::mem::replace(seen, true) {
                    return Err(malformed(format!("a second {tag:?} category"), &node.path));
                }
                if texts.is_empty() {
                    return Err(malformed("expected at least one GenericValue", &node.path));
                }
                for (text, child) in texts {
                    label = if tag == TAG_CONTEXT {
                        label.with_context(policies, text)
                    } else {
                        label.with_caveat(policies, text)
                    }
                    .map_err(|e| at(e, &child.path))?;
                }
            }
        }
    }
    Ok(label)
}

/// Why a policy identifier's `URI` is refused.
#[derive(Debug, thiserror::Error)]
enum OidUriError {
    #[error("{0:?} is not an OID URI: expected urn:oid:<dotted numbers>")]
    NotOidUri(String),
    #[error("{0:?} is not a valid OID (dotted decimal numbers, as 1.3.26.1.3.1)")]
    InvalidOid(String),
}

/// `urn:oid:1.3.26.1.3.1` → `1.3.26.1.3.1`, checking the OID's syntax.
fn parse_oid_uri(uri: &str) -> Result<&str, OidUriError> {
    let Some(oid) = uri.strip_prefix("urn:oid:") else {
        return Err(OidUriError::NotOidUri(uri.to_owned()));
    };
    let arcs: Vec<&str> = oid.split('.').collect();
    let well_formed = arcs.len() >= 2
        && oid.len() <= 128
        && arcs.iter().all(|a| {
            !a.is_empty()
                && a.bytes().all(|b| b.is_ascii_digit())
                && (a.len() == 1 || !a.starts_with('0'))
        })
        && matches!(arcs[0], "0" | "1" | "2");
    if !well_formed {
        return Err(OidUriError::InvalidOid(oid.to_owned()));
    }
    Ok(oid)
}
