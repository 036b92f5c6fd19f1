//! The OASIS validator (`stix2-validator --version 2.1 --strict`) accepts everything the node
//! serves, to every reader: whole objects, tear-lined copies whose label became a banner, and
//! the banners' marking definitions, which the node serves so that every reference resolves.
//! With `--interop` added, it reports only the two checks that cannot apply (see
//! [`NOT_APPLICABLE_WITH_INTEROP`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::interop::venv_python;
use crate::sandbox::Sandbox;

const OBJECTS: &str = "/api/collections/intel/objects/";

/// The analysts' identity: the interop profile wants every object to name its creator, and the
/// creator to be served with it.
const CREATOR: &str = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

/// What `--interop` reports that cannot apply to a node, by the end of the message, for marking
/// definitions only:
/// - `'modified' is a required property`: STIX 2.1 gives marking definitions no `modified`
///   (they never change, §7.2.1), and `--strict` refuses one as a custom property (401): the two
///   profiles contradict each other here, and the node keeps to the standard.
/// - `created_by_ref is not present in Object`: a label's marking definition is derived from the
///   label alone (its id too), so that every node derives the same object for the same label and
///   a banner received from a partner is the one this node would write; a creator would make
///   each node's copy a different object.
const NOT_APPLICABLE_WITH_INTEROP: &[&str] = &[
    ": 'modified' is a required property",
    ": created_by_ref is not present in Object",
];

fn bundle_objects() -> Vec<Value> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/report-bundle.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut objects = bundle["objects"].as_array().unwrap().clone();
    for o in &mut objects {
        if o["type"] != "marking-definition" && o.get("created_by_ref").is_none() {
            o["created_by_ref"] = json!(CREATOR);
        }
    }
    objects.push(json!({
        "type": "identity", "spec_version": "2.1", "id": CREATOR,
        "created": "2024-08-01T00:00:00.000Z", "modified": "2024-08-01T00:00:00.000Z",
        "name": "Analysis cell", "identity_class": "organization", "created_by_ref": CREATOR,
        "object_marking_refs": [objects[1]["id"].clone()],
    }));
    // An attack pattern with portions under two labels, so that readers get different banners.
    let label = |i: usize| objects[i]["id"].clone();
    let (wide, narrow) = (label(1), label(3));
    objects.push(json!({
        "type": "attack-pattern", "spec_version": "2.1",
        "id": "attack-pattern--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c",
        "created": "2024-08-02T10:00:00.000Z", "modified": "2024-08-02T10:00:00.000Z",
        "name": "Transponder-off transit", "created_by_ref": CREATOR,
        "external_references": [{"source_name": "entente", "external_id": "T0001"}],
        "kill_chain_phases": [{"kill_chain_name": "entente-air-policing", "phase_name": "transit"}],
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
        let out = std::process::Command::new(&validator)
            .args(["--version", "2.1", "--strict", "--interop"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let problems: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("[X] ") && !l.contains("STIX JSON: Invalid"))
            .collect();
        assert!(
            text.contains("STIX JSON:") && (problems.is_empty() || !out.status.success()),
            "{user}: {text}"
        );
        for problem in problems {
            assert!(
                problem.starts_with("[X] marking-definition--")
                    && NOT_APPLICABLE_WITH_INTEROP
                        .iter()
                        .any(|end| problem.ends_with(end)),
                "{user}: --interop: {problem}"
            );
        }
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
