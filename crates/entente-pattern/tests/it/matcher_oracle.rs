//! Differential test of the matcher against OASIS stix2-matcher 3.0.0 (`match`, STIX 2.1) on
//! 10,000 seeded (pattern, observed-data bundles) pairs.

use entente_pattern::{observations_from_objects, Pattern};
use serde_json::{json, Value};

use crate::matcher_corpus::pairs;
use crate::support::{python_with, run_script};

/// Our answer: `true`, `false` or `"error"`.
pub fn ours(pattern: &str, bundles: &Value) -> Value {
    let Ok(pattern) = Pattern::parse(pattern) else {
        return json!("invalid pattern");
    };
    let objects: Vec<Value> = bundles
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["objects"].as_array().cloned().unwrap_or_default())
        .collect();
    let result = observations_from_objects(&objects).and_then(|o| pattern.matches(&o));
    match result {
        Ok(b) => json!(b),
        Err(_) => json!("error"),
    }
}

#[test]
fn matcher_agrees_with_stix2_matcher() {
    let Some(python) = python_with("stix2matcher", "matcher differential (stix2-matcher)") else {
        return;
    };
    let cases = pairs(0x5717_2021, 10_000);
    let lines: Vec<String> = cases
        .iter()
        .map(|(p, b)| json!({ "pattern": p, "bundles": b }).to_string())
        .collect();
    let answers = run_script(&python, "oracle_matcher.py", &lines);
    let mut disagreements = Vec::new();
    let (mut matched, mut raised) = (0, 0);
    for ((pattern, bundles), answer) in cases.iter().zip(&answers) {
        let theirs: Value = serde_json::from_str(answer).unwrap();
        let ours = ours(pattern, bundles);
        matched += usize::from(theirs["result"] == true);
        raised += usize::from(theirs["result"] == "error");
        if ours != theirs["result"] {
            let mut data = bundles.to_string();
            data.truncate(1500);
            disagreements.push(format!(
                "{pattern}\n  stix2-matcher: {} {}\n  ours: {ours}\n  bundles: {data}",
                theirs["result"], theirs["error"]
            ));
        }
    }
    eprintln!(
        "matcher differential: {} pairs, {matched} match ({:.1}%), {raised} raise in stix2-matcher, {} disagreements",
        cases.len(),
        100.0 * matched as f64 / cases.len() as f64,
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with stix2-matcher, the first:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(6)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
