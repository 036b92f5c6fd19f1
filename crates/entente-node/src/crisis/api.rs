//! The crisis room routes under `/api/crisis/rooms`: JSON for the `entente crisis` commands and
//! any other client. A room the caller may not see is answered as absent.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entente_crisis::OpenRequest;
use serde_json::json;

use crate::auth::authenticate;
use crate::error::{NodeError, NodeErrorKind};
use crate::{clock, Node};

/// The rooms the caller may see.
///
/// Every crisis room this node takes part in whose descriptor is released to the caller (read
/// right on the room and a clearance covering its label), newest first.
#[utoipa::path(
    get,
    path = "/api/crisis/rooms",
    tag = "node",
    operation_id = "crisis_rooms",
    responses(
        (status = 200, description = "`{rooms: [{id, collection, title, clause, article, agreement_name, clause_text, requested_by, as_of, opened_by, opened, participants: [{nation, requesting, reason}], label, status, closed, modified}]}`", body = Object, content_type = "application/json"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn list_rooms(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let rooms: Vec<_> = node
        .rooms_for(&user, clock::today())
        .await?
        .iter()
        .map(|r| r.room.clone())
        .collect();
    Ok(crate::json::answer(
        StatusCode::OK,
        &json!({ "rooms": rooms }),
    ))
}

/// Open a crisis room.
///
/// The participants are the registry's for the clause, the requesting nations and the day the
/// room is opened as of; the label is derived from the clause (or given) and must reach every
/// participant and no one else. The room's collection is created here and its descriptor
/// stored in it; federation announces it to the participants' nodes. The caller must be of this
/// node's nation and hold the write right on `crisis-*`.
#[utoipa::path(
    post,
    path = "/api/crisis/rooms",
    tag = "node",
    operation_id = "crisis_open",
    request_body(content = Object, description = "`{clause: \"nato-art-4\" | \"agreement/clause\", requested_by: [\"POL\"], as_of: \"YYYY-MM-DD\", title?, label?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "The room opened (as in the list).", body = Object, content_type = "application/json"),
        (status = 400, description = "The body is not the JSON of a request; the message names the field.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "The caller may not open rooms here.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such clause or nation in the registry.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 422, description = "The request cannot be served: a requesting nation not a party that day, this node's nation not a participant, a label that does not hold the room together.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn open_room(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let request: OpenRequest = serde_json::from_slice(&body).map_err(|e| {
        NodeError::new(
            NodeErrorKind::BadRequest,
            format!("the body is not a room request: {e}"),
        )
    })?;
    let room = node.open_room(&user, &request).await?;
    Ok(crate::json::answer(StatusCode::CREATED, &json!(room)))
}

/// One room, with the changes of its participants since the day it was opened as of.
///
/// `room` is the room's collection, descriptor id or UUID. `changes` lists, from the registry,
/// the nations that joined or left the clause's parties between the room's day and today.
#[utoipa::path(
    get,
    path = "/api/crisis/rooms/{room}",
    tag = "node",
    operation_id = "crisis_room",
    params(("room" = String, Path, description = "The room's collection, descriptor id or UUID.")),
    responses(
        (status = 200, description = "`{room: {...}, changes: [{day, nation, joined, reason}]}`", body = Object, content_type = "application/json"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such room the caller may see.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn show_room(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Path(room): Path<String>,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let today = clock::today();
    let held = node.room_for(&user, &room, today).await?;
    let changes = node.room_changes(&held.room, today);
    Ok(crate::json::answer(
        StatusCode::OK,
        &json!({ "room": held.room, "changes": changes }),
    ))
}

/// Close a room.
///
/// Its descriptor's closing version is stored and federated; the room takes no new objects.
/// What it holds and its audit entries stay.
#[utoipa::path(
    post,
    path = "/api/crisis/rooms/{room}/close",
    tag = "node",
    operation_id = "crisis_close",
    params(("room" = String, Path, description = "The room's collection, descriptor id or UUID.")),
    responses(
        (status = 200, description = "The room as closed.", body = Object, content_type = "application/json"),
        (status = 401, description = "No or wrong credentials.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "The caller may not close rooms here.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such room the caller may see.", body = Object, content_type = "application/taxii+json;version=2.1"),
        (status = 422, description = "The room is already closed.", body = Object, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn close_room(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    Path(room): Path<String>,
) -> Result<Response, NodeError> {
    let user = authenticate(node.store.as_ref(), &node.credentials, &headers).await?;
    let room = node.close_room(&user, &room).await?;
    Ok(crate::json::answer(StatusCode::OK, &json!(room)))
}
