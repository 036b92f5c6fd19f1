//! The JSON form: a STIX 2.1 `marking-definition` whose extension carries the label.
//!
//! ```json
//! { "type": "marking-definition", "spec_version": "2.1",
//!   "id": "marking-definition--<UUID derived from the extension's JSON>",
//!   "created": "<creation time, or 1970-01-01T00:00:00.000Z>",
//!   "name": "NATO SECRET//REL TO FRA, GBR, USA",
//!   "extensions": { "extension-definition--…": {
//!       "extension_type": "property-extension",
//!       "policy": "NATO", "policy_oid": "1.3.26.1.3.1", "classification": "SECRET",
//!       "categories": [ { "type": "permissive", "tag": "Releasable To", "values": ["FRA", "GBR", "USA"] } ],
//!       "originator": "…", "creation_time": "…", "review_time": "…" } } }
//! ```
//!
//! The id is derived from the label, so the same label always has the same marking definition and
//! a marking definition cannot be re-pointed at another label without changing its id.

use serde_json::{json, Map, Value};

use crate::error::{LabelError, LabelErrorKind};
use crate::label::{Label, ReleaseToken, MAX_VALUES};
use crate::marking::{render_marking, RELEASE_TO_NONE};
use crate::policy::PolicySet;

/// The id of Entente's label extension definition.
pub const LABEL_EXTENSION_ID: &str = "extension-definition--3c6e4f0a-8a51-4d3a-9b7e-4d1f2a0c6b11";
/// The namespace of label-derived marking-definition ids (UUIDv5).
const LABEL_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f2b_9c1e_4a7d_5e30_8b1f_2c9d_0e7a_4b5c);
/// `created` of a marking definition whose label has no creation time.
const EPOCH: &str = "1970-01-01T00:00:00.000Z";

const TAG_RELEASABLE_TO: &str = "Releasable To";
const TAG_ADDITIONAL_SENSITIVITY: &str = "Additional Sensitivity";
const TAG_CONTEXT: &str = "Context";

/// The extension-definition object that describes the label extension (served beside the data).
pub fn label_extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": LABEL_EXTENSION_ID,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "name": "Entente confidentiality label",
        "description": "A confidentiality label after STANAG 4774 (policy, classification, permissive, restrictive and informative categories, originator, creation and review times) carried by a marking-definition.",
        "schema": "https://entente.invalid/schemas/label-extension.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    })
}

/// The content of the label extension, in a fixed key order (it is hashed for the id).
fn extension_body(policies: &PolicySet, label: &Label) -> Result<Map<String, Value>, LabelError> {
    let policy = label.policy_in(policies)?;
    let mut categories = Vec::new();
    for set in label.releasable_to() {
        categories.push(json!({
            "type": "permissive",
            "tag": TAG_RELEASABLE_TO,
            "values": set.iter().map(ReleaseToken::as_str).collect::<Vec<_>>(),
        }));
    }
    if !label.caveats().is_empty() {
        categories.push(json!({
            "type": "restrictive",
            "tag": TAG_ADDITIONAL_SENSITIVITY,
            "values": label.caveats().iter().collect::<Vec<_>>(),
        }));
    }
    if !label.contexts().is_empty() {
        categories.push(json!({
            "type": "informative",
            "tag": TAG_CONTEXT,
            "values": label.contexts().iter().collect::<Vec<_>>(),
        }));
    }
    let mut body = Map::new();
    body.insert("extension_type".into(), json!("property-extension"));
    body.insert("policy".into(), json!(policy.id));
    if let Some(oid) = &policy.oid {
        body.insert("policy_oid".into(), json!(oid));
    }
    body.insert("classification".into(), json!(label.classification()));
    body.insert("categories".into(), Value::Array(categories));
    if let Some(o) = label.originator() {
        body.insert("originator".into(), json!(o));
    }
    if let Some(t) = label.created() {
        body.insert("creation_time".into(), json!(t));
    }
    if let Some(t) = label.review() {
        body.insert("review_time".into(), json!(t));
    }
    Ok(body)
}

/// The marking-definition id of a label, derived from the extension's JSON.
pub fn marking_definition_id(policies: &PolicySet, label: &Label) -> Result<String, LabelError> {
    let body = extension_body(policies, label)?;
    Ok(id_for_body(&body))
}

/// A name-based id in UUIDv4 form: STIX asks meta objects for version 4, and strict validators
/// insist, so the name's SHA-1 digest (as in UUIDv5) is laid out with the version-4 bits.
fn id_for_body(body: &Map<String, Value>) -> String {
    let name = Value::Object(body.clone()).to_string();
    let digest = uuid::Uuid::new_v5(&LABEL_NAMESPACE, name.as_bytes());
    let id = uuid::Builder::from_random_bytes(*digest.as_bytes()).into_uuid();
    format!("marking-definition--{id}")
}

/// A STIX timestamp (UTC, `Z`, milliseconds) for a label's creation time, which may carry an
/// offset; the epoch when the label has none.
fn stix_timestamp(time: Option<&str>) -> String {
    time.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
        .unwrap_or_else(|| EPOCH.to_owned())
}

/// The label as a STIX 2.1 marking-definition.
pub fn to_marking_definition(policies: &PolicySet, label: &Label) -> Result<Value, LabelError> {
    let body = extension_body(policies, label)?;
    let id = id_for_body(&body);
    Ok(json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": id,
        "created": stix_timestamp(label.created()),
        "name": render_marking(policies, label)?,
        "extensions": { LABEL_EXTENSION_ID: Value::Object(body) },
    }))
}

/// Whether a STIX object is a marking definition carrying an Entente label.
pub fn is_label_marking(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("marking-definition")
        && value
            .get("extensions")
            .and_then(|e| e.get(LABEL_EXTENSION_ID))
            .is_some()
}

/// Reads the label of a marking definition, strictly: unknown keys, wrong types, unknown values
/// and an id that does not match the label are all refused, each error naming the JSON path.
pub fn from_marking_definition(policies: &PolicySet, value: &Value) -> Result<Label, LabelError> {
    let err =
        |path: &str, m: String| LabelError::new(LabelErrorKind::Malformed(m), path.to_owned());
    let obj = value
        .as_object()
        .ok_or_else(|| err("$", "expected a JSON object".into()))?;
    if obj.get("type").and_then(Value::as_str) != Some("marking-definition") {
        return Err(err("$.type", "expected \"marking-definition\"".into()));
    }
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| err("$.id", "missing or not a string".into()))?;
    let ext = obj
        .get("extensions")
        .and_then(|e| e.get(LABEL_EXTENSION_ID))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            err(
                "$.extensions",
                format!("missing the label extension {LABEL_EXTENSION_ID}"),
            )
        })?;
    let path = format!("$.extensions.{LABEL_EXTENSION_ID}");
    const KNOWN: [&str; 8] = [
        "extension_type",
        "policy",
        "policy_oid",
        "classification",
        "categories",
        "originator",
        "creation_time",
        "review_time",
    ];
    if let Some(k) = ext.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(err(&format!("{path}.{k}"), "unknown property".into()));
    }
    let string = |key: &str| -> Result<Option<&str>, LabelError> {
        match ext.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(err(&format!("{path}.{key}"), "expected a string".into())),
        }
    };
    if string("extension_type")? != Some("property-extension") {
        return Err(err(
            &format!("{path}.extension_type"),
            "expected \"property-extension\"".into(),
        ));
    }
    let policy =
        string("policy")?.ok_or_else(|| err(&format!("{path}.policy"), "missing".into()))?;
    let classification = string("classification")?
        .ok_or_else(|| err(&format!("{path}.classification"), "missing".into()))?;
    let mut label = Label::new(policies, policy, classification)?;
    if let (Some(oid), Some(expected)) = (
        string("policy_oid")?,
        policies.require(policy)?.oid.as_deref(),
    ) {
        if oid != expected {
            return Err(err(
                &format!("{path}.policy_oid"),
                format!("{oid:?} is not the OID of policy {policy}"),
            ));
        }
    }
    let categories = match ext.get("categories") {
        None => &Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(err(
                &format!("{path}.categories"),
                "expected an array".into(),
            ))
        }
    };
    let mut count = 0usize;
    for (i, cat) in categories.iter().enumerate() {
        let cpath = format!("{path}.categories[{i}]");
        let cat = cat
            .as_object()
            .ok_or_else(|| err(&cpath, "expected an object".into()))?;
        if let Some(k) = cat
            .keys()
            .find(|k| !["type", "tag", "values"].contains(&k.as_str()))
        {
            return Err(err(&format!("{cpath}.{k}"), "unknown property".into()));
        }
        let kind = cat.get("type").and_then(Value::as_str).unwrap_or_default();
        let tag = cat.get("tag").and_then(Value::as_str).unwrap_or_default();
        let values = cat
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| err(&format!("{cpath}.values"), "expected an array".into()))?;
        count += values.len();
        if count > MAX_VALUES {
            return Err(LabelError::new(
                LabelErrorKind::TooLarge {
                    what: "category values",
                    limit: MAX_VALUES,
                },
                cpath,
            ));
        }
        let mut texts = Vec::with_capacity(values.len());
        for (j, v) in values.iter().enumerate() {
            texts.push(
                v.as_str().ok_or_else(|| {
                    err(&format!("{cpath}.values[{j}]"), "expected a string".into())
                })?,
            );
        }
        match (kind, tag) {
            ("permissive", TAG_RELEASABLE_TO) => {
                let mut tokens = Vec::with_capacity(texts.len());
                for (j, t) in texts.iter().enumerate() {
                    // `NONE` is how a marking writes the empty set: as a value it would not
                    // survive the marking form.
                    if *t == RELEASE_TO_NONE {
                        return Err(err(
                            &format!("{cpath}.values[{j}]"),
                            "NONE is not a release token: an empty values list means releasable to nobody".into(),
                        ));
                    }
                    let token = ReleaseToken::parse(t).map_err(|e| {
                        LabelError::new(e.kind().clone(), format!("{cpath}.values[{j}]"))
                    })?;
                    if tokens.contains(&token) {
                        return Err(err(
                            &format!("{cpath}.values[{j}]"),
                            format!("duplicate value {t:?}"),
                        ));
                    }
                    tokens.push(token);
                }
                label = label.with_releasable_to(tokens)?;
            }
            ("restrictive", TAG_ADDITIONAL_SENSITIVITY) => {
                for t in texts {
                    label = label.with_caveat(policies, t)?;
                }
            }
            ("informative", TAG_CONTEXT) => {
                for t in texts {
                    label = label.with_context(policies, t)?;
                }
            }
            _ => {
                return Err(err(
                    &cpath,
                    format!("unknown category {tag:?} of type {kind:?}"),
                ))
            }
        }
    }
    if let Some(o) = string("originator")? {
        label = label.with_originator(o)?;
    }
    if let Some(t) = string("creation_time")? {
        label = label.with_created(t)?;
    }
    if let Some(t) = string("review_time")? {
        label = label.with_review(t)?;
    }
    let expected = marking_definition_id(policies, &label)?;
    if id != expected {
        return Err(err(
            "$.id",
            format!("{id} does not match the label it carries (expected {expected})"),
        ));
    }
    Ok(label)
}
