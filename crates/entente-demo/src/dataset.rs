//! The demonstration's exercise objects (`data/demo/exercise-objects.json`): each entry names its
//! origin nation, its object label and portion labels as markings, and a STIX 2.1 object without
//! markings. Loading parses every marking with the policies and writes the labels into the object
//! as marking definitions (object and granular markings), as an analyst's tool would.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use entente_labels::{parse_marking, stix, Label, PolicySet};
use entente_types::NationCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{fail, Context as _};
use crate::DemoError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)]
    about: Option<String>,
    objects: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    origin: String,
    marking: String,
    #[serde(default)]
    portions: BTreeMap<String, String>,
    object: Value,
}

/// One object ready to publish at its origin's node.
#[derive(Debug, Clone)]
pub struct DemoObject {
    pub origin: NationCode,
    /// The object label as written in the dataset.
    pub marking: String,
    /// Portion labels: (selector, marking).
    pub portions: Vec<(String, String)>,
    /// The policy of the object label: the publishing analyst needs a clearance under it.
    pub policy: String,
    pub id: String,
    pub kind: String,
    /// A short human title (name, abstract or description).
    pub title: String,
    /// The object with `object_marking_refs` and `granular_markings` filled in.
    pub object: Value,
    /// The marking definitions the object refers to.
    pub markings: Vec<Value>,
}

/// The dataset: its objects, and every label by marking-definition id (for release decisions).
pub struct Dataset {
    pub objects: Vec<DemoObject>,
    pub labels: HashMap<String, Label>,
}

fn title_of(object: &Value) -> String {
    let text = ["name", "abstract", "description"]
        .iter()
        .find_map(|k| object.get(k).and_then(Value::as_str))
        .unwrap_or("");
    let text = text.trim_start_matches("EXERCISE ONLY. ");
    let mut short: String = text.chars().take(48).collect();
    if text.chars().count() > 48 {
        short.push('…');
    }
    short
}

impl Dataset {
    /// Reads and checks the dataset: origins among `nations`, every marking valid under its
    /// policy, every object valid STIX 2.1 once labelled. Errors name the file, the entry and the
    /// field at fault.
    pub fn load(
        path: &Path,
        policies: &PolicySet,
        nations: &[NationCode],
    ) -> Result<Dataset, DemoError> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the demo dataset {}", path.display()))?;
        let raw: RawFile = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a demo dataset", path.display()))?;
        let mut labels = HashMap::new();
        let mut objects = Vec::new();
        for (i, entry) in raw.objects.into_iter().enumerate() {
            let at = |field: &str| format!("{}: objects[{i}].{field}", path.display());
            let origin: NationCode = entry.origin.parse().with_context(|| at("origin"))?;
            if !nations.contains(&origin) {
                fail!(
                    "{}: {origin} does not run a node in the demo ({})",
                    at("origin"),
                    nations
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let mut object = entry.object;
            let Some(map) = object.as_object_mut() else {
                fail!("{}: not a JSON object", at("object"));
            };
            let mut markings = Vec::new();
            let mut marking_of = |text: &str, field: &str| -> Result<(String, Label), DemoError> {
                let label = parse_marking(policies, text).with_context(|| at(field))?;
                let definition =
                    stix::to_marking_definition(policies, &label).with_context(|| at(field))?;
                let id = definition["id"].as_str().unwrap_or_default().to_owned();
                if !markings.iter().any(|m: &Value| m["id"] == definition["id"]) {
                    markings.push(definition);
                }
                labels.insert(id.clone(), label.clone());
                Ok((id, label))
            };
            let (object_ref, object_label) = marking_of(&entry.marking, "marking")?;
            map.insert("object_marking_refs".into(), json!([object_ref]));
            let mut granular = Vec::new();
            for (selector, text) in &entry.portions {
                let (id, _) = marking_of(text, &format!("portions.{selector}"))?;
                granular.push(json!({ "marking_ref": id, "selectors": [selector] }));
            }
            if !granular.is_empty() {
                map.insert("granular_markings".into(), Value::Array(granular));
            }
            let header = entente_stix::validate_object(&object)
                .map_err(|problems| DemoError::Message(format!("{}: {problems}", at("object"))))?;
            objects.push(DemoObject {
                origin,
                marking: entry.marking,
                portions: entry.portions.into_iter().collect(),
                policy: object_label.policy().to_owned(),
                id: header.id.clone(),
                kind: header.kind.clone(),
                title: title_of(&object),
                object,
                markings,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for o in &objects {
            if !seen.insert(o.id.as_str()) {
                fail!("{}: the id {} appears twice", path.display(), o.id);
            }
        }
        Ok(Dataset { objects, labels })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn setup() -> (PolicySet, Vec<NationCode>) {
        let policies = PolicySet::load(&crate::tests::data_dir("policies")).unwrap();
        let nations = ["FRA", "USA", "GBR", "DEU", "JPN"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        (policies, nations)
    }

    #[test]
    fn the_shipped_dataset_loads_with_every_label_written_in() {
        let (policies, nations) = setup();
        let path = crate::tests::data_dir("demo").join("exercise-objects.json");
        let data = Dataset::load(&path, &policies, &nations).unwrap();
        assert!((20..=40).contains(&data.objects.len()));
        for n in &nations {
            assert!(
                data.objects.iter().any(|o| o.origin == *n),
                "{n} publishes nothing"
            );
        }
        for o in &data.objects {
            let refs = o.object["object_marking_refs"].as_array().unwrap();
            assert_eq!(refs.len(), 1);
            assert!(data.labels.contains_key(refs[0].as_str().unwrap()));
            assert!(o.markings.iter().any(|m| m["id"] == refs[0]));
            let text = serde_json::to_string(&o.object).unwrap();
            assert!(
                text.contains("EXERCISE"),
                "{} is not marked as exercise material",
                o.id
            );
        }
        assert!(data.objects.iter().any(|o| !o.portions.is_empty()));
    }

    #[test]
    fn a_title_is_the_first_of_name_abstract_description_shortened() {
        assert_eq!(
            title_of(&json!({"name": "Short", "description": "x"})),
            "Short"
        );
        assert_eq!(
            title_of(&json!({"description": "EXERCISE ONLY. Radar site"})),
            "Radar site"
        );
        let long = "a".repeat(60);
        let title = title_of(&json!({ "abstract": long }));
        assert_eq!(title.chars().count(), 49);
        assert!(title.ends_with('…'));
        assert_eq!(title_of(&json!({"pattern": "[x]"})), "");
    }

    #[test]
    fn a_bad_entry_is_named_by_file_index_and_field() {
        let (policies, nations) = setup();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("objects.json");
        let object = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2025-10-01T00:00:00.000Z", "modified": "2025-10-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2025-10-01T00:00:00Z"});
        for (entry, expected) in [
            (
                json!({"origin": "FRA", "marking": "NATO SECRT//REL TO FRA", "object": object}),
                "objects[0].marking",
            ),
            (
                json!({"origin": "ITA", "marking": "NATO SECRET", "object": object}),
                "objects[0].origin",
            ),
            (
                json!({"origin": "FRA", "marking": "NATO SECRET",
                       "portions": {"name": "NATO SECRT"}, "object": object}),
                "objects[0].portions.name",
            ),
        ] {
            std::fs::write(&path, json!({"objects": [entry]}).to_string()).unwrap();
            let e = Dataset::load(&path, &policies, &nations).err().unwrap();
            let message = format!("{e:#}");
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("objects.json"), "{message}");
        }
    }
}
