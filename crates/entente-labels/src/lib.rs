//! Confidentiality labels after STANAG 4774, in three forms that round-trip.
//!
//! A [`Label`] holds a policy and classification, "Releasable To" sets (permissive), caveats
//! ("Additional Sensitivity", restrictive) and contexts (informative), and the originator, creation
//! and review times. Policies are data ([`PolicySet`], from `data/policies/`): ordered levels, their
//! markings, known caveats and contexts, and what a label without "Releasable To" means.
//!
//! Forms:
//! - the human marking, `NATO SECRET//REL TO FRA, GBR, USA` ([`parse_marking`], [`render_marking`]);
//! - JSON, a STIX 2.1 marking-definition carrying the label in an extension ([`stix`]);
//! - the STANAG 4774 XML form ([`xml`]), which refuses DTDs and entities.
//!
//! [`forms`] reads a label in whichever of the three forms it comes and lists its fields.
//!
//! Portion labels are STIX granular markings ([`portion`]). Labels combine by dominance
//! ([`Label::dominate`]): highest classification, "Releasable To" sets intersected, caveats united;
//! an empty "Releasable To" set means releasable to nobody, never to everybody.
//!
//! This crate validates labels against their policy; it does not decide releases (that is
//! `entente-policy`, which resolves group tokens such as `NATO` through the registry on the day of
//! the decision). It reads no clock.

mod error;
pub mod forms;
mod label;
mod marking;
mod policy;
pub mod portion;
pub mod stix;
pub mod xml;

pub use crate::error::{LabelError, LabelErrorKind};
pub use crate::label::{check_characters, Label, ReleaseToken, MAX_RELEASE_SETS, MAX_VALUES};
pub use crate::marking::{parse_marking, render_marking, MAX_MARKING_BYTES, RELEASE_TO_NONE};
pub use crate::policy::{DefaultRelease, Level, Policy, PolicySet};

#[cfg(test)]
mod tests;
