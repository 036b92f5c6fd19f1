//! Whether observations can be bound to a pattern's observation expressions, with stix2-matcher's
//! rules: each observation expression is bound to one observation (one of its `number_observed`
//! instances); no instance serves twice in one binding; `FOLLOWEDBY` needs the left side's latest
//! `first_observed` no later than the right side's earliest `last_observed`; `WITHIN d` needs
//! `max(first_observed) <= min(last_observed) + d`; `START a STOP b` needs every observation to
//! overlap `[a, b)`; `REPEATS n` needs n disjoint bindings.
//!
//! Instances of one observation are interchangeable, so a binding is summarised by how many
//! instances of each observation it uses and its two extreme times. Each sub-expression's set of
//! summaries is computed bottom-up, keeping only those no other summary beats (fewer instances,
//! earlier latest first time, later earliest last time): a beaten one can never complete a binding
//! the other cannot.

use std::collections::HashSet;

use crate::error::MatchError;
use crate::observation::Observation;

/// The latest instant Python's `datetime` holds (9999-12-31T23:59:59.999999Z), in microseconds.
const DATETIME_MAX: i64 = 253_402_300_799_999_999;

/// A compiled observation expression.
#[derive(Debug)]
pub(crate) enum Node {
    Leaf(usize),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    FollowedBy(Box<Node>, Box<Node>),
    /// Microseconds; `None` when adding it to any instant overflows Python's `datetime`.
    Within(Box<Node>, Option<i64>),
    Repeats(Box<Node>, u64),
    StartStop(Box<Node>, i64, i64),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Summary {
    /// (observation, instances used), by observation.
    pub uses: Vec<(u32, u32)>,
    pub max_first: i64,
    pub min_last: i64,
}

impl Summary {
    fn combine(&self, other: &Summary, observations: &[Observation<'_>]) -> Option<Summary> {
        let mut uses = Vec::with_capacity(self.uses.len() + other.uses.len());
        let (mut i, mut j) = (0, 0);
        while i < self.uses.len() || j < other.uses.len() {
            let next = match (self.uses.get(i), other.uses.get(j)) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    i += 1;
                    j += 1;
                    (a.0, a.1 + b.1)
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    i += 1;
                    *a
                }
                (Some(a), None) => {
                    i += 1;
                    *a
                }
                (_, Some(b)) => {
                    j += 1;
                    *b
                }
                (None, None) => break,
            };
            if u64::from(next.1) > observations[next.0 as usize].number_observed {
                return None;
            }
            uses.push(next);
        }
        Some(Summary {
            uses,
            max_first: self.max_first.max(other.max_first),
            min_last: self.min_last.min(other.min_last),
        })
    }

    /// Whether `self` is at least as good as `other` everywhere.
    fn beats(&self, other: &Summary) -> bool {
        self.max_first <= other.max_first
            && self.min_last >= other.min_last
            && self
                .uses
                .iter()
                .all(|(o, n)| other.uses.iter().any(|(p, m)| p == o && m >= n))
    }
}

/// Keeps the summaries no other beats (all of them when there are too many to compare).
fn prune(set: HashSet<Summary>) -> Vec<Summary> {
    let mut items: Vec<Summary> = set.into_iter().collect();
    items.sort_by(|a, b| {
        (
            a.uses.iter().map(|u| u.1).sum::<u32>(),
            a.max_first,
            std::cmp::Reverse(a.min_last),
            &a.uses,
        )
            .cmp(&(
                b.uses.iter().map(|u| u.1).sum::<u32>(),
                b.max_first,
                std::cmp::Reverse(b.min_last),
                &b.uses,
            ))
    });
    if items.len() > 4096 {
        return items;
    }
    let mut kept: Vec<Summary> = Vec::with_capacity(items.len());
    for item in items {
        if !kept.iter().any(|k| k.beats(&item)) {
            kept.push(item);
        }
    }
    kept
}

/// The summaries of the bindings of `node`. `leaves[i]`: the observations leaf `i` holds in.
pub(crate) fn bindings(
    node: &Node,
    leaves: &[Vec<usize>],
    observations: &[Observation<'_>],
) -> Result<Vec<Summary>, MatchError> {
    Ok(match node {
        Node::Leaf(i) => leaves[*i]
            .iter()
            .map(|&o| Summary {
                uses: vec![(o as u32, 1)],
                max_first: observations[o].first_observed,
                min_last: observations[o].last_observed,
            })
            .collect(),
        Node::Or(a, b) => {
            let mut set: HashSet<Summary> =
                bindings(a, leaves, observations)?.into_iter().collect();
            set.extend(bindings(b, leaves, observations)?);
            prune(set)
        }
        Node::And(a, b) | Node::FollowedBy(a, b) => {
            // Both sides, always: stix2-matcher draws a first binding from each (and raises there).
            let left = bindings(a, leaves, observations)?;
            let right = bindings(b, leaves, observations)?;
            let ordered = matches!(node, Node::FollowedBy(..));
            let mut set = HashSet::new();
            for l in &left {
                for r in &right {
                    if ordered && l.max_first > r.min_last {
                        continue;
                    }
                    if let Some(s) = l.combine(r, observations) {
                        set.insert(s);
                    }
                }
            }
            prune(set)
        }
        Node::Within(inner, duration) => {
            let mut kept = Vec::new();
            for s in bindings(inner, leaves, observations)? {
                let limit = duration
                    .and_then(|d| s.min_last.checked_add(d))
                    .filter(|l| *l <= DATETIME_MAX);
                let Some(limit) = limit else {
                    return Err(MatchError::Pattern(
                        "WITHIN: the end of the window is past year 9999".into(),
                    ));
                };
                if s.max_first <= limit {
                    kept.push(s);
                }
            }
            kept
        }
        Node::StartStop(inner, start, stop) => {
            if start >= stop {
                return Ok(Vec::new());
            }
            bindings(inner, leaves, observations)?
                .into_iter()
                .filter(|s| {
                    s.uses.iter().all(|(o, _)| {
                        let obs = &observations[*o as usize];
                        obs.first_observed < *stop && *start <= obs.last_observed
                    })
                })
                .collect()
        }
        Node::Repeats(inner, count) => {
            let base = bindings(inner, leaves, observations)?;
            let capacity: u64 = observations.iter().map(|o| o.number_observed).sum();
            if *count == 1 || base.is_empty() {
                return Ok(base);
            }
            if *count > capacity {
                return Ok(Vec::new());
            }
            // Multisets of `count` bindings, built in the order of `base` (each extended only by
            // bindings at or after its last), summaries deduplicated at each round.
            let mut current: Vec<(Summary, usize)> = base.iter().cloned().zip(0..).collect();
            for _ in 1..*count {
                let mut next: std::collections::HashMap<Summary, usize> =
                    std::collections::HashMap::new();
                for (s, last) in &current {
                    for (k, b) in base.iter().enumerate().skip(*last) {
                        if let Some(c) = s.combine(b, observations) {
                            let entry = next.entry(c).or_insert(k);
                            *entry = (*entry).min(k);
                        }
                    }
                }
                if next.is_empty() {
                    return Ok(Vec::new());
                }
                current = next.into_iter().collect();
            }
            let set: HashSet<Summary> = current.into_iter().map(|(s, _)| s).collect();
            prune(set)
        }
    })
}
