//! Observations: what a pattern is matched against. One observed-data object with the
//! cyber-observable objects it refers to, its first and last observation times and how many times
//! it was observed.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::error::MatchError;
use crate::timestamp::parse_python;
use crate::value::Value;

/// One observed-data object, ready for matching.
#[derive(Clone, Debug)]
pub struct Observation {
    pub(crate) first_observed: i64,
    pub(crate) last_observed: i64,
    pub(crate) number_observed: u64,
    /// The objects of the observation: every one can be the root of a comparison of its type, and
    /// the target of a reference.
    pub(crate) objects: Vec<ObservedObject>,
    /// References (ids, or keys of a STIX 2.0 `objects` dictionary) to indexes of `objects`.
    pub(crate) references: foldhash::HashMap<Box<str>, usize>,
    /// Keys whose value is [`Value::Invalid`] somewhere in the objects.
    pub(crate) invalid_keys: Vec<Box<str>>,
    /// Whether some binary value is not UTF-8 (`LIKE` raises on those).
    pub(crate) non_utf8_binary: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct ObservedObject {
    pub object_type: Box<str>,
    pub value: Value,
}

impl Observation {
    /// An observed-data object (`first_observed`, `last_observed`, `number_observed`) with the
    /// objects its `object_refs` name, found with `resolve` (references that do not resolve are
    /// left out, as stix2-matcher leaves them out). Without `object_refs`, the deprecated `objects`
    /// dictionary of STIX 2.0 is read instead, its keys being the references.
    pub fn from_observed_data<'a>(
        observed_data: &'a Json,
        resolve: &impl Fn(&str) -> Option<&'a Json>,
    ) -> Result<Observation, MatchError> {
        let error = |reason: String| MatchError::Observation {
            id: observed_data
                .get("id")
                .and_then(Json::as_str)
                .map(str::to_owned),
            reason,
        };
        let Some(map) = observed_data.as_object() else {
            return Err(error("an observed-data must be a JSON object".into()));
        };
        let time = |key: &str| -> Result<i64, MatchError> {
            match map.get(key) {
                Some(Json::String(s)) => {
                    parse_python(s).ok_or_else(|| error(format!("{key}: {s:?} is not a timestamp")))
                }
                Some(_) => Err(error(format!("{key} must be a timestamp string"))),
                None => Err(error(format!("{key} is missing"))),
            }
        };
        let first_observed = time("first_observed")?;
        let last_observed = time("last_observed")?;
        if last_observed < first_observed {
            return Err(error("last_observed is earlier than first_observed".into()));
        }
        let number_observed = match map.get("number_observed") {
            Some(n) => match n.as_u64() {
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(error(
                        "number_observed must be an integer of at least 1".into(),
                    ))
                }
            },
            None => return Err(error("number_observed is missing".into())),
        };
        let Some(own_id) = map.get("id").and_then(Json::as_str) else {
            return Err(error("id is missing".into()));
        };
        let mut observation = Observation {
            first_observed,
            last_observed,
            number_observed,
            objects: Vec::new(),
            references: foldhash::HashMap::default(),
            invalid_keys: Vec::new(),
            non_utf8_binary: false,
        };
        // stix2-matcher (2.1) resolves references among the observed-data and its objects.
        observation.push(own_id, observed_data);
        match (map.get("object_refs"), map.get("objects")) {
            (Some(Json::Array(refs)), _) => {
                for reference in refs {
                    let Some(id) = reference.as_str() else {
                        return Err(error("object_refs must be a list of identifiers".into()));
                    };
                    if observation.references.contains_key(id) {
                        continue;
                    }
                    if let Some(object) = resolve(id) {
                        if object.get("type").is_none() {
                            return Err(error(format!("object {id} has no type")));
                        }
                        observation.push(id, object);
                    }
                }
            }
            (Some(_), _) => return Err(error("object_refs must be a list of identifiers".into())),
            (None, Some(Json::Object(objects))) => {
                for (key, object) in objects {
                    observation.push(key, object);
                }
            }
            (None, _) => return Err(error("object_refs is missing".into())),
        }
        Ok(observation)
    }

    /// Cyber-observable objects held on their own, as one observation (observed once, at
    /// `observed_at`, or at 1970-01-01T00:00:00Z when no time is known). Their `id`s (or their
    /// positions, for objects without one) are what their references resolve to.
    pub fn from_objects(
        objects: &[&Json],
        observed_at: Option<DateTime<Utc>>,
    ) -> Result<Observation, MatchError> {
        let at = observed_at.map_or(0, |t| t.timestamp_micros());
        let mut observation = Observation {
            first_observed: at,
            last_observed: at,
            number_observed: 1,
            objects: Vec::new(),
            references: foldhash::HashMap::default(),
            invalid_keys: Vec::new(),
            non_utf8_binary: false,
        };
        for (i, object) in objects.iter().enumerate() {
            let id = object
                .get("id")
                .and_then(Json::as_str)
                .map_or_else(|| i.to_string(), str::to_owned);
            if object.get("type").is_none() {
                return Err(MatchError::Observation {
                    id: Some(id),
                    reason: "an object has no type".into(),
                });
            }
            observation.push(&id, object);
        }
        Ok(observation)
    }

    /// One cyber-observable object held on its own, as one observation.
    pub fn from_sco(
        sco: &Json,
        observed_at: Option<DateTime<Utc>>,
    ) -> Result<Observation, MatchError> {
        Observation::from_objects(&[sco], observed_at)
    }

    /// How many times the observation was made.
    pub fn number_observed(&self) -> u64 {
        self.number_observed
    }

    fn push(&mut self, reference: &str, object: &Json) {
        let object_type = object
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or_default();
        self.references
            .entry(reference.into())
            .or_insert(self.objects.len());
        let value = Value::from_json(object, &mut self.invalid_keys);
        self.non_utf8_binary |= value.has_non_utf8_binary();
        self.objects.push(ObservedObject {
            object_type: object_type.into(),
            value,
        });
    }

    /// The index of the object a reference names.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&Value> {
        self.references
            .get(reference)
            .map(|i| &self.objects[*i].value)
    }
}

/// Observations from STIX objects as stix2-matcher (3.0.0, STIX 2.1) reads the bundles it is given:
/// every `observed-data` among `objects`, in order, with the objects its `object_refs` name
/// among all the others (the last of a repeated id wins). Every object must have a `type`, and every
/// one but the observed-data an `id`.
pub fn observations_from_objects(objects: &[Json]) -> Result<Vec<Observation>, MatchError> {
    let mut by_id: foldhash::HashMap<&str, &Json> = foldhash::HashMap::default();
    let mut observed = Vec::new();
    for object in objects {
        let object_type = object.get("type").and_then(Json::as_str);
        let id = object.get("id").and_then(Json::as_str);
        match (object_type, id) {
            (Some("observed-data"), _) => observed.push(object),
            (Some(_), Some(id)) => {
                by_id.insert(id, object);
            }
            (None, _) => {
                return Err(MatchError::Observation {
                    id: id.map(str::to_owned),
                    reason: "an object has no type".into(),
                })
            }
            (Some(_), None) => {
                return Err(MatchError::Observation {
                    id: None,
                    reason: "an object has no id".into(),
                })
            }
        }
    }
    observed
        .into_iter()
        .map(|od| Observation::from_observed_data(od, &|id| by_id.get(id).copied()))
        .collect()
}
