//! The STANAG 4774 XML form of a label.
//!
//! ```xml
//! <slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0">
//!   <slab:ConfidentialityInformation>
//!     <slab:PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</slab:PolicyIdentifier>
//!     <slab:Classification>SECRET</slab:Classification>
//!     <slab:Category Type="PERMISSIVE" TagName="Releasable To">
//!       <slab:GenericValue>FRA</slab:GenericValue><slab:GenericValue>GBR</slab:GenericValue>
//!     </slab:Category>
//!     <slab:Category Type="RESTRICTIVE" TagName="Additional Sensitivity">…</slab:Category>
//!     <slab:Category Type="INFORMATIVE" TagName="Context">…</slab:Category>
//!   </slab:ConfidentialityInformation>
//!   <slab:OriginatorID IDType="rfc822Name">ops@example.org</slab:OriginatorID>
//!   <slab:CreationDateTime>2026-01-10T12:00:00Z</slab:CreationDateTime>
//!   <slab:ReviewDateTime>2031-01-01T00:00:00Z</slab:ReviewDateTime>
//! </slab:originatorConfidentialityLabel>
//! ```
//!
//! Mapping: one `Releasable To` category (PERMISSIVE) per "Releasable To" set, an empty category
//! being the empty set (releasable to nobody); `Additional Sensitivity` (RESTRICTIVE) holds the
//! caveats; `Context` holds the contexts (written INFORMATIVE, as in the JSON form; PERMISSIVE, as
//! in the NATO policy of STANAG 4774, is accepted on input). `OriginatorID`, `CreationDateTime` and
//! `ReviewDateTime` are optional, since markings carry none of them; `ReviewDateTime` is also
//! accepted as an attribute of the root element. The `IDType` of the originator is not part of a
//! [`Label`]: it is checked on input and written as `rfc822Name` for an e-mail address.
//!
//! The reader is strict, because labels arrive from other nations' nodes: it refuses any DOCTYPE
//! (so no DTD, no entity declaration, no external entity), entity references other than the five
//! predefined ones, processing instructions other than the XML declaration, encodings other than
//! UTF-8, elements outside the STANAG 4774 namespace, unknown elements and attributes, elements
//! out of order, inputs over [`MAX_XML_BYTES`], nesting deeper than [`MAX_DEPTH`] and more than
//! [`MAX_ELEMENTS`] elements. Every error names the element path, as in
//! `ConfidentialityInformation/Category[2]/@Type`.

use quick_xml::escape::escape;

use crate::error::{LabelError, LabelErrorKind};
use crate::label::{Label, ReleaseToken, MAX_VALUES};
use crate::policy::PolicySet;

use interpret::interpret;
use read::read_tree;

mod interpret;
mod read;

/// The STANAG 4774 confidentiality label namespace.
pub const NAMESPACE: &str = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0";
/// The largest XML label accepted, in bytes.
pub const MAX_XML_BYTES: usize = 64 * 1024;
/// The deepest element nesting accepted (the format itself needs four levels).
pub const MAX_DEPTH: usize = 8;
/// The most elements accepted in one document.
pub const MAX_ELEMENTS: usize = MAX_VALUES + 64;
/// The most attributes accepted on one element (namespace declarations included).
const MAX_ATTRIBUTES: usize = 16;

const ROOT: &str = "originatorConfidentialityLabel";
const PREFIX: &str = "slab";
const TAG_RELEASABLE_TO: &str = "Releasable To";
const TAG_ADDITIONAL_SENSITIVITY: &str = "Additional Sensitivity";
const TAG_CONTEXT: &str = "Context";
/// `IDType` values: the choices of an X.509 GeneralName, plus `distinguishedName`.
const ID_TYPES: [&str; 10] = [
    "rfc822Name",
    "dNSName",
    "uniformResourceIdentifier",
    "directoryName",
    "distinguishedName",
    "iPAddress",
    "registeredID",
    "otherName",
    "x400Address",
    "ediPartyName",
];

/// Writes a label in the STANAG 4774 XML form (UTF-8, with an XML declaration).
pub fn to_xml(policies: &PolicySet, label: &Label) -> Result<String, LabelError> {
    let policy = label.policy_in(policies)?;
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<{PREFIX}:{ROOT} xmlns:{PREFIX}=\"{NAMESPACE}\">\n"
    ));
    out.push_str(&format!(" <{PREFIX}:ConfidentialityInformation>\n"));
    let uri = policy
        .oid
        .as_deref()
        .map(|oid| format!(" URI=\"urn:oid:{}\"", escape(oid)))
        .unwrap_or_default();
    leaf(&mut out, 2, "PolicyIdentifier", &uri, &policy.id);
    leaf(&mut out, 2, "Classification", "", label.classification());
    for set in label.releasable_to() {
        category(
            &mut out,
            "PERMISSIVE",
            TAG_RELEASABLE_TO,
            set.iter().map(ReleaseToken::as_str),
        );
    }
    if !label.caveats().is_empty() {
        category(
            &mut out,
            "RESTRICTIVE",
            TAG_ADDITIONAL_SENSITIVITY,
            label.caveats().iter().map(String::as_str),
        );
    }
    if !label.contexts().is_empty() {
        category(
            &mut out,
            "INFORMATIVE",
            TAG_CONTEXT,
            label.contexts().iter().map(String::as_str),
        );
    }
    out.push_str(&format!(" </{PREFIX}:ConfidentialityInformation>\n"));
    if let Some(originator) = label.originator() {
        let id_type = if looks_like_email(originator) {
            " IDType=\"rfc822Name\""
        } else {
            ""
        };
        leaf(&mut out, 1, "OriginatorID", id_type, originator);
    }
    if let Some(time) = label.created() {
        leaf(&mut out, 1, "CreationDateTime", "", time);
    }
    if let Some(time) = label.review() {
        leaf(&mut out, 1, "ReviewDateTime", "", time);
    }
    out.push_str(&format!("</{PREFIX}:{ROOT}>\n"));
    Ok(out)
}

fn leaf(out: &mut String, indent: usize, name: &str, attributes: &str, text: &str) {
    out.push_str(&format!(
        "{:indent$}<{PREFIX}:{name}{attributes}>{}</{PREFIX}:{name}>\n",
        "",
        escape(text)
    ));
}

fn category<'a>(out: &mut String, kind: &str, tag: &str, values: impl Iterator<Item = &'a str>) {
    let head = format!("  <{PREFIX}:Category Type=\"{kind}\" TagName=\"{tag}\"");
    let values: Vec<&str> = values.collect();
    if values.is_empty() {
        out.push_str(&head);
        out.push_str("/>\n");
        return;
    }
    out.push_str(&head);
    out.push_str(">\n");
    for v in values {
        leaf(out, 3, "GenericValue", "", v);
    }
    out.push_str(&format!("  </{PREFIX}:Category>\n"));
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Reads a label from its STANAG 4774 XML form, strictly (see the module documentation).
pub fn from_xml(policies: &PolicySet, text: &str) -> Result<Label, LabelError> {
    if text.len() > MAX_XML_BYTES {
        return Err(LabelError::new(
            LabelErrorKind::TooLarge {
                what: "bytes in an XML label",
                limit: MAX_XML_BYTES,
            },
            "xml",
        ));
    }
    if text.trim().is_empty() {
        return Err(malformed(
            "empty document: expected an originatorConfidentialityLabel",
            "xml",
        ));
    }
    let root = read_tree(text)?;
    interpret(policies, &root)
}

fn malformed(message: impl Into<String>, path: impl Into<String>) -> LabelError {
    LabelError::new(LabelErrorKind::Malformed(message.into()), path)
}

/// Moves an error raised by the label model to the XML path it came from.
fn at(err: LabelError, path: &str) -> LabelError {
    LabelError::new(err.kind().clone(), path.to_owned())
}

#[cfg(test)]
mod tests;
