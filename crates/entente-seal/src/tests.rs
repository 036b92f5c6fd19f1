use proptest::prelude::*;
use serde_json::{json, Value};

use crate::binding::referenced_markings;
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
        "extensions": {"extension-definition--00000000-0000-4000-8000-000000000001": {
            "extension_type": "property-extension", "marking": text}}
    })
}

const OBJECT_LABEL: &str = "marking-definition--11111111-1111-4111-8111-111111111111";
const PORTION_LABEL: &str = "marking-definition--22222222-2222-4222-8222-222222222222";

fn report() -> (Value, Vec<Value>) {
    let object = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--33333333-3333-4333-8333-333333333333",
        "created": "2025-03-01T10:00:00.000Z",
        "modified": "2025-03-02T10:00:00.000Z",
        "name": "C2 beacon",
        "description": "seen at the border",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2025-03-01T10:00:00Z",
        "object_marking_refs": [OBJECT_LABEL],
        "granular_markings": [{"marking_ref": PORTION_LABEL, "selectors": ["description"]}]
    });
    let markings = vec![
        marking(PORTION_LABEL, "NATO SECRET"),
        marking(OBJECT_LABEL, "FRA CONFIDENTIAL REL TO FRA, USA"),
    ];
    (object, markings)
}

/// Marking definitions as a payload carries them.
pub(crate) fn shared(markings: Vec<Value>) -> Vec<Canonical> {
    markings.into_iter().map(Canonical::from).collect()
}

fn signers_of(ids: &[&NodeIdentity]) -> Signers {
    let mut s = Signers::new();
    for id in ids {
        s.insert(id.nation(), id.public().signing);
    }
    s
}

#[test]
fn canonical_json_matches_rfc8785_examples() {
    // RFC 8785 §3.2.3 sorting example (UTF-16 code unit order) and §3.2.2 number forms.
    let v: Value = serde_json::from_str(
        r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
    )
    .unwrap();
    let text = String::from_utf8(canonical_json(&v).unwrap()).unwrap();
    let keys: Vec<String> = text
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(|kv| kv.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "\"\\r\"",
            "\"1\"",
            "\"\u{80}\"",
            "\"ö\"",
            "\"€\"",
            "\"😀\"",
            "\"\u{fb33}\""
        ]
    );
    let numbers: Value =
        serde_json::from_str(r#"[333333333.33333329, 1E30, 4.50, 2e-3, 0.000001, 1e-7]"#).unwrap();
    assert_eq!(
        String::from_utf8(canonical_json(&numbers).unwrap()).unwrap(),
        "[333333333.3333333,1e+30,4.5,0.002,0.000001,1e-7]"
    );
}

#[test]
fn binding_verifies_and_survives_reordering() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (object, mut markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    let signers = signers_of(&[&fra]);
    binding.verify_object(&signers, &object, &markings).unwrap();
    // Member order and marking order do not matter: both are canonicalised.
    markings.reverse();
    let reordered: Value = serde_json::from_str(&object.to_string()).unwrap();
    binding
        .verify_object(&signers, &reordered, &markings)
        .unwrap();
}

#[test]
fn tampered_content_is_rejected() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (mut object, markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    object["description"] = json!("seen inland");
    let err = binding
        .verify_object(&signers_of(&[&fra]), &object, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::Tampered { .. }), "{err}");
    assert!(err.to_string().contains("indicator--3333"), "{err}");
}

#[test]
fn the_origin_s_cut_mark_is_signed_and_cannot_be_added_or_dropped() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (object, markings) = report();
    let signers = signers_of(&[&fra]);
    let (cut, _) = bind_copy(&fra, &object, &markings, true).unwrap();
    cut.verify_object(&signers, &object, &markings).unwrap();
    // The mark travels in the binding's JSON and comes back from it.
    let text = serde_json::to_string(&cut).unwrap();
    assert!(text.contains("\"cut\":true"), "{text}");
    let back: Binding = serde_json::from_str(&text).unwrap();
    assert!(back.cut);
    back.verify_object(&signers, &object, &markings).unwrap();
    // A whole copy's binding has no mark; a bound copy's mark can be neither dropped nor added.
    let (whole, _) = bind_copy(&fra, &object, &markings, false).unwrap();
    assert!(!serde_json::to_string(&whole).unwrap().contains("cut"));
    assert_eq!(whole, bind(&fra, &object, &markings).unwrap());
    for forged in [
        Binding { cut: false, ..cut },
        Binding { cut: true, ..whole },
    ] {
        let err = forged
            .verify_object(&signers, &object, &markings)
            .unwrap_err();
        assert!(matches!(err, SealError::Tampered { .. }), "{err}");
    }
}

#[test]
fn tampered_label_is_rejected() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (object, mut markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    markings[1]["extensions"]["extension-definition--00000000-0000-4000-8000-000000000001"]
        ["marking"] = json!("FRA CONFIDENTIAL REL TO FRA, USA, JPN");
    let err = binding
        .verify_object(&signers_of(&[&fra]), &object, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::Tampered { .. }), "{err}");
}

#[test]
fn dropped_or_extra_label_is_rejected() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (object, markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    let signers = signers_of(&[&fra]);
    // The portion label withheld: the digest no longer covers the same labels.
    let err = binding
        .verify_object(&signers, &object, &markings[1..])
        .unwrap_err();
    assert!(matches!(err, SealError::Tampered { .. }), "{err}");
    let mut extra = markings.clone();
    extra.push(marking(
        "marking-definition--44444444-4444-4444-8444-444444444444",
        "NATO UNCLASSIFIED",
    ));
    let err = binding
        .verify_object(&signers, &object, &extra)
        .unwrap_err();
    assert!(matches!(err, SealError::Labels { .. }), "{err}");
    let mut twice = markings.clone();
    twice.push(markings[0].clone());
    let err = binding
        .verify_object(&signers, &object, &twice)
        .unwrap_err();
    assert!(err.to_string().contains("shipped twice"), "{err}");
}

#[test]
fn binding_replayed_onto_another_object_is_rejected() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let (object, markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    let mut other = object.clone();
    other["id"] = json!("indicator--55555555-5555-4555-8555-555555555555");
    let err = binding
        .verify_object(&signers_of(&[&fra]), &other, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::WrongObject { .. }), "{err}");
    // The same object under a newer version is another version, not this one.
    let mut newer = object.clone();
    newer["modified"] = json!("2025-03-03T10:00:00.000Z");
    let err = binding
        .verify_object(&signers_of(&[&fra]), &newer, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::WrongObject { .. }), "{err}");
    // A label (marking reference) moved from one object to another changes that object.
    let fresh = json!({"type": "note", "spec_version": "2.1",
        "id": "note--66666666-6666-4666-8666-666666666666",
        "created": "2025-03-01T10:00:00.000Z", "content": "x", "object_refs": [object["id"].clone()]});
    let note_binding = bind(&fra, &fresh, &[]).unwrap();
    let mut relabelled = fresh.clone();
    relabelled["object_marking_refs"] = json!([OBJECT_LABEL]);
    let err = note_binding
        .verify_object(&signers_of(&[&fra]), &relabelled, &markings[1..])
        .unwrap_err();
    assert!(matches!(err, SealError::Tampered { .. }), "{err}");
}

#[test]
fn unknown_or_wrong_signer_is_rejected() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let (object, markings) = report();
    let binding = bind(&fra, &object, &markings).unwrap();
    let err = binding
        .verify_object(&signers_of(&[&usa]), &object, &markings)
        .unwrap_err();
    assert_eq!(
        err,
        SealError::UnknownSigner {
            origin: "FRA".into(),
            object_id: "indicator--33333333-3333-4333-8333-333333333333".into()
        }
    );
    // A node claiming to be FRA with its own key: the configured FRA key does not verify it.
    let impostor = NodeIdentity::generate(nation("FRA"));
    let forged = bind(&impostor, &object, &markings).unwrap();
    let err = forged
        .verify_object(&signers_of(&[&fra]), &object, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::BadSignature { .. }), "{err}");
    // Another nation's binding relabelled as FRA's.
    let mut claimed = bind(&usa, &object, &markings).unwrap();
    claimed.origin = nation("FRA");
    let err = claimed
        .verify_object(&signers_of(&[&fra, &usa]), &object, &markings)
        .unwrap_err();
    assert!(matches!(err, SealError::Tampered { .. }), "{err}");
}

#[test]
fn recall_binding_verifies_only_for_its_object() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let signers = signers_of(&[&fra]);
    let recall = bind_recall(&fra, "indicator--1", "2025-01-01T00:00:00.000Z").unwrap();
    recall
        .verify_recall(&signers, "indicator--1", "2025-01-01T00:00:00.000Z")
        .unwrap();
    assert!(recall
        .verify_recall(&signers, "indicator--2", "2025-01-01T00:00:00.000Z")
        .is_err());
    // An object binding is no recall.
    let (object, markings) = report();
    let b = bind(&fra, &object, &markings).unwrap();
    assert!(b.verify_recall(&signers, &b.object_id, &b.version).is_err());
}

#[test]
fn sealed_envelope_round_trips_to_its_recipient_only() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let jpn = NodeIdentity::generate(nation("JPN"));
    let signers = signers_of(&[&fra, &usa, &jpn]);
    let (object, markings) = report();
    let payload = Payload::Object {
        binding: bind(&fra, &object, &markings).unwrap(),
        object,
        markings: shared(markings),
    };
    let sealed = seal(fra.nation(), &usa.public(), "intel", &payload).unwrap();
    let wire = sealed.to_json().unwrap();
    assert!(!String::from_utf8_lossy(&wire).contains("C2 beacon"));
    let parsed = Sealed::from_json(&wire).unwrap();
    assert_eq!(open(&usa, &signers, &parsed).unwrap(), payload);
    // JPN cannot open what was sealed to USA, even by claiming to be its recipient.
    let err = open(&jpn, &signers, &parsed).unwrap_err();
    assert!(
        err.to_string().contains("sealed for USA, not for JPN"),
        "{err}"
    );
    let mut readdressed = parsed.clone();
    readdressed.recipient = nation("JPN");
    let err = open(&jpn, &signers, &readdressed).unwrap_err();
    assert!(err.to_string().contains("does not decrypt"), "{err}");
}

#[test]
fn altered_header_does_not_open() {
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let gbr = NodeIdentity::generate(nation("GBR"));
    let signers = signers_of(&[&fra, &gbr]);
    let (object, markings) = report();
    let payload = Payload::Object {
        binding: bind(&fra, &object, &markings).unwrap(),
        object,
        markings: shared(markings),
    };
    let sealed = seal(fra.nation(), &usa.public(), "intel", &payload).unwrap();
    let mut cases = Vec::new();
    let mut s = sealed.clone();
    s.sender = nation("GBR");
    cases.push(s);
    let mut s = sealed.clone();
    s.collection = "other".into();
    cases.push(s);
    let mut s = sealed.clone();
    s.version = "2030-01-01T00:00:00.000Z".into();
    cases.push(s);
    let mut s = sealed.clone();
    s.object_id = "indicator--55555555-5555-4555-8555-555555555555".into();
    cases.push(s);
    for s in cases {
        let err = open(&usa, &signers, &s).unwrap_err();
        assert!(err.to_string().contains("does not decrypt"), "{err}");
    }
}

#[test]
fn envelope_parser_refuses_junk_and_unknown_fields() {
    assert!(Sealed::from_json(b"{").is_err());
    assert!(Sealed::from_json(b"[]").is_err());
    let fra = NodeIdentity::generate(nation("FRA"));
    let usa = NodeIdentity::generate(nation("USA"));
    let recall = Payload::Recall {
        binding: bind_recall(&fra, "indicator--1", "v").unwrap(),
    };
    let sealed = seal(fra.nation(), &usa.public(), "intel", &recall).unwrap();
    let mut v: Value = serde_json::from_slice(&sealed.to_json().unwrap()).unwrap();
    v["extra"] = json!(1);
    let err = Sealed::from_json(v.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    let mut bad = sealed.clone();
    bad.enc = "!!".into();
    assert!(open(&usa, &signers_of(&[&fra]), &bad)
        .unwrap_err()
        .to_string()
        .contains("enc: not base64"));
    assert_eq!(open(&usa, &signers_of(&[&fra]), &sealed).unwrap(), recall);
}

#[test]
fn key_file_and_public_identity_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.key");
    let fra = NodeIdentity::generate(nation("FRA"));
    fra.save(&path).unwrap();
    assert!(fra.save(&path).is_err(), "never overwrites a key file");
    let loaded = NodeIdentity::load(&path).unwrap();
    assert_eq!(loaded.public(), fra.public());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = fra.public().to_string();
    assert!(text.starts_with("entente-node FRA ed25519:"));
    assert_eq!(text.parse::<PublicIdentity>().unwrap(), fra.public());
    assert!(format!("{fra:?}").contains("entente-node FRA"));
    for bad in [
        "",
        "entente-node fra ed25519:AA x25519:AA",
        "entente-node FRA ed25519:AAAA x25519:AAAA",
        "node FRA",
    ] {
        assert!(bad.parse::<PublicIdentity>().is_err(), "{bad:?}");
    }
    let err =
        NodeIdentity::from_file_text("k.toml", "nation = \"FRA\"\nfoo = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("k.toml:2"), "{err}");
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any change to any property of the object, or to any label, is caught.
    #[test]
    fn any_change_is_rejected(
        key in "[a-z_]{1,10}",
        value in json_leaf(),
        in_label in any::<bool>(),
    ) {
        let fra = NodeIdentity::generate(nation("FRA"));
        let signers = signers_of(&[&fra]);
        let (mut object, mut markings) = report();
        let binding = bind(&fra, &object, &markings).unwrap();
        let target = if in_label { &mut markings[0] } else { &mut object };
        let before = target.get(&key).cloned();
        prop_assume!(before.as_ref() != Some(&value));
        prop_assume!(!["id", "modified", "created"].contains(&key.as_str()) || in_label);
        target[&key] = value;
        // A label change that renames the marking makes it unreferenced: still refused.
        prop_assert!(binding.verify_object(&signers, &object, &markings).is_err());
    }

    /// A binding verifies only under its origin's key, whatever other keys are known.
    #[test]
    fn only_the_origin_key_verifies(others in proptest::collection::vec("[A-Z]{3}", 0..5)) {
        let fra = NodeIdentity::generate(nation("FRA"));
        let (object, markings) = report();
        let binding = bind(&fra, &object, &markings).unwrap();
        let mut signers = Signers::new();
        for code in &others {
            let n = nation(code);
            signers.insert(n, NodeIdentity::generate(n).public().signing);
        }
        let known_fra = others.iter().any(|c| c == "FRA");
        let result = binding.verify_object(&signers, &object, &markings);
        prop_assert!(result.is_err());
        if !known_fra {
            prop_assert!(
                matches!(result, Err(SealError::UnknownSigner { .. })),
                "unknown signer expected"
            );
        }
    }

    /// Flipping any byte of the ciphertext or encapsulated key makes the envelope unopenable.
    #[test]
    fn any_ciphertext_bit_flip_is_rejected(pos in any::<prop::sample::Index>(), bit in 0u8..8, in_enc in any::<bool>()) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let fra = NodeIdentity::generate(nation("FRA"));
        let usa = NodeIdentity::generate(nation("USA"));
        let (object, markings) = report();
        let payload = Payload::Object { binding: bind(&fra, &object, &markings).unwrap(), object, markings: shared(markings) };
        let mut sealed = seal(fra.nation(), &usa.public(), "intel", &payload).unwrap();
        let field = if in_enc { &mut sealed.enc } else { &mut sealed.ct };
        let mut bytes = b64.decode(&*field).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        *field = b64.encode(bytes);
        prop_assert!(open(&usa, &signers_of(&[&fra]), &sealed).is_err());
    }
}

#[test]
fn referenced_markings_are_deduplicated() {
    let (object, _) = report();
    let refs = referenced_markings(&object);
    assert_eq!(refs.len(), 2);
}
