//! Comparisons of a pattern's constants with observed values, with Python's and stix2-matcher's
//! rules: integers and floats compare exactly with each other, booleans with neither (except in
//! `IN`, where Python's set membership makes `true` equal to `1`), strings with binary values when
//! every character is below U+0100, timestamps with strings that read as timestamps.

use std::cmp::Ordering;

use crate::timestamp::parse_python;
use serde_json::Value as Json;

use crate::value::Scalar;

/// A constant of the pattern, converted once.
#[derive(Clone, Debug)]
pub(crate) enum Lit {
    Int(i128),
    /// An integer beyond `i128`: negative flag and decimal digits.
    BigInt(bool, String),
    Float(f64),
    Str {
        text: String,
        /// The string as bytes when every character is below U+0100 (for comparison with binary).
        latin1: Latin1,
    },
    Bool(bool),
    Bytes(Vec<u8>),
    /// Microseconds since the epoch.
    Time(i64),
}

impl Lit {
    pub(crate) fn string(text: String) -> Lit {
        let latin1 = if text.is_ascii() {
            Latin1::Text
        } else {
            match latin1(&text) {
                Some(bytes) => Latin1::Bytes(bytes),
                None => Latin1::Beyond,
            }
        };
        Lit::Str { text, latin1 }
    }

    /// Python's type of the value, for the homogeneity of sets.
    pub(crate) fn python_type(&self) -> &'static str {
        match self {
            Lit::Int(_) | Lit::BigInt(..) => "int",
            Lit::Float(_) => "float",
            Lit::Str { .. } => "str",
            Lit::Bool(_) => "bool",
            Lit::Bytes(_) => "bytes",
            Lit::Time(_) => "datetime",
        }
    }
}

/// A string constant as bytes, for comparison with binary values.
#[derive(Clone, Debug)]
pub(crate) enum Latin1 {
    /// ASCII: the bytes of the text.
    Text,
    /// Every character below U+0100: one byte each.
    Bytes(Vec<u8>),
    /// A character beyond U+00FF: no bytes.
    Beyond,
}

impl Latin1 {
    fn of<'a>(&'a self, text: &'a str) -> Option<&'a [u8]> {
        match self {
            Latin1::Text => Some(text.as_bytes()),
            Latin1::Bytes(bytes) => Some(bytes),
            Latin1::Beyond => None,
        }
    }
}

/// A value met on a path: a JSON value, a decoded `*_hex` or `*_bin` value, or the list of objects
/// a `*_refs` list resolved to (which compares with nothing).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Item<'a> {
    Json(&'a Json),
    Bytes(&'a [u8]),
    Objects,
}

impl<'a> Item<'a> {
    pub(crate) fn scalar(self) -> Scalar<'a> {
        match self {
            Item::Json(json) => Scalar::of_json(json),
            Item::Bytes(bytes) => Scalar::Bytes(bytes),
            Item::Objects => Scalar::Other,
        }
    }
}

/// Why a comparison could not be made (stix2-matcher raises).
pub(crate) type Raise = String;

/// A number of either side.
#[derive(Clone, Copy)]
enum Num<'a> {
    Int(i128),
    Big(bool, &'a str),
    Float(f64),
}

fn lit_num(lit: &Lit) -> Option<Num<'_>> {
    match lit {
        Lit::Int(i) => Some(Num::Int(*i)),
        Lit::BigInt(neg, digits) => Some(Num::Big(*neg, digits)),
        Lit::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

fn value_num(value: Scalar<'_>) -> Option<Num<'static>> {
    match value {
        Scalar::Int(i) => Some(Num::Int(i)),
        Scalar::Float(f) => Some(Num::Float(f)),
        _ => None,
    }
}

/// Exact comparison of two numbers (`None` when a float is NaN).
fn cmp_num(a: Num<'_>, b: Num<'_>) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
        (Num::Big(neg, _), Num::Int(_)) => Some(if neg {
            Ordering::Less
        } else {
            Ordering::Greater
        }),
        (Num::Int(_), Num::Big(neg, _)) => Some(if neg {
            Ordering::Greater
        } else {
            Ordering::Less
        }),
        (Num::Big(neg, digits), Num::Float(f)) => cmp_big_float(neg, digits, f),
        (Num::Float(f), Num::Big(neg, digits)) => {
            cmp_big_float(neg, digits, f).map(Ordering::reverse)
        }
        (Num::Big(n1, d1), Num::Big(n2, d2)) => {
            let magnitude = d1.len().cmp(&d2.len()).then_with(|| d1.cmp(d2));
            Some(match (n1, n2) {
                (false, false) => magnitude,
                (true, true) => magnitude.reverse(),
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
            })
        }
    }
}

/// An integer against a float, exactly (as Python compares them).
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    const LIMIT: f64 = 1.7014118346046923e38; // 2^127
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    let t = whole as i128; // exact: |whole| < 2^127
    Some(
        i.cmp(&t)
            .then_with(|| 0.0f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal)),
    )
}

/// An integer beyond `i128` against a float, exactly.
fn cmp_big_float(neg: bool, digits: &str, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let big_sign = if neg {
        Ordering::Less
    } else {
        Ordering::Greater
    };
    if (f < 0.0) != neg {
        return Some(big_sign);
    }
    // Same sign: compare magnitudes of the integer and of the float's integral part.
    let whole = format!("{:.0}", f.abs().trunc());
    let magnitude = digits
        .len()
        .cmp(&whole.len())
        .then_with(|| digits.cmp(whole.as_str()));
    let magnitude = if magnitude == Ordering::Equal && f.fract() != 0.0 {
        Ordering::Less
    } else {
        magnitude
    };
    Some(if neg { magnitude.reverse() } else { magnitude })
}

/// The latin-1 bytes of a string, when every character is below U+0100.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// stix2-matcher's equality table: `Some(equal)` when the types compare, `None` when they do not
/// (which the caller reads as not equal).
pub(crate) fn equals(lit: &Lit, value: Scalar<'_>) -> Result<Option<bool>, Raise> {
    Ok(match (lit, value) {
        (Lit::Int(_) | Lit::BigInt(..) | Lit::Float(_), Scalar::Int(_) | Scalar::Float(_)) => {
            let (a, b) = (lit_num(lit), value_num(value));
            a.zip(b)
                .map(|(a, b)| cmp_num(a, b) == Some(Ordering::Equal))
        }
        (Lit::Str { text, .. }, Scalar::Str(s)) => Some(s == text),
        (Lit::Str { text, latin1 }, Scalar::Bytes(b)) => Some(latin1.of(text) == Some(b)),
        (Lit::Bytes(a), Scalar::Bytes(b)) => Some(**a == *b),
        (Lit::Bytes(a), Scalar::Str(s)) => Some(latin1(s).as_deref() == Some(a.as_slice())),
        (Lit::Bool(a), Scalar::Bool(b)) => Some(*a == b),
        (Lit::Time(t), Scalar::Str(s)) => Some(*t == json_time(s)?),
        _ => None,
    })
}

/// stix2-matcher's order table: `Some(ordering)` when the types compare (`Some(None)` when they
/// compare but this pair cannot be ordered: a string with characters beyond U+00FF against binary),
/// `None` when they do not.
pub(crate) fn order(lit: &Lit, value: Scalar<'_>) -> Result<Option<Option<Ordering>>, Raise> {
    // The ordering is of the value against the constant.
    Ok(match (lit, value) {
        (Lit::Int(_) | Lit::BigInt(..) | Lit::Float(_), Scalar::Int(_) | Scalar::Float(_)) => {
            let (a, b) = (value_num(value), lit_num(lit));
            a.zip(b).map(|(a, b)| cmp_num(a, b))
        }
        (Lit::Str { text, .. }, Scalar::Str(s)) => Some(Some(s.cmp(text.as_str()))),
        (Lit::Str { text, latin1 }, Scalar::Bytes(b)) => Some(latin1.of(text).map(|l| b.cmp(l))),
        (Lit::Bytes(a), Scalar::Bytes(b)) => Some(Some(b.cmp(a.as_slice()))),
        (Lit::Bytes(a), Scalar::Str(s)) => Some(latin1(s).map(|l| l.as_slice().cmp(a.as_slice()))),
        (Lit::Time(t), Scalar::Str(s)) => Some(Some(json_time(s)?.cmp(t))),
        _ => None,
    })
}

/// Python's `value in set` over the set's constants (hash equality: `true == 1 == 1.0`; strings
/// never equal bytes); strings are read as timestamps when the set holds timestamps.
pub(crate) fn member(set: &[Lit], timestamps: bool, value: Scalar<'_>) -> Result<bool, Raise> {
    if timestamps {
        return Ok(match value {
            Scalar::Str(s) => {
                let t = json_time(s)?;
                set.iter().any(|l| matches!(l, Lit::Time(x) if *x == t))
            }
            _ => false,
        });
    }
    let as_number = match value {
        Scalar::Int(i) => Some(Num::Int(i)),
        Scalar::Float(f) => Some(Num::Float(f)),
        Scalar::Bool(b) => Some(Num::Int(i128::from(b))),
        _ => None,
    };
    Ok(set.iter().any(|lit| match (lit, value) {
        (Lit::Str { text, .. }, Scalar::Str(s)) => s == text,
        (Lit::Bytes(a), Scalar::Bytes(b)) => **a == *b,
        (Lit::Bool(b), _) => {
            as_number.and_then(|n| cmp_num(Num::Int(i128::from(*b)), n)) == Some(Ordering::Equal)
        }
        (Lit::Int(_) | Lit::BigInt(..) | Lit::Float(_), _) => {
            lit_num(lit).zip(as_number).and_then(|(a, b)| cmp_num(a, b)) == Some(Ordering::Equal)
        }
        _ => false,
    }))
}

/// A JSON string compared with a timestamp constant: stix2-matcher raises when it does not read.
fn json_time(s: &str) -> Result<i64, Raise> {
    parse_python(s).ok_or_else(|| format!("invalid timestamp in JSON: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_compare_exactly() {
        assert_eq!(
            cmp_int_float(9_007_199_254_740_993, 9_007_199_254_740_992.0),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp_int_float(2, 2.0), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(2, 2.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-2, -2.5), Some(Ordering::Greater));
        assert_eq!(
            cmp_big_float(false, "100000000000000000000000000000000000000000", 1e41),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_big_float(true, "100000000000000000000000000000000000000000", -1e41),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn set_membership_is_python_equality() {
        let ints = [Lit::Int(1), Lit::Int(2)];
        assert_eq!(member(&ints, false, Scalar::Bool(true)), Ok(true));
        assert_eq!(member(&ints, false, Scalar::Float(2.0)), Ok(true));
        assert_eq!(member(&[Lit::Bool(true)], false, Scalar::Int(5)), Ok(false));
        let strings = [Lit::string("ABC".into())];
        assert_eq!(member(&strings, false, Scalar::Bytes(b"ABC")), Ok(false));
        assert_eq!(equals(&strings[0], Scalar::Bytes(b"ABC")), Ok(Some(true)));
    }
}
