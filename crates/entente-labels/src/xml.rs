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

use std::collections::BTreeSet;

use quick_xml::escape::{escape, resolve_xml_entity};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{LabelError, LabelErrorKind};
use crate::label::{check_characters, Label, ReleaseToken, MAX_VALUES};
use crate::marking::RELEASE_TO_NONE;
use crate::policy::PolicySet;

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

/// One element of the document, in the label namespace, with its unprefixed attributes.
#[derive(Debug)]
struct Node {
    name: String,
    /// `Category[2]`-style path below the root (the root's path is its name).
    path: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attribute_path(&self, name: &str) -> String {
        format!("{}/@{name}", self.path)
    }

    /// Refuses attributes other than `allowed`.
    fn check_attributes(&self, allowed: &[&str]) -> Result<(), LabelError> {
        match self
            .attributes
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(malformed("unknown attribute", self.attribute_path(k))),
            None => Ok(()),
        }
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of an element that must hold only text: exactly as written (values are not
    /// trimmed, so every form carries the same value), non-empty, no forbidden characters.
    fn leaf_text(&self) -> Result<&str, LabelError> {
        if let Some(child) = self.children.first() {
            return Err(malformed(
                "unexpected element: this element holds only text",
                &child.path,
            ));
        }
        let text = self.text.as_str();
        if text.is_empty() {
            return Err(malformed("expected a value", &self.path));
        }
        check_characters(text, &self.path)?;
        Ok(text)
    }

    /// Refuses text in an element that holds only elements.
    fn check_no_text(&self) -> Result<(), LabelError> {
        if self.text.chars().all(is_xml_space) {
            Ok(())
        } else {
            Err(malformed(
                "unexpected text: this element holds only elements",
                &self.path,
            ))
        }
    }

    /// Checks that the children appear in `order` (each name at most once unless `repeat`), and
    /// returns them grouped by name.
    fn ordered_children<'a>(
        &'a self,
        order: &[&str],
        repeat: &str,
    ) -> Result<Vec<Vec<&'a Node>>, LabelError> {
        let mut groups: Vec<Vec<&Node>> = vec![Vec::new(); order.len()];
        let mut last: Option<usize> = None;
        for child in &self.children {
            let Some(pos) = order.iter().position(|n| *n == child.name) else {
                return Err(malformed("unknown element", &child.path));
            };
            if let Some(last) = last {
                if pos < last || (pos == last && child.name != repeat) {
                    let message = if pos == last {
                        format!("{} given more than once", child.name)
                    } else {
                        format!("{} must come before {}", child.name, order[last])
                    };
                    return Err(malformed(message, &child.path));
                }
            }
            last = Some(pos);
            groups[pos].push(child);
        }
        Ok(groups)
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The path of a new element under `parent`: repeated elements carry an XPath-style index.
fn child_path(parent: Option<&Node>, name: &str) -> String {
    let Some(parent) = parent else {
        return name.to_owned();
    };
    let index = parent.children.iter().filter(|c| c.name == name).count() + 1;
    let segment = if index > 1 || name == "Category" || name == "GenericValue" {
        format!("{name}[{index}]")
    } else {
        name.to_owned()
    };
    if parent.path == ROOT || parent.path.is_empty() {
        segment
    } else {
        format!("{}/{segment}", parent.path)
    }
}

/// Parses the document into a tree of label-namespace elements, refusing everything that is not
/// plain namespaced elements, attributes, text, character references and comments.
fn read_tree(text: &str) -> Result<Node, LabelError> {
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.expand_empty_elements = false;
        config.trim_text(false);
    }
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    let mut first = true;
    loop {
        let here = |stack: &[Node]| {
            stack
                .last()
                .map_or_else(|| "xml".to_owned(), |n| n.path.clone())
        };
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (resolved_namespace(&resolved), event),
            Err(e) => {
                return Err(malformed(
                    format!(
                        "not well-formed XML at byte {}: {e}",
                        reader.error_position()
                    ),
                    here(&stack),
                ))
            }
        };
        let was_first = std::mem::replace(&mut first, false);
        match event {
            Event::Decl(decl) => {
                if !was_first {
                    return Err(malformed("the XML declaration must come first", "xml"));
                }
                check_declaration(&decl)?;
            }
            Event::DocType(_) => {
                return Err(malformed(
                    "DOCTYPE declarations are refused (no DTD, no entity declarations)",
                    "xml",
                ))
            }
            Event::PI(_) => {
                return Err(malformed(
                    "processing instructions are refused",
                    here(&stack),
                ));
            }
            Event::Comment(_) => {}
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                return Err(malformed(
                    format!("element {name} after the root element"),
                    "xml",
                ));
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (start, empty) = match ev {
                    Event::Start(s) => (s, false),
                    Event::Empty(s) => (s, true),
                    _ => continue,
                };
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(LabelError::new(
                        LabelErrorKind::TooLarge {
                            what: "XML elements",
                            limit: MAX_ELEMENTS,
                        },
                        here(&stack),
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(
                        format!("elements nested deeper than {MAX_DEPTH}"),
                        here(&stack),
                    ));
                }
                let name = std::str::from_utf8(start.local_name().into_inner())
                    .map_err(|_| malformed("element name is not UTF-8", here(&stack)))?
                    .to_owned();
                let path = child_path(stack.last(), &name);
                match resolved {
                    Some(ns) if ns == NAMESPACE.as_bytes() => {}
                    Some(ns) => {
                        return Err(malformed(
                            format!(
                                "element {name} is in namespace {:?}, expected {NAMESPACE}",
                                String::from_utf8_lossy(&ns)
                            ),
                            path,
                        ))
                    }
                    None => {
                        return Err(malformed(
                            format!("element {name} is in no namespace, expected {NAMESPACE}"),
                            path,
                        ))
                    }
                }
                let attributes = read_attributes(&reader, &start, &path)?;
                let node = Node {
                    name,
                    path,
                    attributes,
                    text: String::new(),
                    children: Vec::new(),
                };
                if empty {
                    attach(&mut stack, &mut root, node);
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if let Some(node) = stack.pop() {
                    attach(&mut stack, &mut root, node);
                }
            }
            Event::Text(t) => {
                let content = t
                    .xml10_content()
                    .map_err(|e| malformed(format!("text is not UTF-8: {e}"), here(&stack)))?;
                push_text(&mut stack, &content)?;
            }
            Event::CData(c) => {
                let content = c
                    .xml10_content()
                    .map_err(|e| malformed(format!("text is not UTF-8: {e}"), here(&stack)))?;
                if stack.is_empty() {
                    return Err(malformed("CDATA outside the root element", "xml"));
                }
                push_text(&mut stack, &content)?;
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|e| malformed(format!("reference is not UTF-8: {e}"), here(&stack)))?
                    .into_owned();
                let value = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) | Err(_) => {
                            return Err(malformed(
                                format!("bad character reference &{name};"),
                                here(&stack),
                            ))
                        }
                    }
                } else if let Some(v) = resolve_xml_entity(&name) {
                    v.to_owned()
                } else {
                    return Err(malformed(
                        format!(
                            "entity reference &{name}; refused: only &lt; &gt; &amp; &apos; &quot; and character references"
                        ),
                        here(&stack),
                    ));
                };
                if stack.is_empty() {
                    return Err(malformed("reference outside the root element", "xml"));
                }
                push_text(&mut stack, &value)?;
            }
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(malformed(
            "unexpected end of input: element not closed",
            &open.path,
        ));
    }
    root.ok_or_else(|| {
        malformed(
            "no root element: expected an originatorConfidentialityLabel",
            "xml",
        )
    })
}

fn resolved_namespace(resolved: &ResolveResult<'_>) -> Option<Vec<u8>> {
    match resolved {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
        ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
    }
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

fn push_text(stack: &mut [Node], text: &str) -> Result<(), LabelError> {
    match stack.last_mut() {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None if text.chars().all(is_xml_space) => Ok(()),
        None => Err(malformed("text outside the root element", "xml")),
    }
}

fn check_declaration(decl: &quick_xml::events::BytesDecl<'_>) -> Result<(), LabelError> {
    let bad = |m: String| malformed(m, "xml");
    let version = decl
        .version()
        .map_err(|e| bad(format!("bad XML declaration: {e}")))?;
    if version.as_ref() != b"1.0" {
        return Err(bad(format!(
            "XML version {:?} refused: expected 1.0",
            String::from_utf8_lossy(&version)
        )));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(|e| bad(format!("bad XML declaration: {e}")))?;
        if !encoding.eq_ignore_ascii_case(b"UTF-8") {
            return Err(bad(format!(
                "encoding {:?} refused: expected UTF-8",
                String::from_utf8_lossy(&encoding)
            )));
        }
    }
    Ok(())
}

/// The unprefixed attributes of an element (namespace declarations skipped), unescaped.
fn read_attributes(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    path: &str,
) -> Result<Vec<(String, String)>, LabelError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, attribute) in start.attributes().with_checks(true).enumerate() {
        if i >= MAX_ATTRIBUTES {
            return Err(LabelError::new(
                LabelErrorKind::TooLarge {
                    what: "attributes on one element",
                    limit: MAX_ATTRIBUTES,
                },
                path.to_owned(),
            ));
        }
        let attribute: Attribute<'_> =
            attribute.map_err(|e| malformed(format!("bad attribute: {e}"), path))?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let qname = String::from_utf8_lossy(key.as_ref()).into_owned();
        let apath = format!("{path}/@{qname}");
        let (ns, _) = reader.resolver().resolve_attribute(key);
        if !matches!(ns, ResolveResult::Unbound) {
            return Err(malformed("unknown attribute", apath));
        }
        let value = attribute
            .normalized_value_with(quick_xml::XmlVersion::Implicit1_0, 1, |name: &str| {
                resolve_xml_entity(name)
            })
            .map_err(|e| {
                malformed(
                    format!("bad attribute value: {e} (only the five predefined entities and character references)"),
                    apath.clone(),
                )
            })?
            .into_owned();
        out.push((qname, value));
    }
    Ok(out)
}

/// Turns the tree into a label, validated against its policy.
fn interpret(policies: &PolicySet, root: &Node) -> Result<Label, LabelError> {
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
        let oid = parse_oid_uri(uri).map_err(|m| malformed(m, &uri_path))?;
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

/// `urn:oid:1.3.26.1.3.1` → `1.3.26.1.3.1`, checking the OID's syntax.
fn parse_oid_uri(uri: &str) -> Result<&str, String> {
    let Some(oid) = uri.strip_prefix("urn:oid:") else {
        return Err(format!(
            "{uri:?} is not an OID URI: expected urn:oid:<dotted numbers>"
        ));
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
        return Err(format!(
            "{oid:?} is not a valid OID (dotted decimal numbers, as 1.3.26.1.3.1)"
        ));
    }
    Ok(oid)
}

#[cfg(test)]
mod tests;
