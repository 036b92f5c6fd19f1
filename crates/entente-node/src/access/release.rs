//! The release of stored rows to a reader: the fast path (one decision per originator and
//! release key, the stored text served as is or relabelled in place) and the full policy
//! release (parse, labels, cuts, serialization), and [`Access::release_rows`], which picks
//! between them for each row.

use std::sync::Arc;

use entente_labels::Label;
use entente_policy::ReleaseVerdict;
use entente_store::{Store, StoredObject};
use entente_types::{Date, NationCode};
use serde_json::Value;

use super::caches::{DecisionKey, Decisions, ReleasedKey};
use super::key::{row_key, ReleaseKey, RowKey, Spans};
use super::labels::marking_ref_strs;
use super::{Access, Reader};
use crate::error::NodeError;
use crate::spread::{on_cores, Grain};

/// A released object as it is served: its stored text when released unchanged, else the copy
/// the release path returned.
pub enum Served<'a> {
    Stored(&'a str),
    /// The stored text under the markings of a relabelled copy ([`super::key::write_relabelled`]).
    Relabelled {
        json: &'a str,
        spans: Spans,
        refs: Arc<str>,
        portions: Option<Arc<str>>,
    },
    /// A released copy, as JSON text.
    Text(Arc<str>),
}

/// The release of one stored row to a reader.
pub enum Outcome<'a> {
    /// Served as this, referring to these label marking definitions (to publish).
    Served(Served<'a>, Markings),
    Withheld,
}

/// A stored object read as far as its release needs.
enum Parsed {
    /// Released on its markings alone (unless portions are cut).
    ByMarkings(Arc<RowKey>),
    Whole(Value),
    Unreadable,
}

impl Parsed {
    /// Reads `o` on its row key ([`row_key`]), or whole when it has none.
    fn read(o: &StoredObject, key: Option<Arc<RowKey>>) -> Parsed {
        if let Some(key) = key {
            return Parsed::ByMarkings(key);
        }
        match serde_json::from_str(&o.json) {
            Ok(v) => Parsed::Whole(v),
            Err(e) => {
                tracing::error!(object_id = %o.id, error = %e, "stored object is not JSON");
                Parsed::Unreadable
            }
        }
    }

    fn marking_ids(&self) -> Box<dyn Iterator<Item = &str> + Send + '_> {
        match self {
            Parsed::ByMarkings(row) => Box::new(row.key.marking_ids()),
            Parsed::Whole(v) => Box::new(marking_ref_strs(v)),
            Parsed::Unreadable => Box::new(std::iter::empty()),
        }
    }
}

/// How every object with a given [`ReleaseKey`] is released to one reader on one day (from
/// `ReleasePolicy::release_by_markings` and the clearance).
#[derive(Clone)]
pub enum ByMarkings {
    /// Released as stored, byte for byte; the label marking definitions the copy refers to.
    Unchanged(Arc<[Arc<Value>]>),
    /// Released whole under other markings: the copy is the stored text with the values of
    /// `object_marking_refs` and (with portions) `granular_markings` replaced by these
    /// ([`write_relabelled`](super::key::write_relabelled)); the label marking definitions the copy refers to.
    Relabelled {
        refs: Arc<str>,
        portions: Option<Arc<str>>,
        markings: Arc<[Arc<Value>]>,
    },
    /// Not released.
    Withheld,
    /// Released with its markings rewritten: each object goes through [`Access::release`].
    Rewritten,
}

/// The copy readers of one nation may see, and the label their clearance must cover to see it.
struct NationRelease {
    object: Value,
    markings: Vec<Arc<Value>>,
    clearance_needed: Option<Label>,
}

/// The label marking definitions a released copy refers to.
pub type Markings = Arc<[Arc<Value>]>;

/// A [`NationRelease`] as served: its JSON text.
pub(super) struct ReleasedText {
    pub(super) text: Arc<str>,
    markings: Markings,
    clearance_needed: Option<Label>,
}

/// A released copy and the label marking definitions it refers to.
#[cfg(test)]
pub struct Released {
    pub object: Value,
    pub markings: Vec<Arc<Value>>,
}

impl Access {
    /// The copy of a stored object that the reader may see on `day`, or `None`, released afresh: what
    /// [`Access::release_text`] serves (the tests hold other paths to it). The markings the
    /// object refers to must have been loaded first ([`Access::load_markings`]).
    #[cfg(test)]
    pub fn release(
        &self,
        reader: &Reader,
        stored: &StoredObject,
        object: &Value,
        day: Date,
    ) -> Option<Released> {
        let release = self.release_to_nation(stored, object, reader.nation, day)?;
        if let Some(label) = &release.clearance_needed {
            if !self.cleared(reader, label) {
                return None;
            }
        }
        Some(Released {
            object: release.object,
            markings: release.markings,
        })
    }

    /// The copy of a stored object that readers of `nation` may see on `day`, whatever their
    /// clearance, and the label their clearance must cover to see it: [`Access::release`] is
    /// this and that check, so readers of one nation can share the first part.
    fn release_to_nation(
        &self,
        stored: &StoredObject,
        object: &Value,
        nation: NationCode,
        day: Date,
    ) -> Option<NationRelease> {
        let lookup = |id: &str| self.lookup(id);
        let release = self
            .policy
            .release_stored(object, &lookup, stored.originator, nation, day)
            .ok()?;
        if release.verdict == ReleaseVerdict::Deny {
            return None;
        }
        // The banner is the dominant label of what remains: the clearance must cover it.
        Some(NationRelease {
            object: release.object?,
            markings: release.markings,
            clearance_needed: release.banner,
        })
    }

    /// [`Access::release`] of the stored object `stored` as JSON text, taken from the copies
    /// released to the reader's nation so far when there is one (`object` parses the stored text
    /// when there is not). A row's text changes only under a new `seq` (the store's writes give
    /// every changed row the next one), so a copy filed under its `seq` stays right for as long
    /// as the labels cached are those it was released on.
    pub fn release_text(
        &self,
        reader: &Reader,
        stored: &StoredObject,
        object: impl FnOnce() -> Option<Value>,
        day: Date,
    ) -> Option<(Arc<str>, Markings)> {
        let generation = self.cache.generation();
        let key = ReleasedKey {
            seq: stored.seq,
            originator: stored.originator,
            nation: reader.nation,
            day,
        };
        let copy = match self.released.get(generation, &key) {
            Some(copy) => copy,
            None => {
                let copy = object()
                    .and_then(|v| self.release_to_nation(stored, &v, reader.nation, day))
                    .and_then(|r| {
                        Some(Arc::new(ReleasedText {
                            text: serde_json::to_string(&r.object).ok()?.into(),
                            markings: r.markings.into(),
                            clearance_needed: r.clearance_needed,
                        }))
                    });
                self.released.insert(generation, key, copy.clone());
                copy
            }
        }?;
        if let Some(label) = &copy.clearance_needed {
            if !self.cleared(reader, label) {
                return None;
            }
        }
        Some((copy.text.clone(), copy.markings.clone()))
    }

    /// How objects of kinds other than marking and extension definitions whose [`ReleaseKey`] is
    /// `key` are released to the reader on `day`: the same decisions as [`Access::release`] takes for
    /// each of them (the property test `fast_and_full_release_agree` holds the two equal), taken
    /// once for them all. Objects whose release depends on more than their markings (portions
    /// cut) are left to [`Access::release`], one by one.
    pub fn release_by_markings(
        &self,
        reader: &Reader,
        originator: NationCode,
        key: &ReleaseKey<'_>,
        day: Date,
    ) -> ByMarkings {
        // Read before deciding: labels cached meanwhile make the decision stale, not wrong.
        let generation = self.cache.generation();
        let shared = DecisionKey {
            reader: reader.clone(),
            originator,
            day,
            key: key.to_owned_key(),
        };
        if let Some(decision) = self.decisions.get(generation, &shared) {
            return decision;
        }
        let decision = self.decide_by_markings(reader, originator, key, day);
        self.decisions.insert(generation, shared, decision.clone());
        decision
    }

    fn decide_by_markings(
        &self,
        reader: &Reader,
        originator: NationCode,
        key: &ReleaseKey<'_>,
        day: Date,
    ) -> ByMarkings {
        let refs: Vec<&str> = key.refs.iter().map(AsRef::as_ref).collect();
        let selectors: Vec<Vec<&str>> = key
            .portions
            .iter()
            .map(|p| p.selectors.iter().map(AsRef::as_ref).collect())
            .collect();
        let portions: Vec<(&str, &[&str])> = key
            .portions
            .iter()
            .zip(&selectors)
            .map(|(p, s)| (p.marking_ref.as_ref(), s.as_slice()))
            .collect();
        let lookup = |id: &str| self.lookup(id);
        let Ok((release, unchanged)) = self.policy.release_by_markings(
            &refs,
            &portions,
            &lookup,
            originator,
            reader.nation,
            day,
        ) else {
            // Labels that do not read, or none at all: the policy refuses, so nobody sees it.
            return ByMarkings::Withheld;
        };
        match release.verdict {
            ReleaseVerdict::Deny if !release.object_decision.is_permit() || portions.is_empty() => {
                return ByMarkings::Withheld;
            }
            // Which portions go, and so the banner, may depend on what they hold.
            ReleaseVerdict::Deny | ReleaseVerdict::Partial => return ByMarkings::Rewritten,
            ReleaseVerdict::Permit => {}
        }
        // The banner is the dominant label of the object and its portions: the clearance must
        // cover it.
        match &release.banner {
            Some(banner) if self.cleared(reader, banner) => {}
            _ => return ByMarkings::Withheld,
        }
        if unchanged {
            return ByMarkings::Unchanged(release.markings.into());
        }
        // Nothing cut: only the markings of the copy differ from the object's.
        let text = |name: &str| {
            release
                .object
                .as_ref()
                .and_then(|copy| copy.get(name))
                .and_then(|v| serde_json::to_string(v).ok())
                .map(Arc::<str>::from)
        };
        let Some(refs) = text("object_marking_refs") else {
            return ByMarkings::Rewritten;
        };
        let portions = if key.portions.is_empty() {
            None
        } else {
            match text("granular_markings") {
                Some(p) => Some(p),
                None => return ByMarkings::Rewritten,
            }
        };
        ByMarkings::Relabelled {
            refs,
            portions,
            markings: release.markings.into(),
        }
    }

    /// Releases `rows` to `reader` on `day`, in order: each row on the decision for its
    /// originator and release key when its markings decide (taken once per key, the stored text
    /// served as is or relabelled in place), else through the full release path. The markings
    /// the rows refer to are loaded from `store` first. `spread`: the work goes over the cores.
    pub async fn release_rows<'a>(
        &self,
        store: &dyn Store,
        reader: &Reader,
        rows: &'a [StoredObject],
        day: Date,
        spread: bool,
    ) -> Result<Vec<(&'a StoredObject, Outcome<'a>)>, NodeError> {
        let kept = self.row_keys.kept(rows.iter().map(|o| o.seq));
        let rows: Vec<_> = rows.iter().zip(kept).collect();
        // Each row on its kept key, or on its key read now (returned to be kept).
        let read = on_cores(
            spread,
            Grain::Fine,
            rows,
            || (),
            |_, (o, kept)| match kept {
                Some(key) => (o, Parsed::read(o, key), None),
                None => {
                    let key = row_key(o);
                    (o, Parsed::read(o, key.clone()), Some(key))
                }
            },
        );
        self.row_keys.keep(
            read.iter()
                .filter_map(|(o, _, new)| new.as_ref().map(|key| (o.seq, key.clone()))),
        );
        let parsed: Vec<(&StoredObject, Parsed)> =
            read.into_iter().map(|(o, p, _)| (o, p)).collect();
        self.load_marking_ids(store, parsed.iter().flat_map(|(_, p)| p.marking_ids()))
            .await?;
        // Objects without portions cut go on the decision for their markings, taken once per
        // key and batch (the memo lives for one batch: decisions depend on the day and on the
        // labels cached, both fixed here); the others through the full release path. Only the
        // work is spread.
        Ok(on_cores(
            spread,
            Grain::Fine,
            parsed,
            Decisions::default,
            |memo, (o, p)| {
                let outcome = match p {
                    Parsed::ByMarkings(row) => {
                        let decision = memo.get(o.originator, &row, |key| {
                            self.release_by_markings(reader, o.originator, key, day)
                        });
                        self.served_by_markings(reader, o, &row.spans, decision, day)
                    }
                    Parsed::Whole(v) => self.full_release(reader, o, || Some(v), day),
                    Parsed::Unreadable => Outcome::Withheld,
                };
                (o, outcome)
            },
        ))
    }

    /// How row `o` is served on the decision for its markings.
    fn served_by_markings<'a>(
        &self,
        reader: &Reader,
        o: &'a StoredObject,
        spans: &Spans,
        decision: ByMarkings,
        day: Date,
    ) -> Outcome<'a> {
        match decision {
            ByMarkings::Unchanged(markings) => Outcome::Served(Served::Stored(&o.json), markings),
            ByMarkings::Relabelled {
                refs,
                portions,
                markings,
            } if spans.refs.is_some() && (portions.is_none() || spans.portions.is_some()) => {
                Outcome::Served(
                    Served::Relabelled {
                        json: &o.json,
                        spans: spans.clone(),
                        refs,
                        portions,
                    },
                    markings,
                )
            }
            ByMarkings::Withheld => Outcome::Withheld,
            ByMarkings::Relabelled { .. } | ByMarkings::Rewritten => {
                self.full_release(reader, o, || serde_json::from_str(&o.json).ok(), day)
            }
        }
    }

    /// The full release path of one row ([`Access::release_text`]); `object` parses it.
    fn full_release<'a>(
        &self,
        reader: &Reader,
        o: &StoredObject,
        object: impl FnOnce() -> Option<Value>,
        day: Date,
    ) -> Outcome<'a> {
        match self.release_text(reader, o, object, day) {
            Some((text, markings)) => Outcome::Served(Served::Text(text), markings),
            None => Outcome::Withheld,
        }
    }
}
