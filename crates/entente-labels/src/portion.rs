//! Portion labels: STIX 2.1 `granular_markings` and their selectors.
//!
//! An object's `object_marking_refs` name its label; each granular marking adds a label to the
//! properties its selectors name (`description`, `external_references.[0].url`). As in STIX, a
//! granular marking adds to the object marking: the effective label of a property is the dominant
//! label of the object's label and of every granular label on the property or on a property that
//! contains it. A portion can therefore only be more restricted than its object, never less.

use serde_json::Value;
use smallvec::SmallVec;

use crate::error::{LabelError, LabelErrorKind};
use crate::label::Label;

/// At most this many portions (granular markings × selectors) per object.
pub const MAX_PORTIONS: usize = 1024;

/// One step of a selector path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A parsed selector, e.g. `external_references.[0].url`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    text: String,
    steps: Vec<Step>,
}

impl Selector {
    /// Parses a selector and checks that it names a property present in `object`.
    pub fn parse(text: &str, object: &Value) -> Result<Selector, LabelError> {
        SelectorRef::parse(text, object).map(|s| s.to_selector())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The value the selector names in `object`.
    pub fn resolve<'a>(&self, object: &'a Value) -> Option<&'a Value> {
        resolve_steps(object, self.steps.iter().map(Step::as_ref))
    }

    /// Whether `self` names `other` or a property inside it.
    pub fn contains(&self, other: &Selector) -> bool {
        other.steps.starts_with(&self.steps)
    }
}

/// One step of a [`SelectorRef`]: a property name borrowed from the selector's text, or a list
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepRef<'t> {
    Key(&'t str),
    Index(usize),
}

impl Step {
    /// This step, its property name borrowed.
    pub fn as_ref(&self) -> StepRef<'_> {
        match self {
            Step::Key(k) => StepRef::Key(k),
            Step::Index(i) => StepRef::Index(*i),
        }
    }
}

/// The value `steps` lead to from `object`, if every step finds one.
fn resolve_steps<'v, 't>(
    object: &'v Value,
    steps: impl Iterator<Item = StepRef<'t>>,
) -> Option<&'v Value> {
    let mut here = object;
    for step in steps {
        here = match step {
            StepRef::Key(k) => here.as_object()?.get(k)?,
            StepRef::Index(i) => here.as_array()?.get(i)?,
        };
    }
    Some(here)
}

impl StepRef<'_> {
    pub fn to_step(self) -> Step {
        match self {
            StepRef::Key(k) => Step::Key(k.to_owned()),
            StepRef::Index(i) => Step::Index(i),
        }
    }
}

/// Steps held in place up to this many (selectors are short: a property, an index, a field).
const INLINE_STEPS: usize = 4;

/// A [`Selector`] parsed in place: its text and property names borrow the text it was parsed
/// from (for an object's own selectors, the object), so reading a selector copies no text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectorRef<'t> {
    text: &'t str,
    steps: SmallVec<[StepRef<'t>; INLINE_STEPS]>,
}

impl<'t> SelectorRef<'t> {
    /// Parses a selector and checks that it names a property present in `object`, as
    /// [`Selector::parse`] does.
    pub fn parse(text: &'t str, object: &Value) -> Result<SelectorRef<'t>, LabelError> {
        let bad = |reason: &str| {
            LabelError::new(
                LabelErrorKind::BadSelector {
                    selector: text.to_owned(),
                    reason: reason.to_owned(),
                },
                "granular_markings",
            )
        };
        if text.is_empty() || text.len() > 512 {
            return Err(bad("expected 1 to 512 characters"));
        }
        crate::label::check_characters(text, "granular_markings")?;
        let mut steps = SmallVec::new();
        for part in text.split('.') {
            if let Some(index) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
                let i: usize = index
                    .parse()
                    .map_err(|_| bad("a list index must be a number, as in [0]"))?;
                if steps.is_empty() {
                    return Err(bad("a selector cannot start with a list index"));
                }
                steps.push(StepRef::Index(i));
            } else if part.is_empty()
                || !part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(bad("property names are ASCII letters, digits, '_' and '-'"));
            } else {
                steps.push(StepRef::Key(part));
            }
        }
        let selector = SelectorRef { text, steps };
        if selector.resolve(object).is_none() {
            return Err(bad("names a property that the object does not have"));
        }
        if let Some(StepRef::Key(first)) = selector.steps.first() {
            if [
                "type",
                "id",
                "spec_version",
                "granular_markings",
                "object_marking_refs",
            ]
            .contains(first)
            {
                return Err(bad("this property cannot carry a portion label"));
            }
        }
        Ok(selector)
    }

    pub fn as_str(&self) -> &'t str {
        self.text
    }

    pub fn steps(&self) -> &[StepRef<'t>] {
        &self.steps
    }

    /// The value the selector names in `object`.
    pub fn resolve<'v>(&self, object: &'v Value) -> Option<&'v Value> {
        resolve_steps(object, self.steps.iter().copied())
    }

    /// Whether `self` names `other` or a property inside it.
    pub fn contains(&self, other: &SelectorRef<'_>) -> bool {
        other.steps.starts_with(&self.steps)
    }

    /// The selector with its text copied.
    pub fn to_selector(&self) -> Selector {
        Selector {
            text: self.text.to_owned(),
            steps: self.steps.iter().map(|s| s.to_step()).collect(),
        }
    }
}

/// An object's labels: the object label and each portion's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLabels {
    pub object: Label,
    /// `(selector, label)` for every selector of every granular marking, in object order.
    pub portions: Vec<(Selector, Label)>,
}

/// Reads the labels of a STIX object: `lookup` maps a marking-definition id to its label.
///
/// Every marking reference must resolve, every selector must name a property of the object, and
/// an object must have exactly one label among its object markings (it may have other, non-label
/// markings such as TLP).
pub fn object_labels(
    object: &Value,
    lookup: &dyn Fn(&str) -> Option<Label>,
) -> Result<ObjectLabels, LabelError> {
    let entries = object_label_entries(object, lookup)?;
    let portions = entries
        .granular
        .into_iter()
        .flatten()
        .flat_map(|(label, selectors)| selectors.into_iter().map(move |s| (s, label.clone())))
        .collect();
    Ok(ObjectLabels {
        object: entries.object,
        portions,
    })
}

/// An object's labels by granular marking, as [`object_label_entries`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelEntries {
    pub object: Label,
    /// Per entry of `granular_markings`, in order: its label and its selectors; `None` for an
    /// entry that carries no confidentiality label (by language, or a marking that is not one).
    pub granular: Vec<Option<(Label, Vec<Selector>)>>,
}

/// [`object_labels`] read per granular marking: each entry's label once, with its selectors
/// (the same checks, the same errors).
pub fn object_label_entries(
    object: &Value,
    lookup: &dyn Fn(&str) -> Option<Label>,
) -> Result<LabelEntries, LabelError> {
    let read = object_label_refs(object, lookup)?;
    let granular = read
        .granular
        .iter()
        .map(|entry| {
            entry.as_ref().map(|(i, selectors)| {
                (
                    read.labels[*i].clone(),
                    selectors.iter().map(SelectorRef::to_selector).collect(),
                )
            })
        })
        .collect();
    Ok(LabelEntries {
        object: read.object_label().clone(),
        granular,
    })
}

/// An object's labels read in place ([`object_label_refs`]): each marking looked up once, equal
/// labels kept once, the selectors borrowing the object.
#[derive(Debug, Clone)]
pub struct LabelRefs<'a> {
    /// The distinct labels the object's markings name: the object label first, then the labels
    /// of the granular markings in order of first reference.
    pub labels: Vec<Label>,
    /// Per entry of `granular_markings`, in order: the index of its label in `labels`, and its
    /// selectors; `None` for an entry that carries no confidentiality label.
    pub granular: Vec<Option<(usize, Vec<SelectorRef<'a>>)>>,
    /// The object markings that are not confidentiality labels (e.g. TLP), in order.
    pub other_object_markings: Vec<&'a Value>,
}

impl LabelRefs<'_> {
    /// The object's own label.
    pub fn object_label(&self) -> &Label {
        // Never empty: a read without an object label is an error.
        &self.labels[0]
    }
}

/// [`object_label_entries`] read in place, for releasing an object: the same checks and the
/// same errors, each marking id looked up once (`lookup` is taken to answer the same for the
/// same id throughout), and no text copied.
pub fn object_label_refs<'a>(
    object: &'a Value,
    lookup: &dyn Fn(&str) -> Option<Label>,
) -> Result<LabelRefs<'a>, LabelError> {
    let bad =
        |field: &str, m: String| LabelError::new(LabelErrorKind::Malformed(m), field.to_owned());
    let refs: &[Value] = match object.get("object_marking_refs") {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("object_marking_refs", "expected a list".into())),
    };
    let mut labels: Vec<Label> = Vec::new();
    // Marking id → index in `labels`, or `None` for a marking that is no label.
    let mut known: foldhash::HashMap<&'a str, Option<usize>> = foldhash::HashMap::default();
    let mut resolve = |id: &'a str, labels: &mut Vec<Label>| -> Option<usize> {
        *known.entry(id).or_insert_with(|| {
            let label = lookup(id)?;
            Some(match labels.iter().position(|l| *l == label) {
                Some(i) => i,
                None => {
                    labels.push(label);
                    labels.len() - 1
                }
            })
        })
    };
    let mut object_label = None;
    let mut object_labels = 0;
    let mut other_object_markings = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let id = r.as_str().ok_or_else(|| {
            bad(
                &format!("object_marking_refs[{i}]"),
                "expected a string".into(),
            )
        })?;
        match resolve(id, &mut labels) {
            Some(l) => {
                object_labels += 1;
                object_label.get_or_insert(l);
            }
            None => other_object_markings.push(r),
        }
    }
    match (object_labels, object_label) {
        (1, Some(_)) => {}
        (0, _) => {
            return Err(bad(
                "object_marking_refs",
                "the object has no confidentiality label".into(),
            ))
        }
        _ => {
            return Err(bad(
                "object_marking_refs",
                "the object has more than one confidentiality label".into(),
            ))
        }
    }
    let granular: &[Value] = match object.get("granular_markings") {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("granular_markings", "expected a list".into())),
    };
    let mut entries = Vec::with_capacity(granular.len());
    let mut count = 0;
    for (i, g) in granular.iter().enumerate() {
        let field = || format!("granular_markings[{i}]");
        let Some(marking_ref) = member(g, "marking_ref").and_then(Value::as_str) else {
            // A granular marking by language (`lang`) carries no label.
            if member(g, "lang").is_some() {
                entries.push(None);
                continue;
            }
            return Err(bad(&field(), "missing marking_ref".into()));
        };
        let Some(label) = resolve(marking_ref, &mut labels) else {
            entries.push(None);
            continue;
        };
        // Every label comes from the same policy as the object label (the first one).
        if labels[label].policy() != labels[0].policy() {
            return Err(LabelError::new(
                LabelErrorKind::PolicyMismatch {
                    left: labels[0].policy().to_owned(),
                    right: labels[label].policy().to_owned(),
                },
                field(),
            ));
        }
        let selectors = member(g, "selectors")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                bad(
                    &format!("{}.selectors", field()),
                    "expected a non-empty list".into(),
                )
            })?;
        let mut parsed = Vec::with_capacity(selectors.len());
        for (j, s) in selectors.iter().enumerate() {
            let text = s.as_str().ok_or_else(|| {
                bad(
                    &format!("{}.selectors[{j}]", field()),
                    "expected a string".into(),
                )
            })?;
            parsed.push(SelectorRef::parse(text, object)?);
            count += 1;
            if count > MAX_PORTIONS {
                return Err(LabelError::new(
                    LabelErrorKind::TooLarge {
                        what: "portions",
                        limit: MAX_PORTIONS,
                    },
                    field(),
                ));
            }
        }
        entries.push(Some((label, parsed)));
    }
    Ok(LabelRefs {
        labels,
        granular: entries,
        other_object_markings,
    })
}

/// The value of `key` in a JSON object. A granular marking has a handful of fields: they are
/// compared in turn rather than hashed.
fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) if map.len() <= 8 => {
            map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
        }
        _ => value.get(key),
    }
}

impl ObjectLabels {
    /// The effective label of the property `selector` names: the object label dominated by every
    /// portion label on it or on a property containing it.
    pub fn effective(&self, selector: &Selector) -> Result<Label, LabelError> {
        let mut label = self.object.clone();
        for (s, l) in &self.portions {
            if s.contains(selector) {
                label = label.dominate(l)?;
            }
        }
        Ok(label)
    }

    /// The dominant label of the whole object: the banner.
    pub fn banner(&self) -> Result<Label, LabelError> {
        let mut label = self.object.clone();
        for (_, l) in &self.portions {
            label = label.dominate(l)?;
        }
        Ok(label)
    }
}
