//! Search, correlation and pattern matching over what one reader was released.
//!
//! A [`SearchIndex`] holds one reader's view: the copies released to the reader (by the node's
//! one release path), never a stored text. Everything it answers (results, counts, facets,
//! correlations, the graph around an object, pattern hits) is computed from it, so a reader
//! learns nothing of objects it may not see, not even that they exist.
//!
//! - [`Observable`]: values in one normal form, read from SCOs, observed data, vulnerabilities
//!   and indicators' STIX patterns ([`observables_of`]).
//! - [`Query`]: the search language (`type:indicator originator:FRA added:2024-08 ransomware`).
//! - [`relate::relation`]: the one definition of related values (address in network, domain
//!   and subdomain, URLs of one site), used by the index and by [`reference::Plain`], the plain
//!   evaluation tests compare the index with.
//! - [`Warnings`]: which MISP warning lists a value is on; correlation ignores such values by
//!   default.
//!
//! Data only: no IO, no clock. The node keeps an index per reader up to date.

mod correlate;
mod index;
mod matching;
mod observable;
mod query;
pub mod reference;
pub mod relate;
mod text;
mod warn;

pub use crate::correlate::{
    Correlated, CorrelationOptions, Correlations, Edge, Graph, GraphNode, Link,
};
pub use crate::index::{Document, Facets, Hit, SearchIndex, SearchResults, Sort, Warned};
pub use crate::matching::{MatchReport, PatternHit};
pub use crate::observable::{observables_of, pattern_observables, Observable};
pub use crate::query::{Query, QueryError, Word};
pub use crate::relate::Relation;
pub use crate::warn::Warnings;

#[cfg(test)]
mod tests;
