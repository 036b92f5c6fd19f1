//! Crisis rooms (M1, M4): consultation under an invoked clause among exactly the nations it binds.
//!
//! A room is opened at one participant's node for a clause of an agreement in the registry
//! (NATO's Article 4 or 5, the EU's Article 42(7), a bilateral mutual-assistance article), the
//! nations that requested it and the day it is opened "as of". This crate answers, as pure
//! functions of the registry, the policies and the day:
//! - who takes part and why ([`plan`], from `Registry::participants`);
//! - the room's label ([`room_label`]): the one every object published in the room gets by
//!   default, chosen so that the release policy itself keeps the room's objects among its
//!   participants (for an organisation's clause, its policy's default release to its members,
//!   which follows accessions and departures day by day);
//! - whether an object's label keeps it inside the room ([`Boundary::admits`]);
//! - the room's descriptor, a STIX object of its own type ([`Room::to_stix`],
//!   [`Room::from_stix`]) stored in the room's collection under the room's label, so that
//!   federation announces the room to exactly the nations the policy releases it to, and to no
//!   one else.
//!
//! Nothing here reads the clock or does IO; the node stores and serves rooms.

mod boundary;
mod plan;
mod report;
mod room;

pub use boundary::{Boundary, Outside};
pub use plan::{plan, room_label, OpenRequest};
pub use report::{RoomChange, RoomDetail, RoomList};
pub use room::{
    extension_definition, extension_id, is_room_collection, Room, RoomParticipant, RoomStatus,
    COLLECTION_PREFIX, ROOM_TYPE,
};

use entente_types::ErrorCode;

/// Why a room cannot be opened, read or entered.
#[derive(Debug, thiserror::Error)]
pub enum CrisisError {
    /// The registry refused the request (unknown clause, a requesting nation not a party…).
    #[error("{0}")]
    Registry(#[from] entente_registry::Error),
    #[error("{0}")]
    Label(#[from] entente_labels::LabelError),
    /// A request that cannot be served as asked; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// A stored or received descriptor that is not a room's; the message names the property.
    #[error("crisis room descriptor {id}: {message}")]
    Descriptor { id: String, message: String },
}

impl CrisisError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CrisisError::Registry(e) => e.code(),
            CrisisError::Label(e) => e.code(),
            CrisisError::Invalid(_) | CrisisError::Descriptor { .. } => ErrorCode::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests;
