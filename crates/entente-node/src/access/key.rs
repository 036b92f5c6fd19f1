//! Release keys: what the release of a stored object depends on (its object and granular
//! markings), read in place from its stored text by [`scan`](super::scan) (or, for texts the
//! scanner leaves alone, by `serde_json`), and the splice that writes a relabelled copy.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use entente_store::StoredObject;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::scan;

/// What the release of a stored object depends on, read in place from its stored text: its
/// object markings and its granular markings. Objects with equal keys (and the same originator)
/// are released alike to a reader on a day, so the decision is taken once for them all
/// ([`Access::release_by_markings`](super::Access::release_by_markings)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReleaseKey<'a> {
    /// `object_marking_refs`, in order.
    pub refs: Vec<Cow<'a, str>>,
    /// `granular_markings`, in order: each one's marking and selectors.
    pub portions: Vec<Portion<'a>>,
}

/// One granular marking of a [`ReleaseKey`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Portion<'a> {
    pub marking_ref: Cow<'a, str>,
    pub selectors: Vec<Cow<'a, str>>,
}

impl ReleaseKey<'_> {
    /// The same key, owning its text.
    pub fn to_owned_key(&self) -> ReleaseKey<'static> {
        let own = |s: &Cow<'_, str>| Cow::Owned(s.as_ref().to_owned());
        ReleaseKey {
            refs: self.refs.iter().map(own).collect(),
            portions: self
                .portions
                .iter()
                .map(|p| Portion {
                    marking_ref: own(&p.marking_ref),
                    selectors: p.selectors.iter().map(own).collect(),
                })
                .collect(),
        }
    }

    /// Every marking id the key refers to.
    pub fn marking_ids(&self) -> impl Iterator<Item = &str> {
        self.refs
            .iter()
            .map(AsRef::as_ref)
            .chain(self.portions.iter().map(|p| p.marking_ref.as_ref()))
    }
}

/// The [`ReleaseKey`] of a stored object, read without building a JSON value.
///
/// `None` (read the whole object instead) for an object with a top-level empty list (the
/// release refuses a required one), with a key twice, whose `object_marking_refs` is not a list
/// of strings, whose granular markings are anything but non-empty lists of entries holding
/// exactly a `marking_ref` and `selectors` (strings), or with a selector that names no property
/// of the object: the full release path handles each of these exactly as before.
pub fn release_key(json: &str) -> Option<(ReleaseKey<'_>, Spans)> {
    let view = match scan::top_level(json) {
        Some(members) => {
            let mut view = TopLevel {
                properties: Vec::with_capacity(members.len()),
                ..TopLevel::default()
            };
            for (name, value) in members {
                view.add(Cow::Borrowed(name), &json[value]).ok()?;
            }
            view
        }
        None => parsed_top_level(json)?,
    };
    key_of(json, view)
}

/// [`release_key`] with the top level read by the JSON parser alone: the reference the scanner
/// is tested against.
pub fn parsed_release_key(json: &str) -> Option<(ReleaseKey<'_>, Spans)> {
    key_of(json, parsed_top_level(json)?)
}

/// Whether the scanner reads `json` as the parser does wherever it must: on a valid JSON text,
/// the members [`scan::top_level`] finds (when it reads the text at all) are those
/// [`scan::parsed_top_level`] finds, and [`release_key`] equals [`parsed_release_key`]. The fuzz
/// target `release_key` and the property tests hold it on every input.
pub fn scanner_agrees(json: &str) -> bool {
    let parsed_key = parsed_release_key(json);
    let valid = serde_json::from_str::<de::IgnoredAny>(json).is_ok();
    if (valid || parsed_key.is_some()) && release_key(json) != parsed_key {
        return false;
    }
    if !valid {
        return true;
    }
    match (scan::top_level(json), scan::parsed_top_level(json)) {
        (None, _) => true,
        (Some(scanned), Some(parsed)) => {
            scanned.len() == parsed.len()
                && scanned
                    .iter()
                    .zip(&parsed)
                    .all(|((name, at), (parsed_name, parsed_at))| {
                        name == parsed_name && at == parsed_at
                    })
        }
        (Some(_), None) => false,
    }
}

fn parsed_top_level(json: &str) -> Option<TopLevel<'_>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let view = (&mut de).deserialize_map(TopLevelVisitor).ok()?;
    de.end().ok()?;
    Some(view)
}

fn key_of<'a>(json: &'a str, view: TopLevel<'a>) -> Option<(ReleaseKey<'a>, Spans)> {
    if view.read_whole {
        return None;
    }
    let span = |text: Option<&str>| {
        text.map(|text| {
            let start = text.as_ptr() as usize - json.as_ptr() as usize;
            start..start + text.len()
        })
    };
    let spans = Spans {
        refs: span(view.refs_text),
        portions: span(view.portions_text),
    };
    let resolved = view
        .key
        .portions
        .iter()
        .all(|p| p.selectors.iter().all(|s| resolves(&view.properties, s)));
    resolved.then_some((view.key, spans))
}

/// Where the values of `object_marking_refs` and `granular_markings` are in a stored text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    pub refs: Option<Range<usize>>,
    pub portions: Option<Range<usize>>,
}

/// The release key of a stored row and where its markings are in the row's text, owning both.
#[derive(Debug)]
pub struct RowKey {
    pub key: ReleaseKey<'static>,
    pub spans: Spans,
}

/// How a stored row is read for its release: on its markings (`Some`), or whole (`None`: marking
/// and extension definitions, and the texts [`release_key`] leaves to the parser).
pub fn row_key(o: &StoredObject) -> Option<Arc<RowKey>> {
    if matches!(
        o.kind.as_str(),
        "marking-definition" | "extension-definition"
    ) {
        return None;
    }
    let (key, spans) = release_key(&o.json)?;
    Some(Arc::new(RowKey {
        key: key.to_owned_key(),
        spans,
    }))
}

/// Writes to `out` the stored text `json` with its markings replaced by those of a relabelled
/// copy ([`ByMarkings::Relabelled`](super::ByMarkings::Relabelled)): the text the full release path would serialize, as only
/// these two values differ. `false` (nothing written) when a value to replace is not there.
pub fn write_relabelled(
    out: &mut Vec<u8>,
    json: &str,
    spans: &Spans,
    refs: &str,
    portions: Option<&str>,
) -> bool {
    let Some(refs_at) = spans.refs.clone() else {
        return false;
    };
    let mut pieces = vec![(refs_at, refs)];
    if let Some(portions) = portions {
        let Some(at) = spans.portions.clone() else {
            return false;
        };
        pieces.push((at, portions));
    }
    pieces.sort_by_key(|(at, _)| at.start);
    let mut from = 0;
    for (at, text) in pieces {
        out.extend_from_slice(&json.as_bytes()[from..at.start]);
        out.extend_from_slice(text.as_bytes());
        from = at.end;
    }
    out.extend_from_slice(&json.as_bytes()[from..]);
    true
}

/// Whether `selector` names a property of the object whose other top-level properties are
/// `properties`: the resolution of `entente_labels::portion::Selector`, on the stored text.
fn resolves(properties: &[(Cow<'_, str>, &str)], selector: &str) -> bool {
    let mut parts = selector.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut here) = properties.iter().find(|(k, _)| k == first).map(|(_, v)| *v) else {
        return false;
    };
    for part in parts {
        let next = match part
            .strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(index) => serde_json::from_str::<Vec<&RawValue>>(here)
                .ok()
                .and_then(|list| list.get(index).map(|v| v.get())),
            None => member(here, part),
        };
        match next {
            Some(v) => here = v,
            None => return false,
        }
    }
    true
}

/// The value of property `name` of the JSON object `text` (the last one, as a parsed value keeps).
fn member<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    struct Find<'n>(&'n str);
    impl<'de> de::DeserializeSeed<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut found = None;
            while let Some(InPlace(key)) = map.next_key::<InPlace<'de>>()? {
                let value = map.next_value::<&'de RawValue>()?;
                if key == self.0 {
                    found = Some(value);
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(Find(name), &mut de)
        .ok()
        .flatten()
        .map(RawValue::get)
}

/// The top level of an object as [`release_key`] reads it.
#[derive(Default)]
struct TopLevel<'a> {
    key: ReleaseKey<'a>,
    refs_text: Option<&'a str>,
    portions_text: Option<&'a str>,
    /// Every other property, unparsed, for resolving selectors.
    properties: Vec<(Cow<'a, str>, &'a str)>,
    /// Something the full release path must see.
    read_whole: bool,
}

impl<'a> TopLevel<'a> {
    /// Takes in one member: `value` is its text, valid JSON (an error for markings that are
    /// not as [`release_key`] reads them makes the whole object unreadable here).
    fn add(&mut self, name: Cow<'a, str>, value: &'a str) -> Result<(), serde_json::Error> {
        match name.as_ref() {
            "object_marking_refs" => {
                self.read_whole |= self.refs_text.replace(value).is_some();
                self.key.refs = match scan::plain_strings(value) {
                    Some(refs) => refs.into_iter().map(Cow::Borrowed).collect(),
                    None => serde_json::from_str::<Vec<InPlace<'a>>>(value)?
                        .into_iter()
                        .map(|s| s.0)
                        .collect(),
                };
            }
            "granular_markings" => {
                self.read_whole |= self.portions_text.replace(value).is_some();
                self.key.portions = serde_json::from_str::<Vec<StoredPortion<'a>>>(value)?
                    .into_iter()
                    .map(|p| Portion {
                        marking_ref: p.marking_ref.0,
                        selectors: p.selectors.into_iter().map(|s| s.0).collect(),
                    })
                    .collect();
                self.read_whole |= self.key.portions.is_empty();
            }
            _ => {
                self.read_whole |=
                    is_empty_list(value) || self.properties.iter().any(|(k, _)| *k == name);
                self.properties.push((name, value));
            }
        }
        Ok(())
    }
}

/// A granular marking as stored, when it holds exactly a marking and selectors.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPortion<'a> {
    #[serde(borrow)]
    marking_ref: InPlace<'a>,
    #[serde(borrow)]
    selectors: Vec<InPlace<'a>>,
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<TopLevel<'de>, M::Error> {
        let mut view = TopLevel {
            properties: Vec::with_capacity(16),
            ..TopLevel::default()
        };
        while let Some(InPlace(key)) = map.next_key::<InPlace<'de>>()? {
            let value = map.next_value::<&'de RawValue>()?;
            view.add(key, value.get()).map_err(de::Error::custom)?;
        }
        Ok(view)
    }
}

/// Whether a JSON value's text is an empty list.
fn is_empty_list(text: &str) -> bool {
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .is_some_and(|inside| inside.trim_matches([' ', '\t', '\n', '\r']).is_empty())
}

/// A string borrowed from the stored text when it has no escape, else unescaped into a copy.
struct InPlace<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for InPlace<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<InPlace<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = InPlace<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<InPlace<'a>, E> {
                Ok(InPlace(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<InPlace<'a>, E> {
                Ok(InPlace(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}
