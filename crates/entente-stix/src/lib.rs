//! STIX 2.1 on ingest, and the TAXII 2.1 resources a node serves.
//!
//! [`validate_object`] checks one STIX 2.1 object the way a node must before storing it: the
//! properties its type requires ([`required_properties`]: one table for every STIX 2.1 type) and
//! the rules that join properties, the agreement of `type` and `id` and the UUID form of the id,
//! RFC 3339 UTC timestamps in the order STIX fixes, well-formed reference properties (`*_ref`,
//! `*_refs`, at any depth), no empty list and `spec_version` "2.1". It reports every problem with
//! its JSON path (`$.granular_markings[0].marking_ref`), never only the first, and on success
//! returns the [`ObjectHeader`] the store indexes by.
//!
//! [`taxii`] holds the TAXII 2.1 resource shapes (discovery, API root, collections, envelope,
//! manifest, versions, status, error) as serde types: the published wire format, and nothing else.
//!
//! This crate is data only: no IO, no clock, no labels (whether an object may be released is
//! `entente-policy`'s question).

mod error;
mod spec;
pub mod taxii;
mod timestamp;
mod validate;

pub use crate::error::{Problem, StixError, StixErrorKind};
pub use crate::spec::{
    is_sco_type, required_properties, META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES,
};
pub use crate::timestamp::{Timestamp, TimestampError};
pub use crate::validate::{is_identifier, validate_object, ObjectHeader};

/// The media type of STIX 2.1 content.
pub const MEDIA_TYPE_STIX: &str = "application/stix+json;version=2.1";
/// The media type of TAXII 2.1 resources.
pub const MEDIA_TYPE_TAXII: &str = "application/taxii+json;version=2.1";

#[cfg(test)]
mod tests;
