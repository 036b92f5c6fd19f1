//! `LIKE` and `MATCHES` as stix2-matcher runs them with Python's `re`: `LIKE` becomes an anchored
//! expression (`%` any run of characters but a newline, `_` one such character, a final newline
//! allowed); `MATCHES` is Python regular-expression syntax, translated here to `fancy-regex`
//! syntax, searched anywhere in the value. Pattern and values are put in Unicode NFC first.
//!
//! Python's `$` (end, or before a final newline) has no single Rust equivalent without a
//! look-ahead, so an expression with `$` is compiled twice: the plain form (`\z`) serves values
//! that do not end with a newline, the look-ahead form the others.
//!
//! Known gaps (documented, and refused rather than guessed where possible): `\N{...}` escapes,
//! conditional groups `(?(1)...)` and scoped `(?x:...)` are refused with an error; `\w`, `\s` and
//! case folding follow Rust's Unicode tables, which differ from Python 3.11's at the edges; a binary
//! value is searched as Latin-1 text with ASCII classes, and case folding there is not limited to
//! ASCII as Python's bytes patterns are.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::value::Scalar;

/// A string in NFC, borrowed when it already is.
pub(crate) fn nfc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// Compiled expressions by their text, shared by all matchers of the process (as Python's `re`
/// keeps its own cache): at most this many of each kind, the cache emptied when full.
const CACHE_SIZE: usize = 512;

type Cache<T> = OnceLock<Mutex<HashMap<String, Arc<T>>>>;

fn cached<T>(
    cache: &'static Cache<T>,
    key: &str,
    build: impl FnOnce() -> Result<T, String>,
) -> Result<Arc<T>, String> {
    let cache = cache.get_or_init(Mutex::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(key).cloned()) {
        return Ok(hit);
    }
    let built = Arc::new(build()?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(key.to_owned(), Arc::clone(&built));
    }
    Ok(built)
}

/// `LIKE` compiled, or taken from the cache.
pub(crate) fn like(operand: &str) -> Result<Arc<Like>, String> {
    static CACHE: Cache<Like> = OnceLock::new();
    cached(&CACHE, operand, || Like::new(operand))
}

/// `MATCHES` compiled, or taken from the cache.
pub(crate) fn matches(pattern: &str) -> Result<Arc<Matches>, String> {
    static CACHE: Cache<Matches> = OnceLock::new();
    cached(&CACHE, pattern, || Matches::new(pattern))
}

/// Compiled `LIKE`.
#[derive(Debug)]
pub(crate) struct Like {
    regex: regex::Regex,
    /// stix2-matcher decodes binary values as UTF-8 only when every character of its expression is
    /// below U+0100.
    reads_binary: bool,
}

impl Like {
    pub(crate) fn new(operand: &str) -> Result<Like, String> {
        let operand = nfc(operand);
        let mut expr = String::from(r"\A");
        for c in operand.chars() {
            match c {
                '%' => expr.push_str(r"[^\n]*"),
                '_' => expr.push_str(r"[^\n]"),
                c => expr.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        expr.push_str(r"\n?\z");
        let regex = regex::Regex::new(&expr).map_err(|e| format!("LIKE {operand:?}: {e}"))?;
        Ok(Like {
            regex,
            reads_binary: operand.chars().all(|c| u32::from(c) < 256),
        })
    }

    /// `Ok(None)`: the value is not text (no match). `Err`: binary that is not UTF-8.
    pub(crate) fn matches(&self, value: Scalar<'_>) -> Result<Option<bool>, String> {
        match value {
            Scalar::Str(s) => Ok(Some(self.regex.is_match(&nfc(s)))),
            Scalar::Bytes(b) if self.reads_binary => match std::str::from_utf8(b) {
                Ok(s) => Ok(Some(self.regex.is_match(&nfc(s)))),
                Err(e) => Err(format!("binary value is not UTF-8: {e}")),
            },
            _ => Ok(None),
        }
    }
}

/// Compiled `MATCHES`.
#[derive(Debug)]
pub(crate) struct Matches {
    text: Compiled,
    /// For binary values, when every character of the expression is below U+0100.
    binary: Option<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    plain: fancy_regex::Regex,
    /// The form for values ending with a newline, when the expression has `$`.
    before_newline: Option<fancy_regex::Regex>,
}

impl Compiled {
    fn new(pattern: &str, binary: bool) -> Result<Compiled, String> {
        let translated = translate(pattern, binary)?;
        let build = |end: &str| {
            let expr = translated.join(end);
            fancy_regex::Regex::new(&expr).map_err(|e| format!("MATCHES {pattern:?}: {e}"))
        };
        let plain = build(r"\z")?;
        let before_newline = if translated.len() > 1 {
            Some(build(r"(?=\n?\z)")?)
        } else {
            None
        };
        Ok(Compiled {
            plain,
            before_newline,
        })
    }

    fn is_match(&self, text: &str) -> Result<bool, String> {
        let regex = match &self.before_newline {
            Some(r) if text.ends_with('\n') => r,
            _ => &self.plain,
        };
        regex.is_match(text).map_err(|e| format!("MATCHES: {e}"))
    }
}

impl Matches {
    pub(crate) fn new(pattern: &str) -> Result<Matches, String> {
        let pattern = nfc(pattern);
        let text = Compiled::new(&pattern, false)?;
        let binary = if pattern.chars().all(|c| u32::from(c) < 256) {
            Some(Compiled::new(&pattern, true)?)
        } else {
            None
        };
        Ok(Matches { text, binary })
    }

    /// `Ok(None)`: the value is neither text nor binary that can be searched (no match).
    pub(crate) fn matches(&self, value: Scalar<'_>) -> Result<Option<bool>, String> {
        match value {
            Scalar::Str(s) => self.text.is_match(&nfc(s)).map(Some),
            Scalar::Bytes(b) => match &self.binary {
                Some(binary) => {
                    let latin1: String = b.iter().map(|&byte| char::from(byte)).collect();
                    binary.is_match(&latin1).map(Some)
                }
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

/// Translates a Python expression; the result is split where a (non-multiline) `$` stood, to be
/// joined with the chosen end assertion. `binary`: the rules of Python's bytes patterns (ASCII
/// classes, no `\u` or `\U`).
fn translate(pattern: &str, binary: bool) -> Result<Vec<String>, String> {
    let bad = |what: &str| Err(format!("MATCHES {pattern:?}: {what}"));
    let chars: Vec<char> = pattern.chars().collect();
    let mut at = 0;
    let mut flags = String::new();
    // Global flags, only at the start (Python 3.11 refuses them elsewhere).
    while chars.get(at) == Some(&'(') && chars.get(at + 1) == Some(&'?') {
        let mut end = at + 2;
        while end < chars.len() && "aiLmsux".contains(chars[end]) {
            end += 1;
        }
        if end == at + 2 || chars.get(end) != Some(&')') {
            break;
        }
        flags.extend(&chars[at + 2..end]);
        at = end + 1;
    }
    if flags.contains('L') {
        return bad("the LOCALE flag needs a bytes pattern");
    }
    if binary && flags.contains('u') {
        return bad("the UNICODE flag cannot be used with a bytes pattern");
    }
    let ascii = binary || flags.contains('a');
    let verbose = flags.contains('x');
    let multiline = flags.contains('m');
    let mut out = String::new();
    for f in ['i', 'm', 's'] {
        if flags.contains(f) {
            out.push_str(&format!("(?{f})"));
        }
    }
    let mut pieces = Vec::new();
    let mut groups = 0usize;
    let mut names: Vec<String> = Vec::new();
    while at < chars.len() {
        let c = chars[at];
        at += 1;
        match c {
            '\\' => {
                let Some(&e) = chars.get(at) else {
                    return bad("bad escape (end of pattern)");
                };
                at += 1;
                match e {
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                        out.push_str(&class_shorthand(e, ascii, false))
                    }
                    'b' => out.push_str(if ascii { r"(?-u:\b)" } else { r"\b" }),
                    'B' => out.push_str(if ascii { r"(?-u:\B)" } else { r"\B" }),
                    'A' => out.push_str(r"\A"),
                    'Z' => out.push_str(r"\z"),
                    '1'..='9' => {
                        let mut n = e.to_digit(10).unwrap_or(0) as usize;
                        if let Some(d) = chars.get(at).and_then(|d| d.to_digit(10)) {
                            if e <= '7'
                                && d <= 7
                                && chars.get(at + 1).is_some_and(|t| ('0'..='7').contains(t))
                            {
                                let code = u32::from(e as u8 - b'0') * 64
                                    + d * 8
                                    + (chars[at + 1] as u32 - 48);
                                at += 2;
                                push_literal(&mut out, char::from_u32(code).unwrap_or('\0'));
                                continue;
                            }
                            n = n * 10 + d as usize;
                            at += 1;
                        }
                        if n > groups {
                            return bad("invalid group reference");
                        }
                        out.push_str(&format!(r"\{n}"));
                    }
                    _ => match escape_char(&chars, &mut at, e, binary) {
                        Ok(c) => push_literal(&mut out, c),
                        Err(why) => return bad(&why),
                    },
                }
            }
            '.' => out.push('.'),
            '^' => out.push('^'),
            '$' if multiline => out.push_str("(?m:$)"),
            '$' => pieces.push(std::mem::take(&mut out)),
            '|' | '*' | '+' | '?' | ')' => out.push(c),
            '{' => match quantifier(&chars, at) {
                Some((text, next)) => {
                    out.push_str(&text);
                    at = next;
                }
                None => out.push_str(r"\{"),
            },
            '(' => {
                if chars.get(at) != Some(&'?') {
                    groups += 1;
                    out.push('(');
                    continue;
                }
                at += 1;
                let rest: String = chars[at..].iter().take(3).collect();
                if rest.starts_with(':')
                    || rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with('>')
                {
                    out.push_str("(?");
                    out.push(chars[at]);
                    at += 1;
                } else if rest.starts_with("<=") || rest.starts_with("<!") {
                    out.push_str("(?");
                    out.push_str(&rest[..2]);
                    at += 2;
                } else if rest.starts_with("P<") {
                    let name: String = chars[at + 2..].iter().take_while(|c| **c != '>').collect();
                    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return bad("bad group name");
                    }
                    at += 2 + name.chars().count() + 1;
                    groups += 1;
                    out.push_str(&format!("(?P<{name}>"));
                    names.push(name);
                } else if rest.starts_with("P=") {
                    let name: String = chars[at + 2..].iter().take_while(|c| **c != ')').collect();
                    if !names.contains(&name) {
                        return bad("unknown group name");
                    }
                    at += 2 + name.chars().count() + 1;
                    out.push_str(&format!(r"\k<{name}>"));
                } else if rest.starts_with('#') {
                    while at < chars.len() && chars[at] != ')' {
                        at += 1;
                    }
                    if at == chars.len() {
                        return bad("missing ), unterminated comment");
                    }
                    at += 1;
                } else {
                    // Scoped flags (?i:...) and (?-i:...).
                    let spec: String = chars[at..]
                        .iter()
                        .take_while(|c| **c != ':' && **c != ')')
                        .collect();
                    let next = chars.get(at + spec.chars().count());
                    if next == Some(&':')
                        && !spec.is_empty()
                        && spec.chars().all(|c| "ims-".contains(c))
                    {
                        out.push_str(&format!("(?{spec}:"));
                        at += spec.chars().count() + 1;
                    } else if next == Some(&')') && spec.chars().all(|c| "aiLmsux".contains(c)) {
                        return bad("global flags not at the start of the expression");
                    } else {
                        return bad("unsupported group syntax");
                    }
                }
            }
            '[' => match class(&chars, &mut at, ascii, binary) {
                Ok(text) => out.push_str(&text),
                Err(why) => return bad(&why),
            },
            c if verbose && (c == ' ' || ('\t'..='\r').contains(&c)) => {}
            '#' if verbose => {
                while at < chars.len() && chars[at] != '\n' {
                    at += 1;
                }
            }
            c => push_literal(&mut out, c),
        }
    }
    pieces.push(out);
    Ok(pieces)
}

fn push_literal(out: &mut String, c: char) {
    out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

/// `\d \D \w \W \s \S`, as Python reads them (`inside`: within a class, without brackets).
fn class_shorthand(e: char, ascii: bool, inside: bool) -> String {
    let positive = match (e.to_ascii_lowercase(), ascii) {
        ('d', true) => "0-9",
        ('w', true) => "0-9A-Za-z_",
        ('s', true) => r" \t\n\r\x0B\x0C",
        ('d', false) => r"\d",
        ('w', false) => r"\w",
        _ => r"\s\x1C-\x1F",
    };
    let upper = e.is_ascii_uppercase();
    match (upper, inside) {
        (false, false) => format!("[{positive}]"),
        (true, _) => format!("[^{positive}]"),
        (false, true) => positive.to_owned(),
    }
}

/// An escape standing for one character (outside or inside a class), after the backslash.
fn escape_char(chars: &[char], at: &mut usize, e: char, binary: bool) -> Result<char, String> {
    let hex = |at: &mut usize, n: usize| -> Result<char, String> {
        let digits: String = chars
            .get(*at..*at + n)
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        if digits.chars().count() != n || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("incomplete escape \\{e}"));
        }
        *at += n;
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("bad escape \\{e}{digits}"))
    };
    Ok(match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'f' => '\x0c',
        'v' => '\x0b',
        'a' => '\x07',
        'x' => hex(at, 2)?,
        'u' if !binary => hex(at, 4)?,
        'U' if !binary => hex(at, 8)?,
        '0' => {
            let mut code = 0;
            let mut n = 0;
            while n < 2 && chars.get(*at).is_some_and(|c| ('0'..='7').contains(c)) {
                code = code * 8 + (chars[*at] as u32 - 48);
                *at += 1;
                n += 1;
            }
            char::from_u32(code).unwrap_or('\0')
        }
        'N' => return Err("\\N{...} escapes are not supported".into()),
        c if c.is_ascii_alphanumeric() => return Err(format!("bad escape \\{c}")),
        c => c,
    })
}

/// `{m}`, `{m,}`, `{,n}`, `{m,n}` (and `{,}`) at `chars[at..]`, after the brace: the Rust form
/// and the index after it; `None` when Python reads the brace as a literal.
fn quantifier(chars: &[char], at: usize) -> Option<(String, usize)> {
    let close = at + chars[at..].iter().position(|c| *c == '}')?;
    let body: String = chars[at..close].iter().collect();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let text = match body.split_once(',') {
        None if !body.is_empty() && digits(&body) => format!("{{{body}}}"),
        None => return None,
        Some((lo, hi)) if digits(lo) && digits(hi) => {
            let lo = if lo.is_empty() { "0" } else { lo };
            format!("{{{lo},{hi}}}")
        }
        Some(_) => return None,
    };
    Some((text, close + 1))
}

/// A class `[...]` after the `[`.
fn class(chars: &[char], at: &mut usize, ascii: bool, binary: bool) -> Result<String, String> {
    let mut out = String::from("[");
    if chars.get(*at) == Some(&'^') {
        out.push('^');
        *at += 1;
    }
    let start = *at;
    loop {
        let Some(&c) = chars.get(*at) else {
            return Err("unterminated character set".into());
        };
        *at += 1;
        if c == ']' && *at - 1 > start {
            break;
        }
        let item = if c == '\\' {
            let Some(&e) = chars.get(*at) else {
                return Err("bad escape (end of pattern)".into());
            };
            *at += 1;
            match e {
                'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                    out.push_str(&class_shorthand(e, ascii, true));
                    continue;
                }
                'b' => '\x08',
                'A' | 'B' | 'Z' => return Err(format!("bad escape \\{e}")),
                '1'..='7' => {
                    // Octal in a class.
                    let mut code = e as u32 - 48;
                    let mut n = 1;
                    while n < 3 && chars.get(*at).is_some_and(|c| ('0'..='7').contains(c)) {
                        code = code * 8 + (chars[*at] as u32 - 48);
                        *at += 1;
                        n += 1;
                    }
                    char::from_u32(code).unwrap_or('\0')
                }
                '8' | '9' => return Err(format!("bad escape \\{e}")),
                e => escape_char(chars, at, e, binary)?,
            }
        } else {
            c
        };
        // A range `a-z` (a '-' before ']' is literal).
        if chars.get(*at) == Some(&'-') && chars.get(*at + 1).is_some_and(|n| *n != ']') {
            *at += 1;
            let hi_raw = chars[*at];
            *at += 1;
            let hi = if hi_raw == '\\' {
                let Some(&e) = chars.get(*at) else {
                    return Err("bad escape (end of pattern)".into());
                };
                *at += 1;
                match e {
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => return Err("bad character range".into()),
                    'b' => '\x08',
                    e => escape_char(chars, at, e, binary)?,
                }
            } else {
                hi_raw
            };
            if hi < item {
                return Err("bad character range".into());
            }
            push_class_char(&mut out, item);
            out.push('-');
            push_class_char(&mut out, hi);
            continue;
        }
        push_class_char(&mut out, item);
    }
    out.push(']');
    Ok(out)
}

fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '^' | '-' | '&' | '~') {
        out.push('\\');
        out.push(c);
    } else if c.is_control() || c == ' ' {
        out.push_str(&format!(r"\x{{{:X}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pattern: &str, text: &str) -> bool {
        Matches::new(pattern)
            .unwrap()
            .matches(Scalar::Str(text))
            .unwrap()
            == Some(true)
    }

    #[test]
    fn dollar_matches_before_a_final_newline() {
        assert!(search("^abc$", "abc"));
        assert!(search("^abc$", "abc\n"));
        assert!(!search("^abc$", "abc\n\n"));
        assert!(search("c$\\n", "abc\n"));
        assert!(search("(?m)^b$", "a\nb\nc"));
    }

    #[test]
    fn translates_python_syntax() {
        assert!(search("a{,2}b", "aab"));
        assert!(search("a{x}", "a{x}"));
        assert!(search("(?P<x>a)(?P=x)", "aa"));
        assert!(search("\\Aab\\Z", "ab"));
        assert!(!search("\\Aab\\Z", "ab\n"));
        assert!(search("[]a]", "]"));
        assert!(search("[a-c&&]", "&"));
        assert!(search("é", "e\u{301}"));
        assert!(search("(?i)ABC", "abc"));
        assert!(search("(a)\\1", "aa"));
        assert!(search("\\x41\\101", "AA"));
        assert!(search("(?x) a b # comment", "ab"));
        assert!(search("\\s", "\u{1c}"));
    }

    #[test]
    fn refuses_what_python_refuses() {
        for bad in ["\\q", "(a", "[a", "\\1", "a(?i)", "(?P=x)", "[z-a]", "\\x4"] {
            assert!(Matches::new(bad).is_err(), "{bad}");
        }
        // A bytes pattern cannot hold \u, and stix2-matcher compiles one for Latin-1 expressions.
        assert!(Matches::new("\\u0041").is_err());
    }

    #[test]
    fn like_is_anchored_and_stops_at_newlines() {
        let like = Like::new("a%c_").unwrap();
        let m = |s: &str| like.matches(Scalar::Str(s)).unwrap() == Some(true);
        assert!(m("abbcd"));
        assert!(m("acd\n"));
        assert!(!m("ab\ncd"));
        assert!(!m("xabcd"));
    }
}
