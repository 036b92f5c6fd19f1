//! Search: the objects the reader may see that match a query of the search language
//! ([`entente_search::Query`]), with their number, facets by type, originator and label (each a
//! link that adds or removes its term), a sort, pages of [`PER_PAGE`], and a flag on each
//! object whose values are on a warning list.
//!
//! Everything comes from the reader's search view (`Node::search_view`), which holds only the
//! latest versions released to the reader: no result, count or facet is built from anything
//! else.
//!
//! The default order is relevance: objects whose name holds every word of the query first,
//! then the newest. With no words (an empty query, or fields only) every object is equally
//! relevant and the order is the newest first, which is what a reader opening the page wants
//! to see; with words, the objects named so come before those that only mention them.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query as QueryParams, State};
use axum::http::StatusCode;
use axum::response::Response;
use entente_search::{Facets, Hit, Query, Sort, Warned};
use serde::Deserialize;

use super::{encode, format_time, object_link, render, Frame};
use crate::banner::{label_class_of_text, label_of_text, Banner};
use crate::error::PageError;
use crate::session::SignedIn;
use crate::Console;

/// Results per page.
pub const PER_PAGE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    offset: Option<usize>,
}

/// A result as the table shows it.
pub struct Row {
    pub link: String,
    pub name: String,
    pub kind: String,
    pub originator: String,
    pub label: String,
    pub label_class: &'static str,
    pub added: String,
    pub warnings: Vec<WarnedView>,
}

/// A value on warning lists, as a result or an object page flags it.
pub struct WarnedView {
    pub value: String,
    /// The lists' names, joined.
    pub lists: String,
}

impl WarnedView {
    pub fn of(w: &Warned) -> WarnedView {
        WarnedView {
            value: w.value.clone(),
            lists: w.lists.join("; "),
        }
    }
}

impl Row {
    /// The text of the warning badge's title: every value and its lists.
    pub fn warning_title(&self) -> String {
        self.warnings
            .iter()
            .map(|w| format!("{}: on {}", w.value, w.lists))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One value of a facet: its count and the link that adds (or, when it is in the query,
/// removes) its term.
pub struct FacetValue {
    pub value: String,
    pub count: usize,
    pub selected: bool,
    pub link: String,
    /// The colour of a label's value (empty for other facets).
    pub label_class: &'static str,
}

/// A facet: a field and its values among the results.
pub struct Facet {
    pub title: &'static str,
    pub field: &'static str,
    pub values: Vec<FacetValue>,
}

/// A choice of the sort selector.
pub struct SortChoice {
    pub value: &'static str,
    pub text: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    frame: Frame,
    query: String,
    /// Why the query could not be read (the term at fault and the reason).
    error: Option<String>,
    sorts: Vec<SortChoice>,
    total: usize,
    first: usize,
    last: usize,
    rows: Vec<Row>,
    facets: Vec<Facet>,
    previous: Option<String>,
    next: Option<String>,
}

impl SearchPage {
    fn count_text(&self) -> String {
        match self.total {
            1 => "1 object".to_owned(),
            n => format!("{n} objects"),
        }
    }
}

/// What the sort selector says of each order.
fn sort_text(sort: Sort) -> &'static str {
    match sort {
        Sort::Relevance => "Relevance (named first, then newest)",
        Sort::Newest => "Newest first",
        Sort::Oldest => "Oldest first",
        Sort::Name => "Name",
        Sort::Type => "Type",
        Sort::Originator => "Originator",
    }
}

/// The link to the search page for `query`, `sort` and `offset`.
pub fn search_link(query: &str, sort: Sort, offset: usize) -> String {
    let mut link = format!("{}/search?q={}", crate::BASE, encode(query.trim()));
    if sort != Sort::default() {
        link.push_str(&format!("&sort={}", sort.as_str()));
    }
    if offset > 0 {
        link.push_str(&format!("&offset={offset}"));
    }
    link
}

/// `GET /console/search`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    QueryParams(params): QueryParams<Params>,
) -> Result<Response, PageError> {
    let text = params.q.trim().to_owned();
    let sort = Sort::parse(params.sort.trim()).unwrap_or_default();
    let offset = params.offset.unwrap_or(0);
    let sorts = Sort::ALL
        .into_iter()
        .map(|s| SortChoice {
            value: s.as_str(),
            text: sort_text(s),
            selected: s == sort,
        })
        .collect();
    let mut frame = Frame::new(&console, &signed_in, "Search", "search");
    let query = match Query::parse(&text) {
        Ok(q) => q,
        Err(e) => {
            // As the other forms: the form again, its field marked, and a 400.
            return Ok(render(
                StatusCode::BAD_REQUEST,
                &SearchPage {
                    frame,
                    query: text,
                    error: Some(format!("The query cannot be read: {e}.")),
                    sorts,
                    total: 0,
                    first: 0,
                    last: 0,
                    rows: Vec::new(),
                    facets: Vec::new(),
                    previous: None,
                    next: None,
                },
            ));
        }
    };
    let day = entente_node::clock::today();
    let view = console
        .node
        .search_view(&signed_in.session.user, day)
        .await?;
    let results = view.search(&query, sort, offset, PER_PAGE);
    let policy = console.node.release_policy();
    let policies = policy.policies();
    let rows: Vec<Row> = results.hits.iter().map(|h| row(policies, h)).collect();
    // The banner covers every label the page names: the results' and the label facet's.
    let labels: Vec<entente_labels::Label> = results
        .hits
        .iter()
        .map(|h| h.label.as_str())
        .chain(results.facets.labels.keys().map(String::as_str))
        .filter_map(|t| label_of_text(policies, t))
        .collect();
    frame.banner = Banner::of(policy, labels.iter());
    let facets = facets(policies, &text, &query, sort, &results.facets);
    let shown = rows.len();
    Ok(render(
        StatusCode::OK,
        &SearchPage {
            frame,
            previous: (offset > 0)
                .then(|| search_link(&text, sort, offset.saturating_sub(PER_PAGE))),
            next: (offset + shown < results.total)
                .then(|| search_link(&text, sort, offset + shown)),
            query: text,
            error: None,
            sorts,
            total: results.total,
            first: if shown == 0 { 0 } else { offset + 1 },
            last: offset + shown,
            rows,
            facets,
        },
    ))
}

fn row(policies: &entente_labels::PolicySet, h: &Hit) -> Row {
    Row {
        link: object_link(&h.collection, &h.id),
        name: h.name.clone(),
        kind: h.kind.clone(),
        originator: h.originator.clone(),
        label_class: label_class_of_text(policies, &h.label),
        label: h.label.clone(),
        added: format_time(h.added_us),
        warnings: h.warnings.iter().map(WarnedView::of).collect(),
    }
}

fn facets(
    policies: &entente_labels::PolicySet,
    text: &str,
    query: &Query,
    sort: Sort,
    found: &Facets,
) -> Vec<Facet> {
    let link = |q: String| search_link(&q, sort, 0);
    let types = found
        .types
        .iter()
        .map(|(value, &count)| {
            let selected = query.types.iter().any(|t| t.eq_ignore_ascii_case(value));
            FacetValue {
                link: link(if selected {
                    terms::without(text, "type", value)
                } else {
                    terms::with(text, "type", value, &[])
                }),
                value: value.clone(),
                count,
                selected,
                label_class: "",
            }
        })
        .collect();
    let originators = found
        .originators
        .iter()
        .map(|(value, &count)| {
            let selected = query
                .originators
                .iter()
                .any(|o| o.eq_ignore_ascii_case(value));
            FacetValue {
                link: link(if selected {
                    terms::without(text, "originator", value)
                } else {
                    terms::with(text, "originator", value, &[])
                }),
                value: value.clone(),
                count,
                selected,
                label_class: "",
            }
        })
        .collect();
    let labels = found
        .labels
        .iter()
        .map(|(value, &count)| {
            let lower = value.to_lowercase();
            let selected = query.labels.contains(&lower);
            // `label:` matches labels that hold its text: the labels among the results that
            // hold this one are excluded, so that the link finds the objects counted here.
            let longer: Vec<&str> = found
                .labels
                .keys()
                .filter(|other| *other != value && other.to_lowercase().contains(&lower))
                .map(String::as_str)
                .collect();
            FacetValue {
                link: link(if selected {
                    terms::without(text, "label", value)
                } else {
                    terms::with(text, "label", value, &longer)
                }),
                label_class: label_class_of_text(policies, value),
                value: value.clone(),
                count,
                selected,
            }
        })
        .collect();
    vec![
        Facet {
            title: "Type",
            field: "type",
            values: types,
        },
        Facet {
            title: "Originator",
            field: "originator",
            values: originators,
        },
        Facet {
            title: "Label",
            field: "label",
            values: labels,
        },
    ]
}

/// Editing a query's text term by term, as the facets do.
pub mod terms {
    /// The terms of a query as typed, quoted texts whole (`-` and quotes kept).
    pub fn split(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut term = String::new();
        let mut quoted = false;
        for c in text.chars() {
            if c.is_whitespace() && !quoted {
                if !term.is_empty() {
                    out.push(std::mem::take(&mut term));
                }
                continue;
            }
            if c == '"' {
                quoted = !quoted;
            }
            term.push(c);
        }
        if !term.is_empty() {
            out.push(term);
        }
        out
    }

    /// A `field:value` term, the value quoted when it holds a space.
    pub fn term(field: &str, value: &str) -> String {
        if value.chars().any(char::is_whitespace) {
            format!("{field}:\"{value}\"")
        } else {
            format!("{field}:{value}")
        }
    }

    /// A term's field (lower case) and value (unquoted), and whether it is excluded.
    fn field_of(term: &str) -> Option<(bool, String, &str)> {
        let (negated, rest) = match term.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, term),
        };
        if rest.starts_with('"') {
            return None;
        }
        let (field, value) = rest.split_once(':')?;
        Some((negated, field.to_ascii_lowercase(), value.trim_matches('"')))
    }

    /// The query with `field:value` added, and `-field:other` for each of `excluded`.
    pub fn with(text: &str, field: &str, value: &str, excluded: &[&str]) -> String {
        let mut out = split(text);
        out.push(term(field, value));
        for other in excluded {
            let t = format!("-{}", term(field, other));
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out.join(" ")
    }

    /// The query without its `field:value` terms (case aside); for a label, without the
    /// exclusions of the labels that hold it too ([`with`] added them).
    pub fn without(text: &str, field: &str, value: &str) -> String {
        let lower = value.to_lowercase();
        split(text)
            .into_iter()
            .filter(|t| match field_of(t) {
                Some((false, f, v)) => !(f == field && v.to_lowercase() == lower),
                Some((true, f, v)) => {
                    !(f == field && field == "label" && v.to_lowercase().contains(&lower))
                }
                None => true,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests;
