//! The console over HTTP: each test starts a real node with its console on `127.0.0.1:0` and
//! talks to it as a browser would (cookies, forms, htmx headers).

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod burden;
mod crisis;
mod exercises;
mod harness;
mod leaks;
mod partners;
mod picture;
mod registry;
mod search;
mod web;
