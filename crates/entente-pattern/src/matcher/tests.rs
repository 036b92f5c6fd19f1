//! Unit tests of the matcher: each operator and qualifier, references, and where stix2-matcher raises.

use serde_json::{json, Value as Json};

use crate::{observations_from_objects, MatchError, Observation, Pattern};

/// An observed-data at `first`..`last` (seconds after 2020-01-01T00:00:00Z), `n` times, with objects.
fn observed(id: u32, first: u32, last: u32, n: u32, objects: &[Json]) -> Vec<Json> {
    let stamp = |s: u32| {
        format!(
            "2020-01-01T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let mut all = vec![json!({
        "type": "observed-data", "id": format!("observed-data--{id}"),
        "first_observed": stamp(first), "last_observed": stamp(last), "number_observed": n,
        "object_refs": objects.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
    })];
    all.extend(objects.iter().cloned());
    all
}

fn matches(pattern: &str, objects: &[Json]) -> Result<bool, MatchError> {
    let observations = observations_from_objects(objects)?;
    Pattern::parse(pattern).unwrap().matches(&observations)
}

#[track_caller]
fn check(pattern: &str, objects: &[Json], expected: bool) {
    assert_eq!(matches(pattern, objects), Ok(expected), "{pattern}");
}

fn ip(id: &str, value: &str) -> Json {
    json!({"type": "ipv4-addr", "id": id, "value": value})
}

fn one(objects: &[Json]) -> Vec<Json> {
    observed(1, 0, 0, 1, objects)
}

#[test]
fn equality_and_order() {
    let data = one(&[
        json!({"type": "x", "id": "x--1", "n": 5, "f": 2.5, "s": "abc", "b": true, "t": "2020-01-01T00:00:00Z"}),
    ]);
    check("[x:n = 5]", &data, true);
    check("[x:n = 5.0]", &data, true);
    check("[x:n != 5]", &data, false);
    check("[x:n NOT = 5]", &data, false);
    check("[x:n = '5']", &data, false);
    check("[x:n != '5']", &data, true);
    check("[x:f > 2]", &data, true);
    check("[x:f <= 2.5]", &data, true);
    check("[x:s < 'abd']", &data, true);
    check("[x:s >= 'abd']", &data, false);
    // Types that do not order are false, NOT or not.
    check("[x:s > 5]", &data, false);
    check("[x:s NOT > 5]", &data, false);
    check("[x:b = true]", &data, true);
    check("[x:b = 1]", &data, false);
    check("[x:t = t'2020-01-01T00:00:00Z']", &data, true);
    check("[x:t < t'2020-01-01T00:00:01Z']", &data, true);
    check("[x:missing != 1]", &data, false);
}

#[test]
fn set_membership_follows_python() {
    let data = one(&[json!({"type": "x", "id": "x--1", "b": true, "n": 2})]);
    check("[x:b IN (1, 2)]", &data, true);
    check("[x:n IN (1.0, 2.0)]", &data, true);
    check("[x:n NOT IN (1, 3)]", &data, true);
    check("[x:n IN ()]", &data, false);
    assert!(matches!(
        matches("[x:n IN (1, 'a')]", &data),
        Err(MatchError::Pattern(_))
    ));
}

#[test]
fn like_matches_issubset_issuperset() {
    let data = one(&[
        ip("ipv4-addr--1", "198.51.100.7"),
        json!({"type": "x", "id": "x--1", "s": "Setup12.exe"}),
    ]);
    check("[x:s LIKE 'Setup__.exe']", &data, true);
    check("[x:s LIKE 'setup%']", &data, false);
    check("[x:s NOT LIKE 'Setup%']", &data, false);
    check("[x:s MATCHES '^Setup[0-9]+\\\\.exe$']", &data, true);
    check("[x:s MATCHES 'up1']", &data, true);
    check("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", &data, true);
    check("[ipv4-addr:value ISSUBSET '198.51.101.0/24']", &data, false);
    let block = one(&[ip("ipv4-addr--1", "198.51.100.0/24")]);
    check("[ipv4-addr:value ISSUPERSET '198.51.100.7']", &block, true);
    // stix2-matcher raises on what it cannot read as an address.
    let bad = one(&[ip("ipv4-addr--1", "not an address")]);
    assert!(matches!(
        matches("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", &bad),
        Err(MatchError::Value { .. })
    ));
}

#[test]
fn binary_values_compare_with_strings() {
    let data = one(&[
        json!({"type": "artifact", "id": "artifact--1", "payload_bin": "QUJD", "x_hex": "414243"}),
    ]);
    check("[artifact:payload_bin = 'ABC']", &data, true);
    check("[artifact:x_hex = b'QUJD']", &data, true);
    check("[artifact:x_hex = h'414243']", &data, true);
    check("[artifact:payload_bin LIKE 'AB_']", &data, true);
    check("[artifact:payload_bin MATCHES '^AB']", &data, true);
    check("[artifact:x_hex IN ('ABC')]", &data, false);
}

#[test]
fn paths_follow_references_and_indexes() {
    let objects = [
        json!({"type": "email-message", "id": "email-message--1", "from_ref": "email-addr--1",
               "to_refs": ["email-addr--2", "email-addr--missing", "email-addr--3"], "list": [1, [2, 3]]}),
        json!({"type": "email-addr", "id": "email-addr--1", "value": "a@example.com"}),
        json!({"type": "email-addr", "id": "email-addr--2", "value": "b@example.com"}),
        json!({"type": "email-addr", "id": "email-addr--3", "value": "c@example.com"}),
    ];
    let data = one(&objects);
    check(
        "[email-message:from_ref.value = 'a@example.com']",
        &data,
        true,
    );
    check(
        "[email-message:to_refs[*].value = 'c@example.com']",
        &data,
        true,
    );
    // Indexes count the references that resolved.
    check(
        "[email-message:to_refs[1].value = 'c@example.com']",
        &data,
        true,
    );
    check(
        "[email-message:to_refs.value = 'b@example.com']",
        &data,
        false,
    );
    check("[email-message:list[1][0] = 2]", &data, true);
    check("[email-message:list[-1] = 1]", &data, false);
    check("[email-message:list[*][*] = 3]", &data, true);
    // One root for all comparisons joined by AND.
    check(
        "[email-message:from_ref.value = 'a@example.com' AND email-addr:value = 'a@example.com']",
        &data,
        false,
    );
    check(
        "[email-message:from_ref.value = 'x' OR email-addr:value = 'a@example.com']",
        &data,
        true,
    );
    // Domain object types never match.
    check("[observed-data:number_observed = 1]", &data, false);
}

#[test]
fn exists_holds_where_the_path_reaches_a_value() {
    let data = one(&[json!({"type": "x", "id": "x--1", "a": 1})]);
    check("[EXISTS x:a]", &data, true);
    check("[EXISTS x:b]", &data, false);
    check("[NOT EXISTS x:b]", &data, true);
    check("[EXISTS x:a AND x:a = 1]", &data, true);
}

#[test]
fn observation_operators_bind_distinct_observations() {
    let mut data = observed(1, 0, 10, 1, &[ip("ipv4-addr--1", "1.1.1.1")]);
    data.extend(observed(2, 20, 30, 1, &[ip("ipv4-addr--2", "2.2.2.2")]));
    let a = "[ipv4-addr:value = '1.1.1.1']";
    let b = "[ipv4-addr:value = '2.2.2.2']";
    check(&format!("{a} AND {b}"), &data, true);
    check(&format!("{a} AND {a}"), &data, false);
    check(
        &format!("{a} OR [ipv4-addr:value = '9.9.9.9']"),
        &data,
        true,
    );
    check(&format!("{a} FOLLOWEDBY {b}"), &data, true);
    check(&format!("{b} FOLLOWEDBY {a}"), &data, false);
    check(&format!("({a} AND {b}) WITHIN 10 SECONDS"), &data, true);
    check(&format!("({a} AND {b}) WITHIN 9 SECONDS"), &data, false);
    check(&format!("{a} REPEATS 2 TIMES"), &data, false);
    check(
        &format!("{a} START t'2020-01-01T00:00:10Z' STOP t'2020-01-01T00:00:20Z'"),
        &data,
        true,
    );
    check(
        &format!("{b} START t'2020-01-01T00:00:10Z' STOP t'2020-01-01T00:00:20Z'"),
        &data,
        false,
    );
    check(
        &format!("{a} START t'2020-01-01T00:00:10Z' STOP t'2020-01-01T00:00:10Z'"),
        &data,
        false,
    );
}

#[test]
fn number_observed_counts_as_separate_observations() {
    let data = observed(1, 0, 0, 3, &[ip("ipv4-addr--1", "1.1.1.1")]);
    let a = "[ipv4-addr:value = '1.1.1.1']";
    check(&format!("{a} REPEATS 3 TIMES"), &data, true);
    check(&format!("{a} REPEATS 4 TIMES"), &data, false);
    check(&format!("{a} AND {a} AND {a}"), &data, true);
    check(&format!("({a} AND {a}) REPEATS 2 TIMES"), &data, false);
}

#[test]
fn patterns_stix2_matcher_cannot_evaluate_are_refused() {
    for pattern in [
        "[x:a = 1] REPEATS 0 TIMES",
        "[x:a = 1] WITHIN 0 SECONDS",
        "[x:a = t'2020-02-30T00:00:00Z']",
        "[x:a MATCHES '(']",
    ] {
        assert!(
            matches!(
                Pattern::parse(pattern).unwrap().matcher(),
                Err(MatchError::Pattern(_))
            ),
            "{pattern}"
        );
    }
}

#[test]
fn values_stix2_matcher_raises_on_raise_even_when_not_needed() {
    let data = one(&[json!({"type": "x", "id": "x--1", "t": "yesterday", "ok": 1})]);
    assert!(matches("[x:ok = 1 OR x:t = t'2020-01-01T00:00:00Z']", &data).is_err());
    let data = one(&[json!({"type": "x", "id": "x--1", "a_ref": 5, "ok": 1})]);
    assert!(matches("[x:ok = 1 OR x:a_ref.v = 1]", &data).is_err());
    assert_eq!(matches("[x:ok = 1]", &data), Ok(true));
}

#[test]
fn single_objects_and_the_objects_dictionary() {
    let sco = ip("ipv4-addr--1", "198.51.100.7");
    let observation = Observation::from_sco(&sco, None).unwrap();
    let pattern = Pattern::parse("[ipv4-addr:value = '198.51.100.7']").unwrap();
    assert_eq!(pattern.matches(&[observation]), Ok(true));
    // STIX 2.0's `objects` dictionary, its keys being the references.
    let od = json!({"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
        "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1,
        "objects": {"0": {"type": "network-traffic", "src_ref": "1"}, "1": {"type": "ipv4-addr", "value": "10.0.0.1"}}});
    let observation = Observation::from_observed_data(&od, &|_| None).unwrap();
    let pattern = Pattern::parse("[network-traffic:src_ref.value = '10.0.0.1']").unwrap();
    assert_eq!(pattern.matches(&[observation]), Ok(true));
}
