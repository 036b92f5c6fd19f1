//! The values of cyber-observable objects as the matcher reads them: JSON, with the values of
//! `*_hex` and `*_bin` properties decoded to bytes once (stix2-matcher decodes them whenever a path
//! steps into them), and the values that stix2-matcher refuses when a path steps into them marked.

use serde_json::Value as Json;

/// A JSON value, with the property suffixes of STIX applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Box<str>),
    /// The decoded value of a `*_hex` or `*_bin` property.
    Bytes(Box<[u8]>),
    List(Box<[Value]>),
    Map(Box<[(Box<str>, Value)]>),
    /// A value stix2-matcher raises on when a path steps into it: a `*_hex` or `*_bin` property
    /// that does not decode, a `*_ref` that is not a string, a `*_refs` that is not a list of
    /// strings. The text says why.
    Invalid(Box<str>),
}

impl Value {
    /// The value of `key` in a map.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether a binary value anywhere inside is not UTF-8.
    pub(crate) fn has_non_utf8_binary(&self) -> bool {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).is_err(),
            Value::List(items) => items.iter().any(Value::has_non_utf8_binary),
            Value::Map(entries) => entries.iter().any(|(_, v)| v.has_non_utf8_binary()),
            _ => false,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Converts JSON, noting the keys of values marked invalid in `invalid_keys`.
    pub(crate) fn from_json(json: &Json, invalid_keys: &mut Vec<Box<str>>) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    Value::Int(i128::from(u))
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Json::String(s) => Value::Str(s.as_str().into()),
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .map(|v| Value::from_json(v, invalid_keys))
                    .collect(),
            ),
            Json::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| {
                        let value = property(k, v, invalid_keys);
                        if matches!(value, Value::Invalid(_))
                            && !invalid_keys.iter().any(|i| **i == **k)
                        {
                            invalid_keys.push(k.as_str().into());
                        }
                        (Box::from(k.as_str()), value)
                    })
                    .collect(),
            ),
        }
    }
}

/// A property's value, decoded by its suffix as stix2-matcher does on stepping into it.
fn property(key: &str, json: &Json, invalid_keys: &mut Vec<Box<str>>) -> Value {
    if key.ends_with("_hex") {
        return match json.as_str().map(python_a2b_hex) {
            Some(Ok(bytes)) => Value::Bytes(bytes.into()),
            Some(Err(why)) => Value::Invalid(format!("{key}: {why}").into()),
            None => Value::Invalid(format!("{key}: a hex value must be a string").into()),
        };
    }
    if key.ends_with("_bin") {
        return match json.as_str().map(python_b64decode) {
            Some(Ok(bytes)) => Value::Bytes(bytes.into()),
            Some(Err(why)) => Value::Invalid(format!("{key}: {why}").into()),
            None => Value::Invalid(format!("{key}: a base64 value must be a string").into()),
        };
    }
    if key.ends_with("_ref") && !json.is_string() {
        return Value::Invalid(
            format!("the value of reference property '{key}' is not a string").into(),
        );
    }
    if key.ends_with("_refs") {
        match json.as_array() {
            Some(items) if items.iter().all(Json::is_string) => {}
            Some(_) => {
                return Value::Invalid(
                    format!("a value of reference property '{key}' is not a string").into(),
                )
            }
            None => {
                return Value::Invalid(
                    format!("the value of reference list property '{key}' is not a list").into(),
                )
            }
        }
    }
    Value::from_json(json, invalid_keys)
}

/// `binascii.a2b_hex` on a string.
fn python_a2b_hex(s: &str) -> Result<Vec<u8>, &'static str> {
    if !s.is_ascii() {
        return Err("string argument should contain only ASCII characters");
    }
    if s.len() % 2 == 1 {
        return Err("odd-length string");
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char)
                .to_digit(16)
                .ok_or("non-hexadecimal digit found")?;
            let lo = (pair[1] as char)
                .to_digit(16)
                .ok_or("non-hexadecimal digit found")?;
            Ok(((hi << 4) | lo) as u8)
        })
        .collect()
}

/// `base64.standard_b64decode` on a string: `binascii.a2b_base64` in its lenient mode (characters
/// outside the alphabet skipped, decoding stops at a complete pad).
pub(crate) fn python_b64decode(s: &str) -> Result<Vec<u8>, &'static str> {
    if !s.is_ascii() {
        return Err("string argument should contain only ASCII characters");
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut quad = 0;
    let mut left: u32 = 0;
    let mut pads = 0;
    for c in s.bytes() {
        if c == b'=' {
            pads += 1;
            if quad >= 2 && quad + pads >= 4 {
                return Ok(out);
            }
            continue;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        let v = u32::from(v);
        pads = 0;
        match quad {
            0 => {
                left = v;
                quad = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0f;
                quad = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
                quad = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                quad = 0;
            }
        }
    }
    match quad {
        0 => Ok(out),
        1 => Err("invalid base64: the number of data characters is 1 more than a multiple of 4"),
        _ => Err("incorrect base64 padding"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_as_python_does() {
        assert_eq!(python_b64decode("QUJD"), Ok(b"ABC".to_vec()));
        assert_eq!(python_b64decode("QUI="), Ok(b"AB".to_vec()));
        assert_eq!(python_b64decode("Q U\nJ D!"), Ok(b"ABC".to_vec()));
        assert_eq!(python_b64decode("QQ==QUJD"), Ok(b"A".to_vec()));
        assert_eq!(python_b64decode(""), Ok(vec![]));
        assert!(python_b64decode("QUJ").is_err());
        assert!(python_b64decode("Q").is_err());
        assert!(python_b64decode("QQ=").is_err());
        assert!(python_b64decode("é").is_err());
    }

    #[test]
    fn decodes_hex_as_python_does() {
        assert_eq!(python_a2b_hex("41aF"), Ok(vec![0x41, 0xaf]));
        assert!(python_a2b_hex("414").is_err());
        assert!(python_a2b_hex("4g").is_err());
    }
}
