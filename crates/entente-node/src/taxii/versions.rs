//! `GET …/objects/{id}/versions/` and `DELETE …/objects/{id}/`: the versions of one object that
//! a reader may see, released through [`Access::release_rows`](crate::access::Access::release_rows).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entente_stix::taxii::Versions;
use entente_store::{StoredObject, VersionFilter};

use super::envelope::{date_headers, taxii};
use super::filters::parse_filters;
use super::routes::{caller, right};
use super::{error, Params, Shared};
use crate::access::{Outcome, Reader};
use crate::clock;
use crate::error::{NodeError, NodeErrorKind};
use crate::{Node, MEDIA_TYPE_TAXII};

/// Every version of one object that `user` may see, oldest first.
pub(super) async fn visible_versions(
    node: &Node,
    reader: &Reader,
    cid: &str,
    oid: &str,
) -> Result<Vec<StoredObject>, NodeError> {
    let stored = node.store.versions(cid, oid).await?;
    let released = node
        .access
        .release_rows(node.store.as_ref(), reader, &stored, clock::today(), false)
        .await?;
    let visible: Vec<bool> = released
        .iter()
        .map(|(_, outcome)| matches!(outcome, Outcome::Served(..)))
        .collect();
    Ok(stored
        .into_iter()
        .zip(visible)
        .filter_map(|(o, visible)| visible.then_some(o))
        .collect())
}

pub(super) async fn versions(
    State(node): Shared,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::all())?;
    let mut list = visible_versions(&node, &Reader::of(&user), &cid, &oid).await?;
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

pub(super) async fn delete_object(
    State(node): Shared,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, true).await?;
    let f = parse_filters(&params, VersionFilter::all())?;
    let mut list = visible_versions(&node, &Reader::of(&user), &cid, &oid).await?;
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
