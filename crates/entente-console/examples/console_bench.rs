//! Console benchmark on loopback: a FRA node holding N objects (default 100,000) under a dozen
//! labels (some with portion labels), 16 signed-in users of eight nations at two clearances,
//! each asking at once for holdings pages (filters, sorts and pages drawn at random) and object
//! pages. Times are measured at the client, request sent to answer read (so they include the
//! loopback round trip, an upper bound of the server time); each user's index is built by a
//! first request before the timing starts, as it is after a user's first page in service.
//!
//! ```text
//! cargo run --release -p entente-console --example console_bench -- 100000 400 [SERVE_FILE]
//! ```
//! (objects held, requests per user and page kind). With `SERVE_FILE`, the node keeps serving
//! after the timings: its URL and users are written to that file as JSON, and it stops when the
//! file is removed (`bench/console/first_render.py` measures the browser's first render then).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/it/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;
use rand::{RngExt, SeedableRng};

use serde_json::{json, Value};

const LABELS: [(&str, &[(&str, &str)]); 12] = [
    ("NATO UNCLASSIFIED", &[]),
    ("NATO RESTRICTED//REL TO NATO", &[]),
    ("NATO CONFIDENTIAL//REL TO NATO", &[]),
    ("NATO SECRET//REL TO NATO", &[]),
    ("NATO SECRET//REL TO FRA, GBR, USA", &[]),
    (
        "NATO SECRET//REL TO FRA, GBR, USA, DEU, JPN",
        &[("description", "NATO SECRET//REL TO FRA, GBR, USA")],
    ),
    ("NATO CONFIDENTIAL//REL TO FRA, GBR, USA, DEU, JPN", &[]),
    (
        "NATO RESTRICTED//REL TO FRA, GBR, USA, DEU, JPN, ITA, CAN",
        &[("description", "NATO RESTRICTED//REL TO NATO")],
    ),
    ("NATO SECRET//REL TO FRA", &[]),
    ("NATO CONFIDENTIAL//REL TO FRA, DEU", &[]),
    ("NATO SECRET//REL TO FVEY", &[]),
    ("NATO RESTRICTED//REL TO FRA, JPN", &[]),
];

const USERS: [(&str, &str); 8] = [
    ("FRA", "fra"),
    ("GBR", "gbr"),
    ("USA", "usa"),
    ("DEU", "deu"),
    ("JPN", "jpn"),
    ("ITA", "ita"),
    ("CAN", "can"),
    ("NLD", "nld"),
];

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

/// The "N held for you in all" of a holdings page.
fn held_count(page: &str) -> usize {
    let end = page
        .find(" held for you in all")
        .expect("the holdings page says what is held");
    let start = page[..end].rfind('(').expect("an opening parenthesis") + 1;
    page[start..end].parse().expect("a count")
}

fn object(i: usize, rng: &mut impl RngExt) -> Vec<Value> {
    let (label, portions) = LABELS[i % LABELS.len()];
    let kind = ["indicator", "report", "note"][i % 3];
    let uuid = format!("00000000-0000-4000-8000-{i:012}");
    let properties = match kind {
        "indicator" => json!({
            "name": format!("Indicator {i} emitter {}", rng.random_range(0..1000)),
            "description": format!("Seen at grid {} by sensor {}", rng.random_range(0..10000), i % 97),
            "pattern": format!("[ipv4-addr:value = '198.51.{}.{}']", (i / 250) % 250, i % 250),
            "pattern_type": "stix",
            "valid_from": "2026-11-01T08:00:00Z",
        }),
        "report" => json!({
            "name": format!("Report {i} on sector {}", rng.random_range(0..50)),
            "description": format!("Summary of activity number {i}"),
            "published": "2026-11-01T08:00:00Z",
            "object_refs": [format!("report--{uuid}")],
        }),
        _ => json!({
            "abstract": format!("Note {i}"),
            "content": format!("Liaison note {i}, contact {}", rng.random_range(0..100)),
            "description": format!("Note description {i}"),
            "object_refs": [format!("note--{uuid}")],
        }),
    };
    // Notes have no description in STIX: keep only labels whose portions name what exists.
    let portions: &[(&str, &str)] = if kind == "note" { &[] } else { portions };
    let mut out = labelled(kind, &uuid, properties, label, portions);
    if kind == "note" {
        if let Some(o) = out.last_mut() {
            o.as_object_mut().unwrap().remove("description");
        }
    }
    out
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let per_user: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(400);
    let site = Site::start().await;
    let mut names = Vec::new();
    for (nation, name) in USERS {
        for (clearance, suffix) in [("NATO SECRET", "s"), ("NATO CONFIDENTIAL", "c")] {
            let user = format!("{name}-{suffix}");
            site.user(&user, nation, clearance).await;
            names.push(user);
        }
    }
    let started = Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut batch = Vec::new();
    let mut in_batch = std::collections::HashSet::new();
    for i in 0..n {
        for o in object(i, &mut rng) {
            if in_batch.insert(o["id"].as_str().unwrap().to_owned()) {
                batch.push(o);
            }
        }
        if batch.len() >= 2_000 || i + 1 == n {
            in_batch.clear();
            site.publish("fra-s", std::mem::take(&mut batch)).await;
        }
    }
    println!(
        "stored {n} objects in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Signing in ends on the holdings page, whose first request builds the user's index.
    let started = Instant::now();
    let mut browsers = Vec::new();
    for name in &names {
        let mut b = site.browser();
        b.sign_in(name).await;
        browsers.push((name.clone(), b));
    }
    println!(
        "sign-in of the 16 users, one after the other, each ending on the holdings page that builds the user's index (8 nations × 2 clearances): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let mut held = Vec::new();
    for (_, b) in &mut browsers {
        let a = b.get("/console/holdings").await;
        assert_eq!(a.status, 200);
        held.push(held_count(&a.text));
    }
    println!(
        "objects held for each user: {}",
        held.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut tasks = Vec::new();
    for (i, (name, mut b)) in browsers.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i as u64);
            let mut holdings = Vec::new();
            let mut objects = Vec::new();
            let mut links: Vec<String> = Vec::new();
            for _ in 0..per_user {
                let kind = ["", "indicator", "report", "note"][rng.random_range(0..4)];
                let sort = ["added", "name", "type", "label", "originator"][rng.random_range(0..5)];
                let dir = ["asc", "desc"][rng.random_range(0..2)];
                let page = rng.random_range(0..20);
                let label = if rng.random_range(0..4) == 0 {
                    "&label=NATO%20RESTRICTED%2F%2FREL%20TO%20NATO"
                } else {
                    ""
                };
                let path = format!("/console/holdings?type={kind}&sort={sort}&dir={dir}&page={page}{label}&from=2026-01-01");
                let t = Instant::now();
                let a = b.get(&path).await;
                holdings.push(t.elapsed());
                assert_eq!(a.status, 200, "{name} {path}");
                let mut rest = a.text.as_str();
                while let Some(at) = rest.find("href=\"/console/objects/") {
                    rest = &rest[at + 6..];
                    let end = rest.find('"').unwrap();
                    links.push(rest[..end].to_owned());
                }
                if let Some(link) = links.get(rng.random_range(0..links.len().max(1))).cloned() {
                    let t = Instant::now();
                    let a = b.get(&link).await;
                    objects.push(t.elapsed());
                    assert_eq!(a.status, 200, "{name} {link}");
                }
            }
            (holdings, objects)
        }));
    }
    let mut holdings = Vec::new();
    let mut objects = Vec::new();
    let started = Instant::now();
    for t in tasks {
        let (h, o) = t.await.unwrap();
        holdings.extend(h);
        objects.extend(o);
    }
    println!(
        "16 users at once, {per_user} holdings and object pages each, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    report("holdings page (filters, sort, page)", holdings);
    report("object page", objects);
    if let Some(file) = args.get(3) {
        let about = json!({"base": site.base, "users": names, "password": PASSWORD, "objects": n});
        std::fs::write(file, about.to_string()).unwrap();
        println!("serving at {} until {file} is removed", site.base);
        while std::path::Path::new(file).exists() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    site.stop().await;
}
