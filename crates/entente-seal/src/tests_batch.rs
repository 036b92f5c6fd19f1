//! Canonical JSON written directly against `serde_jcs`, the streamed binding digest against the
//! one built as a value, and sealed batches (format 2): round trip, tampering, wrong recipient,
//! reordering, moving between batches and replay.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::batch::{object_plaintext, payload_plaintext, recall_plaintext};
use crate::binding::object_digest_reference;
use crate::canonical::{canonical_value, hex};
use crate::tests::shared;
use crate::*;

fn nation(code: &str) -> entente_types::NationCode {
    code.parse().unwrap()
}

fn marking(id: &str, text: &str) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": id,
        "created": "2025-01-01T00:00:00.000Z",
        "name": text,
    })
}

fn indicator(n: u32) -> (Value, Vec<Value>) {
    let label = format!("marking-definition--11111111-1111-4111-8111-{n:012}");
    let object = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--33333333-3333-4333-8333-{n:012}"),
        "created": "2025-03-01T10:00:00.000Z",
        "modified": "2025-03-02T10:00:00.000Z",
        "name": format!("beacon {n}"),
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2025-03-01T10:00:00Z",
        "object_marking_refs": [label],
    });
    (object, vec![marking(&label, "NATO SECRET")])
}

fn signers_of(ids: &[&NodeIdentity]) -> Signers {
    let mut s = Signers::new();
    for id in ids {
        s.insert(id.nation(), id.public().signing);
    }
    s
}

/// A batch from FRA to `to` of `n` objects bound by FRA, then one recall.
fn batch_to(fra: &NodeIdentity, to: &NodeIdentity, n: u32) -> (SealedBatch, Vec<Payload>) {
    let sealer = BatchSealer::new(fra.nation(), &to.public()).unwrap();
    let mut items = Vec::new();
    let mut payloads = Vec::new();
    for i in 0..n {
        let (object, markings) = indicator(i);
        let (binding, canonical) = bind_canonical(fra, &object, &markings).unwrap();
        let plaintext = object_plaintext(&binding, &markings, &canonical);
        items.push(
            sealer
                .seal(u64::from(i), "intel", &binding, &plaintext)
                .unwrap(),
        );
        payloads.push(Payload::Object {
            object,
            markings: shared(markings),
            binding,
        });
    }
    let (object, _) = indicator(0);
    let recall = bind_recall(
        fra,
        object["id"].as_str().unwrap(),
        "2025-03-02T10:00:00.000Z",
    )
    .unwrap();
    items.push(
        sealer
            .seal(u64::from(n), "intel", &recall, &recall_plaintext(&recall))
            .unwrap(),
    );
    payloads.push(Payload::Recall { binding: recall });
    (sealer.finish(items), payloads)
}

fn open_all(
    me: &NodeIdentity,
    signers: &Signers,
    batch: &SealedBatch,
) -> Vec<Result<Payload, String>> {
    let opener = BatchOpener::new(me, batch).unwrap();
    batch
        .envelopes
        .iter()
        .enumerate()
        .map(|(i, item)| {
            opener
                .open(signers, i as u64, item)
                .map(|o| o.payload)
                .map_err(|e| e.to_string())
        })
        .collect()
}

#[test]
fn a_batch_round_trips_to_its_recipient_with_canonical_objects() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let signers = signers_of(&[&fra]);
    let (batch, payloads) = batch_to(&fra, &usa, 3);
    let wire = serde_json::to_vec(&batch).unwrap();
    assert!(!String::from_utf8_lossy(&wire).contains("beacon"));
    let parsed: SealedBatch = serde_json::from_slice(&wire).unwrap();
    let opener = BatchOpener::new(&usa, &parsed).unwrap();
    for (i, item) in parsed.envelopes.iter().enumerate() {
        let opened = opener.open(&signers, i as u64, item).unwrap();
        assert_eq!(opened.payload, payloads[i]);
        match &opened.payload {
            Payload::Object { object, .. } => {
                assert_eq!(opened.canonical_object.unwrap(), canonical_value(object));
            }
            Payload::Recall { .. } => assert!(opened.canonical_object.is_none()),
        }
    }
}

#[test]
fn a_batch_for_another_recipient_does_not_open() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let jpn = NodeIdentity::generate(nation("JPN"));
    let (batch, _) = batch_to(&fra, &usa, 2);
    let err = BatchOpener::new(&jpn, &batch).err().unwrap();
    assert!(
        err.to_string().contains("sealed for USA, not for JPN"),
        "{err}"
    );
    // Readdressed to JPN: JPN derives another key, and nothing opens.
    let mut readdressed = batch.clone();
    readdressed.recipient = jpn.nation();
    let results = open_all(&jpn, &signers_of(&[&fra]), &readdressed);
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.contains("does not decrypt"))),
        "{results:?}"
    );
}

/// A change made to an envelope in transit.
type Change = Box<dyn Fn(&mut SealedItem)>;

#[test]
fn a_tampered_envelope_fails_alone() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let signers = signers_of(&[&fra]);
    let (batch, _) = batch_to(&fra, &usa, 4);
    let cases: Vec<Change> = vec![
        Box::new(|i| i.collection = "other".into()),
        Box::new(|i| i.version = "2030-01-01T00:00:00.000Z".into()),
        Box::new(|i| i.object_id = "indicator--55555555-5555-4555-8555-555555555555".into()),
        Box::new(|i| {
            let mut ct =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &i.ct).unwrap();
            ct[3] ^= 1;
            i.ct = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ct);
        }),
    ];
    for change in cases {
        let mut tampered = batch.clone();
        change(&mut tampered.envelopes[1]);
        let results = open_all(&usa, &signers, &tampered);
        assert!(
            results[1]
                .as_ref()
                .is_err_and(|e| e.contains("does not decrypt")),
            "{:?}",
            results[1]
        );
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_ok(), i != 1, "envelope {i}: {r:?}");
        }
    }
    // A changed sender changes every envelope's associated data.
    let mut resent = batch.clone();
    resent.sender = nation("GBR");
    assert!(open_all(&usa, &signers, &resent).iter().all(Result::is_err));
}

#[test]
fn reordered_or_moved_envelopes_do_not_open() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let signers = signers_of(&[&fra]);
    let (batch, _) = batch_to(&fra, &usa, 3);
    let mut swapped = batch.clone();
    swapped.envelopes.swap(0, 2);
    let results = open_all(&usa, &signers, &swapped);
    assert!(results[0].is_err() && results[2].is_err(), "{results:?}");
    assert!(results[1].is_ok());
    // An envelope of one batch placed, at the same position, into another batch to the same
    // recipient: the other batch's key does not open it.
    let (mut other, _) = batch_to(&fra, &usa, 3);
    other.envelopes[0] = batch.envelopes[0].clone();
    let results = open_all(&usa, &signers, &other);
    assert!(
        results[0]
            .as_ref()
            .is_err_and(|e| e.contains("does not decrypt")),
        "{results:?}"
    );
    // A dropped envelope shifts the rest: none of them opens at its new position.
    let mut dropped = batch.clone();
    dropped.envelopes.remove(0);
    assert!(open_all(&usa, &signers, &dropped)
        .iter()
        .all(Result::is_err));
}

#[test]
fn a_replayed_batch_opens_to_the_same_payloads() {
    // Replays are harmless by design: the receiver stores idempotently. What matters here is
    // that a replay carries exactly what the origin bound, nothing else.
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let signers = signers_of(&[&fra]);
    let (batch, payloads) = batch_to(&fra, &usa, 2);
    let first: Vec<_> = open_all(&usa, &signers, &batch)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let again: Vec<_> = open_all(&usa, &signers, &batch)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, payloads);
    assert_eq!(again, payloads);
}

#[test]
fn a_bad_binding_inside_a_good_envelope_is_refused() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let impostor = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    let sealer = BatchSealer::new(nation("GBR"), &usa.public()).unwrap();
    let (object, markings) = indicator(7);
    let binding = bind(&fra, &object, &markings).unwrap();
    let mut changed = object.clone();
    changed["name"] = "changed after binding".into();
    let tampered = payload_plaintext(&Payload::Object {
        object: changed,
        markings: shared(markings.clone()),
        binding: binding.clone(),
    });
    let forged_binding = bind(&impostor, &object, &markings).unwrap();
    let forged = payload_plaintext(&Payload::Object {
        object: object.clone(),
        markings: shared(markings.clone()),
        binding: forged_binding.clone(),
    });
    // An object binding presented as a recall, and a recall carrying an object.
    let recall = bind_recall(&fra, &binding.object_id, &binding.version).unwrap();
    let mut recall_with_object = recall_plaintext(&recall);
    recall_with_object.pop();
    recall_with_object.extend_from_slice(b",\"object\":{}}");
    let items = vec![
        sealer.seal(0, "intel", &binding, &tampered).unwrap(),
        sealer.seal(1, "intel", &forged_binding, &forged).unwrap(),
        sealer
            .seal(2, "intel", &recall, &recall_with_object)
            .unwrap(),
    ];
    let batch = sealer.finish(items);
    let results = open_all(&usa, &signers, &batch);
    assert!(
        results[0]
            .as_ref()
            .is_err_and(|e| e.contains("differ from what FRA signed")),
        "{:?}",
        results[0]
    );
    assert!(
        results[1]
            .as_ref()
            .is_err_and(|e| e.contains("signature of FRA does not verify")),
        "{:?}",
        results[1]
    );
    assert!(
        results[2]
            .as_ref()
            .is_err_and(|e| e.contains("recall carries no object")),
        "{:?}",
        results[2]
    );
}

#[test]
fn batch_parser_refuses_other_formats() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let (batch, _) = batch_to(&fra, &usa, 1);
    let mut v1 = batch.clone();
    v1.v = 1;
    let err = BatchOpener::new(&usa, &v1).err().unwrap();
    assert!(
        err.to_string().contains("unsupported batch format 1"),
        "{err}"
    );
    let mut text = serde_json::to_value(&batch).unwrap();
    text["extra"] = json!(1);
    assert!(serde_json::from_value::<SealedBatch>(text).is_err());
}

#[test]
fn canonical_text_reads_as_serde_json_does() {
    // A member named twice keeps its last value; escapes and numbers as a parsed value has them.
    for text in [
        r#"{"b":1,"a":[1.50,2e3,-0.0,18446744073709551616],"b":{"z":"\u00e9\n","y":null}}"#,
        r#"  [ true , false , "\ud83d\ude00" , 1E400 ]"#,
        r#"{"":{},"\u0000":[]}"#,
    ] {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => {
                assert!(crate::canonical_text(text).is_err(), "{text}");
                continue;
            }
        };
        assert_eq!(
            crate::canonical_text(text).unwrap(),
            canonical_value(&value),
            "{text}"
        );
    }
    for bad in ["", "{", r#"{"a":1,}"#, "[1] 2", r#"{1:2}"#] {
        assert!(crate::canonical_text(bad).is_err(), "{bad}");
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[\\x00-\\x20\"\\\\a\u{7f}\u{2028}\u{e000}\u{ffff}\u{10000}]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        any::<String>(),
                        "[a-z\u{e000}\u{ffff}\u{10000}\u{1f600}\u{7f}\r]{0,4}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_value_writes_what_serde_jcs_writes(value in json_value()) {
        prop_assert_eq!(
            String::from_utf8(canonical_value(&value)).unwrap(),
            String::from_utf8(serde_jcs::to_vec(&value).unwrap()).unwrap()
        );
    }

    #[test]
    fn canonical_text_writes_what_canonical_value_writes(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            value.to_string()
        };
        prop_assert_eq!(
            String::from_utf8(crate::canonical_text(&text).unwrap()).unwrap(),
            String::from_utf8(canonical_value(&value)).unwrap()
        );
    }

    #[test]
    fn the_streamed_binding_digest_is_the_reference_digest(name in any::<String>(), extra in json_value(), cut in any::<bool>()) {
        let fra = NodeIdentity::from_secrets(nation("FRA"), &[1; 32], &[2; 32]).unwrap();
        let (mut object, markings) = indicator(1);
        object["name"] = Value::from(name);
        object["x_extra"] = extra;
        let (binding, _) = crate::bind_copy(&fra, &object, &markings, cut).unwrap();
        let reference = object_digest_reference(fra.nation(), &object, &markings, cut).unwrap();
        prop_assert_eq!(binding.digest, hex(&reference));
    }
}

/// Every envelope of `batch` opened, then their signatures verified together.
fn open_together(
    me: &NodeIdentity,
    signers: &Signers,
    batch: &SealedBatch,
) -> Vec<Result<Payload, String>> {
    let opener = BatchOpener::new(me, batch).unwrap();
    // One memo for the batch, as the inbox keeps one per share: a definition parsed once.
    let mut memo = CanonicalMemo::default();
    crate::verify_opened(
        batch
            .envelopes
            .iter()
            .enumerate()
            .map(|(i, item)| opener.open_unverified(signers, &mut memo, i as u64, item))
            .collect(),
    )
    .into_iter()
    .map(|o| o.map(|o| o.payload).map_err(|e| e.to_string()))
    .collect()
}

#[test]
fn envelopes_verified_together_decide_as_each_opened_alone() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let impostor = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    let sealer = BatchSealer::new(fra.nation(), &usa.public()).unwrap();
    // 40 objects, every seventh bound by an impostor claiming to be FRA, then a recall.
    let mut items = Vec::new();
    for i in 0..40u32 {
        let (object, markings) = indicator(i);
        let signer = if i % 7 == 3 { &impostor } else { &fra };
        let (binding, canonical) = bind_canonical(signer, &object, &markings).unwrap();
        let plaintext = object_plaintext(&binding, &markings, &canonical);
        items.push(
            sealer
                .seal(u64::from(i), "intel", &binding, &plaintext)
                .unwrap(),
        );
    }
    let (object, _) = indicator(0);
    let recall = bind_recall(
        &fra,
        object["id"].as_str().unwrap(),
        "2025-03-02T10:00:00.000Z",
    )
    .unwrap();
    items.push(
        sealer
            .seal(40, "intel", &recall, &recall_plaintext(&recall))
            .unwrap(),
    );
    let batch = sealer.finish(items);
    let alone = open_all(&usa, &signers, &batch);
    let together = open_together(&usa, &signers, &batch);
    assert_eq!(together, alone);
    let refused: Vec<usize> = (0..together.len())
        .filter(|&i| together[i].is_err())
        .collect();
    assert_eq!(refused, vec![3, 10, 17, 24, 31, 38]);
    assert!(together[3]
        .as_ref()
        .is_err_and(|e| e.contains("signature of FRA does not verify")));
}

/// `n` copies bound by `signer` and signed together, with their objects and markings.
fn signed_together(signer: &NodeIdentity, n: u32) -> Vec<(Binding, Value, Vec<Value>)> {
    let copies: Vec<(Value, Vec<Value>)> = (0..n).map(indicator).collect();
    let unsigned: Vec<_> = copies
        .iter()
        .map(|(o, m)| crate::digest_copy(signer.nation(), o, m, false).unwrap().0)
        .collect();
    crate::sign_together(signer, &unsigned)
        .into_iter()
        .zip(copies)
        .map(|(b, (o, m))| (b, o, m))
        .collect()
}

#[test]
fn bindings_signed_together_each_verify_alone_and_as_written() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    for n in [1u32, 2, 3, 37] {
        let bound = signed_together(&fra, n);
        for (i, (binding, object, markings)) in bound.iter().enumerate() {
            binding.verify_object(&signers, object, markings).unwrap();
            // One alone is signed directly; several carry their place in the tree.
            match &binding.tree {
                None => assert_eq!(n, 1),
                Some(tree) => {
                    assert_eq!((tree.index, tree.size), (i as u64, u64::from(n)));
                    assert_eq!(binding.signature, bound[0].0.signature);
                }
            }
            // What travels (written directly) is what serde writes, canonically.
            let canonical = canonical_value(object);
            let written = object_plaintext(binding, markings, &canonical);
            let reference = serde_jcs::to_vec(
                &json!({"binding": binding, "markings": markings, "object": object}),
            )
            .unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(reference).unwrap()
            );
            let back: Binding =
                serde_json::from_str(&serde_json::to_string(binding).unwrap()).unwrap();
            assert_eq!(&back, binding);
        }
    }
}

#[test]
fn a_binding_s_place_in_its_tree_cannot_be_altered_or_lent() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    let bound = signed_together(&fra, 9);
    // Signed over the same copies and one more: another root.
    let other_tree = signed_together(&fra, 10);
    let (binding, object, markings) = &bound[4];
    let tree = binding.tree.clone().unwrap();
    let mut altered: Vec<(&str, Binding)> = Vec::new();
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().index = 5;
    altered.push(("index", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().size = 10;
    altered.push(("size", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().path[1] = tree.path[0].clone();
    altered.push(("path hash", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().path.pop();
    altered.push(("short path", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().path.push(tree.path[0].clone());
    altered.push(("long path", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().path[0] = "zz".repeat(32);
    altered.push(("not hex", b));
    let mut b = binding.clone();
    b.tree.as_mut().unwrap().size = crate::binding::MAX_TREE + 1;
    altered.push(("oversized", b));
    let mut b = binding.clone();
    b.tree = None;
    altered.push(("tree dropped", b));
    let mut b = binding.clone();
    b.tree = bound[5].0.tree.clone();
    altered.push(("a neighbour's place", b));
    let mut b = binding.clone();
    b.signature = other_tree[4].0.signature.clone();
    altered.push(("another tree's signature", b));
    for (what, b) in altered {
        let e = b
            .verify_object(&signers, object, markings)
            .expect_err(what)
            .to_string();
        assert!(e.contains(&binding.object_id), "{what}: {e}");
    }
    // A recall never carries a tree.
    let mut recall = bind_recall(&fra, &binding.object_id, &binding.version).unwrap();
    recall.tree = Some(tree);
    assert!(recall
        .verify_recall(&signers, &binding.object_id, &binding.version)
        .is_err());
}

#[test]
fn trees_verified_together_decide_as_each_binding_alone() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let impostor = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    let sealer = BatchSealer::new(fra.nation(), &usa.public()).unwrap();
    // Three trees of FRA's and one of an impostor's claiming to be FRA, in that order; one
    // binding of the second tree has its object swapped for another.
    let mut bound: Vec<(Binding, Value, Vec<Value>)> = Vec::new();
    bound.extend(signed_together(&fra, 20));
    bound.extend(signed_together(&fra, 20));
    bound.extend(signed_together(&impostor, 20));
    bound.extend(signed_together(&fra, 5));
    bound[27].1["name"] = json!("swapped");
    let items: Vec<SealedItem> = bound
        .iter()
        .enumerate()
        .map(|(i, (b, o, m))| {
            let plaintext = object_plaintext(b, m, &canonical_value(o));
            sealer.seal(i as u64, "intel", b, &plaintext).unwrap()
        })
        .collect();
    let batch = sealer.finish(items);
    let alone = open_all(&usa, &signers, &batch);
    let together = open_together(&usa, &signers, &batch);
    assert_eq!(together, alone);
    let refused: Vec<usize> = (0..together.len())
        .filter(|&i| together[i].is_err())
        .collect();
    let mut expected = vec![27];
    expected.extend(40..60);
    assert_eq!(refused, expected);
    for i in 40..60 {
        let e = together[i].as_ref().unwrap_err();
        assert!(
            e.contains("signature of FRA does not verify") && e.contains(&bound[i].0.object_id),
            "{i}: {e}"
        );
    }
}

#[test]
fn envelopes_that_share_a_definition_are_each_checked_against_the_one_they_carry() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let label = "marking-definition--11111111-1111-4111-8111-000000000099";
    let good = marking(label, "NATO SECRET");
    let sealer = BatchSealer::new(fra.nation(), &usa.public()).unwrap();
    let mut items = Vec::new();
    let mut objects = Vec::new();
    for i in 0..5u32 {
        let (mut object, _) = indicator(i);
        object["object_marking_refs"] = json!([label]);
        let (binding, canonical) =
            bind_canonical(&fra, &object, std::slice::from_ref(&good)).unwrap();
        let plaintext = match i {
            // Another definition under the same id than the one FRA bound.
            2 => object_plaintext(&binding, &[marking(label, "NATO TOP SECRET")], &canonical),
            // The bound definition, written with its members in another order and spaced.
            3 => {
                let mut text = br#"{"binding":"#.to_vec();
                text.extend(serde_json::to_vec(&binding).unwrap());
                text.extend(br#","markings":[{ "name": "NATO SECRET", "id": ""#);
                text.extend(label.as_bytes());
                text.extend(
                    br#"", "created": "2025-01-01T00:00:00.000Z", "spec_version": "2.1", "type": "marking-definition" }],"object":"#,
                );
                text.extend(&canonical);
                text.push(b'}');
                text
            }
            _ => object_plaintext(&binding, std::slice::from_ref(&good), &canonical),
        };
        items.push(
            sealer
                .seal(u64::from(i), "intel", &binding, &plaintext)
                .unwrap(),
        );
        objects.push(object);
    }
    let batch = sealer.finish(items);
    // Opened with one memo: the definition is parsed once per distinct text, and each envelope's
    // digest covers the one it carries.
    let opened = open_together(&usa, &signers_of(&[&fra]), &batch);
    for i in [0, 1, 3, 4] {
        match &opened[i] {
            Ok(Payload::Object {
                object, markings, ..
            }) => {
                assert_eq!(object, &objects[i]);
                assert_eq!(markings.len(), 1);
                assert_eq!(markings[0].value(), &good);
                assert_eq!(markings[0].bytes(), canonical_value(&good).as_slice());
            }
            other => panic!("envelope {i}: {other:?}"),
        }
    }
    let refused = opened[2].as_ref().map(|_| ()).unwrap_err();
    assert!(
        refused.contains(objects[2]["id"].as_str().unwrap())
            && refused.contains("differ from what FRA signed"),
        "{refused}"
    );
}
