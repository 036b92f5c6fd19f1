//! Tests of the whole crate: published vectors, the log on disk, recovery, split views, and
//! property tests of the proofs.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use super::*;

fn h(hex: &str) -> Hash {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The leaves and roots of the Certificate Transparency reference tree, as published with
/// transparency-dev/merkle (proof/verify_test.go) and Google's certificate-transparency tests.
const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for leaf in CT_LEAVES {
        t.push(leaf_hash(&unhex(leaf)));
    }
    t
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(
        EMPTY_ROOT,
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(MemoryTree::new().root(0).unwrap(), EMPTY_ROOT);
}

#[test]
fn roots_match_the_published_ct_vectors() {
    let t = ct_tree();
    for (size, root) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            t.root(size as u64 + 1).unwrap(),
            h(root),
            "size {}",
            size + 1
        );
    }
}

#[test]
fn proofs_match_the_published_ct_vectors() {
    let t = ct_tree();
    // (leaf index, size, proof) from transparency-dev/merkle's inclusionProofs (1-based there).
    let inclusion: [(u64, u64, &[&str]); 4] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, proof) in inclusion {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            t.inclusion_proof(index, size).unwrap(),
            want,
            "{index} in {size}"
        );
        let leaf = leaf_hash(&unhex(CT_LEAVES[index as usize]));
        verify_inclusion(&leaf, index, size, &want, &h(CT_ROOTS[size as usize - 1])).unwrap();
    }
    let consistency: [(u64, u64, &[&str]); 4] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (first, second, proof) in consistency {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            t.consistency_proof(first, second).unwrap(),
            want,
            "{first} to {second}"
        );
        let (r1, r2) = (
            h(CT_ROOTS[first as usize - 1]),
            h(CT_ROOTS[second as usize - 1]),
        );
        verify_consistency(first, second, &r1, &r2, &want).unwrap();
        assert!(verify_consistency(first, second, &r2, &r1, &want).is_err());
    }
}

#[test]
fn rfc9162_worked_example() {
    // RFC 9162 §2.1.5: seven leaves d0..d6; a..f and j are leaf hashes, g, h, i the pairs above
    // a..f, k = (g, h), l = (i, j).
    let leaves: Vec<Vec<u8>> = (0..7u8).map(|i| vec![b'd', b'0' + i]).collect();
    let lh: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let (a, b, c, d, e, f, j) = (lh[0], lh[1], lh[2], lh[3], lh[4], lh[5], lh[6]);
    let (g, hh, i) = (node_hash(&a, &b), node_hash(&c, &d), node_hash(&e, &f));
    let (k, l) = (node_hash(&g, &hh), node_hash(&i, &j));
    let mut t = MemoryTree::new();
    lh.iter().for_each(|x| t.push(*x));
    assert_eq!(t.root(7).unwrap(), node_hash(&k, &l));
    assert_eq!(t.inclusion_proof(0, 7).unwrap(), vec![b, hh, l]);
    assert_eq!(t.inclusion_proof(3, 7).unwrap(), vec![c, g, l]);
    assert_eq!(t.inclusion_proof(4, 7).unwrap(), vec![f, j, k]);
    assert_eq!(t.inclusion_proof(6, 7).unwrap(), vec![i, k]);
    assert_eq!(t.consistency_proof(3, 7).unwrap(), vec![c, d, g, l]);
    assert_eq!(t.consistency_proof(4, 7).unwrap(), vec![l]);
    assert_eq!(t.consistency_proof(6, 7).unwrap(), vec![i, j, k]);
}

/// MTH straight from the RFC's recursive definition.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

#[test]
fn roots_match_the_recursive_definition() {
    let mut t = MemoryTree::new();
    let mut leaves = Vec::new();
    for i in 0u32..300 {
        let x = leaf_hash(&i.to_be_bytes());
        leaves.push(x);
        t.push(x);
        assert_eq!(
            t.root(i as u64 + 1).unwrap(),
            naive_root(&leaves),
            "size {}",
            i + 1
        );
    }
}

#[test]
fn degenerate_proofs() {
    let one = leaf_hash(b"x");
    verify_inclusion(&one, 0, 1, &[], &one).unwrap();
    assert!(verify_inclusion(&one, 0, 0, &[], &one).is_err());
    assert!(verify_inclusion(&one, 1, 1, &[], &one).is_err());
    assert!(verify_inclusion(&one, 0, 1, &[one], &one).is_err());
    verify_consistency(0, 5, &EMPTY_ROOT, &one, &[]).unwrap();
    assert!(verify_consistency(0, 5, &one, &one, &[]).is_err());
    verify_consistency(3, 3, &one, &one, &[]).unwrap();
    assert!(verify_consistency(3, 3, &one, &EMPTY_ROOT, &[]).is_err());
    assert!(verify_consistency(3, 3, &one, &one, &[one]).is_err());
    assert!(verify_consistency(4, 3, &one, &one, &[one]).is_err());
    assert!(verify_consistency(1, 2, &one, &one, &[]).is_err());
}

// ---- signed notes -------------------------------------------------------------------------

/// The example key and note of Go's golang.org/x/mod/sumdb/note (note_test.go), which the C2SP
/// signed-note specification is written from.
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_NOTE_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn signed_notes_match_the_go_reference_byte_for_byte() {
    let (name, key) = parse_skey(GO_SKEY).unwrap();
    assert_eq!(name, "PeterNeumann");
    assert_eq!(vkey(&name, &key.verifying_key()), GO_VKEY);
    assert_eq!(skey(&name, &key), GO_SKEY);
    let note = sign_note(GO_TEXT, &name, &key).unwrap();
    assert_eq!(note, format!("{GO_TEXT}\n{GO_NOTE_SIG}"));
    let (vname, vk) = parse_vkey(GO_VKEY).unwrap();
    assert_eq!(vname, "PeterNeumann");
    assert_eq!(key_id(&vname, &vk), 0xc74f20a3);
    let verifier = NoteVerifier::from_vkey(GO_VKEY).unwrap();
    assert_eq!(verifier.open(&note).unwrap(), GO_TEXT);
    let tampered = note.replace("cryptography", "cryptographY");
    assert!(matches!(
        verifier.open(&tampered),
        Err(AuditError::BadSignature(_))
    ));
}

#[test]
fn verifier_keys_refuse_manglings() {
    parse_vkey(GO_VKEY).unwrap();
    let bytes = GO_VKEY.as_bytes();
    for i in 0..bytes.len() {
        let mut b = bytes.to_vec();
        b[i] = b[i].wrapping_add(1);
        if let Ok(text) = std::str::from_utf8(&b) {
            assert!(parse_vkey(text).is_err(), "{text:?} accepted");
        }
    }
    for cut in 1..bytes.len() {
        assert!(parse_vkey(&GO_VKEY[..cut]).is_err());
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

#[test]
fn checkpoints_round_trip_and_refuse_other_keys_and_logs() {
    let signer = note::NoteSigner::new("FRA", key(1));
    let cp = signer.checkpoint(42, leaf_hash(b"r")).unwrap();
    assert!(cp.note.starts_with(&format!(
        "entente.audit/FRA\n42\n{}\n\n\u{2014} entente.audit/FRA ",
        b64(&leaf_hash(b"r"))
    )));
    let v = NoteVerifier::new("FRA", key(1).verifying_key());
    assert_eq!(v.verify(&cp.note).unwrap(), cp);
    assert_eq!(v.origin(), "entente.audit/FRA");
    // The long form of the origin is the same verifier.
    assert_eq!(
        NoteVerifier::new("entente.audit/FRA", key(1).verifying_key()).vkey(),
        v.vkey()
    );
    assert_eq!(
        NoteVerifier::from_vkey(&v.vkey())
            .unwrap()
            .verify(&cp.note)
            .unwrap(),
        cp
    );
    // Another key of the same name, another log, a changed size.
    let other = NoteVerifier::new("FRA", key(2).verifying_key());
    assert!(matches!(
        other.verify(&cp.note),
        Err(AuditError::BadSignature(_))
    ));
    let gbr = NoteVerifier::new("GBR", key(1).verifying_key());
    assert!(gbr.verify(&cp.note).is_err());
    let changed = cp.note.replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        v.verify(&changed),
        Err(AuditError::BadSignature(_))
    ));
    // A witness cosignature (another name) beside ours is ignored.
    let witness = sign_note(
        &checkpoint_body("entente.audit/FRA", 42, &cp.root),
        "witness",
        &key(9),
    )
    .unwrap();
    let witness_line = witness.rsplit_once("\n\n").unwrap().1;
    let cosigned = format!("{}{witness_line}", cp.note);
    assert_eq!(v.verify(&cosigned).unwrap().size, 42);
}

#[test]
fn malformed_notes_and_bodies_are_refused_with_a_reason() {
    let signer = note::NoteSigner::new("FRA", key(1));
    let cp = signer.checkpoint(7, leaf_hash(b"r")).unwrap();
    let v = NoteVerifier::new("FRA", key(1).verifying_key());
    let cases = [
        String::new(),
        cp.note.replace("\n\n", "\n"),
        cp.note.trim_end().to_owned(),
        cp.note.replace('\u{2014}', "-"),
        cp.note
            .replace("entente.audit/FRA\n7", "entente.audit/FRA\r\n7"),
        format!("{}\n", cp.note),
    ];
    for case in &cases {
        let err = v.verify(case).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
    for body in [
        "o\n07\nAAAA\n",
        "o\n-1\n",
        "o\n1\nnot-base64\n",
        "o\n1\n",
        "\n1\n",
        "o\n1\nAAAA\n",
    ] {
        assert!(parse_checkpoint_body(body).is_err(), "{body:?}");
    }
    let root = b64(&[7u8; 32]);
    assert_eq!(
        parse_checkpoint_body(&format!("o\n0\n{root}\nextension\n")).unwrap(),
        ("o".to_owned(), 0, [7u8; 32])
    );
}

// ---- the log on disk ----------------------------------------------------------------------

pub(crate) fn event(i: u64) -> AuditEvent {
    const KINDS: [EventKind; 5] = [
        EventKind::Publish,
        EventKind::Release,
        EventKind::Receive,
        EventKind::Deny,
        EventKind::Recall,
    ];
    let kind = KINDS[(i % 5) as usize];
    AuditEvent {
        kind,
        at: format!(
            "2026-11-27T03:{:02}:{:02}.{:03}Z",
            (i / 60) % 60,
            i % 60,
            i % 1000
        ),
        origin: "FRA".into(),
        node: "FRA".into(),
        partner: matches!(kind, EventKind::Release | EventKind::Receive).then(|| "DEU".to_owned()),
        object_id: format!("indicator--{:08x}-17d4-4cbf-938f-98ee46b3cd3f", i),
        version: "2026-11-27T03:00:00.000Z".into(),
        digest: format!("{:064x}", i),
        detail: (kind == EventKind::Deny).then(|| format!("no agreement covers event {i}")),
        source: None,
    }
}

fn open(dir: &std::path::Path) -> AuditLog {
    AuditLog::open(dir, "FRA", key(1)).unwrap()
}

#[test]
fn the_log_matches_the_memory_tree_at_every_size() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut t = MemoryTree::new();
    assert_eq!(log.size(), 0);
    assert_eq!(log.root(0).unwrap(), EMPTY_ROOT);
    for i in 0..70u64 {
        assert_eq!(log.append(&event(i)).unwrap(), i);
        t.push(leaf_hash(&event(i).leaf_bytes()));
    }
    let range = log
        .append_batch(&(70..135).map(event).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(range, 70..135);
    for i in 70..135 {
        t.push(leaf_hash(&event(i).leaf_bytes()));
    }
    assert_eq!(log.size(), 135);
    for size in 0..=135 {
        assert_eq!(log.root(size).unwrap(), t.root(size).unwrap());
    }
    for size in [1, 2, 7, 64, 65, 100, 135] {
        for index in 0..size {
            assert_eq!(
                log.inclusion_proof(index, size).unwrap(),
                t.inclusion_proof(index, size).unwrap()
            );
        }
        for first in 0..=size {
            assert_eq!(
                log.consistency_proof(first, size).unwrap(),
                t.consistency_proof(first, size).unwrap()
            );
        }
    }
    assert_eq!(log.entry(77).unwrap(), event(77));
    assert_eq!(log.leaf(3).unwrap(), event(3).leaf_bytes());
    assert_eq!(
        log.entries(10..13).unwrap(),
        vec![event(10), event(11), event(12)]
    );
    assert!(log.entry(135).is_err());
    assert!(log.inclusion_proof(0, 136).is_err());
    assert!(log.consistency_proof(5, 4).is_err());
    // The checkpoint verifies, and so do documents built on it.
    let cp = log.checkpoint().unwrap();
    let v = log.verifier();
    assert_eq!(v.verify(&cp.note).unwrap(), cp);
    assert_eq!((cp.size, cp.root), (135, t.root(135).unwrap()));
    let doc = log.prove_inclusion(99, 135).unwrap();
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
    let c = log.prove_consistency(50, 135).unwrap();
    ConsistencyProof::from_json(c.to_json().as_bytes())
        .unwrap()
        .verify_between(&old, &cp)
        .unwrap();
}

#[test]
fn invalid_events_are_refused_whole_batches_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut bad = event(1);
    bad.digest = "nope".into();
    let err = log.append_batch(&[event(0), bad]).unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
    assert!(err.to_string().contains("event 1 of the batch"), "{err}");
    assert_eq!(log.size(), 0);
    let mut big = event(2);
    big.detail = Some("x".repeat(MAX_EVENT_BYTES));
    assert!(log.append(&big).is_err());
    assert_eq!(log.append_batch(&[]).unwrap(), 0..0);
}

#[test]
fn reopening_restores_the_log_and_refuses_other_origins_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cp = {
        let log = open(dir.path());
        log.append_batch(&(0..10).map(event).collect::<Vec<_>>())
            .unwrap();
        // A second process may not open it meanwhile.
        assert!(matches!(
            AuditLog::open(dir.path(), "FRA", key(1)),
            Err(AuditError::Locked { .. })
        ));
        log.checkpoint().unwrap()
    };
    let log = open(dir.path());
    assert_eq!(log.size(), 10);
    assert_eq!(log.root(10).unwrap(), cp.root);
    assert_eq!(log.append(&event(10)).unwrap(), 10);
    drop(log);
    let err = AuditLog::open(dir.path(), "GBR", key(1)).unwrap_err();
    assert!(matches!(err, AuditError::Mismatch { .. }), "{err}");
    let err = AuditLog::open(dir.path(), "FRA", key(2)).unwrap_err();
    assert!(err.to_string().contains("created with the key"), "{err}");
}

#[test]
fn a_log_opened_without_its_key_serves_entries_and_proofs_only() {
    let dir = tempfile::tempdir().unwrap();
    let cp = {
        let log = open(dir.path());
        log.append_batch(&(0..9).map(event).collect::<Vec<_>>())
            .unwrap();
        log.checkpoint().unwrap()
    };
    let log = AuditLog::open_without_key(dir.path()).unwrap();
    assert_eq!(log.origin(), "entente.audit/FRA");
    assert_eq!(
        log.vkey(),
        NoteVerifier::new("FRA", key(1).verifying_key()).vkey()
    );
    log.prove_inclusion(3, 9)
        .unwrap()
        .verify_against(&cp)
        .unwrap();
    let err = log.checkpoint().unwrap_err();
    assert!(err.to_string().contains("without its signing key"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = AuditLog::open_without_key(empty.path()).unwrap_err();
    assert!(err.to_string().contains("not an audit log"), "{err}");
}

/// Bytes of `entries.log` holding these events.
fn log_len_of(events: &[AuditEvent]) -> u64 {
    events
        .iter()
        .map(|e| 12 + e.leaf_bytes().len() as u64)
        .sum()
}

fn file_len(dir: &std::path::Path, name: &str) -> u64 {
    std::fs::metadata(dir.join(name)).unwrap().len()
}

/// A process that dies leaves no mark past its last one; the next open scans the entry file.
fn crash(log: AuditLog) {
    std::mem::forget(log);
}

/// The files of a log whose process died, as the restarted machine sees them: a copy, since the
/// forgotten handle of the dead "process" still holds the lock here.
fn restart(log: AuditLog, dir: &std::path::Path) -> tempfile::TempDir {
    crash(log);
    let copy = tempfile::tempdir().unwrap();
    for name in [
        "LOG",
        "entries.log",
        "offsets.idx",
        "nodes.idx",
        "synced",
        "positions",
    ] {
        if dir.join(name).exists() {
            std::fs::copy(dir.join(name), copy.path().join(name)).unwrap();
        }
    }
    copy
}

#[test]
fn a_torn_tail_is_cut_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_batch(&(0..20).map(event).collect::<Vec<_>>())
        .unwrap();
    let cp = log.checkpoint().unwrap();
    let dir = restart(log, dir.path());
    // Three batches were being written when the process died: one of a single event, which
    // reached the disk whole; one of two events, of which only the first did; and one of which
    // half a record did. Index files ran ahead with garbage.
    let record = |i: u64, last: bool| {
        let leaf = event(i).leaf_bytes();
        let word = leaf.len() as u32 | if last { 1 << 31 } else { 0 };
        let mut r = word.to_le_bytes().to_vec();
        r.extend_from_slice(&leaf_hash(&leaf)[..8]);
        r.extend_from_slice(&leaf);
        r
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("entries.log"))
        .unwrap();
    use std::io::Write as _;
    f.write_all(&record(20, true)).unwrap();
    f.write_all(&record(21, false)).unwrap();
    let half = record(22, true);
    f.write_all(&half[..half.len() / 2]).unwrap();
    drop(f);
    let mut n = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("nodes.idx"))
        .unwrap();
    n.write_all(&[0xee; 100]).unwrap();
    drop(n);
    let log = open(dir.path());
    // The whole batch survives; the cut batch and the half record are gone.
    assert_eq!(log.size(), 21);
    assert_eq!(
        file_len(dir.path(), "entries.log"),
        log_len_of(&(0..21).map(event).collect::<Vec<_>>())
    );
    assert_eq!(log.entry(20).unwrap(), event(20));
    assert_eq!(log.root(20).unwrap(), cp.root);
    let proof = log.consistency_proof(20, 21).unwrap();
    verify_consistency(20, 21, &cp.root, &log.root(21).unwrap(), &proof).unwrap();
    assert_eq!(log.append(&event(21)).unwrap(), 21);
    let mut t = MemoryTree::new();
    (0..22).for_each(|i| t.push(leaf_hash(&event(i).leaf_bytes())));
    assert_eq!(log.root(22).unwrap(), t.root(22).unwrap());
}

#[test]
fn a_corrupted_last_record_is_cut_and_earlier_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_batch(&(0..4).map(event).collect::<Vec<_>>())
        .unwrap();
    log.append(&event(4)).unwrap();
    let root4 = log.root(4).unwrap();
    let dir = restart(log, dir.path());
    // Flip one byte of the last record's payload (a write the disk tore), truncate nothing.
    let path = dir.path().join("entries.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let log = open(dir.path());
    assert_eq!(log.size(), 4);
    assert_eq!(log.root(4).unwrap(), root4);
    assert_eq!(file_len(dir.path(), "offsets.idx"), 4 * 8);
    assert_eq!(
        file_len(dir.path(), "entries.log") as usize,
        bytes.len() - event(4).leaf_bytes().len() - 12
    );
}

#[test]
fn an_entry_file_shorter_than_its_mark_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_batch(&(0..5).map(event).collect::<Vec<_>>())
        .unwrap();
    drop(log);
    let path = dir.path().join("entries.log");
    let len = file_len(dir.path(), "entries.log");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let err = AuditLog::open(dir.path(), "FRA", key(1)).unwrap_err();
    assert!(matches!(err, AuditError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("acknowledged entries are missing"),
        "{err}"
    );
}

#[test]
fn damaged_acknowledged_entries_are_refused_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for i in 0..5 {
        log.append(&event(i)).unwrap();
    }
    drop(log);
    // A byte of entry 2 rots on disk, and so does the index: the mark (5 durable entries) cannot
    // be checked, and a rebuild finds only 2 valid entries. That is data loss, not a torn tail.
    let path = dir.path().join("entries.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = (log_len_of(&(0..2).map(event).collect::<Vec<_>>()) + 20) as usize;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(dir.path().join("nodes.idx"), b"").unwrap();
    let err = AuditLog::open(dir.path(), "FRA", key(1)).unwrap_err();
    assert!(matches!(err, AuditError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("holds 2 valid entries, but 5 were durable"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
}

#[test]
fn damaged_index_files_are_rebuilt_from_the_entries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_batch(&(0..40).map(event).collect::<Vec<_>>())
        .unwrap();
    let root = log.root(40).unwrap();
    drop(log);
    // Overwrite a node inside the marked region: the mark's root no longer matches.
    let path = dir.path().join("nodes.idx");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5 * 32] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(dir.path().join("offsets.idx"), b"short").unwrap();
    let log = open(dir.path());
    assert_eq!(log.size(), 40);
    assert_eq!(log.root(40).unwrap(), root);
    assert_eq!(log.entry(39).unwrap(), event(39));
}

#[test]
fn the_log_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<AuditLog>();
    shared::<NoteVerifier>();
}

#[test]
fn concurrent_appenders_share_fsyncs_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path()));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..50u64)
                    .map(|i| {
                        let e = event(t * 1000 + i);
                        (log.append(&e).unwrap(), e)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<(u64, AuditEvent)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_by_key(|(i, _)| *i);
    assert_eq!(log.size(), 400);
    let mut t = MemoryTree::new();
    for (expected, (index, e)) in all.iter().enumerate() {
        assert_eq!(*index, expected as u64);
        assert_eq!(&log.entry(*index).unwrap(), e);
        t.push(leaf_hash(&e.leaf_bytes()));
    }
    assert_eq!(log.root(400).unwrap(), t.root(400).unwrap());
}

#[test]
fn marks_are_written_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let batch: Vec<_> = (0..4096).map(event).collect();
    for _ in 0..(MARK_INTERVAL / 4096) {
        log.append_batch(&batch).unwrap();
    }
    let size = log.size();
    assert_eq!(size, MARK_INTERVAL);
    let root = log.root(size).unwrap();
    crash(log);
    // Without a close, the mark of the interval is there and matches.
    let mark = std::fs::read(dir.path().join("synced")).unwrap();
    assert_eq!(
        u64::from_le_bytes(mark[..8].try_into().unwrap()),
        MARK_INTERVAL
    );
    assert_eq!(&mark[16..48], &root[..]);
}

fn from(source: &str, i: u64) -> AuditEvent {
    AuditEvent {
        source: Some(source.to_owned()),
        ..event(i)
    }
}

#[test]
fn source_positions_are_known_after_a_close_a_crash_and_without_their_file() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    assert_eq!(log.position("intent"), None);
    log.append_batch(&[from("change/10", 0), event(1), from("intent/3", 2)])
        .unwrap();
    log.append_batch(&[from("intent/4", 3), from("change/12", 4)])
        .unwrap();
    log.append(&event(5)).unwrap();
    assert_eq!(log.position("intent"), Some(4));
    assert_eq!(log.position("change"), Some(12));
    assert_eq!(log.position("other"), None);
    // Closed: the positions file records them with the mark.
    drop(log);
    let log = open(dir.path());
    assert_eq!(
        (log.position("intent"), log.position("change")),
        (Some(4), Some(12))
    );
    log.append_batch(&[from("intent/5", 6)]).unwrap();
    // Crashed: the entries past the mark are read again, and a batch cut short does not count.
    let dir = restart(log, dir.path());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("entries.log"))
        .unwrap();
    let leaf = from("intent/9", 7).leaf_bytes();
    f.write_all(&(leaf.len() as u32).to_le_bytes()).unwrap();
    f.write_all(&leaf_hash(&leaf)[..8]).unwrap();
    f.write_all(&leaf).unwrap();
    drop(f);
    let log = open(dir.path());
    assert_eq!(log.size(), 7);
    assert_eq!(
        (log.position("intent"), log.position("change")),
        (Some(5), Some(12))
    );
    drop(log);
    // Without the file (a log written before it existed), or with one of another size, the
    // positions are read from the entries.
    std::fs::remove_file(dir.path().join("positions")).unwrap();
    let log = open(dir.path());
    assert_eq!(log.position("intent"), Some(5));
    drop(log);
    let text = std::fs::read_to_string(dir.path().join("positions")).unwrap();
    assert!(text.contains("size 7\nchange 12\nintent 5\n"), "{text}");
    std::fs::write(
        dir.path().join("positions"),
        "entente-audit-positions 1\nsize 3\nintent 99\ncheck 0000\n",
    )
    .unwrap();
    let log = open(dir.path());
    assert_eq!(log.position("intent"), Some(5));
}

#[test]
fn an_event_source_must_name_a_stream_and_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for bad in [
        "intent",
        "intent/",
        "/4",
        "intent/04",
        "INTENT/4",
        "intent/4x",
    ] {
        match log.append(&from(bad, 0)) {
            Err(AuditError::InvalidEvent { field, .. }) => assert_eq!(field, "source", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(log.size(), 0);
}

// ---- split views --------------------------------------------------------------------------

#[test]
fn a_forked_log_is_caught_as_a_split_view() {
    // One key, two histories that share their first 10 entries: what a node showing partners
    // different logs would sign.
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (honest, fork) = (open(d1.path()), open(d2.path()));
    let common: Vec<_> = (0..10).map(event).collect();
    honest.append_batch(&common).unwrap();
    fork.append_batch(&common).unwrap();
    let shown_to_deu = honest.checkpoint().unwrap();
    honest
        .append_batch(&(10..20).map(event).collect::<Vec<_>>())
        .unwrap();
    let mut hidden = event(10);
    hidden.detail = Some("a release the node wants forgotten".into());
    fork.append(&hidden).unwrap();
    fork.append_batch(&(11..20).map(event).collect::<Vec<_>>())
        .unwrap();
    let later_honest = honest.checkpoint().unwrap();
    let shown_to_gbr = fork.checkpoint().unwrap();
    let v = honest.verifier();
    for cp in [&shown_to_deu, &later_honest, &shown_to_gbr] {
        v.verify(&cp.note).unwrap();
    }
    // The honest history is consistent.
    check_consistent(
        &shown_to_deu,
        &later_honest,
        &honest.consistency_proof(10, 20).unwrap(),
    )
    .unwrap();
    // Same size, two roots: a split view with no proof needed.
    let err = check_consistent(&later_honest, &shown_to_gbr, &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            AuditError::SplitView {
                old_size: 20,
                new_size: 20,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains(&b64(&later_honest.root)) && text.contains(&b64(&shown_to_gbr.root)),
        "{text}"
    );
    // The forked log cannot prove it extends what DEU saw... with its own proof, it does (the
    // common prefix), so the fork shows at its next checkpoint against the honest one.
    check_consistent(
        &shown_to_deu,
        &shown_to_gbr,
        &fork.consistency_proof(10, 20).unwrap(),
    )
    .unwrap();
    // A partner holding the honest size-20 checkpoint and a fork checkpoint of size 21:
    fork.append(&event(20)).unwrap();
    let fork21 = fork.checkpoint().unwrap();
    let err = check_consistent(
        &later_honest,
        &fork21,
        &fork.consistency_proof(20, 21).unwrap(),
    )
    .unwrap_err();
    match &err {
        AuditError::SplitView {
            origin,
            old_size,
            new_size,
            old_root,
            new_root,
            ..
        } => {
            assert_eq!(origin, "entente.audit/FRA");
            assert_eq!((*old_size, *new_size), (20, 21));
            assert_eq!(old_root, &b64(&later_honest.root));
            assert_eq!(new_root, &b64(&fork21.root));
        }
        other => panic!("expected a split view, got {other}"),
    }
    assert!(err.is_verification_failure());
    // Nor does the honest log's proof help the fork.
    honest.append(&event(20)).unwrap();
    let err = check_consistent(
        &shown_to_gbr,
        &honest.checkpoint().unwrap(),
        &honest.consistency_proof(20, 21).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, AuditError::SplitView { .. }), "{err}");
}

// ---- properties ---------------------------------------------------------------------------

/// A tree of `CAPACITY` leaves, built once for all cases.
fn shared_tree() -> &'static MemoryTree {
    static TREE: std::sync::OnceLock<MemoryTree> = std::sync::OnceLock::new();
    TREE.get_or_init(|| {
        let mut t = MemoryTree::new();
        for i in 0..CAPACITY {
            t.push(leaf_hash(&i.to_le_bytes()));
        }
        t
    })
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

const CAPACITY: u64 = 1200;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify_and_any_single_change_fails(
        size in 1u64..600,
        index_seed in any::<u64>(),
        bit in 0usize..256,
        which in any::<prop::sample::Index>(),
        int_bit in 0u32..11,
    ) {
        let t = shared_tree();
        let index = index_seed % size;
        let root = t.root(size).unwrap();
        let leaf = leaf_hash(&index.to_le_bytes());
        let proof = t.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());
        // A bit of one proof hash, of the root, of the leaf hash.
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let k = which.index(bad.len());
            bad[k] = flip(&bad[k], bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, size, &proof[1..], &root).is_err());
        }
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, bit)).is_err());
        prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, &root).is_err());
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        // A bit of the index: that leaf's hash at that position does not verify either.
        let other = index ^ (1 << int_bit);
        prop_assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err());
        // A bit of the size: the proof never verifies against the root of that other size (the
        // root a checkpoint of that size carries; RFC 9162 binds size and root together only
        // through the signed checkpoint).
        let other_size = size ^ (1 << int_bit);
        if other_size <= CAPACITY {
            let other_root = t.root(other_size).unwrap();
            prop_assert!(verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_any_single_change_fails(
        second in 2u64..600,
        first_seed in any::<u64>(),
        bit in 0usize..256,
        which in any::<prop::sample::Index>(),
        int_bit in 0u32..11,
    ) {
        let t = shared_tree();
        let first = 1 + first_seed % (second - 1);
        let (r1, r2) = (t.root(first).unwrap(), t.root(second).unwrap());
        let proof = t.consistency_proof(first, second).unwrap();
        prop_assert!(verify_consistency(first, second, &r1, &r2, &proof).is_ok());
        let mut bad = proof.clone();
        let k = which.index(bad.len());
        bad[k] = flip(&bad[k], bit);
        prop_assert!(verify_consistency(first, second, &r1, &r2, &bad).is_err());
        prop_assert!(verify_consistency(first, second, &flip(&r1, bit), &r2, &proof).is_err());
        prop_assert!(verify_consistency(first, second, &r1, &flip(&r2, bit), &proof).is_err());
        prop_assert!(verify_consistency(first, second, &r1, &r2, &proof[1..]).is_err());
        prop_assert!(verify_consistency(first, second, &r2, &r1, &proof).is_err());
        let f2 = first ^ (1 << int_bit);
        if (1..=CAPACITY).contains(&f2) {
            let rf2 = t.root(f2).unwrap();
            prop_assert!(verify_consistency(f2, second, &rf2, &r2, &proof).is_err());
        }
        let s2 = second ^ (1 << int_bit);
        if (1..=CAPACITY).contains(&s2) {
            let rs2 = t.root(s2).unwrap();
            prop_assert!(verify_consistency(first, s2, &r1, &rs2, &proof).is_err());
        }
    }

}

proptest! {
    // Each case writes a log to disk with an fsync per batch: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_log_and_the_memory_tree_agree(sizes in prop::collection::vec(1usize..40, 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        let mut t = MemoryTree::new();
        let mut next = 0u64;
        for n in sizes {
            let batch: Vec<_> = (next..next + n as u64).map(event).collect();
            batch.iter().for_each(|e| t.push(leaf_hash(&e.leaf_bytes())));
            prop_assert_eq!(log.append_batch(&batch).unwrap(), next..next + n as u64);
            next += n as u64;
            let cp = log.checkpoint().unwrap();
            prop_assert_eq!(cp.root, t.root(next).unwrap());
            for index in [0, next / 2, next - 1] {
                prop_assert_eq!(log.inclusion_proof(index, next).unwrap(), t.inclusion_proof(index, next).unwrap());
            }
        }
    }
}
