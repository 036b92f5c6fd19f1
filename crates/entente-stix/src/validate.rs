//! Validation of one STIX 2.1 object on ingest.

use serde_json::{Map, Value};

use crate::error::{Problem, StixError};
use crate::timestamp::Timestamp;

/// What the store needs to know about a valid object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeader {
    pub id: String,
    pub kind: String,
    /// "2.1" (also for cyber-observables that omit it).
    pub spec_version: String,
    pub created: Option<Timestamp>,
    pub modified: Option<Timestamp>,
}

impl ObjectHeader {
    /// The TAXII version of the object: `modified`, else `created`; `None` for objects that have
    /// neither (cyber-observables), whose version is the time they were added.
    pub fn version(&self) -> Option<&Timestamp> {
        self.modified.as_ref().or(self.created.as_ref())
    }
}

/// The cyber-observable types of STIX 2.1: no `created`/`modified`, optional `spec_version`.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Whether `kind` is a STIX 2.1 cyber-observable type.
pub fn is_sco_type(kind: &str) -> bool {
    SCO_TYPES.contains(&kind)
}

/// Properties named by the specification whose values are timestamps.
const TIMESTAMP_PROPERTIES: &[&str] = &[
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
    "start_time",
    "stop_time",
];

/// Required properties beyond the common ones, for the types whose meaning depends on them.
fn required_properties(kind: &str) -> &'static [&'static str] {
    match kind {
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "infrastructure"
        | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => &["name"],
        "malware-analysis" => &["product"],
        "grouping" => &["context", "object_refs"],
        "indicator" => &["pattern", "pattern_type", "valid_from"],
        "malware" => &["is_family"],
        "note" => &["content", "object_refs"],
        "observed-data" => &["first_observed", "last_observed", "number_observed"],
        "opinion" => &["opinion", "object_refs"],
        "report" => &["name", "published", "object_refs"],
        "relationship" => &["relationship_type", "source_ref", "target_ref"],
        "sighting" => &["sighting_of_ref"],
        _ => &[],
    }
}

/// A STIX type name: 3 to 250 characters of lowercase ASCII letters, digits and hyphens, starting
/// and ending with a letter or digit, no doubled hyphen.
fn is_type_name(text: &str) -> bool {
    let b = text.as_bytes();
    (3..=250).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !text.contains("--")
}

/// Whether `text` is a STIX identifier `type--uuid` (RFC 4122 variant).
pub fn is_identifier(text: &str) -> bool {
    split_identifier(text).is_ok()
}

fn split_identifier(text: &str) -> Result<(&str, &str), &'static str> {
    let Some((kind, uuid)) = text.split_once("--") else {
        return Err("expected an identifier of the form type--UUID");
    };
    if !is_type_name(kind) {
        return Err("the identifier's type part is not a STIX type name");
    }
    // Hyphenated lowercase form only: STIX ids are compared as text.
    let ok = uuid.len() == 36
        && uuid
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c) || c == b'-');
    match uuid::Uuid::try_parse(uuid) {
        Ok(u) if ok && u.get_variant() == uuid::Variant::RFC4122 => Ok((kind, uuid)),
        Ok(_) if ok => Err("the identifier's UUID is not of the RFC 4122 variant"),
        _ => Err("the identifier's UUID is not in lowercase hyphenated form"),
    }
}

/// Validates one STIX 2.1 object, reporting every problem with its JSON path.
pub fn validate_object(value: &Value) -> Result<ObjectHeader, StixError> {
    let Some(obj) = value.as_object() else {
        return Err(StixError::invalid(
            None,
            vec![Problem::new("$", "a STIX object must be a JSON object")],
        ));
    };
    let mut problems = Vec::new();
    let text = |key: &str, problems: &mut Vec<Problem>| -> Option<String> {
        match obj.get(key) {
            None => {
                problems.push(Problem::new(
                    format!("$.{key}"),
                    "required property is missing",
                ));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                problems.push(Problem::new(format!("$.{key}"), "must be a string"));
                None
            }
        }
    };

    let kind = text("type", &mut problems);
    if let Some(k) = &kind {
        if !is_type_name(k) {
            problems.push(Problem::new(
                "$.type",
                format!("{k:?} is not a STIX type name (3-250 of a-z, 0-9, -)"),
            ));
        }
    }
    let id = text("id", &mut problems);
    if let Some(i) = &id {
        match split_identifier(i) {
            Ok((id_kind, _)) => {
                if let Some(k) = &kind {
                    if id_kind != k {
                        problems.push(Problem::new(
                            "$.id",
                            format!(
                                "the identifier's type {id_kind:?} is not the object's type {k:?}"
                            ),
                        ));
                    }
                }
            }
            Err(reason) => problems.push(Problem::new("$.id", format!("{i:?}: {reason}"))),
        }
    }
    let sco = kind.as_deref().is_some_and(is_sco_type);
    let spec_version = if sco {
        match obj.get("spec_version") {
            None => Some("2.1".to_owned()),
            Some(_) => text("spec_version", &mut problems),
        }
    } else {
        text("spec_version", &mut problems)
    };
    if let Some(v) = &spec_version {
        if v != "2.1" {
            problems.push(Problem::new(
                "$.spec_version",
                format!("{v:?} is not supported: expected \"2.1\""),
            ));
        }
    }

    // Timestamps: every known timestamp property, wherever it is required or present.
    let mut created = None;
    let mut modified = None;
    for key in TIMESTAMP_PROPERTIES {
        let Some(v) = obj.get(*key) else { continue };
        let path = || format!("$.{key}");
        match v.as_str().map(Timestamp::parse) {
            None => problems.push(Problem::new(path(), "must be a timestamp string")),
            Some(Err(e)) => problems.push(Problem::new(path(), e.to_string())),
            Some(Ok(t)) => match *key {
                "created" => created = Some(t),
                "modified" => modified = Some(t),
                _ => {}
            },
        }
    }
    if !sco {
        if !obj.contains_key("created") {
            problems.push(Problem::new("$.created", "required property is missing"));
        }
        let needs_modified = kind.as_deref() != Some("marking-definition");
        if needs_modified && !obj.contains_key("modified") {
            problems.push(Problem::new("$.modified", "required property is missing"));
        }
    }
    if let (Some(c), Some(m)) = (&created, &modified) {
        if m < c {
            problems.push(Problem::new(
                "$.modified",
                format!("{m} is earlier than created {c}"),
            ));
        }
    }
    if let Some(k) = &kind {
        for key in required_properties(k) {
            if !obj.contains_key(*key) {
                problems.push(Problem::new(
                    format!("$.{key}"),
                    format!("required property of {k} is missing"),
                ));
            }
        }
    }
    check_references(obj, "$", &mut problems);
    check_marking_refs(obj, &mut problems);

    if !problems.is_empty() {
        // Only an id that is itself well-formed is echoed back.
        let id = id.filter(|i| is_identifier(i));
        return Err(StixError::invalid(id, problems));
    }
    match (id, kind, spec_version) {
        (Some(id), Some(kind), Some(spec_version)) => Ok(ObjectHeader {
            id,
            kind,
            spec_version,
            created,
            modified,
        }),
        // Unreachable: a missing one was reported above.
        (id, _, _) => Err(StixError::invalid(
            id,
            vec![Problem::new("$", "required property is missing")],
        )),
    }
}

/// `*_ref` must be an identifier and `*_refs` a non-empty list of identifiers, at any depth.
/// Custom properties (`x_…`) follow their producer's rules, not these: real corpora carry
/// e.g. `"x_mitre_data_source_ref": ""`.
fn check_references(obj: &Map<String, Value>, path: &str, problems: &mut Vec<Problem>) {
    for (key, value) in obj {
        // The path of a property, written only for a problem or a nested value.
        let here = || format!("{path}.{key}");
        if key.starts_with("x_") {
            continue;
        }
        if key.ends_with("_ref") {
            match value.as_str() {
                Some(s) => {
                    if let Err(reason) = split_identifier(s) {
                        problems.push(Problem::new(here(), format!("{s:?}: {reason}")));
                    }
                }
                None => problems.push(Problem::new(
                    here(),
                    "a reference must be an identifier string",
                )),
            }
        } else if key.ends_with("_refs") {
            match value.as_array() {
                Some(list) if list.is_empty() => problems.push(Problem::new(
                    here(),
                    "a list of references must not be empty",
                )),
                Some(list) => {
                    for (i, item) in list.iter().enumerate() {
                        let at = || format!("{}[{i}]", here());
                        match item.as_str() {
                            Some(s) => {
                                if let Err(reason) = split_identifier(s) {
                                    problems.push(Problem::new(at(), format!("{s:?}: {reason}")));
                                }
                            }
                            None => problems.push(Problem::new(
                                at(),
                                "a reference must be an identifier string",
                            )),
                        }
                    }
                }
                None => problems.push(Problem::new(here(), "must be a list of identifiers")),
            }
        } else if nested(value) {
            descend(value, &here(), problems);
        }
    }
}

/// Whether a value holds properties to check (scalars hold none).
fn nested(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

fn descend(value: &Value, path: &str, problems: &mut Vec<Problem>) {
    match value {
        Value::Object(o) => check_references(o, path, problems),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if nested(item) {
                    descend(item, &format!("{path}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

/// Marking references must name marking definitions, and `created_by_ref` an identity.
fn check_marking_refs(obj: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let expect = |text: &str, kind: &str| split_identifier(text).map_or(true, |(k, _)| k == kind);
    if let Some(list) = obj.get("object_marking_refs").and_then(Value::as_array) {
        for (i, r) in list.iter().enumerate() {
            if let Some(s) = r.as_str() {
                if !expect(s, "marking-definition") {
                    problems.push(Problem::new(
                        format!("$.object_marking_refs[{i}]"),
                        format!("{s:?} is not a marking-definition"),
                    ));
                }
            }
        }
    }
    if let Some(list) = obj.get("granular_markings").and_then(Value::as_array) {
        for (i, g) in list.iter().enumerate() {
            let at = format!("$.granular_markings[{i}]");
            let Some(g) = g.as_object() else {
                problems.push(Problem::new(at, "a granular marking must be an object"));
                continue;
            };
            match g.get("marking_ref").and_then(Value::as_str) {
                Some(s) if !expect(s, "marking-definition") => problems.push(Problem::new(
                    format!("{at}.marking_ref"),
                    format!("{s:?} is not a marking-definition"),
                )),
                Some(_) => {}
                None if g.contains_key("lang") => {}
                None => problems.push(Problem::new(
                    format!("{at}.marking_ref"),
                    "a granular marking needs marking_ref or lang",
                )),
            }
            match g.get("selectors").and_then(Value::as_array) {
                Some(s) if !s.is_empty() && s.iter().all(Value::is_string) => {}
                _ => problems.push(Problem::new(
                    format!("{at}.selectors"),
                    "must be a non-empty list of selector strings",
                )),
            }
        }
    }
    if let Some(s) = obj.get("created_by_ref").and_then(Value::as_str) {
        if !expect(s, "identity") {
            problems.push(Problem::new(
                "$.created_by_ref",
                format!("{s:?} is not an identity"),
            ));
        }
    }
}
