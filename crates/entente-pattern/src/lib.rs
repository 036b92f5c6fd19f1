//! The STIX 2.1 patterning language (STIX 2.1 section 9): a parser that accepts exactly what the
//! OASIS validator (`stix2-patterns` 2.1.2) accepts, with positioned errors; the comparisons a pattern
//! names (what a search index reads); a canonical text; and a matcher with the semantics of the OASIS
//! matcher (`stix2-matcher` 3.0.0, STIX 2.1) over observed-data.
//!
//! ```text
//! let pattern = Pattern::parse("[ipv4-addr:value = '198.51.100.7'] WITHIN 60 SECONDS")?;
//! for c in pattern.comparisons() {
//!     index(&c.object_type, &c.path.to_string(), c.value.as_ref());   // ipv4-addr, value, '198.51.100.7'
//! }
//! let matcher = pattern.matcher()?;                         // constants, regexes, LIKE compiled once
//! let observations = observations_from_objects(&bundle_objects)?;   // or Observation::from_observed_data
//! matcher.matches(&observations)?                           // bool; matcher.find(..) gives the observations
//! ```
//!
//! Where the OASIS tools have outright bugs we do not copy them; each such case has a test showing
//! both answers (`tests/it/documented_differences.rs`, `accepts_what_the_validator_crashes_on`).

mod ast;
mod check;
mod display;
mod error;
mod lexer;
mod matcher;
mod observation;
mod parser;
mod timestamp;
mod value;

pub use ast::{
    Comparison, ComparisonExpr, Constant, Number, ObjectPath, ObservationExpr, Operator, PathStep,
    Pattern, Qualifier, Timestamp,
};
pub use error::{MatchError, PatternError, PatternErrorKind};
pub use matcher::Matcher;
pub use observation::{observations_from_bundles, observations_from_objects, Observation};

#[cfg(test)]
mod tests;
