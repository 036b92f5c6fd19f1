//! `GET …/objects/` (shared released pages, see [`crate::pages`]), `GET …/objects/{id}/` and
//! `POST …/objects/` (the checks on posted objects are in [`super::ingest`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use entente_store::{AddRequest, StatusRecord, User, VersionFilter};
use entente_types::Date;

use super::envelope::{taxii, taxii_bytes, EnvelopeWriter};
use super::filters::{parse_filters, Filters};
use super::ingest::{envelope_objects, read_body, settle_pending, sort_envelope, Sorted, Target};
use super::page::{visible, visible_on};
use super::routes::{caller, is_taxii_media, right};
use super::status::status_body;
use super::{error, Params, Shared};
use crate::access::Reader;
use crate::clock;
use crate::error::{NodeError, NodeErrorKind};
use crate::metrics::Metrics;
use crate::pages::CachedPage;
use crate::{Node, MEDIA_TYPE_TAXII};
/// Every input of the release of a page, so that equal keys mean equal bytes (see
/// [`crate::pages`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    /// The page cache's generation, read before the store is.
    generation: u64,
    collection: String,
    reader: Reader,
    day: Date,
    filters: Filters,
}

pub(super) async fn get_objects(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::last())?;
    let reader = Reader::of(&user);
    let Some(pages) = &node.pages else {
        let mut envelope = EnvelopeWriter::new();
        let info = visible(&node, &reader, &cid, &f, |_, copy| {
            envelope.push_served(&copy)
        })
        .await?;
        return Ok(taxii_bytes(envelope.finish(&info)?, &info.date_headers()));
    };
    let day = clock::today();
    let key = PageKey {
        generation: pages.generation(),
        collection: cid.clone(),
        reader: reader.clone(),
        day,
        filters: f.clone(),
    };
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
    let info = visible_on(&node, &reader, &cid, &f, day, |_, copy| {
        envelope.push_served(&copy)
    })
    .await?;
    let page = CachedPage {
        body: envelope.finish(&info)?,
        headers: info.date_headers(),
        served: info.count as u64,
        withheld: info.withheld,
    };
    let waited = lock.as_ref().is_some_and(crate::pages::waited);
    if pages.worth_keeping(&key, waited) {
        let response = taxii_bytes(page.body.clone(), &page.headers);
        pages.insert(key.clone(), Arc::new(page));
        return Ok(response);
    }
    Ok(taxii_bytes(page.body, &page.headers))
}

/// Marks page `.1` as no longer being released when dropped.
pub(super) struct Built<'a>(&'a crate::pages::PageCache<PageKey>, &'a PageKey);

impl Drop for Built<'_> {
    fn drop(&mut self) {
        self.0.built(self.1);
    }
}

pub(super) async fn get_object(
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
    let info = visible(&node, &Reader::of(&user), &cid, &f, |_, copy| {
        envelope.push_served(&copy)
    })
    .await?;
    if info.count == 0 && f.next == 0 {
        // Absent and not releasable look the same.
        return Err(error(NodeErrorKind::NotFound, format!("no object {oid:?}")));
    }
    Ok(taxii_bytes(envelope.finish(&info)?, &info.date_headers()))
}

pub(super) async fn post_objects(
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
    let status = post_checked(&node, &user, &cid, &bytes, false).await?;
    Ok(taxii(StatusCode::ACCEPTED, &status_body(&status), &[]))
}

/// Stores a posted envelope for `user` in collection `cid` (the right to write checked by the
/// caller): every object checked, the valid ones stored, the others refused in the status.
async fn post_checked(
    node: &Node,
    user: &User,
    cid: &str,
    bytes: &[u8],
    descriptor: bool,
) -> Result<StatusRecord, NodeError> {
    let room = node.room(cid);
    if room.is_none() && !descriptor && entente_crisis::is_room_collection(cid) {
        // A room's collection without its descriptor (an opening that failed half-way): what
        // would be posted there has no room label to keep it in.
        return Err(error(
            NodeErrorKind::Forbidden,
            format!("collection {cid:?} is a crisis room this node does not know"),
        ));
    }
    if let Some(r) = room.as_ref().filter(|r| !r.room.is_open()) {
        return Err(error(
            NodeErrorKind::Forbidden,
            format!(
                "crisis room {} is closed: it takes no new objects",
                r.room.id
            ),
        ));
    }
    let raw_objects = envelope_objects(bytes)?;
    let Sorted {
        new_objects,
        failures,
        pending,
        default_marking,
    } = sort_envelope(
        node,
        &Reader::of(user),
        raw_objects,
        &Target { room, descriptor },
    )
    .await?;
    // The default label's marking definition is in the collection before any object that refers
    // to it.
    if let Some(marking) = default_marking {
        node.access
            .publish(
                node.store.as_ref(),
                cid,
                vec![marking],
                node.config.nation,
                clock::now_us(),
            )
            .await?;
    }
    // Settling runs when this request stored marking definitions, and when it held objects back
    // (a concurrent request may have stored their markings after this one's checks).
    let settle = !pending.is_empty() || new_objects.iter().any(|o| o.kind == "marking-definition");
    let (added, refused) = (new_objects.len() as u64, failures.len() as u64);
    let notes = warning_notes(node, &new_objects);
    let status = node
        .store
        .add_objects(AddRequest {
            status_id: uuid::Uuid::new_v4().to_string(),
            owner: user.name.clone(),
            collection: cid.to_owned(),
            now_us: clock::now_us(),
            objects: new_objects,
            failures,
            pending,
            settles: Vec::new(),
            notes,
        })
        .await;
    // Wakes the federation dispatchers and drops the shared released pages.
    node.notify_changed();
    let status = status?;
    if settle {
        settle_pending(node, cid).await?;
    }
    Metrics::add(&node.metrics.objects_added, added);
    Metrics::add(&node.metrics.objects_refused, refused);
    tracing::info!(collection = %cid, user = %user.name, added, refused, status_id = %status.id, "objects posted");
    Ok(status)
}

/// [`post_checked`] after the right to write, for callers other than the TAXII route.
pub(crate) async fn post_envelope(
    node: &Node,
    user: &User,
    cid: &str,
    bytes: &[u8],
) -> Result<StatusRecord, NodeError> {
    right(node, user, cid, true).await?;
    post_checked(node, user, cid, bytes, false).await
}

/// A crisis room's descriptor (opening or closing it), stored as `user` posted it.
pub(crate) async fn post_descriptor(
    node: &Node,
    user: &User,
    cid: &str,
    bytes: &[u8],
) -> Result<StatusRecord, NodeError> {
    right(node, user, cid, true).await?;
    post_checked(node, user, cid, bytes, true).await
}

/// The status message of each object that names values on a warning list: which values, on
/// which lists (the analyst sees at once that an indicator may be a false positive).
fn warning_notes(
    node: &Node,
    objects: &[entente_store::NewObject],
) -> std::collections::HashMap<String, String> {
    let mut notes = std::collections::HashMap::new();
    if node.warnings().is_none() {
        return notes;
    }
    for o in objects {
        let may_name_values = matches!(
            o.kind.as_str(),
            "indicator" | "observed-data" | "vulnerability"
        ) || entente_stix::is_sco_type(&o.kind);
        if !may_name_values {
            continue;
        }
        let Ok(object) = serde_json::from_str::<serde_json::Value>(&o.json) else {
            continue;
        };
        let warned: Vec<String> = entente_search::observables_of(&object)
            .iter()
            .filter_map(|v| {
                let lists = node.warnings().lists_of(v);
                (!lists.is_empty()).then(|| format!("{v} ({})", lists.join("; ")))
            })
            .collect();
        if !warned.is_empty() {
            notes.insert(
                o.id.clone(),
                format!("on a warning list: {}", warned.join(", ")),
            );
        }
    }
    notes
}
