//! Federation benchmarks on loopback (real TLS, stores, sealing and audit logs; nodes in one
//! process, as in the integration tests):
//!
//! - latency: five nodes in a full mesh; one object at a time published at FRA, the time until
//!   it is readable in each partner's store (p50, p99, max), and until all four hold it;
//! - catch-up: two nodes, USA stopped while FRA stores N objects releasable to it, then USA
//!   started again: the time until FRA's cursor for USA reaches the end of its stream (every
//!   object acknowledged as stored by USA) and both audit logs hold every release and receive
//!   event;
//! - crisis: ten nodes in a full mesh, each serving its HTTP API on loopback with a crisis
//!   officer; per iteration a room under NATO's Article 4 is opened at one NATO participant in
//!   turn (`POST /api/crisis/rooms`) and its first report posted over TAXII; the time from the
//!   open request until the report is readable over TAXII (`GET` on the room's collection, as
//!   the officer) at every participant.
//!
//! ```text
//! cargo run --release -p entente-federation --example federation_bench -- latency 500
//! cargo run --release -p entente-federation --example federation_bench -- catchup 100000
//! cargo run --release -p entente-federation --example federation_bench -- crisis 60
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/it/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;

// The allocator the `entente` binary ships with: the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        v.len(),
        ms(percentile(&v, 0.50)),
        ms(percentile(&v, 0.90)),
        ms(percentile(&v, 0.99)),
        ms(*v.last().unwrap())
    );
}

async fn latency(n: u32) {
    let nations = ["FRA", "USA", "GBR", "DEU", "JPN"];
    let mesh = Mesh::full(&nations).await;
    let fra = mesh.get("FRA");
    let label = mesh.marking("NATO SECRET//REL TO FRA, USA, GBR, DEU");
    fra.publish(std::slice::from_ref(&label)).await;
    settled(&mesh, Duration::from_secs(30)).await;
    let partners = ["USA", "GBR", "DEU"];
    let mut each = Vec::new();
    let mut all = Vec::new();
    // JPN is in the mesh (five nodes deliver and deny) but not in the label: it gets nothing.
    for i in 0..n {
        let o = indicator(100_000 + i, "2025-06-01T00:00:00.000Z", &label, &[]);
        let id = o["id"].as_str().unwrap().to_owned();
        let mut watches: Vec<_> = partners
            .iter()
            .map(|p| (mesh.get(p), mesh.get(p).node.watch_changes()))
            .collect();
        let start = Instant::now();
        fra.publish(&[o]).await;
        let mut last = Duration::ZERO;
        for (m, w) in &mut watches {
            loop {
                if !m
                    .node
                    .store()
                    .versions("intel", &id)
                    .await
                    .unwrap()
                    .is_empty()
                {
                    break;
                }
                tokio::time::timeout(Duration::from_secs(10), w.changed())
                    .await
                    .expect("delivered within 10 s")
                    .unwrap();
            }
            let t = start.elapsed();
            each.push(t);
            last = last.max(t);
        }
        all.push(last);
    }
    report("publish at FRA -> readable at one partner", each);
    report(
        "publish at FRA -> readable at all three entitled partners",
        all,
    );
    mesh.stop_all().await;
}

async fn catchup(n: u32) {
    let mut mesh = Mesh::full(&["FRA", "USA"]).await;
    let label = mesh.marking("NATO SECRET//REL TO FRA, USA");
    let (dir, text, addr) = {
        let usa = mesh.get("USA");
        (usa.dir.clone(), usa.config_text.clone(), usa.fed_addr)
    };
    mesh.stop("USA").await;
    let fra = mesh.get("FRA");
    fra.publish(std::slice::from_ref(&label)).await;
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let k = (n - i).min(5000);
        let objects: Vec<_> = (i..i + k)
            .map(|j| indicator(j, "2025-06-01T00:00:00.000Z", &label, &[]))
            .collect();
        fra.publish(&objects).await;
        i += k;
    }
    println!(
        "stored {n} objects at FRA in {:.2} s (not part of the figure)",
        t.elapsed().as_secs_f64()
    );
    let store = fra.node.store().clone();
    let head = store
        .changes(0, usize::MAX)
        .await
        .unwrap()
        .last()
        .map_or(0, |c| c.object.seq);
    let start = Instant::now();
    mesh.restart("USA", &dir, text, addr).await;
    loop {
        let c = store
            .cursor("federation/partner/USA")
            .await
            .unwrap()
            .map_or(0, |c| c.seq);
        if c >= head {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "catch-up stalled at {c}/{head}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And every release and receive event is in FRA's and USA's audit logs (taken from the
    // intents committed with each cursor move and each received batch).
    intents_recorded(mesh.get("FRA")).await;
    intents_recorded(mesh.get("USA")).await;
    let took = start.elapsed();
    // Every object is in USA's store (paged, so that a million fit in memory).
    let usa = mesh.get("USA").node.store().clone();
    let (mut after, mut held) = (0, 0usize);
    loop {
        let page = usa.changes(after, 50_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.object.seq;
        held += page.iter().filter(|c| c.object.kind == "indicator").count();
    }
    assert_eq!(held, n as usize, "USA holds every object");
    println!(
        "catch-up of {n} objects after a partition: {:.2} s ({:.0} objects/s)",
        took.as_secs_f64(),
        f64::from(n) / took.as_secs_f64()
    );
    mesh.stop_all().await;
}

/// One node's HTTP API on loopback and its crisis officer's token.
struct Served {
    nation: &'static str,
    url: String,
    token: String,
    changes: tokio::sync::watch::Receiver<u64>,
}

async fn serve(m: &Member, nation: &'static str) -> Served {
    let token = entente_node::auth::new_token();
    let store = m.node.store();
    store
        .put_user(&entente_store::User {
            name: "crisis-officer".into(),
            nation: m.nation,
            clearance_policy: "NATO".into(),
            clearance_level: "SECRET".into(),
            clearance_caveats: Vec::new(),
            password_hash: None,
            rights: vec![entente_store::CollectionRight {
                collection: "crisis-*".into(),
                read: true,
                write: true,
            }],
        })
        .await
        .unwrap();
    store
        .add_token("crisis-officer", &entente_node::auth::token_hash(&token))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let node = m.node.clone();
    tokio::spawn(async move {
        entente_node::serve_node(node, listener, std::future::pending())
            .await
            .unwrap();
    });
    Served {
        nation,
        url,
        token,
        changes: m.node.watch_changes(),
    }
}

/// Sends a request as the officer: the status and the body.
async fn call(
    http: &reqwest::Client,
    s: &Served,
    method: reqwest::Method,
    path: &str,
    body: Option<String>,
) -> (u16, serde_json::Value) {
    let mut request = http
        .request(method, format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .header("Accept", "application/taxii+json;version=2.1");
    if let Some(b) = body {
        request = request
            .header("Content-Type", "application/taxii+json;version=2.1")
            .body(b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Waits until `report` is readable in `collection` at `s` over TAXII; the time since `start`.
async fn readable(
    http: reqwest::Client,
    mut s: Served,
    collection: String,
    report: String,
    start: Instant,
) -> (Served, Duration) {
    let path = format!("/api/collections/{collection}/objects/?match%5Bid%5D={report}");
    loop {
        // Subscribed before the read: a change after it wakes the wait below.
        s.changes.borrow_and_update();
        let (status, v) = call(&http, &s, reqwest::Method::GET, &path, None).await;
        if status == 200 && v["objects"][0]["id"] == report.as_str() {
            return (s, start.elapsed());
        }
        // A change at the node (or, as a safety net, 50 ms) and the read is tried again.
        let _ = tokio::time::timeout(Duration::from_millis(50), s.changes.changed()).await;
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}: the report is not readable after 30 s",
            s.nation
        );
    }
}

async fn crisis(n: u32) {
    const INSIDE: [&str; 8] = ["FRA", "DEU", "POL", "EST", "LTU", "LVA", "USA", "GBR"];
    const OUTSIDE: [&str; 2] = ["JPN", "AUS"];
    let all: Vec<&str> = INSIDE.iter().chain(&OUTSIDE).copied().collect();
    let mesh = Mesh::full(&all).await;
    let mut served = Vec::new();
    for code in INSIDE {
        served.push(serve(mesh.get(code), code).await);
    }
    let mut outside = Vec::new();
    for code in OUTSIDE {
        outside.push(serve(mesh.get(code), code).await);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    let (mut every, mut each, mut opens) = (Vec::new(), Vec::new(), Vec::new());
    let mut collections = Vec::new();
    for i in 0..n {
        let opener = i as usize % INSIDE.len();
        let start = Instant::now();
        let open = serde_json::json!({
            "clause": "nato-art-4",
            "requested_by": [INSIDE[opener]],
            "as_of": today,
            "title": format!("consultation {i}"),
        });
        let (status, room) = call(
            &http,
            &served[opener],
            reqwest::Method::POST,
            "/api/crisis/rooms",
            Some(open.to_string()),
        )
        .await;
        assert_eq!(status, 201, "{room}");
        opens.push(start.elapsed());
        let collection = room["collection"].as_str().unwrap().to_owned();
        let id = format!("note--{}", uuid::Uuid::new_v4());
        let note = serde_json::json!({
            "type": "note",
            "spec_version": "2.1",
            "id": id,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "content": format!("first report of consultation {i}"),
            "object_refs": ["identity--11111111-2222-4333-8444-555555555555"],
        });
        let (status, answer) = call(
            &http,
            &served[opener],
            reqwest::Method::POST,
            &format!("/api/collections/{collection}/objects/"),
            Some(serde_json::json!({ "objects": [note] }).to_string()),
        )
        .await;
        assert!(status == 202 && answer["failure_count"] == 0, "{answer}");
        // Every participant is watched at once; each answers when the report is readable there.
        let tasks: Vec<_> = served
            .drain(..)
            .map(|s| {
                tokio::spawn(readable(
                    http.clone(),
                    s,
                    collection.clone(),
                    id.clone(),
                    start,
                ))
            })
            .collect();
        let mut last = Duration::ZERO;
        for t in tasks {
            let (s, took) = t.await.unwrap();
            if s.nation != INSIDE[opener] {
                each.push(took);
            }
            last = last.max(took);
            served.push(s);
        }
        every.push(last);
        collections.push(collection);
    }
    // Nothing of any room reached the nations outside.
    settled(&mesh, Duration::from_secs(60)).await;
    for s in &outside {
        let (status, v) = call(&http, s, reqwest::Method::GET, "/api/crisis/rooms", None).await;
        assert_eq!(status, 200);
        assert_eq!(v["rooms"].as_array().map(Vec::len), Some(0), "{}", s.nation);
        let (status, v) = call(&http, s, reqwest::Method::GET, "/api/collections/", None).await;
        assert_eq!(status, 200);
        for c in &collections {
            assert!(
                !v.to_string().contains(c.as_str()),
                "{} lists {c}",
                s.nation
            );
        }
    }
    report("open request answered (room stored at the opener)", opens);
    report(
        "open request -> report readable over TAXII at one other participant",
        each,
    );
    report(
        "open request -> report readable over TAXII at every participant",
        every,
    );
    mesh.stop_all().await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("latency");
    let n: u32 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(match what {
            "catchup" => 100_000,
            "crisis" => 60,
            _ => 500,
        });
    // reqwest's TLS takes the process default provider (ring), as the binary installs it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match what {
            "latency" => latency(n).await,
            "catchup" => catchup(n).await,
            "crisis" => crisis(n).await,
            other => panic!("unknown benchmark {other:?}: latency, catchup or crisis"),
        }
    });
}
