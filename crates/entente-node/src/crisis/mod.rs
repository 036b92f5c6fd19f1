//! Crisis rooms on a node: opened here or announced by a partner, each a collection of its own
//! whose descriptor (`entente_crisis::Room`) is stored in it under the room's label. Federation
//! carries the descriptor like any object, so the release policy alone decides which partners
//! learn of the room; a node that receives one creates the room's collection
//! ([`Node::room_received`]).
//!
//! Inside a room, ingest writes the room's label into an object posted without one, and refuses
//! an object whose label would release it to a nation outside the room
//! (`entente_crisis::Boundary`), or anything once the room is closed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use entente_crisis::{OpenRequest, Room, ROOM_TYPE};
use entente_labels::Label;
use entente_store::{CollectionInfo, User};
use entente_types::Date;
use serde_json::{json, Value};

pub(crate) mod api;

use crate::access::Reader;
use crate::error::{NodeError, NodeErrorKind};
use crate::{clock, Node};

/// The right that opens and closes rooms and is every room's right: users hold it as a
/// collection right on this pattern.
pub const ROOMS_RIGHT: &str = "crisis-*";

/// A room this node takes part in, as its latest descriptor version says.
#[derive(Debug)]
pub struct NodeRoom {
    pub room: Room,
    pub label: Label,
    /// The room label's marking definition, written into objects posted without a label.
    pub marking: Arc<Value>,
}

/// The rooms known to this node, by collection.
#[derive(Default)]
pub(crate) struct Rooms {
    by_collection: RwLock<HashMap<String, Arc<NodeRoom>>>,
}

impl Rooms {
    fn get(&self, collection: &str) -> Option<Arc<NodeRoom>> {
        self.by_collection.read().ok()?.get(collection).cloned()
    }

    fn all(&self) -> Vec<Arc<NodeRoom>> {
        self.by_collection
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Keeps `room` unless a later version is known already.
    fn keep(&self, room: NodeRoom) {
        if let Ok(mut m) = self.by_collection.write() {
            let newer = m
                .get(&room.room.collection)
                .is_none_or(|held| held.room.modified <= room.room.modified);
            if newer {
                m.insert(room.room.collection.clone(), Arc::new(room));
            }
        }
    }
}

fn forbidden(message: String) -> NodeError {
    NodeError::new(NodeErrorKind::Forbidden, message)
}

fn not_found(what: &str) -> NodeError {
    NodeError::new(NodeErrorKind::NotFound, format!("no crisis room {what:?}"))
}

impl Node {
    /// The room whose collection is `collection`, if this node takes part in it.
    pub fn room(&self, collection: &str) -> Option<Arc<NodeRoom>> {
        self.rooms.get(collection)
    }

    /// Whether `collection` exists here: configured, or a room's.
    pub fn knows_collection(&self, collection: &str) -> bool {
        self.config.collections.iter().any(|c| c.id == collection)
            || self.rooms.get(collection).is_some()
    }

    fn node_room(&self, room: Room) -> Result<NodeRoom, NodeError> {
        let policy = self.release_policy();
        let label = entente_labels::parse_marking(policy.policies(), &room.label).map_err(|e| {
            NodeError::new(
                NodeErrorKind::Unprocessable,
                format!("crisis room {}: label: {e}", room.id),
            )
        })?;
        let marking = Arc::new(
            entente_labels::stix::to_marking_definition(policy.policies(), &label).map_err(
                |e| {
                    NodeError::new(
                        NodeErrorKind::Unprocessable,
                        format!("crisis room {}: label: {e}", room.id),
                    )
                },
            )?,
        );
        Ok(NodeRoom {
            room,
            label,
            marking,
        })
    }

    /// Reads the rooms of the store's room collections (at start).
    pub(crate) async fn load_rooms(&self) -> Result<(), NodeError> {
        for c in self.store.collections().await? {
            if !entente_crisis::is_room_collection(&c.id) {
                continue;
            }
            let id = format!(
                "{ROOM_TYPE}--{}",
                &c.id[entente_crisis::COLLECTION_PREFIX.len()..]
            );
            let Some(latest) = self.store.versions(&c.id, &id).await?.pop() else {
                continue;
            };
            let value: Value = serde_json::from_str(&latest.json).map_err(|e| {
                NodeError::new(NodeErrorKind::Internal, format!("stored {id}: {e}"))
            })?;
            match Room::from_stix(&value).map_err(|e| e.to_string()) {
                Ok(room) => self.rooms.keep(self.node_room(room)?),
                Err(e) => {
                    tracing::error!(collection = %c.id, error = %e, "stored crisis room unreadable")
                }
            }
        }
        Ok(())
    }

    /// Opens a room at this node for `user`, who must hold the rooms right to write and be of
    /// this node's nation; the room's descriptor is stored in its new collection and federation
    /// announces it to the participants.
    pub async fn open_room(&self, user: &User, request: &OpenRequest) -> Result<Room, NodeError> {
        self.may_manage_rooms(user)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let now = clock::now_text();
        let (room, _) = entente_crisis::plan(
            &self.registry,
            self.release_policy(),
            request,
            self.config.nation,
            &uuid,
            &now,
        )
        .map_err(|e| NodeError::new(kind_of(e.code()), e.to_string()))?;
        let node_room = self.node_room(room.clone())?;
        if !self.access.cleared(&Reader::of(user), &node_room.label) {
            return Err(forbidden(format!(
                "the room's label {} is above {}'s clearance",
                room.label, user.name
            )));
        }
        self.store
            .put_collection(&CollectionInfo {
                id: room.collection.clone(),
                // Neutral: the collection list is not labelled; the room's title is, in its
                // descriptor.
                title: "Crisis room".into(),
                description: None,
            })
            .await?;
        self.store_descriptor(user, &node_room).await?;
        self.rooms.keep(node_room);
        tracing::info!(room = %room.id, clause = %room.clause, as_of = %room.as_of, user = %user.name, "crisis room opened");
        Ok(room)
    }

    /// Closes a room: its descriptor's closing version is stored (and federated), and the room
    /// takes no new objects here. What it holds and its audit entries stay.
    pub async fn close_room(&self, user: &User, room_ref: &str) -> Result<Room, NodeError> {
        self.may_manage_rooms(user)?;
        let held = self.room_for(user, room_ref, clock::today()).await?;
        if held.room.opened_by != self.config.nation {
            return Err(forbidden(format!(
                "crisis room {} was opened by {}: only its node closes it",
                held.room.id, held.room.opened_by
            )));
        }
        if !held.room.is_open() {
            return Err(NodeError::new(
                NodeErrorKind::Unprocessable,
                format!("crisis room {} is already closed", held.room.id),
            ));
        }
        let closed = held.room.closed_at(&clock::now_text());
        let node_room = self.node_room(closed.clone())?;
        self.store_descriptor(user, &node_room).await?;
        self.rooms.keep(node_room);
        tracing::info!(room = %closed.id, user = %user.name, "crisis room closed");
        Ok(closed)
    }

    async fn store_descriptor(&self, user: &User, room: &NodeRoom) -> Result<(), NodeError> {
        let marking_id = room.marking["id"].as_str().unwrap_or_default().to_owned();
        let envelope = json!({ "objects": [
            entente_crisis::extension_definition(),
            room.marking.as_ref(),
            room.room.to_stix(&marking_id),
        ]});
        let bytes = serde_json::to_vec(&envelope)
            .map_err(|e| NodeError::new(NodeErrorKind::Internal, e.to_string()))?;
        let status =
            crate::taxii::post_descriptor(self, user, &room.room.collection, &bytes).await?;
        if let Some(f) = status.failures.first() {
            return Err(NodeError::new(
                NodeErrorKind::Unprocessable,
                format!(
                    "crisis room {}: {} refused: {}",
                    room.room.id,
                    f.id,
                    f.message.as_deref().unwrap_or("")
                ),
            ));
        }
        Ok(())
    }

    fn may_manage_rooms(&self, user: &User) -> Result<(), NodeError> {
        if user.nation != self.config.nation {
            return Err(forbidden(format!(
                "{} is of {}, not of this node's nation {}",
                user.name, user.nation, self.config.nation
            )));
        }
        if !user.right(ROOMS_RIGHT).is_some_and(|r| r.write) {
            return Err(forbidden(format!(
                "{} has no write right on {ROOMS_RIGHT:?} (crisis rooms)",
                user.name
            )));
        }
        Ok(())
    }

    /// The rooms whose descriptor `user` may read on `day`, newest first.
    pub async fn rooms_for(&self, user: &User, day: Date) -> Result<Vec<Arc<NodeRoom>>, NodeError> {
        let mut out = Vec::new();
        for room in self.rooms.all() {
            if self.may_see_room(user, &room, day).await? {
                out.push(room);
            }
        }
        out.sort_by(|a, b| b.room.opened.cmp(&a.room.opened));
        Ok(out)
    }

    /// One room `user` may read on `day`, by its collection, descriptor id or UUID; "not found"
    /// when it does not exist here or the user may not see it (the same answer).
    pub async fn room_for(
        &self,
        user: &User,
        room_ref: &str,
        day: Date,
    ) -> Result<Arc<NodeRoom>, NodeError> {
        let uuid = room_ref
            .strip_prefix(entente_crisis::COLLECTION_PREFIX)
            .or_else(|| room_ref.strip_prefix(&format!("{ROOM_TYPE}--")))
            .unwrap_or(room_ref);
        let collection = format!("{}{uuid}", entente_crisis::COLLECTION_PREFIX);
        let room = self
            .rooms
            .get(&collection)
            .ok_or_else(|| not_found(room_ref))?;
        if !self.may_see_room(user, &room, day).await? {
            return Err(not_found(room_ref));
        }
        Ok(room)
    }

    /// Whether the room's descriptor is released to `user` (read right and label).
    async fn may_see_room(
        &self,
        user: &User,
        room: &NodeRoom,
        day: Date,
    ) -> Result<bool, NodeError> {
        if !user.may_read(&room.room.collection) {
            return Ok(false);
        }
        let rows = self
            .release_latest_of(
                &Reader::of(user),
                &room.room.collection,
                vec![room.room.id.clone()],
                day,
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// How the clause's parties changed between the room's day and `until` (from the registry).
    pub fn room_changes(&self, room: &Room, until: Date) -> Vec<entente_crisis::RoomChange> {
        match self.registry.clause(&room.clause) {
            Ok((agreement, clause)) if until > room.as_of => self
                .registry
                .participant_changes(agreement, clause, room.as_of, until)
                .into_iter()
                .map(|c| entente_crisis::RoomChange {
                    day: c.day,
                    nation: c.nation,
                    joined: c.joined,
                    reason: c.reason,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A room's descriptor received from a partner, bound by `origin`, before it is stored: the
    /// room's collection is created when new, and a later version (a closing) replaces the
    /// room's state. Only the opening nation writes a room's descriptor, and a later version
    /// changes nothing but its status.
    pub async fn room_received(
        &self,
        collection: &str,
        object: &Value,
        origin: entente_types::NationCode,
    ) -> Result<(), NodeError> {
        let refuse = |message: String| NodeError::new(NodeErrorKind::Unprocessable, message);
        let room = Room::from_stix(object).map_err(|e| refuse(e.to_string()))?;
        if room.collection != collection {
            return Err(refuse(format!(
                "crisis room {} arrived in collection {collection:?}, not its own",
                room.id
            )));
        }
        if room.opened_by != origin {
            return Err(refuse(format!(
                "crisis room {} was opened by {}, but this version is {origin}'s",
                room.id, room.opened_by
            )));
        }
        if let Some(held) = self.rooms.get(collection) {
            let same = Room {
                status: held.room.status,
                closed: held.room.closed.clone(),
                modified: held.room.modified.clone(),
                ..room.clone()
            };
            if same != held.room {
                return Err(refuse(format!(
                    "crisis room {}: a later version may change only its status",
                    room.id
                )));
            }
        } else {
            self.store
                .put_collection(&CollectionInfo {
                    id: collection.to_owned(),
                    title: "Crisis room".into(),
                    description: None,
                })
                .await?;
            tracing::info!(room = %room.id, opened_by = %room.opened_by, "crisis room announced");
        }
        self.rooms.keep(self.node_room(room)?);
        Ok(())
    }
}

fn kind_of(code: entente_types::ErrorCode) -> NodeErrorKind {
    match code {
        entente_types::ErrorCode::InvalidInput => NodeErrorKind::Unprocessable,
        entente_types::ErrorCode::NotFound => NodeErrorKind::NotFound,
        entente_types::ErrorCode::Forbidden => NodeErrorKind::Forbidden,
        _ => NodeErrorKind::Internal,
    }
}
