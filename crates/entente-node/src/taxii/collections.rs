//! Discovery, the API root and the collections a user has rights on.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use entente_stix::taxii::{ApiRoot, Collection, Collections, Discovery};
use entente_store::CollectionRight;

use super::envelope::taxii;
use super::routes::caller;
use super::{error, Shared, API_ROOT};
use crate::error::{NodeError, NodeErrorKind};
use crate::{MEDIA_TYPE_STIX, MEDIA_TYPE_TAXII};

pub(super) async fn discovery(
    State(node): Shared,
    headers: HeaderMap,
) -> Result<Response, NodeError> {
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

pub(super) async fn api_root(
    State(node): Shared,
    headers: HeaderMap,
) -> Result<Response, NodeError> {
    caller(&node, &headers).await?;
    let body = ApiRoot {
        title: node.config.title.clone(),
        description: None,
        versions: vec![MEDIA_TYPE_TAXII.to_owned()],
        max_content_length: node.config.max_content_length,
    };
    Ok(taxii(StatusCode::OK, &body, &[]))
}

pub(super) fn collection_body(
    c: &entente_store::CollectionInfo,
    r: &CollectionRight,
) -> Collection {
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

pub(super) async fn collections(
    State(node): Shared,
    headers: HeaderMap,
) -> Result<Response, NodeError> {
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

pub(super) async fn collection(
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
