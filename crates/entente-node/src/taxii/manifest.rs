//! `GET …/manifest/`: the manifest records of the page of objects a reader may see.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entente_stix::taxii::{Manifest, ManifestRecord};
use entente_store::VersionFilter;

use super::envelope::taxii;
use super::filters::parse_filters;
use super::page::visible;
use super::routes::{caller, right};
use super::{Params, Shared};
use crate::access::Reader;
use crate::error::NodeError;
use crate::MEDIA_TYPE_STIX;

pub(super) async fn manifest(
    State(node): Shared,
    headers: HeaderMap,
    Path(cid): Path<String>,
    Query(params): Params,
) -> Result<Response, NodeError> {
    let user = caller(&node, &headers).await?;
    right(&node, &user, &cid, false).await?;
    let f = parse_filters(&params, VersionFilter::last())?;
    let mut records = Vec::new();
    let info = visible(&node, &Reader::of(&user), &cid, &f, |o, _| {
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
