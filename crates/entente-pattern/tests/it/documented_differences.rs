//! Where we answer differently from stix2-matcher 3.0.0 on purpose, each case with both answers:
//! stix2-matcher's (asked again here, so a change on its side shows) and ours.

use serde_json::{json, Value};

use crate::matcher_oracle::ours;
use crate::support::{python_with, run_script};

fn bundle(objects: &[Value]) -> Value {
    let mut all = vec![json!({
        "type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1,
        "object_refs": objects.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
    })];
    all.extend(objects.iter().cloned());
    json!([{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000002", "objects": all}])
}

/// (pattern, bundles, stix2-matcher's answer, ours, why).
fn cases() -> Vec<(&'static str, Value, Value, Value, &'static str)> {
    let ip = json!({"type": "ipv4-addr", "id": "ipv4-addr--00000000-0000-4000-8000-000000000003", "value": "198.51.100.7"});
    let ip6 = json!({"type": "ipv6-addr", "id": "ipv6-addr--00000000-0000-4000-8000-000000000004", "value": "2001:db8::1"});
    vec![
        (
            "[NOT EXISTS ipv4-addr:value]",
            bundle(std::slice::from_ref(&ip)),
            json!(true),
            json!(false),
            "stix2-matcher has no handler for EXISTS: the path's values stand for the result and NOT is dropped",
        ),
        (
            "[EXISTS ipv4-addr:value AND ipv4-addr:value = '198.51.100.7']",
            bundle(std::slice::from_ref(&ip)),
            json!("error"),
            json!(true),
            "stix2-matcher then intersects a dict with a set (TypeError)",
        ),
        (
            "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
            bundle(&[ip6]),
            json!("error"),
            json!(true),
            "stix2-matcher reads addresses with inet_aton, IPv4 only; we compare IPv6 blocks too",
        ),
    ]
}

#[test]
fn documented_differences_from_stix2_matcher() {
    for (pattern, bundles, _, expected, why) in cases() {
        assert_eq!(ours(pattern, &bundles), expected, "{pattern}: {why}");
    }
    let Some(python) = python_with("stix2matcher", "documented differences (stix2-matcher)") else {
        return;
    };
    let lines: Vec<String> = cases()
        .iter()
        .map(|(p, b, ..)| json!({ "pattern": p, "bundles": b }).to_string())
        .collect();
    let answers = run_script(&python, "oracle_matcher.py", &lines);
    for ((pattern, _, theirs, _, why), answer) in cases().iter().zip(&answers) {
        let answer: Value = serde_json::from_str(answer).unwrap();
        assert_eq!(
            &answer["result"], theirs,
            "{pattern}: {why}; stix2-matcher now says {answer}"
        );
    }
}

/// stix2-matcher 2.1 refuses an observed-data without `object_refs` ("must have 'object_refs'
/// key"); we read the deprecated `objects` dictionary instead, its keys being the references.
#[test]
fn the_objects_dictionary_is_read() {
    let od = json!({"type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1,
        "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.7"}}});
    assert_eq!(
        ours(
            "[ipv4-addr:value = '198.51.100.7']",
            &json!([{"objects": [od]}])
        ),
        json!(true)
    );
}
