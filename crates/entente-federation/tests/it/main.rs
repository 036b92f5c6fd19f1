//! Federations of real nodes on loopback (in one process, real TLS and stores): what each nation
//! ends up holding, recall, restart, and every kind of bad input at the inbox.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crisis;
mod faults;
mod federation;
mod harness;
mod oracle;
mod property;
mod same_decision;
