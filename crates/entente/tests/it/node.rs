//! `entente node` and `entente user`: set up a node, add a user, run it and talk to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::entente;

fn config_in(dir: &std::path::Path) -> String {
    dir.join("node.toml").to_str().unwrap().to_owned()
}

/// A raw HTTP/1.1 request over TLS, trusting only the node's CA; returns the status line and
/// the body.
pub fn https(
    addr: &str,
    ca: &Path,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> std::io::Result<(String, String)> {
    let config = entente_node::pki::client_config(ca, None).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, TcpStream::connect(addr)?);
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/taxii+json;version=2.1\r\nConnection: close\r\n"
    );
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(b) = body {
        stream.write_all(b.as_bytes())?;
    }
    stream.flush()?;
    let mut bytes = Vec::new();
    if let Err(e) = stream.read_to_end(&mut bytes) {
        // A peer that closes without close_notify after a whole answer is tolerated.
        if e.kind() != std::io::ErrorKind::UnexpectedEof || bytes.is_empty() {
            return Err(e);
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = match chunked {
        true => crate::util::dechunk(body).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "a cut chunked body")
        })?,
        false => body.to_owned(),
    };
    Ok((head.lines().next().unwrap_or("").to_owned(), body))
}

fn http_get(addr: &str, ca: &Path, path: &str, token: &str) -> (String, String) {
    https(addr, ca, "GET", path, token, None).unwrap()
}

/// Starts `entente node --config CONFIG` and returns it with the address it logs.
pub fn start_node(config: &str) -> (std::process::Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(["node", "--config", config])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the node logs its address").unwrap();
        // The federation endpoint logs its own address: take the TAXII listener's.
        if !line.contains("node listening") {
            continue;
        }
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (server, addr)
}

#[test]
fn init_user_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fra");
    let data_s = data.to_str().unwrap();
    let run = entente(&["node", "init", "--nation", "FRA", "--data", data_s]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("wrote "), "{}", run.stdout);
    let config = config_in(&data);
    assert!(data.join("node.db").exists());
    let again = entente(&["node", "init", "--nation", "FRA", "--data", data_s]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("exists (use --force to replace it)"),
        "{}",
        again.stderr
    );

    // A user whose password comes on standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args([
            "user",
            "add",
            "--config",
            &config,
            "--name",
            "alice",
            "--nation",
            "FRA",
            "--clearance",
            "NATO SECRET",
            "--password-stdin",
            "--write",
            "intel",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["clearance"]["level"], "SECRET");
    assert_eq!(user["rights"][0]["write"], true);
    let bad = entente(&[
        "user",
        "add",
        "--config",
        &config,
        "--name",
        "bob",
        "--nation",
        "FRA",
        "--clearance",
        "NATO SEKRET",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let token = entente(&["user", "token", "--config", &config, "--name", "alice"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.stdout.trim().to_owned();

    // Serve on a free port (TLS with the development PKI) and read the address from the log.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("[tls]"), "{text}");
    std::fs::write(
        &config,
        text.replace("127.0.0.1:8400", "127.0.0.1:0")
            .replace("127.0.0.1:8600", "127.0.0.1:0")
            .replace("127.0.0.1:8500", "127.0.0.1:0"),
    )
    .unwrap();
    let ca = data.join("tls/ca.pem");
    let (mut server, addr) = start_node(&config);
    let (status, body) = http_get(&addr, &ca, "/health", "");
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "ok\n");
    let (status, body) = http_get(&addr, &ca, "/api/collections/", &token);
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("\"id\":\"intel\""), "{body}");
    let (status, _) = http_get(&addr, &ca, "/api/collections/", "wrong");
    assert!(status.contains("401"), "{status}");
    // Plain HTTP gets no answer from a TLS node.
    let mut plain = TcpStream::connect(&addr).unwrap();
    write!(
        plain,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = plain.read_to_string(&mut answer);
    assert!(!answer.contains("ok"), "{answer}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn bad_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.toml");
    std::fs::write(
        &path,
        "version = 1\nnation = \"FRA\"\ndata_dir = \".\"\nport = 3\n",
    )
    .unwrap();
    let run = entente(&["node", "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown field `port`"),
        "{}",
        run.stderr
    );
    std::fs::write(&path, "version = 2\nnation = \"FRA\"\ndata_dir = \".\"\n").unwrap();
    let run = entente(&["node", "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("version 2 is not supported"),
        "{}",
        run.stderr
    );
    let run = entente(&["node"]);
    assert_eq!(run.code, 2);
    // A start-up failure on the configuration's files is bad input too, naming the file.
    std::fs::write(
        &path,
        "version = 1\nnation = \"FRA\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \".\"\n[tls]\ncert = \"missing.pem\"\nkey = \"missing.key\"\n",
    )
    .unwrap();
    let run = entente(&["node", "--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.pem"), "{}", run.stderr);
}

/// kill -9 during a large ingest: every object acknowledged in a 202 status is there after a
/// restart on the same folder (the store commits before it answers).
#[test]
fn objects_acknowledged_before_kill_9_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fra");
    let data_s = data.to_str().unwrap();
    let run = entente(&["node", "init", "--nation", "FRA", "--data", data_s]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = config_in(&data);
    // Objects without a label take the node's default one; a free port.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("127.0.0.1:8400", "127.0.0.1:0")
        .replace("127.0.0.1:8600", "127.0.0.1:0")
        .replacen(
            "data_dir = ",
            "default_label = \"NATO UNCLASSIFIED\"\nmax_content_length = 16777216\ndata_dir = ",
            1,
        );
    std::fs::write(&config, text).unwrap();
    let add = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args([
            "user", "add", "--config", &config, "--name", "loader", "--nation", "FRA",
        ])
        .args(["--clearance", "NATO SECRET", "--write", "intel"])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let token = entente(&["user", "token", "--config", &config, "--name", "loader"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let token = token.stdout.trim().to_owned();
    let ca = data.join("tls/ca.pem");

    let (mut server, addr) = start_node(&config);
    let path = "/api/collections/intel/objects/";
    // A loader posts envelopes of 500 objects until the node goes away, keeping every id the
    // node acknowledged as stored.
    let loader = {
        let (addr, ca, token) = (addr.clone(), ca.clone(), token.clone());
        std::thread::spawn(move || {
            let mut acknowledged: Vec<String> = Vec::new();
            let mut statuses = Vec::new();
            for batch in 0u64.. {
                let objects: Vec<serde_json::Value> = (0..500u64)
                    .map(|i| {
                        serde_json::json!({
                            "type": "indicator", "spec_version": "2.1",
                            "id": format!("indicator--00000000-0000-4000-8000-{:012}", batch * 1000 + i),
                            "created": "2024-08-01T09:00:00.000Z", "modified": "2024-08-01T09:00:00.000Z",
                            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                            "valid_from": "2024-08-01T09:00:00Z"
                        })
                    })
                    .collect();
                let body = serde_json::json!({ "objects": objects }).to_string();
                let Ok((status, answer)) = https(&addr, &ca, "POST", path, &token, Some(&body))
                else {
                    break;
                };
                if !status.contains("202") {
                    // Cut short by the kill: the node never said it stored these.
                    break;
                }
                let Ok(st) = serde_json::from_str::<serde_json::Value>(&answer) else {
                    break;
                };
                assert_eq!(st["failure_count"], 0, "{answer}");
                for s in st["successes"].as_array().unwrap() {
                    acknowledged.push(s["id"].as_str().unwrap().to_owned());
                }
                statuses.push(st["id"].as_str().unwrap().to_owned());
            }
            (acknowledged, statuses)
        })
    };
    // Let a few batches through, then SIGKILL mid-ingest.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    server.kill().unwrap(); // SIGKILL on Unix
    server.wait().unwrap();
    let (acknowledged, statuses) = loader.join().unwrap();
    assert!(
        acknowledged.len() >= 500,
        "the node acknowledged {} objects before the kill",
        acknowledged.len()
    );

    let (mut server, addr) = start_node(&config);
    let mut found = std::collections::HashSet::new();
    let mut next: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit=10000");
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let (status, body) = https(&addr, &ca, "GET", &url, &token, None).unwrap();
        assert!(status.contains("200"), "{status} {body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        for o in page["objects"].as_array().into_iter().flatten() {
            found.insert(o["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !found.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged objects lost, e.g. {:?}",
        missing.len(),
        acknowledged.len(),
        missing.first()
    );
    // Their status resources survived too.
    for id in statuses.iter().rev().take(3) {
        let (status, body) = https(
            &addr,
            &ca,
            "GET",
            &format!("/api/status/{id}/"),
            &token,
            None,
        )
        .unwrap();
        assert!(status.contains("200"), "{status} {body}");
        assert!(body.contains("\"success_count\":500"), "{body}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `node init` writes its keys, configuration and database owner-only (0600) in owner-only
/// folders (0700); `--force` over files made readable by others narrows them again.
#[cfg(unix)]
#[test]
fn node_init_writes_its_secrets_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fra");
    let data_s = data.to_str().unwrap();
    let init = |force: bool| {
        let mut args = vec!["node", "init", "--nation", "FRA", "--data", data_s];
        if force {
            args.push("--force");
        }
        let run = entente(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    init(false);
    let secrets = crate::util::assert_owner_only(&data);
    let names: Vec<String> = secrets
        .iter()
        .map(|p| p.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    for expected in [
        "node.db",
        "node.keys",
        "node.toml",
        "tls/ca.key",
        "tls/node.key",
        "tls/server.key",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for secret in &secrets {
        std::fs::set_permissions(secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    init(true);
    crate::util::assert_owner_only(&data);
}

/// A plain HTTP/1.1 GET; returns the status code and the body.
fn plain_get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        crate::util::dechunk(body).unwrap()
    } else {
        body.to_owned()
    };
    (status_of(head), body)
}

fn status_of(status_line: &str) -> u16 {
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"))
}

/// Starts `entente node --config CONFIG`; returns it with its TAXII and admin addresses.
fn start_node_with_admin(config: &str) -> (std::process::Child, String, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(["node", "--config", config])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let (mut taxii, mut admin) = (None, None);
    while taxii.is_none() || admin.is_none() {
        let line = lines
            .next()
            .expect("the node logs its TAXII and admin addresses")
            .unwrap();
        let addr = || {
            line.split("addr=")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        };
        if line.contains("node listening") {
            taxii = addr();
        } else if line.contains("admin listening") {
            admin = addr();
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (server, taxii.unwrap(), admin.unwrap())
}

/// Runs `openapi-spec-validator` (PyPI, in the test virtualenv beside `ENTENTE_PYTHON`) on the
/// document; required under `CI=true`, skipped visibly elsewhere when the virtualenv is absent.
fn validate_openapi(doc: &str) {
    let validator = std::env::var_os("ENTENTE_PYTHON")
        .map(|p| Path::new(&p).with_file_name("openapi-spec-validator"))
        .filter(|v| v.exists());
    let Some(validator) = validator else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs openapi-spec-validator beside ENTENTE_PYTHON (scripts/test-all.sh installs it)"
        );
        eprintln!("SKIPPED openapi-spec-validator: ENTENTE_PYTHON's virtualenv lacks it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc).unwrap();
    let out = Command::new(&validator).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("OK"),
        "openapi-spec-validator refused the document: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every route a federating node serves besides TAXII is in its OpenAPI document, which is valid
/// (openapi-spec-validator) and served on the admin listener only, with the metrics; every route
/// the document lists answers on the listener its tag names, with a status it lists.
#[test]
fn a_federating_node_describes_every_route_it_serves_on_its_admin_listener() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fra");
    let run = entente(&[
        "node",
        "init",
        "--nation",
        "FRA",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--federation-listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = config_in(&data);
    let ca = data.join("tls/ca.pem");
    let (mut server, taxii, admin) = start_node_with_admin(&config);

    let (status, text) = plain_get(&admin, "/openapi.json");
    assert_eq!(status, 200, "{text}");
    validate_openapi(&text);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // The node's own, the audit log's and federation's routes; TAXII is OASIS's.
    for path in [
        "/health",
        "/metrics",
        "/openapi.json",
        "/audit/checkpoint",
        "/audit/proof/inclusion",
        "/audit/proof/consistency",
        "/audit/entries",
        entente_federation::wire::INBOX,
        "/api/search/",
        "/api/search/correlate",
        "/api/search/graph",
        "/api/search/match",
        "/api/crisis/rooms",
        "/api/crisis/rooms/{room}",
        "/api/crisis/rooms/{room}/close",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    // Under the API root, only the search and crisis room routes are the node's own.
    let ours = |p: &str| p.starts_with("/api/search/") || p.starts_with("/api/crisis/");
    assert!(
        !paths
            .keys()
            .any(|p| (p.starts_with("/api/") && !ours(p)) || p == "/taxii2/"),
        "TAXII routes are not ours to describe"
    );
    // The CLI prints the same document.
    let printed = entente(&["node", "openapi"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert_eq!(printed.json(), doc);

    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let tag = op["tags"][0].as_str().unwrap();
            let responses = &op["responses"];
            let answered = match (tag, method.as_str()) {
                ("node" | "audit", "get") => {
                    let (line, _) = https(&taxii, &ca, "GET", path, "", None).unwrap();
                    status_of(&line)
                }
                ("node", "post") => {
                    let (line, _) = https(&taxii, &ca, "POST", path, "", Some("{}")).unwrap();
                    status_of(&line)
                }
                ("admin", "get") => plain_get(&admin, path).0,
                // The inbox, on the federation port to configured partners only (its answers
                // are checked against the document by the inbox tests of entente-federation).
                ("federation", "post") => continue,
                other => panic!("{path}: {other:?} is on no listener the test knows"),
            };
            assert_ne!(answered, 404, "{path} is described but not served");
            assert!(
                responses.get(answered.to_string()).is_some(),
                "{path} answered {answered}, which the document does not list"
            );
        }
    }
    // Metrics (they count withheld objects) and the document are not on the TAXII port.
    for path in ["/metrics", "/openapi.json"] {
        let (line, _) = https(&taxii, &ca, "GET", path, "", None).unwrap();
        assert_eq!(status_of(&line), 404, "{path} on the TAXII port");
    }
    let (status, metrics) = plain_get(&admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("entente_objects_withheld_total"),
        "{metrics}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
