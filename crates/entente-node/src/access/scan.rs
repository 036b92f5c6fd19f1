//! The top level of a stored object's text, found without parsing its values.
//!
//! [`super::release_key`] needs the names of an object's members and where their values are;
//! a JSON parser reads every value to step over it. Stored texts are valid JSON (the node
//! serialized each one), so stepping over a value only needs its strings and brackets: strings
//! are skipped with `memchr`, brackets paired. Anything that is not plainly so (a member name
//! with an escape, brackets that do not pair, a quote in a bare word, text after the object) is
//! left to the parser: the scanner answers `None`. On a valid text it reads what the parser
//! reads (the property test `scanned_and_parsed_release_keys_agree` holds the two equal); it
//! does not check what stored texts never get wrong, the spelling of bare words and the
//! characters inside strings.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Each top-level member of the JSON object `json`, in order: its name and the byte range of
/// its value. `None` when the text is not read here (see the module's documentation).
pub fn top_level(json: &str) -> Option<Vec<(&str, Range<usize>)>> {
    let b = json.as_bytes();
    let mut members = Vec::with_capacity(16);
    sequence(b, b'{', b'}', |i| {
        let name = plain_string(json, *i)?;
        let colon = skip_space(b, *i + name.len() + 2);
        if b.get(colon) != Some(&b':') {
            return None;
        }
        let start = skip_space(b, colon + 1);
        *i = value_end(b, start)?;
        members.push((name, start..*i));
        Some(())
    })?;
    Some(members)
}

/// Each top-level member of the JSON object `json` as `serde_json` reads it: its name
/// (unescaped) and the byte range of its value; `None` when the text is not a JSON object. The
/// reference [`top_level`] is held to (wherever both answer on a valid text, they agree).
pub fn parsed_top_level(json: &str) -> Option<Vec<(String, Range<usize>)>> {
    struct Members<'j>(&'j str);
    impl<'de> Visitor<'de> for Members<'_> {
        type Value = Vec<(String, Range<usize>)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut members = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let value = map.next_value::<&'de RawValue>()?.get();
                let start = value.as_ptr() as usize - self.0.as_ptr() as usize;
                members.push((name, start..start + value.len()));
            }
            Ok(members)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let members = (&mut de).deserialize_map(Members(json)).ok()?;
    de.end().ok()?;
    Some(members)
}

/// The strings of a JSON list of strings without escapes (`["a", "b"]`); `None` for any other
/// text, for the parser to read.
pub fn plain_strings(json: &str) -> Option<Vec<&str>> {
    let mut strings = Vec::with_capacity(2);
    sequence(json.as_bytes(), b'[', b']', |i| {
        let text = plain_string(json, *i)?;
        *i += text.len() + 2;
        strings.push(text);
        Some(())
    })?;
    Some(strings)
}

/// Walks the whole text `b` as one `open … close` sequence of comma-separated items, each read
/// by `item` from the index it is given (moved past the item), with nothing after the sequence.
fn sequence(
    b: &[u8],
    open: u8,
    close: u8,
    mut item: impl FnMut(&mut usize) -> Option<()>,
) -> Option<()> {
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&open) {
        return None;
    }
    i = skip_space(b, i + 1);
    if b.get(i) != Some(&close) {
        loop {
            item(&mut i)?;
            i = skip_space(b, i);
            match b.get(i) {
                Some(b',') => i = skip_space(b, i + 1),
                Some(c) if *c == close => break,
                _ => return None,
            }
        }
    }
    (skip_space(b, i + 1) == b.len()).then_some(())
}

/// The content of the string that opens at `i`, when it has no escape and no control character
/// (what the parser would refuse or unescape is left to it).
fn plain_string(json: &str, i: usize) -> Option<&str> {
    let b = json.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let text = json.get(i + 1..string_end(b, i)? - 1)?;
    (!text.bytes().any(|c| c == b'\\' || c < 0x20)).then_some(text)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end (past the closing quote) of the string that opens at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        // An escape: the next byte is escaped, whatever it is (no hex digit of `\u` is a quote).
        j = k + 2;
    }
}

/// The end of the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            // Open brackets, innermost last; a list or object nested deeper than this is rare
            // enough to leave to the parser.
            let mut open: Vec<u8> = Vec::with_capacity(8);
            let mut j = i;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    c @ (b'{' | b'[') => {
                        if open.len() == 64 {
                            return None;
                        }
                        open.push(c);
                    }
                    c @ (b'}' | b']') => {
                        let opener = if c == b'}' { b'{' } else { b'[' };
                        if open.pop() != Some(opener) {
                            return None;
                        }
                        if open.is_empty() {
                            return Some(j + 1);
                        }
                    }
                    c if is_word(c) || matches!(c, b',' | b':' | b' ' | b'\t' | b'\n' | b'\r') => {}
                    _ => return None,
                }
                j += 1;
            }
        }
        _ => {
            // A number, `true`, `false` or `null`.
            let len = b.get(i..)?.iter().take_while(|c| is_word(**c)).count();
            (len > 0).then_some(i + len)
        }
    }
}

/// Bytes of the bare words of JSON: numbers and literals.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn names_and_values(json: &str) -> Option<Vec<(&str, &str)>> {
        top_level(json).map(|m| m.into_iter().map(|(n, r)| (n, &json[r])).collect())
    }

    #[test]
    fn members_and_their_values_are_found() {
        let json =
            r#" { "a" : 1 , "b":"x\"}]" ,"c":[{"d":[1,{"e":"]"}]},true],"f":{} , "g":null}  "#;
        assert_eq!(
            names_and_values(json).unwrap(),
            [
                ("a", "1"),
                ("b", r#""x\"}]""#),
                ("c", r#"[{"d":[1,{"e":"]"}]},true]"#),
                ("f", "{}"),
                ("g", "null")
            ]
        );
        assert_eq!(names_and_values("{}").unwrap(), []);
    }

    #[test]
    fn lists_of_plain_strings_are_read_and_others_left_to_the_parser() {
        assert_eq!(plain_strings(r#" [ "a" , "b c" ] "#).unwrap(), ["a", "b c"]);
        assert_eq!(plain_strings("[]").unwrap(), Vec::<&str>::new());
        for json in [
            r#"["a\u0041"]"#,
            r#"["a",]"#,
            r#"["a" "b"]"#,
            "[1]",
            r#"["a"] x"#,
            "[\"\t\"]",
            r#"{"a":1}"#,
        ] {
            assert_eq!(plain_strings(json), None, "{json}");
        }
    }

    #[test]
    fn what_is_not_plainly_an_object_is_left_to_the_parser() {
        for json in [
            "",
            "[]",
            r#"{"a":1"#,
            r#"{"a":1,}"#,
            r#"{"a":[1}"#,
            r#"{"a":{"b":1]}"#,
            r#"{"a\u0062":1}"#,
            r#"{"a":1} x"#,
            r#"{"a":}"#,
            r#"{"a":tr"ue}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a" 1}"#,
            "{\"a\":[1]\u{0}}",
        ] {
            assert_eq!(top_level(json), None, "{json}");
        }
    }
}
