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
use serde_json::{Map, Value};
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
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(members, out),
    }
}

fn write_object(members: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
    out.push(b'{');
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_canonical(value, out);
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
