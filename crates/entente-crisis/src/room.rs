//! A room and its descriptor: a STIX Domain Object of Entente's own type, defined by an
//! extension definition, stored in the room's collection under the room's label.

use entente_types::{Date, NationCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::CrisisError;

/// The STIX type of a room's descriptor.
pub const ROOM_TYPE: &str = "x-entente-crisis-room";
/// Every room's collection id starts so; the rest is the descriptor's UUID.
pub const COLLECTION_PREFIX: &str = "crisis-";

/// Whether a collection id names a crisis room.
pub fn is_room_collection(collection: &str) -> bool {
    collection
        .strip_prefix(COLLECTION_PREFIX)
        .is_some_and(|rest| uuid::Uuid::parse_str(rest).is_ok())
}

const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x3c0e_51d2_7a4b_4f8e_9d16_b2a5_c7e8_0f41);

/// The id of the extension definition that defines [`ROOM_TYPE`].
pub fn extension_id() -> String {
    format!(
        "extension-definition--{}",
        uuid::Uuid::new_v5(&NAMESPACE, b"entente/crisis-room/1.0.0")
    )
}

/// The extension definition of [`ROOM_TYPE`] (a new SDO); every reader may see it.
pub fn extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id(),
        "created_by_ref": format!("identity--{}", uuid::Uuid::new_v5(&NAMESPACE, b"entente")),
        "created": "2026-12-07T00:00:00.000Z",
        "modified": "2026-12-07T00:00:00.000Z",
        "name": "Entente crisis room",
        "description": "A consultation among the nations an invoked clause binds: the clause, the \
                        requesting nations, the participants as of the day it was opened and why, \
                        and the collection that holds what they publish in it.",
        "schema": "x-entente-crisis-room: name, collection (crisis-<uuid>), clause \
                   (agreement/clause), article, clause_text, requested_by (ISO 3166-1 alpha-3), \
                   as_of (YYYY-MM-DD), opened_by, participants [{nation, requesting, reason}], \
                   label (the room's marking), status (open | closed), closed (timestamp).",
        "version": "1.0.0",
        "extension_types": ["new-sdo"]
    })
}

/// Whether a room still takes new objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomStatus {
    Open,
    /// Frozen: nothing more is published in it; what it holds and its audit entries stay.
    Closed,
}

/// A nation in the room as of the day it was opened, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomParticipant {
    pub nation: NationCode,
    pub requesting: bool,
    pub reason: String,
    /// Whether the room's label is releasable to it on the room's day; a participant the
    /// label does not reach (no security agreement in force yet, say) receives nothing until
    /// the policy permits, and `withheld` says why.
    #[serde(default = "yes")]
    pub receives: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

fn yes() -> bool {
    true
}

/// A crisis room, as its descriptor records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    /// The descriptor's STIX id (`x-entente-crisis-room--<uuid>`).
    pub id: String,
    /// The collection that holds the room's objects (`crisis-<uuid>`, the same UUID).
    pub collection: String,
    pub title: String,
    /// `agreement/clause`, as the registry names it.
    pub clause: String,
    /// The article as cited, e.g. "Article 4".
    pub article: String,
    /// The agreement's name.
    pub agreement_name: String,
    /// The clause's text or summary, from the registry.
    pub clause_text: String,
    pub requested_by: Vec<NationCode>,
    /// The day the room was opened as of: participants are computed for it.
    pub as_of: Date,
    pub opened_by: NationCode,
    /// When it was opened (STIX timestamp).
    pub opened: String,
    pub participants: Vec<RoomParticipant>,
    /// The room's label as a marking (`NATO SECRET`).
    pub label: String,
    pub status: RoomStatus,
    /// When it was closed (STIX timestamp).
    pub closed: Option<String>,
    /// The descriptor version's `modified`.
    pub modified: String,
}

impl Room {
    /// The room's UUID, shared by its descriptor and its collection.
    pub fn uuid(&self) -> &str {
        self.collection
            .strip_prefix(COLLECTION_PREFIX)
            .unwrap_or(&self.collection)
    }

    pub fn is_open(&self) -> bool {
        self.status == RoomStatus::Open
    }

    /// The descriptor of the room, marked with `marking_id` (the room label's marking
    /// definition).
    pub fn to_stix(&self, marking_id: &str) -> Value {
        let mut v = json!({
            "type": ROOM_TYPE,
            "spec_version": "2.1",
            "id": self.id,
            "created": self.opened,
            "modified": self.modified,
            "name": self.title,
            "collection": self.collection,
            "clause": self.clause,
            "article": self.article,
            "agreement_name": self.agreement_name,
            "clause_text": self.clause_text,
            "requested_by": self.requested_by,
            "as_of": self.as_of.to_string(),
            "opened_by": self.opened_by,
            "participants": self.participants,
            "label": self.label,
            "status": self.status,
            "object_marking_refs": [marking_id],
            "extensions": { extension_id(): { "extension_type": "new-sdo" } },
        });
        if let (Some(closed), Some(m)) = (&self.closed, v.as_object_mut()) {
            m.insert("closed".into(), json!(closed));
        }
        v
    }

    /// The version that closes the room at `now` (a STIX timestamp later than `modified`).
    pub fn closed_at(&self, now: &str) -> Room {
        Room {
            status: RoomStatus::Closed,
            closed: Some(now.to_owned()),
            modified: now.to_owned(),
            ..self.clone()
        }
    }

    /// Reads a descriptor, checking what a node relies on: the type, the id and collection
    /// sharing one UUID, nation codes and dates.
    pub fn from_stix(value: &Value) -> Result<Room, CrisisError> {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("(no id)")
            .to_owned();
        let bad = |message: String| CrisisError::Descriptor {
            id: id.clone(),
            message,
        };
        if value.get("type").and_then(Value::as_str) != Some(ROOM_TYPE) {
            return Err(bad(format!("type: not {ROOM_TYPE}")));
        }
        let text = |field: &str| -> Result<String, CrisisError> {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("{field}: missing or not a string")))
        };
        let field = |field: &str| -> Result<Value, CrisisError> {
            value
                .get(field)
                .cloned()
                .ok_or_else(|| bad(format!("{field}: missing")))
        };
        fn from<T: serde::de::DeserializeOwned>(
            name: &str,
            v: Value,
            bad: &dyn Fn(String) -> CrisisError,
        ) -> Result<T, CrisisError> {
            serde_json::from_value(v).map_err(|e| bad(format!("{name}: {e}")))
        }
        let room = Room {
            id: id.clone(),
            collection: text("collection")?,
            title: text("name")?,
            clause: text("clause")?,
            article: text("article")?,
            agreement_name: text("agreement_name")?,
            clause_text: text("clause_text")?,
            requested_by: from("requested_by", field("requested_by")?, &bad)?,
            as_of: entente_types::parse_date(&text("as_of")?)
                .map_err(|e| bad(format!("as_of: {e}")))?,
            opened_by: from("opened_by", field("opened_by")?, &bad)?,
            opened: text("created")?,
            participants: from("participants", field("participants")?, &bad)?,
            label: text("label")?,
            status: from("status", field("status")?, &bad)?,
            closed: value
                .get("closed")
                .and_then(Value::as_str)
                .map(str::to_owned),
            modified: text("modified")?,
        };
        let uuid = id
            .strip_prefix(ROOM_TYPE)
            .and_then(|r| r.strip_prefix("--"))
            .ok_or_else(|| bad(format!("id: not {ROOM_TYPE}--<uuid>")))?;
        if room.collection != format!("{COLLECTION_PREFIX}{uuid}") {
            return Err(bad(format!(
                "collection: {:?} is not {COLLECTION_PREFIX}{uuid}",
                room.collection
            )));
        }
        if room.requested_by.is_empty() {
            return Err(bad("requested_by: empty".into()));
        }
        if room.status == RoomStatus::Closed && room.closed.is_none() {
            return Err(bad("closed: missing on a closed room".into()));
        }
        Ok(room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        let uuid = "0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11";
        Room {
            id: format!("{ROOM_TYPE}--{uuid}"),
            collection: format!("{COLLECTION_PREFIX}{uuid}"),
            title: "Consultation".into(),
            clause: "north-atlantic-treaty/art4".into(),
            article: "Article 4".into(),
            agreement_name: "North Atlantic Treaty".into(),
            clause_text: "The Parties will consult together".into(),
            requested_by: vec!["POL".parse::<NationCode>().unwrap()],
            as_of: entente_types::parse_date("2022-02-24").unwrap(),
            opened_by: "FRA".parse::<NationCode>().unwrap(),
            opened: "2026-12-07T10:00:00.000Z".into(),
            participants: vec![RoomParticipant {
                nation: "POL".parse::<NationCode>().unwrap(),
                requesting: true,
                reason: "member of NATO since 1999-03-12".into(),
                receives: true,
                withheld: None,
            }],
            label: "NATO SECRET".into(),
            status: RoomStatus::Open,
            closed: None,
            modified: "2026-12-07T10:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_descriptor_round_trips_open_and_closed() {
        let open = room();
        let marking = "marking-definition--1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9";
        let v = open.to_stix(marking);
        assert_eq!(v["object_marking_refs"][0], marking);
        assert_eq!(Room::from_stix(&v).unwrap(), open);
        let closed = open.closed_at("2026-12-08T09:00:00.000Z");
        let v = closed.to_stix(marking);
        assert_eq!(v["status"], "closed");
        assert_eq!(Room::from_stix(&v).unwrap(), closed);
        assert!(!closed.is_open());
        assert_eq!(closed.uuid(), "0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11");
    }

    #[test]
    fn a_descriptor_whose_collection_is_not_its_own_is_refused() {
        let mut v = room().to_stix("marking-definition--x");
        v["collection"] = json!("crisis-11111111-1111-4111-8111-111111111111");
        let e = Room::from_stix(&v).unwrap_err().to_string();
        assert!(e.contains("collection"), "{e}");
        let mut v = room().to_stix("marking-definition--x");
        v["requested_by"] = json!(["pol"]);
        let e = Room::from_stix(&v).unwrap_err().to_string();
        assert!(e.contains("requested_by"), "{e}");
        let mut v = room().to_stix("marking-definition--x");
        v["type"] = json!("report");
        assert!(Room::from_stix(&v).is_err());
    }

    #[test]
    fn room_collections_are_recognised_by_prefix_and_uuid() {
        assert!(is_room_collection(
            "crisis-0b6c7b52-5d64-4b5f-9a43-7d5b2f3c8e11"
        ));
        assert!(!is_room_collection("crisis-rooms"));
        assert!(!is_room_collection("exercise"));
    }
}
