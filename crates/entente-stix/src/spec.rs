//! What the STIX 2.1 specification requires of each object type: the one table of required
//! properties, the type-specific timestamps and their order, the rules that join several
//! properties, and the types a reference may name.

use serde_json::{Map, Value};

use crate::error::Problem;

/// The domain object types of STIX 2.1 (§4).
pub const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The relationship object types of STIX 2.1 (§5).
pub const SRO_TYPES: &[&str] = &["relationship", "sighting"];

/// The cyber-observable types of STIX 2.1 (§6): no `created`/`modified`, optional `spec_version`.
pub const SCO_TYPES: &[&str] = &[
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

/// The meta object types of STIX 2.1 (§7).
pub const META_TYPES: &[&str] = &[
    "extension-definition",
    "language-content",
    "marking-definition",
];

/// Whether `kind` is a STIX 2.1 cyber-observable type.
pub fn is_sco_type(kind: &str) -> bool {
    SCO_TYPES.contains(&kind)
}

/// Every property an object of type `kind` must carry (STIX 2.1 §3.2 for the common ones, then each
/// type's section). A type the specification does not define (a custom object, §11.2) needs the
/// common properties of a domain object. Properties required only in some cases (a malware
/// family's `name`, a location's `region` or `country` or coordinates…) are checked by
/// [`crate::validate_object`], not listed here.
pub fn required_properties(kind: &str) -> &'static [&'static str] {
    match kind {
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "incident"
        | "infrastructure" | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => {
            &["type", "spec_version", "id", "created", "modified", "name"]
        }
        "grouping" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "context",
            "object_refs",
        ],
        "indicator" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "pattern",
            "pattern_type",
            "valid_from",
        ],
        "malware" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "is_family",
        ],
        "malware-analysis" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "product",
        ],
        "note" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "content",
            "object_refs",
        ],
        "observed-data" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "first_observed",
            "last_observed",
            "number_observed",
        ],
        "opinion" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "opinion",
            "object_refs",
        ],
        "report" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "name",
            "published",
            "object_refs",
        ],
        "relationship" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "relationship_type",
            "source_ref",
            "target_ref",
        ],
        "sighting" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "sighting_of_ref",
        ],
        "autonomous-system" => &["type", "id", "number"],
        "directory" => &["type", "id", "path"],
        "domain-name" | "email-addr" | "ipv4-addr" | "ipv6-addr" | "mac-addr" | "url" => {
            &["type", "id", "value"]
        }
        "email-message" => &["type", "id", "is_multipart"],
        "mutex" | "software" => &["type", "id", "name"],
        "network-traffic" => &["type", "id", "protocols"],
        "artifact"
        | "file"
        | "process"
        | "user-account"
        | "windows-registry-key"
        | "x509-certificate" => &["type", "id"],
        "extension-definition" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "created_by_ref",
            "name",
            "schema",
            "version",
            "extension_types",
        ],
        "language-content" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "object_ref",
            "contents",
        ],
        "marking-definition" => &["type", "spec_version", "id", "created"],
        // Domain objects without a type-specific required property, and custom objects.
        _ => &["type", "spec_version", "id", "created", "modified"],
    }
}

/// Timestamp properties of one type beyond those every type may carry.
pub(crate) fn timestamp_properties(kind: &str) -> &'static [&'static str] {
    match kind {
        "directory" | "file" => &["ctime", "mtime", "atime"],
        "email-message" => &["date"],
        "language-content" => &["object_modified"],
        "malware-analysis" => &["submitted", "analysis_started", "analysis_ended"],
        "network-traffic" => &["start", "end"],
        "process" => &["created_time"],
        "user-account" => &[
            "account_created",
            "account_expires",
            "credential_last_changed",
            "account_first_login",
            "account_last_login",
        ],
        "windows-registry-key" => &["modified_time"],
        "x509-certificate" => &["validity_not_before", "validity_not_after"],
        _ => &[],
    }
}

/// Timestamps whose order the specification fixes: `(later, earlier, strictly)`.
pub(crate) fn ordered_timestamps(kind: &str) -> &'static [(&'static str, &'static str, bool)] {
    match kind {
        "campaign" | "infrastructure" | "intrusion-set" | "malware" | "sighting"
        | "threat-actor" => &[("last_seen", "first_seen", false)],
        "indicator" => &[("valid_until", "valid_from", true)],
        "observed-data" => &[("last_observed", "first_observed", false)],
        "relationship" => &[("stop_time", "start_time", true)],
        "network-traffic" => &[("end", "start", false)],
        _ => &[],
    }
}

/// Types a relationship or a sighting may not point at: other relationships, meta objects and
/// bundles (§5.1, §5.2).
const NOT_RELATABLE: &[&str] = &[
    "bundle",
    "extension-definition",
    "language-content",
    "marking-definition",
    "relationship",
    "sighting",
];

/// Which types the reference `key` of a `kind` object may name.
enum Targets {
    /// Only these.
    Only(&'static [&'static str]),
    /// Any but these.
    Not(&'static [&'static str]),
}

fn reference_targets(kind: &str, key: &str) -> Option<Targets> {
    Some(match (kind, key) {
        ("relationship", "source_ref" | "target_ref") | ("sighting", "sighting_of_ref") => {
            Targets::Not(NOT_RELATABLE)
        }
        ("sighting", "where_sighted_refs") => Targets::Only(&["identity", "location"]),
        ("sighting", "observed_data_refs") => Targets::Only(&["observed-data"]),
        ("malware-analysis", "sample_ref") => {
            Targets::Only(&["artifact", "file", "network-traffic"])
        }
        // Observed data carries observations: cyber observables and the relationships between
        // them (§4.14), not domain objects.
        ("observed-data", "object_refs") => Targets::Not(SDO_TYPES),
        _ => return None,
    })
}

/// Reports references whose target type the specification excludes for this property.
pub(crate) fn check_reference_targets(
    kind: &str,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) {
    for (key, value) in obj {
        let Some(targets) = reference_targets(kind, key) else {
            continue;
        };
        let items: Vec<(String, &str)> = match value {
            Value::String(s) => vec![(format!("$.{key}"), s.as_str())],
            Value::Array(list) => list
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_str().map(|s| (format!("$.{key}[{i}]"), s)))
                .collect(),
            _ => Vec::new(),
        };
        for (path, text) in items {
            let Some((target, _)) = text.split_once("--") else {
                continue;
            };
            let allowed = match &targets {
                Targets::Only(list) => list.contains(&target),
                Targets::Not(list) => !list.contains(&target),
            };
            if !allowed {
                problems.push(Problem::new(
                    path,
                    format!("a {kind}'s {key} may not name a {target}"),
                ));
            }
        }
    }
}

/// SCO types whose id is derived from these properties when present, and random (UUIDv4)
/// otherwise (§2.9).
fn id_contributing_properties(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "artifact" => &["hashes", "payload_bin"],
        "email-message" => &["from_ref", "subject", "body"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        // A process has no contributing property: its id is always random (§6.11).
        "process" => &[],
        _ => return None,
    })
}

/// Whether the id of a `kind` object with these properties must be a UUIDv4.
pub(crate) fn needs_random_id(kind: &str, obj: &Map<String, Value>) -> bool {
    id_contributing_properties(kind).is_some_and(|keys| !keys.iter().any(|k| obj.contains_key(*k)))
}

/// The rules of one type that join several properties.
pub(crate) fn check_conditions(kind: &str, obj: &Map<String, Value>, problems: &mut Vec<Problem>) {
    let has = |key: &str| obj.contains_key(key);
    let mut problem = |path: &str, message: &str| problems.push(Problem::new(path, message));
    match kind {
        "malware" if obj.get("is_family") == Some(&Value::Bool(true)) && !has("name") => {
            problem("$.name", "required property of a malware family is missing");
        }
        "malware-analysis" if !has("result") && !has("analysis_sco_refs") => {
            problem("$", "a malware-analysis needs result or analysis_sco_refs");
        }
        "location" => {
            if has("latitude") != has("longitude") {
                problem("$", "a location's latitude and longitude go together");
            } else if !has("region") && !has("country") && !has("latitude") {
                problem(
                    "$",
                    "a location needs region, country or latitude and longitude",
                );
            }
            if has("precision") && !has("latitude") {
                problem("$.precision", "a precision needs latitude and longitude");
            }
        }
        "observed-data" => match (has("objects"), has("object_refs")) {
            (true, true) => problem("$", "observed-data has objects or object_refs, not both"),
            (false, false) => problem("$", "observed-data needs object_refs (or objects)"),
            _ => {}
        },
        "marking-definition" if !has("extensions") => {
            for key in ["definition_type", "definition"] {
                if !has(key) {
                    problem(
                        &format!("$.{key}"),
                        "required property of a marking-definition without extensions is missing",
                    );
                }
            }
        }
        "network-traffic" => {
            if !has("src_ref") && !has("dst_ref") {
                problem("$", "network-traffic needs src_ref or dst_ref");
            }
            if obj.get("is_active") == Some(&Value::Bool(true)) && has("end") {
                problem("$.end", "active network-traffic has no end");
            }
        }
        "file" if !has("hashes") && !has("name") => {
            problem("$", "a file needs hashes or name");
        }
        "artifact" => match (has("payload_bin"), has("url")) {
            (true, true) => problem("$", "an artifact has payload_bin or url, not both"),
            (false, false) => problem("$", "an artifact needs payload_bin or url"),
            (false, true) if !has("hashes") => {
                problem("$.hashes", "an artifact given by url needs hashes")
            }
            _ => {}
        },
        "email-message" => match obj.get("is_multipart") {
            Some(Value::Bool(true)) if has("body") => problem(
                "$.body",
                "a multipart email-message has body_multipart, not body",
            ),
            Some(Value::Bool(false)) if has("body_multipart") => problem(
                "$.body_multipart",
                "an email-message that is not multipart has no body_multipart",
            ),
            _ => {}
        },
        // Every property of these is optional, but one must be present (§6).
        "process" | "user-account" | "windows-registry-key" | "x509-certificate" => {
            let common = [
                "type",
                "id",
                "spec_version",
                "object_marking_refs",
                "granular_markings",
                "defanged",
            ];
            if obj.keys().all(|k| common.contains(&k.as_str())) {
                problem(
                    "$",
                    &format!("a {kind} needs at least one of its own properties"),
                );
            }
        }
        _ => {}
    }
}
