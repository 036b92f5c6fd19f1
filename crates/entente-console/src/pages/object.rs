//! An object, rendered for reading: each portion with its portion label, its versions, its
//! relationships in and out as links, why the reader sees it and where it came from. Only the
//! copy released to the reader is read; an object the reader may not see is "not found", as
//! one that does not exist.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use entente_labels::Label;
use entente_node::view::{ReleaseReason, ReleasedRow};
use serde::Deserialize;
use serde_json::Value;

use super::graph::{self, GraphView};
use super::search::WarnedView;
use super::{encode, format_time, object_link, render, Frame};
use crate::banner::{label_class, label_class_of_text, label_of_text, label_text, Banner};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::Console;

/// Properties shown in the heading rather than as portions.
const HEADING: [&str; 8] = [
    "type",
    "id",
    "spec_version",
    "created",
    "modified",
    "object_marking_refs",
    "granular_markings",
    "name",
];

#[derive(Deserialize)]
pub struct Params {
    /// A version to show instead of the latest.
    #[serde(default)]
    version: Option<String>,
    /// Correlate through values on a warning list too (`1`).
    #[serde(default)]
    include_warned: Option<String>,
}

/// A portion of the object: a top-level property, its value and its label.
pub struct Portion {
    pub name: String,
    /// Text values as they are; others as indented JSON.
    pub text: String,
    pub is_json: bool,
    /// Links to the objects the property refers to that the reader may see.
    pub links: Vec<(String, String)>,
    pub label: String,
    pub label_class: &'static str,
    /// The portion carries its own label (a granular marking), not the object's.
    pub own_label: bool,
}

pub struct VersionLink {
    pub version: String,
    pub link: String,
    pub current: bool,
}

pub struct RelationshipLink {
    pub direction: &'static str,
    pub kind: String,
    pub link: String,
    pub other: String,
    pub other_link: Option<String>,
}

pub struct ProvenanceView {
    pub origin: String,
    pub sender: String,
    pub digest: String,
    pub signature: String,
    pub verified: String,
    pub recalled: bool,
    /// The origin's binding marks the copy as cut for this nation.
    pub cut: bool,
}

#[derive(Template)]
#[template(path = "object.html")]
struct ObjectPage {
    frame: Frame,
    name: String,
    kind: String,
    id: String,
    version: String,
    originator: String,
    added: String,
    label: String,
    label_class: &'static str,
    tear_lined: bool,
    /// The originator tear-lined the copy it sent here (its signed binding says so).
    cut_by_origin: bool,
    portions: Vec<Portion>,
    versions: Vec<VersionLink>,
    relationships: Vec<RelationshipLink>,
    reason: Option<ReleaseReason>,
    provenance: Option<ProvenanceView>,
    /// The entries of this node's audit log that record this version arriving here.
    audit: Vec<AuditEntryView>,
    /// Its values, correlations and graph, when the object is in the reader's search view.
    related: Option<Related>,
    json: String,
}

/// An audit-log entry about the version shown, and the signed checkpoint that includes it.
pub struct AuditEntryView {
    pub index: u64,
    pub what: String,
    pub at: String,
    pub checkpoint: String,
    pub size: u64,
    pub verify: String,
}

/// `GET /console/objects/{collection}/{id}`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    Path((collection, id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let node = &console.node;
    let reader = &signed_in.session.reader;
    let day = entente_node::clock::today();
    let versions = node.release_versions(reader, &collection, &id, day).await?;
    let shown = match &params.version {
        Some(v) => versions.iter().find(|r| &r.version == v),
        None => versions.last(),
    };
    let Some(row) = shown else {
        return Err(PageError::not_found());
    };
    let index = console.holdings.of(node, reader, day).await?;
    let policies = node.release_policy().policies();
    let object_label = object_label(&console, &row.copy);
    // References to objects the reader may not see are not shown: not even their ids.
    let mut row = row.clone();
    redact_refs(&mut row.copy, &index, &id);
    let row = &row;
    let portions = portions(&console, row, object_label.as_ref(), &index);
    let version_links = versions
        .iter()
        .map(|r| VersionLink {
            version: r.version.clone(),
            link: format!(
                "{}?version={}",
                object_link(&collection, &id),
                super::encode(&r.version)
            ),
            current: r.seq == row.seq,
        })
        .collect();
    let relationships = index
        .relationships_of(&id)
        .map(|h| {
            let (kind, source, target) = h.refs.clone().unwrap_or_default();
            let (direction, other) = if source == id {
                ("out", target)
            } else {
                ("in", source)
            };
            let other_link = index
                .find(&other)
                .map(|o| object_link(&o.collection, &o.id));
            let other_name = index
                .find(&other)
                .map_or_else(|| NOT_AVAILABLE.to_owned(), |o| o.name.clone());
            RelationshipLink {
                direction,
                kind,
                link: object_link(&h.collection, &h.id),
                other: other_name,
                other_link,
            }
        })
        .collect();
    let reason = node.release_reason(reader, &collection, &id, day).await?;
    let provenance = match node.provenance(&collection, &id, &row.version_key).await? {
        Some(b) => Some(provenance_view(&console, &collection, &id, &row.version_key, &b).await),
        None => None,
    };
    let cut_by_origin = provenance.as_ref().is_some_and(|p| p.cut);
    let audit = match &console.federation {
        Some(fed) => {
            let trail = console.audit_trail.clone();
            crate::audit_trail::recorded(trail, fed.audit().clone(), &id, &row.version)
                .await?
                .into_iter()
                .map(|r| AuditEntryView {
                    index: r.index,
                    what: match (r.event.kind, &r.event.partner) {
                        (entente_audit::EventKind::Receive, Some(from)) => {
                            format!("received from {from}")
                        }
                        (entente_audit::EventKind::Receive, None) => "received".to_owned(),
                        _ => "published here".to_owned(),
                    },
                    at: r.event.at,
                    checkpoint: r.checkpoint.origin,
                    size: r.checkpoint.size,
                    verify: format!("{}/partners/verify/{}", crate::BASE, r.index),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let include_warned = params.include_warned.as_deref() == Some("1");
    let search = node.search_view(&signed_in.session.user, day).await?;
    let related = related(
        &console,
        &search,
        (&collection, &id),
        &row.copy,
        include_warned,
        params.version.as_deref(),
    );
    let banner_label = row.banner.clone();
    let mut frame = Frame::new(
        &console,
        &signed_in,
        &crate::holdings::display_name(&row.copy),
        "holdings",
    );
    // The banner covers the labels of the objects the page names too.
    frame.banner = Banner::of(
        node.release_policy(),
        banner_label
            .iter()
            .chain(related.iter().flat_map(|r| r.labels.iter())),
    );
    let (label, class) = match &banner_label {
        Some(l) => (label_text(policies, l), label_class(policies, l)),
        None => ("UNLABELLED".to_owned(), "level-none"),
    };
    Ok(render(
        StatusCode::OK,
        &ObjectPage {
            frame,
            name: crate::holdings::display_name(&row.copy),
            kind: row.kind.clone(),
            id: row.id.clone(),
            version: row.version.clone(),
            originator: row.originator.as_str().to_owned(),
            added: format_time(row.added_us),
            label,
            label_class: class,
            tear_lined: row.tear_lined,
            cut_by_origin,
            portions,
            versions: version_links,
            relationships,
            reason,
            provenance,
            audit,
            related,
            json: json_text(&row.copy),
        },
    ))
}

/// An object's values, what correlates with it and the graph around it: all from the
/// reader's search view.
pub struct Related {
    pub values: Vec<ValueView>,
    /// Values left out of the correlation because they are on a warning list.
    pub ignored: Vec<WarnedView>,
    pub include_warned: bool,
    /// The same page with values on warning lists included, or left out again.
    pub toggle_link: String,
    pub correlated: Vec<CorrelatedRow>,
    /// `None` when no object the reader may see is linked to this one.
    pub graph: Option<GraphView>,
    /// The labels of the objects named (for the banner).
    pub labels: Vec<Label>,
}

/// One of the object's own values, and the warning lists it is on.
pub struct ValueView {
    pub value: String,
    pub kind: &'static str,
    /// The lists' names, joined; `None` when it is on none.
    pub lists: Option<String>,
}

/// An object that shares or relates through a value with the one shown.
pub struct CorrelatedRow {
    pub link: String,
    pub name: String,
    pub kind: String,
    pub originator: String,
    pub label: String,
    pub label_class: &'static str,
    /// Each value it correlates through, and how, in words.
    pub through: Vec<String>,
}

/// How a value of another object relates to one of this object's, in words:
/// `198.51.100.7 — inside the network 198.51.100.0/24`.
pub fn through_text(link: &entente_search::Link) -> String {
    use entente_search::Relation as R;
    let (value, asked) = (&link.value, &link.asked);
    match link.relation {
        R::Same => format!("{value} — the same value"),
        R::Inside => format!("{value} — {} {asked}", R::Inside.describe()),
        R::Holds => format!("{value} — a network holding {asked}"),
        R::Subdomain if names_a_host(value) => {
            format!("{value} — on {asked} or a subdomain of it")
        }
        R::Subdomain => format!("{value} — a subdomain of {asked}"),
        R::ParentDomain if names_a_host(asked) => {
            format!("{value} — the domain {asked} is on, or a parent of it")
        }
        R::ParentDomain => format!("{value} — a parent domain of {asked}"),
        R::SameSite => format!("{value} — the same site as {asked}"),
        R::SameFile => format!("{value} — another hash of the same file as {asked}"),
    }
}

/// A URL or an e-mail address: a value on a host rather than a domain.
fn names_a_host(value: &str) -> bool {
    value.contains("://") || value.contains('@')
}

/// The related part of an object's page, or `None` when the object is not in the search
/// view (marking and extension definitions are not indexed).
fn related(
    console: &Console,
    search: &entente_search::SearchIndex,
    (collection, id): (&str, &str),
    copy: &Value,
    include_warned: bool,
    version: Option<&str>,
) -> Option<Related> {
    search.document(collection, id)?;
    let policies = console.node.release_policy().policies();
    let options = entente_search::CorrelationOptions { include_warned };
    let found = search.correlate_object(id, options)?;
    let own = entente_search::observables_of(copy);
    let warned = search.warned(&own);
    let values = own
        .iter()
        .map(|v| {
            let text = v.to_string();
            ValueView {
                lists: warned
                    .iter()
                    .find(|w| w.value == text)
                    .map(|w| w.lists.join("; ")),
                kind: v.kind(),
                value: text,
            }
        })
        .collect();
    let mut labels: Vec<Label> = Vec::new();
    let correlated = found
        .objects
        .iter()
        .map(|c| {
            labels.extend(label_of_text(policies, &c.label));
            CorrelatedRow {
                link: object_link(&c.collection, &c.id),
                name: c.name.clone(),
                kind: c.kind.clone(),
                originator: c.originator.clone(),
                label_class: label_class_of_text(policies, &c.label),
                label: c.label.clone(),
                through: c.through.iter().map(through_text).collect(),
            }
        })
        .collect();
    // A node's page is that of the object in the first collection holding it.
    let first = |node: &str| {
        search
            .documents_of(node)
            .min_by(|a, b| a.collection.cmp(&b.collection))
    };
    let drawn = search.graph(id, 2, graph::MAX_NODES).and_then(|g| {
        for n in g.nodes.iter().filter(|n| n.id != id) {
            labels.extend(first(&n.id).and_then(|d| label_of_text(policies, &d.label)));
        }
        let link = |node: &str| first(node).map(|d| object_link(&d.collection, &d.id));
        graph::layout(&g, id, &link)
    });
    let mut toggle = Vec::new();
    if let Some(v) = version {
        toggle.push(format!("version={}", encode(v)));
    }
    if !include_warned {
        toggle.push("include_warned=1".to_owned());
    }
    let mut toggle_link = object_link(collection, id);
    if !toggle.is_empty() {
        toggle_link.push('?');
        toggle_link.push_str(&toggle.join("&"));
    }
    Some(Related {
        values,
        ignored: found.ignored.iter().map(WarnedView::of).collect(),
        include_warned,
        toggle_link,
        correlated,
        graph: drawn.filter(|g| g.nodes.len() > 1),
        labels,
    })
}

/// What stands for a reference to an object the reader may not see.
const NOT_AVAILABLE: &str = "(not available to you)";

/// Replaces every `*_ref` and `*_refs` value naming an object the reader may not see (other
/// than marking definitions, which the copy's labels are) with [`NOT_AVAILABLE`].
fn redact_refs(value: &mut Value, index: &crate::holdings::Index, own: &str) {
    let visible =
        |id: &str| id == own || id.starts_with("marking-definition--") || index.find(id).is_some();
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k.ends_with("_ref") {
                    if let Value::String(id) = v {
                        if !visible(id) {
                            *v = Value::String(NOT_AVAILABLE.into());
                        }
                    }
                } else if k.ends_with("_refs") {
                    if let Value::Array(ids) = v {
                        for id in ids.iter_mut() {
                            if id.as_str().is_some_and(|i| !visible(i)) {
                                *id = Value::String(NOT_AVAILABLE.into());
                            }
                        }
                    }
                } else {
                    redact_refs(v, index, own);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_refs(v, index, own)),
        _ => {}
    }
}

/// The label of the object's markings (without its portions).
fn object_label(console: &Console, copy: &Value) -> Option<Label> {
    let policy = console.node.release_policy();
    copy.get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|id| console.node.marking_label(id))
        .reduce(|a, b| policy.dominate(&a, &b).unwrap_or(a))
}

/// The label of each portion the copy marks: top-level property → label.
fn portion_labels(console: &Console, copy: &Value) -> Vec<(String, Label)> {
    let mut out = Vec::new();
    for g in copy
        .get("granular_markings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(label) = g
            .get("marking_ref")
            .and_then(Value::as_str)
            .and_then(|id| console.node.marking_label(id))
        else {
            continue;
        };
        for selector in g
            .get("selectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let top = selector.split(['.', '[']).next().unwrap_or(selector);
            out.push((top.to_owned(), label.clone()));
        }
    }
    out
}

fn portions(
    console: &Console,
    row: &ReleasedRow,
    object_label: Option<&Label>,
    index: &crate::holdings::Index,
) -> Vec<Portion> {
    let policy = console.node.release_policy();
    let policies = policy.policies();
    let marked = portion_labels(console, &row.copy);
    let Some(map) = row.copy.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, _)| !HEADING.contains(&k.as_str()))
        .map(|(name, value)| {
            // A portion's label is its own marking's; a property marked in parts shows the
            // dominant label of its parts.
            let own = marked
                .iter()
                .filter(|(top, _)| top == name)
                .map(|(_, l)| l.clone())
                .reduce(|a, b| policy.dominate(&a, &b).unwrap_or(a));
            let label = own.as_ref().or(object_label);
            let (text, is_json) = match value {
                Value::String(s) => (s.clone(), false),
                other => (json_text(other), true),
            };
            let links = if name.ends_with("_ref") || name.ends_with("_refs") {
                let ids: Vec<&str> = match value {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                ids.into_iter()
                    .filter_map(|id| index.find(id))
                    .map(|h| (h.name.clone(), object_link(&h.collection, &h.id)))
                    .collect()
            } else {
                Vec::new()
            };
            Portion {
                name: name.clone(),
                text,
                is_json,
                links,
                label: label.map_or_else(|| "UNLABELLED".to_owned(), |l| label_text(policies, l)),
                label_class: label.map_or("level-none", |l| label_class(policies, l)),
                own_label: own.is_some(),
            }
        })
        .collect()
}

/// A value as indented JSON for reading, its bidirectional controls escaped (`\u202e`): left
/// raw, one in a string would reorder the JSON that follows it on its line.
fn json_text(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

async fn provenance_view(
    console: &Console,
    collection: &str,
    id: &str,
    version_key: &str,
    b: &entente_store::BindingRecord,
) -> ProvenanceView {
    let binding: Option<entente_seal::Binding> = serde_json::from_str(&b.binding).ok();
    let verified = match &console.federation {
        Some(fed) => match fed.verify_held(collection, id, version_key).await {
            Ok(Some(Ok(()))) => "verified now against the origin's key".to_owned(),
            Ok(Some(Err(e))) => format!("does not verify: {e}"),
            Ok(None) => "no binding held".to_owned(),
            Err(e) => format!("could not be checked: {e}"),
        },
        None => "verified on receipt (this node does not federate now)".to_owned(),
    };
    ProvenanceView {
        origin: b.origin.as_str().to_owned(),
        sender: b.sender.as_str().to_owned(),
        digest: binding
            .as_ref()
            .map(|x| x.digest.clone())
            .unwrap_or_default(),
        signature: binding
            .as_ref()
            .map(|x| x.signature.clone())
            .unwrap_or_default(),
        verified,
        recalled: b.recall.is_some(),
        cut: binding.as_ref().is_some_and(|x| x.cut),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn correlations_say_how_the_values_relate() {
        use entente_search::{Link, Relation};
        let link = |asked: &str, value: &str, relation| {
            through_text(&Link {
                asked: asked.into(),
                value: value.into(),
                relation,
            })
        };
        assert_eq!(
            link("198.51.100.0/24", "198.51.100.7", Relation::Inside),
            "198.51.100.7 — inside the network 198.51.100.0/24"
        );
        assert_eq!(
            link("198.51.100.7", "198.51.100.0/24", Relation::Holds),
            "198.51.100.0/24 — a network holding 198.51.100.7"
        );
        assert_eq!(
            link("example.org", "mail.example.org", Relation::Subdomain),
            "mail.example.org — a subdomain of example.org"
        );
        assert_eq!(
            link("example.org", "https://example.org/x", Relation::Subdomain),
            "https://example.org/x — on example.org or a subdomain of it"
        );
        assert_eq!(
            link(
                "https://a.example.org/x",
                "example.org",
                Relation::ParentDomain
            ),
            "example.org — the domain https://a.example.org/x is on, or a parent of it"
        );
        assert_eq!(
            link("a.example.org", "example.org", Relation::ParentDomain),
            "example.org — a parent domain of a.example.org"
        );
        assert_eq!(
            link(
                "https://example.org/a",
                "https://example.org/b",
                Relation::SameSite
            ),
            "https://example.org/b — the same site as https://example.org/a"
        );
        assert_eq!(link("ab", "ab", Relation::Same), "ab — the same value");
    }

    #[test]
    fn the_json_view_escapes_bidirectional_controls_and_stays_the_same_json() {
        let v = serde_json::json!({"name": "a\u{202e}b\u{2067}c", "n": [1]});
        let text = json_text(&v);
        assert!(text.contains(r"a\u202eb\u2067c"), "{text}");
        assert!(!text.contains('\u{202e}'));
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
