//! Bad input at the inbox: garbage, a sender that is not the TLS peer, a wrong certificate,
//! tampered content, a forged signer, a replay and an object outside the receiver's entitlement.

use std::time::Duration;

use entente_audit::EventKind;
use entente_federation::client::PartnerClient;
use entente_federation::wire::{Ack, Batch, Outcome, INBOX};
use entente_seal::batch::payload_plaintext;
use entente_seal::{bind, BatchSealer, NodeIdentity, Payload, PublicIdentity};

use crate::harness::*;

/// Posts to the inbox; every status it answers must be one the OpenAPI document lists for it.
async fn post(client: &mut PartnerClient, body: Vec<u8>) -> (u16, String) {
    let (status, bytes) = client
        .request(hyper::Method::POST, INBOX, body)
        .await
        .unwrap();
    let document = serde_json::to_value(entente_federation::openapi()).unwrap();
    let responses = &document["paths"][INBOX]["post"]["responses"];
    assert!(
        responses.get(status.as_str()).is_some(),
        "the inbox answered {status}, which the OpenAPI document does not list: {responses}"
    );
    (
        status.as_u16(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// A batch of `payloads` sealed by `sender` to `recipient`, in order.
fn seal_batch(
    sender: entente_types::NationCode,
    recipient: &PublicIdentity,
    payloads: &[&Payload],
) -> Batch {
    let sealer = BatchSealer::new(sender, recipient).unwrap();
    let envelopes = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            sealer
                .seal(i as u64, "intel", p.binding(), &payload_plaintext(p))
                .unwrap()
        })
        .collect();
    sealer.finish(envelopes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_refuses_and_records_every_bad_input() {
    let mesh = Mesh::full(&["FRA", "USA", "JPN"]).await;
    let fra = mesh.get("FRA");
    let usa = mesh.get("USA");
    let jpn = mesh.get("JPN");
    // USA speaks to JPN's inbox directly, with its real certificate.
    let jpn_as_seen_by_usa = usa.fed.config().partner(nation("JPN")).unwrap().clone();
    let mut client = PartnerClient::new(
        &jpn_as_seen_by_usa,
        usa.fed.tls().client(nation("JPN")).unwrap(),
    )
    .unwrap();

    // Garbage.
    let (status, text) = post(&mut client, b"{not json".to_vec()).await;
    assert_eq!(status, 400, "{text}");
    // A batch claiming to come from FRA over USA's connection.
    let mut claim = seal_batch(nation("FRA"), &jpn.fed.identity().public(), &[]);
    claim.sender = nation("FRA");
    let claim = serde_json::to_vec(&claim).unwrap();
    let (status, text) = post(&mut client, claim).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("connection is USA's"), "{text}");

    let wide = mesh.marking("NATO SECRET//REL TO FRA, GBR, JPN, USA");
    let fra_usa = mesh.marking("NATO SECRET//REL TO FRA, USA");
    let good = indicator(50, "2025-05-01T00:00:00.000Z", &wide, &[]);
    let fra_id = fra.fed.identity();
    let object_payload =
        |object: &serde_json::Value, markings: Vec<serde_json::Value>, signer: &NodeIdentity| {
            Payload::Object {
                binding: bind(signer, object, &markings).unwrap(),
                object: object.clone(),
                markings: markings.into_iter().map(Into::into).collect(),
            }
        };
    // 1: a FRA object re-released by USA, genuine: stored.
    let genuine = object_payload(&good, vec![wide.clone()], fra_id);
    // 2: the same, its content changed after FRA bound it.
    let tampered = {
        let binding = bind(fra_id, &good, std::slice::from_ref(&wide)).unwrap();
        let mut changed = good.clone();
        changed["name"] = "changed in transit".into();
        Payload::Object {
            object: changed,
            markings: vec![wide.clone().into()],
            binding,
        }
    };
    // 3: signed by a key that claims to be FRA's.
    let impostor = NodeIdentity::generate(nation("FRA"));
    let other = indicator(51, "2025-05-01T00:00:00.000Z", &wide, &[]);
    let forged = object_payload(&other, vec![wide.clone()], &impostor);
    // 4: genuine FRA object, but REL TO FRA, USA: outside JPN's entitlement.
    let secret = indicator(52, "2025-05-01T00:00:00.000Z", &fra_usa, &[]);
    let outside = object_payload(&secret, vec![fra_usa.clone()], fra_id);
    let size_before = jpn.fed.audit().size().await.unwrap();
    let batch = seal_batch(
        nation("USA"),
        &jpn.fed.identity().public(),
        &[&genuine, &tampered, &forged, &outside],
    );
    let body = serde_json::to_vec(&batch).unwrap();
    let (status, text) = post(&mut client, body.clone()).await;
    assert_eq!(status, 200, "{text}");
    let ack: Ack = serde_json::from_str(&text).unwrap();
    let outcomes: Vec<Outcome> = ack.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Stored,
            Outcome::Rejected,
            Outcome::Rejected,
            Outcome::Rejected,
        ],
        "{text}"
    );
    let reasons: Vec<&str> = ack.results[1..]
        .iter()
        .map(|r| r.reason.as_deref().unwrap())
        .collect();
    assert!(
        reasons[0].contains("differ from what FRA signed"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains("signature of FRA does not verify"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].contains("outside the entitlement of JPN"),
        "{}",
        reasons[2]
    );
    // 5: a batch sealed to USA, posted to JPN: nothing in it opens.
    let not_for_jpn = seal_batch(nation("USA"), &usa.fed.identity().public(), &[&genuine]);
    let (status, text) = post(&mut client, serde_json::to_vec(&not_for_jpn).unwrap()).await;
    assert_eq!(status, 200, "{text}");
    let ack: Ack = serde_json::from_str(&text).unwrap();
    assert_eq!(ack.results[0].outcome, Outcome::Rejected);
    let reason = ack.results[0].reason.as_deref().unwrap();
    assert!(reason.contains("sealed for USA, not for JPN"), "{reason}");
    // 6: the first batch with two envelopes swapped: neither opens at the other's position.
    let mut swapped = batch.clone();
    swapped.envelopes.swap(0, 1);
    let (status, text) = post(&mut client, serde_json::to_vec(&swapped).unwrap()).await;
    assert_eq!(status, 200, "{text}");
    let ack: Ack = serde_json::from_str(&text).unwrap();
    for r in &ack.results[..2] {
        assert_eq!(r.outcome, Outcome::Rejected, "{text}");
        assert!(
            r.reason.as_deref().unwrap().contains("does not decrypt"),
            "{text}"
        );
    }
    // Each refusal is in JPN's audit log (3 + 1 + 4: in the swapped batch the other two are
    // refused again for what they carry); the stored object too.
    intents_recorded(jpn).await;
    let log = jpn.fed.audit();
    let events = log
        .entries(size_before..log.size().await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == EventKind::Deny).count(),
        8
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::Receive)
            .count(),
        1
    );
    assert!(
        !jpn.held().await.iter().any(|h| h.0 == secret["id"]),
        "no leak"
    );

    // A replay of the first batch, byte for byte: acknowledged, nothing stored twice.
    let (status, text) = post(&mut client, body).await;
    assert_eq!(status, 200);
    let ack: Ack = serde_json::from_str(&text).unwrap();
    assert_eq!(ack.results[0].outcome, Outcome::Duplicate);
    assert_eq!(
        jpn.node
            .store()
            .versions("intel", good["id"].as_str().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );

    // A client certificate from a CA no partner uses is refused during the handshake.
    let stranger_dir = tempfile::tempdir().unwrap();
    let pki = entente_federation::generate_dev_pki(nation("USA")).unwrap();
    for (name, text) in [
        ("ca.crt", &pki.ca_pem),
        ("node.crt", &pki.cert_pem),
        ("node.key", &pki.key_pem),
    ] {
        std::fs::write(stranger_dir.path().join(name), text).unwrap();
    }
    let jpn_ca = std::fs::read_to_string(jpn.dir.join("tls/ca.crt")).unwrap();
    let table: toml::Table = toml::from_str(&format!(
        "listen = \"127.0.0.1:0\"\nkeys = \"k\"\ntls_cert = \"node.crt\"\ntls_key = \"node.key\"\ntls_ca = \"ca.crt\"\n[[partner]]\nnation = \"JPN\"\nurl = \"https://127.0.0.1:{}\"\nidentity = \"{}\"\ntls_ca_pem = '''{}'''\n",
        jpn.fed_addr.port(),
        jpn.fed.identity().public(),
        jpn_ca
    ))
    .unwrap();
    let stranger =
        entente_federation::FederationConfig::from_table(&table, stranger_dir.path()).unwrap();
    let tls = entente_federation::tls::Tls::load(&stranger).unwrap();
    let mut client =
        PartnerClient::new(&stranger.partners[0], tls.client(nation("JPN")).unwrap()).unwrap();
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(hyper::Method::POST, INBOX, b"{}".to_vec()),
    )
    .await
    .unwrap();
    assert!(
        refused.is_err(),
        "a stranger's certificate must not get an answer"
    );
    mesh.stop_all().await;
}
