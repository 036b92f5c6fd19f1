//! One decision whichever way an object leaves a node: for random objects (labelled, portion
//! marked, unlabelled, marking and extension definitions), what a reader of a nation gets from the
//! origin node's read path equals what federation delivered to that nation's node, object by
//! object: both absent, or the same tear-lined copy.

use std::collections::BTreeMap;
use std::time::Duration;

use entente_store::User;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use crate::harness::*;

const PARTNERS: [&str; 3] = ["GBR", "JPN", "DEU"];

const LABELS: [&str; 7] = [
    "NATO UNCLASSIFIED",
    "NATO RESTRICTED",
    "NATO CONFIDENTIAL//REL TO FRA, GBR, USA",
    "NATO SECRET//REL TO FRA, JPN",
    "NATO SECRET//REL TO FRA, GBR, JPN, USA",
    "NATO RESTRICTED//REL TO FRA, DEU",
    "NATO SECRET//REL TO NATO",
];

/// A reader of `nation` cleared for every label above.
fn reader(nation_code: &str) -> User {
    User {
        name: format!("reader-{nation_code}"),
        nation: nation(nation_code),
        clearance_policy: "NATO".into(),
        clearance_level: "SECRET".into(),
        clearance_caveats: Vec::new(),
        password_hash: None,
        rights: Vec::new(),
    }
}

/// `count` random objects and the label marking definitions they use.
fn corpus(mesh: &Mesh, rng: &mut StdRng, first: u32, count: u32) -> Vec<Value> {
    let markings: Vec<Value> = LABELS.iter().map(|l| mesh.marking(l)).collect();
    let mut objects = markings.clone();
    for n in first..first + count {
        let label = &markings[rng.random_range(0..markings.len())];
        let mut portions = Vec::new();
        for selector in ["name", "description"] {
            if rng.random_bool(0.3) {
                portions.push((selector, &markings[rng.random_range(0..markings.len())]));
            }
        }
        let mut o = indicator(n, "2025-01-01T00:00:00.000Z", label, &portions);
        match rng.random_range(0..10) {
            // Stored without a label (as before ingest wrote the default label in).
            0 => {
                o.as_object_mut().unwrap().remove("object_marking_refs");
                o.as_object_mut().unwrap().remove("granular_markings");
            }
            1 => {
                o = json!({
                    "type": "extension-definition", "spec_version": "2.1",
                    "id": format!("extension-definition--00000000-0000-4000-8000-{n:012}"),
                    "created_by_ref": "identity--00000000-0000-4000-8000-000000000001",
                    "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                    "name": format!("extension {n}"), "schema": "https://example.org/schema",
                    "version": "1.0.0", "extension_types": ["property-extension"]
                });
            }
            _ => {}
        }
        objects.push(o);
    }
    objects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_path_and_dispatch_take_the_same_decision() {
    // The origin has a default label: an object stored without a label must still go nowhere,
    // by either path.
    let mut codes = vec!["FRA"];
    codes.extend(PARTNERS);
    let mesh = Mesh::full_with_settings(&codes, "default_label = \"NATO UNCLASSIFIED\"").await;
    let fra = mesh.get("FRA");
    let mut rng = StdRng::seed_from_u64(0x5a3e_d3c1);
    let mut compared = 0;
    for round in 0..3u32 {
        let objects = corpus(&mesh, &mut rng, 1 + round * 60, 60);
        fra.publish(&objects).await;
        settled(&mesh, Duration::from_secs(60)).await;
        let day = chrono::Utc::now().date_naive();
        for p in PARTNERS {
            let served: BTreeMap<String, Value> = fra
                .node
                .readable_objects(&reader(p), "intel", day)
                .await
                .unwrap()
                .into_iter()
                .filter(|o| o["type"] != "marking-definition")
                .map(|o| (o["id"].as_str().unwrap().to_owned(), o))
                .collect();
            let delivered: BTreeMap<String, Value> = mesh
                .get(p)
                .held()
                .await
                .into_iter()
                .filter(|(_, _, origin, _)| *origin == nation("FRA"))
                .map(|(id, _, _, o)| (id, o))
                .collect();
            for o in &objects {
                let id = o["id"].as_str().unwrap();
                if o["type"] == "marking-definition" {
                    continue;
                }
                if o["type"] == "extension-definition" {
                    // A schema: every reader sees it; federation never carries it.
                    assert!(served.contains_key(id), "{p}: {id} not served");
                    assert!(!delivered.contains_key(id), "{p}: {id} federated");
                    continue;
                }
                assert_eq!(
                    served.get(id),
                    delivered.get(id),
                    "{p}: {id} ({}) served by the node, delivered by federation",
                    o["object_marking_refs"]
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 400, "{compared} comparisons");
    mesh.stop_all().await;
}
