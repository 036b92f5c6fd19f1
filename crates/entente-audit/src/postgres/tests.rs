//! The log's behaviour through [`Journal`], on both backends, and what only PostgreSQL offers:
//! several processes (here, several pools) appending to one log.

use std::sync::atomic::{AtomicUsize, Ordering};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use ed25519_dalek::SigningKey;
use tokio_postgres::NoTls;

use crate::tests::event;
use crate::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn from(source: &str, i: u64) -> AuditEvent {
    AuditEvent {
        source: Some(source.to_owned()),
        ..event(i)
    }
}

fn events(range: std::ops::Range<u64>) -> Vec<AuditEvent> {
    range.map(event).collect()
}

/// A schema of its own in the test database, dropped by [`Database::drop_schema`].
struct Database {
    url: String,
    schema: String,
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl Database {
    /// A fresh schema, or `None` (with a visible message) when the database is unreachable
    /// outside CI; in CI an unreachable database fails the test.
    async fn create() -> Option<Database> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let url = std::env::var("ENTENTE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "entente_audit_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let created = async {
            connect(&url)
                .await?
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .await
        };
        match created.await {
            Ok(()) => Some(Database { url, schema }),
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI needs PostgreSQL at {url}: {e}"
                );
                eprintln!("SKIPPED postgres audit log test: {url} unreachable: {e}");
                None
            }
        }
    }

    /// A pool of its own, as a node process has, whose connections work in the schema.
    fn pool(&self) -> Pool {
        let mut config: tokio_postgres::Config = self.url.parse().unwrap();
        config.options(format!("-c search_path={}", self.schema));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager).max_size(4).build().unwrap()
    }

    async fn sql(&self, statement: &str) {
        let client = connect(&self.url).await.unwrap();
        client
            .batch_execute(&format!("SET search_path TO {}; {statement}", self.schema))
            .await
            .unwrap();
    }

    async fn drop_schema(self) {
        match connect(&self.url).await {
            Ok(client) => {
                if let Err(e) = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                    .await
                {
                    eprintln!("cannot drop test schema {}: {e}", self.schema);
                }
            }
            Err(e) => eprintln!("cannot drop test schema {}: {e}", self.schema),
        }
    }
}

/// Where a test's log lives.
enum Fixture {
    Files(tempfile::TempDir),
    Postgres(Database),
}

impl Fixture {
    async fn files() -> Option<Fixture> {
        Some(Fixture::Files(tempfile::tempdir().unwrap()))
    }

    async fn postgres() -> Option<Fixture> {
        Database::create().await.map(Fixture::Postgres)
    }

    async fn open_as(&self, origin: &str, key: SigningKey) -> Result<Journal, AuditError> {
        match self {
            Fixture::Files(dir) => AuditLog::open(dir.path(), origin, key).map(Journal::from),
            Fixture::Postgres(db) => PgAuditLog::open(db.pool(), origin, key)
                .await
                .map(Journal::from),
        }
    }

    async fn open(&self) -> Journal {
        self.open_as("FRA", key(1)).await.unwrap()
    }

    async fn close(self) {
        if let Fixture::Postgres(db) = self {
            db.drop_schema().await;
        }
    }
}

macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod files {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(f) = super::Fixture::files().await {
                        super::$test(&f).await;
                        f.close().await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(f) = super::Fixture::postgres().await {
                        super::$test(&f).await;
                        f.close().await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    the_log_matches_the_memory_tree_at_every_size,
    invalid_events_are_refused_whole_batches_at_a_time,
    reopening_keeps_everything_and_refuses_other_origins_and_keys,
    recorded_sources_are_left_out,
    partner_checkpoints_are_kept_and_only_move_forward,
);

async fn the_log_matches_the_memory_tree_at_every_size(f: &Fixture) {
    let log = f.open().await;
    let mut t = MemoryTree::new();
    assert_eq!(log.size().await.unwrap(), 0);
    assert_eq!(log.root(0).await.unwrap(), EMPTY_ROOT);
    let empty = log.checkpoint().await.unwrap();
    assert_eq!((empty.size, empty.root), (0, EMPTY_ROOT));
    log.verifier().verify(&empty.note).unwrap();
    for i in 0..70u64 {
        let appended = log.append(vec![event(i)]).await.unwrap();
        assert_eq!(appended.leaves, i..i + 1);
        t.push(leaf_hash(&event(i).leaf_bytes()));
    }
    let appended = log.append(events(70..135)).await.unwrap();
    assert_eq!((appended.leaves, appended.skipped), (70..135, 0));
    for i in 70..135 {
        t.push(leaf_hash(&event(i).leaf_bytes()));
    }
    assert_eq!(log.size().await.unwrap(), 135);
    for size in 0..=135 {
        assert_eq!(log.root(size).await.unwrap(), t.root(size).unwrap());
    }
    for size in [1, 2, 7, 64, 65, 100, 135] {
        for index in 0..size {
            assert_eq!(
                log.inclusion_proof(index, size).await.unwrap(),
                t.inclusion_proof(index, size).unwrap()
            );
        }
        for first in 0..=size {
            assert_eq!(
                log.consistency_proof(first, size).await.unwrap(),
                t.consistency_proof(first, size).unwrap()
            );
        }
    }
    assert_eq!(log.entry(77).await.unwrap(), event(77));
    assert_eq!(log.leaf(3).await.unwrap(), event(3).leaf_bytes());
    assert_eq!(log.entries(10..13).await.unwrap(), events(10..13));
    assert_eq!(log.entries(135..135).await.unwrap(), Vec::new());
    for err in [
        log.entry(135).await.unwrap_err(),
        log.entries(130..136).await.unwrap_err(),
        log.inclusion_proof(0, 136).await.unwrap_err(),
        log.inclusion_proof(135, 135).await.unwrap_err(),
        log.consistency_proof(5, 4).await.unwrap_err(),
        log.root(136).await.unwrap_err(),
    ] {
        assert!(matches!(err, AuditError::OutOfRange(_)), "{err}");
    }
    // The checkpoint verifies, and so do the documents built on it.
    let cp = log.checkpoint().await.unwrap();
    let v = log.verifier();
    assert_eq!(v.verify(&cp.note).unwrap(), cp);
    assert_eq!((cp.size, cp.root), (135, t.root(135).unwrap()));
    let doc = log.prove_inclusion(99, 135).await.unwrap();
    assert_eq!(doc.leaf, Some(event(99)));
    let back = InclusionProof::from_json(doc.to_json().as_bytes()).unwrap();
    assert_eq!(back, doc);
    back.verify_against(&cp).unwrap();
    let old = v
        .verify(
            &note::NoteSigner::new("FRA", key(1))
                .checkpoint(50, t.root(50).unwrap())
                .unwrap()
                .note,
        )
        .unwrap();
    let c = log.prove_consistency(50, 135).await.unwrap();
    ConsistencyProof::from_json(c.to_json().as_bytes())
        .unwrap()
        .verify_between(&old, &cp)
        .unwrap();
}

async fn invalid_events_are_refused_whole_batches_at_a_time(f: &Fixture) {
    let log = f.open().await;
    let mut bad = event(1);
    bad.digest = "nope".into();
    let err = log.append(vec![event(0), bad]).await.unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
    assert!(err.to_string().contains("event 1 of the batch"), "{err}");
    assert_eq!(log.size().await.unwrap(), 0);
    let mut big = event(2);
    big.detail = Some("x".repeat(MAX_EVENT_BYTES));
    assert!(log.append(vec![big]).await.is_err());
    let none = log.append(Vec::new()).await.unwrap();
    assert_eq!((none.leaves, none.skipped), (0..0, 0));
    assert_eq!(log.size().await.unwrap(), 0);
}

async fn reopening_keeps_everything_and_refuses_other_origins_and_keys(f: &Fixture) {
    let cp = {
        let log = f.open().await;
        log.append(vec![from("intent/4", 0)]).await.unwrap();
        log.append(events(1..10)).await.unwrap();
        log.checkpoint().await.unwrap()
    };
    let log = f.open().await;
    assert_eq!(log.size().await.unwrap(), 10);
    assert_eq!(log.root(10).await.unwrap(), cp.root);
    assert_eq!(log.checkpoint().await.unwrap(), cp);
    assert_eq!(log.position("intent").await.unwrap(), Some(4));
    assert_eq!(log.entries(0..10).await.unwrap()[3], event(3));
    assert_eq!(log.append(vec![event(10)]).await.unwrap().leaves, 10..11);
    drop(log);
    let err = f.open_as("GBR", key(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::Mismatch { .. } | AuditError::DatabaseMismatch { .. }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "the log of entente.audit/FRA cannot be opened as the log of entente.audit/GBR"
        ),
        "{err}"
    );
    let err = f.open_as("FRA", key(2)).await.unwrap_err();
    assert!(err.to_string().contains("created with the key"), "{err}");
    // Refused opens changed nothing.
    let log = f.open().await;
    assert_eq!(log.size().await.unwrap(), 11);
    assert_eq!(
        log.vkey(),
        NoteVerifier::new("FRA", key(1).verifying_key()).vkey()
    );
}

async fn recorded_sources_are_left_out(f: &Fixture) {
    let log = f.open().await;
    assert_eq!(log.position("intent").await.unwrap(), None);
    log.append(vec![from("change/10", 0), event(1), from("intent/3", 2)])
        .await
        .unwrap();
    log.append(vec![from("intent/4", 3), from("change/12", 4)])
        .await
        .unwrap();
    assert_eq!(log.position("intent").await.unwrap(), Some(4));
    assert_eq!(log.position("change").await.unwrap(), Some(12));
    assert_eq!(log.position("other").await.unwrap(), None);
    // A drain that starts again from intent 3, and a change already there.
    let appended = log
        .append(vec![
            from("intent/3", 5),
            from("intent/4", 6),
            from("intent/5", 7),
            event(8),
            from("change/12", 9),
            from("change/13", 10),
        ])
        .await
        .unwrap();
    assert_eq!((appended.leaves, appended.skipped), (5..8, 3));
    assert_eq!(
        log.entries(5..8).await.unwrap(),
        vec![from("intent/5", 7), event(8), from("change/13", 10)]
    );
    // A batch repeating a source keeps its first; one with nothing new appends nothing.
    let appended = log
        .append(vec![
            from("intent/7", 11),
            from("intent/7", 12),
            from("intent/6", 13),
        ])
        .await
        .unwrap();
    assert_eq!((appended.leaves, appended.skipped), (8..9, 2));
    let appended = log
        .append(vec![from("intent/7", 14), from("change/1", 15)])
        .await
        .unwrap();
    assert_eq!((appended.leaves, appended.skipped), (9..9, 2));
    assert_eq!(log.size().await.unwrap(), 9);
    assert_eq!(log.position("intent").await.unwrap(), Some(7));
    assert_eq!(log.position("change").await.unwrap(), Some(13));
    // An invalid event refuses the batch before anything is left out or recorded.
    let mut bad = from("intent/8", 16);
    bad.digest = "nope".into();
    assert!(log.append(vec![from("intent/9", 17), bad]).await.is_err());
    assert_eq!(log.position("intent").await.unwrap(), Some(7));
}

async fn partner_checkpoints_are_kept_and_only_move_forward(f: &Fixture) {
    let log = f.open().await;
    let deu = note::NoteSigner::new("DEU", key(9));
    let at = |size: u64| {
        deu.checkpoint(size, leaf_hash(&size.to_le_bytes()))
            .unwrap()
    };
    assert_eq!(log.kept_checkpoint("DEU").await.unwrap(), None);
    log.keep_checkpoint("DEU", &at(5)).await.unwrap();
    assert_eq!(log.kept_checkpoint("DEU").await.unwrap(), Some(at(5).note));
    log.keep_checkpoint("DEU", &at(9)).await.unwrap();
    // An older one (seen by a slower process) does not replace it.
    log.keep_checkpoint("DEU", &at(7)).await.unwrap();
    assert_eq!(log.kept_checkpoint("DEU").await.unwrap(), Some(at(9).note));
    assert_eq!(log.kept_checkpoint("GBR").await.unwrap(), None);
    drop(log);
    let log = f.open().await;
    assert_eq!(log.kept_checkpoint("DEU").await.unwrap(), Some(at(9).note));
}

// ---- PostgreSQL only ----------------------------------------------------------------------

/// The same batches appended to a file log and to a PostgreSQL log give the same log: the same
/// checkpoints byte for byte, roots, proofs, documents and entries, at every size reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_leaves_give_the_same_log_in_files_and_in_postgres() {
    let Some(pg) = Fixture::postgres().await else {
        return;
    };
    let files = Fixture::files().await.unwrap();
    let (a, b) = (files.open().await, pg.open().await);
    assert_eq!(a.origin(), b.origin());
    assert_eq!(a.vkey(), b.vkey());
    assert_eq!(a.checkpoint().await.unwrap(), b.checkpoint().await.unwrap());
    let mut next = 0u64;
    for n in [1u64, 1, 2, 3, 5, 8, 13, 21, 34, 55, 1, 64, 127, 2, 256] {
        let batch: Vec<_> = (next..next + n)
            .map(|i| {
                if i % 3 == 0 {
                    from(&format!("change/{i}"), i)
                } else {
                    event(i)
                }
            })
            .collect();
        let (x, y) = (
            a.append(batch.clone()).await.unwrap(),
            b.append(batch).await.unwrap(),
        );
        assert_eq!(x, y);
        assert_eq!(x.leaves, next..next + n);
        next += n;
        let (ca, cb) = (a.checkpoint().await.unwrap(), b.checkpoint().await.unwrap());
        assert_eq!(ca, cb, "checkpoints at size {next}");
        assert_eq!(ca.note, cb.note);
        assert_eq!(
            a.position("change").await.unwrap(),
            b.position("change").await.unwrap()
        );
        for index in [0, next / 3, next / 2, next - 1] {
            assert_eq!(
                a.prove_inclusion(index, next).await.unwrap().to_json(),
                b.prove_inclusion(index, next).await.unwrap().to_json()
            );
        }
        for first in [0, 1, next / 2, next - 1, next] {
            assert_eq!(
                a.prove_consistency(first, next).await.unwrap().to_json(),
                b.prove_consistency(first, next).await.unwrap().to_json()
            );
        }
    }
    for size in 0..=next {
        assert_eq!(a.root(size).await.unwrap(), b.root(size).await.unwrap());
    }
    let start = next.saturating_sub(300);
    assert_eq!(
        a.entries(start..next).await.unwrap(),
        b.entries(start..next).await.unwrap()
    );
    for index in (0..next).step_by(7) {
        assert_eq!(a.leaf(index).await.unwrap(), b.leaf(index).await.unwrap());
    }
    drop((a, b));
    files.close().await;
    pg.close().await;
}

/// Several processes (each its own pool) open the log at once, then drain the same stream of
/// intents concurrently, each from the start and in its own page sizes, and append events of
/// their own: one log results, each intent in it once and in order, every checkpoint taken on
/// the way consistent with the last, and any process serves the same proofs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_processes_append_one_log_without_duplicates() {
    let Some(db) = Database::create().await else {
        return;
    };
    const PROCESSES: u64 = 4;
    const INTENTS: u64 = 240;
    const OWN: u64 = 30;
    let opening: Vec<_> = (0..PROCESSES)
        .map(|_| tokio::spawn(PgAuditLog::open(db.pool(), "FRA", key(1))))
        .collect();
    let mut logs = Vec::new();
    for o in opening {
        logs.push(std::sync::Arc::new(o.await.unwrap().unwrap()));
    }
    let tasks: Vec<_> = logs
        .iter()
        .enumerate()
        .map(|(p, log)| {
            let log = std::sync::Arc::clone(log);
            let p = p as u64;
            tokio::spawn(async move {
                let mut checkpoints = Vec::new();
                let (mut next, mut own) = (1u64, 0u64);
                let mut appended = 0usize;
                while next <= INTENTS || own < OWN {
                    let page = 1 + (next * 7 + p * 13) % 23;
                    let mut batch: Vec<_> = (next..(next + page).min(INTENTS + 1))
                        .map(|i| from(&format!("intent/{i}"), i))
                        .collect();
                    next += page;
                    if own < OWN {
                        batch.push(event(10_000 * (p + 1) + own));
                        own += 1;
                    }
                    let a = log.append_batch(&batch).await.unwrap();
                    assert_eq!(
                        a.leaves.end - a.leaves.start + a.skipped as u64,
                        batch.len() as u64
                    );
                    appended += (a.leaves.end - a.leaves.start) as usize;
                    checkpoints.push(log.checkpoint().await.unwrap());
                }
                (appended, checkpoints)
            })
        })
        .collect();
    let mut appended = 0;
    let mut checkpoints = Vec::new();
    for t in tasks {
        let (n, cps) = t.await.unwrap();
        appended += n;
        checkpoints.extend(cps);
    }
    let log = &logs[0];
    let size = log.size().await.unwrap();
    assert_eq!(size, INTENTS + PROCESSES * OWN);
    assert_eq!(appended as u64, size);
    // Each intent once, in order; each process's own events all there.
    let all = log.entries(0..size).await.unwrap();
    let intents: Vec<u64> = all
        .iter()
        .filter_map(|e| e.source_position().map(|(_, seq)| seq))
        .collect();
    assert_eq!(intents, (1..=INTENTS).collect::<Vec<_>>());
    assert_eq!(
        all.iter().filter(|e| e.source.is_none()).count() as u64,
        PROCESSES * OWN
    );
    assert_eq!(log.position("intent").await.unwrap(), Some(INTENTS));
    // The stored tree is the tree of the stored leaves.
    let mut t = MemoryTree::new();
    for e in &all {
        t.push(leaf_hash(&e.leaf_bytes()));
    }
    let last = log.checkpoint().await.unwrap();
    let v = log.verifier();
    assert_eq!(v.verify(&last.note).unwrap(), last);
    assert_eq!((last.size, last.root), (size, t.root(size).unwrap()));
    // Every checkpoint any process saw verifies and is consistent with the last.
    for cp in &checkpoints {
        assert_eq!(&v.verify(&cp.note).unwrap(), cp);
        let proof = logs[(cp.size % PROCESSES) as usize]
            .prove_consistency(cp.size, size)
            .await
            .unwrap();
        proof.verify_between(cp, &last).unwrap();
    }
    // Any process answers the same proofs.
    for index in [0, size / 2, size - 1] {
        let mut docs = Vec::new();
        for l in &logs {
            let d = l.prove_inclusion(index, size).await.unwrap();
            d.verify_against(&last).unwrap();
            docs.push(d.to_json());
        }
        assert!(docs.windows(2).all(|w| w[0] == w[1]));
    }
    drop(logs);
    db.drop_schema().await;
}

/// A right edge that does not hash to the head's root stops appends with the table named; the
/// log is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_right_edge_refuses_appends() {
    let Some(db) = Database::create().await else {
        return;
    };
    let log = PgAuditLog::open(db.pool(), "FRA", key(1)).await.unwrap();
    log.append_batch(&events(0..5)).await.unwrap();
    // Size 5: the right edge is the subtree of leaves 0..4 (position 6) and leaf 4 (position 7).
    db.sql("UPDATE audit_nodes SET hash = decode(repeat('00', 32), 'hex') WHERE pos = 6")
        .await;
    let err = log.append_batch(&events(5..6)).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::DatabaseCorrupt {
                table: "audit_nodes",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("size 5"), "{err}");
    assert_eq!(log.size().await.unwrap(), 5);
    db.sql("DELETE FROM audit_nodes WHERE pos = 7").await;
    let err = log.inclusion_proof(3, 5).await.unwrap_err();
    assert!(err.to_string().contains("no row at pos 7"), "{err}");
    drop(log);
    db.drop_schema().await;
}
