//! Random labels and topologies: the objects each nation ends up holding are exactly those the
//! policy permits, computed by an oracle that asks the release policy directly for each
//! (origin, recipient) pair reachable in the topology.
//!
//! Four nodes, up to five objects and eight cases per run cover isolated nodes, chains and
//! re-release within seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use entente_policy::{ReleasePolicy, ReleaseVerdict};
use entente_registry::Registry;
use entente_types::NationCode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::harness::*;

const NATIONS: [&str; 4] = ["FRA", "USA", "JPN", "DEU"];

fn oracle(
    policy: &ReleasePolicy,
    mesh: &Mesh,
    published: &[(NationCode, Value, Value)],
    links: &BTreeSet<(NationCode, NationCode)>,
) -> BTreeMap<NationCode, BTreeSet<String>> {
    let day = chrono::Utc::now().date_naive();
    let mut expected: BTreeMap<NationCode, BTreeSet<String>> = BTreeMap::new();
    for n in mesh.members.keys() {
        expected.insert(*n, BTreeSet::new());
    }
    for (origin, object, marking) in published {
        let label = entente_labels::stix::from_marking_definition(&mesh.policies, marking).unwrap();
        let lookup = |id: &str| (id == marking["id"]).then(|| label.clone());
        let id = object["id"].as_str().unwrap().to_owned();
        expected.get_mut(origin).unwrap().insert(id.clone());
        // Holders spread along links; a holder forwards to a partner when the policy, with the
        // originator as originator, permits the partner, and the partner accepts it only when it
        // knows the originator's key (the originator is one of its partners).
        let mut holders: BTreeSet<NationCode> = [*origin].into();
        loop {
            let mut grew = false;
            for (a, b) in links {
                let knows_origin = links.contains(&(*b, *origin));
                if holders.contains(a) && !holders.contains(b) && knows_origin {
                    let r = policy
                        .release_object(object, &lookup, *origin, *b, day)
                        .unwrap();
                    if r.verdict == ReleaseVerdict::Permit {
                        holders.insert(*b);
                        grew = true;
                    }
                }
            }
            if !grew {
                break;
            }
        }
        for h in holders {
            expected.get_mut(&h).unwrap().insert(id.clone());
        }
    }
    expected
}

#[test]
fn each_nation_holds_exactly_what_the_policy_permits() {
    let registry = Registry::load(&entente_node::shipped_data().join("registry")).unwrap();
    let policies =
        entente_labels::PolicySet::load(&entente_node::shipped_data().join("policies")).unwrap();
    let policy = ReleasePolicy::new(&registry, policies);
    let nations: Vec<NationCode> = NATIONS.iter().map(|c| nation(c)).collect();
    let pair = (0usize..4, 0usize..4);
    let marking = prop_oneof![
        Just("NATO SECRET".to_owned()),
        Just("NATO CONFIDENTIAL".to_owned()),
        proptest::sample::subsequence(NATIONS.to_vec(), 1..=4)
            .prop_map(|s| format!("NATO SECRET//REL TO {}", s.join(", "))),
    ];
    let strategy = (
        proptest::collection::btree_set(pair, 2..8),
        proptest::collection::vec((0usize..4, marking), 1..6),
    );
    let mut runner = TestRunner::new(Config {
        cases: 8,
        ..Config::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runner
        .run(&strategy, |(pairs, objects)| {
            let mut links = BTreeSet::new();
            for (a, b) in pairs {
                if a != b {
                    links.insert((nations[a], nations[b]));
                    links.insert((nations[b], nations[a]));
                }
            }
            rt.block_on(async {
                let mesh = Mesh::with_links(&nations, &links).await;
                let mut published = Vec::new();
                for (i, (who, text)) in objects.iter().enumerate() {
                    let m = mesh.marking(text);
                    let o = indicator(1000 + i as u32, "2025-06-01T00:00:00.000Z", &m, &[]);
                    mesh.members[&nations[*who]]
                        .publish(&[m.clone(), o.clone()])
                        .await;
                    published.push((nations[*who], o, m));
                }
                settled(&mesh, Duration::from_secs(30)).await;
                let expected = oracle(&policy, &mesh, &published, &links);
                for (n, want) in &expected {
                    let got: BTreeSet<String> = mesh.members[n]
                        .held()
                        .await
                        .into_iter()
                        .map(|h| h.0)
                        .collect();
                    assert_eq!(
                        &got, want,
                        "{n} with links {links:?} and objects {objects:?}"
                    );
                }
                mesh.stop_all().await;
            });
            Ok(())
        })
        .unwrap();
}
