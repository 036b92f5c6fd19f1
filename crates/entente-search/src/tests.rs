//! The index against the plain evaluation: over random documents (added, replaced and taken
//! out), random queries, sorts, pages, correlations and graphs, both give the same answers.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::reference::Plain;
use crate::{CorrelationOptions, Document, Observable, Query, SearchIndex, Sort, Warnings};

const WORDS: [&str; 8] = [
    "cable",
    "fault",
    "ransomware",
    "port",
    "jamming",
    "baltic",
    "gnss",
    "air",
];
const KINDS: [&str; 5] = ["indicator", "report", "file", "domain-name", "ipv4-addr"];
const NATIONS: [&str; 3] = ["FRA", "GBR", "USA"];
const LABELS: [&str; 3] = [
    "NATO UNCLASSIFIED",
    "NATO SECRET",
    "FRA CONFIDENTIEL SPECIAL FRANCE",
];
const VALUES: [&str; 12] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.9",
    "10.0.0.0/30",
    "10.0.0.0/24",
    "a.example",
    "mail.a.example",
    "b.example",
    "https://a.example/x",
    "https://a.example/y?q=1",
    "ops@mail.a.example",
    "2001:db8::1",
];
const HASHES: [&str; 3] = [
    "00000000000000000000000000000001",
    "00000000000000000000000000000002",
    "0000000000000000000000000000000000000003",
];

fn warnings() -> Warnings {
    Warnings::from_fn(|v| {
        if v == "10.0.0.2" || v == "b.example" {
            vec!["test list".to_owned()]
        } else {
            Vec::new()
        }
    })
}

fn id_of(n: usize) -> String {
    format!("x--00000000-0000-4000-8000-{n:012}")
}

/// A random document: its kind decides what its copy names.
fn document() -> impl Strategy<Value = (usize, Document)> {
    (
        0..12usize,
        0..2usize,
        0..KINDS.len(),
        0..NATIONS.len(),
        0..LABELS.len(),
        0..40i64,
        proptest::collection::vec(0..WORDS.len(), 0..4),
        proptest::collection::vec(0..VALUES.len(), 0..3),
        proptest::collection::vec(0..HASHES.len(), 0..3),
        proptest::collection::vec(0..12usize, 0..3),
    )
        .prop_map(|(n, c, k, o, l, day, words, values, hashes, refs)| {
            let kind = KINDS[k];
            let name: Vec<&str> = words.iter().map(|&w| WORDS[w]).collect();
            let name = name.join(" ");
            let mut copy = json!({"type": kind, "id": id_of(n), "name": name,
                "description": format!("{} report", WORDS[(n + k) % WORDS.len()])});
            match kind {
                "indicator" => {
                    let parts: Vec<String> = values
                        .iter()
                        .map(|&v| {
                            let o = Observable::guess(VALUES[v]).unwrap_or(Observable::Asn(1));
                            let path = match o {
                                Observable::Email(_) => "email-addr:value",
                                Observable::Url(_) => "url:value",
                                Observable::Domain(_) => "domain-name:value",
                                Observable::Ipv6(..) => "ipv6-addr:value",
                                _ => "ipv4-addr:value",
                            };
                            format!("{path} = '{}'", VALUES[v])
                        })
                        .collect();
                    copy["pattern_type"] = json!("stix");
                    copy["pattern"] = json!(format!("[{}]", parts.join(" OR ")));
                }
                "file" => {
                    let hashes: serde_json::Map<String, Value> = hashes
                        .iter()
                        .map(|&h| (format!("H{h}"), json!(HASHES[h])))
                        .collect();
                    copy["hashes"] = Value::Object(hashes);
                }
                "report" => {
                    copy["object_refs"] = json!(refs.iter().map(|&r| id_of(r)).collect::<Vec<_>>());
                }
                _ => {
                    if let Some(&v) = values.first() {
                        copy["value"] = json!(VALUES[v]);
                    }
                }
            }
            if kind == "report" && refs.len() == 2 {
                // A relationship instead: source and target.
                copy = json!({"type": "relationship", "id": id_of(n), "relationship_type": "indicates",
                    "source_ref": id_of(refs[0]), "target_ref": id_of(refs[1])});
            }
            let doc = Document {
                collection: Arc::from(["intel", "exercise"][c]),
                id: id_of(n),
                kind: copy["type"].as_str().unwrap_or(kind).to_owned(),
                name,
                originator: NATIONS[o].to_owned(),
                label: LABELS[l].to_owned(),
                added_us: (19_900 + day) * 86_400_000_000 + n as i64,
                copy,
            };
            (n, doc)
        })
}

fn query_text() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        (0..WORDS.len()).prop_map(|w| WORDS[w].to_owned()),
        (0..WORDS.len()).prop_map(|w| format!("-{}", WORDS[w])),
        (0..WORDS.len()).prop_map(|w| format!("{}*", &WORDS[w][..2])),
        (0..KINDS.len()).prop_map(|k| format!("type:{}", KINDS[k])),
        (0..KINDS.len()).prop_map(|k| format!("-type:{}", KINDS[k])),
        (0..NATIONS.len()).prop_map(|o| format!("originator:{}", NATIONS[o])),
        (0..LABELS.len())
            .prop_map(|l| format!("label:{}", LABELS[l].split(' ').nth(1).unwrap_or("x"))),
        Just("-label:secret".to_owned()),
        (0..40i64, 0..10i64).prop_map(|(a, b)| {
            let day =
                |d: i64| chrono::NaiveDate::default() + chrono::Days::new((19_900 + d) as u64);
            format!("added:{}..{}", day(a), day(a + b))
        }),
        (0..VALUES.len()).prop_map(|v| format!("value:{}", VALUES[v])),
        (0..VALUES.len()).prop_map(|v| VALUES[v].to_owned()),
        (0..HASHES.len()).prop_map(|h| HASHES[h].to_owned()),
    ];
    proptest::collection::vec(term, 0..4).prop_map(|t| t.join(" "))
}

/// The documents in the index, as a plain list (the last one put for each collection and id).
fn live(steps: &[(bool, (usize, Document))]) -> Vec<Document> {
    let mut docs: Vec<Document> = Vec::new();
    for (keep, (_, doc)) in steps {
        docs.retain(|d| !(d.collection == doc.collection && d.id == doc.id));
        if *keep {
            docs.push(doc.clone());
        }
    }
    docs
}

fn build(steps: &[(bool, (usize, Document))]) -> SearchIndex {
    let mut index = SearchIndex::new(warnings());
    for (keep, (_, doc)) in steps {
        if *keep {
            index.put(doc.clone());
        } else {
            index.remove(&doc.collection, &doc.id);
        }
    }
    index
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_index_answers_as_the_plain_evaluation(
        steps in proptest::collection::vec((prop::bool::weighted(0.85), document()), 0..40),
        queries in proptest::collection::vec(query_text(), 1..4),
        sort in 0..Sort::ALL.len(),
        page in (0..5usize, 1..6usize),
        asked in (0..VALUES.len() + HASHES.len(), 0..12usize, 0..3usize, prop::bool::ANY),
    ) {
        let index = build(&steps);
        let docs = live(&steps);
        let warnings = warnings();
        let plain = Plain { docs: &docs, warnings: &warnings };
        prop_assert_eq!(index.len(), docs.len());
        let sort = Sort::ALL[sort];
        for text in &queries {
            let query = Query::parse(text).unwrap();
            let whole = index.search(&query, sort, 0, usize::MAX);
            let expected = plain.search(&query, sort);
            prop_assert_eq!(&whole, &expected, "query {:?}", text);
            let (offset, limit) = page;
            let paged = index.search(&query, sort, offset, limit);
            let want: Vec<_> = expected.hits.iter().skip(offset).take(limit).cloned().collect();
            prop_assert_eq!(paged.hits, want, "page of {:?}", text);
            prop_assert_eq!(paged.total, expected.total);
        }
        let (value, id, hops, include_warned) = asked;
        let options = CorrelationOptions { include_warned };
        let value = VALUES.iter().chain(HASHES.iter()).nth(value).and_then(|v| Observable::guess(v)).unwrap();
        prop_assert_eq!(index.correlate_value(&value, options), plain.correlate_value(&value, options));
        prop_assert_eq!(index.correlate_object(&id_of(id), options), plain.correlate_object(&id_of(id), options));
        prop_assert_eq!(index.graph(&id_of(id), hops, 5), plain.graph(&id_of(id), hops, 5));
    }
}

#[test]
fn correlations_say_how_values_relate_and_skip_warned_values() {
    let doc = |n: usize, kind: &str, copy: Value| Document {
        collection: Arc::from("intel"),
        id: id_of(n),
        kind: kind.to_owned(),
        name: format!("object {n}"),
        originator: "FRA".into(),
        label: "NATO SECRET".into(),
        added_us: 0,
        copy,
    };
    let mut index = SearchIndex::new(warnings());
    index.put(doc(
        1,
        "ipv4-addr",
        json!({"type": "ipv4-addr", "value": "10.0.0.1"}),
    ));
    index.put(doc(
        2,
        "indicator",
        json!({"type": "indicator", "pattern_type": "stix",
        "pattern": "[ipv4-addr:value = '10.0.0.0/24']"}),
    ));
    index.put(doc(
        3,
        "file",
        json!({"type": "file", "hashes": {"MD5": HASHES[0], "SHA-1": HASHES[2]}}),
    ));
    index.put(doc(
        4,
        "indicator",
        json!({"type": "indicator", "pattern_type": "stix",
        "pattern": format!("[file:hashes.'SHA-1' = '{}']", HASHES[2])}),
    ));
    index.put(doc(
        5,
        "domain-name",
        json!({"type": "domain-name", "value": "b.example"}),
    ));
    index.put(doc(
        6,
        "url",
        json!({"type": "url", "value": "https://mail.b.example/login"}),
    ));

    let found = index.correlate_value(
        &Observable::guess("10.0.0.1").unwrap(),
        CorrelationOptions::default(),
    );
    let how: Vec<_> = found
        .objects
        .iter()
        .map(|o| (o.id.clone(), o.through[0].relation.clone()))
        .collect();
    assert_eq!(
        how,
        [
            (id_of(1), crate::Relation::Same),
            (id_of(2), crate::Relation::Holds)
        ]
    );

    // The MD5 finds the file, and the indicator of its SHA-1 (the file says both are one file).
    let found = index.correlate_value(
        &Observable::guess(HASHES[0]).unwrap(),
        CorrelationOptions::default(),
    );
    let ids: Vec<_> = found.objects.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids, [id_of(3), id_of(4)]);
    assert_eq!(
        found.objects[1].through[0].relation,
        crate::Relation::SameFile
    );

    // b.example is on the test list: it links nothing unless asked.
    let found = index
        .correlate_object(&id_of(5), CorrelationOptions::default())
        .unwrap();
    assert!(found.objects.is_empty());
    assert_eq!(found.ignored[0].lists, ["test list"]);
    let found = index
        .correlate_object(
            &id_of(5),
            CorrelationOptions {
                include_warned: true,
            },
        )
        .unwrap();
    assert_eq!(found.objects[0].id, id_of(6));
    assert_eq!(
        found.objects[0].through[0].relation,
        crate::Relation::Subdomain
    );
    assert!(index
        .correlate_object(&id_of(99), CorrelationOptions::default())
        .is_none());
}

#[test]
fn search_finds_values_words_and_fields() {
    let mut index = SearchIndex::new(Warnings::none());
    index.put(Document {
        collection: Arc::from("intel"),
        id: id_of(1),
        kind: "indicator".into(),
        name: "Command and control of the port ransomware".into(),
        originator: "FRA".into(),
        label: "NATO SECRET".into(),
        added_us: 19_937 * 86_400_000_000,
        copy: json!({"type": "indicator", "name": "Command and control of the port ransomware",
            "pattern_type": "stix", "pattern": "[ipv4-addr:value = '198.51.100.7']"}),
    });
    let hits = |index: &SearchIndex, q: &str| {
        index
            .search(&Query::parse(q).unwrap(), Sort::Relevance, 0, 10)
            .total
    };
    assert_eq!(hits(&index, "ransom* port"), 1);
    assert_eq!(hits(&index, "value:198.51.100.0/24"), 1);
    assert_eq!(hits(&index, "198.51.100.7"), 1);
    assert_eq!(hits(&index, "type:report"), 0);
    assert_eq!(hits(&index, "added:2024-08"), 1);
    assert_eq!(hits(&index, "added:2024-09.."), 0);
    assert_eq!(hits(&index, "label:secret -originator:fra"), 0);
    index.remove("intel", &id_of(1));
    assert_eq!(hits(&index, ""), 0);
}

#[test]
fn indicators_meet_observations_held_and_posted() {
    let doc = |id: &str, copy: Value| Document {
        collection: Arc::from("intel"),
        id: id.to_owned(),
        kind: copy["type"].as_str().unwrap().to_owned(),
        name: id.to_owned(),
        originator: "FRA".into(),
        label: "NATO SECRET".into(),
        added_us: 0,
        copy,
    };
    let addr = "ipv4-addr--00000000-0000-4000-8000-000000000001";
    let seen = "observed-data--00000000-0000-4000-8000-000000000002";
    let mut index = SearchIndex::new(Warnings::none());
    index.put(doc(
        addr,
        json!({"type": "ipv4-addr", "id": addr, "value": "198.51.100.7"}),
    ));
    index.put(doc(
        seen,
        json!({"type": "observed-data", "id": seen,
        "first_observed": "2024-08-01T09:00:00Z", "last_observed": "2024-08-01T09:05:00Z",
        "number_observed": 3, "object_refs": [addr]}),
    ));
    let held = "indicator--00000000-0000-4000-8000-000000000003";
    index.put(doc(held, json!({"type": "indicator", "id": held, "name": "C2 network",
        "pattern_type": "stix", "pattern": "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] REPEATS 2 TIMES"})));
    let (hits, problems) = index.match_held();
    assert!(problems.is_empty(), "{problems:?}");
    // The observed data counts three sightings: REPEATS 2 holds in it, not in the address held
    // on its own (once).
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].indicator, held);
    assert_eq!(hits[0].observations, [seen]);

    let new_indicator = json!({"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000009",
        "name": "new", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '198.51.100.7']"});
    let posted_addr = json!({"type": "ipv4-addr", "id": "ipv4-addr--00000000-0000-4000-8000-000000000008", "value": "198.51.100.99"});
    let broken = json!({"type": "indicator", "id": "indicator--00000000-0000-4000-8000-00000000000a",
        "pattern_type": "stix", "pattern": "[ipv4-addr:value = "});
    let report = index.match_bundle(&[new_indicator, posted_addr, broken]);
    assert_eq!(report.bundle_indicators.len(), 1);
    assert_eq!(report.bundle_indicators[0].observations, [addr, seen]);
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].contains("indicator--00000000-0000-4000-8000-00000000000a"));
    // One posted address alone does not repeat twice either.
    assert!(report.held_indicators.is_empty());
}
