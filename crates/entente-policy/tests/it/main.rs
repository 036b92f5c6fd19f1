//! Integration tests of entente-policy.
//!
//! - `differential`: the compiled decision ([`ReleasePolicy::decide`]) and its Cedar encoding
//!   ([`CedarPolicy::decide`]) agree on random registries, labels, days and nations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod differential;
