//! The values of cyber-observable objects as the matcher reads them: JSON, with the values of
//! `*_hex` and `*_bin` properties decoded to bytes and the values that stix2-matcher refuses
//! checked when a path steps into them (as stix2-matcher does), and nowhere else.

use serde_json::Value as Json;

/// A value a path reaches, as the comparisons read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Int(i128),
    Float(f64),
    Str(&'a str),
    /// The decoded value of a `*_hex` or `*_bin` property.
    Bytes(&'a [u8]),
    Bool(bool),
    /// Null, a list, an object: compares with nothing.
    Other,
}

impl<'a> Scalar<'a> {
    pub(crate) fn of_json(json: &'a Json) -> Scalar<'a> {
        match json {
            Json::Bool(b) => Scalar::Bool(*b),
            Json::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Scalar::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    Scalar::Int(i128::from(u))
                } else {
                    Scalar::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Json::String(s) => Scalar::Str(s),
            Json::Null | Json::Array(_) | Json::Object(_) => Scalar::Other,
        }
    }
}

/// What a property's name says about its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suffix {
    Plain,
    /// `*_hex`: hexadecimal text of binary.
    Hex,
    /// `*_bin`: base64 text of binary.
    Bin,
    /// `*_ref`: an identifier.
    Ref,
    /// `*_refs`: a list of identifiers.
    Refs,
}

impl Suffix {
    pub(crate) fn of(key: &str) -> Suffix {
        if key.ends_with("_hex") {
            Suffix::Hex
        } else if key.ends_with("_bin") {
            Suffix::Bin
        } else if key.ends_with("_ref") {
            Suffix::Ref
        } else if key.ends_with("_refs") {
            Suffix::Refs
        } else {
            Suffix::Plain
        }
    }
}

/// A property's value, read by its suffix as stix2-matcher reads it on stepping into it.
#[derive(Debug, PartialEq)]
pub(crate) enum Property<'a> {
    Json(&'a Json),
    /// A `*_hex` or `*_bin` value, decoded.
    Bytes(Vec<u8>),
}

/// The value of `key` in an object, if it has one.
pub(crate) fn get<'a>(object: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a Json> {
    // Objects are small: a scan compares fewer bytes than hashing the key.
    if object.len() <= 16 {
        object.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        object.get(key)
    }
}

/// A hash of a name (object type, identifier) that is the same in every process, to compare names
/// by their hashes first.
pub(crate) fn name_hash(name: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(name)
}

/// The value of `key` in `json`, when it is an object that has one.
pub(crate) fn field<'a>(json: &'a Json, key: &str) -> Option<&'a Json> {
    match json {
        Json::Object(object) => get(object, key),
        _ => None,
    }
}

/// Reads the value of property `key` by its suffix. `Err`: why stix2-matcher raises on stepping
/// into it (a `*_hex` or `*_bin` value that does not decode, a `*_ref` that is not a string, a
/// `*_refs` that is not a list of strings).
pub(crate) fn property<'a>(
    key: &str,
    suffix: Suffix,
    json: &'a Json,
) -> Result<Property<'a>, String> {
    match suffix {
        Suffix::Plain => Ok(Property::Json(json)),
        Suffix::Hex => match json.as_str().map(python_a2b_hex) {
            Some(Ok(bytes)) => Ok(Property::Bytes(bytes)),
            Some(Err(why)) => Err(format!("{key}: {why}")),
            None => Err(format!("{key}: a hex value must be a string")),
        },
        Suffix::Bin => match json.as_str().map(python_b64decode) {
            Some(Ok(bytes)) => Ok(Property::Bytes(bytes)),
            Some(Err(why)) => Err(format!("{key}: {why}")),
            None => Err(format!("{key}: a base64 value must be a string")),
        },
        Suffix::Ref if !json.is_string() => Err(format!(
            "the value of reference property '{key}' is not a string"
        )),
        Suffix::Refs => match json.as_array() {
            Some(items) if items.iter().all(Json::is_string) => Ok(Property::Json(json)),
            Some(_) => Err(format!(
                "a value of reference property '{key}' is not a string"
            )),
            None => Err(format!(
                "the value of reference list property '{key}' is not a list"
            )),
        },
        Suffix::Ref => Ok(Property::Json(json)),
    }
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
