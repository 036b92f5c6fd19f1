//! Three and more nations on loopback with the shipped registry.

use std::time::Duration;

use entente_audit::{verify_inclusion, EventKind, NoteVerifier};
use serde_json::Value;

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(30);

fn ids(held: &[(String, String, entente_types::NationCode, Value)]) -> Vec<String> {
    let mut v: Vec<String> = held.iter().map(|h| h.0.clone()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_reach_exactly_the_entitled_nations_with_tear_lines() {
    let mesh = Mesh::full(&["FRA", "USA", "JPN"]).await;
    let fra_usa = mesh.marking("NATO SECRET//REL TO FRA, USA");
    let wide = mesh.marking("NATO SECRET//REL TO FRA, GBR, JPN, USA");
    let nato = mesh.marking("NATO SECRET");
    // 1: FRA/USA only. 2: wide, with a description only FRA/USA may read. 3: NATO SECRET.
    let one = indicator(1, "2025-02-01T00:00:00.000Z", &fra_usa, &[]);
    let two = indicator(
        2,
        "2025-02-01T00:00:00.000Z",
        &wide,
        &[("description", &fra_usa)],
    );
    let three = indicator(3, "2025-02-01T00:00:00.000Z", &nato, &[]);
    mesh.get("FRA")
        .publish(&[
            fra_usa.clone(),
            wide.clone(),
            nato.clone(),
            one.clone(),
            two.clone(),
            three.clone(),
        ])
        .await;
    settled(&mesh, WAIT).await;

    let usa = mesh.get("USA").held().await;
    let jpn = mesh.get("JPN").held().await;
    assert_eq!(
        ids(&usa),
        [
            one["id"].as_str().unwrap(),
            two["id"].as_str().unwrap(),
            three["id"].as_str().unwrap()
        ]
    );
    // JPN is no NATO member: it gets the wide report only, without the FRA/USA description.
    assert_eq!(ids(&jpn), [two["id"].as_str().unwrap()]);
    let at_jpn = &jpn[0].3;
    assert!(at_jpn.get("description").is_none(), "{at_jpn}");
    assert!(at_jpn.get("granular_markings").is_none(), "{at_jpn}");
    assert!(!at_jpn.to_string().contains("details of indicator 2"));
    // USA holds the whole report, stored as received from FRA with FRA's binding.
    let at_usa = usa.iter().find(|h| h.0 == two["id"]).unwrap();
    assert_eq!(at_usa.2, nation("FRA"));
    assert_eq!(at_usa.3["description"], "details of indicator 2");
    let binding = mesh
        .get("USA")
        .node
        .store()
        .binding(
            "intel",
            two["id"].as_str().unwrap(),
            &entente_stix::Timestamp::parse("2025-02-01T00:00:00.000Z")
                .unwrap()
                .key(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(binding.origin, nation("FRA"));
    assert_eq!(binding.sender, nation("FRA"));
    // FRA's binding says, under its signature, which copy it cut: JPN's, not USA's; each
    // receiving node reads it back, and it names nothing that was cut.
    let key = entente_stix::Timestamp::parse("2025-02-01T00:00:00.000Z")
        .unwrap()
        .key();
    let two_id = two["id"].as_str().unwrap();
    assert!(!binding.binding.contains("cut"), "{}", binding.binding);
    let usa_node = &mesh.get("USA").node;
    assert!(!usa_node.cut_by_origin("intel", two_id, &key).await.unwrap());
    let jpn_node = &mesh.get("JPN").node;
    let at_jpn_binding = (jpn_node.store().binding("intel", two_id, &key).await)
        .unwrap()
        .unwrap();
    assert!(at_jpn_binding.binding.contains("\"cut\":true"));
    assert!(!at_jpn_binding.binding.contains("description"));
    assert!(jpn_node.cut_by_origin("intel", two_id, &key).await.unwrap());
    // JPN never holds a copy with the FRA/USA marking definition.
    let markings = mesh
        .get("JPN")
        .node
        .store()
        .marking(fra_usa["id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(markings.is_none());

    // The audit logs: FRA recorded publishes, releases and denies; JPN the receive; every
    // checkpoint verifies and proves its entries.
    for m in mesh.members.values() {
        let log = m.fed.audit();
        let cp = log.checkpoint().await.unwrap();
        let verifier = NoteVerifier::new(
            m.nation.as_str(),
            m.fed.identity().signing_key().verifying_key(),
        );
        let checked = verifier.verify(&cp.note).unwrap();
        assert_eq!(checked.size, log.size().await.unwrap());
        for i in 0..cp.size {
            let leaf = log.entry(i).await.unwrap().leaf_bytes();
            let proof = log.inclusion_proof(i, cp.size).await.unwrap();
            verify_inclusion(
                &entente_audit::leaf_hash(&leaf),
                i,
                cp.size,
                &proof,
                &cp.root,
            )
            .unwrap();
        }
    }
    let fra_log = mesh.get("FRA").fed.audit();
    let events = fra_log
        .entries(0..fra_log.size().await.unwrap())
        .await
        .unwrap();
    let count = |k: EventKind, partner: &str| {
        events
            .iter()
            .filter(|e| e.kind == k && e.partner.as_deref() == Some(partner))
            .count()
    };
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::Publish)
            .count(),
        3
    );
    assert_eq!(count(EventKind::Release, "USA"), 3);
    assert_eq!(count(EventKind::Release, "JPN"), 1);
    assert_eq!(count(EventKind::Deny, "JPN"), 2);
    let tear = events
        .iter()
        .find(|e| e.kind == EventKind::Release && e.partner.as_deref() == Some("JPN"))
        .unwrap();
    assert!(
        tear.detail.as_deref().unwrap().contains("tear-lined"),
        "{tear:?}"
    );
    let jpn_log = mesh.get("JPN").fed.audit();
    let jpn_events = jpn_log
        .entries(0..jpn_log.size().await.unwrap())
        .await
        .unwrap();
    assert!(jpn_events
        .iter()
        .any(|e| e.kind == EventKind::Receive && e.object_id == two["id"] && e.origin == "FRA"));
    mesh.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalls_propagate_and_replays_do_not_revive() {
    let mesh = Mesh::full(&["FRA", "USA", "GBR"]).await;
    let label = mesh.marking("NATO SECRET//REL TO FRA, GBR, USA");
    let a = indicator(10, "2025-03-01T00:00:00.000Z", &label, &[]);
    let b = indicator(11, "2025-03-01T00:00:00.000Z", &label, &[]);
    mesh.get("FRA")
        .publish(&[label.clone(), a.clone(), b.clone()])
        .await;
    settled(&mesh, WAIT).await;
    for n in ["USA", "GBR"] {
        assert_eq!(mesh.get(n).held().await.len(), 2, "{n}");
    }
    mesh.get("FRA").delete(a["id"].as_str().unwrap()).await;
    settled(&mesh, WAIT).await;
    for n in ["USA", "GBR"] {
        let held = mesh.get(n).held().await;
        assert_eq!(ids(&held), [b["id"].as_str().unwrap()], "{n}");
    }
    // A rescan sends everything again: the recalled version stays recalled, nothing doubles.
    mesh.get("FRA").fed.rescan().await.unwrap();
    mesh.get("USA").fed.rescan().await.unwrap();
    settled(&mesh, WAIT).await;
    for n in ["USA", "GBR"] {
        let held = mesh.get(n).held().await;
        assert_eq!(ids(&held), [b["id"].as_str().unwrap()], "{n}");
    }
    let usa_log = mesh.get("USA").fed.audit();
    let events = usa_log
        .entries(0..usa_log.size().await.unwrap())
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == EventKind::Recall && e.object_id == a["id"] && e.origin == "FRA"));
    mesh.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_receiver_resumes_without_loss_or_duplicate() {
    let mut mesh = Mesh::full(&["FRA", "USA"]).await;
    let label = mesh.marking("NATO SECRET//REL TO FRA, USA");
    mesh.get("FRA").publish(std::slice::from_ref(&label)).await;
    let usa = mesh.get("USA");
    let (dir, text, addr) = (usa.dir.clone(), usa.config_text.clone(), usa.fed_addr);
    mesh.stop("USA").await;
    // Published while USA is down: FRA retries with backoff.
    let batch: Vec<Value> = (0..200)
        .map(|i| indicator(100 + i, "2025-04-01T00:00:00.000Z", &label, &[]))
        .collect();
    mesh.get("FRA").publish(&batch[..100]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    mesh.restart("USA", &dir, text.clone(), addr).await;
    mesh.get("FRA").publish(&batch[100..]).await;
    settled(&mesh, WAIT).await;
    let held = mesh.get("USA").held().await;
    assert_eq!(held.len(), 200);
    let mut unique = ids(&held);
    unique.dedup();
    assert_eq!(unique.len(), 200, "no duplicate");
    // A restart after delivery re-sends nothing new.
    let size = mesh.get("USA").fed.audit().size().await.unwrap();
    mesh.stop("USA").await;
    mesh.restart("USA", &dir, text, addr).await;
    settled(&mesh, WAIT).await;
    assert_eq!(mesh.get("USA").held().await.len(), 200);
    assert_eq!(mesh.get("USA").fed.audit().size().await.unwrap(), size);
    mesh.stop_all().await;
}
