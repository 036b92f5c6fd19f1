//! The partners and audit page: plainly empty on a node that does not federate; on two
//! federated nodes (real TLS and stores on loopback), the links' state and counts, the audit
//! log's entries with the objects a reader may not see left unnamed, and inclusion proofs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_federation::{generate_dev_pki, partner_block, Federation, LinkState};
use entente_node::{auth, shipped_data, Node, NodeConfig};
use entente_seal::NodeIdentity;
use entente_store::{CollectionRight, User};
use entente_types::NationCode;
use serde_json::json;
use tokio::sync::watch;

use crate::harness::{
    browser_at, fra_only_indicator, labelled, populated, rel_jpn_report, serve_console, FRA_ONLY,
    FRA_ONLY_NAME, PASSWORD, REL_JPN,
};

#[tokio::test]
async fn a_node_that_does_not_federate_says_so() {
    let s = populated().await;
    let mut b = s.browser();
    b.sign_in("jpn").await;
    let a = b.get("/console/partners").await;
    assert_eq!(a.status, 200);
    assert!(a.text.contains("does not federate"), "{}", a.text);
    assert!(a.text.contains("NO LABELLED INFORMATION DISPLAYED"));
    assert!(!a.text.contains(FRA_ONLY));
    assert_eq!(b.get("/console/partners/verify/0").await.status, 404);
    s.stop().await;
}

/// A federated node with its console.
struct Member {
    base: String,
    node: Arc<Node>,
    fed: Arc<Federation>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Member {
    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }

    /// Posts `objects` to the node's collection as user `author`.
    async fn publish(&self, author: &str, objects: Vec<serde_json::Value>) {
        let author = self.node.store().user(author).await.unwrap().unwrap();
        let envelope = json!({ "objects": objects }).to_string();
        (self.node)
            .post_envelope(&author, "intel", envelope.as_bytes())
            .await
            .unwrap();
    }

    async fn user(&self, name: &str, nation: &str) {
        let user = User {
            name: name.into(),
            nation: nation.parse().unwrap(),
            clearance_policy: "NATO".into(),
            clearance_level: "SECRET".into(),
            clearance_caveats: Vec::new(),
            password_hash: Some(auth::hash_password(PASSWORD).unwrap()),
            rights: vec![CollectionRight {
                collection: "intel".into(),
                read: true,
                write: true,
            }],
        };
        self.node.store().put_user(&user).await.unwrap();
    }
}

/// Two nodes, each the other's partner (with its audit key), started from folders in `root`.
async fn pair(root: &std::path::Path, a: &str, b: &str) -> (Member, Member) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let nations: Vec<NationCode> = [a, b].iter().map(|c| c.parse().unwrap()).collect();
    let mut prepared = Vec::new();
    for n in &nations {
        let dir = root.join(n.as_str());
        std::fs::create_dir_all(dir.join("tls")).unwrap();
        let identity = NodeIdentity::generate(*n);
        identity.save(&dir.join("node.keys")).unwrap();
        let pki = generate_dev_pki(*n).unwrap();
        std::fs::write(dir.join("tls/ca.crt"), &pki.ca_pem).unwrap();
        std::fs::write(dir.join("tls/node.crt"), &pki.cert_pem).unwrap();
        std::fs::write(dir.join("tls/node.key"), &pki.key_pem).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        prepared.push((dir, identity, pki.ca_pem, listener));
    }
    let mut members = Vec::new();
    for (i, n) in nations.iter().enumerate() {
        let (dir, _, _, listener) = &prepared[i];
        let (_, other, other_ca, other_listener) = &prepared[1 - i];
        let vkey = entente_audit::vkey(
            &entente_audit::origin_for(other.nation().as_str()),
            &other.signing_key().verifying_key(),
        );
        let text = format!(
            "version = 1\nnation = \"{n}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \".\"\npolicy_data = {:?}\n[[collections]]\nid = \"intel\"\ntitle = \"Intelligence\"\n\n[federation]\nlisten = \"{}\"\nkeys = \"node.keys\"\ntls_cert = \"tls/node.crt\"\ntls_key = \"tls/node.key\"\ntls_ca = \"tls/ca.crt\"\nretry_max_ms = 300\ncheckpoint_interval_ms = 200\n{}",
            shipped_data().display().to_string(),
            listener.local_addr().unwrap(),
            partner_block(
                &format!("https://127.0.0.1:{}", other_listener.local_addr().unwrap().port()),
                &other.public(),
                other_ca,
                Some(&vkey),
            )
        );
        let mut config = NodeConfig::parse(&text, dir).unwrap();
        config.console.enabled = true;
        let node = Node::open(config).await.unwrap();
        let fed = Federation::open(node.clone()).await.unwrap().unwrap();
        let (stop, stopped) = watch::channel(false);
        let (base, web_task) =
            serve_console(node.clone(), Some(fed.clone()), stopped.clone()).await;
        let fed_listener =
            tokio::net::TcpListener::from_std(listener.try_clone().unwrap()).unwrap();
        let runner = fed.clone();
        let fed_task = tokio::spawn(async move {
            runner.run(fed_listener, stopped).await.unwrap();
        });
        members.push(Member {
            base,
            node,
            fed,
            stop,
            tasks: vec![web_task, fed_task],
        });
    }
    let second = members.pop().unwrap();
    let first = members.pop().unwrap();
    (first, second)
}

/// Waits until `check` holds, for at most 30 s.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_links_and_the_audit_log_of_a_federated_node_name_only_what_the_reader_may_see() {
    let root = tempfile::tempdir().unwrap();
    let (fra, jpn) = pair(root.path(), "FRA", "JPN").await;
    let japan: NationCode = "JPN".parse().unwrap();
    fra.user("fra", "FRA").await;
    fra.user("jpn", "JPN").await;
    // An indicator for FRA alone (denied to JPN) and a report released to JPN.
    let mut objects = fra_only_indicator();
    objects.extend(rel_jpn_report());
    fra.publish("fra", objects).await;
    let status = |m: &Member| m.fed.partner_status()[&japan].clone();
    until("the report reaches JPN and the indicator is denied", || {
        let s = status(&fra);
        s.sent >= 1 && s.denied >= 1
    })
    .await;
    let audit = fra.fed.audit().clone();
    let started = Instant::now();
    loop {
        let size = audit.size().await.unwrap();
        let kinds: Vec<String> = audit
            .entries(0..size)
            .await
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e.kind.as_str(), e.object_id))
            .collect();
        if kinds.contains(&format!("publish {FRA_ONLY}"))
            && kinds.contains(&format!("deny {FRA_ONLY}"))
            && kinds.contains(&format!("release {REL_JPN}"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out: the audit log records the publishes, release and deny"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&fra).link, LinkState::Up);

    // A JPN user on FRA's console: the link is up; entries about the FRA-only indicator are
    // shown without it.
    let mut b = browser_at(&fra.base);
    b.sign_in("jpn").await;
    let page = b.get("/console/partners").await;
    assert_eq!(page.status, 200);
    let text = &page.text;
    assert!(text.contains("Federation links"), "{text}");
    assert!(text.contains("state-up"), "{text}");
    assert!(text.contains(REL_JPN), "{text}");
    assert!(text.contains("an object not available to you"), "{text}");
    assert!(
        !text.contains(FRA_ONLY),
        "the FRA-only indicator's id leaks: {text}"
    );
    assert!(!text.contains(FRA_ONLY_NAME), "its name leaks");
    assert!(
        !text.contains("REL TO FRA\n") && !text.contains("REL TO FRA<"),
        "{text}"
    );
    assert!(
        text.contains("entente.audit/FRA"),
        "the signed checkpoint: {text}"
    );
    assert!(!text.contains("Split view"), "{text}");
    // The page names a NATO SECRET report: its banner says so.
    assert!(text.contains("NATO SECRET"), "{text}");

    // Every entry's inclusion proof verifies against the signed checkpoint.
    for index in 0..audit.size().await.unwrap() {
        let a = b
            .get_with(
                &format!("/console/partners/verify/{index}"),
                &[("hx-request", "true")],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(a.text.contains("Included"), "{}", a.text);
        assert!(!a.text.contains("<html"), "a fragment: {}", a.text);
    }
    let whole = b.get("/console/partners/verify/0").await;
    assert!(whole.text.contains("<html") && whole.text.contains("Included"));
    assert_eq!(
        b.get(&format!(
            "/console/partners/verify/{}",
            audit.size().await.unwrap() + 5
        ))
        .await
        .status,
        404
    );

    // FRA's own user sees the indicator named.
    let mut f = browser_at(&fra.base);
    f.sign_in("fra").await;
    let page = f.get("/console/partners").await;
    assert!(page.text.contains(FRA_ONLY), "{}", page.text);

    // JPN goes away: the next delivery fails and the link shows down with the error.
    jpn.stop().await;
    let more = labelled(
        "report",
        "0b9d1c0e-0000-4000-8000-0000000000aa",
        json!({"name": "Second liaison summary", "published": "2026-11-02T08:00:00Z", "object_refs": ["report--0b9d1c0e-0000-4000-8000-0000000000aa"]}),
        "NATO SECRET//REL TO FRA, JPN",
        &[],
    );
    fra.publish("fra", more).await;
    fra.node.notify_changed();
    until("the link to JPN goes down", || {
        matches!(status(&fra).link, LinkState::Down(_))
    })
    .await;
    let page = b.get("/console/partners").await;
    assert!(page.text.contains("state-down"), "{}", page.text);
    fra.stop().await;
}

#[tokio::test]
async fn a_copy_its_originator_cut_is_shown_tear_lined_by_it_at_the_receiving_node() {
    let root = tempfile::tempdir().unwrap();
    let (fra, jpn) = pair(root.path(), "FRA", "JPN").await;
    let japan: NationCode = "JPN".parse().unwrap();
    fra.user("fra", "FRA").await;
    jpn.user("jpn", "JPN").await;
    // A report released to JPN whose description is FRA's alone: JPN receives it cut. Another
    // released whole.
    const CUT_REPORT: &str = "report--0b9d1c0e-0000-4000-8000-0000000000c1";
    const WHOLE_REPORT: &str = "report--0b9d1c0e-0000-4000-8000-0000000000c2";
    const SECRET: &str = "FRA-ONLY-DESCRIPTION of the Pacific tasking";
    let mut objects = labelled(
        "report",
        &CUT_REPORT[8..],
        json!({"name": "Pacific tasking", "published": "2026-11-01T08:00:00Z", "object_refs": [WHOLE_REPORT], "description": SECRET}),
        "NATO SECRET//REL TO FRA, JPN",
        &[("description", "NATO SECRET//REL TO FRA")],
    );
    objects.extend(labelled(
        "report",
        &WHOLE_REPORT[8..],
        json!({"name": "Pacific liaison summary", "published": "2026-11-01T08:00:00Z", "object_refs": [CUT_REPORT]}),
        "NATO SECRET//REL TO FRA, JPN",
        &[],
    ));
    fra.publish("fra", objects).await;
    until("both reports reach JPN", || {
        fra.fed.partner_status()[&japan].sent >= 2
    })
    .await;

    let mut b = browser_at(&jpn.base);
    b.sign_in("jpn").await;
    let mut holdings = String::new();
    for _ in 0..100 {
        holdings = b.get("/console/holdings").await.text;
        if holdings.contains(CUT_REPORT) && holdings.contains(WHOLE_REPORT) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row_of = |id: &str| -> String {
        let at = holdings
            .find(id)
            .unwrap_or_else(|| panic!("{id} in {holdings}"));
        let end = holdings[at..]
            .find("</tr>")
            .map_or(holdings.len(), |e| at + e);
        holdings[at..end].to_owned()
    };
    assert!(
        row_of(CUT_REPORT).contains("tear-lined by FRA"),
        "{}",
        row_of(CUT_REPORT)
    );
    let whole = row_of(WHOLE_REPORT);
    assert!(
        whole.contains("as received") && !whole.contains("tear-lined"),
        "{whole}"
    );
    let object = b.get(&format!("/console/objects/intel/{CUT_REPORT}")).await;
    assert_eq!(object.status, 200);
    assert!(object.text.contains("tear-lined by FRA"), "{}", object.text);
    assert!(
        !object.text.contains(SECRET),
        "the cut description is not held"
    );
    let object = b
        .get(&format!("/console/objects/intel/{WHOLE_REPORT}"))
        .await;
    assert!(!object.text.contains("tear-lined"), "{}", object.text);
    // The object page names the audit-log entry recording the receipt, and its proof verifies.
    let mut page = String::new();
    for _ in 0..100 {
        page = b
            .get(&format!("/console/objects/intel/{CUT_REPORT}"))
            .await
            .text;
        if page.contains("received from FRA") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(page.contains("received from FRA"), "{page}");
    assert!(page.contains("entente.audit/JPN"), "{page}");
    let at = page
        .find("/console/partners/verify/")
        .expect("a verify link");
    let link = &page[at..at + page[at..].find('"').unwrap()];
    let proof = b.get(link).await;
    assert_eq!(proof.status, 200, "{}", proof.text);
    assert!(proof.text.contains("Included"), "{}", proof.text);
    // FRA's own console shows its stored object whole.
    let mut f = browser_at(&fra.base);
    f.sign_in("fra").await;
    let own = f.get(&format!("/console/objects/intel/{CUT_REPORT}")).await;
    assert!(
        own.text.contains("whole, as published here"),
        "{}",
        own.text
    );
    assert!(own.text.contains("published here at "), "{}", own.text);
    fra.stop().await;
    jpn.stop().await;
}
