//! MISP warning lists: known benign values (cloud and CDN ranges, top sites, public DNS
//! resolvers, reserved and documentation networks, empty-file hashes, …) that flag likely false
//! positives among indicators.
//!
//! The lists are the `lists/<name>/list.json` files of the MISP warninglists project, as shipped
//! by the `pymispwarninglists` package. [`WarningLists::load_dir`] reads a directory of them and
//! compiles every list once; [`WarningLists::lookup`] then says which lists a value is on.
//!
//! # Example: is this indicator a documentation address?
//!
//! ```no_run
//! # fn main() -> Result<(), entente_warninglists::WarningListError> {
//! use entente_warninglists::WarningLists;
//!
//! let lists = WarningLists::load_dir("data/warninglists")?;
//! for hit in lists.lookup("192.0.2.10") {
//!     println!("on {:?} (entry {})", hit.list.name, hit.entry);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What matches, and the reference
//!
//! The reference is `pymispwarninglists` 1.7.0 (`WarningLists(slow_search=True).search(value)`),
//! the mode that compares values the way MISP does, by list type. Its default mode
//! (`slow_search=False`) only asks whether the value is written exactly like an entry of any
//! list, so it finds no address inside a network and no subdomain; that mode is
//! [`WarningLists::lookup_exact`]. By type, [`WarningLists::lookup`] answers:
//! - `cidr`: a value that Python's `ipaddress` reads as an IPv4 or IPv6 address (zone ignored)
//!   matches when a network of the list contains it; any other value (a network such as
//!   `10.0.0.0/8`, a hostname) matches only an entry written exactly like it.
//! - `hostname`: the host of the value when Python's `urlparse` finds one (lowercased), else the
//!   value itself, matches an entry equal to it or ending a `.`-separated suffix of it
//!   (`www.example.com` is on a list with `example.com` or `.example.com`; `example.com.` and
//!   `wwwexample.com` are not). Only a URL's host is lowercased, as in the reference.
//! - `string`: exact, case-sensitive (the `tlds` list holds `COM`, so `com` is not on it).
//! - `substring`: an entry found anywhere in the value, case-sensitive.
//! - `regex`: the reference never matches these (it has no code for them); we match them with
//!   PCRE's meaning, as MISP does (see `pattern.rs`).
//!
//! `matching_attributes` do not restrict [`WarningLists::lookup`] (nor the reference); MISP uses
//! them to pick the lists for an attribute type: see [`WarningList::applies_to`]. Every list in
//! the directory is loaded (the files carry no enabled/disabled flag).

mod cidr;
mod error;
mod ip;
mod list;
mod lists;
mod pattern;
mod strings;
mod substring;
mod url;

pub use error::WarningListError;
pub use list::{ListType, WarningList};
pub use lists::{Hit, WarningLists};
pub use url::{url_hostname, MalformedUrl};
