//! The canonical text of a pattern: one space around keywords and operators, `=` and `!=` for
//! equality, names quoted only where the grammar needs it, parentheses where the pattern has them
//! (and where precedence needs them in a pattern built by hand). It parses back to an equal pattern.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    Comparison, ComparisonExpr, Constant, Number, ObjectPath, ObservationExpr, Operator, PathStep,
    Pattern, Qualifier, Timestamp,
};
use crate::lexer::is_plain_identifier;

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_observation(f, self, &self.root, Precedence::FollowedBy)
    }
}

/// Binding strength of observation operators, weakest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    FollowedBy,
    Or,
    And,
    Postfix,
}

fn precedence(expr: &ObservationExpr) -> Precedence {
    match expr {
        ObservationExpr::FollowedBy(..) => Precedence::FollowedBy,
        ObservationExpr::Or(..) => Precedence::Or,
        ObservationExpr::And(..) => Precedence::And,
        _ => Precedence::Postfix,
    }
}

fn write_observation(
    f: &mut Formatter<'_>,
    pattern: &Pattern,
    expr: &ObservationExpr,
    at_least: Precedence,
) -> fmt::Result {
    if precedence(expr) < at_least {
        f.write_char('(')?;
        write_observation(f, pattern, expr, Precedence::FollowedBy)?;
        return f.write_char(')');
    }
    let binary = |f: &mut Formatter<'_>, l, r, op: &str, p: Precedence| -> fmt::Result {
        write_observation(f, pattern, l, p)?;
        write!(f, " {op} ")?;
        write_observation(f, pattern, r, next(p))
    };
    match expr {
        ObservationExpr::Observation(c) => {
            f.write_char('[')?;
            write_comparison_expr(f, pattern, c, false)?;
            f.write_char(']')
        }
        ObservationExpr::Group(inner) => {
            f.write_char('(')?;
            write_observation(f, pattern, inner, Precedence::FollowedBy)?;
            f.write_char(')')
        }
        ObservationExpr::And(l, r) => binary(f, l, r, "AND", Precedence::And),
        ObservationExpr::Or(l, r) => binary(f, l, r, "OR", Precedence::Or),
        ObservationExpr::FollowedBy(l, r) => binary(f, l, r, "FOLLOWEDBY", Precedence::FollowedBy),
        ObservationExpr::Qualified(inner, q) => {
            write_observation(f, pattern, inner, Precedence::Postfix)?;
            write!(f, " {q}")
        }
    }
}

fn next(p: Precedence) -> Precedence {
    match p {
        Precedence::FollowedBy => Precedence::Or,
        Precedence::Or => Precedence::And,
        Precedence::And | Precedence::Postfix => Precedence::Postfix,
    }
}

/// `in_and`: the expression is an operand of `AND`, where an `OR` needs parentheses.
fn write_comparison_expr(
    f: &mut Formatter<'_>,
    pattern: &Pattern,
    expr: &ComparisonExpr,
    right_of_and: bool,
) -> fmt::Result {
    match expr {
        ComparisonExpr::Test(i) => match pattern.comparisons.get(*i) {
            Some(c) => write!(f, "{c}"),
            None => Err(fmt::Error),
        },
        ComparisonExpr::And(l, r) => {
            if right_of_and {
                f.write_char('(')?;
            }
            write_and_operand(f, pattern, l, false)?;
            f.write_str(" AND ")?;
            write_and_operand(f, pattern, r, true)?;
            if right_of_and {
                f.write_char(')')?;
            }
            Ok(())
        }
        ComparisonExpr::Or(l, r) => {
            write_comparison_expr(f, pattern, l, false)?;
            f.write_str(" OR ")?;
            match **r {
                ComparisonExpr::Or(..) => {
                    f.write_char('(')?;
                    write_comparison_expr(f, pattern, r, false)?;
                    f.write_char(')')
                }
                _ => write_comparison_expr(f, pattern, r, false),
            }
        }
    }
}

fn write_and_operand(
    f: &mut Formatter<'_>,
    pattern: &Pattern,
    expr: &ComparisonExpr,
    right: bool,
) -> fmt::Result {
    if let ComparisonExpr::Or(..) = expr {
        f.write_char('(')?;
        write_comparison_expr(f, pattern, expr, false)?;
        return f.write_char(')');
    }
    write_comparison_expr(f, pattern, expr, right)
}

impl Display for Comparison {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        if self.operator == Operator::Exists {
            return write!(f, "{not}EXISTS {}:{}", self.object_type, self.path);
        }
        write!(
            f,
            "{}:{} {not}{}",
            self.object_type,
            self.path,
            self.operator.as_str()
        )?;
        if let Some(value) = &self.value {
            write!(f, " {value}")?;
        }
        Ok(())
    }
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for ObjectPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_name(f, &self.first)?;
        for step in &self.steps {
            match step {
                PathStep::Key(k) => {
                    f.write_char('.')?;
                    write_name(f, k)?;
                }
                PathStep::Index(i) => write!(f, "[{i}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

fn write_name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    if is_plain_identifier(name) {
        f.write_str(name)
    } else {
        write_quoted(f, name)
    }
}

fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

impl Display for Qualifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop(a, b) => write!(f, "START {a} STOP {b}"),
        }
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::BigInt(s) => f.write_str(s),
            Number::Float(x) => write_float(f, *x),
        }
    }
}

/// A float as a literal the grammar reads back to the same value (always with a '.').
fn write_float(f: &mut Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_infinite() {
        // A decimal too large for f64 reads back as infinity.
        let sign = if x < 0.0 { "-" } else { "" };
        return write!(f, "{sign}1{}.0", "0".repeat(400));
    }
    let text = format!("{x}");
    f.write_str(&text)?;
    if !text.contains('.') {
        f.write_str(".0")?;
    }
    Ok(())
}

impl Display for Timestamp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "t'{}'", self.0)
    }
}

impl Display for Constant {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write_quoted(f, s),
            Constant::Int(i) => write!(f, "{i}"),
            Constant::BigInt(s) => f.write_str(s),
            Constant::Float(x) => write_float(f, *x),
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Timestamp(t) => write!(f, "{t}"),
            Constant::Binary(bytes) => {
                f.write_str("b'")?;
                write_base64(f, bytes)?;
                f.write_char('\'')
            }
            Constant::Hex(bytes) => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_char('\'')
            }
            Constant::List(items) => {
                f.write_char('(')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(')')
            }
        }
    }
}

fn write_base64(f: &mut Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                f.write_char(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]))?;
            } else {
                f.write_char('=')?;
            }
        }
    }
    Ok(())
}
