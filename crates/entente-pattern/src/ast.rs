//! What a parsed pattern is made of.

use crate::timestamp;

/// A parsed STIX 2.1 pattern: observation expressions joined by `AND`, `OR` and `FOLLOWEDBY`, with
/// their qualifiers, and the comparisons they contain.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub(crate) root: ObservationExpr,
    pub(crate) comparisons: Vec<Comparison>,
}

impl Pattern {
    /// The top observation expression.
    pub fn root(&self) -> &ObservationExpr {
        &self.root
    }

    /// Every comparison of the pattern, in the order of the text.
    pub fn comparisons(&self) -> impl Iterator<Item = &Comparison> {
        self.comparisons.iter()
    }

    /// The comparison a [`ComparisonExpr::Test`] names.
    pub fn comparison(&self, index: usize) -> Option<&Comparison> {
        self.comparisons.get(index)
    }
}

/// An observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison expression ]`: one observation in which the comparisons hold.
    Observation(ComparisonExpr),
    /// `( ... )`, kept because the OASIS validator reads qualifiers on a parenthesised expression
    /// differently from those on a bracketed one.
    Group(Box<ObservationExpr>),
    /// `left AND right`: both, on different observations.
    And(Box<ObservationExpr>, Box<ObservationExpr>),
    /// `left OR right`.
    Or(Box<ObservationExpr>, Box<ObservationExpr>),
    /// `left FOLLOWEDBY right`: both, the right one observed no earlier than the left one.
    FollowedBy(Box<ObservationExpr>, Box<ObservationExpr>),
    /// An expression with a qualifier after it.
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// A qualifier of an observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS` (an integer or a float, as written).
    Within(Number),
    /// `REPEATS n TIMES` (saturated at `u64::MAX`).
    Repeats(u64),
    /// `START t'...' STOP t'...'`.
    StartStop(Timestamp, Timestamp),
}

/// A number as a literal writes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    /// An integer outside `i64`, in canonical decimal (a `-` when negative, no leading zeros).
    BigInt(String),
    Float(f64),
}

/// A comparison expression inside `[ ... ]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ComparisonExpr {
    /// One comparison, by its index in [`Pattern::comparisons`].
    Test(usize),
    And(Box<ComparisonExpr>, Box<ComparisonExpr>),
    Or(Box<ComparisonExpr>, Box<ComparisonExpr>),
}

/// One comparison: `type:path [NOT] operator value`, or `[NOT] EXISTS type:path`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The cyber-observable object type, e.g. `ipv4-addr`.
    pub object_type: String,
    /// The property path inside objects of that type.
    pub path: ObjectPath,
    /// Whether `NOT` stands before the operator.
    pub negated: bool,
    pub operator: Operator,
    /// The constant compared with; `None` exactly for [`Operator::Exists`].
    pub value: Option<Constant>,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

impl Operator {
    /// The operator as the canonical text writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

/// A property path: the first property, then keys and list indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    pub first: String,
    pub steps: Vec<PathStep>,
}

/// One step of an object path after the first property.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.name` or `.'quoted name'`.
    Key(String),
    /// `[n]` (saturated to the `i64` range).
    Index(i64),
    /// `[*]`: every element of a list.
    AnyIndex,
}

/// A constant of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    String(String),
    Int(i64),
    /// An integer outside `i64`, in canonical decimal.
    BigInt(String),
    Float(f64),
    Bool(bool),
    Timestamp(Timestamp),
    /// `b'...'`: base64, decoded.
    Binary(Vec<u8>),
    /// `h'...'`: hexadecimal, decoded.
    Hex(Vec<u8>),
    /// `( ... )` after `IN`.
    List(Vec<Constant>),
}

/// A timestamp literal as written between `t'` and `'` (the grammar's shape, which admits dates
/// that do not exist, such as the 30th of February; [`Timestamp::micros`] says whether it does).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp(pub(crate) String);

impl Timestamp {
    /// The text between the quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Microseconds since 1970-01-01T00:00:00Z as Python's `datetime` reads the literal (digits of
    /// the fraction beyond six are dropped), or `None` for a date or time that does not exist.
    pub fn micros(&self) -> Option<i64> {
        timestamp::parse_python(&self.0)
    }

    /// The instant, when it exists.
    pub fn to_datetime(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_micros(self.micros()?)
    }
}
