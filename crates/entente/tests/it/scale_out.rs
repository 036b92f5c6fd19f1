//! One nation's node as several `entente node` processes over one PostgreSQL database
//! (`ENTENTE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`; each test
//! in a schema of its own, dropped at the end). Without a reachable server these tests skip
//! with a message, except under `CI=true`, where they fail.
//!
//! - concurrent ingest and paged reads spread over three processes: every acknowledged object
//!   readable from every process within a second, pages that never skip or repeat;
//! - kill -9 of a process during ingest: every acknowledged object survives, and the
//!   processes agree on the order;
//! - kill -9 of the process holding a partner's dispatch lease mid-stream: another takes over
//!   within seconds, the partner holds exactly what was released, each once, and the audit log
//!   (kept in the database) stays one consistent history that the independent verifier accepts;
//! - every database connection of a process cut under load: it stops being ready, reconnects,
//!   is ready again, and nothing acknowledged is lost.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::federation_faults::{http, indicator, marking, publish, try_http, NodeProc};
use crate::util::wait_for;

fn database_url() -> String {
    std::env::var("ENTENTE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs SQL with `psql` (PostgreSQL's own client); `None` when the server does not answer.
fn psql(sql: &str) -> Option<String> {
    let out = Command::new("psql")
        .args([&database_url(), "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A schema for one test, or `None` (after saying so) when PostgreSQL is not reachable outside CI.
fn schema(test: &str) -> Option<Schema> {
    if psql("SELECT 1").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs PostgreSQL at {} (and psql)",
            database_url()
        );
        eprintln!(
            "SKIPPED {test}: PostgreSQL at {} unreachable (or psql missing)",
            database_url()
        );
        return None;
    }
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    Some(Schema(format!(
        "scale_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )))
}

/// A test's schema, dropped with everything in it when the test ends.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = psql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

/// A node of `nation` in `schema` and `n` processes of it (not started).
fn cluster(root: &std::path::Path, nation: &str, schema: &Schema, n: usize) -> Vec<NodeProc> {
    let top = format!(
        "database_url = \"{}\"\ndatabase_schema = \"{}\"\n",
        database_url(),
        schema.0
    );
    let first = NodeProc::init_with(root, nation, &top);
    let mut processes: Vec<NodeProc> = (1..n).map(|i| first.replica(&format!("p{i}"))).collect();
    processes.insert(0, first);
    processes
}

/// Every indicator id a process serves to its analyst, in page order, paging `limit` at a time.
fn page_through(node: &NodeProc, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path =
            format!("/api/collections/intel/objects/?limit={limit}&match%5Btype%5D=indicator");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let (status, text) = http(&node.http, "GET", &path, &node.token, None);
        assert_eq!(status, 200, "{}: {text}", node.nation);
        let v: Value = serde_json::from_str(&text).unwrap();
        for o in v["objects"].as_array().into_iter().flatten() {
            out.push(o["id"].as_str().unwrap().to_owned());
        }
        match (v["more"].as_bool(), v["next"].as_str()) {
            (Some(true), Some(n)) => next = Some(n.to_owned()),
            _ => return out,
        }
    }
}

/// Posts `objects` at `node`; `Some(ids)` when acknowledged (202 with no failure).
fn try_post(node: &NodeProc, objects: &[Value]) -> Option<Vec<String>> {
    try_post_at(&node.http, &node.token, objects)
}

fn try_post_at(http: &str, token: &str, objects: &[Value]) -> Option<Vec<String>> {
    let body = json!({ "objects": objects }).to_string();
    let (status, text) = try_http(
        http,
        "POST",
        "/api/collections/intel/objects/",
        token,
        Some(&body),
    )?;
    if status != 202 {
        return None;
    }
    let v: Value = serde_json::from_str(&text).ok()?;
    (v["failure_count"] == 0).then(|| {
        objects
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    })
}

fn has_object(node: &NodeProc, id: &str) -> bool {
    try_http(
        &node.http,
        "GET",
        &format!("/api/collections/intel/objects/{id}/"),
        &node.token,
        None,
    )
    .is_some_and(|(s, _)| s == 200)
}

fn ready(node: &NodeProc) -> Option<u16> {
    try_http(&node.http, "GET", "/ready", "", None).map(|(s, _)| s)
}

#[test]
fn three_processes_ingest_and_page_concurrently_and_agree() {
    let Some(schema) = schema("three_processes_ingest_and_page_concurrently_and_agree") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut processes = cluster(root.path(), "EST", &schema, 3);
    for p in &mut processes {
        p.start();
    }
    for p in &processes {
        assert_eq!(ready(p), Some(200), "{} ready", p.nation);
    }
    let label = marking("NATO SECRET//REL TO EST");
    assert!(try_post(&processes[0], std::slice::from_ref(&label)).is_some());
    let processes = Arc::new(processes);
    // Acknowledged ids with when they were acknowledged.
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let writing = Arc::new(AtomicBool::new(true));
    let (to_check, checks) = mpsc::channel::<(usize, String, Instant)>();
    const POSTS: usize = 16;
    const PER_POST: usize = 25;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (processes, acked, label, to_check) = (
                processes.clone(),
                acked.clone(),
                label.clone(),
                to_check.clone(),
            );
            std::thread::spawn(move || {
                for post in 0..POSTS {
                    let objects: Vec<Value> = (0..PER_POST)
                        .map(|k| indicator(w * 100_000 + post * PER_POST + k, &label))
                        .collect();
                    let ids = try_post(&processes[w], &objects).expect("acknowledged");
                    let at = Instant::now();
                    to_check.send((w, ids[0].clone(), at)).unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .extend(ids.into_iter().map(|id| (id, at)));
                }
            })
        })
        .collect();
    drop(to_check);
    // Each acknowledged post's first object, looked for at the two processes that did not take it.
    let checker = {
        let processes = processes.clone();
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            for (w, id, at) in checks {
                for (i, p) in processes.iter().enumerate() {
                    if i == w {
                        continue;
                    }
                    while !has_object(p, &id) {
                        assert!(
                            at.elapsed() < Duration::from_secs(5),
                            "{id} acknowledged by process {w} is not at {} after 5 s",
                            p.nation
                        );
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    worst = worst.max(at.elapsed());
                }
            }
            worst
        })
    };
    // Readers page through every process while the writers write: no id twice in a pass, and
    // every id acknowledged before a pass began is in it.
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (processes, acked, writing) = (processes.clone(), acked.clone(), writing.clone());
            std::thread::spawn(move || {
                let mut passes = 0;
                while writing.load(Ordering::Relaxed) || passes == 0 {
                    let before: Vec<String> = {
                        let acked = acked.lock().unwrap();
                        acked.iter().map(|(id, _)| id.clone()).collect()
                    };
                    let pass = page_through(&processes[r], 100);
                    let seen: BTreeSet<&String> = pass.iter().collect();
                    assert_eq!(
                        seen.len(),
                        pass.len(),
                        "a pass at process {r} repeated an object"
                    );
                    let skipped: Vec<_> = before
                        .iter()
                        .filter(|id| !seen.contains(id))
                        .take(3)
                        .collect();
                    assert!(
                        skipped.is_empty(),
                        "a pass at process {r} skipped acknowledged objects {skipped:?}"
                    );
                    passes += 1;
                }
                passes
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    writing.store(false, Ordering::Relaxed);
    let worst = checker.join().unwrap();
    let passes: Vec<usize> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    eprintln!("slowest acknowledged-to-readable elsewhere: {worst:?}; reader passes {passes:?}");
    assert!(
        worst <= Duration::from_secs(1),
        "an acknowledged object took {worst:?} to be readable at another process"
    );
    // All three serve the same objects in the same order.
    let want: BTreeSet<String> = acked
        .lock()
        .unwrap()
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(want.len(), 3 * POSTS * PER_POST);
    let orders: Vec<Vec<String>> = processes.iter().map(|p| page_through(p, 100)).collect();
    assert_eq!(orders[0].iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[0], orders[2]);
}

#[test]
fn a_process_killed_during_ingest_loses_nothing_it_acknowledged() {
    let Some(schema) = schema("a_process_killed_during_ingest_loses_nothing_it_acknowledged")
    else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut processes = cluster(root.path(), "EST", &schema, 3);
    for p in &mut processes {
        p.start();
    }
    let label = marking("NATO SECRET//REL TO EST");
    assert!(try_post(&processes[1], std::slice::from_ref(&label)).is_some());
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut victim = processes.remove(0);
    // Posts go to the victim from another thread while this one kills it.
    let writer = {
        let http = victim.http.clone();
        let token = victim.token.clone();
        let label = label.clone();
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for post in 0..10_000 {
                let objects: Vec<Value> =
                    (0..20).map(|k| indicator(post * 20 + k, &label)).collect();
                match try_post_at(&http, &token, &objects) {
                    Some(ids) => acked.extend(ids),
                    None => break,
                }
            }
            acked
        })
    };
    wait_for("the victim has acknowledged some posts", || {
        page_through(&processes[0], 1000).len() >= 200
    });
    victim.kill9();
    acked.extend(writer.join().unwrap());
    assert!(acked.len() >= 200);
    victim.start();
    processes.push(victim);
    let orders: Vec<Vec<String>> = processes.iter().map(|p| page_through(p, 250)).collect();
    let held: BTreeSet<String> = orders[0].iter().cloned().collect();
    let lost: Vec<_> = acked.difference(&held).take(5).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert_eq!(
        orders[0], orders[1],
        "the restarted process and the others agree on the order"
    );
    assert_eq!(orders[0], orders[2]);
    eprintln!(
        "acknowledged {} before the kill; {} held (a post cut after its commit may be held unacknowledged)",
        acked.len(),
        held.len()
    );
}

/// The process whose log last says it took `partner`'s dispatch lease, with the token.
fn lease_holder(processes: &[NodeProc], partner: &str) -> Option<(usize, i64)> {
    let mut best: Option<(usize, i64)> = None;
    for (i, p) in processes.iter().enumerate() {
        if p.child.is_none() {
            continue;
        }
        for line in p.log().lines() {
            if line.contains("dispatch lease taken") && line.contains(&format!("partner={partner}"))
            {
                let token = line
                    .split("token=")
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                if best.is_none_or(|(_, t)| token > t) {
                    best = Some((i, token));
                }
            }
        }
    }
    best
}

#[test]
fn the_dispatcher_s_process_killed_mid_stream_is_taken_over_and_the_partner_gets_each_release_once()
{
    let Some(schema) = schema("dispatch_failover") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut est = cluster(root.path(), "EST", &schema, 3);
    let mut lva = NodeProc::init(root.path(), "LVA");
    let est_block = est[0].export(None);
    for p in &mut est[1..] {
        p.vkey = est[0].vkey.clone();
    }
    let lva_block = lva.export(None);
    est[0].import(&lva_block);
    lva.import(&est_block);
    lva.start();
    for p in &mut est {
        p.start();
    }
    let shared = marking("NATO SECRET//REL TO EST, LVA");
    let national = marking("NATO SECRET//REL TO EST");
    let mut want = publish(&est[1], &shared, 0..1500);
    publish(&est[2], &national, 1500..1550);
    let before = est[0].checkpoint();
    wait_for("LVA holds part of the stream", || {
        let n = lva.indicators().len();
        n > 100 && n < 1200
    });
    let (holder, token) = lease_holder(&est, "LVA").expect("a process holds LVA's lease");
    let killed_at = Instant::now();
    est[holder].kill9();
    let mut taken = None;
    wait_for("another process takes LVA's lease over", || {
        taken = lease_holder(&est, "LVA").filter(|&(_, t)| t > token);
        taken.is_some()
    });
    let takeover = killed_at.elapsed();
    let (new_holder, _) = taken.unwrap();
    assert_ne!(new_holder, holder);
    eprintln!(
        "dispatch lease of LVA taken over by process {new_holder} {takeover:?} after the kill"
    );
    assert!(
        takeover <= Duration::from_secs(5),
        "takeover took {takeover:?}"
    );
    // More is published while the killed process is down, at a surviving one.
    want.extend(publish(&est[new_holder], &shared, 2000..2100));
    wait_for("LVA holds the whole stream", || {
        lva.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    crate::federation_faults::assert_holds_exactly(&lva, &want);
    crate::federation_faults::assert_received_once(&lva, &want);
    est[holder].start();
    // One audit log, whichever process answers: consistent with the checkpoint taken before.
    let after = est[holder].assert_consistent(&before);
    let also = est[new_holder].checkpoint();
    assert!(also.size >= after.size);
    // Each release to LVA recorded once.
    let mut releases: BTreeMap<String, usize> = BTreeMap::new();
    wait_for("every release to LVA is in the audit log", || {
        releases.clear();
        for e in est[new_holder].audit_events() {
            if e["kind"] == "release"
                && e["partner"] == "LVA"
                && e["object_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("indicator--"))
            {
                *releases
                    .entry(e["object_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        releases.len() >= want.len()
    });
    let twice: Vec<_> = releases.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "releases recorded more than once: {twice:?}"
    );
    verify_audit_independently(&est, root.path());
}

/// The independent verifier (Python, RFC 9162 and C2SP checkpoints) on what the processes serve:
/// checkpoints, entries and proofs each asked of a different process.
fn verify_audit_independently(processes: &[NodeProc], dir: &std::path::Path) {
    let live: Vec<&NodeProc> = processes.iter().filter(|p| p.child.is_some()).collect();
    let first = live[0].audit_get("/audit/checkpoint");
    let size: u64 = first.lines().nth(1).unwrap().parse().unwrap();
    let second = live[1 % live.len()].audit_get("/audit/checkpoint");
    let size2: u64 = second.lines().nth(1).unwrap().parse().unwrap();
    let mut entries = Vec::new();
    let mut start = 0;
    while start < size2 {
        let end = (start + 1000).min(size2);
        let page: Vec<Value> = serde_json::from_str(
            &live[(start as usize / 1000) % live.len()]
                .audit_get(&format!("/audit/entries?start={start}&end={end}")),
        )
        .unwrap();
        entries.extend(page);
        start = end;
    }
    let mut inclusion = Vec::new();
    for (k, index) in [0, size / 3, size / 2, size - 1].into_iter().enumerate() {
        let text = live[k % live.len()].audit_get(&format!(
            "/audit/proof/inclusion?index={index}&size={size2}"
        ));
        inclusion.push(serde_json::from_str::<Value>(&text).unwrap());
    }
    let consistency: Value = serde_json::from_str(&live[live.len() - 1].audit_get(&format!(
        "/audit/proof/consistency?first={size}&second={size2}"
    )))
    .unwrap();
    let bundle = json!({
        "vkey": processes[0].vkey,
        "checkpoints": [first, second],
        "entries": entries,
        "inclusion": inclusion,
        "consistency": [consistency],
    });
    let path = dir.join("bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let summary = crate::audit::run_verifier(&["check", path.to_str().unwrap()]);
    assert_eq!(summary["checkpoints"], 2, "{summary}");
    assert_eq!(summary["inclusion"], 4, "{summary}");
    eprintln!("independent verifier on the PostgreSQL audit log: {summary}");
}

#[test]
fn cut_database_connections_drop_readiness_which_returns_and_nothing_acknowledged_is_lost() {
    let Some(schema) = schema("cut_database_connections") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut processes = cluster(root.path(), "EST", &schema, 2);
    for p in &mut processes {
        p.start();
    }
    let label = marking("NATO SECRET//REL TO EST");
    assert!(try_post(&processes[0], std::slice::from_ref(&label)).is_some());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (http, token, label, stop) = (
            processes[0].http.clone(),
            processes[0].token.clone(),
            label.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let (mut acked, mut refused) = (Vec::new(), 0);
            let mut post = 0;
            while !stop.load(Ordering::Relaxed) {
                let objects: Vec<Value> =
                    (0..10).map(|k| indicator(post * 10 + k, &label)).collect();
                match try_post_at(&http, &token, &objects) {
                    Some(ids) => acked.extend(ids),
                    None => refused += 1,
                }
                post += 1;
            }
            (acked, refused)
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    // Cut every connection of the node's processes, and keep cutting for two seconds, as a
    // database restart would.
    let cut = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'entente {}'",
        schema.0
    );
    let mut not_ready_seen = false;
    let cutting = Instant::now();
    while cutting.elapsed() < Duration::from_secs(2) {
        psql(&cut);
        not_ready_seen |= processes.iter().any(|p| ready(p) == Some(503));
        std::thread::sleep(Duration::from_millis(20));
    }
    let back = Instant::now();
    wait_for("both processes are ready again", || {
        processes.iter().all(|p| ready(p) == Some(200))
    });
    eprintln!("ready again {:?} after the cuts stopped", back.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let (acked, refused) = writer.join().unwrap();
    assert!(
        not_ready_seen,
        "readiness dropped while the connections were cut"
    );
    eprintln!(
        "{} objects acknowledged, {refused} posts refused while cut",
        acked.len()
    );
    let held: BTreeSet<String> = page_through(&processes[1], 500).into_iter().collect();
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !held.contains(*id))
        .take(5)
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
