//! National release rules compiled: each rule of a nation's Cedar file, read from Cedar's own
//! JSON form of the policy (its EST), becomes a predicate over the label's fields, the
//! recipient, the originator and the day, evaluated without building Cedar entities or a
//! request. Cedar stays the language the rules are written in and the reference they are
//! checked against (the differential test); a rule outside the subset below is evaluated by
//! Cedar, alone, and the compiled rules say which and why ([`CompiledNationalRules::fallbacks`]).
//!
//! The subset: scopes `All`, `==` and `in` an entity; conditions (`when`, `unless`) built from
//! `&&`, `||`, `!`, `if … then … else`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` (an entity or a
//! set of them), `contains`, `containsAll`, `containsAny`, literals (strings, longs, booleans,
//! entities, sets of literals), `principal`, `action`, `resource`, `context`, and the attributes
//! `resource.policy`, `.level`, `.rank`, `.caveats`, `.contexts`, `.releaseSetCount`,
//! `context.recipient`, `context.day`. Within it no evaluation can fail (the rules are validated
//! against the schema in strict mode, and nothing in it computes), so a compiled rule fires or
//! it does not.

use std::collections::{BTreeSet, HashMap};

use entente_labels::{Label, MAX_RELEASE_SETS};
use entente_registry::{Interval, Registry, Role};
use entente_types::{Date, NationCode};
use serde_json::Value;

use super::rules::CedarNationalRules;
use crate::compiled::{NationalRules, RulesError};

/// A value a compiled expression yields. Entities are (type, id).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Bool(bool),
    Long(i64),
    Str(String),
    Entity(String, String),
    Set(Vec<Val>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a request supplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Principal,
    Action,
    Resource,
    Recipient,
    Day,
    Policy,
    Level,
    Rank,
    Caveats,
    Contexts,
    ReleaseSetCount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Lit(Val),
    Field(Field),
    /// A set literal with members to evaluate.
    Set(Vec<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Eq(Box<Expr>, Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>),
    Contains(Box<Expr>, Box<Expr>),
    ContainsAll(Box<Expr>, Box<Expr>),
    ContainsAny(Box<Expr>, Box<Expr>),
}

/// A rule's condition with the common shapes turned into direct tests of the request (no
/// value built); anything else is evaluated as an [`Expr`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pred {
    Const(bool),
    CaveatsContain(String),
    ContextsContain(String),
    PolicyIs(String),
    LevelIs(String),
    RankCmp(Cmp, i64),
    DayCmp(Cmp, i64),
    /// `context.recipient == Nation::"X"` (a code that is no nation code matches nobody).
    RecipientIs(Option<NationCode>),
    OriginatorIs(Option<NationCode>),
    /// `context.recipient in` these organisations (or equal to one of these nations).
    RecipientIn(Vec<Val>),
    OriginatorIn(Vec<Val>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    General(Expr),
}

fn flip(cmp: Cmp) -> Cmp {
    match cmp {
        Cmp::Lt => Cmp::Gt,
        Cmp::Le => Cmp::Ge,
        Cmp::Gt => Cmp::Lt,
        Cmp::Ge => Cmp::Le,
    }
}

fn compare(cmp: Cmp, a: i64, b: i64) -> bool {
    match cmp {
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
    }
}

/// The direct test an expression amounts to, where it has a common shape.
fn specialise(e: &Expr) -> Pred {
    use Expr as E;
    let nation = |v: &Val| match v {
        Val::Entity(t, id) if t == "Nation" => Some(id.parse::<NationCode>().ok()),
        _ => None,
    };
    match e {
        E::Lit(Val::Bool(b)) => Pred::Const(*b),
        E::And(a, b) => Pred::And(Box::new(specialise(a)), Box::new(specialise(b))),
        E::Or(a, b) => Pred::Or(Box::new(specialise(a)), Box::new(specialise(b))),
        E::Not(a) => Pred::Not(Box::new(specialise(a))),
        E::Contains(set, item) => match (set.as_ref(), item.as_ref()) {
            (E::Field(Field::Caveats), E::Lit(Val::Str(c))) => Pred::CaveatsContain(c.clone()),
            (E::Field(Field::Contexts), E::Lit(Val::Str(c))) => Pred::ContextsContain(c.clone()),
            _ => Pred::General(e.clone()),
        },
        E::Eq(a, b) => match (a.as_ref(), b.as_ref()) {
            (E::Field(f), E::Lit(v)) | (E::Lit(v), E::Field(f)) => match (f, v) {
                (Field::Policy, Val::Entity(t, id)) if t == "Policy" => Pred::PolicyIs(id.clone()),
                (Field::Level, Val::Str(l)) => Pred::LevelIs(l.clone()),
                (Field::Recipient, v) if nation(v).is_some() => {
                    Pred::RecipientIs(nation(v).flatten())
                }
                (Field::Principal, v) if nation(v).is_some() => {
                    Pred::OriginatorIs(nation(v).flatten())
                }
                (Field::Action, Val::Entity(t, id)) => {
                    Pred::Const(t == "Action" && id == "release")
                }
                _ => Pred::General(e.clone()),
            },
            _ => Pred::General(e.clone()),
        },
        E::Cmp(cmp, a, b) => match (a.as_ref(), b.as_ref()) {
            (E::Field(Field::Rank), E::Lit(Val::Long(n))) => Pred::RankCmp(*cmp, *n),
            (E::Lit(Val::Long(n)), E::Field(Field::Rank)) => Pred::RankCmp(flip(*cmp), *n),
            (E::Field(Field::Day), E::Lit(Val::Long(n))) => Pred::DayCmp(*cmp, *n),
            (E::Lit(Val::Long(n)), E::Field(Field::Day)) => Pred::DayCmp(flip(*cmp), *n),
            _ => Pred::General(e.clone()),
        },
        E::In(a, b) => {
            let targets = match b.as_ref() {
                E::Lit(Val::Set(items)) => Some(items.clone()),
                E::Lit(v @ Val::Entity(..)) => Some(vec![v.clone()]),
                E::Set(items) => items
                    .iter()
                    .map(|i| match i {
                        E::Lit(v @ Val::Entity(..)) => Some(v.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            };
            match (a.as_ref(), targets) {
                (E::Field(Field::Recipient), Some(t)) => Pred::RecipientIn(t),
                (E::Field(Field::Principal), Some(t)) => Pred::OriginatorIn(t),
                _ => Pred::General(e.clone()),
            }
        }
        _ => Pred::General(e.clone()),
    }
}

/// One request, as the compiled rules see it.
struct Request<'a> {
    label: &'a Label,
    originator: NationCode,
    recipient: NationCode,
    day: Date,
    day_number: i64,
    memberships: &'a HashMap<NationCode, Vec<(String, Interval)>>,
}

impl Request<'_> {
    fn field(&self, f: Field) -> Val {
        let strings = |s: &BTreeSet<String>| Val::Set(s.iter().cloned().map(Val::Str).collect());
        match f {
            Field::Principal => Val::Entity("Nation".into(), self.originator.to_string()),
            Field::Action => Val::Entity("Action".into(), "release".into()),
            Field::Resource => Val::Entity("Label".into(), "label".into()),
            Field::Recipient => Val::Entity("Nation".into(), self.recipient.to_string()),
            Field::Day => Val::Long(self.day_number),
            Field::Policy => Val::Entity("Policy".into(), self.label.policy().to_owned()),
            Field::Level => Val::Str(self.label.classification().to_owned()),
            Field::Rank => Val::Long(i64::from(self.label.rank())),
            Field::Caveats => strings(self.label.caveats()),
            Field::Contexts => strings(self.label.contexts()),
            Field::ReleaseSetCount => {
                Val::Long(i64::try_from(self.label.releasable_to().len()).unwrap_or(i64::MAX))
            }
        }
    }

    /// `a in b` for entities, as Cedar answers it over the request's entities: equal, or `b`
    /// an organisation `a` is a member of on the day, when `a` is the originator or the
    /// recipient (the only nations the request holds, with their memberships as parents).
    fn entity_in(&self, a: &Val, b: &Val) -> bool {
        if a == b {
            return true;
        }
        let (Val::Entity(at, aid), Val::Entity(bt, bid)) = (a, b) else {
            return false;
        };
        if at != "Nation" || bt != "Organization" {
            return false;
        }
        let Ok(nation) = aid.parse::<NationCode>() else {
            return false;
        };
        if nation != self.originator && nation != self.recipient {
            return false;
        }
        self.memberships.get(&nation).is_some_and(|ms| {
            ms.iter()
                .any(|(org, period)| org == bid && period.contains(self.day))
        })
    }

    /// Whether `nation` (the originator or the recipient) is in one of `targets`: equal to a
    /// nation among them, or a member that day of an organisation among them.
    fn nation_in(&self, nation: NationCode, targets: &[Val]) -> bool {
        targets.iter().any(|t| match t {
            Val::Entity(ty, id) if ty == "Nation" => id == nation.as_str(),
            Val::Entity(ty, id) if ty == "Organization" => {
                self.memberships.get(&nation).is_some_and(|ms| {
                    ms.iter()
                        .any(|(org, period)| org == id && period.contains(self.day))
                })
            }
            _ => false,
        })
    }

    fn test(&self, p: &Pred) -> bool {
        match p {
            Pred::Const(b) => *b,
            Pred::CaveatsContain(c) => self.label.caveats().contains(c),
            Pred::ContextsContain(c) => self.label.contexts().contains(c),
            Pred::PolicyIs(id) => self.label.policy() == id,
            Pred::LevelIs(l) => self.label.classification() == l,
            Pred::RankCmp(cmp, n) => compare(*cmp, i64::from(self.label.rank()), *n),
            Pred::DayCmp(cmp, n) => compare(*cmp, self.day_number, *n),
            Pred::RecipientIs(n) => *n == Some(self.recipient),
            Pred::OriginatorIs(n) => *n == Some(self.originator),
            Pred::RecipientIn(t) => self.nation_in(self.recipient, t),
            Pred::OriginatorIn(t) => self.nation_in(self.originator, t),
            Pred::And(a, b) => self.test(a) && self.test(b),
            Pred::Or(a, b) => self.test(a) || self.test(b),
            Pred::Not(a) => !self.test(a),
            Pred::General(e) => matches!(self.eval(e), Val::Bool(true)),
        }
    }

    fn eval(&self, e: &Expr) -> Val {
        let truth = |e: &Expr| matches!(self.eval(e), Val::Bool(true));
        let long = |e: &Expr| match self.eval(e) {
            Val::Long(n) => n,
            _ => 0,
        };
        let set = |e: &Expr| match self.eval(e) {
            Val::Set(s) => s,
            _ => Vec::new(),
        };
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Field(f) => self.field(*f),
            Expr::Set(items) => Val::Set(items.iter().map(|i| self.eval(i)).collect()),
            Expr::And(a, b) => Val::Bool(truth(a) && truth(b)),
            Expr::Or(a, b) => Val::Bool(truth(a) || truth(b)),
            Expr::Not(a) => Val::Bool(!truth(a)),
            Expr::If(c, t, f) => {
                if truth(c) {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            Expr::Eq(a, b) => Val::Bool(values_equal(&self.eval(a), &self.eval(b))),
            Expr::Cmp(op, a, b) => {
                let (a, b) = (long(a), long(b));
                Val::Bool(match op {
                    Cmp::Lt => a < b,
                    Cmp::Le => a <= b,
                    Cmp::Gt => a > b,
                    Cmp::Ge => a >= b,
                })
            }
            Expr::In(a, b) => {
                let a = self.eval(a);
                Val::Bool(match self.eval(b) {
                    Val::Set(items) => items.iter().any(|b| self.entity_in(&a, b)),
                    b => self.entity_in(&a, &b),
                })
            }
            Expr::Contains(a, b) => {
                let item = self.eval(b);
                Val::Bool(set(a).iter().any(|v| values_equal(v, &item)))
            }
            Expr::ContainsAll(a, b) => {
                let (a, b) = (set(a), set(b));
                Val::Bool(b.iter().all(|x| a.iter().any(|y| values_equal(x, y))))
            }
            Expr::ContainsAny(a, b) => {
                let (a, b) = (set(a), set(b));
                Val::Bool(b.iter().any(|x| a.iter().any(|y| values_equal(x, y))))
            }
        }
    }
}

/// Cedar's equality: sets compare as sets (order and repetition aside).
fn values_equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Set(x), Val::Set(y)) => {
            x.iter().all(|v| y.iter().any(|w| values_equal(v, w)))
                && y.iter().all(|w| x.iter().any(|v| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Why a rule cannot be compiled: the JSON path of what is outside the subset.
type Unsupported = String;

fn literal(v: &Value, at: &str) -> Result<Val, Unsupported> {
    match v {
        Value::Bool(b) => Ok(Val::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(Val::Long)
            .ok_or_else(|| format!("{at}: number {n}")),
        Value::String(s) => Ok(Val::Str(s.clone())),
        Value::Array(items) => items
            .iter()
            .map(|i| literal(i, at))
            .collect::<Result<_, _>>()
            .map(Val::Set),
        Value::Object(m) => match m.get("__entity") {
            Some(e) => entity(e, at),
            None => Err(format!("{at}: record literal")),
        },
        Value::Null => Err(format!("{at}: null")),
    }
}

fn entity(e: &Value, at: &str) -> Result<Val, Unsupported> {
    match (
        e.get("type").and_then(Value::as_str),
        e.get("id").and_then(Value::as_str),
    ) {
        (Some(t), Some(id)) => Ok(Val::Entity(t.to_owned(), id.to_owned())),
        _ => Err(format!("{at}: entity {e}")),
    }
}

fn binary(v: &Value, at: &str) -> Result<(Box<Expr>, Box<Expr>), Unsupported> {
    Ok((
        Box::new(expr(&v["left"], &format!("{at}.left"))?),
        Box::new(expr(&v["right"], &format!("{at}.right"))?),
    ))
}

fn expr(v: &Value, at: &str) -> Result<Expr, Unsupported> {
    let Some((op, arg)) = v.as_object().and_then(|m| {
        let mut it = m.iter();
        match (it.next(), it.next()) {
            (Some(first), None) => Some(first),
            _ => None,
        }
    }) else {
        return Err(format!("{at}: {v}"));
    };
    let at = format!("{at}.{op}");
    Ok(match op.as_str() {
        "Value" => Expr::Lit(literal(arg, &at)?),
        "Var" => Expr::Field(match arg.as_str() {
            Some("principal") => Field::Principal,
            Some("action") => Field::Action,
            Some("resource") => Field::Resource,
            _ => return Err(format!("{at}: variable {arg}")),
        }),
        "Set" => Expr::Set(
            arg.as_array()
                .ok_or_else(|| format!("{at}: not a list"))?
                .iter()
                .map(|i| expr(i, &at))
                .collect::<Result<_, _>>()?,
        ),
        "." => {
            let attr = arg["attr"].as_str().unwrap_or_default();
            let on = &arg["left"]["Var"];
            Expr::Field(match (on.as_str(), attr) {
                (Some("resource"), "policy") => Field::Policy,
                (Some("resource"), "level") => Field::Level,
                (Some("resource"), "rank") => Field::Rank,
                (Some("resource"), "caveats") => Field::Caveats,
                (Some("resource"), "contexts") => Field::Contexts,
                (Some("resource"), "releaseSetCount") => Field::ReleaseSetCount,
                (Some("context"), "recipient") => Field::Recipient,
                (Some("context"), "day") => Field::Day,
                _ => return Err(format!("{at}: attribute {attr:?}")),
            })
        }
        "&&" => {
            let (a, b) = binary(arg, &at)?;
            Expr::And(a, b)
        }
        "||" => {
            let (a, b) = binary(arg, &at)?;
            Expr::Or(a, b)
        }
        "!" => Expr::Not(Box::new(expr(&arg["arg"], &at)?)),
        "if-then-else" => Expr::If(
            Box::new(expr(&arg["if"], &at)?),
            Box::new(expr(&arg["then"], &at)?),
            Box::new(expr(&arg["else"], &at)?),
        ),
        "==" => {
            let (a, b) = binary(arg, &at)?;
            Expr::Eq(a, b)
        }
        "!=" => {
            let (a, b) = binary(arg, &at)?;
            Expr::Not(Box::new(Expr::Eq(a, b)))
        }
        "<" | "<=" | ">" | ">=" => {
            let (a, b) = binary(arg, &at)?;
            let cmp = match op.as_str() {
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            Expr::Cmp(cmp, a, b)
        }
        "in" => {
            let (a, b) = binary(arg, &at)?;
            Expr::In(a, b)
        }
        "contains" => {
            let (a, b) = binary(arg, &at)?;
            Expr::Contains(a, b)
        }
        "containsAll" => {
            let (a, b) = binary(arg, &at)?;
            Expr::ContainsAll(a, b)
        }
        "containsAny" => {
            let (a, b) = binary(arg, &at)?;
            Expr::ContainsAny(a, b)
        }
        other => return Err(format!("{at}: operator {other:?}")),
    })
}

/// A scope constraint as a condition on `var`.
fn scope(v: &Value, var: Field, at: &str) -> Result<Option<Expr>, Unsupported> {
    let this = || Box::new(Expr::Field(var));
    match v["op"].as_str() {
        Some("All") => Ok(None),
        Some("==") => Ok(Some(Expr::Eq(
            this(),
            Box::new(Expr::Lit(entity(&v["entity"], at)?)),
        ))),
        Some("in") => {
            let right = match (v.get("entity"), v.get("entities")) {
                (Some(e), None) => Expr::Lit(entity(e, at)?),
                (None, Some(Value::Array(es))) => Expr::Lit(Val::Set(
                    es.iter().map(|e| entity(e, at)).collect::<Result<_, _>>()?,
                )),
                _ => return Err(format!("{at}: {v}")),
            };
            Ok(Some(Expr::In(this(), Box::new(right))))
        }
        _ => Err(format!("{at}: scope {v}")),
    }
}

/// A whole rule (Cedar's JSON form of one `forbid` policy) as one condition.
fn rule(policy: &Value) -> Result<Expr, Unsupported> {
    let mut parts = Vec::new();
    for (key, var) in [
        ("principal", Field::Principal),
        ("action", Field::Action),
        ("resource", Field::Resource),
    ] {
        parts.extend(scope(&policy[key], var, key)?);
    }
    for (i, c) in policy["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("conditions[{i}]");
        let body = expr(&c["body"], &at)?;
        parts.push(match c["kind"].as_str() {
            Some("when") => body,
            Some("unless") => Expr::Not(Box::new(body)),
            other => return Err(format!("{at}: kind {other:?}")),
        });
    }
    Ok(parts
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
        .unwrap_or(Expr::Lit(Val::Bool(true))))
}

/// One nation's rules: the compiled ones by id, and whether any is left to Cedar.
#[derive(Default)]
struct NationRules {
    /// Sorted by id: the first that fires names the decision, as Cedar's sorted reasons do.
    compiled: Vec<(String, Pred)>,
    fallback: bool,
}

/// National rules decided from their compiled form, with Cedar for the rules outside the
/// subset (see the module documentation).
pub struct CompiledNationalRules {
    /// Sorted by nation, for binary search (a handful of nations have rules).
    by_nation: Vec<(NationCode, NationRules)>,
    /// The rules Cedar evaluates, with why each could not be compiled.
    fallbacks: Vec<(NationCode, String, String)>,
    /// Cedar's rules, restricted to the fallbacks.
    cedar: CedarNationalRules,
    memberships: HashMap<NationCode, Vec<(String, Interval)>>,
}

impl CompiledNationalRules {
    /// Compiles rules loaded and validated by Cedar (`CedarNationalRules::load` or
    /// `from_texts`), against the memberships of `registry`.
    pub fn compile(cedar: CedarNationalRules, registry: &Registry) -> CompiledNationalRules {
        let mut by_nation: HashMap<NationCode, NationRules> = HashMap::new();
        let mut fallbacks = Vec::new();
        let mut keep = HashMap::new();
        for (nation, set) in cedar.sets() {
            let rules = by_nation.entry(*nation).or_default();
            let mut left = BTreeSet::new();
            for p in set.policies() {
                let id = p.id().to_string();
                let compiled = p
                    .to_json()
                    .map_err(|e| format!("no JSON form: {e}"))
                    .and_then(|json| rule(&json));
                match compiled {
                    Ok(e) => rules.compiled.push((id, specialise(&e))),
                    Err(why) => {
                        fallbacks.push((*nation, id.clone(), why));
                        left.insert(id);
                    }
                }
            }
            rules.compiled.sort_by(|a, b| a.0.cmp(&b.0));
            rules.fallback = !left.is_empty();
            keep.insert(*nation, left);
        }
        fallbacks.sort();
        let mut memberships: HashMap<NationCode, Vec<(String, Interval)>> = HashMap::new();
        for org in registry.organizations() {
            for m in org.memberships.iter().filter(|m| m.role == Role::Member) {
                memberships
                    .entry(m.nation)
                    .or_default()
                    .push((org.id.0.clone(), m.period));
            }
        }
        let mut by_nation: Vec<(NationCode, NationRules)> = by_nation.into_iter().collect();
        by_nation.sort_by_key(|(n, _)| *n);
        CompiledNationalRules {
            by_nation,
            fallbacks,
            cedar: cedar.restricted_to(&keep),
            memberships,
        }
    }

    fn rules_of(&self, nation: NationCode) -> Option<&NationRules> {
        self.by_nation
            .binary_search_by_key(&nation, |(n, _)| *n)
            .ok()
            .map(|i| &self.by_nation[i].1)
    }

    /// The rules decided by Cedar, as (nation, rule id, what is outside the compiled subset).
    pub fn fallbacks(&self) -> &[(NationCode, String, String)] {
        &self.fallbacks
    }
}

impl NationalRules for CompiledNationalRules {
    fn forbids(
        &self,
        label: &Label,
        originator: NationCode,
        recipient: NationCode,
        day: Date,
    ) -> Result<Option<String>, RulesError> {
        let Some(rules) = self.rules_of(originator) else {
            return Ok(None);
        };
        // Cedar is given at most this many sets; a request with more is not evaluated.
        if label.releasable_to().len() > MAX_RELEASE_SETS {
            return Err(RulesError::TooManyReleaseSets {
                limit: MAX_RELEASE_SETS,
            });
        }
        let request = Request {
            label,
            originator,
            recipient,
            day,
            day_number: super::day_number(day),
            memberships: &self.memberships,
        };
        let fired = rules
            .compiled
            .iter()
            .find(|(_, p)| request.test(p))
            .map(|(id, _)| id.clone());
        if !rules.fallback {
            return Ok(fired);
        }
        // An erroring rule denies, whatever the others say.
        let by_cedar = self.cedar.forbids(label, originator, recipient, day)?;
        Ok(match (fired, by_cedar) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    fn has_rules_for(&self, nation: NationCode) -> bool {
        self.rules_of(nation).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_one(text: &str) -> Result<Expr, Unsupported> {
        let set: cedar_policy::PolicySet = text.parse().unwrap();
        let p = set.policies().next().unwrap();
        rule(&p.to_json().unwrap())
    }

    #[test]
    fn the_subset_compiles_and_what_is_outside_it_is_named() {
        assert!(compile_one(
            r#"forbid (principal == Nation::"FRA", action == Action::"release", resource)
               when { resource.caveats.contains("SPECIAL FRANCE") && context.recipient != Nation::"FRA" }
               unless { context.recipient in [Organization::"EU"] || context.day <= 20200101 };"#
        )
        .is_ok());
        let e = compile_one(r#"forbid (principal, action, resource) when { resource has rel0 };"#)
            .unwrap_err();
        assert!(e.contains("has"), "{e}");
        let e = compile_one(
            r#"forbid (principal, action, resource) when { resource.rel0.tokens.contains("FRA") };"#,
        )
        .unwrap_err();
        assert!(e.contains("attribute"), "{e}");
    }
}
