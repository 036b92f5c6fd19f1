//! Federation under faults, with real `entente node` processes on loopback: kill -9 of a
//! receiver and of a sender mid-stream, a link that drops and heals (a cutting proxy), and a
//! stranger at the federation port (garbage bytes, a certificate from another CA). Each test
//! checks that every object arrives exactly once, nothing else arrives, the nodes say what
//! happened in their logs, and each audit log stays one consistent, signed history.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use entente_audit::{check_consistent, Checkpoint, ConsistencyProof, NoteVerifier};
use serde_json::{json, Value};

use crate::util::{dechunk, entente, free_port, wait_for};

const BIN: &str = env!("CARGO_BIN_EXE_entente");

/// One national node: its folder, ports, an analyst's token and, while running, its process.
pub(crate) struct NodeProc {
    pub(crate) nation: String,
    pub(crate) dir: PathBuf,
    pub(crate) http: String,
    pub(crate) fed_port: u16,
    pub(crate) token: String,
    pub(crate) vkey: String,
    pub(crate) child: Option<Child>,
    /// Arguments after `node --config FILE` (one process of several: its own addresses).
    pub(crate) args: Vec<String>,
    /// The log file's name in the node's folder.
    pub(crate) log_file: String,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl NodeProc {
    /// `entente node init` on free ports, quick retries and small batches (so that a stream
    /// of a few thousand objects is long enough to interrupt), and an analyst who may write.
    pub(crate) fn init(root: &Path, nation: &str) -> NodeProc {
        NodeProc::init_with(root, nation, "")
    }

    /// [`NodeProc::init`] with `table` (a TOML table, e.g. a PostgreSQL `[database]`) appended
    /// to its node.toml before its users are created.
    pub(crate) fn init_with(root: &Path, nation: &str, table: &str) -> NodeProc {
        let dir = root.join(nation.to_lowercase());
        let http = format!("127.0.0.1:{}", free_port());
        let fed_port = free_port();
        let run = entente(&[
            "node",
            "init",
            "--nation",
            nation,
            "--data",
            dir.to_str().unwrap(),
            "--listen",
            &http,
            "--admin-listen",
            "127.0.0.1:0",
            "--federation-listen",
            &format!("127.0.0.1:{fed_port}"),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let config = dir.join("node.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains("\n[federation]\n"), "{text}");
        let text = text.replacen(
            "\n[federation]\n",
            "\n[federation]\nbatch = 10\nretry_max_ms = 300\ncheckpoint_interval_ms = 200\n",
            1,
        );
        let text = format!("{}\n{table}", without_taxii_tls(&text));
        std::fs::write(&config, text).unwrap();
        let cfg = config.to_str().unwrap();
        let add = entente(&[
            "user",
            "add",
            "--config",
            cfg,
            "--name",
            "analyst",
            "--nation",
            nation,
            "--clearance",
            "NATO SECRET",
            "--write",
            "intel",
        ]);
        assert_eq!(add.code, 0, "{}", add.stderr);
        let token = entente(&["user", "token", "--config", cfg, "--name", "analyst"]);
        assert_eq!(token.code, 0, "{}", token.stderr);
        NodeProc {
            nation: nation.to_owned(),
            dir,
            http,
            fed_port,
            token: token.stdout.trim().to_owned(),
            vkey: String::new(),
            child: None,
            args: Vec::new(),
            log_file: "node.log".to_owned(),
        }
    }

    /// Another process of this node (same folder, configuration and database), on addresses of
    /// its own given on its command line, logging to `node-K.log`.
    pub(crate) fn replica(&self, k: usize) -> NodeProc {
        let http = format!("127.0.0.1:{}", free_port());
        let fed_port = free_port();
        NodeProc {
            nation: format!("{}#{k}", self.nation),
            dir: self.dir.clone(),
            http: http.clone(),
            fed_port,
            token: self.token.clone(),
            vkey: self.vkey.clone(),
            child: None,
            args: vec![
                "--listen".into(),
                http,
                "--admin-listen".into(),
                "127.0.0.1:0".into(),
                "--federation-listen".into(),
                format!("127.0.0.1:{fed_port}"),
            ],
            log_file: format!("node-{k}.log"),
        }
    }

    pub(crate) fn config(&self) -> String {
        self.dir.join("node.toml").to_str().unwrap().to_owned()
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join(&self.log_file)
    }

    /// The node's log so far (every run appends to it).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// This node's partner block, reachable at `url` (its own federation port by default).
    pub(crate) fn export(&mut self, url: Option<&str>) -> String {
        let mut args = vec!["federation", "export", "--config"];
        let cfg = self.config();
        args.push(&cfg);
        if let Some(u) = url {
            args.extend(["--url", u]);
        }
        let run = entente(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let vkey = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("audit_key = \""))
            .expect("the block carries the audit key");
        self.vkey = vkey.trim_end_matches('"').to_owned();
        run.stdout
    }

    pub(crate) fn import(&self, block: &str) {
        let file = self.dir.join("partner.toml");
        std::fs::write(&file, block).unwrap();
        let run = entente(&[
            "federation",
            "import",
            "--config",
            &self.config(),
            file.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    pub(crate) fn start(&mut self) {
        self.start_skewed(None);
    }

    /// Starts the node with its wall clock `offset` away (libfaketime, e.g. "+240s"); the
    /// monotonic clock, which timers use, is left alone.
    pub(crate) fn start_skewed(&mut self, offset: Option<&str>) {
        self.launch(offset, &[]);
    }

    /// Starts the node with extra environment variables (a failpoint, for one).
    pub(crate) fn start_with_env(&mut self, env: &[(&str, &str)]) {
        self.launch(None, env);
    }

    fn launch(&mut self, offset: Option<&str>, env: &[(&str, &str)]) {
        assert!(self.child.is_none());
        // libfaketime can hang a multi-threaded process as it starts (its own issue tracker
        // lists several such deadlocks); a skewed node that does not come up is started
        // again, at most twice. A node without libfaketime gets one try.
        let attempts = if offset.is_some() { 3 } else { 1 };
        for attempt in 1..=attempts {
            let mut child = self.spawn(offset, env);
            let deadline = std::time::Instant::now() + Duration::from_secs(60 / attempts);
            loop {
                if try_http(&self.http, "GET", "/health", "", None).is_some_and(|(s, _)| s == 200) {
                    self.child = Some(child);
                    return;
                }
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "{} exited ({status}) before answering /health; its log ends:\n{}",
                        self.nation,
                        tail(&self.log(), 40)
                    );
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    eprintln!(
                        "{} did not answer /health (attempt {attempt} of {attempts}); its log ends:\n{}",
                        self.nation,
                        tail(&self.log(), 20)
                    );
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("timed out waiting until {} answers /health", self.nation);
    }

    fn spawn(&self, offset: Option<&str>, env: &[(&str, &str)]) -> std::process::Child {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut command = Command::new(BIN);
        command
            .args(["node", "--config", &self.config()])
            .args(&self.args)
            .env("RUST_LOG", "info")
            .env_remove("ENTENTE_LOG_JSON")
            .env_remove("ENTENTE_FAILPOINT")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(offset) = offset {
            // A fixed offset needs neither libfaketime's shared memory (its semaphores are
            // one source of its start-up hangs) nor re-reading the setting on every call.
            command
                .env("LD_PRELOAD", faketime_lib())
                .env("FAKETIME", offset)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("FAKETIME_DISABLE_SHM", "1");
        }
        command.spawn().unwrap()
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
    pub(crate) fn kill9(&mut self) {
        let mut c = self.child.take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// Waits for the process to end by itself (a failpoint killed it); fails after a minute.
    pub(crate) fn wait_exit(&mut self) {
        let mut c = self.child.take().expect("running");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if c.try_wait().unwrap().is_some() {
                return;
            }
            if std::time::Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "{} did not stop at its failpoint within a minute",
                    self.nation
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn post(&self, objects: &[Value]) {
        let body = json!({ "objects": objects }).to_string();
        let (status, text) = http(
            &self.http,
            "POST",
            "/api/collections/intel/objects/",
            &self.token,
            Some(&body),
        );
        assert_eq!(status, 202, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["failure_count"], 0, "{text}");
    }

    /// Every (indicator id, version) this node serves to its own analyst, all pages.
    pub(crate) fn indicators(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut path = "/api/collections/intel/objects/?limit=1000&match%5Btype%5D=indicator&match%5Bversion%5D=all".to_owned();
            if let Some(n) = &next {
                path.push_str(&format!("&next={n}"));
            }
            let (status, text) = http(&self.http, "GET", &path, &self.token, None);
            assert_eq!(status, 200, "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            for o in v["objects"].as_array().into_iter().flatten() {
                out.push((
                    o["id"].as_str().unwrap().to_owned(),
                    o["modified"].as_str().unwrap().to_owned(),
                ));
            }
            match (v["more"].as_bool(), v["next"].as_str()) {
                (Some(true), Some(n)) => next = Some(n.to_owned()),
                _ => return out,
            }
        }
    }

    pub(crate) fn audit_get(&self, path: &str) -> String {
        let (status, text) = http(&self.http, "GET", path, "", None);
        assert_eq!(status, 200, "{} {path}: {text}", self.nation);
        text
    }

    /// The node's current checkpoint, its signature checked with the key it exported.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        let verifier = NoteVerifier::from_vkey(&self.vkey).unwrap();
        verifier
            .verify(&self.audit_get("/audit/checkpoint"))
            .unwrap_or_else(|e| panic!("{}'s checkpoint: {e}", self.nation))
    }

    /// Proves `older` consistent with the node's current checkpoint, through its HTTP route.
    pub(crate) fn assert_consistent(&self, older: &Checkpoint) -> Checkpoint {
        let newer = self.checkpoint();
        assert!(newer.size >= older.size, "{}'s log shrank", self.nation);
        let text = self.audit_get(&format!(
            "/audit/proof/consistency?first={}&second={}",
            older.size, newer.size
        ));
        let proof = ConsistencyProof::from_json(text.as_bytes()).unwrap();
        check_consistent(older, &newer, &proof.hashes)
            .unwrap_or_else(|e| panic!("{}: {e}", self.nation));
        newer
    }

    /// Every audit event, in log order.
    pub(crate) fn audit_events(&self) -> Vec<Value> {
        let size = self.checkpoint().size;
        let mut out = Vec::new();
        let mut start = 0;
        while start < size {
            let end = (start + 1000).min(size);
            let text = self.audit_get(&format!("/audit/entries?start={start}&end={end}"));
            let page: Vec<Value> = serde_json::from_str(&text).unwrap();
            assert_eq!(page.len() as u64, end - start);
            out.extend(page);
            start = end;
        }
        out
    }
}

/// A raw HTTP/1.1 request; `None` when the connection fails.
pub(crate) fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/taxii+json;version=2.1\r\nConnection: close\r\n"
    );
    if !token.is_empty() {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    if let Some(b) = body {
        stream.write_all(b.as_bytes()).ok()?;
    }
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Some((
        status,
        if chunked {
            dechunk(body)?
        } else {
            body.to_owned()
        },
    ))
}

pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> (u16, String) {
    try_http(addr, method, path, token, body)
        .unwrap_or_else(|| panic!("{method} {addr}{path}: no answer"))
}

/// The config text without its TAXII `[tls]` table: the test's own TAXII client speaks plain
/// HTTP on loopback, while the federation link between the nodes stays mutually authenticated TLS.
fn without_taxii_tls(text: &str) -> String {
    let tls = "\n[tls]\ncert = \"tls/server.pem\"\nkey = \"tls/server.key\"\n";
    assert!(text.contains(tls), "{text}");
    text.replacen(tls, "\n", 1)
}

/// A marking definition from the CLI (`entente label parse --json`).
pub(crate) fn marking(text: &str) -> Value {
    let run = entente(&["label", "parse", "--json", text]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

pub(crate) fn indicator(n: usize, label: &Value) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2025-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "name": format!("indicator {n}"),
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2025-01-01T00:00:00Z",
        "object_marking_refs": [label["id"].clone()],
    })
}

/// Publishes `range` at `node` with `label`, 250 objects per POST; returns their ids.
pub(crate) fn publish(
    node: &NodeProc,
    label: &Value,
    range: std::ops::Range<usize>,
) -> BTreeSet<String> {
    node.post(std::slice::from_ref(label));
    let objects: Vec<Value> = range.map(|n| indicator(n, label)).collect();
    for chunk in objects.chunks(250) {
        node.post(chunk);
    }
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `to` holds exactly `want` (once each, at its one version) and nothing else.
pub(crate) fn assert_holds_exactly(to: &NodeProc, want: &BTreeSet<String>) {
    let held = to.indicators();
    let ids: BTreeSet<String> = held.iter().map(|h| h.0.clone()).collect();
    assert_eq!(held.len(), ids.len(), "{} holds a version twice", to.nation);
    let missing: Vec<_> = want.difference(&ids).take(5).collect();
    let extra: Vec<_> = ids.difference(want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} holds {} of {}: missing {missing:?}, extra {extra:?}",
        to.nation,
        ids.len(),
        want.len()
    );
}

/// Each object of `ids` is recorded as received at `to` exactly once.
pub(crate) fn assert_received_once(to: &NodeProc, ids: &BTreeSet<String>) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in to.audit_events() {
        if e["kind"] == "receive" {
            *counts
                .entry(e["object_id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let wrong: Vec<_> = ids
        .iter()
        .filter(|id| counts.get(*id).copied().unwrap_or(0) != 1)
        .take(5)
        .map(|id| (id, counts.get(id).copied().unwrap_or(0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{}: receive events per object {wrong:?}",
        to.nation
    );
}

/// `from`'s audit log records one release to `partner` of each object of `want`, and no other.
pub(crate) fn assert_released_once(from: &NodeProc, partner: &str, want: &BTreeSet<String>) {
    let mut released: BTreeMap<String, usize> = BTreeMap::new();
    for e in from.audit_events() {
        if e["kind"] == "release" && e["partner"] == partner {
            *released
                .entry(e["object_id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    assert_eq!(&released.keys().cloned().collect::<BTreeSet<_>>(), want);
    let twice: Vec<_> = released.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "releases recorded more than once: {twice:?}"
    );
}

/// Two nodes, FRA and USA, paired both ways (USA may reach FRA through `proxy`).
pub(crate) fn pair(root: &Path, usa_sees_fra_at: Option<&str>) -> (NodeProc, NodeProc) {
    let mut fra = NodeProc::init(root, "FRA");
    let mut usa = NodeProc::init(root, "USA");
    let fra_block = fra.export(None);
    let usa_block = usa.export(usa_sees_fra_at);
    fra.import(&usa_block);
    usa.import(&fra_block);
    (fra, usa)
}

const N: usize = 2000;

#[test]
fn receiver_killed_mid_stream_loses_and_duplicates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    fra.start();
    usa.start();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    let national = marking("NATO SECRET//REL TO FRA");
    let mut want = publish(&fra, &shared, 0..N);
    // Not for USA: must never arrive, whatever the faults.
    publish(&fra, &national, N..N + 50);
    wait_for("USA holds part of the stream", || {
        let n = usa.indicators().len();
        n > 0 && n < N - 200
    });
    let usa_before = usa.checkpoint();
    usa.kill9();
    // More is published while USA is down.
    want.extend(publish(&fra, &shared, N + 50..N + 100));
    // USA stays down until FRA has met the dead link at least once.
    wait_for("FRA fails to deliver to the killed USA", || {
        fra.log().contains("delivery failed; will retry")
    });
    usa.start();
    let usa_before = usa.assert_consistent(&usa_before);
    wait_for("USA holds the whole stream", || {
        usa.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&usa, &want);
    assert_received_once(&usa, &want);
    usa.assert_consistent(&usa_before);
    let log = fra.log();
    assert!(log.contains("delivery failed; will retry"), "{log}");
    assert!(!log.contains("SPLIT VIEW") && !usa.log().contains("SPLIT VIEW"));
}

#[test]
fn sender_killed_mid_stream_resumes_from_its_cursor() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    // USA is down at first, so the whole stream queues at FRA and is sent in one go.
    fra.start();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    let want = publish(&fra, &shared, 0..N);
    let fra_before = fra.checkpoint();
    usa.start();
    wait_for("USA holds part of the stream", || {
        let n = usa.indicators().len();
        n > 0 && n < N - 200
    });
    fra.kill9();
    let partial = usa.indicators().len();
    assert!(partial < N, "the stream was complete before the kill");
    fra.start();
    let fra_before = fra.assert_consistent(&fra_before);
    wait_for("USA holds the whole stream", || {
        usa.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&usa, &want);
    assert_received_once(&usa, &want);
    fra.assert_consistent(&fra_before);
    // FRA recorded one release of every object (resent ones are acknowledged as duplicates;
    // the release events commit with the cursor, so they are recorded once).
    assert_released_once(&fra, "USA", &want);
}

/// A TCP proxy on loopback that forwards to `target` while `up`, and cuts every connection
/// (and refuses new ones) while down.
pub(crate) struct CuttingProxy {
    pub(crate) addr: String,
    up: Arc<AtomicBool>,
    epoch: Arc<std::sync::atomic::AtomicU64>,
}

impl CuttingProxy {
    pub(crate) fn start(target: String) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let epoch = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (up2, epoch2) = (up.clone(), epoch.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let born = epoch2.load(Ordering::SeqCst);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let (up3, epoch3) = (up2.clone(), epoch2.clone());
                    std::thread::spawn(move || {
                        from.set_read_timeout(Some(Duration::from_millis(50)))
                            .unwrap();
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            if !up3.load(Ordering::SeqCst) || epoch3.load(Ordering::SeqCst) != born
                            {
                                break;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => break,
                            }
                        }
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        CuttingProxy { addr, up, epoch }
    }

    pub(crate) fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_link_that_drops_and_heals_delivers_everything_once() {
    let root = tempfile::tempdir().unwrap();
    // FRA reaches USA's federation port only through the proxy (the URL in USA's block).
    let mut fra = NodeProc::init(root.path(), "FRA");
    let mut usa = NodeProc::init(root.path(), "USA");
    let proxy = CuttingProxy::start(format!("127.0.0.1:{}", usa.fed_port));
    let fra_block = fra.export(None);
    let usa_block = usa.export(Some(&format!("https://{}", proxy.addr)));
    fra.import(&usa_block);
    usa.import(&fra_block);
    fra.start();
    usa.start();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    let mut want = BTreeSet::new();
    let fra_first = fra.checkpoint();
    let usa_first = usa.checkpoint();
    // Three rounds: publish, cut mid-stream, publish more while cut, heal.
    for round in 0..3 {
        let base = round * 1000;
        want.extend(publish(&fra, &shared, base..base + 600));
        wait_for("USA holds part of the round", || {
            usa.indicators().len() > want.len() - 600
        });
        proxy.cut();
        want.extend(publish(&fra, &shared, base + 600..base + 800));
        std::thread::sleep(Duration::from_millis(400));
        assert!(
            usa.indicators().len() < want.len(),
            "nothing crossed a cut link"
        );
        proxy.heal();
    }
    wait_for("USA holds everything", || {
        usa.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&usa, &want);
    assert_received_once(&usa, &want);
    fra.assert_consistent(&fra_first);
    usa.assert_consistent(&usa_first);
    let log = fra.log();
    assert!(log.contains("delivery failed; will retry"), "{log}");
    assert!(log.contains("partner=USA"), "{log}");
}

#[test]
fn strangers_at_the_federation_port_are_refused_and_logged() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    fra.start();
    usa.start();
    let before = fra.checkpoint();
    let fed = format!("127.0.0.1:{}", fra.fed_port);
    // Garbage instead of a TLS handshake.
    let mut s = TcpStream::connect(&fed).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /federation/inbox HTTP/1.1\r\nHost: x\r\n\r\n{not json")
        .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"));
    // A USA node from another development CA (its own keys and certificate), paired with
    // FRA by importing FRA's block: FRA trusts only the real USA's CA.
    let impostor_dir = root.path().join("impostor");
    let run = entente(&[
        "node",
        "init",
        "--nation",
        "USA",
        "--data",
        impostor_dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--admin-listen",
        "127.0.0.1:0",
        "--federation-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut impostor = NodeProc {
        nation: "USA".into(),
        dir: impostor_dir,
        http: String::new(),
        fed_port: 0,
        token: String::new(),
        vkey: String::new(),
        child: None,
        args: Vec::new(),
        log_file: "node.log".to_owned(),
    };
    let impostor_cfg = impostor.config();
    let text = std::fs::read_to_string(&impostor_cfg).unwrap();
    std::fs::write(&impostor_cfg, without_taxii_tls(&text)).unwrap();
    let http_addr = std::fs::read_to_string(&impostor_cfg)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("listen = \"")
                .map(|a| a.trim_end_matches('"').to_owned())
        })
        .unwrap();
    impostor.http = http_addr;
    impostor.import(&fra.export(None));
    let add = entente(&[
        "user",
        "add",
        "--config",
        &impostor_cfg,
        "--name",
        "analyst",
        "--nation",
        "USA",
        "--clearance",
        "NATO SECRET",
        "--write",
        "intel",
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let token = entente(&[
        "user",
        "token",
        "--config",
        &impostor_cfg,
        "--name",
        "analyst",
    ]);
    impostor.token = token.stdout.trim().to_owned();
    impostor.start();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    publish(&impostor, &shared, 0..5);
    wait_for("FRA logs the refused certificate", || {
        fra.log().contains("federation TLS handshake refused")
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        fra.indicators().is_empty(),
        "nothing from the impostor is stored"
    );
    assert!(impostor.log().contains("delivery failed; will retry"));
    fra.assert_consistent(&before);
}

/// libfaketime, which `scripts/test-all.sh` installs; the test fails (it is never skipped)
/// when the library is missing.
/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn faketime_lib() -> String {
    let path = std::env::var("ENTENTE_FAKETIME_LIB")
        .unwrap_or_else(|_| "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1".into());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: install the Debian package libfaketime (scripts/test-all.sh does)"
    );
    path
}

#[test]
fn clocks_four_minutes_apart_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    // The sender runs four minutes ahead, the receiver four minutes behind.
    fra.start_skewed(Some("+240s"));
    usa.start_skewed(Some("-240s"));
    let fra_first = fra.checkpoint();
    let usa_first = usa.checkpoint();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    let national = marking("NATO SECRET//REL TO FRA");
    let want = publish(&fra, &shared, 0..300);
    publish(&fra, &national, 300..320);
    wait_for("USA holds everything", || {
        usa.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&usa, &want);
    assert_received_once(&usa, &want);
    // The skew is real: events carry each node's own (offset) time.
    let ahead = fra
        .audit_events()
        .into_iter()
        .find(|e| e["kind"] == "release")
        .unwrap();
    let behind = usa
        .audit_events()
        .into_iter()
        .find(|e| e["kind"] == "receive")
        .unwrap();
    let at = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    let gap = at(&ahead) - at(&behind);
    assert!(
        gap.num_seconds() > 400,
        "release at {} and receive at {}: clocks not skewed",
        ahead["at"],
        behind["at"]
    );
    // Both logs stay one history, checked by the peer's checkpoint watcher too.
    fra.assert_consistent(&fra_first);
    usa.assert_consistent(&usa_first);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!fra.log().contains("SPLIT VIEW") && !usa.log().contains("SPLIT VIEW"));
}
