use super::*;

fn list(name: &str, list_type: ListType, entries: &[&str]) -> WarningList {
    WarningList {
        name: name.to_owned(),
        description: format!("test list {name}"),
        version: 1,
        list_type,
        matching_attributes: vec!["ip-dst".to_owned()],
        entries: entries.iter().map(|entry| (*entry).to_owned()).collect(),
    }
}

fn lists() -> WarningLists {
    WarningLists::from_lists(vec![
        list(
            "private",
            ListType::Cidr,
            &["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "fc00::/7"],
        ),
        list(
            "documentation",
            ListType::Cidr,
            &[
                "192.0.2.0/24",
                "2001:db8::/32",
                "198.51.100.7",
                "10.0.0.1/8",
                "not a network",
            ],
        ),
        list(
            "hosts",
            ListType::Hostname,
            &[
                "example.com",
                ".Mixed.Example",
                "a.b.example.net",
                "corona helden",
            ],
        ),
        list(
            "dotted",
            ListType::Hostname,
            &[".example.com", "trailing.example."],
        ),
        list(
            "strings",
            ListType::String,
            &["COM", "d41d8cd98f00b204e9800998ecf8427e", "example.com", ""],
        ),
        list(
            "substrings",
            ListType::Substring,
            &["mailinator.", "@test.", "tracker"],
        ),
        list("more substrings", ListType::Substring, &["mailinator.com"]),
        list(
            "patterns",
            ListType::Regex,
            &[r"/^(security|abuse)\@.*\..*$/i"],
        ),
    ])
    .unwrap()
}

/// The names of the lists `value` is on, with the entry matched.
fn check(value: &str) -> Vec<(String, String)> {
    lists()
        .lookup(value)
        .into_iter()
        .map(|hit| (hit.list.name.clone(), hit.entry.to_owned()))
        .collect()
}

fn names(value: &str) -> Vec<String> {
    check(value).into_iter().map(|(name, _)| name).collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(name, entry)| ((*name).to_owned(), (*entry).to_owned()))
        .collect()
}

#[test]
fn cidr_addresses_in_networks() {
    assert_eq!(check("10.2.3.4"), pairs(&[("private", "10.0.0.0/8")]));
    // The most specific network of a list is the one reported.
    assert_eq!(check("10.1.200.1"), pairs(&[("private", "10.1.0.0/16")]));
    assert_eq!(check("10.255.255.255"), pairs(&[("private", "10.0.0.0/8")]));
    assert_eq!(names("11.0.0.0"), Vec::<String>::new());
    assert_eq!(names("9.255.255.255"), Vec::<String>::new());
    assert_eq!(
        check("198.51.100.7"),
        pairs(&[("documentation", "198.51.100.7")])
    );
    assert_eq!(names("198.51.100.8"), Vec::<String>::new());
    // Overlapping lists each answer.
    assert_eq!(
        check("192.0.2.255"),
        pairs(&[("documentation", "192.0.2.0/24")])
    );
}

#[test]
fn cidr_ipv6() {
    assert_eq!(
        check("2001:db8::1"),
        pairs(&[("documentation", "2001:db8::/32")])
    );
    assert_eq!(
        check("2001:DB8:FFFF::"),
        pairs(&[("documentation", "2001:db8::/32")])
    );
    assert_eq!(check("fd12::1%eth0"), pairs(&[("private", "fc00::/7")]));
    assert_eq!(names("2001:db9::"), Vec::<String>::new());
    assert_eq!(names("fe00::"), Vec::<String>::new());
    // IPv4-mapped addresses are IPv6 addresses, not IPv4 ones.
    assert_eq!(names("::ffff:10.0.0.1"), Vec::<String>::new());
    // Brackets make it no address (and no URL).
    assert_eq!(names("[2001:db8::1]"), Vec::<String>::new());
}

#[test]
fn cidr_values_that_are_not_addresses_match_only_exact_entries() {
    assert_eq!(check("10.0.0.0/8"), pairs(&[("private", "10.0.0.0/8")]));
    // A network inside a listed one is not found: the reference compares it as a string.
    assert_eq!(names("10.1.0.0/24"), Vec::<String>::new());
    // Entries that are no network for Python still match themselves.
    assert_eq!(
        check("10.0.0.1/8"),
        pairs(&[("documentation", "10.0.0.1/8")])
    );
    assert_eq!(
        check("not a network"),
        pairs(&[("documentation", "not a network")])
    );
    // Python refuses leading zeros and spaces, so these are strings, on no list.
    assert_eq!(names("010.0.0.1"), Vec::<String>::new());
    assert_eq!(names(" 10.0.0.1"), Vec::<String>::new());
    assert_eq!(names("10.0.0.1 "), Vec::<String>::new());
}

#[test]
fn hostnames_and_parent_domains() {
    assert_eq!(
        check("example.com"),
        pairs(&[("hosts", "example.com"), ("strings", "example.com")])
    );
    assert_eq!(
        check("www.example.com"),
        pairs(&[("hosts", "example.com"), ("dotted", ".example.com")])
    );
    assert_eq!(
        check("a.b.c.example.com"),
        pairs(&[("hosts", "example.com"), ("dotted", ".example.com")])
    );
    assert_eq!(names("wwwexample.com"), Vec::<String>::new());
    assert_eq!(names("example.com."), Vec::<String>::new());
    assert_eq!(names("b.example.net"), Vec::<String>::new());
    assert_eq!(names("x.a.b.example.net"), ["hosts"]);
    // A leading-dot entry matches itself exactly and its subdomains, not the bare domain.
    assert_eq!(names(".example.com"), ["hosts", "dotted"]);
    // Outside URLs no case folding: entries and values are compared as written.
    assert_eq!(names("WWW.EXAMPLE.COM"), Vec::<String>::new());
    assert_eq!(names("www.Mixed.Example"), ["hosts"]);
    // An entry with a trailing dot matches a value with one.
    assert_eq!(names("x.trailing.example."), ["dotted"]);
    assert_eq!(names("corona helden"), ["hosts"]);
    assert_eq!(names(""), ["strings"]);
}

#[test]
fn hostnames_in_urls() {
    assert_eq!(
        check("https://user@WWW.Example.COM:8443/path?q=1#f"),
        pairs(&[("hosts", "example.com"), ("dotted", ".example.com")])
    );
    assert_eq!(names("http://example.com"), ["hosts"]);
    assert_eq!(names("//example.com/x"), ["hosts"]);
    // Lowercased host cannot match an entry with capitals.
    assert_eq!(names("http://www.Mixed.Example/"), Vec::<String>::new());
    // No `//`: not a URL for the reference, the whole value is compared.
    assert_eq!(names("example.com:443/x"), Vec::<String>::new());
    assert_eq!(names("example.com/x"), Vec::<String>::new());
    // A URL host that is an address is not looked up in cidr lists.
    assert_eq!(names("http://10.0.0.1/"), Vec::<String>::new());
    // A URL Python refuses is compared as it is written.
    assert_eq!(names("http://[example.com/"), Vec::<String>::new());
}

#[test]
fn strings_are_exact_and_case_sensitive() {
    assert_eq!(check("COM"), pairs(&[("strings", "COM")]));
    assert_eq!(names("com"), Vec::<String>::new());
    assert_eq!(names("d41d8cd98f00b204e9800998ecf8427e"), ["strings"]);
    assert_eq!(
        names("D41D8CD98F00B204E9800998ECF8427E"),
        Vec::<String>::new()
    );
    assert_eq!(
        names("d41d8cd98f00b204e9800998ecf8427e "),
        Vec::<String>::new()
    );
}

#[test]
fn substrings_anywhere_case_sensitive() {
    assert_eq!(
        check("someone@mailinator.com"),
        pairs(&[
            ("substrings", "mailinator."),
            ("more substrings", "mailinator.com")
        ])
    );
    assert_eq!(names("x@test.example"), ["substrings"]);
    assert_eq!(names("x@TEST.example"), Vec::<String>::new());
    assert_eq!(names("http://tracker.example/"), ["substrings"]);
    assert_eq!(names("mailinator"), Vec::<String>::new());
}

#[test]
fn regexes_match_like_misp() {
    assert_eq!(names("abuse@example.org"), ["patterns"]);
    assert_eq!(names("Security@example.org"), ["patterns"]);
    assert_eq!(names("abuse@example"), Vec::<String>::new());
}

#[test]
fn garbage_is_on_no_list() {
    for value in [
        "\u{0}",
        "....",
        "::::",
        "://",
        "http://",
        "[",
        "%",
        "\u{202e}example.com",
        "🦀",
    ] {
        assert_eq!(names(value), Vec::<String>::new(), "{value:?}");
    }
    assert_eq!(names("http://[::1"), Vec::<String>::new());
}

#[test]
fn exact_mode_is_exact_for_every_type() {
    let lists = lists();
    let exact_names = |value: &str| -> Vec<String> {
        lists
            .lookup_exact(value)
            .into_iter()
            .map(|hit| hit.list.name.clone())
            .collect()
    };
    assert_eq!(exact_names("10.0.0.0/8"), ["private"]);
    assert_eq!(exact_names("10.2.3.4"), Vec::<String>::new());
    assert_eq!(exact_names("example.com"), ["hosts", "strings"]);
    assert_eq!(exact_names("www.example.com"), Vec::<String>::new());
    assert_eq!(exact_names("mailinator."), ["substrings"]);
    assert_eq!(exact_names(r"/^(security|abuse)\@.*\..*$/i"), ["patterns"]);
}

#[test]
fn typed_fast_paths() {
    let lists = lists();
    let ip_names = |address: &str| -> Vec<String> {
        lists
            .lookup_ip(address.parse().unwrap())
            .into_iter()
            .map(|hit| hit.list.name.clone())
            .collect()
    };
    assert_eq!(ip_names("10.1.2.3"), ["private"]);
    assert_eq!(ip_names("2001:db8::5"), ["documentation"]);
    assert_eq!(ip_names("8.8.8.8"), Vec::<String>::new());
    let host_names: Vec<String> = lists
        .lookup_hostname("mail.example.com")
        .into_iter()
        .map(|hit| hit.list.name.clone())
        .collect();
    assert_eq!(host_names, ["hosts", "dotted"]);
}

#[test]
fn duplicate_names_and_bad_patterns_are_refused() {
    let error = WarningLists::from_lists(vec![
        list("same", ListType::String, &[]),
        list("same", ListType::Cidr, &[]),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "lists[1]: list name \"same\" is already used by lists[0]"
    );
    let error =
        WarningLists::from_lists(vec![list("bad", ListType::Regex, &["/ok/", "/(/"])]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("lists[0]: field `list[1]`: regex parse error"),
        "{error}"
    );
    let error =
        WarningLists::from_lists(vec![list("bad", ListType::Regex, &["nodelimiter"])]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "lists[0]: field `list[0]`: delimiter 'n' must not be alphanumeric, a backslash or a space"
    );
}

#[test]
fn empty_set() {
    let lists = WarningLists::from_lists(Vec::new()).unwrap();
    assert!(lists.is_empty());
    assert_eq!(lists.lookup("10.0.0.1"), []);
    assert_eq!(lists.lookup(""), []);
}

#[test]
fn load_dir_reads_folders_in_order_and_names_files_in_errors() {
    let directory = tempfile::tempdir().unwrap();
    let write = |folder: &str, json: &str| {
        std::fs::create_dir_all(directory.path().join(folder)).unwrap();
        std::fs::write(directory.path().join(folder).join("list.json"), json).unwrap();
    };
    write(
        "b-hosts",
        r#"{"name": "hosts", "description": "d", "version": 2, "type": "hostname", "list": ["example.org"]}"#,
    );
    write(
        "a-nets",
        r#"{"name": "nets", "description": "d", "version": 1, "type": "cidr", "list": ["192.0.2.0/24"]}"#,
    );
    std::fs::create_dir_all(directory.path().join("c-no-list")).unwrap();
    std::fs::write(directory.path().join("README.md"), "not a list").unwrap();
    let lists = WarningLists::load_dir(directory.path()).unwrap();
    let names: Vec<&str> = lists
        .lists()
        .iter()
        .map(|list| list.name.as_str())
        .collect();
    assert_eq!(names, ["nets", "hosts"]);
    assert_eq!(lists.get("hosts").unwrap().version, 2);
    assert_eq!(lists.names_of("www.example.org"), ["hosts"]);

    write(
        "d-again",
        r#"{"name": "nets", "description": "d", "version": 1, "type": "string", "list": []}"#,
    );
    let error = WarningLists::load_dir(directory.path()).unwrap_err();
    let first = directory.path().join("a-nets/list.json");
    let second = directory.path().join("d-again/list.json");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: list name \"nets\" is already used by {}",
            second.display(),
            first.display()
        )
    );

    write(
        "d-again",
        r#"{"name": "other", "description": "d", "version": 1, "type": "regex", "list": ["/a/", "/(/"]}"#,
    );
    let error = WarningLists::load_dir(directory.path()).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "{}: field `list[1]`: regex parse error",
            second.display()
        )),
        "{error}"
    );

    write("d-again", r#"{"name": "other", "list": ["x"]}"#);
    let error = WarningLists::load_dir(directory.path()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}: field `type`: missing", second.display())
    );
    assert_eq!(error.code(), entente_types::ErrorCode::InvalidInput);

    let missing = directory.path().join("nowhere");
    let error = WarningLists::load_dir(&missing).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "cannot list warning lists in {}: ",
            missing.display()
        )),
        "{error}"
    );
}
