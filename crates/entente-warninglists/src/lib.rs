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
//! The reference is `pymispwarninglists` 1.7.0. Its default mode (`slow_search=False`) only asks
//! whether the value is written exactly like an entry of a list, whatever the list's type: no
//! address is found inside a network, no subdomain under a domain. That mode is
//! [`WarningLists::lookup_exact`]. Its `slow_search=True` mode compares by list type, as MISP
//! does, and that is what [`WarningLists::lookup`] answers (on 100,000 test values the two modes
//! disagree on a third):
//! - `cidr`: a value that Python's `ipaddress` reads as an IPv4 or IPv6 address (strictly: no
//!   leading zeros, no spaces; an IPv6 zone is accepted and ignored) matches when a network of the
//!   list contains it; any other value (`10.0.0.0/8`, a host name) matches only an entry written
//!   exactly like it.
//! - `hostname`: the host of the value when Python's `urlparse` finds one (after `//`, lowercased),
//!   else the value itself, matches an entry equal to it, or ends with `.` and an entry without
//!   its leading dots: `www.example.com` is on a list holding `example.com` or `.example.com`;
//!   `example.com.` and `wwwexample.com` are not. Nothing else is lowercased ([`url_hostname`]).
//! - `string`: exact and case-sensitive (the `tlds` list holds `COM`, so `com` is not on it).
//! - `substring`: an entry found anywhere in the value, case-sensitive.
//! - `regex`: `pymispwarninglists` never matches these (its search has no code for the type);
//!   we match the PHP-style patterns as MISP does, with PCRE's meaning.
//!
//! Where `pymispwarninglists` raises instead of answering (`urlparse` refusing a URL such as
//! `http://[::1/`), the value is compared as it is written. `matching_attributes` restrict
//! neither [`WarningLists::lookup`] nor the reference; MISP uses them to pick the lists for an
//! attribute type: see [`WarningList::applies_to`]. Every list in the directory is loaded (the
//! files carry no enabled/disabled flag). The tests compare both modes with the reference on
//! 100,000 seeded values and show both answers where they differ on purpose.
//!
//! # Speed
//!
//! Each type is compiled once for all its lists: the ~110,000 networks into one sorted table of
//! disjoint ranges per address family (one binary search per address), the 2.5 million entries
//! into one hash table keyed by entry (exact and `string` matches) and the host names into another
//! keyed by entry without leading dots (one probe per `.` of the host), the substrings into one
//! Aho–Corasick automaton and the patterns into one `RegexSet`. The reference tries the entries
//! of its host-name lists one by one, about 0.15 s per value.

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
