//! Integration tests of entente-pattern: differential tests against the OASIS Python tools, and
//! round trips of the canonical text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod documented_differences;
mod matcher_corpus;
mod matcher_oracle;
mod pattern_oracle;
mod roundtrip;
mod support;
