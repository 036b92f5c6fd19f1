use expect_test::{expect, Expect};
use serde_json::{json, Value};

use crate::taxii::{Envelope, Status, StatusDetails, StatusState};
use crate::{validate_object, Timestamp};

/// Validates `object` and renders the outcome: the header, or one problem per line.
fn check(object: Value, expected: Expect) {
    let actual = match validate_object(&object) {
        Ok(h) => format!(
            "ok {} {} {} version={}",
            h.kind,
            h.id,
            h.spec_version,
            h.version().map_or("-", |t| t.as_str())
        ),
        Err(e) => {
            let mut out = format!("id={}\n", e.object_id().unwrap_or("-"));
            for p in e.problems() {
                out.push_str(&format!("{p}\n"));
            }
            out
        }
    };
    expected.assert_eq(&actual);
}

fn indicator() -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2016-01-01T00:00:00Z",
        "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]
    })
}

#[test]
fn a_valid_indicator_passes() {
    check(
        indicator(),
        expect!["ok indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f 2.1 version=2016-04-06T20:03:48.000Z"],
    );
}

#[test]
fn observables_need_no_timestamps_and_default_to_2_1() {
    check(
        json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}),
        expect!["ok ipv4-addr ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd 2.1 version=-"],
    );
}

#[test]
fn an_indicator_pattern_must_parse() {
    let mut o = indicator();
    o["pattern"] = json!("[ipv4-addr:value = '198.51.100.1' AND]");
    check(
        o.clone(),
        expect![[r#"
            id=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
            $.pattern: not a valid STIX pattern: expected an object path, 'EXISTS', 'NOT EXISTS' or '(', found ']' at character 37 (line 1, column 38)
        "#]],
    );
    o["pattern"] = json!("[file:hashes.MD5 = 'nope']");
    check(
        o.clone(),
        expect![[r#"
            id=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
            $.pattern: not a valid STIX pattern: "nope" is not a valid MD5 hash at character 19 (line 1, column 20)
        "#]],
    );
    // Other pattern languages are not read.
    o["pattern_type"] = json!("sigma");
    o["pattern"] = json!("title: x");
    check(
        o,
        expect!["ok indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f 2.1 version=2016-04-06T20:03:48.000Z"],
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut o = indicator();
    o["id"] = json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    o["spec_version"] = json!("2.0");
    o["modified"] = json!("2016-04-05T20:03:48Z");
    o["valid_from"] = json!("2016-01-01 00:00:00");
    o["created_by_ref"] = json!("malware--f431f809-377b-45e0-aa1c-6a4751cae5ff");
    o["object_marking_refs"] = json!(["marking-definition--nope", 7]);
    o["granular_markings"] =
        json!([{"marking_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff", "selectors": []}]);
    o["kill_chain_phases"] = json!([{"tool_ref": "tool"}]);
    o["x_vendor_ref"] = json!("");
    o["sample_refs"] = json!([]);
    o.as_object_mut().unwrap().remove("pattern");
    check(
        o,
        expect![[r#"
            id=malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
            $.id: the identifier's type "malware" is not the object's type "indicator"
            $.spec_version: "2.0" is not supported: expected "2.1"
            $.modified: 2016-04-05T20:03:48Z must give milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)
            $.valid_from: malformed timestamp "2016-01-01 00:00:00": expected YYYY-MM-DDTHH:MM:SS[.s]Z
            $.modified: 2016-04-05T20:03:48Z is earlier than created 2016-04-06T20:03:48.000Z
            $.pattern: required property of indicator is missing
            $.sample_refs: a list of references must not be empty
            $.object_marking_refs[0]: "marking-definition--nope": the identifier's UUID is not in lowercase hyphenated form
            $.object_marking_refs[1]: a reference must be an identifier string
            $.kill_chain_phases[0].tool_ref: "tool": expected an identifier of the form type--UUID
            $.granular_markings[0].marking_ref: "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff" is not a marking-definition
            $.granular_markings[0].selectors: must be a non-empty list of selector strings
            $.created_by_ref: "malware--f431f809-377b-45e0-aa1c-6a4751cae5ff" is not an identity
        "#]],
    );
}

#[test]
fn missing_common_properties_are_named() {
    check(
        json!({"type": "Bad_Type", "name": 3}),
        expect![[r#"
            id=-
            $.type: "Bad_Type" is not a STIX type name (3-250 of a-z, 0-9, -)
            $.id: required property is missing
            $.spec_version: required property is missing
            $.created: required property is missing
            $.modified: required property is missing
        "#]],
    );
    check(
        json!([1]),
        expect![[r#"
            id=-
            $: a STIX object must be a JSON object
        "#]],
    );
}

#[test]
fn marking_definitions_need_no_modified() {
    check(
        json!({
            "type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}
        }),
        expect!["ok marking-definition marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da 2.1 version=2017-01-20T00:00:00.000Z"],
    );
}

#[test]
fn uuids_must_be_lowercase_rfc4122() {
    let mut o = indicator();
    o["id"] = json!("indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F");
    assert!(validate_object(&o).is_err());
    o["id"] = json!("indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f"); // Microsoft variant
    let e = validate_object(&o).unwrap_err();
    assert_eq!(
        e.problems()[0].message,
        "\"indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f\": the identifier's UUID is not of the RFC 4122 variant"
    );
}

#[test]
fn timestamps_compare_by_instant_and_key_in_order() {
    let a = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    let b = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
    let c = Timestamp::parse("2020-01-01T00:00:00.0000001Z").unwrap();
    assert_eq!(a, b);
    assert!(c > b);
    assert_eq!(a.key(), "2020-01-01T00:00:00.000000000Z");
    assert!(c.key() > a.key());
    for bad in [
        "2020-01-01T00:00:00",
        "2020-01-01T00:00:00+01:00",
        "2020-02-30T00:00:00Z",
        "2020-01-01T00:00:00.Z",
        "2020-01-01T00:00:00.1234567891Z",
        "2020-01-01t00:00:00Z",
    ] {
        assert!(Timestamp::parse(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn taxii_shapes_omit_empty_properties() {
    let env = Envelope::default();
    assert_eq!(serde_json::to_string(&env).unwrap(), "{}");
    let status = Status {
        id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        status: StatusState::Complete,
        request_timestamp: None,
        total_count: 1,
        success_count: 1,
        successes: vec![StatusDetails {
            id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
            version: "2016-04-06T20:03:48.000Z".into(),
            message: None,
        }],
        failure_count: 0,
        failures: vec![],
        pending_count: 0,
        pendings: vec![],
    };
    expect![[r#"{"id":"2d086da7-4bdc-4f91-900e-d77486753710","status":"complete","total_count":1,"success_count":1,"successes":[{"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","version":"2016-04-06T20:03:48.000Z"}],"failure_count":0,"pending_count":0}"#]]
        .assert_eq(&serde_json::to_string(&status).unwrap());
}

#[test]
fn an_incident_needs_a_name() {
    let incident = json!({
        "type": "incident", "spec_version": "2.1",
        "id": "incident--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c",
        "created": "2025-10-06T07:00:00.000Z", "modified": "2025-10-06T07:00:00.000Z",
        "description": "A cable fault."
    });
    check(
        incident,
        expect![[r#"
            id=incident--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c
            $.name: required property of incident is missing
        "#]],
    );
}

#[test]
fn the_required_properties_cover_every_type() {
    use crate::{required_properties, META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES};
    for kind in SDO_TYPES.iter().chain(SRO_TYPES).chain(META_TYPES) {
        let required = required_properties(kind);
        for common in ["type", "spec_version", "id", "created"] {
            assert!(required.contains(&common), "{kind} {common}");
        }
        // Marking definitions never change, so they have no modified (§7.2.1).
        assert_eq!(
            required.contains(&"modified"),
            *kind != "marking-definition",
            "{kind}"
        );
    }
    for kind in SCO_TYPES {
        let required = required_properties(kind);
        assert_eq!(&required[..2], ["type", "id"], "{kind}");
        assert!(!required.contains(&"created"), "{kind}");
    }
    assert_eq!(
        required_properties("incident"),
        ["type", "spec_version", "id", "created", "modified", "name"]
    );
    assert_eq!(
        required_properties("x-custom-thing"),
        ["type", "spec_version", "id", "created", "modified"]
    );
}

#[test]
fn rules_joining_properties_are_checked() {
    let sdo = |kind: &str, extra: Value| {
        let mut o = json!({
            "type": kind, "spec_version": "2.1",
            "id": format!("{kind}--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c"),
            "created": "2025-10-06T07:00:00.000Z", "modified": "2025-10-06T07:00:00.000Z",
        });
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    check(
        sdo("malware", json!({"is_family": true})),
        expect![[r#"
            id=malware--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c
            $.name: required property of a malware family is missing
        "#]],
    );
    check(
        sdo("malware", json!({"is_family": false})),
        expect!["ok malware malware--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c 2.1 version=2025-10-06T07:00:00.000Z"],
    );
    check(
        sdo("location", json!({"latitude": 59.4, "precision": 10.0})),
        expect![[r#"
            id=location--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c
            $: a location's latitude and longitude go together
        "#]],
    );
    check(
        sdo(
            "relationship",
            json!({
                "relationship_type": "indicates",
                "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "target_ref": "relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "start_time": "2025-10-06T07:00:00Z", "stop_time": "2025-10-06T07:00:00Z",
                "granular_markings": [{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": ["description"]}]
            }),
        ),
        expect![[r#"
            id=relationship--7a1e4c2b-3d5f-4e6a-8b9c-0d1e2f3a4b5c
            $.stop_time: 2025-10-06T07:00:00Z must be later than start_time 2025-10-06T07:00:00Z
            $.target_ref: a relationship's target_ref may not name a relationship
            $.granular_markings[0].selectors[0]: "description" names nothing in the object
        "#]],
    );
    check(
        json!({"type": "process", "id": "process--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f"}),
        expect![[r#"
            id=process--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f
            $: a process needs at least one of its own properties
            $.id: a process without id-contributing properties has a UUIDv4 id
        "#]],
    );
}

#[test]
fn empty_lists_are_refused_except_in_extensions_with_their_own_schema() {
    let mut marking = json!({
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": "2017-01-20T00:00:00.000Z",
        "extensions": {"extension-definition--3c6e4f0a-8a51-4d3a-9b7e-4d1f2a0c6b11": {
            "extension_type": "property-extension", "categories": []
        }}
    });
    assert!(validate_object(&marking).is_ok());
    marking["labels"] = json!([]);
    check(
        marking,
        expect![[r#"
            id=marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da
            $.labels: a list must not be empty
        "#]],
    );
}
