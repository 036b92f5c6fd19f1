//! Observations: what a pattern is matched against. One observed-data object with the
//! cyber-observable objects it refers to, its first and last observation times and how many times
//! it was observed.
//!
//! An observation borrows the JSON it was read from: nothing is copied or converted up front. The
//! matcher reads only what its paths step into, applying the property suffixes of STIX (`*_hex`,
//! `*_bin`, `*_ref`, `*_refs`) as it steps (see `value`).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::error::MatchError;
use crate::timestamp::parse_python;
use crate::value::{field, get, name_hash};

/// One observed-data object, ready for matching; it borrows the JSON it was read from.
#[derive(Clone, Debug)]
pub struct Observation<'a> {
    pub(crate) first_observed: i64,
    pub(crate) last_observed: i64,
    pub(crate) number_observed: u64,
    /// The objects of the observation: every one can be the root of a comparison of its type, and
    /// the target of a reference.
    pub(crate) objects: Vec<ObservedObject<'a>>,
    /// References (ids, or keys of a STIX 2.0 `objects` dictionary) to indexes of `objects`.
    references: References<'a>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct ObservedObject<'a> {
    /// The type, compared by length first so that its text is read only when the length is one
    /// a pattern names.
    pub object_type: &'a str,
    pub value: &'a Json,
}

/// Above this many references, a hash map finds them; below, a scan of their hashes is quicker.
const SCAN_LIMIT: usize = 32;

/// References to indexes of an observation's objects; the first object pushed under a reference
/// is the one it names.
#[derive(Clone, Debug, Default)]
struct References<'a> {
    /// ([`name_hash`] of the reference, reference, index).
    list: Vec<(u64, Cow<'a, str>, usize)>,
    /// The same, by reference, once the list is longer than [`SCAN_LIMIT`].
    map: Option<foldhash::HashMap<Cow<'a, str>, usize>>,
}

impl<'a> References<'a> {
    fn get(&self, reference: &str) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(reference).copied(),
            None => self.find(name_hash(reference), reference),
        }
    }

    fn find(&self, hash: u64, reference: &str) -> Option<usize> {
        self.list
            .iter()
            .find(|(h, r, _)| *h == hash && **r == *reference)
            .map(|(_, _, i)| *i)
    }

    fn insert(&mut self, reference: Cow<'a, str>, index: usize) {
        if let Some(map) = &mut self.map {
            map.entry(reference).or_insert(index);
            return;
        }
        let hash = name_hash(&reference);
        if self.find(hash, &reference).is_some() {
            return;
        }
        self.list.push((hash, reference, index));
        if self.list.len() > SCAN_LIMIT {
            let mut map = foldhash::HashMap::default();
            for (_, r, i) in self.list.drain(..) {
                map.entry(r).or_insert(i);
            }
            self.map = Some(map);
        }
    }
}

impl<'a> Observation<'a> {
    fn empty(first_observed: i64, last_observed: i64, number_observed: u64) -> Observation<'a> {
        Observation {
            first_observed,
            last_observed,
            number_observed,
            objects: Vec::new(),
            references: References::default(),
        }
    }

    /// An observed-data object (`first_observed`, `last_observed`, `number_observed`) with the
    /// objects its `object_refs` name, found with `resolve` (references that do not resolve are
    /// left out, as stix2-matcher leaves them out). Without `object_refs`, the deprecated `objects`
    /// dictionary of STIX 2.0 is read instead, its keys being the references.
    pub fn from_observed_data(
        observed_data: &'a Json,
        resolve: &impl Fn(&str) -> Option<&'a Json>,
    ) -> Result<Observation<'a>, MatchError> {
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
            match get(map, key) {
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
        let number_observed = match get(map, "number_observed") {
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
        let Some(own_id) = get(map, "id").and_then(Json::as_str) else {
            return Err(error("id is missing".into()));
        };
        let mut observation = Observation::empty(first_observed, last_observed, number_observed);
        // stix2-matcher (2.1) resolves references among the observed-data and its objects.
        match (get(map, "object_refs"), get(map, "objects")) {
            (Some(Json::Array(refs)), _) => {
                observation.objects.reserve(refs.len() + 1);
                observation.references.list.reserve(refs.len() + 1);
                observation.push(Cow::Borrowed(own_id), observed_data);
                for reference in refs {
                    let Some(id) = reference.as_str() else {
                        return Err(error("object_refs must be a list of identifiers".into()));
                    };
                    if observation.references.get(id).is_some() {
                        continue;
                    }
                    if let Some(object) = resolve(id) {
                        if field(object, "type").is_none() {
                            return Err(error(format!("object {id} has no type")));
                        }
                        observation.push(Cow::Borrowed(id), object);
                    }
                }
            }
            (Some(_), _) => return Err(error("object_refs must be a list of identifiers".into())),
            (None, Some(Json::Object(objects))) => {
                observation.push(Cow::Borrowed(own_id), observed_data);
                for (key, object) in objects {
                    observation.push(Cow::Borrowed(key.as_str()), object);
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
        objects: &[&'a Json],
        observed_at: Option<DateTime<Utc>>,
    ) -> Result<Observation<'a>, MatchError> {
        let at = observed_at.map_or(0, |t| t.timestamp_micros());
        let mut observation = Observation::empty(at, at, 1);
        for (i, object) in objects.iter().enumerate() {
            let id = field(object, "id")
                .and_then(Json::as_str)
                .map_or_else(|| Cow::Owned(i.to_string()), Cow::Borrowed);
            if field(object, "type").is_none() {
                return Err(MatchError::Observation {
                    id: Some(id.into_owned()),
                    reason: "an object has no type".into(),
                });
            }
            observation.push(id, object);
        }
        Ok(observation)
    }

    /// One cyber-observable object held on its own, as one observation.
    pub fn from_sco(
        sco: &'a Json,
        observed_at: Option<DateTime<Utc>>,
    ) -> Result<Observation<'a>, MatchError> {
        Observation::from_objects(&[sco], observed_at)
    }

    /// How many times the observation was made.
    pub fn number_observed(&self) -> u64 {
        self.number_observed
    }

    fn push(&mut self, reference: Cow<'a, str>, object: &'a Json) {
        let object_type = field(object, "type")
            .and_then(Json::as_str)
            .unwrap_or_default();
        self.references.insert(reference, self.objects.len());
        self.objects.push(ObservedObject {
            object_type,
            value: object,
        });
    }

    /// The object a reference names.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&'a Json> {
        self.references
            .get(reference)
            .map(|i| self.objects[i].value)
    }
}

/// Observations from STIX objects as stix2-matcher (3.0.0, STIX 2.1) reads the bundles it is given:
/// every `observed-data` among `objects`, in order, with the objects its `object_refs` name
/// among all the others (the last of a repeated id wins). Every object must have a `type`, and every
/// one but the observed-data an `id`.
pub fn observations_from_objects(objects: &[Json]) -> Result<Vec<Observation<'_>>, MatchError> {
    read_observations(objects.iter(), objects.len())
}

/// Observations from bundles, as stix2-matcher (3.0.0, STIX 2.1) is given them: the objects of
/// every bundle's `objects` list, read as [`observations_from_objects`] reads them.
pub fn observations_from_bundles(bundles: &[Json]) -> Result<Vec<Observation<'_>>, MatchError> {
    let lists = || {
        bundles
            .iter()
            .filter_map(|b| field(b, "objects").and_then(Json::as_array))
    };
    read_observations(lists().flatten(), lists().map(Vec::len).sum())
}

fn read_observations<'a>(
    objects: impl Iterator<Item = &'a Json>,
    count: usize,
) -> Result<Vec<Observation<'a>>, MatchError> {
    // The last of a repeated id wins.
    let mut by_id: foldhash::HashMap<&'a str, &'a Json> = foldhash::HashMap::default();
    by_id.reserve(count);
    let mut observed = Vec::new();
    for object in objects {
        let object_type = field(object, "type").and_then(Json::as_str);
        let id = field(object, "id").and_then(Json::as_str);
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
