//! The confidentiality label, after STANAG 4774, and how labels combine.

use std::collections::BTreeSet;
use std::fmt;
use std::hash::{Hash, Hasher};

use smol_str::SmolStr;

use crate::error::{LabelError, LabelErrorKind};
use crate::policy::{Policy, PolicySet};

/// At most this many category values in one label, all categories together.
pub const MAX_VALUES: usize = 256;
/// At most this many "Releasable To" sets in one label.
pub const MAX_RELEASE_SETS: usize = 16;

/// A "Releasable To" value: a nation code (`FRA`) or a group resolved through the registry at
/// decision time (`NATO`, `EU`, `FVEY`). Only ASCII capitals, digits and `-`, 2 to 16 long:
/// held in place, so that copying a label copies no token text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReleaseToken {
    text: SmolStr,
    /// `text` packed ([`ReleaseToken::packed`]); a function of it, so equality and order are
    /// those of the text.
    packed: u128,
}

impl fmt::Debug for ReleaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReleaseToken").field(&self.text).finish()
    }
}

impl Hash for ReleaseToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl ReleaseToken {
    pub fn parse(text: &str) -> Result<ReleaseToken, LabelError> {
        check_characters(text, "releasable to")?;
        let bad = |reason| {
            LabelError::new(
                LabelErrorKind::BadReleaseToken {
                    token: text.to_owned(),
                    reason,
                },
                "releasable to",
            )
        };
        if !text.is_ascii() {
            return Err(bad(
                "only ASCII letters, digits and '-' (a lookalike letter?)",
            ));
        }
        if !(2..=16).contains(&text.len()) {
            return Err(bad("expected 2 to 16 characters"));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("only capital letters, digits and '-'"));
        }
        let packed = text
            .bytes()
            .enumerate()
            .fold(0u128, |key, (i, b)| key | u128::from(b) << (8 * i));
        Ok(ReleaseToken {
            text: SmolStr::new(text),
            packed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The token's bytes, zero-padded to 16, as one little-endian integer: a key for tables of
    /// tokens, computed once. Never 0, and two tokens share one only if equal (a token has 2 to
    /// 16 bytes, none of them zero).
    pub fn packed(&self) -> u128 {
        self.packed
    }
}

/// A confidentiality label: the policy and classification, the categories, and who made it when.
///
/// "Releasable To" is a list of sets that must *all* admit a recipient (a conjunction): one set
/// from the label as written, more when labels are combined. A label with no set at all takes its
/// policy's default; a label with an empty set is releasable to nobody, never to everybody.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    // Short names, held in place: copying a label copies no text of them.
    policy: SmolStr,
    classification: SmolStr,
    rank: u8,
    releasable_to: Vec<BTreeSet<ReleaseToken>>,
    caveats: BTreeSet<String>,
    contexts: BTreeSet<String>,
    originator: Option<String>,
    created: Option<String>,
    review: Option<String>,
}

impl Label {
    /// A label with only a policy and classification (name, marking or alias), validated.
    pub fn new(
        policies: &PolicySet,
        policy: &str,
        classification: &str,
    ) -> Result<Label, LabelError> {
        let p = policies.require(policy)?;
        check_characters(classification, "classification")?;
        let rank = p.rank_of(classification).ok_or_else(|| {
            LabelError::new(
                LabelErrorKind::UnknownClassification {
                    text: classification.to_owned(),
                    suggestion: entente_types::suggest::closest(
                        classification,
                        p.levels.iter().map(|l| (l.name.as_str(), l.name.clone())),
                        crate::policy::NAME_NEARNESS,
                    ),
                },
                format!("classification under policy {}", p.id),
            )
        })?;
        let level = p
            .level(rank)
            .map_or_else(SmolStr::default, |l| SmolStr::new(&l.name));
        Ok(Label {
            policy: SmolStr::new(&p.id),
            classification: level,
            rank,
            releasable_to: Vec::new(),
            caveats: BTreeSet::new(),
            contexts: BTreeSet::new(),
            originator: None,
            created: None,
            review: None,
        })
    }

    /// Adds a "Releasable To" set (which may be empty: releasable to nobody).
    pub fn with_releasable_to(
        mut self,
        tokens: impl IntoIterator<Item = ReleaseToken>,
    ) -> Result<Label, LabelError> {
        if self.releasable_to.len() >= MAX_RELEASE_SETS {
            return Err(LabelError::new(
                LabelErrorKind::TooLarge {
                    what: "releasable-to sets",
                    limit: MAX_RELEASE_SETS,
                },
                "releasable to",
            ));
        }
        let set: BTreeSet<ReleaseToken> = tokens.into_iter().take(MAX_VALUES + 1).collect();
        self.releasable_to.push(set);
        self.check_size()?;
        Ok(self)
    }

    /// Adds a restrictive caveat ("Additional Sensitivity") known to the policy.
    pub fn with_caveat(mut self, policies: &PolicySet, caveat: &str) -> Result<Label, LabelError> {
        check_characters(caveat, "additional sensitivity")?;
        let p = policies.require(&self.policy)?;
        if !p.caveats.iter().any(|c| c == caveat) {
            return Err(LabelError::new(
                LabelErrorKind::UnknownCategoryValue {
                    category: "additional sensitivity".to_owned(),
                    value: caveat.to_owned(),
                },
                format!("policy {}", p.id),
            ));
        }
        self.caveats.insert(caveat.to_owned());
        self.check_size()?;
        Ok(self)
    }

    /// Adds an informative context known to the policy.
    pub fn with_context(
        mut self,
        policies: &PolicySet,
        context: &str,
    ) -> Result<Label, LabelError> {
        check_characters(context, "context")?;
        let p = policies.require(&self.policy)?;
        if !p.contexts.iter().any(|c| c == context) {
            return Err(LabelError::new(
                LabelErrorKind::UnknownCategoryValue {
                    category: "context".to_owned(),
                    value: context.to_owned(),
                },
                format!("policy {}", p.id),
            ));
        }
        self.contexts.insert(context.to_owned());
        self.check_size()?;
        Ok(self)
    }

    /// Sets who labelled the information (free text, e.g. an e-mail address or a nation code).
    pub fn with_originator(mut self, originator: &str) -> Result<Label, LabelError> {
        check_characters(originator, "originator")?;
        if originator.is_empty() || originator.len() > 256 {
            return Err(LabelError::new(
                LabelErrorKind::Malformed("expected 1 to 256 characters".to_owned()),
                "originator",
            ));
        }
        self.originator = Some(originator.to_owned());
        Ok(self)
    }

    /// Sets the creation time (RFC 3339).
    pub fn with_created(mut self, time: &str) -> Result<Label, LabelError> {
        self.created = Some(check_time(time, "creation time")?);
        Ok(self)
    }

    /// Sets the review time (RFC 3339).
    pub fn with_review(mut self, time: &str) -> Result<Label, LabelError> {
        self.review = Some(check_time(time, "review time")?);
        Ok(self)
    }

    fn check_size(&self) -> Result<(), LabelError> {
        let count = self.releasable_to.iter().map(BTreeSet::len).sum::<usize>()
            + self.caveats.len()
            + self.contexts.len();
        if count > MAX_VALUES {
            return Err(LabelError::new(
                LabelErrorKind::TooLarge {
                    what: "category values",
                    limit: MAX_VALUES,
                },
                "label",
            ));
        }
        Ok(())
    }

    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The canonical level name under the policy, e.g. `SECRET`.
    pub fn classification(&self) -> &str {
        &self.classification
    }

    /// The level's rank under the policy (0 is the lowest).
    pub fn rank(&self) -> u8 {
        self.rank
    }

    /// The "Releasable To" sets; all must admit a recipient. Empty: the policy's default applies.
    pub fn releasable_to(&self) -> &[BTreeSet<ReleaseToken>] {
        &self.releasable_to
    }

    pub fn caveats(&self) -> &BTreeSet<String> {
        &self.caveats
    }

    pub fn contexts(&self) -> &BTreeSet<String> {
        &self.contexts
    }

    pub fn originator(&self) -> Option<&str> {
        self.originator.as_deref()
    }

    pub fn created(&self) -> Option<&str> {
        self.created.as_deref()
    }

    pub fn review(&self) -> Option<&str> {
        self.review.as_deref()
    }

    /// The dominant label of `self` and `other` (ADatP-4774.1 §4.4): same policy required; the
    /// higher classification; "Releasable To" sets intersected (kept as a conjunction, and merged
    /// into one set when both hold only nation codes); caveats and contexts united. Origin and
    /// times are kept from `self`, the label being extended.
    pub fn dominate(&self, other: &Label) -> Result<Label, LabelError> {
        if self.policy != other.policy {
            return Err(LabelError::new(
                LabelErrorKind::PolicyMismatch {
                    left: self.policy.to_string(),
                    right: other.policy.to_string(),
                },
                "dominant label",
            ));
        }
        let (rank, classification) = if other.rank > self.rank {
            (other.rank, other.classification.clone())
        } else {
            (self.rank, self.classification.clone())
        };
        // The sets of both, each once, borrowed: only what the result keeps is copied.
        let mut sets: Vec<&BTreeSet<ReleaseToken>> = self.releasable_to.iter().collect();
        for set in &other.releasable_to {
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
        let releasable_to = simplify_release_sets(&sets);
        let union = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            if b.is_subset(a) {
                a.clone()
            } else if a.is_subset(b) {
                b.clone()
            } else {
                a.union(b).cloned().collect()
            }
        };
        let mut out = Label {
            policy: self.policy.clone(),
            classification,
            rank,
            releasable_to,
            caveats: union(&self.caveats, &other.caveats),
            contexts: union(&self.contexts, &other.contexts),
            originator: self.originator.clone(),
            created: self.created.clone(),
            review: self.review.clone(),
        };
        if out.releasable_to.len() > MAX_RELEASE_SETS {
            out.releasable_to.truncate(0);
            // More sets than a label may carry: release to nobody rather than drop a restriction.
            out.releasable_to.push(BTreeSet::new());
        }
        Ok(out)
    }

    /// The policy this label belongs to, from the set it was validated against.
    pub fn policy_in<'a>(&self, policies: &'a PolicySet) -> Result<&'a Policy, LabelError> {
        policies.require(&self.policy)
    }
}

/// Intersects sets made only of nation codes (three capitals) into one; sets holding group tokens
/// stay separate, since their members are known only on the day of a decision.
fn simplify_release_sets(sets: &[&BTreeSet<ReleaseToken>]) -> Vec<BTreeSet<ReleaseToken>> {
    let is_nation =
        |t: &ReleaseToken| t.text.len() == 3 && t.text.bytes().all(|b| b.is_ascii_uppercase());
    let is_nations = |s: &&BTreeSet<ReleaseToken>| s.iter().all(is_nation);
    let mut out: Vec<BTreeSet<ReleaseToken>> = Vec::with_capacity(sets.len());
    let mut nations = sets.iter().copied().filter(is_nations);
    if let Some(first) = nations.next() {
        let merged = nations.fold(first.clone(), |m, set| {
            if m.is_subset(set) {
                m
            } else {
                m.intersection(set).cloned().collect()
            }
        });
        out.push(merged);
    }
    out.extend(sets.iter().copied().filter(|s| !is_nations(s)).cloned());
    out
}

fn check_time(time: &str, field: &str) -> Result<String, LabelError> {
    check_characters(time, field)?;
    chrono::DateTime::parse_from_rfc3339(time).map_err(|e| {
        LabelError::new(
            LabelErrorKind::Malformed(format!("malformed time {time:?}: {e}")),
            field.to_owned(),
        )
    })?;
    Ok(time.to_owned())
}

/// Refuses invisible, bidirectional-override and control characters anywhere in label text: they
/// let two different labels look the same to a reviewer.
pub fn check_characters(text: &str, field: &str) -> Result<(), LabelError> {
    // Printable ASCII holds none of them: most text is checked without decoding it.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    if let Some(c) = text.chars().find(|&c| is_forbidden(c)) {
        return Err(LabelError::new(
            LabelErrorKind::ForbiddenCharacter {
                codepoint: u32::from(c),
            },
            field.to_owned(),
        ));
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}
