//! Times pattern parsing and matching against stix2-matcher on the same (pattern, bundles) pairs.
//!
//! ```sh
//! # the pairs (the seeded generator of the differential test)
//! cargo run --release -p entente-pattern --example pattern_bench -- --write /tmp/pattern-pairs.jsonl --pairs 10000
//! # ours, then the Python reference on the same file (bench/pattern/match_python.py), and the ratio
//! cargo run --release -p entente-pattern --example pattern_bench -- /tmp/pattern-pairs.jsonl \
//!     --python $HOME/.cache/entente-venv/bin/python
//! ```
//!
//! Figures: parse throughput (patterns/s, `Pattern::parse`, the OASIS validator's acceptance);
//! matches/s end to end per pair (parse, compile, read the bundles into observations, match: what
//! `stix2matcher.matcher.match` does per call); and matches/s with the pattern compiled and the
//! observations read once (the search index's case).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/matcher_corpus.rs"]
mod matcher_corpus;

use std::io::{BufRead, Write};
use std::process::Command;
use std::time::Instant;

use entente_pattern::{observations_from_bundles, Pattern};
use serde_json::{json, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let path = &args[i + 1];
        let n = args
            .iter()
            .position(|a| a == "--pairs")
            .map_or(10_000, |j| args[j + 1].parse().expect("--pairs N"));
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(path).expect("create the pairs file"));
        for (pattern, bundles) in matcher_corpus::pairs(0xBE7C_2021, n) {
            writeln!(out, "{}", json!({"pattern": pattern, "bundles": bundles})).unwrap();
        }
        println!("wrote {n} pairs to {path}");
        return;
    }
    let path = args.first().expect(
        "usage: pattern_bench PAIRS.jsonl [--python PYTHON] | --write PAIRS.jsonl [--pairs N]",
    );
    let text = std::fs::read_to_string(path).expect("read the pairs file");
    let file = std::io::BufReader::new(text.as_bytes());
    // The JSON text is read into `serde_json::Value`s before timing, as the Python side reads its
    // lines with `json.loads` before timing; both then time from the pattern text and the bundles.
    let pairs: Vec<(String, Vec<Value>)> = file
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            let Value::Array(bundles) = v["bundles"].take() else {
                panic!("a pair without bundles")
            };
            (v["pattern"].as_str().unwrap().to_owned(), bundles)
        })
        .collect();
    let n = pairs.len();

    // Parse throughput.
    let rounds = 20;
    let start = Instant::now();
    let mut valid = 0;
    for _ in 0..rounds {
        for (pattern, _) in &pairs {
            valid += usize::from(Pattern::parse(pattern).is_ok());
        }
    }
    let parse_rate = (rounds * n) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(valid, rounds * n);

    // End to end per pair, as stix2-matcher's match() per call.
    let start = Instant::now();
    let mut matched = 0;
    let mut raised = 0;
    for _ in 0..rounds {
        for (pattern, bundles) in &pairs {
            let result = Pattern::parse(pattern)
                .map_err(|_| ())
                .and_then(|p| p.matcher().map_err(|_| ()))
                .and_then(|m| {
                    observations_from_bundles(bundles)
                        .map_err(|_| ())
                        .and_then(|o| m.matches(&o).map_err(|_| ()))
                });
            match result {
                Ok(true) => matched += 1,
                Ok(false) => {}
                Err(()) => raised += 1,
            }
        }
    }
    let end_to_end = (rounds * n) as f64 / start.elapsed().as_secs_f64();
    matched /= rounds;
    raised /= rounds;

    // From the text: each pair's JSON line read, then matched (the Python side times
    // `json.loads` of the line and `match`), as when a bundle arrives and is checked at once.
    let start = Instant::now();
    let mut from_text_matched = 0;
    for _ in 0..rounds {
        for line in text.lines() {
            let Ok(pair) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(pattern), Some(bundles)) =
                (pair["pattern"].as_str(), pair["bundles"].as_array())
            else {
                continue;
            };
            let hit = Pattern::parse(pattern)
                .ok()
                .and_then(|p| p.matcher().ok())
                .and_then(|m| m.matches(&observations_from_bundles(bundles).ok()?).ok());
            from_text_matched += usize::from(hit == Some(true));
        }
    }
    let from_text = (rounds * n) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(from_text_matched / rounds, matched);

    // The parts of the end-to-end figure.
    let part_rounds = 5;
    let start = Instant::now();
    for _ in 0..part_rounds {
        for (pattern, _) in &pairs {
            let _ = Pattern::parse(pattern).map(|p| p.matcher());
        }
    }
    let compile_rate = (part_rounds * n) as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..part_rounds {
        for (_, bundles) in &pairs {
            let _ = observations_from_bundles(bundles);
        }
    }
    let read_rate = (part_rounds * n) as f64 / start.elapsed().as_secs_f64();

    // Compiled once, observations read once: matching only.
    let prepared: Vec<_> = pairs
        .iter()
        .filter_map(|(p, bundles)| {
            let matcher = Pattern::parse(p).ok()?.matcher().ok()?;
            Some((matcher, observations_from_bundles(bundles).ok()?))
        })
        .collect();
    let match_rounds = 200;
    let start = Instant::now();
    let mut hits = 0usize;
    for _ in 0..match_rounds {
        for (matcher, observations) in &prepared {
            hits += usize::from(matcher.matches(observations) == Ok(true));
        }
    }
    let match_only = (match_rounds * prepared.len()) as f64 / start.elapsed().as_secs_f64();
    assert!(hits > 0);

    println!("pairs: {n} ({matched} match, {raised} raise)");
    println!("entente-pattern parse:                 {parse_rate:>12.0} patterns/s");
    println!("entente-pattern match (end to end):    {end_to_end:>12.0} matches/s");
    println!("entente-pattern match (compiled once): {match_only:>12.0} matches/s");
    println!("  of which parse and compile:          {compile_rate:>12.0} patterns/s");
    println!("  of which reading the bundles:        {read_rate:>12.0} pairs/s");

    if let Some(i) = args.iter().position(|a| a == "--python") {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/pattern/match_python.py"
        );
        let output = Command::new(&args[i + 1])
            .arg(script)
            .arg(path)
            .output()
            .expect("run the Python timing");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value =
            serde_json::from_slice(&output.stdout).expect("the Python timing's JSON");
        let py_match = report["matches_per_second"].as_f64().unwrap();
        let py_parse = report["parses_per_second"].as_f64().unwrap();
        println!(
            "stix2-matcher match:                   {py_match:>12.0} matches/s ({} match, {} raise)",
            report["matched"], report["raised"]
        );
        println!("stix2-patterns run_validator:          {py_parse:>12.0} patterns/s");
        let py_text = report["text_matches_per_second"].as_f64().unwrap();
        println!("match from the JSON text:              {from_text:>12.0} pairs/s");
        println!("stix2-matcher, json.loads and match:   {py_text:>12.0} pairs/s");
        println!("ratio, match end to end:   {:>8.0}x", end_to_end / py_match);
        println!("ratio, from the JSON text: {:>8.0}x", from_text / py_text);
        println!(
            "ratio, match compiled once: {:>7.0}x",
            match_only / py_match
        );
        println!("ratio, parse:              {:>8.0}x", parse_rate / py_parse);
    }
}
