//! Random labels (classification, caveats, "Releasable To" sets, portion labels) over random
//! topologies of 3 to 5 nodes: each nation ends up holding exactly the objects, and of each
//! object exactly the portions, that an independent oracle allows. The oracle never calls the
//! federation code nor `release_object`: it asks `ReleasePolicy::decide` for the object label
//! and for each portion's effective label (the object label dominated by the portion's), and
//! walks the partner graph itself. A nation may be reached by several copies of one version
//! (the origin's tear-lined copy, or a relay's copy released onward whole), so it must hold one
//! of the copies the oracle lists for it, and nothing when the list is empty.
//!
//! Cases: 8 by default, `ENTENTE_ORACLE_CASES` for more.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use entente_labels::{parse_marking, Label};
use entente_policy::ReleasePolicy;
use entente_registry::Registry;
use entente_types::NationCode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::harness::*;

const NATIONS: [&str; 5] = ["FRA", "USA", "GBR", "DEU", "JPN"];
/// The optional properties of an indicator that carry portion labels.
const PORTIONS: [&str; 2] = ["name", "description"];

/// A marking text: a NATO level, optional caveats, optional "Releasable To" set.
fn marking_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("NATO RESTRICTED"),
            Just("NATO CONFIDENTIAL"),
            Just("NATO SECRET"),
        ],
        proptest::option::weighted(0.2, prop_oneof![Just("ATOMAL"), Just("CRYPTO")]),
        proptest::option::weighted(
            0.8,
            prop_oneof![
                proptest::sample::subsequence(NATIONS.to_vec(), 1..=5).prop_map(|s| s.join(", ")),
                Just("NATO".to_owned()),
            ],
        ),
    )
        .prop_map(|(level, caveat, rel)| {
            let mut s = level.to_owned();
            if let Some(c) = caveat {
                s.push_str("//");
                s.push_str(c);
            }
            if let Some(r) = rel {
                s.push_str("//REL TO ");
                s.push_str(&r);
            }
            s
        })
}

/// One published object: its origin, object marking and the markings of its portions.
#[derive(Debug, Clone)]
struct Spec {
    origin: usize,
    object: String,
    portions: Vec<(usize, String)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..5,
        marking_text(),
        proptest::collection::vec((0usize..PORTIONS.len(), marking_text()), 0..=2),
    )
        .prop_map(|(origin, object, mut portions)| {
            portions.sort_by_key(|p| p.0);
            portions.dedup_by_key(|p| p.0);
            Spec {
                origin,
                object,
                portions,
            }
        })
}

/// The portions a recipient may receive of an object whose labels are these, or `None` when
/// the object itself is not releasable to it.
fn permitted(
    policy: &ReleasePolicy,
    object: &Label,
    portions: &[(&'static str, Label)],
    origin: NationCode,
    to: NationCode,
) -> Option<BTreeSet<&'static str>> {
    let day = chrono::Utc::now().date_naive();
    if !policy.decide(object, origin, to, day).is_permit() {
        return None;
    }
    let mut out: BTreeSet<&'static str> = PORTIONS.iter().copied().collect();
    // A portion travels when both its own label and the object's label dominated by it permit
    // the release: a portion label naming no "Releasable To" keeps its policy's default release
    // and does not inherit the object's wider one.
    for (name, label) in portions {
        let effective = object.dominate(label).ok()?;
        if !policy.decide(&effective, origin, to, day).is_permit()
            || !policy.decide(label, origin, to, day).is_permit()
        {
            out.remove(name);
        }
    }
    Some(out)
}

/// For each nation, the copies (sets of portions) of one object it may end up holding.
fn oracle(
    policy: &ReleasePolicy,
    nations: &[NationCode],
    links: &BTreeSet<(NationCode, NationCode)>,
    origin: NationCode,
    object: &Label,
    portions: &[(&'static str, Label)],
) -> BTreeMap<NationCode, BTreeSet<BTreeSet<&'static str>>> {
    let all: BTreeSet<&'static str> = PORTIONS.iter().copied().collect();
    let mut copies: BTreeMap<NationCode, BTreeSet<BTreeSet<&'static str>>> =
        nations.iter().map(|n| (*n, BTreeSet::new())).collect();
    copies.entry(origin).or_default().insert(all);
    // The origin cuts a copy for each partner.
    for (a, b) in links {
        if *a == origin && *b != origin {
            if let Some(p) = permitted(policy, object, portions, origin, *b) {
                copies.entry(*b).or_default().insert(p);
            }
        }
    }
    // A holder releases onward only the copy it holds, and only when the partner may
    // receive all of it (it cannot cut a copy the origin bound); the partner verifies the
    // origin's signature, so it accepts only what comes from an origin it has keys for (one
    // of its own partners).
    loop {
        let mut grew = false;
        for (a, b) in links {
            if *a == origin || *b == origin || !links.contains(&(*b, origin)) {
                continue;
            }
            let Some(may) = permitted(policy, object, portions, origin, *b) else {
                continue;
            };
            let held: Vec<BTreeSet<&'static str>> = copies[a].iter().cloned().collect();
            for c in held {
                if c.is_subset(&may) && copies.entry(*b).or_default().insert(c) {
                    grew = true;
                }
            }
        }
        if !grew {
            return copies;
        }
    }
}

/// The deny events every node recorded for `id`, to explain a failure.
async fn denies(mesh: &Mesh, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in mesh.members.values() {
        let log = m.fed.audit();
        for e in log.entries(0..log.size().await.unwrap()).await.unwrap() {
            if e.object_id == id && e.kind == entente_audit::EventKind::Deny {
                out.push(format!("{} -> {:?}: {:?}", e.node, e.partner, e.detail));
            }
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("ENTENTE_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

#[test]
fn each_nation_holds_exactly_the_portions_the_oracle_allows() {
    let data = entente_node::shipped_data();
    let registry = Registry::load(&data.join("registry")).unwrap();
    let policies = entente_labels::PolicySet::load(&data.join("policies")).unwrap();
    let policy = ReleasePolicy::new(&registry, policies.clone());
    let strategy = (
        3usize..=5,
        proptest::collection::btree_set((0usize..5, 0usize..5), 2..10),
        proptest::collection::vec(spec(), 1..8),
    );
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runner
        .run(&strategy, |(count, pairs, specs)| {
            let nations: Vec<NationCode> = NATIONS[..count].iter().map(|c| nation(c)).collect();
            let mut links = BTreeSet::new();
            for (a, b) in pairs {
                if a < count && b < count && a != b {
                    links.insert((nations[a], nations[b]));
                    links.insert((nations[b], nations[a]));
                }
            }
            rt.block_on(async {
                let mesh = Mesh::with_links(&nations, &links).await;
                let mut expected = Vec::new();
                for (i, s) in specs.iter().enumerate() {
                    let origin = nations[s.origin % count];
                    let object_label = parse_marking(&policies, &s.object).unwrap();
                    let object_marking = mesh.marking(&s.object);
                    let mut markings = vec![object_marking.clone()];
                    let mut labelled: Vec<(&str, Value)> = Vec::new();
                    let mut portion_labels = Vec::new();
                    for (p, text) in &s.portions {
                        let m = mesh.marking(text);
                        labelled.push((PORTIONS[*p], m.clone()));
                        markings.push(m);
                        portion_labels.push((PORTIONS[*p], parse_marking(&policies, text).unwrap()));
                    }
                    // Portions whose labels do not combine with the object's (another policy)
                    // cannot be published; every generated label is NATO, so all combine.
                    let refs: Vec<(&str, &Value)> = labelled.iter().map(|(p, m)| (*p, m)).collect();
                    let o = indicator(2000 + i as u32, "2025-06-01T00:00:00.000Z", &object_marking, &refs);
                    markings.push(o.clone());
                    mesh.members[&origin].publish(&markings).await;
                    let allowed =
                        oracle(&policy, &nations, &links, origin, &object_label, &portion_labels);
                    expected.push((o["id"].as_str().unwrap().to_owned(), allowed));
                }
                settled(&mesh, Duration::from_secs(60)).await;
                for n in &nations {
                    let held: BTreeMap<String, BTreeSet<&'static str>> = mesh.members[n]
                        .held()
                        .await
                        .into_iter()
                        .map(|(id, _, _, v)| {
                            let present =
                                PORTIONS.iter().copied().filter(|p| v.get(*p).is_some()).collect();
                            (id, present)
                        })
                        .collect();
                    for (id, allowed) in &expected {
                        let copies = &allowed[n];
                        match held.get(id) {
                            None => {
                                if !copies.is_empty() {
                                    let denied = denies(&mesh, id).await;
                                    panic!(
                                        "{n} lacks {id} (may hold {copies:?}); links {links:?}; {specs:?}; denied {denied:?}"
                                    );
                                }
                            }
                            Some(got) => assert!(
                                copies.contains(got),
                                "{n} holds {id} with {got:?}, allowed {copies:?}; links {links:?}; {specs:?}"
                            ),
                        }
                    }
                    let known: BTreeSet<&String> = expected.iter().map(|e| &e.0).collect();
                    let extra: Vec<&String> = held.keys().filter(|k| !known.contains(k)).collect();
                    assert!(extra.is_empty(), "{n} holds unknown objects {extra:?}");
                }
                mesh.stop_all().await;
            });
            Ok(())
        })
        .unwrap();
}
