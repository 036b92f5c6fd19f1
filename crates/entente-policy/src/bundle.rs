//! Releasing a whole STIX bundle to one recipient: the labels are read from the bundle's own
//! marking definitions, every federated object is tear-lined for the recipient, and the copies
//! with the marking definitions they refer to make a new bundle.

use std::collections::HashMap;
use std::sync::Arc;

use entente_labels::{stix, Label};
use entente_types::{Date, NationCode};
use serde_json::{json, Value};

use crate::{KindRule, PolicyError, ReleasePolicy, ReleaseVerdict};

/// Why a bundle cannot be released; every message names the object at fault.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{line}:{column}: malformed JSON: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "expected a STIX bundle holding the objects and the marking definitions of their labels"
    )]
    NotABundle,
    #[error("the bundle has no objects list")]
    NoObjects,
    #[error("objects[{index}]: {source}")]
    Marking {
        index: usize,
        #[source]
        source: entente_labels::LabelError,
    },
    #[error("objects[{index}] ({id}): {source}")]
    Object {
        index: usize,
        id: String,
        #[source]
        source: PolicyError,
    },
    #[error("the bundle holds no object to release")]
    NothingToRelease,
}

impl BundleError {
    /// Every bundle error is bad input.
    pub fn code(&self) -> entente_types::ErrorCode {
        entente_types::ErrorCode::InvalidInput
    }
}

/// The decision on one object of the bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRelease {
    /// The object's id (`(no id)` when it has none).
    pub id: String,
    pub verdict: ReleaseVerdict,
    /// The explanation of the decision.
    pub reason: String,
    /// The agreement and article that allowed the object's release, when one did.
    pub agreement: Option<String>,
    pub clause: Option<String>,
    /// The selectors of the portions cut out.
    pub cut: Vec<String>,
}

/// A bundle released to one recipient.
/// The JSON envelope of a release: the verdict, each object's decision, and the bundle.
impl serde::Serialize for BundleRelease {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "decision": self.verdict().as_str(),
            "from": self.from.as_str(), "to": self.to.as_str(), "at": self.day.to_string(),
            "objects": self.objects.iter().map(|o| json!({
                "id": o.id,
                "verdict": o.verdict.as_str(),
                "reason": o.reason,
                "agreement": o.agreement,
                "clause": o.clause,
                "cut": o.cut,
            })).collect::<Vec<_>>(),
            "bundle": self.bundle,
        })
        .serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BundleRelease {
    pub from: NationCode,
    pub to: NationCode,
    pub day: Date,
    /// One entry per federated object, in bundle order.
    pub objects: Vec<ObjectRelease>,
    /// The recipient's bundle: the label extension definition, the marking definitions the copies
    /// use, and the copies (no objects when nothing is released).
    pub bundle: Value,
}

impl BundleRelease {
    /// Whether anything at all is released.
    pub fn any_released(&self) -> bool {
        self.bundle["objects"]
            .as_array()
            .is_some_and(|objects| !objects.is_empty())
    }

    /// Permit when every object goes whole, deny when none goes, else partial.
    pub fn verdict(&self) -> ReleaseVerdict {
        if !self.any_released() {
            ReleaseVerdict::Deny
        } else if self
            .objects
            .iter()
            .all(|o| o.verdict == ReleaseVerdict::Permit)
        {
            ReleaseVerdict::Permit
        } else {
            ReleaseVerdict::Partial
        }
    }
}

impl ReleaseVerdict {
    /// `permit`, `partial` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseVerdict::Permit => "permit",
            ReleaseVerdict::Partial => "partial",
            ReleaseVerdict::Deny => "deny",
        }
    }
}

/// Releases the bundle held in `text` from `from` to `to` on `day`.
pub fn release_bundle(
    policy: &ReleasePolicy,
    text: &str,
    from: NationCode,
    to: NationCode,
    day: Date,
) -> Result<BundleRelease, BundleError> {
    let bundle: Value = serde_json::from_str(text).map_err(|e| BundleError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(BundleError::NotABundle);
    }
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .ok_or(BundleError::NoObjects)?;
    let labels = labels_of(policy, objects)?;
    let lookup = |id: &str| labels.get(id).cloned();
    let mut released: Vec<Value> = Vec::new();
    let mut reports = Vec::new();
    for (index, o) in objects.iter().enumerate() {
        // Marking and extension definitions are metadata: the copy gets fresh ones for what it
        // keeps.
        let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
        if !KindRule::of(kind).is_federated() {
            continue;
        }
        let id = o.get("id").and_then(Value::as_str).unwrap_or("(no id)");
        let release = policy
            .release_stored(o, &lookup, from, to, day)
            .map_err(|source| BundleError::Object {
                index,
                id: id.to_owned(),
                source,
            })?;
        reports.push(ObjectRelease {
            id: id.to_owned(),
            verdict: release.verdict,
            reason: release.explain(),
            agreement: release.object_decision.agreement().map(str::to_owned),
            clause: release.object_decision.clause().map(str::to_owned),
            cut: release.cut_selectors().map(str::to_owned).collect(),
        });
        if let Some(copy) = release.object {
            for m in release.markings {
                if !released.iter().any(|r| r["id"] == m["id"]) {
                    released.push(Arc::unwrap_or_clone(m));
                }
            }
            released.push(copy);
        }
    }
    if reports.is_empty() {
        return Err(BundleError::NothingToRelease);
    }
    if !released.is_empty() {
        released.insert(0, stix::label_extension_definition());
    }
    let source_id = bundle.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(BundleRelease {
        from,
        to,
        day,
        objects: reports,
        bundle: json!({
            "type": "bundle",
            "id": format!("bundle--{}", uuid_for(&format!("{source_id}/{from}/{to}/{day}"))),
            "objects": released,
        }),
    })
}

/// The labels of the bundle's marking definitions, by id.
fn labels_of(
    policy: &ReleasePolicy,
    objects: &[Value],
) -> Result<HashMap<String, Label>, BundleError> {
    let mut labels = HashMap::new();
    for (index, o) in objects.iter().enumerate() {
        if stix::is_label_marking(o) {
            let label = stix::from_marking_definition(policy.policies(), o)
                .map_err(|source| BundleError::Marking { index, source })?;
            if let Some(id) = o.get("id").and_then(Value::as_str) {
                labels.insert(id.to_owned(), label);
            }
        }
    }
    Ok(labels)
}

/// A name-based UUID in version-4 form (as STIX asks of bundles), so that releasing the same
/// bundle twice gives the same bundle id.
fn uuid_for(name: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x1d0c_7a52_93e4_5b6f_a0b1_c2d3_e4f5_0617);
    let digest = uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes());
    uuid::Builder::from_random_bytes(*digest.as_bytes()).into_uuid()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use entente_labels::PolicySet;
    use entente_registry::Registry;

    use super::*;

    fn policy() -> ReleasePolicy {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let registry = Registry::load(&root.join("registry")).unwrap();
        let policies = PolicySet::load(&root.join("policies")).unwrap();
        ReleasePolicy::new(&registry, policies)
    }

    fn example() -> String {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/report-bundle.json");
        std::fs::read_to_string(file).unwrap()
    }

    fn release(text: &str, to: &str) -> Result<BundleRelease, BundleError> {
        let day = entente_types::parse_date("2025-06-01").unwrap();
        release_bundle(
            &policy(),
            text,
            "FRA".parse().unwrap(),
            to.parse().unwrap(),
            day,
        )
    }

    #[test]
    fn the_example_bundle_is_tear_lined_for_an_ally() {
        let out = release(&example(), "USA").unwrap();
        assert!(!out.objects.is_empty());
        if out.any_released() {
            let objects = out.bundle["objects"].as_array().unwrap();
            assert_eq!(objects[0], stix::label_extension_definition());
        }
        // Releasing twice gives the same bundle id.
        assert_eq!(
            out.bundle["id"],
            release(&example(), "USA").unwrap().bundle["id"]
        );
        assert_ne!(
            out.bundle["id"],
            release(&example(), "DEU").unwrap().bundle["id"]
        );
    }

    #[test]
    fn the_overall_verdict_follows_the_objects() {
        let out = release(&example(), "USA").unwrap();
        let expected = if !out.any_released() {
            ReleaseVerdict::Deny
        } else if out
            .objects
            .iter()
            .all(|o| o.verdict == ReleaseVerdict::Permit)
        {
            ReleaseVerdict::Permit
        } else {
            ReleaseVerdict::Partial
        };
        assert_eq!(out.verdict(), expected);
    }

    #[test]
    fn malformed_input_is_refused_with_its_place() {
        let err = release("{\"type\": \"bundle\",\n \"objects\": [}", "USA").unwrap_err();
        assert!(matches!(err, BundleError::Json { line: 2, .. }), "{err}");
        let err = release("{\"type\": \"report\"}", "USA").unwrap_err();
        assert!(matches!(err, BundleError::NotABundle));
        let err = release("{\"type\": \"bundle\"}", "USA").unwrap_err();
        assert!(matches!(err, BundleError::NoObjects));
        let err = release("{\"type\": \"bundle\", \"objects\": []}", "USA").unwrap_err();
        assert!(matches!(err, BundleError::NothingToRelease));
    }

    #[test]
    fn a_tampered_marking_names_its_index() {
        let mut bundle: Value = serde_json::from_str(&example()).unwrap();
        bundle["objects"][1]["extensions"][stix::LABEL_EXTENSION_ID]["classification"] =
            json!("UNCLASSIFIED");
        let err = release(&bundle.to_string(), "USA").unwrap_err();
        assert!(err.to_string().starts_with("objects[1]: "), "{err}");
    }
}
