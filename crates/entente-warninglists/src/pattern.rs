//! `regex` lists: PHP-style PCRE patterns (`/body/flags`), all matched in one pass by a `RegexSet`.
//!
//! MISP matches these with PHP's `preg_match`. `pymispwarninglists` does not match them at all (its
//! `_slow_search` has no branch for `regex` and answers no), which the tests document. We match them
//! as MISP means them, translated to the `regex` crate's syntax:
//! - the delimiter is the first character, the pattern ends at its first unescaped occurrence (or
//!   at the matching bracket for `(`, `[`, `{`, `<`), and flags follow;
//! - flags `i`, `m`, `s`, `x`, `U` map to the same inline flags; `u` is the default here; `D` and
//!   `g` change nothing for a yes/no match (`g`, a JavaScript flag PCRE itself refuses, appears in
//!   the `phone_numbers` list); any other flag is an error;
//! - PCRE's `$` also matches before a final newline (unless `m` or `D`): outside classes it is
//!   written `(?:\n?\z)`, which has the same yes/no answer.

use regex::RegexSet;

use crate::strings::Posting;

/// Every pattern of every `regex` list, compiled together.
pub(crate) struct PatternMatcher {
    set: Option<RegexSet>,
    /// Pattern `i` of the set is this entry.
    postings: Vec<Posting>,
}

impl PatternMatcher {
    /// Compiles `(PHP pattern, posting)` pairs; the error names the pattern at fault.
    pub fn build(patterns: Vec<(&str, Posting)>) -> Result<PatternMatcher, (Posting, String)> {
        let mut translated = Vec::with_capacity(patterns.len());
        for (pattern, posting) in &patterns {
            let rust = translate_php_pattern(pattern).map_err(|message| (*posting, message))?;
            // Compiled alone first so that an error names its pattern.
            regex::Regex::new(&rust).map_err(|error| (*posting, error.to_string()))?;
            translated.push(rust);
        }
        let postings: Vec<Posting> = patterns.iter().map(|(_, posting)| *posting).collect();
        let set = if translated.is_empty() {
            None
        } else {
            let set = RegexSet::new(&translated).map_err(|error| {
                let first = postings
                    .first()
                    .copied()
                    .unwrap_or(Posting { list: 0, entry: 0 });
                (first, error.to_string())
            })?;
            Some(set)
        };
        Ok(PatternMatcher { set, postings })
    }

    /// Calls `found` with the entry of every pattern that matches `value`, in pattern order.
    pub fn for_each_match(&self, value: &str, mut found: impl FnMut(Posting)) {
        let Some(set) = &self.set else {
            return;
        };
        for index in set.matches(value).iter() {
            found(self.postings[index]);
        }
    }
}

/// A PHP pattern (`/body/flags`) in the `regex` crate's syntax, or why it cannot be.
pub(crate) fn translate_php_pattern(pattern: &str) -> Result<String, String> {
    let pattern = pattern.trim_start();
    let Some(delimiter) = pattern.chars().next() else {
        return Err("empty pattern".to_owned());
    };
    if delimiter.is_alphanumeric() || delimiter == '\\' || delimiter.is_whitespace() {
        return Err(format!(
            "delimiter {delimiter:?} must not be alphanumeric, a backslash or a space"
        ));
    }
    let closing = match delimiter {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        '<' => '>',
        other => other,
    };
    let body_start = delimiter.len_utf8();
    let mut depth = 0usize;
    let mut escaped = false;
    let mut body_end = None;
    for (offset, c) in pattern[body_start..].char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == closing && depth == 0 {
            body_end = Some(body_start + offset);
            break;
        } else if closing != delimiter && c == delimiter {
            depth += 1;
        } else if closing != delimiter && c == closing {
            depth -= 1;
        }
    }
    let body_end = body_end.ok_or_else(|| format!("no ending delimiter {closing:?}"))?;
    let body = &pattern[body_start..body_end];
    let mut inline_flags = String::new();
    let mut multi_line = false;
    let mut dollar_end_only = false;
    for flag in pattern[body_end + closing.len_utf8()..].chars() {
        match flag {
            'i' | 's' | 'x' | 'U' => inline_flags.push(flag),
            'm' => {
                inline_flags.push('m');
                multi_line = true;
            }
            'D' => dollar_end_only = true,
            'u' | 'g' | ' ' | '\n' | '\r' => {}
            other => return Err(format!("unknown modifier {other:?}")),
        }
    }
    let body = if multi_line || dollar_end_only {
        body.to_owned()
    } else {
        dollar_before_final_newline(body)
    };
    Ok(if inline_flags.is_empty() {
        body
    } else {
        format!("(?{inline_flags}){body}")
    })
}

/// Writes each `$` that is neither escaped nor in a class as `(?:\n?\z)`.
fn dollar_before_final_newline(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
                class_start = false;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class such as `[:alpha:]` inside a class.
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str(r"(?:\n?\z)"),
            _ => out.push(c),
        }
        class_start = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_php_patterns() {
        assert_eq!(
            translate_php_pattern(r"/^(security|noc|soc|abuse)\@.*\..*$/i").unwrap(),
            r"(?i)^(security|noc|soc|abuse)\@.*\..*(?:\n?\z)"
        );
        assert_eq!(
            translate_php_pattern(r"/((?:\+|00)1)?55501([0-9]{2})/g").unwrap(),
            r"((?:\+|00)1)?55501([0-9]{2})"
        );
        assert_eq!(translate_php_pattern(r"#a/b#").unwrap(), "a/b");
        assert_eq!(translate_php_pattern(r"/a\/b/").unwrap(), r"a\/b");
        assert_eq!(translate_php_pattern(r"{a{1,2}}m").unwrap(), "(?m)a{1,2}");
        assert_eq!(translate_php_pattern(r"/a$/m").unwrap(), "(?m)a$");
        assert_eq!(translate_php_pattern(r"/a$/D").unwrap(), "a$");
        assert_eq!(
            translate_php_pattern(r"/[$]\$[]$][[:alpha:]$]$/").unwrap(),
            r"[$]\$[]$][[:alpha:]$](?:\n?\z)"
        );
        for bad in ["", "abc", "/abc", "/abc/q", r"\abc\"] {
            assert!(translate_php_pattern(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn matches_like_pcre() {
        let posting = |entry| Posting { list: 0, entry };
        let matcher = PatternMatcher::build(vec![
            (r"/^(security|noc|soc|abuse)\@.*\..*$/i", posting(0)),
            (r"/((?:\+|00)44)?07700900([0-9]{3})/g", posting(1)),
        ])
        .unwrap();
        let matches = |value: &str| {
            let mut entries = Vec::new();
            matcher.for_each_match(value, |posting| entries.push(posting.entry));
            entries
        };
        assert_eq!(matches("abuse@example.org"), [0]);
        assert_eq!(matches("ABUSE@example.org"), [0]);
        assert_eq!(matches("abuse@example.org\n"), [0]);
        assert_eq!(matches("abuse@example.org\n\n"), Vec::<u32>::new());
        assert_eq!(matches("x-abuse@example.org"), Vec::<u32>::new());
        assert_eq!(matches("call 07700900123 now"), [1]);
        assert_eq!(matches(""), Vec::<u32>::new());
        let error = PatternMatcher::build(vec![("/(/", posting(7))])
            .err()
            .unwrap();
        assert_eq!(error.0, posting(7));
    }
}
