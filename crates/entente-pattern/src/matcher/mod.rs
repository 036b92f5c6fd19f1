//! Matching a pattern against observations, with the semantics of stix2-matcher 3.0.0 for STIX 2.1.
//!
//! A comparison expression `[...]` holds in an observation when one of its objects (the root)
//! satisfies it: each comparison selects the values its path reaches from roots of its type
//! (following `*_ref` and `*_refs`, `[n]` and `[*]`) and holds when one of them passes; `AND` and `OR`
//! combine comparisons on the same root. Observation expressions are then bound to observations
//! (see `binding`).
//!
//! stix2-matcher raises on some values (a string that is not a timestamp compared with a
//! timestamp, an address it cannot read, a reference that is not a string...). It evaluates every
//! comparison on every root of its type, so it raises whenever such a value is reached, even where
//! the answer would not depend on it. `Matcher::matches` does the same (`Err`), taking a slower path
//! that visits everything only when the pattern or the data can raise at all.

mod binding;
mod compare;
mod ip;
mod text;

#[cfg(test)]
mod tests;

use crate::ast::{
    ComparisonExpr, Constant, Number, ObservationExpr, Operator, PathStep, Pattern, Qualifier,
};
use crate::error::MatchError;
use crate::observation::{Observation, ObservedObject};
use crate::value::{self, Property, Scalar, Suffix};
use binding::Node;
use compare::{Item, Lit};
use serde_json::Value as Json;

/// The object types stix2-matcher never matches in STIX 2.1 (domain objects, not observables).
const DOMAIN_TYPES: [&str; 25] = [
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "threat-actor",
    "tool",
    "sighting",
    "vulnerability",
];

/// A pattern compiled for matching: constants converted, expressions compiled, once.
#[derive(Debug)]
pub struct Matcher {
    tests: Vec<Test>,
    leaves: Vec<Leaf>,
    root: Node,
    /// The tests that can raise (`Test::can_raise`), by index.
    raising: Vec<usize>,
    /// For each test, its position in `raising`.
    raising_slot: Vec<Option<usize>>,
}

/// The results of the tests that can raise, on every root of their types, found by the pass that
/// raises where stix2-matcher raises (so matching does not walk them again).
struct Known {
    /// By observation, object and slot of the test in `Matcher::raising`.
    results: Vec<bool>,
    /// Where each observation's results start.
    offsets: Vec<usize>,
}

#[derive(Debug)]
struct Test {
    object_type: Box<str>,
    /// A domain object type: never matches.
    never: bool,
    steps: Vec<Step>,
    negated: bool,
    predicate: Predicate,
    /// Whether it can raise on a value it meets: its path steps into a property whose value
    /// stix2-matcher checks (`*_hex`, `*_bin`, `*_ref`, `*_refs`; `LIKE` raises on binary that is
    /// not UTF-8, which only those lead to), or it reads strings as timestamps or addresses.
    can_raise: bool,
}

#[derive(Debug)]
enum Step {
    Key { name: Box<str>, suffix: Suffix },
    Index(i64),
    Any,
}

#[derive(Debug)]
enum Predicate {
    Equal {
        lit: Lit,
        not_equal: bool,
    },
    Order {
        lit: Lit,
        operator: Operator,
    },
    In {
        set: Vec<Lit>,
        timestamps: bool,
    },
    Like(std::sync::Arc<text::Like>),
    Matches(std::sync::Arc<text::Matches>),
    /// The block or address of the constant (as text; stix2-matcher reads it at each comparison).
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

#[derive(Debug)]
struct Leaf {
    formula: Formula,
    /// The object types its comparisons name, as the index of one test of each (roots of other
    /// types never satisfy it).
    types: Vec<usize>,
}

#[derive(Debug)]
enum Formula {
    Test(usize),
    And(Box<Formula>, Box<Formula>),
    Or(Box<Formula>, Box<Formula>),
}

impl Pattern {
    /// Compiles the pattern for matching. Fails where stix2-matcher fails on the pattern whatever
    /// the observations: a timestamp that does not exist, `REPEATS 0`, `WITHIN 0`, a set whose
    /// constants are of different types, a regular expression that does not compile.
    pub fn matcher(&self) -> Result<Matcher, MatchError> {
        Matcher::new(self)
    }

    /// Compiles the pattern and matches it once (see [`Matcher::matches`]).
    pub fn matches(&self, observations: &[Observation<'_>]) -> Result<bool, MatchError> {
        self.matcher()?.matches(observations)
    }
}

impl Matcher {
    pub fn new(pattern: &Pattern) -> Result<Matcher, MatchError> {
        let tests = pattern
            .comparisons
            .iter()
            .map(compile_test)
            .collect::<Result<Vec<_>, _>>()?;
        let mut leaves = Vec::new();
        let root = compile_node(&pattern.root, &tests, &mut leaves)?;
        let raising: Vec<usize> = (0..tests.len()).filter(|i| tests[*i].can_raise).collect();
        let mut raising_slot = vec![None; tests.len()];
        for (slot, test) in raising.iter().enumerate() {
            raising_slot[*test] = Some(slot);
        }
        Ok(Matcher {
            tests,
            leaves,
            root,
            raising,
            raising_slot,
        })
    }

    /// Whether the observations match the pattern (stix2-matcher's `match`, STIX 2.1, returning a
    /// binding). `Err` where stix2-matcher raises on a value it meets.
    pub fn matches(&self, observations: &[Observation<'_>]) -> Result<bool, MatchError> {
        Ok(self.find(observations)?.is_some())
    }

    /// The observations (indexes, ascending) of one binding of the pattern, or `None` when it does
    /// not match. The binding may differ from the first stix2-matcher finds.
    pub fn find(&self, observations: &[Observation<'_>]) -> Result<Option<Vec<usize>>, MatchError> {
        let known = self.raise_where_stix2_matcher_raises(observations)?;
        let known = known.as_ref();
        // One bracketed expression: the first observation where it holds.
        if let Node::Leaf(leaf) = &self.root {
            for (i, observation) in observations.iter().enumerate() {
                if self.holds(&self.leaves[*leaf], i, observation, known)? {
                    return Ok(Some(vec![i]));
                }
            }
            return Ok(None);
        }
        let mut holds_in = Vec::with_capacity(self.leaves.len());
        for leaf in &self.leaves {
            let mut list = Vec::new();
            for (i, observation) in observations.iter().enumerate() {
                if self.holds(leaf, i, observation, known)? {
                    list.push(i);
                }
            }
            holds_in.push(list);
        }
        let summaries = binding::bindings(&self.root, &holds_in, observations)?;
        Ok(summaries
            .first()
            .map(|s| s.uses.iter().map(|(o, _)| *o as usize).collect()))
    }

    /// Every comparison that can raise here, on every root of its type, to its end (as
    /// stix2-matcher evaluates every comparison); the others cannot raise and are left to matching.
    fn raise_where_stix2_matcher_raises(
        &self,
        observations: &[Observation<'_>],
    ) -> Result<Option<Known>, MatchError> {
        let slots = self.raising.len();
        if slots == 0 {
            return Ok(None);
        }
        let mut offsets = Vec::with_capacity(observations.len());
        let mut total = 0;
        for observation in observations {
            offsets.push(total);
            total += observation.objects.len() * slots;
        }
        let mut results = vec![false; total];
        for (index, observation) in observations.iter().enumerate() {
            for (slot, test) in self.raising.iter().map(|i| &self.tests[*i]).enumerate() {
                for (j, object) in observation.objects.iter().enumerate() {
                    if !test.is_of_type(object) {
                        continue;
                    }
                    results[offsets[index] + j * slots + slot] = self
                        .test_root(test, observation, object.value, true)
                        .map_err(|reason| MatchError::Value {
                            observation: index,
                            reason,
                        })?;
                }
            }
        }
        Ok(Some(Known { results, offsets }))
    }

    /// Whether a bracketed expression holds in an observation: on one of its roots.
    fn holds(
        &self,
        leaf: &Leaf,
        index: usize,
        observation: &Observation<'_>,
        known: Option<&Known>,
    ) -> Result<bool, MatchError> {
        let slots = self.raising.len();
        for (j, object) in observation.objects.iter().enumerate() {
            if !leaf.types.iter().any(|t| self.tests[*t].is_of_type(object)) {
                continue;
            }
            let known = known.map(|k| &k.results[k.offsets[index] + j * slots..][..slots]);
            let holds = self
                .formula(&leaf.formula, observation, object, known)
                .map_err(|reason| MatchError::Value {
                    observation: index,
                    reason,
                })?;
            if holds {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn formula(
        &self,
        formula: &Formula,
        observation: &Observation<'_>,
        object: &ObservedObject<'_>,
        known: Option<&[bool]>,
    ) -> Result<bool, String> {
        Ok(match formula {
            Formula::Test(i) => {
                let test = &self.tests[*i];
                if test.never || !test.is_of_type(object) {
                    return Ok(false);
                }
                match (known, self.raising_slot[*i]) {
                    (Some(known), Some(slot)) => known[slot],
                    _ => self.test_root(test, observation, object.value, false)?,
                }
            }
            Formula::And(a, b) => {
                self.formula(a, observation, object, known)?
                    && self.formula(b, observation, object, known)?
            }
            Formula::Or(a, b) => {
                self.formula(a, observation, object, known)?
                    || self.formula(b, observation, object, known)?
            }
        })
    }

    /// Whether one of the values the test's path reaches from `root` passes. `to_the_end`: visit
    /// every value (stepping errors anywhere raise) and test values up to the first that passes.
    fn test_root(
        &self,
        test: &Test,
        observation: &Observation<'_>,
        root: &Json,
        to_the_end: bool,
    ) -> Result<bool, String> {
        let mut passed = false;
        let mut visit = |item: Item<'_>| -> Result<bool, String> {
            if !passed {
                passed = evaluate(test, item)?;
            }
            Ok(passed && !to_the_end)
        };
        walk(&test.steps, observation, Item::Json(root), &mut visit)?;
        if let Predicate::Exists = test.predicate {
            // `passed`: a value was reached; NOT EXISTS holds where none is.
            return Ok(passed != test.negated);
        }
        Ok(passed)
    }
}

/// Walks the path from `item`, calling `visit` on each value reached in stix2-matcher's order;
/// stops when `visit` says so (returns true then).
fn walk<'a>(
    steps: &[Step],
    observation: &Observation<'a>,
    item: Item<'a>,
    visit: &mut dyn FnMut(Item<'_>) -> Result<bool, String>,
) -> Result<bool, String> {
    let Some((step, rest)) = steps.split_first() else {
        return visit(item);
    };
    match step {
        Step::Key { name, suffix } => {
            let Item::Json(Json::Object(object)) = item else {
                return Ok(false);
            };
            let Some(next) = value::get(object, name) else {
                return Ok(false);
            };
            let next = match value::property(name, *suffix, next)? {
                Property::Json(next) => next,
                // Binary is a leaf: no step goes into it.
                Property::Bytes(bytes) if rest.is_empty() => return visit(Item::Bytes(&bytes)),
                Property::Bytes(_) => return Ok(false),
            };
            match suffix {
                Suffix::Ref => match next.as_str().and_then(|id| observation.resolve(id)) {
                    Some(target) => walk(rest, observation, Item::Json(target), visit),
                    None => Ok(false),
                },
                Suffix::Refs => {
                    let Json::Array(ids) = next else {
                        return Ok(false);
                    };
                    let targets: Vec<&Json> = ids
                        .iter()
                        .filter_map(|id| id.as_str().and_then(|id| observation.resolve(id)))
                        .collect();
                    if targets.is_empty() {
                        return Ok(false);
                    }
                    walk_objects(rest, observation, &targets, visit)
                }
                _ => walk(rest, observation, Item::Json(next), visit),
            }
        }
        Step::Index(i) => match item {
            Item::Json(Json::Array(items)) => {
                match usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                    Some(v) => walk(rest, observation, Item::Json(v), visit),
                    None => Ok(false),
                }
            }
            _ => Ok(false),
        },
        Step::Any => match item {
            Item::Json(Json::Array(items)) => {
                for v in items {
                    if walk(rest, observation, Item::Json(v), visit)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Ok(false),
        },
    }
}

/// Walks the path from the objects a `*_refs` list resolved to.
fn walk_objects<'a>(
    steps: &[Step],
    observation: &Observation<'a>,
    objects: &[&'a Json],
    visit: &mut dyn FnMut(Item<'_>) -> Result<bool, String>,
) -> Result<bool, String> {
    match steps.split_first() {
        // The resolved list itself is the value: it compares with nothing (a list).
        None => visit(Item::Objects),
        Some((Step::Index(i), rest)) => match usize::try_from(*i).ok().and_then(|i| objects.get(i))
        {
            Some(v) => walk(rest, observation, Item::Json(v), visit),
            None => Ok(false),
        },
        Some((Step::Any, rest)) => {
            for v in objects {
                if walk(rest, observation, Item::Json(v), visit)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        // A key step into a list selects nothing.
        Some((Step::Key { .. }, _)) => Ok(false),
    }
}

impl Test {
    fn is_of_type(&self, object: &ObservedObject<'_>) -> bool {
        self.object_type.len() == object.object_type.len()
            && *self.object_type == *object.object_type
    }
}

/// Whether one value passes the test (with `NOT` applied as stix2-matcher applies it).
fn evaluate(test: &Test, item: Item<'_>) -> Result<bool, String> {
    let not = test.negated;
    let value = item.scalar();
    Ok(match &test.predicate {
        Predicate::Equal { lit, not_equal } => {
            let equal = compare::equals(lit, value)?.unwrap_or(false);
            equal ^ not_equal ^ not
        }
        Predicate::Order { lit, operator } => match compare::order(lit, value)? {
            // Types that do not order: false, whatever NOT says.
            None => false,
            Some(ordering) => {
                let result = ordering.is_some_and(|o| match operator {
                    Operator::Lt => o.is_lt(),
                    Operator::Le => o.is_le(),
                    Operator::Gt => o.is_gt(),
                    _ => o.is_ge(),
                });
                result ^ not
            }
        },
        Predicate::In { set, timestamps } => compare::member(set, *timestamps, value)? ^ not,
        Predicate::Like(like) => like.matches(value)?.unwrap_or(false) ^ not,
        Predicate::Matches(regex) => regex.matches(value)?.unwrap_or(false) ^ not,
        Predicate::IsSubset(block) => match value {
            Scalar::Str(s) => ip::within(s, block)? ^ not,
            _ => not,
        },
        Predicate::IsSuperset(address) => match value {
            Scalar::Str(s) => ip::within(address, s)? ^ not,
            _ => not,
        },
        // A value was reached (`test_root` applies NOT).
        Predicate::Exists => true,
    })
}

fn lit(constant: &Constant) -> Result<Lit, MatchError> {
    Ok(match constant {
        Constant::String(s) => Lit::string(s.clone()),
        Constant::Int(i) => Lit::Int(i128::from(*i)),
        Constant::BigInt(s) => match s.parse::<i128>() {
            Ok(i) => Lit::Int(i),
            Err(_) => Lit::BigInt(s.starts_with('-'), s.trim_start_matches('-').to_owned()),
        },
        Constant::Float(f) => Lit::Float(*f),
        Constant::Bool(b) => Lit::Bool(*b),
        Constant::Binary(b) | Constant::Hex(b) => Lit::Bytes(b.clone()),
        Constant::Timestamp(t) => Lit::Time(t.micros().ok_or_else(|| {
            MatchError::Pattern(format!(
                "t'{}' is not a date and time that exists",
                t.as_str()
            ))
        })?),
        Constant::List(_) => {
            return Err(MatchError::Pattern(
                "a set where a single constant is expected".into(),
            ))
        }
    })
}

fn compile_test(c: &crate::ast::Comparison) -> Result<Test, MatchError> {
    let mut steps = Vec::with_capacity(c.path.steps.len() + 1);
    let key = |name: &str, steps: &mut Vec<Step>| {
        let suffix = Suffix::of(name);
        steps.push(Step::Key {
            name: name.into(),
            suffix,
        });
    };
    key(&c.path.first, &mut steps);
    for step in &c.path.steps {
        match step {
            PathStep::Key(k) => key(k, &mut steps),
            PathStep::Index(i) => steps.push(Step::Index(*i)),
            PathStep::AnyIndex => steps.push(Step::Any),
        }
    }
    let value = c.value.as_ref();
    let string = || match value {
        Some(Constant::String(s)) => Ok(s.clone()),
        _ => Err(MatchError::Pattern(format!(
            "{} needs a string",
            c.operator
        ))),
    };
    let predicate =
        match c.operator {
            Operator::Eq | Operator::Ne => Predicate::Equal {
                lit: lit(value
                    .ok_or_else(|| MatchError::Pattern("a comparison without a value".into()))?)?,
                not_equal: c.operator == Operator::Ne,
            },
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => Predicate::Order {
                lit: lit(value
                    .ok_or_else(|| MatchError::Pattern("a comparison without a value".into()))?)?,
                operator: c.operator,
            },
            Operator::In => {
                let Some(Constant::List(items)) = value else {
                    return Err(MatchError::Pattern("IN needs a set".into()));
                };
                let set = items.iter().map(lit).collect::<Result<Vec<_>, _>>()?;
                let numbers = set
                    .iter()
                    .all(|l| matches!(l, Lit::Int(_) | Lit::BigInt(..) | Lit::Float(_)));
                let homogeneous = set
                    .windows(2)
                    .all(|w| w[0].python_type() == w[1].python_type());
                if !homogeneous && !numbers {
                    return Err(MatchError::Pattern(format!(
                        "{}: a set of constants of different types",
                        c
                    )));
                }
                let timestamps = matches!(set.first(), Some(Lit::Time(_)));
                Predicate::In { set, timestamps }
            }
            Operator::Like => Predicate::Like(text::like(&string()?).map_err(MatchError::Pattern)?),
            Operator::Matches => {
                Predicate::Matches(text::matches(&string()?).map_err(MatchError::Pattern)?)
            }
            Operator::IsSubset => Predicate::IsSubset(string()?),
            Operator::IsSuperset => Predicate::IsSuperset(string()?),
            Operator::Exists => Predicate::Exists,
        };
    let reads_strings = match &predicate {
        Predicate::Equal { lit, .. } | Predicate::Order { lit, .. } => {
            matches!(lit, Lit::Time(_))
        }
        Predicate::In { timestamps, .. } => *timestamps,
        Predicate::IsSubset(_) | Predicate::IsSuperset(_) => true,
        _ => false,
    };
    let checked_property = steps
        .iter()
        .any(|s| matches!(s, Step::Key { suffix, .. } if *suffix != Suffix::Plain));
    let never = DOMAIN_TYPES.contains(&c.object_type.as_str());
    Ok(Test {
        can_raise: !never && (reads_strings || checked_property),
        never,
        object_type: c.object_type.as_str().into(),
        steps,
        negated: c.negated,
        predicate,
    })
}

fn compile_formula(expr: &ComparisonExpr, tests: &[Test], types: &mut Vec<usize>) -> Formula {
    match expr {
        ComparisonExpr::Test(i) => {
            if let Some(t) = tests.get(*i) {
                if !types.iter().any(|j| tests[*j].object_type == t.object_type) {
                    types.push(*i);
                }
            }
            Formula::Test(*i)
        }
        ComparisonExpr::And(a, b) => Formula::And(
            Box::new(compile_formula(a, tests, types)),
            Box::new(compile_formula(b, tests, types)),
        ),
        ComparisonExpr::Or(a, b) => Formula::Or(
            Box::new(compile_formula(a, tests, types)),
            Box::new(compile_formula(b, tests, types)),
        ),
    }
}

fn compile_node(
    expr: &ObservationExpr,
    tests: &[Test],
    leaves: &mut Vec<Leaf>,
) -> Result<Node, MatchError> {
    let pair = |a: &ObservationExpr,
                b: &ObservationExpr,
                leaves: &mut Vec<Leaf>|
     -> Result<(Box<Node>, Box<Node>), MatchError> {
        Ok((
            Box::new(compile_node(a, tests, leaves)?),
            Box::new(compile_node(b, tests, leaves)?),
        ))
    };
    Ok(match expr {
        ObservationExpr::Observation(c) => {
            let mut types = Vec::new();
            let formula = compile_formula(c, tests, &mut types);
            leaves.push(Leaf { formula, types });
            Node::Leaf(leaves.len() - 1)
        }
        ObservationExpr::Group(inner) => compile_node(inner, tests, leaves)?,
        ObservationExpr::And(a, b) => {
            let (a, b) = pair(a, b, leaves)?;
            Node::And(a, b)
        }
        ObservationExpr::Or(a, b) => {
            let (a, b) = pair(a, b, leaves)?;
            Node::Or(a, b)
        }
        ObservationExpr::FollowedBy(a, b) => {
            let (a, b) = pair(a, b, leaves)?;
            Node::FollowedBy(a, b)
        }
        ObservationExpr::Qualified(inner, qualifier) => {
            let inner = Box::new(compile_node(inner, tests, leaves)?);
            match qualifier {
                Qualifier::Within(seconds) => Node::Within(inner, within_micros(seconds)?),
                Qualifier::Repeats(0) => {
                    return Err(MatchError::Pattern(
                        "REPEATS 0 TIMES: the count must be at least 1".into(),
                    ))
                }
                Qualifier::Repeats(n) => Node::Repeats(inner, *n),
                Qualifier::StartStop(start, stop) => {
                    let time = |t: &crate::ast::Timestamp| {
                        t.micros().ok_or_else(|| {
                            MatchError::Pattern(format!(
                                "t'{}' is not a date and time that exists",
                                t.as_str()
                            ))
                        })
                    };
                    Node::StartStop(inner, time(start)?, time(stop)?)
                }
            }
        }
    })
}

/// The `WITHIN` duration in microseconds (Python rounds to the microsecond, half to even); `None`
/// when it cannot be added to any instant without leaving Python's `datetime`.
fn within_micros(seconds: &Number) -> Result<Option<i64>, MatchError> {
    let positive = match seconds {
        Number::Int(i) => *i > 0,
        Number::BigInt(s) => !s.starts_with('-'),
        Number::Float(f) => *f > 0.0,
    };
    if !positive {
        return Err(MatchError::Pattern(format!(
            "WITHIN {seconds} SECONDS: the duration must be positive"
        )));
    }
    Ok(match seconds {
        Number::Int(i) => i.checked_mul(1_000_000),
        Number::BigInt(_) => None,
        Number::Float(f) => {
            let micros = (f * 1e6).round_ties_even();
            (micros < 9.0e18).then_some(micros as i64)
        }
    })
}
