//! Search benchmarks: indexing throughput, search and correlation latency.
//!
//! `cargo run --release -p entente-search --example search_bench -- [OBJECTS] [QUERIES]`
//!
//! Makes OBJECTS (default 1,000,000) synthetic released copies: indicators whose STIX patterns
//! name addresses, networks, domains, URLs and hashes, observables, files, reports and
//! relationships, with words from a vocabulary of 2,000, 3 originators, 5 labels and 400 days.
//! It indexes all of them (throughput), then builds the view of a reader who may see one object
//! in ten and times QUERIES (default 2,000) searches of mixed kinds and as many correlations of
//! values held, printing percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_search::{
    CorrelationOptions, Document, Observable, Query, SearchIndex, Sort, Warnings,
};
use serde_json::json;

/// A deterministic generator (xorshift), so that every run indexes the same objects.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn word(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ba", "de", "fo", "gu", "ha", "ji", "pe",
        "zo",
    ];
    let mut w = String::new();
    let mut n = n + 16;
    while n > 0 {
        w.push_str(SYLLABLES[(n % 16) as usize]);
        n /= 16;
    }
    w
}

fn address(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(64), rng.below(256), rng.below(256))
}

fn document(n: u64, rng: &mut Rng) -> Document {
    let words: Vec<String> = (0..3 + rng.below(4))
        .map(|_| word(rng.below(2_000)))
        .collect();
    let name = words[..2].join(" ");
    let id_tail = format!("00000000-0000-4000-8000-{n:012}");
    let (kind, copy) = match n % 10 {
        0..=3 => {
            let value = match rng.below(4) {
                0 => format!("ipv4-addr:value = '{}'", address(rng)),
                1 => format!(
                    "domain-name:value = '{}.{}.example'",
                    word(rng.below(5_000)),
                    word(rng.below(300))
                ),
                2 => format!(
                    "url:value = 'https://{}.example/{}'",
                    word(rng.below(300)),
                    word(rng.below(5_000))
                ),
                _ => format!("file:hashes.'SHA-256' = '{:064x}'", rng.below(50_000)),
            };
            (
                "indicator",
                json!({"type": "indicator", "id": format!("indicator--{id_tail}"), "name": name,
                "description": words.join(" "), "pattern_type": "stix", "pattern": format!("[{value}]")}),
            )
        }
        4 => (
            "ipv4-addr",
            json!({"type": "ipv4-addr", "id": format!("ipv4-addr--{id_tail}"), "value": address(rng)}),
        ),
        5 => (
            "domain-name",
            json!({"type": "domain-name", "id": format!("domain-name--{id_tail}"),
            "value": format!("{}.{}.example", word(rng.below(5_000)), word(rng.below(300)))}),
        ),
        6 => (
            "file",
            json!({"type": "file", "id": format!("file--{id_tail}"), "name": format!("{}.exe", words[0]),
            "hashes": {"SHA-256": format!("{:064x}", rng.below(50_000)), "MD5": format!("{:032x}", rng.below(50_000))}}),
        ),
        7 => (
            "report",
            json!({"type": "report", "id": format!("report--{id_tail}"), "name": name,
            "description": words.join(" "), "object_refs": [format!("indicator--00000000-0000-4000-8000-{:012}", rng.below(n + 1) / 10 * 10)]}),
        ),
        _ => (
            "relationship",
            json!({"type": "relationship", "id": format!("relationship--{id_tail}"), "relationship_type": "indicates",
            "source_ref": format!("indicator--00000000-0000-4000-8000-{:012}", rng.below(n + 1) / 10 * 10),
            "target_ref": format!("report--00000000-0000-4000-8000-{:012}", (rng.below(n + 1) / 10) * 10 + 7)}),
        ),
    };
    let id = copy["id"].as_str().unwrap_or_default().to_owned();
    Document {
        collection: Arc::from("intel"),
        id,
        kind: kind.to_owned(),
        name,
        originator: ["FRA", "GBR", "USA"][rng.below(3) as usize].to_owned(),
        label: [
            "NATO UNCLASSIFIED",
            "NATO RESTRICTED",
            "NATO CONFIDENTIAL",
            "NATO SECRET",
            "NATO SECRET//REL TO FRA, GBR",
        ][rng.below(5) as usize]
            .to_owned(),
        added_us: (19_700 + rng.below(400) as i64) * 86_400_000_000 + n as i64,
        copy,
    }
}

fn percentiles(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{name}: n {} p50 {:.3} ms p90 {:.3} ms p99 {:.3} ms max {:.3} ms",
        times.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.90).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let objects: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let docs: Vec<Document> = (0..objects).map(|n| document(n, &mut rng)).collect();

    // Every object, one at a time, as a node builds a view from released rows.
    let started = Instant::now();
    let mut all = SearchIndex::new(Warnings::none());
    for d in &docs {
        all.put(d.clone());
    }
    let took = started.elapsed();
    println!(
        "index {} objects: {:.2} s, {:.0} objects/s",
        objects,
        took.as_secs_f64(),
        objects as f64 / took.as_secs_f64()
    );
    drop(all);

    // A reader who may see one object in ten.
    let mut view = SearchIndex::new(Warnings::none());
    let mut seen = Vec::new();
    for d in docs.iter().filter(|_| rng.below(10) == 0) {
        seen.push(d.clone());
        view.put(d.clone());
    }
    println!("view of one object in ten: {} objects", view.len());
    let value_of = |d: &Document| entente_search::observables_of(&d.copy).into_iter().next();
    let values: Vec<Observable> = seen.iter().filter_map(value_of).collect();
    let mut texts = Vec::new();
    for i in 0..queries {
        let w = || word(i as u64 * 7919 % 2_000);
        let v = &values[i * 31 % values.len()];
        texts.push(match i % 8 {
            0 => w(),
            1 => format!("{} {}", w(), word(i as u64 * 31 % 2_000)),
            2 => format!("type:indicator {}", w()),
            3 => format!("originator:FRA label:secret {}*", &w()[..4]),
            4 => format!("value:{v}"),
            5 => v.to_string(),
            6 => format!(
                "added:2024-0{}..2024-0{} -type:relationship",
                1 + i % 4,
                5 + i % 4
            ),
            _ => String::new(),
        });
    }
    for sort in [Sort::Relevance, Sort::Newest, Sort::Name] {
        let mut times = Vec::with_capacity(texts.len());
        let mut found = 0usize;
        for text in &texts {
            let started = Instant::now();
            let query = Query::parse(text).unwrap_or_default();
            let results = view.search(&query, sort, 0, 50);
            times.push(started.elapsed());
            found += results.total;
        }
        percentiles(
            &format!(
                "search, sort {} (mean {} results)",
                sort.as_str(),
                found / texts.len()
            ),
            times,
        );
    }
    let mut times = Vec::with_capacity(queries);
    let mut linked = 0usize;
    for i in 0..queries {
        let v = &values[i * 17 % values.len()];
        let started = Instant::now();
        let c = view.correlate_value(v, CorrelationOptions::default());
        times.push(started.elapsed());
        linked += c.objects.len();
    }
    percentiles(
        &format!("correlate a value (mean {} objects)", linked / queries),
        times,
    );
    let mut times = Vec::with_capacity(queries);
    for i in 0..queries {
        let d = &seen[i * 13 % seen.len()];
        let started = Instant::now();
        let _ = view.correlate_object(&d.id, CorrelationOptions::default());
        let _ = view.graph(&d.id, 2, 200);
        times.push(started.elapsed());
    }
    percentiles("correlate an object and its graph (2 hops)", times);
}
