//! Search, correlation and the graph answer from each reader's TAXII view and nothing else.
//!
//! Random labelled corpora of indicators, observables, files, reports and relationships (object
//! labels from NATO UNCLASSIFIED to NATO SECRET releasable to a few nations, and granular
//! markings on patterns and names) are posted to a real node. For readers of several nations
//! and clearances, the oracle is what each reads through TAXII: the plain evaluation of
//! `entente_search::reference` over those copies. Every answer of `/api/search/`,
//! `/api/search/correlate` and `/api/search/graph` (results in order, counts, facets,
//! correlations, ignored warned values, nodes and edges) must equal the oracle's.

use std::collections::BTreeMap;
use std::sync::Arc;

use entente_search::reference::Plain;
use entente_search::{CorrelationOptions, Document, Observable, Query, Sort};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::sandbox::Sandbox;

const OBJECTS: &str = "/api/collections/intel/objects/";
const MANIFEST: &str = "/api/collections/intel/manifest/";

const LABELS: [&str; 5] = [
    "NATO UNCLASSIFIED",
    "NATO RESTRICTED",
    "NATO SECRET",
    "NATO SECRET//REL TO FRA, GBR",
    "NATO CONFIDENTIAL//REL TO FRA, USA, JPN",
];
/// (user, nation, clearance) of the readers.
const READERS: [(&str, &str, &str); 5] = [
    ("fra", "FRA", "NATO SECRET"),
    ("gbr", "GBR", "NATO SECRET"),
    ("gbr-low", "GBR", "NATO RESTRICTED"),
    ("usa", "USA", "NATO CONFIDENTIAL"),
    ("jpn", "JPN", "NATO SECRET"),
];
const VALUES: [&str; 10] = [
    "198.51.100.7",
    "198.51.100.9",
    "198.51.100.0/24",
    "203.0.113.5",
    "c2.example.org",
    "mail.c2.example.org",
    "https://c2.example.org/a?x=1",
    "https://c2.example.org/b",
    "10.1.2.3",
    "2001:db8::7",
];
const HASHES: [&str; 3] = [
    "5d41402abc4b2a76b9719d911017c592",
    "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
];
const WORDS: [&str; 6] = ["ransomware", "cable", "port", "jamming", "baltic", "beacon"];

#[derive(Debug, Clone)]
struct Spec {
    kind: u8,
    label: usize,
    /// A label on the pattern (or the name), when the object is cut for some readers.
    portion: Option<usize>,
    words: Vec<usize>,
    values: Vec<usize>,
    hashes: Vec<usize>,
    refs: Vec<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..5,
        0..LABELS.len(),
        proptest::option::weighted(0.3, 0..LABELS.len()),
        proptest::collection::vec(0..WORDS.len(), 1..3),
        proptest::collection::vec(0..VALUES.len(), 1..3),
        proptest::collection::vec(0..HASHES.len(), 1..3),
        proptest::collection::vec(0..12usize, 2..3),
    )
        .prop_map(|(kind, label, portion, words, values, hashes, refs)| Spec {
            kind,
            label,
            portion,
            words,
            values,
            hashes,
            refs,
        })
}

fn uuid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn value_path(v: &str) -> &'static str {
    match Observable::guess(v) {
        Some(Observable::Domain(_)) => "domain-name:value",
        Some(Observable::Url(_)) => "url:value",
        Some(Observable::Ipv6(..)) => "ipv6-addr:value",
        _ => "ipv4-addr:value",
    }
}

/// The STIX object of spec `n`, its id, and the marking definitions it needs.
fn object(n: usize, spec: &Spec, ids: &[String], markings: &BTreeMap<usize, Value>) -> Value {
    // References name objects that are not relationships (a relationship may not join one).
    let targets: Vec<&String> = ids
        .iter()
        .filter(|id| !id.starts_with("relationship--"))
        .collect();
    let target = |r: usize| {
        targets
            .get(r % targets.len().max(1))
            .map_or_else(|| ids[n].clone(), |t| (*t).clone())
    };
    let marking = |l: usize| markings[&l]["id"].clone();
    let name: Vec<&str> = spec.words.iter().map(|&w| WORDS[w]).collect();
    let base = |kind: &str| {
        json!({"type": kind, "spec_version": "2.1", "id": ids[n],
            "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
            "object_marking_refs": [marking(spec.label)]})
    };
    let mut o = match spec.kind {
        0 => {
            let mut o = base("indicator");
            let parts: Vec<String> = spec
                .values
                .iter()
                .map(|&v| format!("{} = '{}'", value_path(VALUES[v]), VALUES[v]))
                .chain(spec.hashes.iter().take(1).map(|&h| {
                    format!(
                        "file:hashes.'{}' = '{}'",
                        ["MD5", "SHA-1", "SHA-256"][h],
                        HASHES[h]
                    )
                }))
                .collect();
            o["name"] = json!(name.join(" "));
            o["pattern"] = json!(format!("[{}]", parts.join(" OR ")));
            o["pattern_type"] = json!("stix");
            o["valid_from"] = json!("2024-08-01T09:00:00Z");
            o
        }
        1 => {
            let v = VALUES[spec.values[0]];
            let kind = value_path(v).trim_end_matches(":value");
            let mut o = base(kind);
            o.as_object_mut()
                .map(|m| m.remove("created").and(m.remove("modified")));
            o["value"] = json!(v);
            o
        }
        2 => {
            let mut o = base("file");
            o.as_object_mut()
                .map(|m| m.remove("created").and(m.remove("modified")));
            let algos = ["MD5", "SHA-1", "SHA-256"];
            let hashes: serde_json::Map<String, Value> = spec
                .hashes
                .iter()
                .map(|&h| (algos[h].to_owned(), json!(HASHES[h])))
                .collect();
            o["hashes"] = Value::Object(hashes);
            o["name"] = json!(format!("{}.exe", name.join("-")));
            o
        }
        3 => {
            let mut o = base("report");
            o["name"] = json!(name.join(" "));
            o["published"] = json!("2024-08-01T09:00:00Z");
            o["object_refs"] = json!(spec
                .refs
                .iter()
                .map(|&r| ids[r % ids.len()].clone())
                .collect::<Vec<_>>());
            o
        }
        _ => {
            let mut o = base("relationship");
            o["relationship_type"] = json!("indicates");
            o["source_ref"] = json!(target(spec.refs[0]));
            o["target_ref"] = json!(target(spec.refs[1]));
            o
        }
    };
    if let Some(p) = spec.portion {
        let selector = if spec.kind == 0 { "pattern" } else { "name" };
        if o.get(selector).is_some() {
            o["granular_markings"] = json!([{"marking_ref": marking(p), "selectors": [selector]}]);
        }
    }
    o
}

fn ids_of(specs: &[Spec]) -> Vec<String> {
    (specs.iter().enumerate())
        .map(|(n, s)| {
            let kind = match s.kind {
                0 => "indicator".to_owned(),
                1 => value_path(VALUES[s.values[0]])
                    .trim_end_matches(":value")
                    .to_owned(),
                2 => "file".to_owned(),
                3 => "report".to_owned(),
                _ => "relationship".to_owned(),
            };
            format!("{kind}--{}", uuid(n))
        })
        .collect()
}

fn query() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        (0..WORDS.len()).prop_map(|w| WORDS[w].to_owned()),
        (0..WORDS.len()).prop_map(|w| format!("-{}", WORDS[w])),
        (0..WORDS.len()).prop_map(|w| format!("{}*", &WORDS[w][..3])),
        prop::sample::select(vec![
            "type:indicator",
            "type:file",
            "-type:relationship",
            "type:report",
            "originator:FRA",
            "label:secret",
            "-label:restricted",
            "added:2020..",
            "added:..2001"
        ])
        .prop_map(str::to_owned),
        (0..VALUES.len()).prop_map(|v| format!("value:{}", VALUES[v])),
        (0..VALUES.len()).prop_map(|v| VALUES[v].to_owned()),
        (0..HASHES.len()).prop_map(|h| HASHES[h].to_owned()),
    ];
    proptest::collection::vec(term, 0..3).prop_map(|t| t.join(" "))
}

fn check(mut specs: Vec<Spec>, queries: Vec<String>) {
    // Something for references to name.
    specs[0].kind = 0;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Sandbox::start().await;
        for (user, nation, clearance) in READERS {
            s.user(
                user,
                nation,
                clearance,
                if user == "fra" { "rw" } else { "r" },
            )
            .await;
        }
        let markings: BTreeMap<usize, Value> = (0..LABELS.len())
            .map(|l| (l, crate::taxii::label_marking(LABELS[l])))
            .collect();
        let ids = ids_of(&specs);
        let objects: Vec<Value> = markings
            .values()
            .cloned()
            .chain(
                specs
                    .iter()
                    .enumerate()
                    .map(|(n, spec)| object(n, spec, &ids, &markings)),
            )
            .collect();
        let a = s.post("fra", OBJECTS, &json!({ "objects": objects })).await;
        assert_eq!(a.status, 202, "{}", a.text);
        assert_eq!(a.json()["failure_count"], 0, "{}", a.json()["failures"]);

        for (user, _, _) in READERS {
            // The oracle: what the reader reads through TAXII.
            let served = s.get(user, &format!("{OBJECTS}?limit=10000")).await.json();
            let manifest = s.get(user, &format!("{MANIFEST}?limit=10000")).await.json();
            let added: BTreeMap<&str, i64> = manifest["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    let t = chrono::DateTime::parse_from_rfc3339(m["date_added"].as_str().unwrap())
                        .unwrap();
                    (m["id"].as_str().unwrap(), t.timestamp_micros())
                })
                .collect();
            let docs: Vec<Document> = served["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["type"] != "marking-definition")
                .map(|o| Document {
                    collection: Arc::from("intel"),
                    id: o["id"].as_str().unwrap().to_owned(),
                    kind: o["type"].as_str().unwrap().to_owned(),
                    name: entente_node::view::display_name(o),
                    originator: "FRA".to_owned(),
                    label: s.node.copy_banner_text(o),
                    added_us: added[o["id"].as_str().unwrap()],
                    copy: o.clone(),
                })
                .collect();
            let warnings = s.node.warnings().clone();
            let plain = Plain {
                docs: &docs,
                warnings: &warnings,
            };
            let api = |path: String| {
                let s = &s;
                async move {
                    let r = s.get(user, &path).await;
                    (
                        r.status,
                        if r.status == 200 {
                            r.json()
                        } else {
                            Value::Null
                        },
                    )
                }
            };
            for (q, sort) in queries.iter().zip(Sort::ALL.iter().cycle()) {
                let expected = plain.search(&Query::parse(q).unwrap(), *sort);
                let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
                let (status, got) = api(format!(
                    "/api/search/?limit=1000&sort={}&q={encoded}",
                    sort.as_str()
                ))
                .await;
                assert_eq!(status, 200, "{user} {q}");
                assert_eq!(got["total"], expected.total, "{user} total of {q:?}");
                assert_eq!(
                    got["hits"],
                    serde_json::to_value(&expected.hits).unwrap(),
                    "{user} hits of {q:?}"
                );
                assert_eq!(
                    got["facets"],
                    serde_json::to_value(&expected.facets).unwrap(),
                    "{user} facets of {q:?}"
                );
            }
            for include_warned in [false, true] {
                let options = CorrelationOptions { include_warned };
                for v in VALUES.iter().chain(HASHES.iter()) {
                    let value = Observable::guess(v).unwrap();
                    let encoded: String = v.bytes().map(|b| format!("%{b:02X}")).collect();
                    let (_, got) = api(format!(
                        "/api/search/correlate?value={encoded}&include_warned={include_warned}"
                    ))
                    .await;
                    assert_eq!(
                        got,
                        serde_json::to_value(plain.correlate_value(&value, options)).unwrap(),
                        "{user} correlate {v}"
                    );
                }
            }
            for id in &ids {
                let expected = plain.correlate_object(id, CorrelationOptions::default());
                let (status, got) = api(format!("/api/search/correlate?id={id}")).await;
                match expected {
                    Some(e) => assert_eq!(
                        got,
                        serde_json::to_value(e).unwrap(),
                        "{user} correlate {id}"
                    ),
                    None => assert_eq!(
                        status, 404,
                        "{user} correlate {id}: an object it may not read"
                    ),
                }
                for hops in [1, 2] {
                    let expected = plain.graph(id, hops, entente_node::search::GRAPH_NODES);
                    let (status, got) = api(format!("/api/search/graph?id={id}&hops={hops}")).await;
                    match expected {
                        Some(e) => {
                            assert_eq!(got, serde_json::to_value(e).unwrap(), "{user} graph {id}")
                        }
                        None => assert_eq!(status, 404, "{user} graph of {id}"),
                    }
                }
            }
        }
        s.stop().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(8),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn search_answers_from_the_readers_taxii_view_only(
        specs in proptest::collection::vec(spec(), 1..14),
        queries in proptest::collection::vec(query(), 4..8),
    ) {
        check(specs, queries);
    }
}
