//! The search page, the correlations and the graph of an object page, and the warning-list
//! flags: what they find, how they count, and that a reader meets no trace of an object it
//! may not read (no row, count, facet, correlation or node).

use serde_json::json;

use crate::harness::{labelled, populated, Browser, Site, FRA_ONLY, FRA_ONLY_NAME, LINK, REL_JPN};

/// A file hash that several indicators name (no warning list holds hashes).
const HASH: &str = "5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed";
const LOADER: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000011";
const RELAY: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000012";
const NETWORK: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000013";
const MALWARE: &str = "malware--0b9d1c0e-0000-4000-8000-000000000014";
const FRA_LOADER: &str = "indicator--0b9d1c0e-0000-4000-8000-000000000015";
const RELAY_INDICATES: &str = "relationship--0b9d1c0e-0000-4000-8000-000000000016";
const LOADER_INDICATES: &str = "relationship--0b9d1c0e-0000-4000-8000-000000000017";
const FRA_INDICATES: &str = "relationship--0b9d1c0e-0000-4000-8000-000000000018";
const FRA_LOADER_NAME: &str = "National loader trace ZULU-FOUR";
const SHARED: &str = "NATO SECRET//REL TO FRA, GBR, JPN";
const FRA_ONLY_LABEL: &str = "NATO SECRET//REL TO FRA";

fn indicator(id: &str, name: &str, pattern: &str, label: &str) -> Vec<serde_json::Value> {
    let (kind, uuid) = id.split_once("--").unwrap();
    labelled(
        kind,
        uuid,
        json!({"name": name, "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-11-01T08:00:00Z"}),
        label,
        &[],
    )
}

fn relationship(id: &str, source: &str, target: &str, label: &str) -> Vec<serde_json::Value> {
    labelled(
        "relationship",
        &id["relationship--".len()..],
        json!({"relationship_type": "indicates", "source_ref": source, "target_ref": target}),
        label,
        &[],
    )
}

/// The harness's site, and: a loader and a relay indicator sharing a hash (the relay also
/// names 198.51.100.7, on the RFC 5735 list), an indicator watching 198.51.100.0/24, a malware
/// both indicate, and a FRA-only indicator of the same hash that indicates the malware too.
async fn site() -> Site {
    let s = populated().await;
    let mut objects = indicator(
        LOADER,
        "EXERCISE HARBORLOCK loader",
        &format!("[file:hashes.'SHA-256' = '{HASH}']"),
        SHARED,
    );
    objects.extend(indicator(
        RELAY,
        "EXERCISE HARBORLOCK relay",
        &format!("[file:hashes.'SHA-256' = '{HASH}'] OR [ipv4-addr:value = '198.51.100.7']"),
        SHARED,
    ));
    objects.extend(indicator(
        NETWORK,
        "EXERCISE relay network watch",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        SHARED,
    ));
    objects.extend(labelled(
        "malware",
        &MALWARE["malware--".len()..],
        json!({"name": "EXERCISE HARBORLOCK", "is_family": true}),
        SHARED,
        &[],
    ));
    objects.extend(indicator(
        FRA_LOADER,
        FRA_LOADER_NAME,
        &format!("[file:hashes.'SHA-256' = '{HASH}']"),
        FRA_ONLY_LABEL,
    ));
    objects.extend(relationship(RELAY_INDICATES, RELAY, MALWARE, SHARED));
    objects.extend(relationship(LOADER_INDICATES, LOADER, MALWARE, SHARED));
    objects.extend(relationship(
        FRA_INDICATES,
        FRA_LOADER,
        MALWARE,
        FRA_ONLY_LABEL,
    ));
    s.publish("fra", objects).await;
    s
}

async fn search(b: &mut Browser, query: &str) -> String {
    let a = b
        .get(&format!(
            "/console/search?q={}",
            form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(a.status, 200, "{query}: {}", a.text);
    a.text
}

/// The ids of the objects a result page lists, in order.
fn listed(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let table = page.split("<tbody>").nth(1).unwrap_or("");
    let mut rest = table.split("</tbody>").next().unwrap_or("");
    while let Some(at) = rest.find("/console/objects/intel/") {
        rest = &rest[at + "/console/objects/intel/".len()..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].replace("%2D", "-"));
    }
    out
}

/// The facet values of a page: (field, value, count, link).
fn facets(page: &str) -> Vec<(String, String, usize, String)> {
    let mut out = Vec::new();
    let section = page
        .split("class=\"facets\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    let mut field = String::new();
    for part in section.split("<li") {
        // A part is one value's item, then maybe the next facet's heading.
        if let Some((before, after)) = part.split_once("<span class=\"count\">") {
            let link = before.split("href=\"").nth(1).unwrap();
            let link = link[..link.find('"').unwrap()].replace("&amp;", "&");
            let count = after[..after.find('<').unwrap()].parse().unwrap();
            // The value is the text before the count, its closing tags taken off.
            let mut text = before.trim_end();
            while text.ends_with('>') {
                text = &text[..text.rfind('<').unwrap()];
            }
            let value = text.rsplit('>').next().unwrap().trim().to_owned();
            out.push((field.clone(), value, count, link));
        }
        if let Some(at) = part.find("<h3 id=\"facet-") {
            let rest = &part[at + 14..];
            field = rest[..rest.find('"').unwrap()].to_owned();
        }
    }
    out
}

fn total(page: &str) -> usize {
    let at = page.find("id=\"results-h\"").unwrap();
    let text = &page[at..];
    let text = &text[text.find('>').unwrap() + 1..];
    text.split(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_search_finds_by_words_type_originator_and_value_and_counts_its_facets() {
    let s = site().await;
    let mut b = s.browser();
    b.sign_in("fra").await;

    // Words, as typed in the box of any page's header.
    let holdings = b.get("/console/holdings").await;
    assert!(holdings.text.contains("action=\"/console/search\""));
    assert!(holdings.text.contains("role=\"search\""));
    let page = search(&mut b, "harborlock").await;
    assert!(page.contains("value=\"harborlock\""), "the query is kept");
    let ids = listed(&page);
    for id in [LOADER, RELAY, MALWARE] {
        assert!(ids.contains(&id.to_owned()), "{id} not in {ids:?}");
    }
    // Relevance: the objects named by the word come first (all three are, here).
    assert_eq!(total(&page), 3, "{ids:?}");
    assert!(page.contains("3 objects"));
    // A prefix and a quoted text.
    assert_eq!(total(&search(&mut b, "harbor*").await), 3);
    assert_eq!(
        listed(&search(&mut b, "\"relay network\"").await),
        [NETWORK]
    );

    // Type and originator.
    let page = search(&mut b, "type:malware").await;
    assert_eq!(listed(&page), [MALWARE]);
    let page = search(&mut b, "harborlock -type:malware originator:FRA").await;
    assert_eq!(total(&page), 2);

    // A value: the objects naming it or a related value (the network that holds it).
    let page = search(&mut b, "value:198.51.100.7").await;
    let mut ids = listed(&page);
    ids.sort();
    assert_eq!(ids, [RELAY, NETWORK]);
    let page = search(&mut b, "value:198.51.100.0/24").await;
    let mut ids = listed(&page);
    ids.sort();
    assert_eq!(ids, [RELAY, NETWORK]);
    let page = search(&mut b, HASH).await;
    let mut ids = listed(&page);
    ids.sort();
    assert_eq!(ids, [LOADER, RELAY, FRA_LOADER]);

    // Facets count the results; each link adds its term and finds what it counted.
    let page = search(&mut b, "").await;
    let everything = total(&page);
    assert!(everything >= 13, "{everything}");
    let found = facets(&page);
    for field in ["type", "originator", "label"] {
        let sum: usize = found
            .iter()
            .filter(|(f, ..)| f == field)
            .map(|(_, _, c, _)| c)
            .sum();
        assert_eq!(sum, everything, "{field} facets: {found:?}");
    }
    for (field, value, count, link) in &found {
        let a = b.get(link).await;
        assert_eq!(a.status, 200, "{link}");
        assert_eq!(total(&a.text), *count, "{field} {value}: {link}");
        // The facet is now in the query, and its link takes it out again.
        let again = facets(&a.text);
        let selected = again
            .iter()
            .find(|(f, v, ..)| f == field && v == value)
            .unwrap_or_else(|| panic!("{field} {value} not among {again:?}"));
        assert!(a.text.contains("aria-current=\"true\""));
        let back = b.get(&selected.3).await;
        assert_eq!(total(&back.text), everything, "{}", selected.3);
    }
    // The labels FRA_ONLY_LABEL and a label holding it: each counts its own objects.
    let fra_only = found
        .iter()
        .find(|(f, v, ..)| f == "label" && v == FRA_ONLY_LABEL)
        .unwrap();
    assert_eq!(fra_only.2, 3, "{found:?}");

    // Sorting by name and paging.
    let page = b.get("/console/search?q=harborlock&sort=name").await.text;
    assert_eq!(listed(&page), [MALWARE, LOADER, RELAY]);
    assert!(page.contains("<option value=\"name\" selected>"));
    let page = b.get("/console/search?q=&offset=10").await.text;
    assert_eq!(listed(&page).len(), everything - 10);
    assert!(page.contains("rel=\"prev\""));
    assert!(!page.contains("rel=\"next\""));
    s.stop().await;
}

#[tokio::test]
async fn a_query_that_cannot_be_read_names_its_term() {
    let s = site().await;
    let mut b = s.browser();
    b.sign_in("fra").await;
    let a = b.get("/console/search?q=added%3Atomorrow+harborlock").await;
    assert_eq!(a.status, 400);
    assert!(a.text.contains("added:tomorrow"), "{}", a.text);
    assert!(a.text.contains("aria-invalid=\"true\""));
    assert!(a.text.contains("value=\"added:tomorrow harborlock\""));
    // Within the frame: the navigation and the search box are there.
    assert!(a.text.contains("aria-label=\"Main\""));
    s.stop().await;
}

#[tokio::test]
async fn a_reader_of_another_nation_meets_no_trace_of_what_it_may_not_read() {
    let s = site().await;
    let mut b = s.browser();
    b.sign_in("jpn").await;
    let forbidden = [
        FRA_ONLY.to_owned(),
        FRA_ONLY[11..].to_owned(),
        FRA_ONLY_NAME.to_owned(),
        FRA_LOADER.to_owned(),
        FRA_LOADER[11..].to_owned(),
        FRA_LOADER_NAME.to_owned(),
        FRA_INDICATES.to_owned(),
        "203.0.113.77".to_owned(),
        format!(">{FRA_ONLY_LABEL}<"),
    ];
    // (A query typed is shown again: what it names is no trace.)
    let check = |what: &str, page: &str| {
        for f in forbidden.iter().filter(|f| !what.contains(f.as_str())) {
            assert!(!page.contains(f), "{what} shows {f:?}");
        }
    };
    // Every object JPN may read is counted, and nothing else: the FRA-only objects are not.
    let all = search(&mut b, "").await;
    check("the whole search", &all);
    let jpn_total = total(&all);
    let fra_total = {
        let mut fra = s.browser();
        fra.sign_in("fra").await;
        total(&search(&mut fra, "").await)
    };
    assert_eq!(
        fra_total - jpn_total,
        3,
        "FRA sees its three own objects more"
    );
    let sum: usize = facets(&all)
        .iter()
        .filter(|(f, ..)| f == "label")
        .map(|(_, _, c, _)| c)
        .sum();
    assert_eq!(sum, jpn_total);
    // Its words, its value, its label: nothing.
    for q in [
        "zulu",
        "national",
        "203.0.113.77",
        "value:203.0.113.0/24",
        "label:\"NATO SECRET//REL TO FRA\" -label:\"NATO SECRET//REL TO FRA, \"",
        "originator:FRA type:indicator",
    ] {
        let page = search(&mut b, q).await;
        check(q, &page);
    }
    assert_eq!(total(&search(&mut b, "zulu").await), 0);
    assert_eq!(total(&search(&mut b, "203.0.113.77").await), 0);
    // The hash: the two shared indicators, not the FRA-only one.
    assert_eq!(total(&search(&mut b, HASH).await), 2);
    // The loader's correlations and graph, warning-listed values included: no FRA-only trace.
    for path in [
        format!("/console/objects/intel/{LOADER}"),
        format!("/console/objects/intel/{LOADER}?include_warned=1"),
        format!("/console/objects/intel/{RELAY}?include_warned=1"),
        format!("/console/objects/intel/{MALWARE}"),
        format!("/console/objects/intel/{REL_JPN}?include_warned=1"),
        format!("/console/objects/intel/{LINK}"),
    ] {
        let a = b.get(&path).await;
        assert_eq!(a.status, 200, "{path}");
        check(&path, &a.text);
    }
    let loader = b
        .get(&format!("/console/objects/intel/{LOADER}"))
        .await
        .text;
    assert!(
        loader.contains("EXERCISE HARBORLOCK relay"),
        "JPN sees the shared correlation"
    );
    // A FRA reader cleared below NATO SECRET finds none of them, not even by their hash.
    let mut low = s.browser();
    low.sign_in("fra-low").await;
    let page = search(&mut low, HASH).await;
    assert_eq!(total(&page), 0);
    for f in [
        LOADER,
        RELAY,
        FRA_LOADER,
        FRA_LOADER_NAME,
        "EXERCISE HARBORLOCK",
    ] {
        assert!(!page.contains(f), "fra-low's search shows {f}");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_object_page_shows_its_correlations_its_graph_and_its_values_on_warning_lists() {
    let s = site().await;
    let mut b = s.browser();
    b.sign_in("fra").await;
    let page = b.get(&format!("/console/objects/intel/{RELAY}")).await;
    assert_eq!(page.status, 200);
    let text = page.text;
    assert!(text.contains("Correlated with"));
    // Through the hash: the loader and FRA's own loader trace.
    let table = text.split("class=\"correlated\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    assert!(table.contains("EXERCISE HARBORLOCK loader"), "{table}");
    assert!(table.contains(FRA_LOADER_NAME));
    assert!(table.contains(&format!("{HASH} — the same value")));
    // 198.51.100.7 is on the RFC 5735 list: flagged, and left out until asked for.
    assert!(
        text.contains("<code><bdi>198.51.100.7</bdi></code>"),
        "its values are listed"
    );
    assert!(text
        .contains("on a warning list</span>: <span class=\"lists\">List of RFC 5735 CIDR blocks"));
    assert!(!table.contains("EXERCISE relay network watch"));
    assert!(text.contains("1 value is on a warning list"));
    assert!(text.contains(&format!(
        "href=\"/console/objects/intel/{RELAY}?include_warned=1\""
    )));
    let included = b
        .get(&format!("/console/objects/intel/{RELAY}?include_warned=1"))
        .await
        .text;
    let table = included.split("class=\"correlated\"").nth(1).unwrap();
    assert!(table.contains("EXERCISE relay network watch"));
    assert!(
        table.contains("198.51.100.0/24 — a network holding 198.51.100.7"),
        "{table}"
    );
    assert!(included.contains("Leave them out"));
    // From the network's side, the address is inside it.
    let network = b
        .get(&format!(
            "/console/objects/intel/{NETWORK}?include_warned=1"
        ))
        .await
        .text;
    assert!(network.contains("198.51.100.7 — inside the network 198.51.100.0/24"));

    // The graph: the relay, the malware one hop out, the loader and FRA's trace two hops out.
    let svg = text.split("<svg").nth(1).unwrap();
    let svg = svg.split("</svg>").next().unwrap();
    assert!(svg.contains("role=\"group\""));
    assert!(svg.contains("aria-label=\"EXERCISE HARBORLOCK relay and 3 objects around it (1 one reference away, 2 two away), joined by 3 references"), "{svg}");
    for name in [
        "EXERCISE HARBORLOCK",
        "EXERCISE HARBORLOCK loader",
        FRA_LOADER_NAME,
    ] {
        assert!(svg.contains(&format!(">{name} (")), "{name} in {svg}");
    }
    assert_eq!(svg.matches("<line ").count(), 3);
    assert!(svg.contains(">indicates</text>"));
    // The list beside it says the same.
    let list = text.split("class=\"graph-links\"").nth(1).unwrap();
    assert!(list.contains("indicates</a> →"), "{list}");
    // A malware page's graph: both shared indicators and FRA's one hop out.
    let malware = b
        .get(&format!("/console/objects/intel/{MALWARE}"))
        .await
        .text;
    assert!(malware.contains(
        "EXERCISE HARBORLOCK and 3 objects around it (3 one reference away, 0 two away)"
    ));

    // The search results flag the relay.
    let page = search(&mut b, "relay").await;
    let row = page
        .split("<tr>")
        .find(|r| r.contains("EXERCISE HARBORLOCK relay"))
        .unwrap();
    assert!(row.contains("on warning list"), "{row}");
    assert!(
        row.contains("198.51.100.7</code>: List of RFC 5735 CIDR blocks"),
        "{row}"
    );
    let row = page
        .split("<tr>")
        .find(|r| r.contains("EXERCISE relay network watch"))
        .unwrap();
    assert!(
        row.contains("on warning list"),
        "a network on a list: {row}"
    );
    s.stop().await;
}
