//! The search routes under `/api/search/`: JSON over the caller's search view.

use std::sync::Arc;

use axum::extract::{Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entente_search::{CorrelationOptions, Observable, Query, Sort};
use serde::Deserialize;
use serde_json::json;

use crate::auth::authenticate;
use crate::error::{NodeError, NodeErrorKind};
use crate::Node;

/// Results per page when the request names none, and at most.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1_000;
/// Objects a graph holds at most.
pub const GRAPH_NODES: usize = 200;

fn bad(message: impl Into<String>) -> NodeError {
    NodeError::new(NodeErrorKind::BadRequest, message)
}

/// A parameter that must be a whole number, when given.
fn number(name: &str, text: Option<&str>) -> Result<Option<usize>, NodeError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            t.parse()
                .map_err(|_| bad(format!("{name} {t:?}: not a whole number")))
        })
        .transpose()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// The query: words, `"quoted text"`, `type:`, `label:`, `originator:`, `added:` (a day,
    /// month or year, or a range `A..B`, `>=A`, `<B`), `value:` (an observable value) and
    /// bare values; `-` before a term excludes it.
    #[serde(default)]
    q: String,
    /// `relevance` (default), `newest`, `oldest`, `name`, `type` or `originator`.
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    /// At most 1000 (default 50).
    #[serde(default)]
    limit: Option<String>,
}

/// Search the objects the caller may read.
///
/// Results, their number and the facets (by type, originator and label) are computed over
/// the latest versions released to the caller in the collections it may read, and nothing
/// else. Each result names its values on a warning list.
#[utoipa::path(
    get,
    path = "/api/search/",
    tag = "node",
    operation_id = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "`{query, sort, total, offset, hits: [{collection, id, type, name, originator, label, added_us, warnings: [{value, lists}]}], facets: {types, originators, labels}}`", body = Object, content_type = "application/json"),
        (status = 400, description = "The query could not be read; the message names the term.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn search(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<SearchParams>,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let query = Query::parse(&params.q).map_err(|e| bad(e.to_string()))?;
    let sort = match params.sort.as_deref() {
        None | Some("") => Sort::default(),
        Some(s) => Sort::parse(s).ok_or_else(|| {
            bad(format!(
                "sort {s:?}: not one of relevance, newest, oldest, name, type, originator"
            ))
        })?,
    };
    let offset = number("offset", params.offset.as_deref())?.unwrap_or(0);
    let limit = number("limit", params.limit.as_deref())?
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let view = node.search_view(&user, crate::clock::today()).await?;
    let results = view.search(&query, sort, offset, limit);
    Ok(crate::json::answer(
        StatusCode::OK,
        &json!({
            "query": params.q,
            "sort": sort.as_str(),
            "offset": offset,
            "total": results.total,
            "hits": results.hits,
            "facets": results.facets,
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CorrelateParams {
    /// An observable value: an address or network, a domain, a URL, an e-mail address, a
    /// file hash, a MAC address, an AS number (`AS64500`) or a CVE id.
    #[serde(default)]
    value: Option<String>,
    /// An object's id: correlate every value it names.
    #[serde(default)]
    id: Option<String>,
    /// Use values on a warning list too (by default they link nothing).
    #[serde(default)]
    include_warned: bool,
}

/// Objects sharing a value with a value or an object.
///
/// Exact and related values: an address inside a network, a domain and its subdomains, URLs
/// that differ only in path or query, the same file by any of its hashes. Computed over what
/// the caller may read only; an object the caller may not read is answered as absent.
#[utoipa::path(
    get,
    path = "/api/search/correlate",
    tag = "node",
    operation_id = "correlate",
    params(CorrelateParams),
    responses(
        (status = 200, description = "`{values, ignored: [{value, lists}], objects: [{collection, id, type, name, originator, label, through: [{asked, value, relation}]}]}`", body = Object, content_type = "application/json"),
        (status = 400, description = "Neither or both of value and id, or a value that is no observable.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No object of that id is in the caller's view.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn correlate(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<CorrelateParams>,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let options = CorrelationOptions {
        include_warned: params.include_warned,
    };
    let view = node.search_view(&user, crate::clock::today()).await?;
    let found = match (params.value.as_deref(), params.id.as_deref()) {
        (Some(value), None) => {
            let value = Observable::guess(value)
                .ok_or_else(|| bad(format!("value {value:?}: not an address, network, domain, URL, e-mail address, hash, MAC address, AS number or CVE id")))?;
            view.correlate_value(&value, options)
        }
        (None, Some(id)) => view
            .correlate_object(id, options)
            .ok_or_else(|| NodeError::new(NodeErrorKind::NotFound, format!("no object {id:?}")))?,
        _ => return Err(bad("give either value or id")),
    };
    Ok(crate::json::answer(StatusCode::OK, &found))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GraphParams {
    /// The object at the centre.
    #[serde(default)]
    id: Option<String>,
    /// 1 or 2 (default 2).
    #[serde(default)]
    hops: Option<String>,
}

/// The objects around one, and the references between them.
///
/// Relationships, sightings and `*_ref(s)` properties, one or two hops out, between objects
/// the caller may read (at most 200 objects, nearest first).
#[utoipa::path(
    get,
    path = "/api/search/graph",
    tag = "node",
    operation_id = "graph",
    params(GraphParams),
    responses(
        (status = 200, description = "`{nodes: [{id, type, name, originator, distance}], edges: [{source, target, label, via}], truncated}`", body = Object, content_type = "application/json"),
        (status = 400, description = "No id, or hops is not 1 or 2.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No object of that id is in the caller's view.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn graph(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<GraphParams>,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let id = params.id.ok_or_else(|| bad("give the id of an object"))?;
    let hops = number("hops", params.hops.as_deref())?.unwrap_or(2);
    if !(1..=2).contains(&hops) {
        return Err(bad(format!("hops {hops}: 1 or 2")));
    }
    let view = node.search_view(&user, crate::clock::today()).await?;
    let graph = view
        .graph(&id, hops, GRAPH_NODES)
        .ok_or_else(|| NodeError::new(NodeErrorKind::NotFound, format!("no object {id:?}")))?;
    Ok(crate::json::answer(StatusCode::OK, &graph))
}

/// What a bundle's indicators and observations meet in the caller's view.
///
/// The body is a STIX bundle (or `{"objects": [...]}`). Its indicators' STIX patterns are
/// matched against the observed data and cyber-observable objects the caller may read, and the
/// indicators the caller may read are matched against the bundle's observed data and
/// cyber-observable objects, with the semantics of OASIS's stix2-matcher (observation operators
/// and qualifiers included). Nothing is stored.
#[utoipa::path(
    post,
    path = "/api/search/match",
    tag = "node",
    operation_id = "match",
    request_body(content = Object, description = "A STIX bundle.", content_type = "application/json"),
    responses(
        (status = 200, description = "`{bundle_indicators: [{indicator, name, observations}], held_indicators: [...], problems: [\"id: reason\"]}`", body = Object, content_type = "application/json"),
        (status = 400, description = "The body is not a JSON object with a list of objects.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 413, description = "The body is larger than the node accepts.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn match_bundle(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    if body.len() as u64 > node.config.max_content_length {
        return Err(NodeError::new(
            NodeErrorKind::TooLarge,
            format!(
                "the body is larger than {} bytes",
                node.config.max_content_length
            ),
        ));
    }
    let bundle: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let objects = bundle
        .get("objects")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("the body has no list \"objects\""))?;
    let view = node.search_view(&user, crate::clock::today()).await?;
    Ok(crate::json::answer(
        StatusCode::OK,
        &view.match_bundle(objects),
    ))
}
