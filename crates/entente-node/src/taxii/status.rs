//! `GET /api/status/{id}/`: the status of a post, for the user who posted it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entente_stix::taxii::{Status, StatusState};
use entente_store::{format_added, StatusDetail, StatusRecord};

use super::envelope::taxii;
use super::routes::caller;
use super::{error, Shared};
use crate::error::{NodeError, NodeErrorKind};

pub(super) fn status_body(s: &StatusRecord) -> Status {
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

pub(super) async fn status(
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
