//! Integration tests of the `entente` binary, one module per subcommand family. Each test runs
//! the real binary and checks its stdout, stderr and exit code.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod audit_faults;
mod burden;
mod cli;
mod console_browser;
mod crisis;
mod demo;
mod exercise;
mod federation;
mod federation_faults;
mod label;
mod node;
mod picture;
mod registry;
mod registry_invocations;
mod release;
mod scale_out;
mod search_cli;
mod util;
