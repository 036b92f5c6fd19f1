//! Integration tests of the warning lists: the vendored subset, and lookups over the full set
//! compared with `pymispwarninglists`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod differential;
mod oracle;
mod reference_bugs;
mod values;
mod vendored;
