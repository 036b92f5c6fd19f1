//! Two national nodes as real processes, paired by script (`entente federation export|import`):
//! a labelled report reaches the partner tear-lined, and a receiver killed with SIGKILL while
//! objects flow gets every one of them after its restart, once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{entente, repo_root};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http(addr: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/taxii+json;version=2.1\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Bodies may come chunked; the JSON is what lies between the first `{` and the last `}`.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if b >= a => body[a..=b].to_owned(),
        _ => body.to_owned(),
    };
    (status, json)
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

/// Starts a node and returns it with its TAXII address (read from its log).
fn serve(config: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(["node", "--config", config])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the node logs its address").unwrap();
        if line.contains("node listening") {
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        }
    };
    // Keep draining the log so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, addr)
}

fn objects(addr: &str, token: &str) -> Vec<Value> {
    let (status, body) = http(
        addr,
        "GET",
        "/api/collections/intel/objects/?match[version]=all&limit=1000",
        token,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or(json!({}));
    v["objects"].as_array().cloned().unwrap_or_default()
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not reached: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let (status, note) = {
        let mut stream = TcpStream::connect(&fra_addr).unwrap();
        write!(
            stream,
            "GET /audit/checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (head.to_owned(), body.to_owned())
    };
    assert!(status.contains("200"), "{status}");
    assert!(note.contains("entente.audit/FRA"), "{note}");

    fra_node.kill().unwrap();
    usa_node.kill().unwrap();
    let _ = fra_node.wait();
    let _ = usa_node.wait();
}
