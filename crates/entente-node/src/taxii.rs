//! The TAXII 2.1 routes. Handlers parse the request, ask the store, release each object through
//! [`Access`](crate::access::Access) and serialize what it returned; they never pick a status
//! code themselves (errors go through `error::status_of`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use entente_labels::Label;
use entente_policy::KindRule;
use entente_stix::taxii::{
    ApiRoot, Collection, Collections, Discovery, Manifest, ManifestRecord, Status, StatusState,
    Versions,
};
use entente_stix::{validate_object, Timestamp};
use entente_store::{
    format_added, AddRequest, CollectionRight, NewObject, ObjectQuery, PendingObject, Settled,
    StatusDetail, StatusRecord, StoredObject, User, VersionFilter,
};
use entente_types::{Date, NationCode};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use crate::access::{
    label_of_marking, marking_ref_strs, row_key, write_relabelled, ByMarkings, IngestLabel,
    ReleaseKey, RowKey, Spans,
};
use crate::auth::authenticate;
use crate::body::{PieceWriter, Pieces};
use crate::clock;
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::pages::CachedPage;
use crate::spread::{on_all_cores, on_cores, Grain};
use crate::{Node, MEDIA_TYPE_STIX, MEDIA_TYPE_TAXII};

type Shared = State<Arc<Node>>;
type Params = Query<Vec<(String, String)>>;

const API_ROOT: &str = "/api/";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;
const DATE_FIRST: &str = "x-taxii-date-added-first";
const DATE_LAST: &str = "x-taxii-date-added-last";

pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/api/", get(api_root))
        .route("/api/status/{id}/", get(status))
        .route("/api/collections/", get(collections))
        .route("/api/collections/{cid}/", get(collection))
        .route(
            "/api/collections/{cid}/objects/",
            get(get_objects).post(post_objects),
        )
        .route(
            "/api/collections/{cid}/objects/{oid}/",
            get(get_object).delete(delete_object),
        )
        .route(
            "/api/collections/{cid}/objects/{oid}/versions/",
            get(versions),
        )
        .route("/api/collections/{cid}/manifest/", get(manifest))
        .merge(crate::openapi::public_routes().split_for_parts().0)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(node.clone(), observe))
        .with_state(node)
}

/// One span per request; counts answers by class.
async fn observe(State(node): Shared, request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = std::time::Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let m = &node.metrics;
    m.answer_seconds.observe(started.elapsed().as_secs_f64());
    Metrics::add(&m.requests, 1);
    let status = response.status();
    if status.is_client_error() {
        Metrics::add(&m.client_errors, 1);
    } else if status.is_server_error() {
        Metrics::add(&m.server_errors, 1);
    }
    span.in_scope(|| tracing::debug!(status = status.as_u16(), "answered"));
    response
}

fn error(kind: NodeErrorKind, message: impl Into<String>) -> NodeError {
    NodeError::new(kind, message)
}

/// A TAXII JSON answer.
fn taxii<T: Serialize>(status: StatusCode, body: &T, headers: &[(&str, String)]) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return error(NodeErrorKind::Internal, e.to_string()).into_response(),
    };
    let mut response = (status, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_TAXII),
    );
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    response
}

/// Whether a media type (with parameters) is TAXII 2.1 JSON.
fn is_taxii_media(text: &str) -> bool {
    let mut parts = text.split(';').map(|p| p.trim().to_ascii_lowercase());
    if parts.next().as_deref() != Some("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some(("version", v)) => v.trim_matches('"') == "2.1",
        _ => true,
    })
}

fn acceptable(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::ACCEPT) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    text.split(',').any(|item| {
        let media = item.split(';').next().unwrap_or("").trim();
        media == "*/*" || media == "application/*" || is_taxii_media(item)
    })
}

/// The authenticated user, when the request accepts TAXII answers.
async fn caller(node: &Node, headers: &HeaderMap) -> Result<User, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, headers).await?;
    if !acceptable(headers) {
        return Err(error(
            NodeErrorKind::NotAcceptable,
            format!("this server answers {MEDIA_TYPE_TAXII}"),
        ));
    }
    Ok(user)
}

/// Whether collection `cid` exists: from the ids already seen, else from the store.
async fn collection_exists(node: &Node, cid: &str) -> Result<bool, NodeError> {
    if node
        .known_collections
        .read()
        .is_ok_and(|known| known.contains(cid))
    {
        return Ok(true);
    }
    let all = node.store.collections().await?;
    let exists = all.iter().any(|c| c.id == cid);
    if let Ok(mut known) = node.known_collections.write() {
        known.extend(all.into_iter().map(|c| c.id));
    }
    Ok(exists)
}

/// The user's rights on a collection that exists; a collection the user has no right on does
/// not exist for them (404).
async fn right(
    node: &Node,
    user: &User,
    cid: &str,
    write: bool,
) -> Result<CollectionRight, NodeError> {
    let not_found = || error(NodeErrorKind::NotFound, format!("no collection {cid:?}"));
    let right = user
        .right(cid)
        .filter(|r| r.read || r.write)
        .cloned()
        .ok_or_else(not_found)?;
    if !collection_exists(node, cid).await? {
        return Err(not_found());
    }
    if write && !right.write {
        return Err(error(
            NodeErrorKind::Forbidden,
            format!("no write access to collection {cid:?}"),
        ));
    }
    if !write && !right.read {
        return Err(error(
            NodeErrorKind::Forbidden,
            format!("no read access to collection {cid:?}"),
        ));
    }
    Ok(right)
}

async fn discovery(State(node): Shared, headers: HeaderMap) -> Result<Response, NodeError> {
    caller(&node, &headers).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("{}://{h}{API_ROOT}", node.scheme()))
        .unwrap_or_else(|| API_ROOT.to_owned());
    let body = Discovery {
        title: node.config.title.clone(),
        description: Some(format!(
            "national node of {}: STIX 2.1 objects released by label",
            node.config.nation
        )),
        contact: None,
        default: Some(host.clone()),
        api_roots: vec![host],
    };
    Ok(taxii(StatusCode::OK, &body, &[]))
}

async fn api_root(State(node): Shared, headers: HeaderMap) -> Result<Response, NodeError> {
    caller(&node, &headers).await?;
    let body = ApiRoot {
        title: node.config.title.clone(),
        description: None,
        versions: vec![MEDIA_TYPE_TAXII.to_owned()],
        max_content_length: node.config.max_content_length,
    };
    Ok(taxii(StatusCode::OK, &body, &[]))
}

fn status_body(s: &StatusRecord) -> Status {
    let details = |list: &[StatusDetail]| {
        list.iter()
            .map(|d| entente_stix::taxii::StatusDetails {
                id: d.id.clone(),
                version: d.version.clone(),
                message: d.message.clone(),
            })
            .collect::<Vec<_>>()
    };
    Status {
        id: s.id.clone(),
        status: if s.pendings.is_empty() {
            StatusState::Complete
        } else {
            StatusState::Pending
        },
        request_timestamp: Some(format_added(s.request_us)),
        total_count: (s.successes.len() + s.failures.len() + s.pendings.len()) as u64,
        success_count: s.successes.len() as u64,
        successes: details(&s.successes),
        failure_count: s.failures.len() as u64,
        failures: details(&s.failures),
        pending_count: s.pendings.len() as u64,
        pendings: details(&s.pendings),
    }
}

async fn status(
    State(node): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    // A status names the objects of one request: only the user who posted it may read it.
    match node.store.status(&id).await? {
        Some(s) if s.owner == user.name => Ok(taxii(StatusCode::OK, &status_body(&s), &[])),
        _ => Err(error(NodeErrorKind::NotFound, format!("no status {id:?}"))),
    }
}

fn collection_body(c: &entente_store::CollectionInfo, r: &CollectionRight) -> Collection {
    Collection {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        alias: None,
        can_read: r.read,
        can_write: r.write,
        media_types: vec![MEDIA_TYPE_STIX.to_owned()],
    }
}

async fn collections(State(node): Shared, headers: HeaderMap) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    let list = node
        .store
        .collections()
        .await?
        .iter()
        .filter_map(|c| {
            user.right(&c.id)
                .filter(|r| r.read || r.write)
                .map(|r| collection_body(c, r))
        })
        .collect();
    Ok(taxii(
        StatusCode::OK,
        &Collections { collections: list },
        &[],
    ))
}

async fn collection(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    let not_found = || error(NodeErrorKind::NotFound, format!("no collection {cid:?}"));
    let r = user
        .right(&cid)
        .filter(|r| r.read || r.write)
        .ok_or_else(not_found)?;
    let all = node.store.collections().await?;
    let c = all.iter().find(|c| c.id == cid).ok_or_else(not_found)?;
    Ok(taxii(StatusCode::OK, &collection_body(c, r), &[]))
}

/// The TAXII filters of a request.
#[derive(Debug)]
struct Filters {
    added_after_us: Option<i64>,
    limit: usize,
    next: i64,
    ids: Vec<String>,
    kinds: Vec<String>,
    spec_versions: Vec<String>,
    versions: VersionFilter,
}

fn bad(message: String) -> NodeError {
    error(NodeErrorKind::BadRequest, message)
}

fn parse_filters(
    params: &[(String, String)],
    default: VersionFilter,
) -> Result<Filters, NodeError> {
    let mut f = Filters {
        added_after_us: None,
        limit: DEFAULT_LIMIT,
        next: 0,
        ids: Vec::new(),
        kinds: Vec::new(),
        spec_versions: Vec::new(),
        versions: default,
    };
    let mut versions: Option<VersionFilter> = None;
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, value) in params {
        match key.as_str() {
            "added_after" => {
                let t = Timestamp::parse(value).map_err(|e| bad(format!("added_after: {e}")))?;
                f.added_after_us = Some(t.instant().timestamp_micros());
            }
            "limit" => {
                let n: usize =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        bad(format!("limit: {value:?} is not a positive integer"))
                    })?;
                f.limit = n.min(MAX_LIMIT);
            }
            "next" => {
                f.next = value
                    .parse()
                    .ok()
                    .filter(|n: &i64| *n >= 0)
                    .ok_or_else(|| bad(format!("next: {value:?} is not a token of this server")))?;
            }
            "match[id]" => f.ids.extend(list(value)),
            "match[type]" => f.kinds.extend(list(value)),
            "match[spec_version]" => f.spec_versions.extend(list(value)),
            "match[version]" => {
                let v = versions.get_or_insert_with(VersionFilter::default);
                for item in list(value) {
                    match item.as_str() {
                        "first" => v.first = true,
                        "last" => v.last = true,
                        "all" => v.all = true,
                        t => {
                            let t = Timestamp::parse(t)
                                .map_err(|e| bad(format!("match[version]: {e}")))?;
                            v.keys.push(t.key());
                        }
                    }
                }
            }
            // Unknown parameters are ignored, as TAXII asks.
            _ => {}
        }
    }
    if let Some(v) = versions {
        f.versions = v;
    }
    Ok(f)
}

/// What a page of released objects was: how many, whether more remain, and the first and last
/// served versions (for the date headers and the `next` token).
#[derive(Default)]
struct PageInfo {
    count: usize,
    more: bool,
    /// `(seq, added_us)` of the first and of the last object served.
    first: Option<(i64, i64)>,
    last: Option<(i64, i64)>,
    /// Versions skipped because the user may not see them.
    withheld: u64,
}

impl PageInfo {
    fn date_headers(&self) -> Vec<(&'static str, String)> {
        match (self.first, self.last) {
            (Some((_, f)), Some((_, l))) => {
                vec![(DATE_FIRST, format_added(f)), (DATE_LAST, format_added(l))]
            }
            _ => Vec::new(),
        }
    }

    fn next(&self) -> Option<String> {
        self.more
            .then(|| self.last.map(|(seq, _)| seq.to_string()))
            .flatten()
    }
}

/// A released object as it is served: its stored text when released unchanged, else the copy
/// the release path returned.
enum Served<'a> {
    Stored(&'a str),
    /// The stored text under the markings of a relabelled copy ([`write_relabelled`]).
    Relabelled {
        json: &'a str,
        spans: Spans,
        refs: Arc<str>,
        portions: Option<Arc<str>>,
    },
    /// A released copy, as JSON text.
    Text(Arc<str>),
}

/// A stored object read as far as its release needs.
enum Parsed {
    /// Released on its markings alone (unless portions are cut).
    ByMarkings(Arc<RowKey>),
    Whole(Value),
    Unreadable,
}

impl Parsed {
    /// Reads `o` on its row key ([`row_key`]), or whole when it has none.
    fn read(o: &StoredObject, key: Option<Arc<RowKey>>) -> Parsed {
        if let Some(key) = key {
            return Parsed::ByMarkings(key);
        }
        match serde_json::from_str(&o.json) {
            Ok(v) => Parsed::Whole(v),
            Err(e) => {
                tracing::error!(object_id = %o.id, error = %e, "stored object is not JSON");
                Parsed::Unreadable
            }
        }
    }

    fn marking_ids(&self) -> Box<dyn Iterator<Item = &str> + Send + '_> {
        match self {
            Parsed::ByMarkings(row) => Box::new(row.key.marking_ids()),
            Parsed::Whole(v) => Box::new(marking_ref_strs(v)),
            Parsed::Unreadable => Box::new(std::iter::empty()),
        }
    }
}

/// The release of one stored object to the reader of a page.
enum Outcome<'a> {
    Served(Served<'a>, Arc<[Arc<Value>]>),
    Withheld,
}

/// The next page of objects `user` may see: each released copy goes to `emit` as soon as it is
/// decided, in `seq` order, so a page is never held as a list of values. Versions the user may
/// not see are skipped as if absent: they shape neither the page, nor `more`, nor `next`.
async fn visible(
    node: &Node,
    user: &User,
    cid: &str,
    f: &Filters,
    emit: impl FnMut(&StoredObject, Served<'_>) + Send,
) -> Result<PageInfo, NodeError> {
    visible_on(node, user, cid, f, clock::today(), emit).await
}

impl Node {
    /// The latest version of every object of collection `cid` that `user` may read on `day`,
    /// released by the read path of TAXII's `GET …/objects/` (its shared decisions and copies
    /// included), for readers other than HTTP clients.
    pub async fn readable_objects(
        &self,
        user: &User,
        cid: &str,
        day: Date,
    ) -> Result<Vec<Value>, NodeError> {
        let mut f = parse_filters(&[], VersionFilter::last())?;
        f.limit = MAX_LIMIT;
        let mut objects = Vec::new();
        loop {
            let mut envelope = EnvelopeWriter::new();
            let info = visible_on(self, user, cid, &f, day, |_, copy| {
                envelope.push_served(&copy)
            })
            .await?;
            let body = envelope.finish(&info)?.to_vec();
            let page: entente_stix::taxii::Envelope = serde_json::from_slice(&body)
                .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
            objects.extend(page.objects);
            match page.next.and_then(|n| n.parse::<i64>().ok()) {
                Some(next) if page.more => f.next = next,
                _ => return Ok(objects),
            }
        }
    }
}

/// [`visible`] on a given day.
async fn visible_on(
    node: &Node,
    user: &User,
    cid: &str,
    f: &Filters,
    day: Date,
    mut emit: impl FnMut(&StoredObject, Served<'_>) + Send,
) -> Result<PageInfo, NodeError> {
    let mut info = PageInfo::default();
    let mut after = f.next;
    let mut withheld = 0u64;
    let in_flight = InFlight::enter(&node.reads_in_flight);
    // Rows are read in chunks, the next one while this one is released (the store's read and the
    // release each take about half of a page's work). A chunk is asked for as soon as it is sure
    // to be needed: when even releasing every row so far would leave the page short.
    let query = |after_seq: i64, rows: usize| ObjectQuery {
        after_seq,
        added_after_us: f.added_after_us,
        ids: f.ids.clone(),
        kinds: f.kinds.clone(),
        spec_versions: f.spec_versions.clone(),
        versions: f.versions.clone(),
        limit: rows.clamp(MIN_CHUNK, MAX_CHUNK),
    };
    let read = |q: ObjectQuery| {
        let (store, cid) = (node.store.clone(), cid.to_owned());
        tokio::spawn(async move { store.objects(&cid, &q).await })
    };
    // Banners published during this read, and how many had been when each read was asked for:
    // a read asked for before the last publication may miss its banners.
    let mut publications = 0u64;
    let mut pending = Some((read(query(after, f.limit + 1)), publications));
    loop {
        let (handle, asked_at) = match pending.take() {
            Some(p) => p,
            None => (read(query(after, f.limit + 1 - info.count)), publications),
        };
        let page = handle
            .await
            .map_err(|e| error(NodeErrorKind::Internal, format!("store read failed: {e}")))??;
        if page.more {
            // Rows this chunk can fill at most; the next chunk is needed if they fall short.
            let short = (f.limit + 1).saturating_sub(info.count + page.objects.len());
            if let (true, Some(last)) = (short > 0, page.objects.last()) {
                pending = Some((read(query(last.seq, short)), publications));
                // Let the read start (a task spawned here waits in this worker's slot for the
                // next task, which the release below would hold for its whole run).
                tokio::task::yield_now().await;
            }
        }
        let kept = node
            .access
            .row_keys
            .kept(page.objects.iter().map(|o| o.seq));
        let rows: Vec<_> = page.objects.iter().zip(kept).collect();
        // Asked once per chunk: a page read alone spreads its chunks over the cores.
        let spread = in_flight.alone();
        // Each row on its kept key, or on its key read now (returned to be kept).
        let read = on_cores(
            spread,
            Grain::Fine,
            rows,
            || (),
            |_, (o, kept)| match kept {
                Some(key) => (o, Parsed::read(o, key), None),
                None => {
                    let key = row_key(o);
                    (o, Parsed::read(o, key.clone()), Some(key))
                }
            },
        );
        node.access.row_keys.keep(
            read.iter()
                .filter_map(|(o, _, new)| new.as_ref().map(|key| (o.seq, key.clone()))),
        );
        let parsed: Vec<(&StoredObject, Parsed)> =
            read.into_iter().map(|(o, p, _)| (o, p)).collect();
        node.access
            .load_marking_ids(
                node.store.as_ref(),
                parsed.iter().flat_map(|(_, p)| p.marking_ids()),
            )
            .await?;
        // Every object goes through `Access`: objects without portions on the decision for
        // their list of object markings, taken once per list and reader (the memo lives for
        // one batch: decisions depend on the day and on the labels cached, both fixed here);
        // the others through the full release path. Only the work is spread.
        let released = on_cores(
            spread,
            Grain::Fine,
            parsed,
            Decisions::default,
            |memo, (o, p)| {
                let outcome = match p {
                    Parsed::ByMarkings(row) => {
                        let decision = memo.get(o.originator, &row, |key| {
                            node.access
                                .release_by_markings(user, o.originator, key, day)
                        });
                        let spans = &row.spans;
                        match decision {
                            ByMarkings::Unchanged(markings) => {
                                Outcome::Served(Served::Stored(&o.json), markings)
                            }
                            ByMarkings::Relabelled {
                                refs,
                                portions,
                                markings,
                            } if spans.refs.is_some()
                                && (portions.is_none() || spans.portions.is_some()) =>
                            {
                                Outcome::Served(
                                    Served::Relabelled {
                                        json: &o.json,
                                        spans: spans.clone(),
                                        refs,
                                        portions,
                                    },
                                    markings,
                                )
                            }
                            ByMarkings::Withheld => Outcome::Withheld,
                            ByMarkings::Relabelled { .. } | ByMarkings::Rewritten => full_release(
                                node,
                                user,
                                o,
                                || serde_json::from_str(&o.json).ok(),
                                day,
                            ),
                        }
                    }
                    Parsed::Whole(v) => full_release(node, user, o, || Some(v), day),
                    Parsed::Unreadable => Outcome::Withheld,
                };
                (o, outcome)
            },
        );
        let mut derived: Vec<Arc<Value>> = Vec::new();
        let mut full = false;
        for (o, outcome) in released {
            after = o.seq;
            let Outcome::Served(copy, markings) = outcome else {
                withheld += 1;
                continue;
            };
            if info.count == f.limit {
                // One more released object: the page is full and more remain.
                info.more = true;
                full = true;
                break;
            }
            // A page shares few labels: keep one copy of each marking.
            for m in markings.iter() {
                if !derived
                    .iter()
                    .any(|d| Arc::ptr_eq(d, m) || d.get("id") == m.get("id"))
                {
                    derived.push(m.clone());
                }
            }
            info.count += 1;
            info.first.get_or_insert((o.seq, o.added_us));
            info.last = Some((o.seq, o.added_us));
            emit(o, copy);
        }
        // Banners new to the collection are stored before the next page is read; on the last
        // page, read on to serve them with it.
        let published = node
            .access
            .publish(
                node.store.as_ref(),
                cid,
                derived,
                node.config.nation,
                clock::now_us(),
            )
            .await?;
        if published > 0 {
            // A write like any other: shared pages built before it lack these definitions.
            node.notify_changed();
            publications += 1;
        }
        if full || (!page.more && asked_at == publications) {
            break;
        }
    }
    if let Some((handle, _)) = pending {
        // Read ahead for rows the page turned out not to need.
        handle.abort();
    }
    info.withheld = withheld;
    Metrics::add(&node.metrics.objects_withheld, withheld);
    Metrics::add(&node.metrics.objects_served, info.count as u64);
    Ok(info)
}

/// Release decisions by originator and [`ReleaseKey`], taken for one reader on one day (both
/// fixed for a batch, as are the labels cached) and kept for the batch. Neighbouring objects
/// mostly share their markings: the last decision is tried before the map.
#[derive(Default)]
struct Decisions {
    last: Option<(NationCode, Arc<RowKey>, ByMarkings)>,
    map: HashMap<(NationCode, SameKey), ByMarkings, foldhash::fast::RandomState>,
}

/// A row key compared and hashed on its release key alone (rows with equal keys are released
/// alike, wherever their markings are in their texts).
#[derive(Clone)]
struct SameKey(Arc<RowKey>);

impl SameKey {
    fn same(a: &Arc<RowKey>, b: &Arc<RowKey>) -> bool {
        Arc::ptr_eq(a, b) || a.key == b.key
    }
}

impl PartialEq for SameKey {
    fn eq(&self, other: &SameKey) -> bool {
        SameKey::same(&self.0, &other.0)
    }
}

impl Eq for SameKey {}

impl std::hash::Hash for SameKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.key.hash(state);
    }
}

impl Decisions {
    fn get(
        &mut self,
        originator: NationCode,
        row: &Arc<RowKey>,
        decide: impl FnOnce(&ReleaseKey<'static>) -> ByMarkings,
    ) -> ByMarkings {
        if let Some((o, k, d)) = &self.last {
            if *o == originator && SameKey::same(k, row) {
                return d.clone();
            }
        }
        let entry = (originator, SameKey(row.clone()));
        let decision = match self.map.get(&entry) {
            Some(d) => d.clone(),
            None => {
                let d = decide(&row.key);
                self.map.insert(entry, d.clone());
                d
            }
        };
        self.last = Some((originator, row.clone(), decision.clone()));
        decision
    }
}

/// The full release path of one object ([`Access::release_text`]); `object` parses it.
fn full_release<'a>(
    node: &Node,
    user: &User,
    o: &StoredObject,
    object: impl FnOnce() -> Option<Value>,
    day: Date,
) -> Outcome<'a> {
    match node.access.release_text(user, o, object, day) {
        Some((text, markings)) => Outcome::Served(Served::Text(text), markings),
        None => Outcome::Withheld,
    }
}

/// Rows of the store read at once by [`visible`]: fewer than `MIN_CHUNK` is not worth a read
/// when many rows are withheld; `MAX_CHUNK` lets the release of one chunk overlap the read of
/// the next.
const MIN_CHUNK: usize = 100;
const MAX_CHUNK: usize = 256;

/// One page read counted in [`Node::reads_in_flight`] for as long as it lives.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicUsize) -> InFlight<'a> {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InFlight(count)
    }

    /// Whether no other page read is being released.
    fn alone(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed) <= 1
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A TAXII envelope written as its objects are released: `{"objects":[…],"more":…,"next":…}`
/// (`{}` when empty, as the `Envelope` type serializes it), in pieces ([`crate::body`]).
struct EnvelopeWriter {
    body: PieceWriter,
    objects: usize,
    failed: Option<serde_json::Error>,
}

impl EnvelopeWriter {
    fn new() -> EnvelopeWriter {
        let mut body = PieceWriter::new();
        body.buffer().extend_from_slice(br#"{"objects":["#);
        EnvelopeWriter {
            body,
            objects: 0,
            failed: None,
        }
    }

    /// An object as served: stored text (valid JSON, checked when it was read) is copied as is.
    fn push_served(&mut self, object: &Served<'_>) {
        match object {
            Served::Stored(json) => {
                self.separate();
                self.body.buffer().extend_from_slice(json.as_bytes());
                self.body.written();
            }
            Served::Relabelled {
                json,
                spans,
                refs,
                portions,
            } => {
                self.separate();
                let out = self.body.buffer();
                let at = out.len();
                if !write_relabelled(out, json, spans, refs, portions.as_deref()) {
                    // The spans were read from this text: a missing one is a bug, not input.
                    out.truncate(at);
                    self.failed.get_or_insert(serde::ser::Error::custom(
                        "a relabelled object lost its markings",
                    ));
                }
                self.body.written();
            }
            Served::Text(text) => {
                self.separate();
                self.body.buffer().extend_from_slice(text.as_bytes());
                self.body.written();
            }
        }
    }

    fn separate(&mut self) {
        if self.objects > 0 {
            self.body.buffer().push(b',');
        }
        self.objects += 1;
    }

    fn finish(mut self, info: &PageInfo) -> Result<Pieces, NodeError> {
        if let Some(e) = self.failed {
            return Err(error(NodeErrorKind::Internal, e.to_string()));
        }
        if info.count == 0 {
            return Ok(Pieces::from(b"{}".to_vec()));
        }
        let out = self.body.buffer();
        out.push(b']');
        if info.more {
            out.extend_from_slice(br#","more":true"#);
        }
        if let Some(next) = info.next() {
            out.extend_from_slice(br#","next":"#);
            serde_json::to_writer(&mut *out, &next)
                .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
        }
        out.push(b'}');
        Ok(self.body.finish())
    }
}

/// A TAXII answer whose body is already serialized.
fn taxii_bytes(body: Pieces, headers: &[(&str, String)]) -> Response {
    let mut response = (StatusCode::OK, body.into_body()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_TAXII),
    );
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    response
}

async fn get_objects(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::last())?;
    let Some(pages) = &node.pages else {
        let mut envelope = EnvelopeWriter::new();
        let info = visible(&node, &user, &cid, &f, |_, copy| {
            envelope.push_served(&copy)
        })
        .await?;
        return Ok(taxii_bytes(envelope.finish(&info)?, &info.date_headers()));
    };
    // Every input of the release of this page, so that equal keys mean equal bytes (see
    // `pages`); the generation is read before the store is.
    let day = clock::today();
    let key = format!(
        "{}\0{cid}\0{}\0{}\0{}\0{:?}\0{day}\0{f:?}",
        pages.generation(),
        user.nation,
        user.clearance_policy,
        user.clearance_level,
        user.clearance_caveats,
    );
    let cached = |page: Arc<CachedPage>| {
        Metrics::add(&node.metrics.objects_withheld, page.withheld);
        Metrics::add(&node.metrics.objects_served, page.served);
        taxii_bytes(page.body.clone(), &page.headers)
    };
    if let Some(page) = pages.get(&key) {
        return Ok(cached(page));
    }
    // One reader releases the page; the others asking at the same time wait and share it.
    let lock = pages.building(&key);
    let _guard = match &lock {
        Some(l) => Some(l.lock().await),
        None => None,
    };
    // However this request ends (answered, failed or dropped), later readers need not wait.
    let _built = Built(pages, &key);
    if let Some(page) = pages.get(&key) {
        return Ok(cached(page));
    }
    let mut envelope = EnvelopeWriter::new();
    let info = visible_on(&node, &user, &cid, &f, day, |_, copy| {
        envelope.push_served(&copy)
    })
    .await?;
    let page = CachedPage {
        body: envelope.finish(&info)?,
        headers: info.date_headers(),
        served: info.count as u64,
        withheld: info.withheld,
    };
    let waited = lock.as_ref().is_some_and(crate::pages::PageCache::waited);
    if pages.worth_keeping(&key, waited) {
        let response = taxii_bytes(page.body.clone(), &page.headers);
        pages.insert(key.clone(), Arc::new(page));
        return Ok(response);
    }
    Ok(taxii_bytes(page.body, &page.headers))
}

/// Marks page `.1` as no longer being released when dropped.
struct Built<'a>(&'a crate::pages::PageCache, &'a str);

impl Drop for Built<'_> {
    fn drop(&mut self) {
        self.0.built(self.1);
    }
}

async fn get_object(
    State(node): Shared,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let mut f = parse_filters(&params, VersionFilter::last())?;
    f.ids = vec![oid.clone()];
    let mut envelope = EnvelopeWriter::new();
    let info = visible(&node, &user, &cid, &f, |_, copy| {
        envelope.push_served(&copy)
    })
    .await?;
    if info.count == 0 && f.next == 0 {
        // Absent and not releasable look the same.
        return Err(error(NodeErrorKind::NotFound, format!("no object {oid:?}")));
    }
    Ok(taxii_bytes(envelope.finish(&info)?, &info.date_headers()))
}

/// Every version of one object that `user` may see, oldest first.
async fn visible_versions(
    node: &Node,
    user: &User,
    cid: &str,
    oid: &str,
) -> Result<Vec<StoredObject>, NodeError> {
    let day = clock::today();
    let stored = node.store.versions(cid, oid).await?;
    let parsed: Vec<(StoredObject, Value)> = stored
        .into_iter()
        .filter_map(|o| serde_json::from_str(&o.json).ok().map(|v| (o, v)))
        .collect();
    node.access
        .load_markings(node.store.as_ref(), parsed.iter().map(|(_, v)| v))
        .await?;
    Ok(parsed
        .into_iter()
        .filter(|(o, v)| {
            node.access
                .release_text(user, o, || Some(v.clone()), day)
                .is_some()
        })
        .map(|(o, _)| o)
        .collect())
}

fn date_headers(
    first: Option<&StoredObject>,
    last: Option<&StoredObject>,
) -> Vec<(&'static str, String)> {
    match (first, last) {
        (Some(f), Some(l)) => vec![(DATE_FIRST, f.date_added()), (DATE_LAST, l.date_added())],
        _ => Vec::new(),
    }
}

async fn versions(
    State(node): Shared,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::all())?;
    let mut list = visible_versions(&node, &user, &cid, &oid).await?;
    if list.is_empty() {
        return Err(error(NodeErrorKind::NotFound, format!("no object {oid:?}")));
    }
    list.retain(|o| {
        f.added_after_us.is_none_or(|t| o.added_us > t)
            && (f.spec_versions.is_empty() || f.spec_versions.contains(&o.spec_version))
    });
    // `next` is an offset into the version list.
    let start = usize::try_from(f.next)
        .unwrap_or(usize::MAX)
        .min(list.len());
    let end = start.saturating_add(f.limit).min(list.len());
    let more = end < list.len();
    let page = &list[start..end];
    let hdrs = date_headers(
        page.iter().min_by_key(|o| o.added_us),
        page.iter().max_by_key(|o| o.added_us),
    );
    let body = Versions {
        more,
        next: more.then(|| end.to_string()),
        versions: page.iter().map(StoredObject::taxii_version).collect(),
    };
    Ok(taxii(StatusCode::OK, &body, &hdrs))
}

async fn delete_object(
    State(node): Shared,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, true).await?;
    let f = parse_filters(&params, VersionFilter::all())?;
    let mut list = visible_versions(&node, &user, &cid, &oid).await?;
    list.retain(|o| f.spec_versions.is_empty() || f.spec_versions.contains(&o.spec_version));
    let n = list.len();
    let keys: Vec<String> = list
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            f.versions.all
                || (f.versions.first && *i == 0)
                || (f.versions.last && *i + 1 == n)
                || f.versions.keys.contains(&o.version_key)
        })
        .map(|(_, o)| o.version_key.clone())
        .collect();
    if keys.is_empty() {
        return Err(error(NodeErrorKind::NotFound, format!("no object {oid:?}")));
    }
    let deleted = node.store.delete_versions(&cid, &oid, &keys).await;
    // Wakes the federation dispatchers and drops the shared released pages.
    node.notify_changed();
    let deleted = deleted?;
    tracing::info!(object_id = %oid, collection = %cid, deleted, user = %user.name, "object deleted");
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_TAXII),
    );
    Ok(response)
}

async fn manifest(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::last())?;
    let mut records = Vec::new();
    let info = visible(&node, &user, &cid, &f, |o, _| {
        records.push(ManifestRecord {
            id: o.id.clone(),
            date_added: o.date_added(),
            version: o.taxii_version(),
            media_type: Some(MEDIA_TYPE_STIX.to_owned()),
        })
    })
    .await?;
    let body = Manifest {
        more: info.more,
        next: info.next(),
        objects: records,
    };
    Ok(taxii(StatusCode::OK, &body, &info.date_headers()))
}

/// Reads a body of at most `limit` bytes.
async fn read_body(headers: &HeaderMap, body: Body, limit: u64) -> Result<Bytes, NodeError> {
    let too_large = || {
        error(
            NodeErrorKind::TooLarge,
            format!("the body exceeds max_content_length ({limit} bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| too_large())
}

fn failure(object: &Value, message: String) -> StatusDetail {
    let text = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let version = match text("modified") {
        m if !m.is_empty() => m,
        _ => text("created"),
    };
    StatusDetail {
        id: text("id"),
        version,
        message: Some(message),
    }
}

/// An object of a posted envelope after validation: the parsed object, its header and its text
/// for storage, or the failure to report.
enum Validated {
    Valid(Value, entente_stix::ObjectHeader, String),
    Invalid(StatusDetail),
}

/// The object markings of an object whose labels come from them alone (no granular markings):
/// the list of `object_marking_refs` (empty when absent); `None` for any other object.
fn object_marking_list(o: &Value) -> Option<Vec<String>> {
    let obj = o.as_object()?;
    if obj.contains_key("granular_markings") {
        return None;
    }
    match obj.get("object_marking_refs") {
        None => Some(Vec::new()),
        Some(Value::Array(refs)) => refs.iter().map(|r| r.as_str().map(str::to_owned)).collect(),
        Some(_) => None,
    }
}

/// The objects of a TAXII envelope, each as its text in the body (an envelope is a JSON object
/// with an "objects" list; the last of repeated keys counts, as with any JSON object here).
fn envelope_objects(bytes: &[u8]) -> Result<Vec<&serde_json::value::RawValue>, NodeError> {
    use serde_json::error::Category;
    use serde_json::value::RawValue;
    let not_envelope = || {
        error(
            NodeErrorKind::Unprocessable,
            "expected a TAXII envelope: an object with an \"objects\" list",
        )
    };
    let malformed = |e: serde_json::Error| {
        bad(format!(
            "malformed JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    };
    // Checked as JSON first, so that a syntax error is reported as such wherever it is.
    let top: HashMap<String, &RawValue> = match serde_json::from_slice(bytes) {
        Ok(top) => top,
        Err(e) if e.classify() == Category::Data => {
            serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(malformed)?;
            return Err(not_envelope());
        }
        Err(e) => return Err(malformed(e)),
    };
    let objects: &RawValue = top.get("objects").copied().ok_or_else(not_envelope)?;
    serde_json::from_str(objects.get()).map_err(|_| not_envelope())
}

async fn post_objects(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Body,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, true).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_taxii_media(content_type) {
        return Err(error(
            NodeErrorKind::UnsupportedMediaType,
            format!("expected Content-Type {MEDIA_TYPE_TAXII}, got {content_type:?}"),
        ));
    }
    let bytes = read_body(&headers, body, node.config.max_content_length).await?;
    let raw_objects = envelope_objects(&bytes)?;

    // Each object parsed, validated and serialized for storage on every core: a large envelope
    // is milliseconds of CPU work, and the store's writer waits for it.
    let validated = on_all_cores(
        Grain::Fine,
        raw_objects,
        |raw| -> Result<Validated, NodeError> {
            let o: Value = serde_json::from_str(raw.get())
                .map_err(|e| bad(format!("malformed JSON in an object of the envelope: {e}")))?;
            Ok(match validate_object(&o) {
                Ok(header) => {
                    // The stored text, as it has always been: the object's compact serialization.
                    let json = serde_json::to_string(&o)
                        .map_err(|e| error(NodeErrorKind::Internal, e.to_string()))?;
                    Validated::Valid(o, header, json)
                }
                Err(e) => {
                    let message = e
                        .problems()
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    Validated::Invalid(failure(&o, message))
                }
            })
        },
    )
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;

    // Marking definitions of this envelope first, so that objects may refer to them.
    let mut envelope_labels: HashMap<String, Option<Label>> = HashMap::new();
    let mut checked = Vec::with_capacity(validated.len());
    for item in validated {
        let (o, header, json) = match item {
            Validated::Valid(o, header, json) => (o, header, json),
            Validated::Invalid(f) => {
                checked.push(Err(f));
                continue;
            }
        };
        if header.kind == "marking-definition" {
            match label_of_marking(&node.access.policy, &o) {
                Some(Err(e)) => {
                    checked.push(Err(failure(&o, format!("label: {e}"))));
                    continue;
                }
                Some(Ok(label)) => {
                    if !node.access.cleared(&user, &label) {
                        checked.push(Err(failure(
                            &o,
                            "the label is above the poster's clearance".into(),
                        )));
                        continue;
                    }
                    envelope_labels.insert(header.id.clone(), Some(label));
                }
                None => {
                    envelope_labels.insert(header.id.clone(), None);
                }
            }
        }
        checked.push(Ok((o, header, json)));
    }
    node.access
        .load_markings(
            node.store.as_ref(),
            checked
                .iter()
                .filter_map(|c| c.as_ref().ok().map(|(o, _, _)| o)),
        )
        .await?;
    // The label checks, on every core too (the objects are dropped there as well).
    let nation = node.config.nation;
    let (access, envelope_labels) = (&node.access, &envelope_labels);
    // Objects labelled by their object markings alone get the same outcome for the same list:
    // each share of the work keeps the outcomes it has decided (for this request only, as the
    // labels known here stay fixed during it).
    let decided = on_cores(
        true,
        Grain::Fine,
        checked,
        HashMap::<Vec<String>, IngestLabel>::new,
        |memo, item| -> Result<Checked, StatusDetail> {
            let (o, header, json) = item?;
            if !KindRule::of(&header.kind).is_federated() {
                return Ok(Checked::Store(
                    crate::new_object(header, nation, json),
                    None,
                ));
            }
            let check = || access.check_ingest(&user, &o, envelope_labels);
            let outcome = match object_marking_list(&o) {
                Some(refs) => match memo.get(&refs) {
                    Some(outcome) => outcome.clone(),
                    None => {
                        let outcome = check();
                        memo.insert(refs, outcome.clone());
                        outcome
                    }
                },
                None => check(),
            };
            labelled(o, header, json, outcome, nation)
        },
    );
    let mut new_objects = Vec::with_capacity(decided.len());
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    let mut default_marking = None;
    for d in decided {
        match d {
            Ok(Checked::Store(n, marking)) => {
                default_marking = default_marking.or(marking);
                new_objects.push(n);
            }
            Ok(Checked::Hold(p)) => pending.push(p),
            Err(f) => failures.push(f),
        }
    }
    // The default label's marking definition is in the collection before any object that refers
    // to it.
    if let Some(marking) = default_marking {
        node.access
            .publish(
                node.store.as_ref(),
                &cid,
                vec![marking],
                nation,
                clock::now_us(),
            )
            .await?;
    }
    // Settling runs when this request stored marking definitions, and when it held objects back
    // (a concurrent request may have stored their markings after this one's checks).
    let settle = !pending.is_empty() || new_objects.iter().any(|o| o.kind == "marking-definition");
    let (added, refused) = (new_objects.len() as u64, failures.len() as u64);
    let status = node
        .store
        .add_objects(AddRequest {
            status_id: uuid::Uuid::new_v4().to_string(),
            owner: user.name.clone(),
            collection: cid.clone(),
            now_us: clock::now_us(),
            objects: new_objects,
            failures,
            pending,
            settles: Vec::new(),
        })
        .await;
    // Wakes the federation dispatchers and drops the shared released pages.
    node.notify_changed();
    let status = status?;
    if settle {
        settle_pending(&node, &cid).await?;
    }
    Metrics::add(&node.metrics.objects_added, added);
    Metrics::add(&node.metrics.objects_refused, refused);
    tracing::info!(collection = %cid, user = %user.name, added, refused, status_id = %status.id, "objects posted");
    Ok(taxii(StatusCode::ACCEPTED, &status_body(&status), &[]))
}

/// What ingest does with one object that passed validation.
enum Checked {
    /// Stored now; with the default label's marking definition when it was written in.
    Store(NewObject, Option<Arc<Value>>),
    /// Held back until the marking definitions it refers to are known.
    Hold(PendingObject),
}

/// The object to store (or hold back) after the label checks' `outcome`.
fn labelled(
    mut o: Value,
    header: entente_stix::ObjectHeader,
    mut json: String,
    outcome: IngestLabel,
    nation: NationCode,
) -> Result<Checked, StatusDetail> {
    let default = match outcome {
        IngestLabel::Ok => None,
        IngestLabel::Refused(message) => return Err(failure(&o, message)),
        IngestLabel::Pending(waiting) => {
            let n = crate::new_object(header, nation, json);
            return Ok(Checked::Hold(PendingObject {
                id: n.id,
                version: n.version,
                version_key: n.version_key,
                waiting,
                json: n.json,
            }));
        }
        IngestLabel::Default(marking) => {
            // The stored object carries the label it is served and federated under.
            add_object_marking(&mut o, &marking).map_err(|message| failure(&o, message))?;
            json = serde_json::to_string(&o).map_err(|e| failure(&o, e.to_string()))?;
            Some(marking)
        }
    };
    Ok(Checked::Store(
        crate::new_object(header, nation, json),
        default,
    ))
}

/// Stores the objects of collection `cid` held back until marking definitions were known, now
/// that they are: each goes through the label checks it would have met had its markings been
/// known when it was posted (as its poster), and its outcome joins its request's status.
async fn settle_pending(node: &Node, cid: &str) -> Result<(), NodeError> {
    let rows = node.store.pending_objects(cid).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let store = node.store.as_ref();
    node.access
        .load_marking_ids(
            store,
            rows.iter()
                .flat_map(|r| r.object.waiting.iter().map(String::as_str)),
        )
        .await?;
    let nation = node.config.nation;
    let mut objects = Vec::new();
    let mut settles = Vec::new();
    let mut default_marking = None;
    let mut posters: HashMap<String, Option<User>> = HashMap::new();
    for row in rows {
        if !row
            .object
            .waiting
            .iter()
            .all(|id| node.access.knows_marking(id))
        {
            continue;
        }
        let settled = |failure: Option<String>| Settled {
            status_id: row.status_id.clone(),
            id: row.object.id.clone(),
            version: row.object.version.clone(),
            version_key: row.object.version_key.clone(),
            failure,
        };
        if !posters.contains_key(&row.owner) {
            let user = node.store.user(&row.owner).await?;
            posters.insert(row.owner.clone(), user);
        }
        let Some(Some(poster)) = posters.get(&row.owner) else {
            settles.push(settled(Some(format!(
                "its poster {} is no longer a user of this node",
                row.owner
            ))));
            continue;
        };
        let parsed = serde_json::from_str::<Value>(&row.object.json)
            .map_err(|e| e.to_string())
            .and_then(|o| {
                validate_object(&o)
                    .map(|header| (o, header))
                    .map_err(|e| e.to_string())
            });
        let (o, header) = match parsed {
            Ok(p) => p,
            Err(e) => {
                settles.push(settled(Some(e)));
                continue;
            }
        };
        node.access
            .load_markings(store, std::iter::once(&o))
            .await?;
        let outcome = node.access.check_ingest(poster, &o, &HashMap::new());
        match labelled(o, header, row.object.json.clone(), outcome, nation) {
            Ok(Checked::Store(n, marking)) => {
                default_marking = default_marking.or(marking);
                objects.push(n);
                settles.push(settled(None));
            }
            // Still waiting: another of its markings is unknown.
            Ok(Checked::Hold(_)) => {}
            Err(f) => settles.push(settled(f.message)),
        }
    }
    if settles.is_empty() {
        return Ok(());
    }
    if let Some(marking) = default_marking {
        node.access
            .publish(store, cid, vec![marking], nation, clock::now_us())
            .await?;
    }
    let (added, refused) = (
        objects.len(),
        settles.iter().filter(|s| s.failure.is_some()).count(),
    );
    let result = store
        .add_objects(AddRequest {
            status_id: uuid::Uuid::new_v4().to_string(),
            // No user has an empty name: nobody reads this status; the posters read theirs.
            owner: String::new(),
            collection: cid.to_owned(),
            now_us: clock::now_us(),
            objects,
            failures: Vec::new(),
            pending: Vec::new(),
            settles,
        })
        .await;
    node.notify_changed();
    result?;
    Metrics::add(&node.metrics.objects_added, added as u64);
    Metrics::add(&node.metrics.objects_refused, refused as u64);
    tracing::info!(collection = %cid, added, refused, "held-back objects settled");
    Ok(())
}

/// Adds `marking` (a marking definition) to the object markings of `object`.
fn add_object_marking(object: &mut Value, marking: &Value) -> Result<(), String> {
    let id = marking
        .get("id")
        .cloned()
        .ok_or("the default label's marking definition has no id")?;
    let map = object
        .as_object_mut()
        .ok_or("the object is not a JSON object")?;
    match map
        .entry("object_marking_refs")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(refs) => {
            // First, where a release writes an object's banner: the copy served is the stored one.
            refs.insert(0, id);
            Ok(())
        }
        _ => Err("object_marking_refs: expected a list".into()),
    }
}

async fn fallback() -> NodeError {
    error(NodeErrorKind::NotFound, "no such resource")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn envelopes_are_written_as_the_envelope_type_serializes() {
        let objects = [
            serde_json::json!({"id": "a"}),
            serde_json::json!({"id": "b"}),
        ];
        let page = |count, more, last| PageInfo {
            count,
            more,
            first: Some((1, 10)),
            last,
            withheld: 0,
        };
        // Empty: `{}`.
        let empty = EnvelopeWriter::new().finish(&PageInfo::default()).unwrap();
        assert_eq!(empty.to_vec(), b"{}");
        // A last page: no `more`, no `next`.
        let mut w = EnvelopeWriter::new();
        objects
            .iter()
            .for_each(|o| w.push_served(&Served::Text(o.to_string().into())));
        let body = w.finish(&page(2, false, Some((2, 20)))).unwrap().to_vec();
        let parsed: entente_stix::taxii::Envelope = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.objects, objects.to_vec());
        assert!(!parsed.more && parsed.next.is_none());
        // More remain: `next` is the last `seq` served.
        let mut w = EnvelopeWriter::new();
        objects
            .iter()
            .for_each(|o| w.push_served(&Served::Text(o.to_string().into())));
        let body = w.finish(&page(2, true, Some((7, 70)))).unwrap().to_vec();
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["more"], true);
        assert_eq!(parsed["next"], "7");
        assert_eq!(parsed["objects"].as_array().unwrap().len(), 2);
        let headers = page(2, true, Some((7, 70))).date_headers();
        assert_eq!(headers[0], (DATE_FIRST, format_added(10)));
        assert_eq!(headers[1], (DATE_LAST, format_added(70)));
    }
}
