//! The subset shipped in `data/warninglists/` loads and answers the values the demonstration uses.

use std::path::PathBuf;

use entente_warninglists::{ListType, WarningLists};

fn vendored() -> WarningLists {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/warninglists");
    WarningLists::load_dir(&directory).unwrap()
}

fn names(lists: &WarningLists, value: &str) -> Vec<String> {
    lists.names_of(value)
}

#[test]
fn vendored_subset_loads() {
    let lists = vendored();
    let folders: Vec<(&str, ListType, usize)> = lists
        .lists()
        .iter()
        .map(|list| (list.name.as_str(), list.list_type, list.entries.len()))
        .collect();
    assert_eq!(
        folders,
        [
            ("List of IPv6 link local blocks", ListType::Cidr, 1),
            ("List of RFC 5771 multicast CIDR blocks", ListType::Cidr, 16),
            (
                "List of known IPv6 public DNS resolvers",
                ListType::Cidr,
                269
            ),
            ("List of RFC 1918 CIDR blocks", ListType::Cidr, 3),
            ("List of RFC 3849 CIDR blocks", ListType::Cidr, 1),
            ("List of RFC 5735 CIDR blocks", ListType::Cidr, 15),
            ("List of RFC 6598 CIDR blocks", ListType::Cidr, 1),
            (
                "List of RFC 6761 Special-Use Domain Names",
                ListType::String,
                21
            ),
        ]
    );
    assert!(lists
        .lists()
        .iter()
        .all(|list| list.applies_to("domain|ip")));
}

#[test]
fn vendored_subset_answers() {
    let lists = vendored();
    assert_eq!(
        names(&lists, "192.0.2.10"),
        ["List of RFC 5735 CIDR blocks"]
    );
    assert_eq!(
        names(&lists, "10.20.30.40"),
        [
            "List of RFC 1918 CIDR blocks",
            "List of RFC 5735 CIDR blocks"
        ]
    );
    assert_eq!(
        names(&lists, "100.64.0.1"),
        ["List of RFC 6598 CIDR blocks"]
    );
    assert_eq!(
        names(&lists, "2001:db8::53"),
        ["List of RFC 3849 CIDR blocks"]
    );
    assert_eq!(
        names(&lists, "fe80::1%eth0"),
        ["List of IPv6 link local blocks"]
    );
    assert_eq!(
        names(&lists, "224.0.0.251"),
        [
            "List of RFC 5771 multicast CIDR blocks",
            "List of RFC 5735 CIDR blocks"
        ]
    );
    assert_eq!(
        names(&lists, "2001:4860:4860::8888"),
        ["List of known IPv6 public DNS resolvers"]
    );
    assert_eq!(
        names(&lists, "example.com"),
        ["List of RFC 6761 Special-Use Domain Names"]
    );
    // A string list: subdomains and other cases are not on it.
    assert!(names(&lists, "www.example.com").is_empty());
    assert!(names(&lists, "EXAMPLE.COM").is_empty());
    assert!(names(&lists, "8.8.8.8").is_empty());
    assert!(names(&lists, "").is_empty());
}
