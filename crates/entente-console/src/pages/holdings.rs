//! Holdings: a paged table of the objects the reader may see (type, name, originator, banner
//! label, whole or tear-lined, date added), filtered, sorted and paged from the reader's index
//! ([`crate::holdings`]). An htmx request gets the table alone.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{encode, format_time, object_link, render, Frame};
use crate::banner::Banner;
use crate::error::PageError;
use crate::holdings::{Filter, Holding, Page, Sort, SortKey};
use crate::session::SignedIn;
use crate::Console;

/// Rows per page.
pub const PER_PAGE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    originator: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    page: Option<usize>,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl Params {
    fn filter(&self) -> Result<Filter, PageError> {
        let day = |text: &str, field: &str| -> Result<Option<entente_types::Date>, PageError> {
            match non_empty(text) {
                None => Ok(None),
                Some(t) => entente_types::parse_date(&t)
                    .map(Some)
                    .map_err(|e| PageError::bad_request(format!("{field}: {e}"))),
            }
        };
        Ok(Filter {
            kind: non_empty(&self.kind),
            originator: non_empty(&self.originator),
            label: non_empty(&self.label),
            from: day(&self.from, "from")?,
            to: day(&self.to, "to")?,
        })
    }

    fn sort(&self) -> Sort {
        let key = SortKey::parse(&self.sort).unwrap_or(SortKey::Added);
        Sort {
            key,
            descending: match self.dir.as_str() {
                "asc" => false,
                "desc" => true,
                _ => key == SortKey::Added,
            },
        }
    }

    /// This query with another sort or page, as a link.
    fn link(&self, sort: Option<Sort>, page: usize) -> String {
        let sort = sort.unwrap_or_else(|| self.sort());
        let mut q = vec![
            ("type", self.kind.as_str()),
            ("originator", self.originator.as_str()),
            ("label", self.label.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ];
        q.retain(|(_, v)| !v.trim().is_empty());
        let mut text: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v.trim())))
            .collect();
        text.push(format!("sort={}", sort.key.as_str()));
        text.push(format!(
            "dir={}",
            if sort.descending { "desc" } else { "asc" }
        ));
        if page > 0 {
            text.push(format!("page={page}"));
        }
        format!("{}/holdings?{}", crate::BASE, text.join("&"))
    }
}

/// A row as the table shows it.
pub struct Row {
    pub link: String,
    pub kind: String,
    pub name: String,
    pub originator: String,
    pub label: String,
    pub label_class: &'static str,
    pub tear_lined: bool,
    /// Received from the originator's node: the copy is what it released to this nation.
    pub received: bool,
    /// The originator tear-lined the copy it sent (its signed binding says so).
    pub cut_by_origin: bool,
    pub added: String,
}

impl Row {
    fn of(h: &Holding, here: entente_types::NationCode, cut_by_origin: bool) -> Row {
        Row {
            received: h.originator != here,
            cut_by_origin,
            link: object_link(&h.collection, &h.id),
            kind: h.kind.clone(),
            name: h.name.clone(),
            originator: h.originator.as_str().to_owned(),
            label: h.label_text.to_string(),
            label_class: h.label_class,
            tear_lined: h.tear_lined,
            added: format_time(h.added_us),
        }
    }
}

/// A column header: its text and the link that sorts by it.
pub struct Column {
    pub text: &'static str,
    pub link: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria_sort: &'static str,
}

/// A choice of a filter's select.
pub struct Choice {
    pub value: String,
    pub count: usize,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "holdings.html")]
struct HoldingsPage {
    frame: Frame,
    table: Table,
    kinds: Vec<Choice>,
    originators: Vec<Choice>,
    labels: Vec<Choice>,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "holdings_table.html")]
struct Table {
    rows: Vec<Row>,
    columns: Vec<Column>,
    total: usize,
    first: usize,
    last: usize,
    previous: Option<String>,
    next: Option<String>,
    held: usize,
    /// The banner of the rows, for the banners outside the table (updated with it).
    banner: Banner,
    /// Sent alone (htmx): the banners go out of band.
    oob: bool,
}

fn choices(counts: &std::collections::BTreeMap<String, usize>, selected: &str) -> Vec<Choice> {
    counts
        .iter()
        .map(|(value, count)| Choice {
            selected: value == selected.trim(),
            value: value.clone(),
            count: *count,
        })
        .collect()
}

/// `GET /console/holdings`.
pub async fn page(
    State(console): State<Arc<Console>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let filter = params.filter()?;
    let sort = params.sort();
    let page_number = params.page.unwrap_or(0);
    let reader = &signed_in.session.reader;
    let index = console
        .holdings
        .of(&console.node, reader, entente_node::clock::today())
        .await?;
    let Page {
        rows,
        total,
        facets,
    } = index.query(&filter, sort, page_number, PER_PAGE);
    let policy = console.node.release_policy();
    // The banner covers every label the page names: the rows' and the label filter's choices.
    let banner = Banner::of(
        policy,
        rows.iter()
            .filter_map(|h| h.label.as_ref())
            .chain(facets.label_values.values()),
    );
    let columns = [
        ("Type", SortKey::Kind),
        ("Name", SortKey::Name),
        ("Originator", SortKey::Originator),
        ("Label", SortKey::Label),
        ("Added", SortKey::Added),
    ]
    .into_iter()
    .map(|(text, key)| {
        let current = sort.key == key;
        let descending = if current {
            !sort.descending
        } else {
            key == SortKey::Added
        };
        Column {
            text,
            link: params.link(Some(Sort { key, descending }), 0),
            aria_sort: match (current, sort.descending) {
                (false, _) => "none",
                (true, true) => "descending",
                (true, false) => "ascending",
            },
        }
    })
    .collect();
    // Only the rows shown are asked whether their originator cut them (one binding each).
    let here = console.node.config().nation;
    let mut shown = Vec::with_capacity(rows.len());
    for h in &rows {
        let cut = h.originator != here
            && (console.node)
                .cut_by_origin(&h.collection, &h.id, &h.version_key)
                .await?;
        shown.push(Row::of(h, here, cut));
    }
    let first = page_number * PER_PAGE;
    let table = Table {
        columns,
        total,
        first: if rows.is_empty() { 0 } else { first + 1 },
        last: first + rows.len(),
        previous: (page_number > 0).then(|| params.link(None, page_number - 1)),
        next: (first + rows.len() < total).then(|| params.link(None, page_number + 1)),
        held: index.len(),
        rows: shown,
        banner: banner.clone(),
        oob: false,
    };
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return Ok(render(StatusCode::OK, &Table { oob: true, ..table }));
    }
    let mut frame = Frame::new(&console, &signed_in, "Holdings", "holdings");
    frame.banner = banner;
    Ok(render(
        StatusCode::OK,
        &HoldingsPage {
            frame,
            kinds: choices(&facets.kinds, &params.kind),
            originators: choices(&facets.originators, &params.originator),
            labels: choices(&facets.labels, &params.label),
            from: params.from.trim().to_owned(),
            to: params.to.trim().to_owned(),
            table,
        },
    ))
}
