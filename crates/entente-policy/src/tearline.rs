//! Tear lines: the copy of a STIX object that one recipient may receive.
//!
//! Each portion (a property named by a granular marking) is decided on its effective label; the
//! object as a whole on its object label. Denied portions are cut out, the selectors of the portions
//! that remain are re-indexed, and the object's label is replaced by the banner: the dominant label
//! of what remains. A denied portion leaves no trace in the copy: not its content, not its label,
//! not its selector, not a count.

use std::sync::{Arc, Mutex, OnceLock};

use entente_labels::portion::{object_label_refs, SelectorRef, StepRef};
use entente_labels::{Label, LabelError};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::compiled::ReleasePolicy;
use crate::decision::Decision;
use crate::PolicyError;

/// The outcome for a whole object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseVerdict {
    /// Released whole.
    Permit,
    /// Released with portions cut out.
    Partial,
    /// Not released.
    Deny,
}

/// A released (or refused) object, with every decision taken on the way.
#[derive(Debug, Clone)]
pub struct Release {
    pub verdict: ReleaseVerdict,
    /// The tear-lined copy, when released.
    pub object: Option<Value>,
    /// The marking definitions the copy refers to (its banner and remaining portion labels),
    /// shared with the policy's memo of marking definitions.
    pub markings: Vec<std::sync::Arc<Value>>,
    /// The banner label of the copy.
    pub banner: Option<Label>,
    /// The decision on the object's own label.
    pub object_decision: Decision,
    /// The decision on each portion, by selector (for the releasing side's explanation only).
    pub portions: Vec<(String, Decision)>,
    /// A required property whose portion was denied, which makes the whole object undeliverable.
    pub required_denied: Option<String>,
}

/// One granular marking: the index of its own label, and its selectors.
type GranularEntry<'a> = (usize, Vec<SelectorRef<'a>>);

/// A released copy as it depends on which portions were permitted, shared by every recipient
/// whose decisions permit the same portions.
#[derive(Debug)]
struct Copy {
    verdict: ReleaseVerdict,
    object: Option<Arc<Value>>,
    markings: Vec<Arc<Value>>,
    banner: Option<Arc<Label>>,
    required_denied: Option<String>,
}

/// The release of a prepared object to one recipient, with its copy shared with every other
/// recipient of the same prepared object whose decisions permit the same portions
/// ([`ReleasePolicy::release_prepared_shared`]).
#[derive(Debug, Clone)]
pub struct SharedRelease {
    pub verdict: ReleaseVerdict,
    /// The tear-lined copy, when released.
    pub object: Option<Arc<Value>>,
    /// The marking definitions the copy refers to (see [`Release::markings`]).
    pub markings: Vec<Arc<Value>>,
    /// The banner label of the copy.
    pub banner: Option<Arc<Label>>,
    /// The decision on the object's own label.
    pub object_decision: Decision,
    /// The decision on each portion, by selector.
    pub portions: Vec<(String, Decision)>,
    /// A required property whose portion was denied, which makes the whole object undeliverable.
    pub required_denied: Option<String>,
}

impl From<SharedRelease> for Release {
    fn from(r: SharedRelease) -> Release {
        Release {
            verdict: r.verdict,
            object: r.object.map(Arc::unwrap_or_clone),
            markings: r.markings,
            banner: r.banner.map(Arc::unwrap_or_clone),
            object_decision: r.object_decision,
            portions: r.portions,
            required_denied: r.required_denied,
        }
    }
}

/// An object read once for releasing to any number of recipients: its labels validated, the
/// effective label of every portion computed (when a recipient first needs them), equal labels
/// shared.
#[derive(Debug)]
pub struct PreparedObject<'a> {
    object: &'a Value,
    /// Distinct labels: index 0 is the object label, then the granular markings' own labels.
    labels: Vec<Label>,
    /// Per granular marking (by position in `granular_markings`): its own label (an index into
    /// `labels`) and its selectors. `None` for markings that carry no confidentiality label (kept
    /// as they are).
    granular: Vec<Option<GranularEntry<'a>>>,
    /// Non-label object markings (e.g. TLP), kept as they are.
    other_object_markings: Vec<&'a Value>,
    /// The effective label of every selector. Only a recipient permitted the object label needs
    /// them, and most recipients of a restricted object are not: they are computed once, for the
    /// first that is.
    effective: OnceLock<Result<Effective, LabelError>>,
    /// The copies built so far, by which of `Effective::decided` were permitted (the object label
    /// being permitted): recipients with the same decisions share one.
    copies: Mutex<Vec<(Vec<bool>, Arc<Copy>)>>,
}

/// The effective labels of a prepared object's selectors.
#[derive(Debug)]
struct Effective {
    /// Effective labels that are none of the object's own: label `i` of the object is
    /// `PreparedObject::labels[i]`, then these.
    labels: Vec<Label>,
    /// Per selector, in the order of the granular markings and their selectors: the index of its
    /// effective label.
    of_selector: Vec<usize>,
    /// The effective labels some selector carries (sorted, distinct): the ones a release decides.
    decided: Vec<usize>,
}

impl<'a> PreparedObject<'a> {
    /// The object's own label.
    pub fn object_label(&self) -> &Label {
        &self.labels[0]
    }

    /// Every selector, in the order of the granular markings and their selectors.
    fn selectors(&self) -> impl Iterator<Item = &SelectorRef<'a>> {
        self.granular.iter().flatten().flat_map(|(_, s)| s)
    }

    /// Label `i`: one of the object's own, or an effective label.
    fn label<'l>(&'l self, effective: &'l Effective, i: usize) -> &'l Label {
        match i.checked_sub(self.labels.len()) {
            Some(e) => &effective.labels[e],
            None => &self.labels[i],
        }
    }
}

impl ReleasePolicy {
    /// Reads and validates an object's labels once, for [`ReleasePolicy::release_prepared`].
    pub fn prepare<'a>(
        &self,
        object: &'a Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
    ) -> Result<PreparedObject<'a>, PolicyError> {
        // Structure, policies and limits are checked by the labels crate.
        let read = object_label_refs(object, lookup)?;
        for label in &read.labels {
            self.check_release_tokens(label)?;
        }
        let prepared = PreparedObject {
            object,
            labels: read.labels,
            granular: read.granular,
            other_object_markings: read.other_object_markings,
            effective: OnceLock::new(),
            copies: Mutex::new(Vec::new()),
        };
        // Labels that all name "Releasable To" sets, or all none, dominate one another without
        // fail (one policy, checked by the labels crate). Otherwise the policy's default release
        // is written out, which can fail: then effective labels are computed here, so that the
        // object is refused whoever the recipient.
        let releasable = prepared.labels[0].releasable_to().is_empty();
        if prepared
            .labels
            .iter()
            .any(|l| l.releasable_to().is_empty() != releasable)
        {
            let effective = self.effective_labels(&prepared)?;
            let _ = prepared.effective.set(Ok(effective));
        }
        Ok(prepared)
    }

    /// The effective labels of a prepared object, computed on first use.
    fn effective<'p>(
        &self,
        prepared: &'p PreparedObject<'_>,
    ) -> Result<&'p Effective, PolicyError> {
        prepared
            .effective
            .get_or_init(|| self.effective_labels(prepared))
            .as_ref()
            .map_err(|e| PolicyError::Label(e.clone()))
    }

    /// The effective label of a selector is the object label dominated by the labels of every
    /// portion containing it (on it, or on a property containing it); selectors covered by the
    /// same labels share one computation.
    fn effective_labels(&self, prepared: &PreparedObject<'_>) -> Result<Effective, LabelError> {
        let own = &prepared.labels;
        // Every selector's path with its marking's label. The markings containing a selector are
        // those on its prefixes: by path, the label of the first marking on it, and whether
        // others are on it too (rare: then all are looked for).
        let all: Vec<(&[StepRef<'_>], usize)> = prepared
            .granular
            .iter()
            .flatten()
            .flat_map(|(label, selectors)| selectors.iter().map(move |s| (s.steps(), *label)))
            .collect();
        let mut on_path: foldhash::HashMap<&[StepRef<'_>], (usize, bool)> =
            foldhash::HashMap::with_capacity_and_hasher(all.len(), Default::default());
        for &(steps, label) in &all {
            on_path
                .entry(steps)
                .and_modify(|(_, more)| *more = true)
                .or_insert((label, false));
        }
        let mut memo: Vec<(Vec<usize>, usize)> = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        let mut of_selector = Vec::with_capacity(all.len());
        let mut covering: Vec<usize> = Vec::new();
        for &(steps, _) in &all {
            covering.clear();
            for depth in 1..=steps.len() {
                let prefix = &steps[..depth];
                match on_path.get(prefix) {
                    Some(&(label, false)) => covering.push(label),
                    Some(&(_, true)) => covering.extend(
                        all.iter()
                            .filter(|(s, _)| *s == prefix)
                            .map(|&(_, label)| label),
                    ),
                    None => {}
                }
            }
            covering.sort_unstable();
            covering.dedup();
            of_selector.push(match memo.iter().find(|(c, _)| *c == covering) {
                Some(&(_, i)) => i,
                None => {
                    let mut label = own[0].clone();
                    for &i in &covering {
                        label = self.dominate(&label, &own[i])?;
                    }
                    let i = match own.iter().position(|l| *l == label) {
                        Some(i) => i,
                        None => match labels.iter().position(|l| *l == label) {
                            Some(e) => own.len() + e,
                            None => {
                                labels.push(label);
                                own.len() + labels.len() - 1
                            }
                        },
                    };
                    memo.push((covering.clone(), i));
                    i
                }
            });
        }
        let mut decided = of_selector.clone();
        decided.sort_unstable();
        decided.dedup();
        Ok(Effective {
            labels,
            of_selector,
            decided,
        })
    }

    /// The copy of `object` that `recipient` may receive from `originator` on `day`. `lookup`
    /// maps marking-definition ids to labels.
    pub fn release_object(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Release, PolicyError> {
        let prepared = self.prepare(object, lookup)?;
        self.release_prepared(&prepared, originator, recipient, day)
    }

    /// The release of every object that carries the object markings `refs` and the granular
    /// markings `portions` (their `(marking_ref, selectors)`, in order, each entry holding nothing
    /// else), in which every selector names a property, and whose required properties hold no
    /// empty list (STIX allows none: `entente-stix` refuses them on ingest). It is computed by
    /// [`ReleasePolicy::release_object`] on a stand-in that holds the markings and, at every
    /// selector, a null, and holds for each such object as far as these outcomes go:
    /// - `Deny` with a denied object decision, or an error: such an object is refused too;
    /// - `Permit` (nothing cut): its banner and markings are the object's, and the flag says
    ///   whether the copy is the object itself (portions permitted, markings unchanged); the
    ///   copy differs from the object at most in `object_marking_refs` and `granular_markings`.
    ///
    /// Without portions these are the only outcomes. With portions, a `Partial` release, or a
    /// `Deny` for a required property, depends on what the cut properties hold (a list may be
    /// emptied): only [`ReleasePolicy::release_object`] on the object itself decides those.
    pub fn release_by_markings(
        &self,
        refs: &[&str],
        portions: &[(&str, &[&str])],
        lookup: &dyn Fn(&str) -> Option<Label>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<(Release, bool), PolicyError> {
        let mut stand_in = serde_json::Map::new();
        stand_in.insert("object_marking_refs".into(), serde_json::json!(refs));
        if !portions.is_empty() {
            let entries: Vec<Value> = portions
                .iter()
                .map(|(marking, selectors)| {
                    serde_json::json!({ "marking_ref": marking, "selectors": selectors })
                })
                .collect();
            stand_in.insert("granular_markings".into(), Value::Array(entries));
            for (_, selectors) in portions {
                for selector in selectors.iter() {
                    place_null(&mut stand_in, selector);
                }
            }
        }
        let stand_in = Value::Object(stand_in);
        let release = self.release_object(&stand_in, lookup, originator, recipient, day)?;
        let unchanged =
            release.verdict == ReleaseVerdict::Permit && release.object.as_ref() == Some(&stand_in);
        Ok((release, unchanged))
    }

    /// The copy of a prepared object that `recipient` may receive from `originator` on `day`.
    pub fn release_prepared(
        &self,
        prepared: &PreparedObject<'_>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Release, PolicyError> {
        self.release_prepared_shared(prepared, originator, recipient, day)
            .map(Release::from)
    }

    /// [`ReleasePolicy::release_prepared`] with the copy shared: recipients of the same prepared
    /// object whose decisions permit the same portions receive the same copy (built once), not a
    /// copy each.
    pub fn release_prepared_shared(
        &self,
        prepared: &PreparedObject<'_>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<SharedRelease, PolicyError> {
        let object_decision = self.decide(&prepared.labels[0], originator, recipient, day);
        if !object_decision.is_permit() {
            return Ok(SharedRelease {
                verdict: ReleaseVerdict::Deny,
                object: None,
                markings: Vec::new(),
                banner: None,
                object_decision,
                portions: Vec::new(),
                required_denied: None,
            });
        }
        let effective = self.effective(prepared)?;
        // Each distinct effective label is decided once.
        let mut decisions: Vec<Option<Decision>> =
            vec![None; prepared.labels.len() + effective.labels.len()];
        let mut permitted = Vec::with_capacity(effective.decided.len());
        for &i in &effective.decided {
            let d = if i == 0 {
                object_decision.clone()
            } else {
                self.decide(prepared.label(effective, i), originator, recipient, day)
            };
            permitted.push(d.is_permit());
            decisions[i] = Some(d);
        }
        let mut portions = Vec::with_capacity(effective.of_selector.len());
        for (selector, &i) in prepared.selectors().zip(&effective.of_selector) {
            if let Some(d) = &decisions[i] {
                portions.push((selector.as_str().to_owned(), d.clone()));
            }
        }
        let found = prepared.copies.lock().ok().and_then(|copies| {
            copies
                .iter()
                .find(|(key, _)| *key == permitted)
                .map(|(_, c)| c.clone())
        });
        let copy = match found {
            Some(copy) => copy,
            None => {
                let copy = Arc::new(self.build_copy(prepared, effective, &decisions)?);
                if let Ok(mut copies) = prepared.copies.lock() {
                    copies.push((permitted, copy.clone()));
                }
                copy
            }
        };
        Ok(SharedRelease {
            verdict: copy.verdict,
            object: copy.object.clone(),
            markings: copy.markings.clone(),
            banner: copy.banner.clone(),
            object_decision,
            portions,
            required_denied: copy.required_denied.clone(),
        })
    }

    /// The copy of a prepared object whose object label is permitted, given the decision on each
    /// effective label its selectors carry.
    fn build_copy(
        &self,
        prepared: &PreparedObject<'_>,
        effective: &Effective,
        decisions: &[Option<Decision>],
    ) -> Result<Copy, PolicyError> {
        let object = prepared.object;
        let refused = |required_denied| Copy {
            verdict: ReleaseVerdict::Deny,
            object: None,
            markings: Vec::new(),
            banner: None,
            required_denied,
        };
        let denied: Vec<&[StepRef<'_>]> = prepared
            .selectors()
            .zip(&effective.of_selector)
            .filter(|(_, e)| !decisions[**e].as_ref().is_some_and(Decision::is_permit))
            .map(|(s, _)| s.steps())
            .collect();
        // Only the outermost denied portions are cut (inner ones go with them).
        let mut cuts: Vec<&[StepRef<'_>]> = denied
            .iter()
            .copied()
            .filter(|s| !denied.iter().any(|o| o != s && s.starts_with(o)))
            .collect();
        cuts.sort_by(|a, b| b.cmp(a));
        cuts.dedup();

        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Properties the object cannot lose and stay valid STIX.
        let required = entente_stix::required_properties(kind);
        for cut in &cuts {
            if let [StepRef::Key(k)] = cut {
                if required.contains(k) {
                    return Ok(refused(Some((*k).to_owned())));
                }
            }
        }
        let mut copy = object.clone();
        for cut in &cuts {
            remove(&mut copy, cut);
        }
        for key in required {
            if copy
                .get(key)
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                return Ok(refused(Some((*key).to_owned())));
            }
        }
        // A list whose every element was cut goes too: STIX allows no empty lists, and a
        // selector left on it would name nothing.
        let mut emptied: Vec<&[StepRef<'_>]> = Vec::new();
        for cut in &cuts {
            if let Some((StepRef::Index(_), parent)) = cut.split_last() {
                if get(&copy, parent)
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                    && !emptied.contains(&parent)
                {
                    remove(&mut copy, parent);
                    emptied.push(parent);
                }
            }
        }
        cuts.extend(emptied);

        // Rewrite what remains of the granular markings (in the copy, in place), and compute the
        // banner over it.
        let mut banner = prepared.labels[0].clone();
        let mut remaining: Vec<usize> = Vec::new();
        if let Some(Value::Array(entries)) = copy.get_mut("granular_markings") {
            let mut kept_entries = Vec::with_capacity(entries.len());
            for (mut entry, prepared_entry) in
                std::mem::take(entries).into_iter().zip(&prepared.granular)
            {
                let Some((own, selectors)) = prepared_entry else {
                    kept_entries.push(entry);
                    continue;
                };
                let kept: Vec<Value> = selectors
                    .iter()
                    .filter(|s| !cuts.iter().any(|c| s.steps().starts_with(c)))
                    .map(|s| Value::String(reindex(s.steps(), &cuts)))
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                if !remaining.contains(own) {
                    banner = self.dominate(&banner, &prepared.labels[*own])?;
                    remaining.push(*own);
                }
                match entry.get_mut("selectors") {
                    Some(slot) => *slot = Value::Array(kept),
                    None => entry["selectors"] = Value::Array(kept),
                }
                kept_entries.push(entry);
            }
            *entries = kept_entries;
        }
        if copy
            .get("granular_markings")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            if let Some(map) = copy.as_object_mut() {
                map.remove("granular_markings");
            }
        }
        let policies = self.policies();
        let banner_marking = self.marking_memo.get_or_build(policies, &banner)?;
        if let Some(Value::Array(refs)) = copy.get_mut("object_marking_refs") {
            *refs = std::iter::once(banner_marking["id"].clone())
                .chain(prepared.other_object_markings.iter().map(|&m| m.clone()))
                .collect();
        }
        let mut ids = vec![banner_marking["id"].clone()];
        let mut markings = vec![banner_marking];
        for &i in &remaining {
            let md = self
                .marking_memo
                .get_or_build(policies, &prepared.labels[i])?;
            let id = &md["id"];
            if !ids.contains(id) {
                ids.push(id.clone());
                markings.push(md);
            }
        }
        Ok(Copy {
            verdict: if cuts.is_empty() {
                ReleaseVerdict::Permit
            } else {
                ReleaseVerdict::Partial
            },
            object: Some(Arc::new(copy)),
            markings,
            banner: Some(Arc::new(banner)),
            required_denied: None,
        })
    }
}

/// The value at `steps`, if present.
fn get<'v>(value: &'v Value, steps: &[StepRef<'_>]) -> Option<&'v Value> {
    steps.iter().try_fold(value, |here, step| match step {
        StepRef::Key(k) => here.get(*k),
        StepRef::Index(i) => here.get(*i),
    })
}

/// Removes the property or list element at `steps`.
fn remove(value: &mut Value, steps: &[StepRef<'_>]) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut here = value;
    for step in parents {
        let next = match step {
            StepRef::Key(k) => here.get_mut(*k),
            StepRef::Index(i) => here.get_mut(*i),
        };
        match next {
            Some(n) => here = n,
            None => return,
        }
    }
    match (last, here) {
        (StepRef::Key(k), Value::Object(map)) => {
            map.remove(*k);
        }
        (StepRef::Index(i), Value::Array(list)) if *i < list.len() => {
            list.remove(*i);
        }
        _ => {}
    }
}

/// The selector text for `steps` after the list elements in `cuts` were removed (indexes
/// written in plain decimal).
fn reindex(steps: &[StepRef<'_>], cuts: &[&[StepRef<'_>]]) -> String {
    let mut out = String::with_capacity(steps.len() * 12);
    let mut digits = itoa::Buffer::new();
    for (k, step) in steps.iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        match step {
            StepRef::Key(key) => out.push_str(key),
            StepRef::Index(j) => {
                let prefix = &steps[..k];
                let removed_before = cuts
                    .iter()
                    .filter(|c| {
                        c.len() == k + 1
                            && &c[..k] == prefix
                            && matches!(c[k], StepRef::Index(i) if i < *j)
                    })
                    .count();
                out.push('[');
                out.push_str(digits.format(j - removed_before));
                out.push(']');
            }
        }
    }
    out
}

/// Makes `selector` name a property of `object`: the containers on its way are created (objects
/// for names, lists long enough for indexes) and a missing end is a null. A selector that cannot
/// be placed (its way crosses a value of another shape), or that would write into the markings
/// themselves, is left out: the release of the stand-in then refuses it, as the object's own
/// release refuses such a selector.
const MAX_STAND_IN_INDEX: usize = 1 << 20;

fn place_null(object: &mut serde_json::Map<String, Value>, selector: &str) {
    let mut parts = selector.split('.');
    let Some(first) = parts.next() else {
        return;
    };
    if matches!(first, "object_marking_refs" | "granular_markings") {
        return;
    }
    let mut here = object.entry(first.to_owned()).or_insert(Value::Null);
    for part in parts {
        let index = part
            .strip_prefix('[')
            .and_then(|p| p.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok());
        if here.is_null() {
            // A selector that ended here (or this one, so far): the way becomes a container.
            *here = match index {
                Some(_) => Value::Array(Vec::new()),
                None => Value::Object(serde_json::Map::new()),
            };
        }
        here = match (index, here) {
            // A real object that this selector resolves in holds that many elements; a stand-in
            // never needs more than the largest envelope could hold.
            (Some(n), Value::Array(_)) if n > MAX_STAND_IN_INDEX => return,
            (Some(n), Value::Array(list)) => {
                if list.len() <= n {
                    list.resize(n + 1, Value::Null);
                }
                &mut list[n]
            }
            (None, Value::Object(map)) => map.entry(part.to_owned()).or_insert(Value::Null),
            _ => return,
        };
    }
}
