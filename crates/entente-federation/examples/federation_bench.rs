//! Federation benchmarks on loopback (real TLS, stores, sealing and audit logs; nodes in one
//! process, as in the integration tests):
//!
//! - latency: five nodes in a full mesh; one object at a time published at FRA, the time until
//!   it is readable in each partner's store (p50, p99, max), and until all four hold it;
//! - catch-up: two nodes, USA stopped while FRA stores N objects releasable to it, then USA
//!   started again: the time until FRA's cursor for USA reaches the end of its stream (every
//!   object acknowledged as stored by USA).
//!
//! ```text
//! cargo run --release -p entente-federation --example federation_bench -- latency 500
//! cargo run --release -p entente-federation --example federation_bench -- catchup 100000
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/it/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        v.len(),
        ms(percentile(&v, 0.50)),
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("latency");
    let n: u32 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(match what {
            "catchup" => 100_000,
            _ => 500,
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match what {
            "latency" => latency(n).await,
            "catchup" => catchup(n).await,
            other => panic!("unknown benchmark {other:?}: latency or catchup"),
        }
    });
}
