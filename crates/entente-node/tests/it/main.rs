//! The node over HTTP: each test starts a real server on `127.0.0.1:0` with a fresh SQLite store
//! and talks to it with an HTTP client.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod faults;
mod interop;
mod leaks;
mod openapi;
mod picture;
mod sandbox;
mod search;
mod taxii;
mod tls;
mod validator;
