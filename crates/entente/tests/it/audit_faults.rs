//! The audit log across crashes, with real `entente node` processes on loopback: a node killed
//! at exactly the steps between a store commit and its audit append, or between an append and
//! what marks it recorded (the `ENTENTE_FAILPOINT` test hook), and kill -9 again and again
//! during ingest and federation. After the restarts every stored object has its audit entries,
//! each exactly once, and each log stays one consistent history whose entries are proved
//! included in its signed checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use entente_audit::InclusionProof;
use serde_json::{json, Value};

use crate::federation_faults::{
    assert_holds_exactly, assert_received_once, indicator, marking, pair, publish, try_http,
    NodeProc,
};
use crate::util::wait_for;

const FAILPOINT: &str = "ENTENTE_FAILPOINT";

/// (kind, object id, version, partner) of an audit entry.
type Key = (String, String, String, String);

fn key_of(e: &Value) -> Key {
    let text = |name: &str| e[name].as_str().unwrap_or("").to_owned();
    (
        text("kind"),
        text("object_id"),
        text("version"),
        text("partner"),
    )
}

/// How many entries of `node`'s log each (kind, object, version, partner) has.
fn entry_counts(events: &[Value]) -> BTreeMap<Key, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts.entry(key_of(e)).or_default() += 1;
    }
    counts
}

/// Every (kind, object, version, partner) of the log appears once, and the log holds exactly
/// `want`.
fn assert_each_once(node: &NodeProc, events: &[Value], want: &BTreeSet<Key>) {
    let counts = entry_counts(events);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        twice.is_empty(),
        "{}: entries recorded more than once (of {} entries): {twice:?}",
        node.nation,
        events.len()
    );
    let held: BTreeSet<Key> = counts.into_keys().collect();
    let missing: Vec<_> = want.difference(&held).take(5).collect();
    let extra: Vec<_> = held.difference(want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{}: missing entries {missing:?}, unexpected entries {extra:?}",
        node.nation
    );
}

/// Proves the entries at `indices` included in `node`'s current signed checkpoint, each proof
/// carrying the very entry the log lists at that index.
fn assert_included(node: &NodeProc, events: &[Value], indices: impl IntoIterator<Item = usize>) {
    let checkpoint = node.checkpoint();
    let mut proved = 0;
    for i in indices {
        let text = node.audit_get(&format!(
            "/audit/proof/inclusion?index={i}&size={}",
            checkpoint.size
        ));
        let proof = InclusionProof::from_json(text.as_bytes()).unwrap();
        proof
            .verify_against(&checkpoint)
            .unwrap_or_else(|e| panic!("{}: entry {i}: {e}", node.nation));
        let leaf = serde_json::to_value(proof.leaf.as_ref().unwrap()).unwrap();
        assert_eq!(key_of(&leaf), key_of(&events[i]), "entry {i}");
        proved += 1;
    }
    assert!(proved > 0, "{}: no entry to prove", node.nation);
}

fn keys(kind: &str, ids: &BTreeSet<String>, partner: &str) -> BTreeSet<Key> {
    ids.iter()
        .map(|id| {
            (
                kind.to_owned(),
                id.clone(),
                "2025-01-01T00:00:00.000Z".to_owned(),
                partner.to_owned(),
            )
        })
        .collect()
}

/// POSTs `objects` to `node`, retrying until it is accepted (the node may be down or killed
/// while answering; a repost of stored versions changes nothing).
fn post_until_accepted(http: &str, token: &str, objects: &[Value]) {
    let body = json!({ "objects": objects }).to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some((202, text)) = try_http(
            http,
            "POST",
            "/api/collections/intel/objects/",
            token,
            Some(&body),
        ) {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["failure_count"], 0, "{text}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{http}: a batch not accepted within 90 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ids_of(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_receipt_cut_between_its_commit_and_its_audit_append_is_recorded_after_restart() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    fra.start();
    usa.start_with_env(&[(FAILPOINT, "after-receive-commit")]);
    let usa_first = usa.checkpoint();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    let want = publish(&fra, &shared, 0..40);
    // USA stores the first batch it receives and dies before appending its receive events.
    usa.wait_exit();
    assert!(
        usa.log().contains("failpoint reached"),
        "USA did not stop at its failpoint: {}",
        usa.log()
    );
    usa.start();
    let usa_first = usa.assert_consistent(&usa_first);
    wait_for("USA holds every object", || {
        usa.indicators().len() >= want.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&usa, &want);
    assert_received_once(&usa, &want);
    let events = usa.audit_events();
    assert_each_once(&usa, &events, &keys("receive", &want, "FRA"));
    usa.assert_consistent(&usa_first);
    assert_included(&usa, &events, 0..events.len());
}

#[test]
fn an_append_cut_before_it_is_marked_recorded_is_not_repeated() {
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    // First cut: FRA's recorder appends the publishes and dies before it marks them recorded.
    fra.start_with_env(&[(FAILPOINT, "after-local-append")]);
    let fra_first = fra.checkpoint();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    fra.post(std::slice::from_ref(&shared));
    let objects: Vec<Value> = (0..40).map(|n| indicator(n, &shared)).collect();
    let want = ids_of(&objects);
    // The process may die before it answers: the post is retried after the restart.
    let _ = try_http(
        &fra.http,
        "POST",
        "/api/collections/intel/objects/",
        &fra.token,
        Some(&json!({ "objects": objects }).to_string()),
    );
    fra.wait_exit();
    // Second cut: FRA delivers to USA, appends the release events and dies before it marks
    // them recorded.
    fra.start_with_env(&[(FAILPOINT, "after-intent-append")]);
    usa.start();
    fra.wait_exit();
    let log = fra.log();
    assert_eq!(log.matches("failpoint reached").count(), 2, "{log}");
    fra.start();
    let fra_first = fra.assert_consistent(&fra_first);
    post_until_accepted(&fra.http, &fra.token, &objects);
    wait_for("USA holds every object", || {
        usa.indicators().len() >= want.len()
    });
    let expected: BTreeSet<Key> = keys("publish", &want, "")
        .into_iter()
        .chain(keys("release", &want, "USA"))
        .collect();
    wait_for("FRA records every publish and release", || {
        let held: BTreeSet<Key> = entry_counts(&fra.audit_events()).into_keys().collect();
        expected.is_subset(&held)
    });
    std::thread::sleep(Duration::from_millis(500));
    let events = fra.audit_events();
    assert_each_once(&fra, &events, &expected);
    assert_each_once(&usa, &usa.audit_events(), &keys("receive", &want, "FRA"));
    fra.assert_consistent(&fra_first);
    assert_included(&fra, &events, 0..events.len());
}

/// Three writers post batches of 100 to FRA while FRA (every round) and USA (every other
/// round) are killed with SIGKILL and restarted.
#[test]
fn repeated_kill9_during_ingest_and_federation_records_each_event_once() {
    const WRITERS: usize = 3;
    const BATCHES: usize = 12;
    const ROUNDS: usize = 5;
    let root = tempfile::tempdir().unwrap();
    let (mut fra, mut usa) = pair(root.path(), None);
    fra.start();
    usa.start();
    let fra_first = fra.checkpoint();
    let usa_first = usa.checkpoint();
    let shared = marking("NATO SECRET//REL TO FRA, USA");
    fra.post(std::slice::from_ref(&shared));
    let mut want = BTreeSet::new();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let batches: Vec<Vec<Value>> = (0..BATCHES)
            .map(|b| {
                let base = w * 100_000 + b * 100;
                (base..base + 100).map(|n| indicator(n, &shared)).collect()
            })
            .collect();
        for batch in &batches {
            want.extend(ids_of(batch));
        }
        let (http, token) = (fra.http.clone(), fra.token.clone());
        writers.push(std::thread::spawn(move || {
            for batch in batches {
                post_until_accepted(&http, &token, &batch);
            }
        }));
    }
    for round in 0..ROUNDS {
        // Kills land at varied points of ingest, recording and delivery.
        std::thread::sleep(Duration::from_millis(150 + 110 * round as u64));
        fra.kill9();
        if round % 2 == 1 {
            usa.kill9();
        }
        fra.start();
        if usa.child.is_none() {
            usa.start();
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    wait_for("FRA holds every object", || {
        fra.indicators().len() >= want.len()
    });
    wait_for("USA holds every object", || {
        usa.indicators().len() >= want.len()
    });
    let fra_want: BTreeSet<Key> = keys("publish", &want, "")
        .into_iter()
        .chain(keys("release", &want, "USA"))
        .collect();
    let usa_want = keys("receive", &want, "FRA");
    wait_for("both logs hold every event", || {
        let fra_held: BTreeSet<Key> = entry_counts(&fra.audit_events()).into_keys().collect();
        let usa_held: BTreeSet<Key> = entry_counts(&usa.audit_events()).into_keys().collect();
        fra_want.is_subset(&fra_held) && usa_want.is_subset(&usa_held)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_holds_exactly(&fra, &want);
    assert_holds_exactly(&usa, &want);
    let fra_events = fra.audit_events();
    let usa_events = usa.audit_events();
    assert_each_once(&fra, &fra_events, &fra_want);
    assert_each_once(&usa, &usa_events, &usa_want);
    fra.assert_consistent(&fra_first);
    usa.assert_consistent(&usa_first);
    let sample = |n: usize| (0..n).step_by(97).chain([n - 1]);
    assert_included(&fra, &fra_events, sample(fra_events.len()));
    assert_included(&usa, &usa_events, sample(usa_events.len()));
    let log = fra.log() + &usa.log();
    assert!(!log.contains("SPLIT VIEW"), "{log}");
}
