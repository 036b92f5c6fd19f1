//! Differential test of the parser against OASIS stix2-patterns 2.1.2 (`run_validator`, 2.1, and
//! its inspector) on a corpus of more than 10,000 patterns.

use entente_pattern::{Constant, Operator, PathStep, Pattern};
use serde_json::{json, Value};

use crate::corpus::pattern_corpus;
use crate::support::{python_with, run_script};

#[test]
fn parser_accepts_exactly_what_the_oasis_validator_accepts() {
    let Some(python) = python_with("stix2patterns", "pattern differential (stix2-patterns)") else {
        return;
    };
    let corpus = pattern_corpus(0x5717_2021, 4_500, 6_000);
    assert!(corpus.len() >= 10_000);
    let lines: Vec<String> = corpus
        .iter()
        .map(|p| json!({ "pattern": p }).to_string())
        .collect();
    let answers = run_script(&python, "oracle_patterns.py", &lines);

    let mut disagreements = Vec::new();
    let mut comparison_disagreements = Vec::new();
    let (mut valid, mut raised, mut compared_comparisons) = (0, 0, 0);
    for (text, answer) in corpus.iter().zip(&answers) {
        let answer: Value = serde_json::from_str(answer).unwrap();
        let expected = answer["patched_valid"].as_bool().unwrap();
        if !answer["raised"].is_null() {
            raised += 1;
        }
        let ours = Pattern::parse(text);
        valid += usize::from(expected);
        if ours.is_ok() != expected {
            disagreements.push(format!(
                "{text:?}: stix2-patterns {} (raised: {}), ours {:?}",
                if expected { "valid" } else { "invalid" },
                answer["raised"],
                ours.as_ref().map(|p| p.to_string())
            ));
            continue;
        }
        if let (Ok(pattern), Some(theirs)) = (&ours, answer["comparisons"].as_array()) {
            match compare_comparisons(pattern, theirs) {
                Ok(n) => compared_comparisons += n,
                Err(why) => comparison_disagreements.push(format!("{text:?}: {why}")),
            }
        }
    }
    eprintln!(
        "pattern differential: {} patterns, {valid} valid, {} invalid, {raised} on which the validator raised \
         (answered by its patched twin), {compared_comparisons} comparisons compared with the inspector",
        corpus.len(),
        corpus.len() - valid
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with stix2-patterns, the first:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        comparison_disagreements.is_empty(),
        "{} patterns whose comparisons differ from the inspector's, the first:\n{}",
        comparison_disagreements.len(),
        comparison_disagreements
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Ours against the inspector's `(type, path, op, value text)` tuples, grouped by type as it
/// groups them. Returns how many were compared.
fn compare_comparisons(pattern: &Pattern, theirs: &[Value]) -> Result<usize, String> {
    let mut types: Vec<&str> = Vec::new();
    let ours: Vec<_> = pattern
        .comparisons()
        .filter(|c| c.operator != Operator::Exists)
        .collect();
    for c in &ours {
        if !types.contains(&c.object_type.as_str()) {
            types.push(&c.object_type);
        }
    }
    let grouped: Vec<_> = types
        .iter()
        .flat_map(|t| ours.iter().filter(move |c| c.object_type == *t))
        .collect();
    if grouped.len() != theirs.len() {
        return Err(format!(
            "{} comparisons, the inspector {}",
            grouped.len(),
            theirs.len()
        ));
    }
    for (c, t) in grouped.iter().zip(theirs) {
        let t = t.as_array().unwrap();
        if t[0] != c.object_type.as_str() {
            return Err(format!("type {} vs {}", c.object_type, t[0]));
        }
        let path = t[1].as_array().unwrap();
        let mut ours_path = vec![json!(["key", c.path.first])];
        for s in &c.path.steps {
            ours_path.push(match s {
                PathStep::Key(k) => json!(["key", k]),
                PathStep::Index(i) => json!(["index", i]),
                PathStep::AnyIndex => json!(["star"]),
            });
        }
        let huge_index = path.iter().any(|p| p[0] == "index" && !p[1].is_i64());
        if !huge_index && *path != ours_path {
            return Err(format!("path {ours_path:?} vs {path:?}"));
        }
        let op = t[2].as_str().unwrap();
        let (negated, op) = match op.strip_prefix("NOT ") {
            Some(rest) => (true, rest),
            None => (false, op),
        };
        let op = match op {
            "==" => "=",
            "<>" => "!=",
            other => other,
        };
        if negated != c.negated || op != c.operator.as_str() {
            return Err(format!(
                "operator {}{} vs {}",
                if c.negated { "NOT " } else { "" },
                c.operator,
                t[2]
            ));
        }
        let text = t[3].as_str().unwrap();
        let theirs_value =
            literal(text).ok_or_else(|| format!("cannot read the inspector's value {text:?}"))?;
        if Some(&theirs_value) != c.value.as_ref() {
            return Err(format!("value {:?} vs {text:?}", c.value));
        }
    }
    Ok(grouped.len())
}

/// A literal's text read by our parser.
fn literal(text: &str) -> Option<Constant> {
    let op = if text.starts_with('(') { "IN" } else { "=" };
    let pattern = Pattern::parse(&format!("[x:y {op} {text}]")).ok()?;
    let value = pattern.comparisons().next()?.value.clone();
    value
}
