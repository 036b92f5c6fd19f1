//! Stored objects: the rules that come before any label (which kinds hold information, what an
//! object posted without a label is stored under, what nobody receives), and the one
//! explanation of a release.
//!
//! The node's read path and federation's dispatch both release through
//! [`ReleasePolicy::release_stored`], so the same object, recipient and day get the same decision
//! whichever way the object leaves the node.

use std::collections::HashMap;
use std::sync::Arc;

use entente_labels::{parse_marking, stix, Label};
use entente_types::{Date, NationCode};
use serde_json::Value;

use crate::compiled::ReleasePolicy;
use crate::decision::{Decision, Reason, Verdict};
use crate::tearline::{Release, ReleaseVerdict};
use crate::PolicyError;

/// How an object is treated by its STIX type, before any label is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindRule {
    /// An extension definition: a schema every reader of the collection may see. Each node holds
    /// the definitions it needs, so federation does not carry them.
    Schema,
    /// A marking definition: released under the label it carries (if it carries one). It travels
    /// between nodes with the objects that refer to it, never on its own.
    MarkingDefinition,
    /// Information: released under its labels, portion by portion.
    Information,
}

impl KindRule {
    /// The rule for objects of STIX type `kind`.
    pub fn of(kind: &str) -> KindRule {
        match kind {
            "extension-definition" => KindRule::Schema,
            "marking-definition" => KindRule::MarkingDefinition,
            _ => KindRule::Information,
        }
    }

    /// Whether federation sends objects of this kind to partners as objects of their own.
    pub fn is_federated(self) -> bool {
        self == KindRule::Information
    }
}

/// What ingest does with the labels of an object ([`ReleasePolicy::label_at_ingest`]).
#[derive(Debug, Clone)]
pub enum AtIngest {
    /// The object carries its confidentiality label: stored as posted.
    Labelled,
    /// The object carries none: stored with this marking definition (the node's default label)
    /// added to its `object_marking_refs`.
    Default(Arc<Value>),
}

impl ReleasePolicy {
    /// Sets the label an object posted without one is stored under. `text` is a marking
    /// (`NATO RESTRICTED//REL TO FRA, DEU`), validated against the policies and the registry.
    pub fn with_default_label(mut self, text: Option<&str>) -> Result<ReleasePolicy, PolicyError> {
        self.default_label = match text {
            None => None,
            Some(text) => {
                let label = parse_marking(self.policies(), text)?;
                self.check_release_tokens(&label)?;
                Some(label)
            }
        };
        Ok(self)
    }

    /// The label an object posted without one is stored under, if the node has one.
    pub fn default_label(&self) -> Option<&Label> {
        self.default_label.as_ref()
    }

    /// The label decisions at ingest for an object whose marking definitions are all known to
    /// `lookup`: an object without a confidentiality label gets the default label written in, so
    /// that the stored object carries the marking it is served and federated under; without a
    /// default label it is refused. Kinds other than information are stored as posted.
    pub fn label_at_ingest(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
    ) -> Result<AtIngest, PolicyError> {
        self.label_at_ingest_under(object, lookup, self.default_label.as_ref())
    }

    /// [`ReleasePolicy::label_at_ingest`] with `default` standing for the node's default label
    /// (a crisis room's label, in the room's collection).
    pub fn label_at_ingest_under(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
        default: Option<&Label>,
    ) -> Result<AtIngest, PolicyError> {
        if KindRule::of(kind_of(object)) != KindRule::Information || is_labelled(object, lookup) {
            return Ok(AtIngest::Labelled);
        }
        match default {
            Some(label) => Ok(AtIngest::Default(
                self.marking_memo.get_or_build(self.policies(), label)?,
            )),
            None => Err(PolicyError::Invalid(
                "the object has no confidentiality label (object_marking_refs) and the node has no default label".into(),
            )),
        }
    }

    /// The copy of a stored object that `recipient` may receive from `originator` on `day`,
    /// whatever its kind: extension definitions go to everyone; a marking definition goes under
    /// the label it carries; information without a confidentiality label goes to nobody; other
    /// information is tear-lined by [`ReleasePolicy::release_object`]. `banner` is the label a
    /// reader's clearance must cover (`None` for what carries no label).
    pub fn release_stored(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Release, PolicyError> {
        let decision = |verdict, reason| Decision {
            verdict,
            reason,
            originator,
            recipient,
            day,
        };
        let kind = kind_of(object);
        let whole = |banner: Option<Label>, object_decision: Decision| Release {
            verdict: ReleaseVerdict::Permit,
            object: Some(object.clone()),
            markings: Vec::new(),
            banner,
            object_decision,
            portions: Vec::new(),
            required_denied: None,
        };
        let not_information = || {
            decision(
                Verdict::Permit,
                Reason::NotInformation {
                    kind: kind.to_owned(),
                },
            )
        };
        match KindRule::of(kind) {
            KindRule::Schema => Ok(whole(None, not_information())),
            KindRule::MarkingDefinition => {
                if !stix::is_label_marking(object) {
                    return Ok(whole(None, not_information()));
                }
                let label = stix::from_marking_definition(self.policies(), object)?;
                self.check_release_tokens(&label)?;
                let d = self.decide(&label, originator, recipient, day);
                if d.is_permit() {
                    Ok(whole(Some(label), d))
                } else {
                    Ok(refused(d))
                }
            }
            KindRule::Information => {
                if !is_labelled(object, lookup) {
                    return Ok(refused(decision(Verdict::Deny, Reason::Unlabelled)));
                }
                self.release_object(object, lookup, originator, recipient, day)
            }
        }
    }
}

/// Releases of stored objects shared by the objects that carry the same object markings and no
/// portions, from one originator to one recipient on one day: the policy decides once for them
/// all ([`ReleasePolicy::release_by_markings`]). A memo for a page of objects released together;
/// it must not outlive the labels it was filled under.
#[derive(Debug, Default)]
pub struct SameMarkings {
    decided: HashMap<SameMarkingsKey, Option<Arc<Release>>>,
}

type SameMarkingsKey = (NationCode, NationCode, Date, Vec<String>);

/// A stored object's release through a [`SameMarkings`] memo.
#[derive(Debug)]
pub enum StoredRelease {
    /// Permitted whole, unchanged: the copy is the object itself. The release is the one shared
    /// by every object with these markings (its `object` is theirs, not this one).
    Whole(Arc<Release>),
    /// Decided for this object alone, as [`ReleasePolicy::release_stored`] decides it.
    Own(Box<Release>),
}

impl ReleasePolicy {
    /// [`ReleasePolicy::release_stored`], taken once for the objects of a page that carry the same
    /// object markings and no granular marking when it permits them whole (the property test
    /// `memoised_release_is_the_release_of_each_object` holds the two equal); any other outcome
    /// is decided for each object alone.
    pub fn release_stored_memo(
        &self,
        object: &Value,
        lookup: &dyn Fn(&str) -> Option<Label>,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
        memo: &mut SameMarkings,
    ) -> Result<StoredRelease, PolicyError> {
        if let Some(refs) = plain_labelled_refs(object, lookup) {
            let key = (originator, recipient, day, refs);
            let shared = match memo.decided.get(&key) {
                Some(known) => known.clone(),
                None => {
                    let refs: Vec<&str> = key.3.iter().map(String::as_str).collect();
                    let shared = self
                        .release_by_markings(&refs, &[], lookup, originator, recipient, day)
                        .ok()
                        .and_then(|(release, unchanged)| {
                            (unchanged && release.verdict == ReleaseVerdict::Permit)
                                .then(|| Arc::new(release))
                        });
                    memo.decided.insert(key, shared.clone());
                    shared
                }
            };
            if let Some(release) = shared {
                return Ok(StoredRelease::Whole(release));
            }
        }
        self.release_stored(object, lookup, originator, recipient, day)
            .map(|r| StoredRelease::Own(Box::new(r)))
    }
}

/// The object markings of an object whose release depends on nothing else: information (not a
/// marking or extension definition) without granular markings, with a list of string references
/// of which one is a label.
fn plain_labelled_refs(
    object: &Value,
    lookup: &dyn Fn(&str) -> Option<Label>,
) -> Option<Vec<String>> {
    if KindRule::of(kind_of(object)) != KindRule::Information
        || object.get("granular_markings").is_some()
    {
        return None;
    }
    let refs = object.get("object_marking_refs")?.as_array()?;
    let refs: Vec<String> = refs
        .iter()
        .map(|r| r.as_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    is_labelled(object, lookup).then_some(refs)
}

fn refused(object_decision: Decision) -> Release {
    Release {
        verdict: ReleaseVerdict::Deny,
        object: None,
        markings: Vec::new(),
        banner: None,
        object_decision,
        portions: Vec::new(),
        required_denied: None,
    }
}

fn kind_of(object: &Value) -> &str {
    object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Whether one of the object markings is a confidentiality label.
fn is_labelled(object: &Value, lookup: &dyn Fn(&str) -> Option<Label>) -> bool {
    object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .filter_map(Value::as_str)
                .any(|id| lookup(id).is_some())
        })
}

impl Release {
    /// The explanation a security officer reads: the decision on the object (the agreement and
    /// article that allowed it, or the rule that refused it), then what was cut and why, or the
    /// required property whose refusal made the object undeliverable. Names selectors and
    /// rules, never the content of what was cut.
    pub fn explain(&self) -> String {
        let mut text = self.object_decision.to_string();
        if let Some(property) = &self.required_denied {
            text.push_str(&format!(
                "; required property {property} is not releasable, so the object cannot be delivered"
            ));
            return text;
        }
        let cut: Vec<String> = self
            .portions
            .iter()
            .filter(|(_, d)| !d.is_permit())
            .map(|(selector, d)| format!("{selector} cut: {d}"))
            .collect();
        if self.verdict == ReleaseVerdict::Partial && !cut.is_empty() {
            text.push_str(&format!("; tear-lined: {}", cut.join("; ")));
        }
        text
    }

    /// The selectors of the portions cut out of the copy.
    pub fn cut_selectors(&self) -> impl Iterator<Item = &str> {
        self.portions
            .iter()
            .filter(|(_, d)| !d.is_permit())
            .map(|(s, _)| s.as_str())
    }
}
