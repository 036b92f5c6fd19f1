//! Validation of one STIX 2.1 object on ingest.

use serde_json::{Map, Value};

use crate::error::{Problem, StixError};
use crate::spec::{self, is_sco_type, required_properties};
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
        Ok(u) if ok && u.get_variant() != uuid::Variant::RFC4122 => {
            Err("the identifier's UUID is not of the RFC 4122 variant")
        }
        // RFC 4122 defines versions 1 to 5.
        Ok(u) if ok && !(1..=5).contains(&u.get_version_num()) => {
            Err("the identifier's UUID is not of an RFC 4122 version (1 to 5)")
        }
        Ok(_) if ok => Ok((kind, uuid)),
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
    let table_kind = kind.as_deref().unwrap_or_default();
    let mut stamps: Vec<(&str, Timestamp)> = Vec::new();
    let keys = TIMESTAMP_PROPERTIES
        .iter()
        .chain(spec::timestamp_properties(table_kind));
    for key in keys {
        let Some(v) = obj.get(*key) else { continue };
        let path = || format!("$.{key}");
        match v.as_str().map(Timestamp::parse) {
            None => problems.push(Problem::new(path(), "must be a timestamp string")),
            Some(Err(e)) => problems.push(Problem::new(path(), e.to_string())),
            Some(Ok(t)) => {
                // STIX 2.1 §3.2: created and modified are precise to the millisecond.
                if matches!(*key, "created" | "modified") && fraction_digits(t.as_str()) < 3 {
                    problems.push(Problem::new(
                        path(),
                        format!("{t} must give milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)"),
                    ));
                }
                stamps.push((key, t));
            }
        }
    }
    let stamp = |key: &str| stamps.iter().find(|(k, _)| *k == key).map(|(_, t)| t);
    let created = stamp("created").cloned();
    let modified = stamp("modified").cloned();
    if let (Some(c), Some(m)) = (&created, &modified) {
        if m < c {
            problems.push(Problem::new(
                "$.modified",
                format!("{m} is earlier than created {c}"),
            ));
        }
    }
    for (later, earlier, strictly) in spec::ordered_timestamps(table_kind) {
        if let (Some(l), Some(e)) = (stamp(later), stamp(earlier)) {
            if l < e || (*strictly && l == e) {
                let relation = if *strictly {
                    "later than"
                } else {
                    "at or after"
                };
                problems.push(Problem::new(
                    format!("$.{later}"),
                    format!("{l} must be {relation} {earlier} {e}"),
                ));
            }
        }
    }
    for key in required_properties(table_kind) {
        // The type, id and spec_version were checked above.
        if matches!(*key, "type" | "id" | "spec_version") || obj.contains_key(*key) {
            continue;
        }
        let message = match *key {
            "created" | "modified" => "required property is missing".to_owned(),
            _ => format!("required property of {table_kind} is missing"),
        };
        problems.push(Problem::new(format!("$.{key}"), message));
    }
    if kind.is_some() {
        spec::check_conditions(table_kind, obj, &mut problems);
        spec::check_reference_targets(table_kind, obj, &mut problems);
    }
    if let Some(Ok((_, uuid))) = id.as_deref().map(split_identifier) {
        if spec::needs_random_id(table_kind, obj) && uuid.as_bytes()[14] != b'4' {
            problems.push(Problem::new(
                "$.id",
                format!("a {table_kind} without id-contributing properties has a UUIDv4 id"),
            ));
        }
    }
    check_references(obj, "$", &mut problems);
    check_marking_refs(obj, &mut problems);
    if kind.as_deref() == Some("indicator") {
        check_stix_pattern(obj, &mut problems);
    }

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

/// The number of fractional digits of a parsed timestamp's seconds.
fn fraction_digits(text: &str) -> usize {
    text.split_once('.')
        .map_or(0, |(_, f)| f.len().saturating_sub(1))
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
        } else if value.as_array().is_some_and(Vec::is_empty) {
            // STIX allows no empty list (§3.3); a granular marking's selectors are checked with
            // the marking, and the properties of an extension defined by an extension definition
            // follow that definition's schema (the labels' own extension has empty lists).
            if key != "selectors" && !path.contains(".extensions.extension-definition--") {
                problems.push(Problem::new(here(), "a list must not be empty"));
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

/// Whether a granular marking's selector (`name`, `aliases.[1]`, `kill_chain_phases.[0].phase_name`)
/// names a property or list item present in the object (STIX 2.1 §7.2.3.1).
fn selects_something(obj: &Map<String, Value>, selector: &str) -> bool {
    let mut steps = selector.split('.');
    let Some(mut here) = steps.next().and_then(|first| obj.get(first)) else {
        return false;
    };
    for step in steps {
        let index = step
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .map(str::parse::<usize>);
        let next = match (index, here) {
            (Some(Ok(i)), Value::Array(list)) => list.get(i),
            (None, Value::Object(map)) => map.get(step),
            _ => None,
        };
        match next {
            Some(v) => here = v,
            None => return false,
        }
    }
    true
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
                Some(s) if !s.is_empty() && s.iter().all(Value::is_string) => {
                    for (j, selector) in s.iter().filter_map(Value::as_str).enumerate() {
                        if !selects_something(obj, selector) {
                            problems.push(Problem::new(
                                format!("{at}.selectors[{j}]"),
                                format!("{selector:?} names nothing in the object"),
                            ));
                        }
                    }
                }
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

/// An indicator whose `pattern_type` is `stix` must carry a STIX 2.1 pattern that parses (the
/// OASIS validator's acceptance); the problem gives the position and the reason.
fn check_stix_pattern(obj: &Map<String, Value>, problems: &mut Vec<Problem>) {
    if obj.get("pattern_type").and_then(Value::as_str) != Some("stix") {
        return;
    }
    match obj.get("pattern") {
        Some(Value::String(text)) => {
            if let Err(e) = entente_pattern::Pattern::parse(text) {
                problems.push(Problem::new(
                    "$.pattern",
                    format!("not a valid STIX pattern: {e}"),
                ));
            }
        }
        Some(_) => problems.push(Problem::new("$.pattern", "must be a string")),
        None => {} // reported as a missing required property
    }
}
