//! STIX patterns (`entente-pattern`): any text is refused or parses to a pattern whose canonical
//! text parses back to an equal pattern (and to the same text); whatever compiles for matching is
//! matched against a small fixed set of observations without panicking.
#![no_main]

use std::sync::OnceLock;

use entente_pattern::{observations_from_objects, Observation, Pattern};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// Two observed-data with addresses, a file (hashes, binary payload), traffic with references.
fn observations() -> &'static [Observation] {
    static OBSERVATIONS: OnceLock<Vec<Observation>> = OnceLock::new();
    OBSERVATIONS.get_or_init(|| {
        let objects = [
            json!({"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
                   "last_observed": "2020-01-01T00:00:10Z", "number_observed": 2,
                   "object_refs": ["ipv4-addr--1", "ipv4-addr--2", "network-traffic--1", "file--1"]}),
            json!({"type": "observed-data", "id": "observed-data--2", "first_observed": "2020-01-01T00:01:00Z",
                   "last_observed": "2020-01-01T00:01:00Z", "number_observed": 1,
                   "object_refs": ["domain-name--1", "ipv4-addr--1"]}),
            json!({"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"}),
            json!({"type": "ipv4-addr", "id": "ipv4-addr--2", "value": "10.0.0.0/8"}),
            json!({"type": "network-traffic", "id": "network-traffic--1", "src_ref": "ipv4-addr--1",
                   "dst_ref": "ipv4-addr--2", "protocols": ["tcp", "http"], "dst_port": 443}),
            json!({"type": "file", "id": "file--1", "name": "Setup12.exe", "size": 2048, "payload_bin": "QUJD",
                   "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}, "ctime": "2020-01-01T00:00:00Z"}),
            json!({"type": "domain-name", "id": "domain-name--1", "value": "example.com",
                   "resolves_to_refs": ["ipv4-addr--1", "ipv4-addr--9"]}),
        ];
        observations_from_objects(&objects).expect("the fixed observations read")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    let canonical = pattern.to_string();
    match Pattern::parse(&canonical) {
        Ok(again) => {
            assert_eq!(again, pattern, "{text:?} printed as {canonical:?} reads back differently");
            assert_eq!(again.to_string(), canonical, "the canonical text of {text:?} is not stable");
        }
        Err(e) => panic!("{text:?} printed as {canonical:?}, which does not parse: {e}"),
    }
    if let Ok(matcher) = pattern.matcher() {
        let _ = matcher.matches(observations());
    }
});
