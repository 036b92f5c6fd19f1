//! The benchmark corpus: realistic labelled STIX 2.1 objects, generated deterministically.
//!
//! The first envelope carries the marking definitions of the shipped example
//! (`examples/report-bundle.json`); then come indicators under an object label
//! and, one object in ten, reports with an object label and granular markings on their
//! description, one external reference and one object reference (tear-lined for some readers).
//!
//! The label extension definition is left out: medallion 3.0.0 takes its `version` property
//! ("1.0.0") for an object version and fails every later read of the collection with a 500, so
//! the corpus holds only what both servers can serve.

use std::fmt::Write;

/// The example bundle whose extension and marking definitions label the corpus.
const EXAMPLE: &str = include_str!("../../../examples/report-bundle.json");

/// NATO SECRET//REL TO FRA, GBR, JPN, USA.
const OBJECT_LABEL: &str = "marking-definition--73f80355-7d34-480b-bbe3-7a7d63ea15d2";
/// NATO SECRET//REL TO FRA, GBR, USA.
const DESCRIPTION_LABEL: &str = "marking-definition--8fa8f30e-8d0b-48cc-b675-48f2822e0c57";
/// NATO SECRET//REL TO FRA, GBR.
const LIAISON_LABEL: &str = "marking-definition--5a76f05b-f556-4054-a469-e8f484e23285";

/// The marking definitions every labelled object of the corpus refers to.
pub fn definitions() -> anyhow::Result<Vec<serde_json::Value>> {
    let bundle: serde_json::Value = serde_json::from_str(EXAMPLE)?;
    let objects = bundle["objects"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("examples/report-bundle.json: no \"objects\" list"))?;
    let wanted: Vec<serde_json::Value> = objects
        .iter()
        .filter(|o| o["type"] == "marking-definition")
        .cloned()
        .collect();
    for id in [OBJECT_LABEL, DESCRIPTION_LABEL, LIAISON_LABEL] {
        if !wanted.iter().any(|o| o["id"] == id) {
            anyhow::bail!("examples/report-bundle.json: marking definition {id} is missing");
        }
    }
    Ok(wanted)
}

/// The envelope of the definitions.
pub fn definitions_envelope() -> anyhow::Result<String> {
    Ok(serde_json::json!({ "objects": definitions()? }).to_string())
}

/// A lowercase RFC 4122 (version 4, variant 1) UUID that encodes `n`.
fn uuid(n: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (n >> 32) as u32 ^ 0x5eed_0000,
        (n >> 16) & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        n
    )
}

/// The id of the `n`th object of the corpus.
pub fn object_id(n: u64) -> String {
    if n % 10 == 9 {
        format!("report--{}", uuid(n))
    } else {
        format!("indicator--{}", uuid(n))
    }
}

/// Appends the `n`th object of the corpus, as JSON, to `out`.
pub fn write_object(out: &mut String, n: u64) {
    let id = object_id(n);
    let (a, b, c) = ((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    // `write!` into a String cannot fail.
    let _ = if n % 10 == 9 {
        write!(
            out,
            r#"{{"type":"report","spec_version":"2.1","id":"{id}","created":"2024-08-01T09:00:00.000Z","modified":"2024-08-01T09:00:00.000Z","name":"Air activity summary {n}","published":"2024-08-01T09:00:00.000Z","report_types":["threat-report"],"description":"Two aircraft without transponders flew west of Kaliningrad (track {n}).","object_refs":["{}","{}"],"external_references":[{{"source_name":"open-source","description":"Public flight-tracking data"}},{{"source_name":"liaison","description":"Reported through the liaison cell"}}],"object_marking_refs":["{OBJECT_LABEL}"],"granular_markings":[{{"marking_ref":"{DESCRIPTION_LABEL}","selectors":["description"]}},{{"marking_ref":"{LIAISON_LABEL}","selectors":["external_references.[1]","object_refs.[1]"]}}]}}"#,
            object_id(n.saturating_sub(1)),
            object_id(n.saturating_sub(2)),
        )
    } else {
        write!(
            out,
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2024-08-01T09:00:00.000Z","modified":"2024-08-01T09:00:00.000Z","name":"Command and control address {n}","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.{a}.{b}.{c}']","pattern_type":"stix","valid_from":"2024-08-01T09:00:00Z","object_marking_refs":["{OBJECT_LABEL}"]}}"#
        )
    };
}

/// The TAXII envelope of objects `from..to`.
pub fn envelope(from: u64, to: u64) -> String {
    let mut out = String::with_capacity(((to - from) as usize) * 720 + 16);
    out.push_str(r#"{"objects":["#);
    for n in from..to {
        if n > from {
            out.push(',');
        }
        write_object(&mut out, n);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_object_is_valid_stix_with_a_distinct_id() {
        let env: serde_json::Value = serde_json::from_str(&envelope(0, 40)).unwrap();
        let objects = env["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 40);
        let mut ids = std::collections::HashSet::new();
        for o in objects {
            let header = entente_stix::validate_object(o).unwrap_or_else(|e| panic!("{e}: {o}"));
            assert!(ids.insert(header.id.clone()), "duplicate {}", header.id);
        }
        assert_eq!(objects.iter().filter(|o| o["type"] == "report").count(), 4);
        assert_eq!(
            objects[9]["granular_markings"][1]["selectors"][1],
            "object_refs.[1]"
        );
    }

    #[test]
    fn ids_stay_distinct_and_well_formed_across_the_range() {
        for n in [0, 1, 4095, 4096, 65_535, 65_536, 999_999, 1 << 33] {
            let id = object_id(n);
            assert!(entente_stix::is_identifier(&id), "{id}");
        }
        assert_ne!(object_id(4096), object_id(0));
        assert_ne!(object_id(1 << 32), object_id(0));
    }

    #[test]
    fn definitions_are_the_examples_markings() {
        let defs = definitions().unwrap();
        assert_eq!(defs.len(), 3);
        for d in &defs {
            entente_stix::validate_object(d).unwrap();
        }
    }
}
