//! The release paths held to each other (fast and full, kept and fresh), and the scanner held
//! to the parser.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::OnceLock;

use entente_labels::{parse_marking, PolicySet};
use entente_registry::Registry;
use proptest::prelude::*;
use serde_json::json;

use std::borrow::Cow;
use std::sync::Arc;

use entente_labels::stix;
use entente_policy::ReleasePolicy;
use entente_store::{StoredObject, User};
use serde_json::Value;

use super::caches::ROW_KEYS;
use super::key::{
    parsed_release_key, release_key, row_key, scanner_agrees, write_relabelled, Portion,
    ReleaseKey, Spans,
};
use super::*;

fn policy() -> ReleasePolicy {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let registry = Registry::load(&root.join("registry")).unwrap();
    let policies = PolicySet::load(&root.join("policies")).unwrap();
    ReleasePolicy::new(&registry, policies)
}

/// Two nodes' access: one without a default label, one with.
fn access(with_default: bool) -> &'static Access {
    static PLAIN: OnceLock<Access> = OnceLock::new();
    static DEFAULTED: OnceLock<Access> = OnceLock::new();
    let (cell, default) = if with_default {
        (&DEFAULTED, Some("NATO RESTRICTED"))
    } else {
        (&PLAIN, None)
    };
    cell.get_or_init(|| Access::new(policy(), default).unwrap())
}

const SETS: [&str; 6] = [
    "FRA, GBR, USA, JPN",
    "FRA, GBR",
    "NATO",
    "FRA, DEU",
    "EU",
    "NONE",
];
const LEVELS: [&str; 4] = [
    "NATO RESTRICTED",
    "NATO CONFIDENTIAL",
    "NATO SECRET",
    "COSMIC TOP SECRET",
];
const CAVEATS: [&str; 3] = ["", "//ATOMAL", "//ATOMAL, CRYPTO"];
const NATIONS: [&str; 6] = ["FRA", "GBR", "USA", "DEU", "JPN", "SWE"];
const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";

/// The id of a marking carrying `marking` in `access`'s cache: derived from the label, or
/// another id for the same label.
fn mark(access: &Access, marking: &str, derived: bool, n: usize) -> String {
    let label = parse_marking(access.policy.policies(), marking).unwrap();
    let id = if derived {
        stix::marking_definition_id(access.policy.policies(), &label).unwrap()
    } else {
        format!("marking-definition--00000000-0000-4000-8000-{n:012}")
    };
    // Non-derived ids always name the same label, so tests sharing the cache agree.
    if derived || access.lookup(&id).is_none() {
        access.cache.insert(id.clone(), Some(label));
    }
    id
}

fn stored(kind: &str, object: &Value) -> StoredObject {
    StoredObject {
        seq: 1,
        added_us: 1,
        id: object["id"].as_str().unwrap_or_default().to_owned(),
        kind: kind.to_owned(),
        spec_version: "2.1".into(),
        version: String::new(),
        version_key: String::new(),
        originator: "FRA".parse().unwrap(),
        json: serde_json::to_string(object).unwrap(),
    }
}

fn reader(access: &Access, nation: &str, clearance: &str) -> User {
    let clearance = parse_marking(access.policy.policies(), clearance).unwrap();
    User {
        name: format!("reader-{nation}"),
        nation: nation.parse().unwrap(),
        clearance_policy: clearance.policy().to_owned(),
        clearance_level: clearance.classification().to_owned(),
        clearance_caveats: clearance.caveats().iter().cloned().collect(),
        password_hash: None,
        rights: Vec::new(),
    }
}

/// Copies kept by row and nation serve each reader what a fresh release serves: the same
/// text, the same markings, and nothing to a reader of that nation whose clearance does not
/// cover the copy; a label cached since makes the copy be released again.
#[test]
fn released_copies_are_what_a_fresh_release_serves_to_each_reader() {
    let access = Access::new(policy(), None).unwrap();
    let object_label = mark(&access, "NATO SECRET//REL TO FRA, GBR, USA, JPN", true, 0);
    let description = mark(&access, "NATO SECRET//REL TO FRA, GBR", true, 0);
    let object = json!({
        "type": "report", "spec_version": "2.1",
        "id": "report--6b1b8b02-4f4b-4c1c-9f3e-7a0e3c1d2e01",
        "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
        "name": "Air activity", "published": "2024-08-01T09:00:00.000Z",
        "description": "For FRA and GBR only",
        "object_refs": ["indicator--6b1b8b02-4f4b-4c1c-9f3e-7a0e3c1d2e02"],
        "object_marking_refs": [object_label],
        "granular_markings": [{"marking_ref": description, "selectors": ["description"]}],
    });
    let stored = stored("report", &object);
    let day = entente_types::parse_date("2025-01-01").unwrap();
    let readers = [
        ("FRA", "NATO SECRET"),
        ("JPN", "NATO SECRET"),
        ("JPN", "NATO CONFIDENTIAL"),
        ("JPN", "COSMIC TOP SECRET"),
        ("USA", "NATO RESTRICTED"),
        ("USA", "NATO SECRET"),
        ("DEU", "COSMIC TOP SECRET"),
    ];
    let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
    let mut served = 0;
    for round in 0..3 {
        if round == 2 {
            // Another label cached: every copy so far was taken on the labels before it.
            mark(&access, "NATO CONFIDENTIAL//REL TO FRA", true, 0);
        }
        for (nation, clearance) in readers {
            let user = reader(&access, nation, clearance);
            let fresh = access.release(&Reader::of(&user), &stored, &object, day);
            let kept =
                access.release_text(&Reader::of(&user), &stored, || Some(object.clone()), day);
            match (fresh, kept) {
                (None, None) => {}
                (Some(fresh), Some((text, markings))) => {
                    assert_eq!(&*text, serde_json::to_string(&fresh.object).unwrap());
                    assert_eq!(ids(&markings), ids(&fresh.markings));
                    served += 1;
                }
                (fresh, kept) => panic!(
                    "{nation} {clearance}, round {round}: fresh {}, kept {}",
                    fresh.is_some(),
                    kept.is_some()
                ),
            }
        }
    }
    // FRA, JPN at NATO SECRET and above, USA at NATO SECRET, in each of three rounds.
    assert_eq!(served, 3 * 4);
    let jpn = reader(&access, "JPN", "NATO SECRET");
    let (text, _) = access
        .release_text(&Reader::of(&jpn), &stored, || None, day)
        .expect("kept for JPN");
    assert!(!text.contains("For FRA and GBR only"), "{text}");
}

/// A row's key is read once and kept under its `seq`: definitions are read whole, other
/// objects on their markings, and the map stays within its bound.
#[test]
fn row_keys_are_kept_by_seq_within_their_bound() {
    let access = Access::new(policy(), None).unwrap();
    let label = mark(&access, "NATO SECRET//REL TO FRA, GBR", true, 0);
    let indicator =
        json!({"type": "indicator", "id": "indicator--1", "object_marking_refs": [label]});
    let definition =
        json!({"type": "marking-definition", "id": label, "object_marking_refs": [label]});
    let mut rows = [
        stored("indicator", &indicator),
        stored("marking-definition", &definition),
    ];
    rows[1].seq = 2;
    let read: Vec<_> = rows.iter().map(|o| (o.seq, row_key(o))).collect();
    let key = read[0]
        .1
        .clone()
        .expect("an indicator is read on its markings");
    assert_eq!(key.key.refs, vec![Cow::Borrowed(label.as_str())]);
    assert!(read[1].1.is_none(), "a definition is read whole");
    assert!(access
        .row_keys
        .kept([1, 2, 3].into_iter())
        .iter()
        .all(Option::is_none));
    access.row_keys.keep(read.into_iter());
    let kept = access.row_keys.kept([1, 2, 3].into_iter());
    assert!(matches!(&kept[0], Some(Some(k)) if Arc::ptr_eq(k, &key)));
    assert!(matches!(kept[1], Some(None)));
    assert!(kept[2].is_none());
    access
        .row_keys
        .keep((10..10 + ROW_KEYS as i64).map(|seq| (seq, None)));
    let len = access
        .row_keys
        .0
        .read()
        .map(|m| m.len())
        .unwrap_or(usize::MAX);
    assert!(len <= ROW_KEYS, "{len} keys kept");
}

/// Selectors of the portions of the property test; the `kill_chain_phases` ones name nothing.
const SELECTORS: [&str; 7] = [
    "description",
    "object_refs.[1]",
    "external_references.[0].description",
    "external_references.[1]",
    "name",
    "kill_chain_phases",
    "kill_chain_phases.[0]",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The fast path (one decision per originator and set of markings, the stored text
    /// served as is) serves exactly what the full release path serves: the same objects,
    /// byte for byte, and the same marking definitions to publish; and what it leaves to
    /// the full path is what the full path rewrites (or, with portions, may refuse).
    #[test]
    fn fast_and_full_release_agree(
        // Mostly one label (as a valid object has), and mostly readers who may see much, so
        // that every outcome is met often.
        labels in prop_oneof![
            3 => prop::collection::vec((0usize..SETS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len(), any::<bool>()), 1..2),
            1 => prop::collection::vec((0usize..SETS.len(), 0usize..LEVELS.len(), 0usize..CAVEATS.len(), any::<bool>()), 0..3),
        ],
        tlp_at in prop::option::of(0usize..3),
        portions in prop::collection::vec(
            ((0usize..SETS.len(), 0usize..LEVELS.len()), prop::collection::vec(0usize..SELECTORS.len(), 1..3)),
            0..3,
        ),
        // The first portion under the object's own label: nothing to rewrite.
        portion_as_object in any::<bool>(),
        empty_refs in any::<bool>(),
        with_default in any::<bool>(),
        originator in 0usize..NATIONS.len(),
        reader in (
            prop_oneof![2 => Just(0usize), 1 => 0usize..NATIONS.len()],
            prop_oneof![2 => Just(LEVELS.len() - 1), 1 => 0usize..LEVELS.len()],
            prop_oneof![2 => Just(CAVEATS.len() - 1), 1 => 0usize..CAVEATS.len()],
        ),
        day in 0u64..6000,
    ) {
        let access = access(with_default);
        let mut refs: Vec<String> = labels
            .iter()
            .enumerate()
            .map(|(i, (set, level, caveats, derived))| {
                let marking = format!("{}{}//REL TO {}", LEVELS[*level], CAVEATS[*caveats], SETS[*set]);
                mark(access, &marking, *derived, i + 100 * (set * 100 + level * 10 + caveats))
            })
            .collect();
        if let Some(at) = tlp_at {
            refs.insert(at.min(refs.len()), TLP_GREEN.to_owned());
        }
        let mut object = json!({
            "type": "report", "spec_version": "2.1",
            "id": "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b",
            "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
            "name": "Air activity", "published": "2024-08-01T00:00:00.000Z",
            "description": "Two tracks",
            "object_refs": if empty_refs { json!([]) } else { json!(["indicator--1b2c3d4e-0000-4000-8000-000000000001", "indicator--1b2c3d4e-0000-4000-8000-000000000002"]) },
            "external_references": [{"source_name": "open-source", "description": "x"}, {"source_name": "liaison"}],
            "object_marking_refs": refs,
        });
        if !portions.is_empty() {
            let entries: Vec<Value> = portions
                .iter()
                .enumerate()
                .map(|(i, ((set, level), selectors))| {
                    let id = match labels.first() {
                        Some((set, level, caveats, _)) if i == 0 && portion_as_object => {
                            let marking = format!("{}{}//REL TO {}", LEVELS[*level], CAVEATS[*caveats], SETS[*set]);
                            mark(access, &marking, true, 0)
                        }
                        _ => mark(access, &format!("{}//REL TO {}", LEVELS[*level], SETS[*set]), true, 0),
                    };
                    let selectors: Vec<&str> = selectors.iter().map(|i| SELECTORS[*i]).collect();
                    json!({"marking_ref": id, "selectors": selectors})
                })
                .collect();
            object["granular_markings"] = Value::Array(entries);
        }
        let (nation, level, caveats) = reader;
        let clearance = parse_marking(access.policy.policies(), &format!("{}{}", LEVELS[level], CAVEATS[caveats])).unwrap();
        let user = User {
            name: "reader".into(),
            nation: NATIONS[nation].parse().unwrap(),
            clearance_policy: clearance.policy().to_owned(),
            clearance_level: clearance.classification().to_owned(),
            clearance_caveats: clearance.caveats().iter().cloned().collect(),
            password_hash: None,
            rights: Vec::new(),
        };
        let day = entente_types::parse_date("2010-01-01").unwrap() + chrono::Days::new(day);
        let mut stored = stored("report", &object);
        stored.originator = NATIONS[originator].parse().unwrap();
        let full = access.release(&Reader::of(&user), &stored, &object, day);
        let Some((key, spans)) = release_key(&stored.json) else {
            // An empty list, or a selector naming nothing: only the full path serves it.
            let unresolved = portions.iter().flat_map(|(_, s)| s).any(|i| SELECTORS[*i].starts_with("kill_chain"));
            prop_assert!(empty_refs || unresolved);
            return Ok(());
        };
        prop_assert!(!empty_refs);
        match access.release_by_markings(&Reader::of(&user), stored.originator, &key, day) {
            ByMarkings::Unchanged(markings) => {
                let full = full.expect("the full path withholds what the fast path serves");
                prop_assert_eq!(serde_json::to_string(&full.object).unwrap(), stored.json);
                let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
                prop_assert_eq!(ids(&markings), ids(&full.markings));
            }
            ByMarkings::Relabelled { refs, portions, markings } => {
                let full = full.expect("the full path withholds what the fast path relabels");
                let mut spliced = Vec::new();
                prop_assert!(write_relabelled(&mut spliced, &stored.json, &spans, &refs, portions.as_deref()));
                prop_assert_eq!(serde_json::to_string(&full.object).unwrap(), String::from_utf8(spliced).unwrap());
                let ids = |m: &[Arc<Value>]| m.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
                prop_assert_eq!(ids(&markings), ids(&full.markings));
            }
            ByMarkings::Withheld => prop_assert!(full.is_none(), "the fast path withholds a released object"),
            ByMarkings::Rewritten => {
                if portions.is_empty() {
                    let full = full.expect("rewritten, yet withheld by the full path");
                    prop_assert_ne!(serde_json::to_string(&full.object).unwrap(), stored.json);
                } else if let Some(full) = full {
                    prop_assert_ne!(serde_json::to_string(&full.object).unwrap(), stored.json);
                }
            }
        }
    }
}

/// JSON values whose strings hold what a scanner could trip on: quotes, escapes, brackets.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z\\\"\\[\\]{}:, \n\u{e9}\u{1f600}]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z\\\"]{0,3}", inner), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A top-level member: mostly markings (well formed or not) and selectable properties.
fn member() -> impl Strategy<Value = (String, Value)> {
    let portion = (
        prop_oneof![Just(json!("marking-definition--1")), json_value()],
        prop::collection::vec(prop::sample::select(SELECTORS.to_vec()), 0..3),
    )
        .prop_map(|(m, s)| json!({"marking_ref": m, "selectors": s}));
    prop_oneof![
        prop::collection::vec(
            prop_oneof![
                Just(json!("marking-definition--1")),
                Just(json!("a\"b")),
                json_value()
            ],
            0..3
        )
        .prop_map(|refs| ("object_marking_refs".to_owned(), Value::Array(refs))),
        prop::collection::vec(portion, 0..3)
            .prop_map(|p| ("granular_markings".to_owned(), Value::Array(p))),
        (
            prop::sample::select(vec![
                "description",
                "object_refs",
                "external_references",
                "name",
                "x\"y",
                "t\u{e9}"
            ]),
            json_value()
        )
            .prop_map(|(n, v)| (n.to_owned(), v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The scanner reads every valid object as the parser does; on a text cut or spliced
    /// anywhere, it never reads what the parser reads otherwise.
    #[test]
    fn scanned_and_parsed_release_keys_agree(
        members in prop::collection::vec(member(), 0..6),
        pretty in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        splice in prop::sample::select(vec!["", "\"", "\\", "]", "}", "{", "[", ",", ":", "x", " "]),
    ) {
        // Written by hand so that a name may come twice.
        let mut json = String::from("{");
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                json.push_str(if pretty { ",\n  " } else { "," });
            }
            json.push_str(&serde_json::to_string(name).unwrap());
            json.push_str(if pretty { ": " } else { ":" });
            let value = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) };
            json.push_str(&value.unwrap());
        }
        json.push('}');
        prop_assert_eq!(release_key(&json), parsed_release_key(&json), "{}", json);
        let at = cut.index(json.len() + 1);
        if json.is_char_boundary(at) {
            let spliced = format!("{}{}{}", &json[..at], splice, &json[at..]);
            let parsed = parsed_release_key(&spliced);
            if parsed.is_some() || serde_json::from_str::<Value>(&spliced).is_ok() {
                prop_assert_eq!(release_key(&spliced), parsed, "{}", spliced);
            }
        }
    }
}

/// A document of `members`, written by hand so that a name may come twice.
fn document(members: &[(String, Value)], pretty: bool) -> String {
    let mut json = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            json.push_str(if pretty { ",\n  " } else { "," });
        }
        json.push_str(&serde_json::to_string(name).unwrap());
        json.push_str(if pretty { ": " } else { ":" });
        let value = if pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        json.push_str(&value.unwrap());
    }
    json.push('}');
    json
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// What the fuzz target `release_key` holds, on generated documents and on the same
    /// documents cut, spliced or nested: the scanner's members and release key are the parser's.
    #[test]
    fn the_scanner_agrees_with_the_parser(
        members in prop::collection::vec(member(), 0..6),
        pretty in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        splice in prop::sample::select(vec!["", "\"", "\\", "]", "}", "{", "[", ",", ":", "x", " ", "1e400", "\\u00e9", "\u{0}"]),
        nest in 0usize..80,
    ) {
        let json = document(&members, pretty);
        prop_assert!(scanner_agrees(&json), "{}", json);
        let at = cut.index(json.len() + 1);
        if json.is_char_boundary(at) {
            let spliced = format!("{}{}{}", &json[..at], splice, &json[at..]);
            prop_assert!(scanner_agrees(&spliced), "{}", spliced);
        }
        let nested = format!("{{\"a\":{}{}{}}}", "[".repeat(nest), json, "]".repeat(nest));
        prop_assert!(scanner_agrees(&nested), "{}", nested);
    }
}

#[test]
fn release_keys_are_read_in_place_and_only_where_the_markings_decide() {
    let json = r#"{"type":"indicator","object_marking_refs":["a","b\u0041"],"x":{"y":[]}}"#;
    let (key, spans) = release_key(json).unwrap();
    assert_eq!(&json[spans.refs.clone().unwrap()], r#"["a","b\u0041"]"#);
    assert_eq!(spans.portions, None);
    let mut out = Vec::new();
    assert!(write_relabelled(&mut out, json, &spans, r#"["c"]"#, None));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"type":"indicator","object_marking_refs":["c"],"x":{"y":[]}}"#
    );
    assert_eq!(key.refs, vec![Cow::from("a"), Cow::from("bA")]);
    assert!(key.portions.is_empty());
    assert_eq!(
        release_key(r#"{"type":"indicator"}"#),
        Some((
            ReleaseKey {
                refs: Vec::new(),
                portions: Vec::new()
            },
            Spans::default()
        ))
    );
    let (key, _) = release_key(
        r#"{"type":"report","d":"x","l":[{"a":1},{"b":[0,{"c":null}]}],"object_marking_refs":["a"],
            "granular_markings":[{"marking_ref":"p","selectors":["d","l.[1].b.[1].c","l.[0]"]}]}"#,
    )
    .unwrap();
    assert_eq!(
        key.portions,
        vec![Portion {
            marking_ref: "p".into(),
            selectors: vec!["d".into(), "l.[1].b.[1].c".into(), "l.[0]".into()],
        }]
    );
    assert_eq!(
        key.marking_ids().collect::<Vec<_>>(),
        vec!["a", "p"],
        "object markings, then portions"
    );
    for json in [
        r#"{"object_marking_refs":["a"],"granular_markings":[]}"#,
        r#"{"object_marking_refs":["a"],"object_refs":[]}"#,
        r#"{"object_marking_refs":["a"],"object_refs":[ ]}"#,
        r#"{"object_marking_refs":["a"],"object_marking_refs":["b"]}"#,
        r#"{"object_marking_refs":["a"],"name":"x","name":"y"}"#,
        r#"{"object_marking_refs":null}"#,
        r#"{"object_marking_refs":[1]}"#,
        r#"["not an object"]"#,
        r#"{"object_marking_refs":["a"]} trailing"#,
        // Portions the full path must read: a language marking, another property, a
        // selector naming nothing, an index past the end, a name inside a list.
        r#"{"d":"x","granular_markings":[{"lang":"fr","selectors":["d"]}]}"#,
        r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["d"],"x":1}]}"#,
        r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["e"]}]}"#,
        r#"{"l":[1],"granular_markings":[{"marking_ref":"p","selectors":["l.[1]"]}]}"#,
        r#"{"l":[1],"granular_markings":[{"marking_ref":"p","selectors":["l.a"]}]}"#,
        r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":["d.[0]"]}]}"#,
        r#"{"d":"x","granular_markings":[{"marking_ref":"p","selectors":"d"}]}"#,
    ] {
        assert_eq!(release_key(json), None, "{json}");
    }
}
