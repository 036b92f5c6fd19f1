//! The words of an object's texts, as free-text search reads them.

use serde_json::Value;

/// The words of a text: runs of letters and digits, in lower case.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Properties whose strings are not text a reader searches: identities, references, times and
/// markings.
fn is_text_key(key: &str) -> bool {
    !(matches!(
        key,
        "id" | "type"
            | "spec_version"
            | "created"
            | "modified"
            | "valid_from"
            | "valid_until"
            | "published"
            | "granular_markings"
            | "extensions"
            | "pattern_type"
            | "pattern_version"
    ) || key.ends_with("_ref")
        || key.ends_with("_refs")
        || key.ends_with("_time")
        || key.ends_with("_seen")
        || key.ends_with("_observed"))
}

/// Every searchable string of an object, at any depth: names, descriptions, aliases, patterns,
/// values, external references' ids…
pub fn texts(object: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    collect(object, &mut out);
    out
}

fn collect<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if is_text_key(k) {
                    collect(v, out);
                }
            }
        }
        _ => {}
    }
}

/// The words of every searchable string of an object, each once, sorted.
pub fn object_words(object: &Value) -> Vec<String> {
    let mut all: Vec<String> = texts(object).into_iter().flat_map(words).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The words of an object's name (or of what stands for it), each once, sorted.
pub fn name_words(name: &str) -> Vec<String> {
    let mut all = words(name);
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_of_objects() {
        assert_eq!(
            words("Sandworm's GNSS-jamming, 2024!"),
            ["sandworm", "s", "gnss", "jamming", "2024"]
        );
        let o = json!({"type": "attack-pattern", "id": "attack-pattern--1", "name": "Spoof Reporting",
            "created_by_ref": "identity--x", "created": "2024-01-01T00:00:00Z",
            "external_references": [{"source_name": "mitre-attack", "external_id": "T0856"}],
            "kill_chain_phases": [{"kill_chain_name": "mitre-ics-attack", "phase_name": "evasion"}]});
        assert_eq!(
            object_words(&o),
            [
                "attack",
                "evasion",
                "ics",
                "mitre",
                "reporting",
                "spoof",
                "t0856"
            ]
        );
    }
}
