//! Load time of the full set of lists and lookups per second, for comparison with
//! pymispwarninglists on the same values (`bench/warninglists/lookup_python.py`).
//!
//! ```text
//! cargo run --release -p entente-warninglists --example warninglists_bench -- \
//!     LISTS_DIR [VALUES_FILE] [COUNT]
//! ```
//! LISTS_DIR is a `lists` folder (the full set: `python tests/oracle_warninglists.py --data-dir`).
//! The values, the seeded mix of the differential test, are written to VALUES_FILE (default
//! `warninglists_values.jsonl` in the temporary directory, one JSON string per line) for the
//! Python script to read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/values.rs"]
mod values;

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use entente_warninglists::{WarningList, WarningLists};

const SEED: u64 = 0x5741_524e_494e_4753;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let lists_dir = PathBuf::from(
        arguments
            .next()
            .expect("usage: warninglists_bench LISTS_DIR [VALUES_FILE] [COUNT]"),
    );
    let values_file = arguments.next().map_or_else(
        || std::env::temp_dir().join("warninglists_values.jsonl"),
        PathBuf::from,
    );
    let count: usize = arguments
        .next()
        .map_or(100_000, |count| count.parse().unwrap());

    let started = Instant::now();
    let lists = WarningLists::load_dir(&lists_dir).unwrap();
    let load = started.elapsed();
    let entries: usize = lists.lists().iter().map(|list| list.entries.len()).sum();
    println!(
        "load: {} lists, {entries} entries in {:.3} s",
        lists.len(),
        load.as_secs_f64()
    );

    // The same work in two parts: reading and parsing the files, then compiling the lists.
    let started = Instant::now();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&lists_dir)
        .unwrap()
        .map(|folder| folder.unwrap().path().join("list.json"))
        .filter(|file| file.is_file())
        .collect();
    files.sort();
    let parsed: Vec<WarningList> = files
        .iter()
        .map(|file| WarningList::from_json(&std::fs::read(file).unwrap(), "bench").unwrap())
        .collect();
    let parse = started.elapsed();
    let started = Instant::now();
    drop(WarningLists::from_lists(parsed).unwrap());
    println!(
        "load parts: read and parse {:.3} s, compile {:.3} s",
        parse.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let values = values::generate(&values::Sources::new(&lists), count, SEED);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&values_file).unwrap());
    for value in &values {
        writeln!(file, "{}", serde_json::to_string(value).unwrap()).unwrap();
    }
    file.flush().unwrap();
    println!(
        "values: {} written to {}",
        values.len(),
        values_file.display()
    );

    let typed: fn(&WarningLists, &str) -> usize = |lists, value| lists.lookup(value).len();
    let exact: fn(&WarningLists, &str) -> usize = |lists, value| lists.lookup_exact(value).len();
    for (mode, lookup) in [
        ("lookup (typed, as slow_search=True)", typed),
        ("lookup_exact (as slow_search=False)", exact),
    ] {
        let mut best = f64::INFINITY;
        let mut hits = 0;
        for _ in 0..5 {
            let started = Instant::now();
            hits = 0;
            for value in &values {
                hits += black_box(lookup(&lists, black_box(value)));
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{mode}: {} values in {:.3} s (best of 5): {:.0} lookups/s, {:.0} ns/lookup, {hits} hits",
            values.len(),
            best,
            values.len() as f64 / best,
            best * 1e9 / values.len() as f64
        );
    }
}
