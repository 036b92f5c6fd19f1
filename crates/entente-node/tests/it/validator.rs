//! The OASIS validator (`stix2-validator --version 2.1 --strict`) accepts everything the node
//! serves, to every reader: whole objects, tear-lined copies whose label became a banner, and
//! the banners' marking definitions, which the node serves so that every reference resolves.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::interop::venv_python;
use crate::sandbox::Sandbox;

const OBJECTS: &str = "/api/collections/intel/objects/";

fn bundle_objects() -> Vec<Value> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/report-bundle.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut objects = bundle["objects"].as_array().unwrap().clone();
    // An attack pattern with portions under two labels, so that readers get different banners.
    let label = |i: usize| objects[i]["id"].clone();
    let (wide, narrow) = (label(1), label(3));
    objects.push(json!({
        "type": "attack-pattern", "spec_version": "2.1",
        "id": "attack-pattern--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c",
        "created": "2024-08-02T10:00:00.000Z", "modified": "2024-08-02T10:00:00.000Z",
        "name": "Transponder-off transit",
        "description": "Flights with transponders off along the corridor.",
        "aliases": ["dark transit", "liaison codename"],
        "object_marking_refs": [wide],
        "granular_markings": [
            {"marking_ref": narrow, "selectors": ["description", "aliases.[1]"]},
            {"marking_ref": label(2), "selectors": ["aliases.[0]"]}
        ]
    }));
    objects
}

async fn check(s: Sandbox, python: PathBuf) {
    for (name, nation) in [
        ("fra", "FRA"),
        ("gbr", "GBR"),
        ("usa", "USA"),
        ("jpn", "JPN"),
    ] {
        s.user(
            name,
            nation,
            "NATO SECRET",
            if name == "fra" { "rw" } else { "r" },
        )
        .await;
    }
    let a = s
        .post("fra", OBJECTS, &json!({ "objects": bundle_objects() }))
        .await;
    assert_eq!(a.json()["failure_count"], 0, "{}", a.text);
    let validator = python.with_file_name("stix2_validator");
    let dir = tempfile::tempdir().unwrap();
    for user in ["fra", "gbr", "usa", "jpn"] {
        let served = s.get(user, &format!("{OBJECTS}?limit=10000")).await.json();
        let objects = served["objects"].as_array().unwrap().clone();
        assert!(objects.iter().any(|o| o["type"] == "report"), "{user}");
        // Every marking reference resolves among the served objects.
        let ids: BTreeSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
        for o in &objects {
            let refs = o["object_marking_refs"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(
                    o["granular_markings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|g| &g["marking_ref"]),
                );
            for r in refs {
                assert!(
                    ids.contains(r.as_str().unwrap()),
                    "{user}: {r} of {}",
                    o["id"]
                );
            }
        }
        let path = dir.path().join(format!("{user}.json"));
        let bundle = json!({
            "type": "bundle",
            "id": format!("bundle--{}", uuid::Uuid::new_v4()),
            "objects": objects,
        });
        std::fs::write(&path, bundle.to_string()).unwrap();
        // `--interop` is not run: its profile demands content of the analysts' objects
        // (`created_by_ref`, `external_references`) and a `modified` on marking definitions,
        // which the label format does not carry.
        let out = std::process::Command::new(&validator)
            .args(["--version", "2.1", "--strict"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("STIX JSON: Valid"),
            "{user}: {text}"
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_served_passes_the_oasis_validator() {
    let Some(python) = venv_python("everything_served_passes_the_oasis_validator") else {
        return;
    };
    check(Sandbox::start().await, python).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_a_postgres_node_serves_passes_the_oasis_validator() {
    let Some(python) = venv_python("everything_a_postgres_node_serves_passes_the_oasis_validator")
    else {
        return;
    };
    let Some(s) = Sandbox::start_postgres(|_| {}).await else {
        return;
    };
    check(s, python).await;
}
