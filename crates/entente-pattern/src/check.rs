//! The OASIS validator's checks beyond the grammar, with its quirks (it is the reference).

use crate::ast::{ObjectPath, PathStep};

/// Python's `str.isspace` for one character (Unicode White_Space, plus the separators U+001C–U+001F).
pub(crate) fn python_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The validator's hash check (`object_validator.verify_object`): when a path names `hashes`
/// anywhere and ends with a key that, upper-cased without `-` and `'`, is a known algorithm, the
/// text of the compared value's tokens without `'` must look like such a hash (read with
/// `re.match`, so a trailing newline passes and the MD6 expression only checks a prefix).
/// A path ending in a list index is left alone (the validator itself raises there).
pub(crate) fn hash_problem(path: &ObjectPath, value_text: &str) -> Option<String> {
    if !names_hashes(path) {
        return None;
    }
    let selector = match path.steps.last() {
        None => path.first.as_str(),
        Some(PathStep::Key(k)) => k.as_str(),
        Some(_) => return None,
    };
    let algorithm = selector.to_uppercase().replace(['-', '\''], "");
    let value = value_text.replace('\'', "");
    let ok = match algorithm.as_str() {
        "MD5" => exactly_hex(&value, 32),
        "MD6" => {
            leading_hex(&value) >= 32
                || value
                    .strip_prefix("\n    ")
                    .is_some_and(|rest| leading_hex(rest) >= 64)
        }
        "RIPEMD160" | "SHA1" => exactly_hex(&value, 40),
        "SHA224" | "SHA3224" => exactly_hex(&value, 56),
        "SHA256" | "SHA3256" => exactly_hex(&value, 64),
        "SHA384" | "SHA3384" => exactly_hex(&value, 96),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => exactly_hex(&value, 128),
        "SSDEEP" => {
            let body = value.strip_suffix('\n').unwrap_or(&value);
            (1..=128).contains(&body.len())
                && body
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b':' | b'.'))
        }
        _ => return None,
    };
    (!ok).then(|| format!("{value:?} is not a valid {selector} hash"))
}

/// Whether a path names `hashes` anywhere (the hash check applies to its comparisons).
pub(crate) fn names_hashes(path: &ObjectPath) -> bool {
    path.first == "hashes"
        || path
            .steps
            .iter()
            .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"))
}

fn leading_hex(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_hexdigit).count()
}

/// `re.match(r"^[a-fA-F0-9]{n}$", s)`: `$` also matches before a final newline.
fn exactly_hex(s: &str, n: usize) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.len() == n && leading_hex(body) == n
}
