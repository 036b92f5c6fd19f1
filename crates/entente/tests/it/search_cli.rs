//! `entente search`, `entente correlate` and `entente match` on a node's store: what each user
//! may read, and nothing else.

use serde_json::json;

use crate::util::entente;

/// A FRA node with two users (FRA and JPN, both NATO SECRET) and four objects: an indicator and
/// an address released to NATO, a report FRA keeps to itself, and an observed sighting.
fn node_with_objects() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fra");
    let run = entente(&[
        "node",
        "init",
        "--nation",
        "FRA",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = data.join("node.toml").to_str().unwrap().to_owned();
    for (name, nation) in [("alice", "FRA"), ("kenji", "JPN")] {
        let add = entente(&[
            "user",
            "add",
            "--config",
            &config,
            "--name",
            name,
            "--nation",
            nation,
            "--clearance",
            "NATO SECRET",
            "--write",
            "intel",
        ]);
        assert_eq!(add.code, 0, "{}", add.stderr);
    }
    let policies =
        entente_labels::PolicySet::load(&crate::util::repo_root().join("data/policies")).unwrap();
    let marking = |text: &str| {
        let label = entente_labels::parse_marking(&policies, text).unwrap();
        entente_labels::stix::to_marking_definition(&policies, &label).unwrap()
    };
    let nato = marking("NATO SECRET//REL TO FRA, JPN");
    let fra_only = marking("NATO SECRET//REL TO FRA");
    let (n, f) = (nato["id"].clone(), fra_only["id"].clone());
    let envelope = json!({"objects": [nato, fra_only,
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c8a2d4e-0000-4000-8000-000000000001",
         "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
         "name": "Port ransomware command server", "pattern_type": "stix", "valid_from": "2024-08-01T09:00:00Z",
         "pattern": "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", "object_marking_refs": [n]},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--0c8a2d4e-0000-4000-8000-000000000002",
         "value": "203.0.113.9", "object_marking_refs": [n]},
        {"type": "report", "spec_version": "2.1", "id": "report--0c8a2d4e-0000-4000-8000-000000000003",
         "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
         "name": "Port ransomware source inside a ministry", "published": "2024-08-01T09:00:00Z",
         "object_refs": ["indicator--0c8a2d4e-0000-4000-8000-000000000001"], "object_marking_refs": [f]}
    ]});
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let node = entente_node::Node::open(
            entente_node::NodeConfig::load(std::path::Path::new(&config)).unwrap(),
        )
        .await
        .unwrap();
        let alice = node.store().user("alice").await.unwrap().unwrap();
        let status = node
            .post_envelope(&alice, "intel", envelope.to_string().as_bytes())
            .await
            .unwrap();
        assert_eq!(status.failures.len(), 0, "{:?}", status.failures);
        // The documentation address is flagged in the status, with the list it is on.
        let flagged: Vec<_> = status
            .successes
            .iter()
            .filter(|d| d.message.is_some())
            .collect();
        assert!(
            flagged.iter().any(|d| d.id.starts_with("ipv4-addr--")
                && d.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("on a warning list: 203.0.113.9 ("))),
            "{:?}",
            status.successes
        );
    });
    (dir, config)
}

#[test]
fn search_correlate_and_match_show_each_user_its_own_view() {
    let (_dir, config) = node_with_objects();
    let as_user = |user: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--config", &config, "--user", user, "--json"]);
        let run = entente(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()
    };
    let fra = as_user("alice", &["search", "port ransomware"]);
    assert_eq!(fra["total"], 2, "{fra}");
    assert_eq!(fra["facets"]["types"], json!({"indicator": 1, "report": 1}));
    let jpn = as_user("kenji", &["search", "port ransomware"]);
    assert_eq!(jpn["total"], 1, "{jpn}");
    assert_eq!(jpn["hits"][0]["type"], "indicator");
    assert_eq!(jpn["facets"]["types"], json!({"indicator": 1}));
    // "ministry" is only in the report JPN may not read.
    assert_eq!(as_user("kenji", &["search", "ministry"])["total"], 0);

    // The address sits inside the indicator's network; 203.0.113.0/24 is a documentation
    // range, on a warning list: ignored unless asked.
    let plain = as_user("kenji", &["correlate", "203.0.113.9"]);
    assert_eq!(plain["objects"], json!([]), "{plain}");
    assert!(
        plain["ignored"][0]["lists"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{plain}"
    );
    let warned = as_user("kenji", &["correlate", "203.0.113.9", "--include-warned"]);
    let ids: Vec<&str> = warned["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "indicator--0c8a2d4e-0000-4000-8000-000000000001",
            "ipv4-addr--0c8a2d4e-0000-4000-8000-000000000002"
        ]
    );

    // The graph around the indicator: the report for FRA, nothing for JPN.
    let graph = |user: &str| {
        as_user(
            user,
            &[
                "correlate",
                "indicator--0c8a2d4e-0000-4000-8000-000000000001",
                "--graph",
                "1",
            ],
        )
    };
    assert_eq!(graph("alice")["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(graph("kenji")["nodes"].as_array().map(Vec::len), Some(1));

    // A new indicator against what each holds.
    let bundle = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bundle.path(), json!({"type": "bundle", "id": "bundle--0c8a2d4e-0000-4000-8000-000000000009", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c8a2d4e-0000-4000-8000-00000000000a",
         "created": "2024-08-02T09:00:00.000Z", "modified": "2024-08-02T09:00:00.000Z", "valid_from": "2024-08-02T09:00:00Z",
         "pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.9']"}]}).to_string()).unwrap();
    let matched = as_user("kenji", &["match", bundle.path().to_str().unwrap()]);
    assert_eq!(
        matched["bundle_indicators"][0]["observations"],
        json!(["ipv4-addr--0c8a2d4e-0000-4000-8000-000000000002"]),
        "{matched}"
    );

    // Errors name what is wrong, with exit code 2.
    let bad = entente(&[
        "search",
        "added:soon",
        "--config",
        &config,
        "--user",
        "alice",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("added:soon"), "{}", bad.stderr);
    let nobody = entente(&["search", "x", "--config", &config, "--user", "mallory"]);
    assert_eq!(nobody.code, 2, "{}", nobody.stderr);
    assert!(nobody.stderr.contains("mallory"), "{}", nobody.stderr);
}
