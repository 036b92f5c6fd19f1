//! `entente node` and `entente user`: set up a node, add a user, run it and talk to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::util::entente;

fn config_in(dir: &std::path::Path) -> String {
    dir.join("node.toml").to_str().unwrap().to_owned()
}

/// A raw HTTP/1.1 GET; returns the status line and the body.
fn http_get(addr: &str, path: &str, token: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
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

    // Serve on a free port and read the address from the log.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("127.0.0.1:8400", "127.0.0.1:0")
            .replace("127.0.0.1:8500", "127.0.0.1:0"),
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_entente"))
        .args(["node", "--config", &config])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the node logs its address").unwrap();
        if !line.contains("node listening") {
            continue;
        }
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let (status, body) = http_get(&addr, "/health", "");
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, "ok\n");
    let (status, body) = http_get(&addr, "/api/collections/", &token);
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("\"id\":\"intel\""), "{body}");
    let (status, _) = http_get(&addr, "/api/collections/", "wrong");
    assert!(status.contains("401"), "{status}");
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
}
