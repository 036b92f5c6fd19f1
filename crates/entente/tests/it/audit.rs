//! `entente audit`: keys, appends, checkpoints, proofs and their verification through the binary,
//! and the independent check of our proofs by a verifier written from RFC 9162 in Python.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::util::{entente, Run};

const ORIGINS: [&str; 3] = ["USA", "FRA", "FRA"];

fn event(i: u64) -> Value {
    let kinds = ["publish", "release", "receive", "deny", "recall"];
    let kind = kinds[(i % 5) as usize];
    json!({
        "kind": kind,
        "at": format!("2026-11-27T04:{:02}:{:02}.{:03}Z", (i / 60) % 60, i % 60, (i * 7) % 1000),
        "origin": ORIGINS[(i % 3) as usize],
        "node": "FRA",
        "partner": if kind == "release" || kind == "receive" { json!("DEU") } else { Value::Null },
        "object_id": format!("report--{:08x}-0f3c-4f6e-9d4c-5a1b2c3d4e5f", i),
        "version": "2026-11-27T04:00:00.000Z",
        "digest": format!("{:064x}", i * 7919),
        "detail": if kind == "deny" { json!(format!("no agreement covers report {i}: \"SECRET\" \u{e9}\n")) } else { Value::Null },
    })
}

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Fixture {
    dir: tempfile::TempDir,
    vkey: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let run = ok(entente(&[
            "audit",
            "keygen",
            "--nation",
            "FRA",
            "--out",
            s(&dir.path().join("fra.key")),
        ]));
        let vkey = run.stdout.trim().to_owned();
        Fixture { dir, vkey }
    }

    fn path(&self, name: &str) -> String {
        s(&self.dir.path().join(name)).to_owned()
    }

    fn append(&self, log: &str, events: &Value) -> Value {
        ok(entente(&[
            "audit",
            "append",
            "--log",
            &self.path(log),
            "--key",
            &self.path("fra.key"),
            "--event",
            &events.to_string(),
        ]))
        .json()
    }

    fn checkpoint(&self, log: &str, file: &str) -> String {
        let note = ok(entente(&[
            "audit",
            "checkpoint",
            "--log",
            &self.path(log),
            "--key",
            &self.path("fra.key"),
        ]))
        .stdout;
        std::fs::write(self.path(file), &note).unwrap();
        note
    }

    fn prove(&self, log: &str, args: &[&str], file: &str) -> Value {
        let log = self.path(log);
        let mut all = vec!["audit", "prove", "--log", &log];
        all.extend_from_slice(args);
        let run = ok(entente(&all));
        std::fs::write(self.path(file), &run.stdout).unwrap();
        run.json()
    }

    fn verify(&self, args: &[&str]) -> Run {
        let mut all = vec!["audit", "verify", "--vkey", &self.vkey];
        all.extend_from_slice(args);
        entente(&all)
    }
}

#[test]
fn keygen_writes_a_private_key_and_its_vkey() {
    let f = Fixture::new();
    assert!(f.vkey.starts_with("entente.audit/FRA+"), "{}", f.vkey);
    let key = std::fs::read_to_string(f.path("fra.key")).unwrap();
    assert!(key.starts_with("PRIVATE+KEY+entente.audit/FRA+"), "{key}");
    assert_eq!(
        std::fs::read_to_string(f.path("fra.key.vkey"))
            .unwrap()
            .trim(),
        f.vkey
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(f.path("fra.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // No silent replacement of a key.
    let run = entente(&[
        "audit",
        "keygen",
        "--nation",
        "FRA",
        "--out",
        &f.path("fra.key"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    let run = entente(&[
        "audit",
        "keygen",
        "--nation",
        "fr",
        "--out",
        &f.path("x.key"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn append_checkpoint_prove_and_verify_through_the_binary() {
    let f = Fixture::new();
    let first = f.append("log", &event(0));
    assert_eq!(first["first"], 0);
    assert_eq!(first["size"], 1);
    let batch = f.append("log", &Value::Array((1..12).map(event).collect()));
    assert_eq!(
        (batch["first"].as_u64(), batch["end"].as_u64()),
        (Some(1), Some(12))
    );
    let old = f.checkpoint("log", "cp12");
    assert!(old.starts_with("entente.audit/FRA\n12\n"), "{old}");
    assert!(old.contains("\n\n\u{2014} entente.audit/FRA "), "{old}");
    f.append("log", &Value::Array((12..30).map(event).collect()));
    f.checkpoint("log", "cp30");

    // Inclusion: the proof carries the entry; verify it, or an entry given apart.
    let proof = f.prove("log", &["--index", "7"], "incl7.json");
    assert_eq!(
        (proof["index"].as_u64(), proof["size"].as_u64()),
        (Some(7), Some(30))
    );
    assert_eq!(proof["leaf"], event(7));
    assert_eq!(proof["hashes"].as_array().unwrap().len(), 5);
    let run = ok(f.verify(&[
        "--checkpoint",
        &f.path("cp30"),
        "--proof",
        &f.path("incl7.json"),
    ]));
    assert!(run.stdout.contains("signature verified"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("inclusion of entry 7 in size 30 verified"),
        "{}",
        run.stdout
    );
    std::fs::write(f.path("leaf7.json"), event(7).to_string()).unwrap();
    ok(f.verify(&[
        "--checkpoint",
        &f.path("cp30"),
        "--proof",
        &f.path("incl7.json"),
        "--leaf",
        &f.path("leaf7.json"),
    ]));
    // Another entry, a tampered hash, a checkpoint of another size: verification failures (4).
    std::fs::write(f.path("leaf8.json"), event(8).to_string()).unwrap();
    let run = f.verify(&[
        "--checkpoint",
        &f.path("cp30"),
        "--proof",
        &f.path("incl7.json"),
        "--leaf",
        &f.path("leaf8.json"),
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let mut bad = proof.clone();
    let h0 = bad["hashes"][0].as_str().unwrap().to_owned();
    let flipped = if h0.starts_with('A') {
        h0.replacen('A', "B", 1)
    } else {
        format!("A{}", &h0[1..])
    };
    bad["hashes"][0] = json!(flipped);
    std::fs::write(f.path("bad.json"), bad.to_string()).unwrap();
    let run = f.verify(&[
        "--checkpoint",
        &f.path("cp30"),
        "--proof",
        &f.path("bad.json"),
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("proof rejected"), "{}", run.stderr);
    let run = f.verify(&[
        "--checkpoint",
        &f.path("cp12"),
        "--proof",
        &f.path("incl7.json"),
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("size 30") && run.stderr.contains("size 12"),
        "{}",
        run.stderr
    );
    // A proof for an older size verifies against the older checkpoint.
    f.prove("log", &["--index", "3", "--size", "12"], "incl3.json");
    ok(f.verify(&[
        "--checkpoint",
        &f.path("cp12"),
        "--proof",
        &f.path("incl3.json"),
    ]));

    // Consistency between the two checkpoints, in either order of the files.
    let c = f.prove("log", &["--consistency", "12", "30"], "cons.json");
    assert_eq!(
        (c["first"].as_u64(), c["second"].as_u64()),
        (Some(12), Some(30))
    );
    let run = ok(f.verify(&[
        "--checkpoint",
        &f.path("cp30"),
        "--old-checkpoint",
        &f.path("cp12"),
        "--proof",
        &f.path("cons.json"),
    ]));
    assert!(
        run.stdout
            .contains("consistency from size 12 to 30 verified"),
        "{}",
        run.stdout
    );

    // A checkpoint whose size was edited, or read with another log's key, fails its signature.
    let forged = std::fs::read_to_string(f.path("cp30"))
        .unwrap()
        .replacen("\n30\n", "\n31\n", 1);
    std::fs::write(f.path("forged"), forged).unwrap();
    let run = f.verify(&["--checkpoint", &f.path("forged")]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("does not verify"), "{}", run.stderr);
    let other = Fixture::new();
    let run = other.verify(&["--checkpoint", &f.path("cp30")]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("no signature by entente.audit/FRA"),
        "{}",
        run.stderr
    );
    // The vkey may also be given as a file.
    ok(entente(&[
        "audit",
        "verify",
        "--vkey",
        &f.path("fra.key.vkey"),
        "--checkpoint",
        &f.path("cp30"),
    ]));
}

#[test]
fn bad_input_is_a_usage_error_not_a_verification_failure() {
    let f = Fixture::new();
    f.append("log", &Value::Array((0..3).map(event).collect()));
    let log = f.path("log");
    let key = f.path("fra.key");
    // An event missing a member, an invalid digest, not JSON: nothing is appended.
    let mut e = event(3);
    e.as_object_mut().unwrap().remove("digest");
    let run = entente(&[
        "audit",
        "append",
        "--log",
        &log,
        "--key",
        &key,
        "--event",
        &e.to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("digest"), "{}", run.stderr);
    let mut e = event(3);
    e["digest"] = json!("xyz");
    let run = entente(&[
        "audit",
        "append",
        "--log",
        &log,
        "--key",
        &key,
        "--event",
        &e.to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("field `digest`"), "{}", run.stderr);
    let run = entente(&[
        "audit", "append", "--log", &log, "--key", &key, "--event", "{",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Proofs outside the log; neither --index nor --consistency.
    let run = entente(&["audit", "prove", "--log", &log, "--index", "3"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not in a tree of size 3"),
        "{}",
        run.stderr
    );
    let run = entente(&[
        "audit", "prove", "--log", &log, "--index", "0", "--size", "9",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = entente(&["audit", "prove", "--log", &log]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = entente(&[
        "audit",
        "prove",
        "--log",
        &f.path("nowhere"),
        "--index",
        "0",
    ]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not an audit log"), "{}", run.stderr);
    // A malformed vkey, a file that is no proof.
    f.checkpoint("log", "cp");
    let run = entente(&[
        "audit",
        "verify",
        "--vkey",
        "entente.audit/FRA+00+xx",
        "--checkpoint",
        &f.path("cp"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    std::fs::write(f.path("junk.json"), "{\"index\": 1}").unwrap();
    let run = f.verify(&[
        "--checkpoint",
        &f.path("cp"),
        "--proof",
        &f.path("junk.json"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("junk.json"), "{}", run.stderr);
    // The size is unchanged by the refused appends.
    assert!(std::fs::read_to_string(f.path("cp"))
        .unwrap()
        .starts_with("entente.audit/FRA\n3\n"));
}

#[test]
fn a_node_showing_two_histories_is_caught() {
    // Two logs under one key that agree on entries 0..3 and then differ: what a node showing one
    // history to DEU and another to GBR would sign.
    let f = Fixture::new();
    f.append("a", &Value::Array((0..5).map(event).collect()));
    let mut forked: Vec<Value> = (0..6).map(event).collect();
    forked[3]["detail"] = json!("rewritten");
    f.append("b", &Value::Array(forked));
    f.checkpoint("a", "a5");
    f.checkpoint("b", "b6");
    f.prove("b", &["--consistency", "5", "6"], "b56.json");
    let run = f.verify(&[
        "--checkpoint",
        &f.path("b6"),
        "--old-checkpoint",
        &f.path("a5"),
        "--proof",
        &f.path("b56.json"),
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("split view of entente.audit/FRA"),
        "{}",
        run.stderr
    );
    let a5 = std::fs::read_to_string(f.path("a5")).unwrap();
    let b6 = std::fs::read_to_string(f.path("b6")).unwrap();
    let root = |note: &str| note.lines().nth(2).unwrap().to_owned();
    assert!(
        run.stderr.contains(&format!("size 5 (root {})", root(&a5))),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("size 6 (root {})", root(&b6))),
        "{}",
        run.stderr
    );
}

pub(crate) fn python() -> String {
    std::env::var("ENTENTE_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub(crate) fn run_verifier(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/rfc9162_verify.py");
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 runs (set ENTENTE_PYTHON to choose the interpreter)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the independent verifier refused: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn the_independent_verifier_passes_the_published_vectors() {
    let summary = run_verifier(&["selftest"]);
    assert_eq!(summary["selftest"], "ok");
    assert_eq!(summary["ct_roots"], 8);
}

#[test]
fn the_independent_verifier_accepts_our_proofs_and_rejects_tampered_ones() {
    use entente_audit::{AuditEvent, AuditLog};
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let log = AuditLog::open(&dir.path().join("log"), "FRA", key).unwrap();
    // A checkpoint at every size from 1 to 70 (grown by ones, then in batches), so every shape of
    // tree up to there is covered, then proofs between and within them.
    let mut checkpoints = Vec::new();
    let mut next = 0u64;
    while next < 70 {
        let n = if next < 40 { 1 } else { 1 + next % 4 };
        let events: Vec<AuditEvent> = (next..next + n)
            .map(|i| {
                let mut e: AuditEvent = serde_json::from_value(event(i)).unwrap();
                // Entries with and without a source, as a node writes them.
                if i % 2 == 0 {
                    e.source = Some(format!("intent/{i}"));
                }
                e
            })
            .collect();
        log.append_batch(&events).unwrap();
        next += n;
        checkpoints.push(log.checkpoint().unwrap().note);
    }
    let size = log.size();
    let sizes: Vec<u64> = checkpoints
        .iter()
        .map(|n| n.lines().nth(1).unwrap().parse().unwrap())
        .collect();
    let mut inclusion = Vec::new();
    for &m in &sizes {
        for index in 0..m {
            if m <= 20 || index % 7 == 0 || index == m - 1 {
                inclusion
                    .push(serde_json::to_value(log.prove_inclusion(index, m).unwrap()).unwrap());
            }
        }
    }
    let mut consistency = Vec::new();
    for (i, &a) in sizes.iter().enumerate() {
        for &b in &sizes[i..] {
            if a <= 20 || b == size || (a + b) % 5 == 0 {
                consistency
                    .push(serde_json::to_value(log.prove_consistency(a, b).unwrap()).unwrap());
            }
        }
    }
    let entries: Vec<Value> = (0..size)
        .map(|i| serde_json::to_value(log.entry(i).unwrap()).unwrap())
        .collect();
    let bundle = json!({
        "vkey": log.vkey(),
        "checkpoints": checkpoints,
        "entries": entries,
        "inclusion": inclusion,
        "consistency": consistency,
    });
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let summary = run_verifier(&["check", s(&path)]);
    assert_eq!(summary["checkpoints"].as_u64(), Some(sizes.len() as u64));
    assert_eq!(summary["inclusion"].as_u64(), Some(inclusion.len() as u64));
    assert_eq!(
        summary["consistency"].as_u64(),
        Some(consistency.len() as u64)
    );
    assert!(
        summary["rejected_tampered"].as_u64().unwrap() > 5000,
        "{summary}"
    );
    eprintln!("independent verifier: {summary}");
}

#[test]
fn the_independent_verifier_accepts_the_binary_s_documents() {
    let f = Fixture::new();
    f.append("log", &Value::Array((0..23).map(event).collect()));
    let note = f.checkpoint("log", "cp");
    let proof = f.prove("log", &["--index", "13"], "p.json");
    f.append("log", &Value::Array((23..40).map(event).collect()));
    let note2 = f.checkpoint("log", "cp2");
    let cons = f.prove("log", &["--consistency", "23", "40"], "c.json");
    let entries: Vec<Value> = (0..40).map(event).collect();
    let bundle = json!({
        "vkey": f.vkey,
        "checkpoints": [note, note2],
        "entries": entries,
        "inclusion": [proof],
        "consistency": [cons],
    });
    let path = f.path("bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let summary = run_verifier(&["check", &path]);
    assert_eq!(summary["checkpoints"], 2);
    assert_eq!(summary["inclusion"], 1);
    assert_eq!(summary["consistency"], 1);
}

#[test]
fn a_killed_appender_loses_nothing_it_acknowledged() {
    use std::io::Write as _;
    use std::process::Stdio;
    let f = Fixture::new();
    f.append("log", &event(0));
    f.checkpoint("log", "cp-before");
    let batch = Value::Array((0..2_000).map(event).collect()).to_string();
    let mut acknowledged = 1u64;
    let (mut killed, mut finished) = (0, 0);
    // Appenders killed (SIGKILL) after various delays: some before, some during, some after the
    // append; whatever any of them acknowledged must be there afterwards.
    for delay_ms in [0u64, 30, 60, 120, 250, 500, 1_000, 2_000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_entente"))
            .args([
                "audit",
                "append",
                "--log",
                &f.path("log"),
                "--key",
                &f.path("fra.key"),
                "--event",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A killed child closes the pipe; the write may then fail, which is part of the test.
        let _ = stdin.write_all(batch.as_bytes());
        drop(stdin);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        use std::os::unix::process::ExitStatusExt as _;
        if out.status.signal() == Some(9) {
            killed += 1;
        } else {
            finished += 1;
        }
        if let Ok(reply) = serde_json::from_slice::<Value>(&out.stdout) {
            acknowledged = reply["end"].as_u64().unwrap();
        }
    }
    // The log opens, keeps every acknowledged entry, holds whole batches only, and extends the
    // checkpoint taken before.
    f.checkpoint("log", "cp-after");
    let after = std::fs::read_to_string(f.path("cp-after")).unwrap();
    let size: u64 = after.lines().nth(1).unwrap().parse().unwrap();
    assert!(
        size >= acknowledged,
        "size {size} < acknowledged {acknowledged}"
    );
    assert_eq!(
        (size - 1) % 2_000,
        0,
        "size {size} is not 1 + whole batches of 2,000"
    );
    assert!(
        killed > 0 && finished > 0,
        "killed {killed}, finished {finished}"
    );
    assert!(acknowledged > 1);
    let last = f.prove("log", &["--index", &(size - 1).to_string()], "last.json");
    assert_eq!(last["leaf"], event(1_999));
    f.prove(
        "log",
        &["--consistency", "1", &size.to_string()],
        "cons.json",
    );
    ok(f.verify(&[
        "--checkpoint",
        &f.path("cp-after"),
        "--old-checkpoint",
        &f.path("cp-before"),
        "--proof",
        &f.path("cons.json"),
    ]));
    eprintln!("{killed} appenders killed, {finished} finished; {acknowledged} entries acknowledged, {size} in the log");
}
