//! Indexing throughput and query latency of three engines on the same documents and queries:
//! entente-search's per-reader index, tantivy in RAM, and SQLite FTS5 in memory.
//!
//! `cargo run --release --manifest-path bench/search-engines/Cargo.toml -- [DOCS] [QUERIES]`
//!
//! Documents: DOCS synthetic objects (name of two words, description of three to six words from a
//! vocabulary of 2,000, a type, an originator, a label). Queries: one word; two words; a type
//! and a word; a type, an originator and a word. Each engine returns the matching count and the
//! first 50 newest; latency percentiles per engine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use entente_search::{Document, Query, SearchIndex, Sort, Warnings};
use serde_json::json;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{Schema, FAST, STORED, STRING, TEXT};
use tantivy::{doc, Index, Order};

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn word(n: u64) -> String {
    const S: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ba", "de", "fo", "gu", "ha", "ji", "pe",
        "zo",
    ];
    let mut w = String::new();
    let mut n = n + 16;
    while n > 0 {
        w.push_str(S[(n % 16) as usize]);
        n /= 16;
    }
    w
}

const KINDS: [&str; 5] = [
    "indicator",
    "report",
    "malware",
    "campaign",
    "intrusion-set",
];
const NATIONS: [&str; 3] = ["FRA", "GBR", "USA"];

struct Doc {
    id: String,
    name: String,
    description: String,
    kind: &'static str,
    originator: &'static str,
    added: i64,
}

fn percentiles(name: &str, mut t: Vec<Duration>) {
    t.sort();
    let at = |p: f64| t[((t.len() as f64 * p) as usize).min(t.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "{name}: p50 {:.3} ms p90 {:.3} ms p99 {:.3} ms",
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let q: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let docs: Vec<Doc> = (0..n)
        .map(|i| {
            let words: Vec<String> = (0..3 + rng.below(4))
                .map(|_| word(rng.below(2_000)))
                .collect();
            Doc {
                id: format!("report--00000000-0000-4000-8000-{i:012}"),
                name: words[..2].join(" "),
                description: words.join(" "),
                kind: KINDS[rng.below(5) as usize],
                originator: NATIONS[rng.below(3) as usize],
                added: 1_700_000_000_000_000 + i as i64 * 1_000,
            }
        })
        .collect();
    let queries: Vec<(Vec<String>, Option<&str>, Option<&str>)> = (0..q)
        .map(|i| {
            let w = word(rng.below(2_000));
            match i % 4 {
                0 => (vec![w], None, None),
                1 => (vec![w, word(rng.below(2_000))], None, None),
                2 => (vec![w], Some(KINDS[rng.below(5) as usize]), None),
                _ => (
                    vec![w],
                    Some(KINDS[rng.below(5) as usize]),
                    Some(NATIONS[rng.below(3) as usize]),
                ),
            }
        })
        .collect();
    println!("{n} documents, {q} queries");

    // entente-search
    let started = Instant::now();
    let mut ours = SearchIndex::new(Warnings::none());
    for d in &docs {
        ours.put(Document {
            collection: Arc::from("intel"),
            id: d.id.clone(),
            kind: d.kind.to_owned(),
            name: d.name.clone(),
            originator: d.originator.to_owned(),
            label: "NATO SECRET".to_owned(),
            added_us: d.added,
            copy: json!({"type": d.kind, "id": d.id, "name": d.name, "description": d.description}),
        });
    }
    let took = started.elapsed().as_secs_f64();
    println!("entente-search: index {:.0} docs/s", n as f64 / took);
    let mut times = Vec::new();
    let mut total_ours = 0;
    for (words, kind, originator) in &queries {
        let mut text = words.join(" ");
        if let Some(k) = kind {
            text.push_str(&format!(" type:{k}"));
        }
        if let Some(o) = originator {
            text.push_str(&format!(" originator:{o}"));
        }
        let started = Instant::now();
        let r = ours.search(&Query::parse(&text)?, Sort::Newest, 0, 50);
        times.push(started.elapsed());
        total_ours += r.total;
    }
    percentiles("entente-search: query (count, facets, newest 50)", times);

    // tantivy
    let mut schema = Schema::builder();
    let id = schema.add_text_field("id", STRING | STORED);
    let name = schema.add_text_field("name", TEXT);
    let description = schema.add_text_field("description", TEXT);
    let kind = schema.add_text_field("kind", STRING);
    let originator = schema.add_text_field("originator", STRING);
    let added = schema.add_i64_field("added", FAST);
    let index = Index::create_in_ram(schema.build());
    let started = Instant::now();
    let mut writer = index.writer(200_000_000)?;
    for d in &docs {
        writer.add_document(
            doc!(id => d.id.clone(), name => d.name.clone(), description => d.description.clone(),
            kind => d.kind, originator => d.originator, added => d.added),
        )?;
    }
    writer.commit()?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "tantivy: index {:.0} docs/s (commit included)",
        n as f64 / took
    );
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let parser = QueryParser::for_index(&index, vec![name, description]);
    let mut times = Vec::new();
    let mut total_tantivy = 0;
    for (words, k, o) in &queries {
        let mut text: Vec<String> = words.iter().map(|w| format!("+{w}")).collect();
        if let Some(k) = k {
            text.push(format!("+kind:\"{k}\""));
        }
        if let Some(o) = o {
            text.push(format!("+originator:{o}"));
        }
        let started = Instant::now();
        let query = parser.parse_query(&text.join(" "))?;
        let (count, _top) = searcher.search(
            &query,
            &(
                Count,
                TopDocs::with_limit(50).order_by_fast_field::<i64>("added", Order::Desc),
            ),
        )?;
        times.push(started.elapsed());
        total_tantivy += count;
    }
    percentiles("tantivy: query (count, newest 50; no facets)", times);

    // SQLite FTS5
    let db = rusqlite::Connection::open_in_memory()?;
    db.execute_batch("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, name, description, kind, originator, added UNINDEXED);")?;
    let started = Instant::now();
    {
        let tx = db.unchecked_transaction()?;
        {
            let mut insert = tx.prepare("INSERT INTO docs VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for d in &docs {
                insert.execute(rusqlite::params![
                    d.id,
                    d.name,
                    d.description,
                    d.kind,
                    d.originator,
                    d.added
                ])?;
            }
        }
        tx.commit()?;
    }
    let took = started.elapsed().as_secs_f64();
    println!("SQLite FTS5: index {:.0} docs/s", n as f64 / took);
    let mut times = Vec::new();
    let mut total_fts = 0i64;
    let mut count = db.prepare("SELECT count(*) FROM docs WHERE docs MATCH ?1")?;
    let mut top =
        db.prepare("SELECT id FROM docs WHERE docs MATCH ?1 ORDER BY added DESC LIMIT 50")?;
    for (words, k, o) in &queries {
        let mut terms: Vec<String> = words
            .iter()
            .map(|w| format!("{{name description}}: {w}"))
            .collect();
        if let Some(k) = k {
            terms.push(format!("kind: \"{k}\""));
        }
        if let Some(o) = o {
            terms.push(format!("originator: {o}"));
        }
        let m = terms.join(" AND ");
        let started = Instant::now();
        let c: i64 = count.query_row([&m], |r| r.get(0))?;
        let _: Vec<String> = top
            .query_map([&m], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        times.push(started.elapsed());
        total_fts += c;
    }
    percentiles("SQLite FTS5: query (count, newest 50; no facets)", times);
    println!(
        "matches counted: entente-search {total_ours}, tantivy {total_tantivy}, FTS5 {total_fts}"
    );
    Ok(())
}
