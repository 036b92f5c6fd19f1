//! Audit log benchmarks: durable batched appends, proof generation from the files, proof
//! verification, checkpoint signing. `cargo bench -p entente-audit`.
//!
//! The log lives in a temporary directory on the machine's disk (not tmpfs), so every append
//! batch pays a real `fdatasync`.

// Bench code: a failed unwrap is a failed bench, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use entente_audit::{
    leaf_hash, verify_consistency, verify_inclusion, AuditEvent, AuditLog, EventKind, MemoryTree,
};

/// A release event as the federation writes them (about 330 bytes of canonical JSON).
fn event(i: u64) -> AuditEvent {
    AuditEvent {
        kind: EventKind::Release,
        at: format!(
            "2026-11-27T04:{:02}:{:02}.{:03}Z",
            (i / 60) % 60,
            i % 60,
            i % 1000
        ),
        origin: "FRA".into(),
        node: "FRA".into(),
        partner: Some("DEU".into()),
        object_id: format!("indicator--{:08x}-17d4-4cbf-938f-98ee46b3cd3f", i as u32),
        version: "2026-11-27T04:00:00.000Z".into(),
        digest: format!("{:064x}", i),
        detail: Some("FRA-DEU security of information agreement, art. 4".into()),
        source: None,
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// Where the logs go: `$ENTENTE_BENCH_DIR` or the system temporary directory.
fn tempdir() -> tempfile::TempDir {
    match std::env::var_os("ENTENTE_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

fn appends(c: &mut Criterion) {
    // The CPU part of an append, per event, without the files: validation, canonical JSON, leaf hash.
    let e = event(12_345);
    c.bench_function("audit_event/validate", |b| {
        b.iter(|| black_box(&e).validate().unwrap())
    });
    c.bench_function("audit_event/leaf_bytes", |b| {
        b.iter(|| black_box(&e).leaf_bytes())
    });
    let leaf = e.leaf_bytes();
    c.bench_function("audit_event/leaf_hash", |b| {
        b.iter(|| leaf_hash(black_box(&leaf)))
    });

    let mut group = c.benchmark_group("audit_append");
    for batch in [1_000u64, 10_000] {
        let dir = tempdir();
        let log = AuditLog::open(dir.path(), "FRA", key()).unwrap();
        let events: Vec<AuditEvent> = (0..batch).map(event).collect();
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("durable_batch_{batch}"), |b| {
            b.iter(|| log.append_batch(black_box(&events)).unwrap())
        });
    }
    // Single-event appends from 8 threads: the group commit shares each fsync.
    {
        let dir = tempdir();
        let log = Arc::new(AuditLog::open(dir.path(), "FRA", key()).unwrap());
        group.throughput(Throughput::Elements(8 * 200));
        group.sample_size(10);
        group.bench_function("durable_single_8_threads_x200", |b| {
            b.iter(|| {
                let threads: Vec<_> = (0..8u64)
                    .map(|t| {
                        let log = Arc::clone(&log);
                        std::thread::spawn(move || {
                            for i in 0..200 {
                                log.append(&event(t * 1_000_000 + i)).unwrap();
                            }
                        })
                    })
                    .collect();
                threads.into_iter().for_each(|t| t.join().unwrap());
            })
        });
    }
    group.finish();
}

/// A log of `n` entries on disk, built in batches of 10,000.
fn big_log(n: u64) -> (tempfile::TempDir, AuditLog) {
    let dir = tempdir();
    let log = AuditLog::open(dir.path(), "FRA", key()).unwrap();
    let started = Instant::now();
    let mut next = 0;
    while next < n {
        let end = (next + 10_000).min(n);
        log.append_batch(&(next..end).map(event).collect::<Vec<_>>())
            .unwrap();
        next = end;
    }
    eprintln!(
        "built a log of {n} entries in {:.1} s ({:.0} appends/s)",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
    (dir, log)
}

fn proofs(c: &mut Criterion) {
    // 2^20 + 12,345 entries: over a million, and not a power of two, so proofs have a ragged edge.
    let n: u64 = (1 << 20) + 12_345;
    let (dir, log) = big_log(n);
    let cp = log.checkpoint().unwrap();
    let mut group = c.benchmark_group("audit_proof_1m");
    group.measurement_time(Duration::from_secs(5));

    let mut i = 0u64;
    group.bench_function("inclusion_generate", |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            log.inclusion_proof(black_box(i), n).unwrap()
        })
    });
    group.bench_function("consistency_generate", |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            log.consistency_proof(black_box(i + 1), n).unwrap()
        })
    });

    // Verification of prepared proofs (the leaf hash known, as a partner holding the entry has it).
    let cases: Vec<([u8; 32], u64, Vec<[u8; 32]>)> = (0..256u64)
        .map(|k| {
            let index = (k * 4_099) % n;
            let leaf = leaf_hash(&log.leaf(index).unwrap());
            (leaf, index, log.inclusion_proof(index, n).unwrap())
        })
        .collect();
    let mut k = 0;
    group.bench_function("inclusion_verify", |b| {
        b.iter(|| {
            k = (k + 1) % cases.len();
            let (leaf, index, proof) = &cases[k];
            verify_inclusion(leaf, *index, n, proof, &cp.root).unwrap()
        })
    });
    let first = n / 3;
    let first_root = log.root(first).unwrap();
    let consistency = log.consistency_proof(first, n).unwrap();
    group.bench_function("consistency_verify", |b| {
        b.iter(|| {
            verify_consistency(first, n, &first_root, &cp.root, black_box(&consistency)).unwrap()
        })
    });
    group.bench_function("checkpoint_sign", |b| b.iter(|| log.checkpoint().unwrap()));
    let verifier = log.verifier();
    group.bench_function("checkpoint_verify", |b| {
        b.iter(|| verifier.verify(black_box(&cp.note)).unwrap())
    });
    group.finish();

    // Reopening after a clean close reads the mark and checks the root recorded there.
    drop(log);
    let mut reopen = c.benchmark_group("audit_open_1m");
    reopen.sample_size(10);
    reopen.bench_function("after_close", |b| {
        b.iter_batched(
            || (),
            |()| AuditLog::open(dir.path(), "FRA", key()).unwrap(),
            BatchSize::PerIteration,
        )
    });
    reopen.finish();
}

fn memory_tree(c: &mut Criterion) {
    // The reference tree in memory, for comparison with the file-backed proofs.
    let n: u64 = 1 << 20;
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push(leaf_hash(&i.to_le_bytes()));
    }
    let mut i = 0u64;
    c.bench_function("memory_tree_1m/inclusion_generate", |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            t.inclusion_proof(black_box(i), n).unwrap()
        })
    });
}

criterion_group!(benches, appends, proofs, memory_tree);
criterion_main!(benches);
