//! The strict reader of the XML form: a small element tree in the STANAG 4774 namespace, with
//! DOCTYPEs, foreign entities, processing instructions, unknown names and oversized or too deep
//! input refused, every error naming the element path.

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{LabelError, LabelErrorKind};
use crate::label::check_characters;

use super::*;

/// One element of the document, in the label namespace, with its unprefixed attributes.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) name: String,
    /// `Category[2]`-style path below the root (the root's path is its name).
    pub(super) path: String,
    pub(super) attributes: Vec<(String, String)>,
    pub(super) text: String,
    pub(super) children: Vec<Node>,
}

impl Node {
    pub(super) fn attribute_path(&self, name: &str) -> String {
        format!("{}/@{name}", self.path)
    }

    /// Refuses attributes other than `allowed`.
    pub(super) fn check_attributes(&self, allowed: &[&str]) -> Result<(), LabelError> {
        match self
            .attributes
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(malformed("unknown attribute", self.attribute_path(k))),
            None => Ok(()),
        }
    }

    pub(super) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of an element that must hold only text: exactly as written (values are not
    /// trimmed, so every form carries the same value), non-empty, no forbidden characters.
    pub(super) fn leaf_text(&self) -> Result<&str, LabelError> {
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
    pub(super) fn check_no_text(&self) -> Result<(), LabelError> {
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
    pub(super) fn ordered_children<'a>(
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
pub(super) fn read_tree(text: &str) -> Result<Node, LabelError> {
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
