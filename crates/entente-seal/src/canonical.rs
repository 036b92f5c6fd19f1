//! RFC 8785 canonical JSON.
//!
//! Values are written by a direct walk of `serde_json::Value` (`canonical_value`): member names
//! sorted by UTF-16 code units without building keys, strings escaped as RFC 8785 §3.2.2.2 says,
//! numbers with the ECMAScript algorithm (ryu-js), as RFC 8785 requires. Integers go through a
//! double, as `serde_jcs` writes them, so the bytes (and so every binding signed before) are the
//! same as `serde_jcs` gives; a property test keeps the two equal. The walk allocates only the
//! output and one small vector of member references per object, where `serde_jcs` re-parses
//! every member name and buffers every member.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::SealError;

/// The canonical bytes of a value of any serialisable type.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, SealError> {
    let value = serde_json::to_value(value).map_err(|e| SealError::json("canonical JSON", e))?;
    Ok(canonical_value(&value))
}

/// The canonical bytes of a JSON value.
pub fn canonical_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_canonical(value, &mut out);
    out
}

/// Appends the canonical bytes of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => write_array(items, out, write_canonical),
        Value::Object(members) => write_object(
            members.iter().map(|(name, value)| (name.as_str(), value)),
            out,
            write_canonical,
        ),
    }
}

fn write_array<T>(items: &[T], out: &mut Vec<u8>, write: fn(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(item, out);
    }
    out.push(b']');
}

/// Members in the order of their names; of members with one name, the last one only (as a
/// parsed value keeps it).
fn write_object<'a, T: 'a>(
    members: impl Iterator<Item = (&'a str, &'a T)>,
    out: &mut Vec<u8>,
    write: fn(&T, &mut Vec<u8>),
) {
    let mut sorted: Vec<(&str, &T)> = members.collect();
    // Stable, so that the last of equal names stays last.
    sorted.sort_by(|a, b| utf16_order(a.0, b.0));
    out.push(b'{');
    let mut first = true;
    for (i, (name, value)) in sorted.iter().enumerate() {
        if sorted.get(i + 1).is_some_and(|next| next.0 == *name) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_string(name, out);
        out.push(b':');
        write(value, out);
    }
    out.push(b'}');
}

/// RFC 8785 §3.2.3: member names compare as arrays of UTF-16 code units. That is the byte order
/// of UTF-8 except between a supplementary character (a surrogate pair) and one of
/// U+E000..U+FFFF; when either name has no character from U+E000 up (no byte 0xEE or above),
/// the first difference is decided the same in both orders.
fn utf16_order(a: &str, b: &str) -> Ordering {
    let below_e000 = |s: &str| s.bytes().all(|c| c < 0xEE);
    if below_e000(a) || below_e000(b) {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    // serde_json numbers are always finite; integers are written through a double, as serde_jcs
    // does (RFC 8785 §3.2.2.3: JSON numbers are IEEE 754 doubles).
    let f = n.as_f64().unwrap_or(0.0);
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(f).as_bytes());
}

/// RFC 8785 §3.2.2.2: `"` and `\` escaped, the control characters with a short form as such, the
/// others as `\u00xx` in lowercase hex; everything else as it is.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let escape: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The canonical bytes of a JSON text: the bytes [`canonical_value`] writes for the value
/// `serde_json` parses from it (a member named twice keeps its last value), written from a tree
/// that borrows the text's strings instead of building a `Value` (no map of owned names, no
/// copy of a string without escapes).
pub fn canonical_text(json: &str) -> Result<Vec<u8>, serde_json::Error> {
    let tree: Text<'_> = serde_json::from_str(json)?;
    let mut out = Vec::with_capacity(json.len());
    tree.write(&mut out);
    Ok(out)
}

/// Lowercase hex SHA-256 of a JSON text's canonical JSON ([`canonical_text`]).
pub fn sha256_hex_text(json: &str) -> Result<String, SealError> {
    let bytes = canonical_text(json).map_err(|e| SealError::json("canonical JSON", e))?;
    Ok(hex(&sha256(&bytes)))
}

/// A JSON value as [`canonical_text`] reads it.
enum Text<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(std::borrow::Cow<'a, str>),
    Array(Vec<Text<'a>>),
    Object(Vec<(std::borrow::Cow<'a, str>, Text<'a>)>),
}

impl Text<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Text::Null => out.extend_from_slice(b"null"),
            Text::Bool(true) => out.extend_from_slice(b"true"),
            Text::Bool(false) => out.extend_from_slice(b"false"),
            Text::Number(n) => write_number(n, out),
            Text::String(s) => write_string(s, out),
            Text::Array(items) => write_array(items, out, Text::write),
            Text::Object(members) => write_object(
                members.iter().map(|(name, value)| (name.as_ref(), value)),
                out,
                Text::write,
            ),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text<'de>, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        use std::borrow::Cow;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Text<'de>, E> {
                Ok(Text::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Text<'de>, E> {
                Ok(Text::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Text<'de>, E> {
                Ok(Text::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Text<'de>, E> {
                Ok(Text::Number(n.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Text<'de>, E> {
                serde_json::Number::from_f64(n)
                    .map(Text::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::String(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text::String(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text::String(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Text::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<Name<'de>, Text<'de>>()? {
                    members.push((name.0, value));
                }
                Ok(Text::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

/// A member name, borrowed from the text when it has no escape.
struct Name<'a>(std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Name<'de>, D::Error> {
        match <Text<'de> as serde::Deserialize<'de>>::deserialize(d)? {
            Text::String(s) => Ok(Name(s)),
            _ => Err(serde::de::Error::custom(
                "a member name that is not a string",
            )),
        }
    }
}

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256 of a value's canonical JSON.
pub fn sha256_hex<T: Serialize + ?Sized>(value: &T) -> Result<String, SealError> {
    Ok(hex(&sha256(&canonical_json(value)?)))
}

/// Lowercase hex SHA-256 of a JSON value's canonical JSON.
pub fn sha256_hex_value(value: &Value) -> String {
    hex(&sha256(&canonical_value(value)))
}
