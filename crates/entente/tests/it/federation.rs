//! Two national nodes as real processes, paired by script (`entente federation export|import`):
//! a labelled report reaches the partner tear-lined, and a receiver killed with SIGKILL while
//! objects flow gets every one of them after its restart, once.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{entente, free_port, repo_root, wait_for};

/// Where a node's TAXII listener answers, and the CA its development certificate chains to.
struct Endpoint {
    addr: String,
    ca: std::path::PathBuf,
}

/// One request over TLS (the node's development PKI); returns the status and the JSON body.
fn http(
    node: &Endpoint,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let body = body.map(|b| b.to_string());
    let (status, body) =
        crate::node::https(&node.addr, &node.ca, method, path, token, body.as_deref()).unwrap();
    let status = status
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body)
}

struct NodeDir {
    config: String,
}

fn init(root: &Path, nation: &str, fed_port: u16) -> NodeDir {
    let data = root.join(nation);
    let run = entente(&[
        "node",
        "init",
        "--nation",
        nation,
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--federation-listen",
        &format!("127.0.0.1:{fed_port}"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    NodeDir {
        config: data.join("node.toml").to_str().unwrap().to_owned(),
    }
}

fn user(config: &str, name: &str, nation: &str, write: bool) -> String {
    let mut args = vec![
        "user",
        "add",
        "--config",
        config,
        "--name",
        name,
        "--nation",
        nation,
        "--clearance",
        "NATO SECRET",
    ];
    if write {
        args.extend(["--write", "intel"]);
    } else {
        args.extend(["--read", "intel"]);
    }
    let run = entente(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = entente(&["user", "token", "--config", config, "--name", name]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    token.stdout.trim().to_owned()
}

/// Starts a node and returns it with its TAXII address and the CA its certificate chains to.
fn serve(config: &str) -> (Child, Endpoint) {
    let (child, addr) = crate::node::start_node(config);
    let ca = Path::new(config).with_file_name("tls").join("ca.pem");
    (child, Endpoint { addr, ca })
}

fn objects(node: &Endpoint, token: &str) -> Vec<Value> {
    let (status, body) = http(
        node,
        "GET",
        "/api/collections/intel/objects/?match[version]=all&limit=1000",
        token,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or(json!({}));
    v["objects"].as_array().cloned().unwrap_or_default()
}

#[test]
fn paired_processes_replicate_and_survive_a_killed_receiver() {
    let root = tempfile::tempdir().unwrap();
    let fra = init(root.path(), "FRA", free_port());
    let usa = init(root.path(), "USA", free_port());
    // Pairing by script: each exports its block, the other imports it.
    for (from, to) in [(&fra, &usa), (&usa, &fra)] {
        let block = entente(&["federation", "export", "--config", &from.config]);
        assert_eq!(block.code, 0, "{}", block.stderr);
        let file = root.path().join("block.toml");
        std::fs::write(&file, &block.stdout).unwrap();
        let run = entente(&[
            "federation",
            "import",
            "--config",
            &to.config,
            file.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let partners = entente(&["federation", "partners", "--config", &fra.config]);
    assert!(
        partners.stdout.starts_with("USA  https://127.0.0.1:"),
        "{}",
        partners.stdout
    );
    let identity = entente(&["federation", "identity", "--config", &usa.config]);
    assert!(
        identity.stdout.starts_with("entente-node USA ed25519:"),
        "{}",
        identity.stdout
    );

    let analyst = user(&fra.config, "analyst", "FRA", true);
    let reader = user(&usa.config, "reader", "USA", false);
    let (mut fra_node, fra_addr) = serve(&fra.config);
    let (mut usa_node, usa_addr) = serve(&usa.config);

    let bundle: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("examples/report-bundle.json")).unwrap(),
    )
    .unwrap();
    let (status, body) = http(
        &fra_addr,
        "POST",
        "/api/collections/intel/objects/",
        &analyst,
        Some(&json!({"objects": bundle["objects"]})),
    );
    assert_eq!(status, 202, "{body}");
    let report_id = "report--6c1b1f4e-2f0a-4c35-9f3e-1c2d3e4f5a6b";
    wait_for("the report at USA", || {
        objects(&usa_addr, &reader)
            .iter()
            .any(|o| o["id"] == report_id)
    });
    let at_usa = objects(&usa_addr, &reader);
    let report = at_usa.iter().find(|o| o["id"] == report_id).unwrap();
    // REL TO FRA, GBR portions are cut for USA; the FRA, GBR, USA description stays.
    assert!(report.get("description").is_some(), "{report}");
    assert!(!report.to_string().contains("liaison cell"), "{report}");

    // Kill the receiver without warning, publish while it is down, restart it.
    usa_node.kill().unwrap();
    usa_node.wait().unwrap();
    let label = "marking-definition--73f80355-7d34-480b-bbe3-7a7d63ea15d2";
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
                "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                "name": format!("beacon {i}"), "pattern": "[ipv4-addr:value = '198.51.100.7']",
                "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z",
                "object_marking_refs": [label]
            })
        })
        .collect();
    let (status, body) = http(
        &fra_addr,
        "POST",
        "/api/collections/intel/objects/",
        &analyst,
        Some(&json!({"objects": batch[..20]})),
    );
    assert_eq!(status, 202, "{body}");
    std::thread::sleep(Duration::from_millis(300));
    let (mut usa_node, usa_addr) = serve(&usa.config);
    let (status, body) = http(
        &fra_addr,
        "POST",
        "/api/collections/intel/objects/",
        &analyst,
        Some(&json!({"objects": batch[20..]})),
    );
    assert_eq!(status, 202, "{body}");
    wait_for("40 indicators at USA", || {
        objects(&usa_addr, &reader)
            .iter()
            .filter(|o| o["type"] == "indicator")
            .count()
            >= 40
    });
    let held = objects(&usa_addr, &reader);
    let mut ids: Vec<&str> = held
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((n, ids.len()), (40, 40), "no loss, no duplicate");

    // The audit log is served and signed by FRA's key.
    let (status, note) = crate::node::https(
        &fra_addr.addr,
        &fra_addr.ca,
        "GET",
        "/audit/checkpoint",
        "",
        None,
    )
    .unwrap();
    assert!(status.contains("200"), "{status}");
    assert!(note.contains("entente.audit/FRA"), "{note}");

    fra_node.kill().unwrap();
    usa_node.kill().unwrap();
    let _ = fra_node.wait();
    let _ = usa_node.wait();
}
