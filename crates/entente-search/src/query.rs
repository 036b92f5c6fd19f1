//! The search language: free words and `field:value` terms, as typed into the console's search
//! box, the CLI and the API's `q` parameter.
//!
//! ```text
//! ransomware port type:indicator -type:relationship originator:FRA label:secret
//! added:2024-08-01..2024-08-31 added:>=2024-08 value:198.51.100.0/24 "cable fault" 198.51.100.7
//! ```
//!
//! Words are matched against the words of names, descriptions and the other texts of an object
//! (case and accents of ASCII letters ignored; `word*` matches words starting so). A quoted text
//! is its words, each required. A bare word that reads as an observable value (an address, a
//! domain, a hash…) also finds the objects naming that value. Terms of one field are
//! alternatives; different fields and words must all hold; `-` excludes.

use chrono::NaiveDate;

use crate::observable::Observable;
use crate::text::words;

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Words that must all occur (a trailing `*` is a prefix).
    pub words: Vec<Word>,
    /// Words that must not occur.
    pub without_words: Vec<Word>,
    /// Observable values that must be named (any of them), with the text typed.
    pub values: Vec<Observable>,
    pub types: Vec<String>,
    pub without_types: Vec<String>,
    pub originators: Vec<String>,
    pub without_originators: Vec<String>,
    /// Case-insensitive parts of the label's banner text (any of them).
    pub labels: Vec<String>,
    pub without_labels: Vec<String>,
    /// Days since 1970-01-01 (UTC) the object was added, inclusive bounds.
    pub added: Option<(i64, i64)>,
}

/// One word of free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub prefix: bool,
    /// The word as typed reads as this observable: objects naming it match too.
    pub value: Option<Observable>,
}

/// A query that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query term {term:?}: {reason}")]
pub struct QueryError {
    pub term: String,
    pub reason: String,
}

impl Query {
    /// Reads a query; an empty text is the query that every object matches.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let mut query = Query::default();
        for (negated, term) in terms(text) {
            let fail = |reason: &str| QueryError {
                term: term.clone(),
                reason: reason.to_owned(),
            };
            let quoted = term.starts_with('"');
            let field = (!quoted).then(|| term.split_once(':')).flatten();
            match field {
                Some((name, value)) if FIELDS.contains(&name.to_ascii_lowercase().as_str()) => {
                    let value = value.trim_matches('"');
                    if value.is_empty() {
                        return Err(fail("the field has no value"));
                    }
                    match name.to_ascii_lowercase().as_str() {
                        "type" => push(
                            &mut query.types,
                            &mut query.without_types,
                            negated,
                            value.to_ascii_lowercase(),
                        ),
                        "originator" => push(
                            &mut query.originators,
                            &mut query.without_originators,
                            negated,
                            value.to_ascii_uppercase(),
                        ),
                        "label" => push(
                            &mut query.labels,
                            &mut query.without_labels,
                            negated,
                            value.to_lowercase(),
                        ),
                        "added" => {
                            if negated {
                                return Err(fail("an added range cannot be excluded"));
                            }
                            let (from, to) = day_range(value).map_err(|r| fail(&r))?;
                            let (f0, t0) = query.added.unwrap_or((i64::MIN, i64::MAX));
                            query.added = Some((from.max(f0), to.min(t0)));
                        }
                        _ => {
                            if negated {
                                return Err(fail("a value cannot be excluded"));
                            }
                            let value = Observable::guess(value)
                                .ok_or_else(|| fail("not an address, network, domain, URL, e-mail address, hash, MAC address, AS number or CVE id"))?;
                            query.values.push(value);
                        }
                    }
                }
                _ => {
                    let text = term.trim_matches('"');
                    let value = (!quoted).then(|| Observable::guess(text)).flatten();
                    let prefix = !quoted && text.ends_with('*');
                    let list = if negated {
                        &mut query.without_words
                    } else {
                        &mut query.words
                    };
                    let split = words(text.trim_end_matches('*'));
                    let last = split.len().saturating_sub(1);
                    if split.is_empty() && value.is_none() {
                        continue;
                    }
                    // A value keeps its words (for its text) and the value itself.
                    if value.is_some() && !negated {
                        list.push(Word {
                            text: text.to_owned(),
                            prefix: false,
                            value,
                        });
                        continue;
                    }
                    for (i, w) in split.into_iter().enumerate() {
                        list.push(Word {
                            text: w,
                            prefix: prefix && i == last,
                            value: None,
                        });
                    }
                }
            }
        }
        Ok(query)
    }

    /// Nothing asked: every object matches.
    pub fn is_everything(&self) -> bool {
        *self == Query::default()
    }
}

const FIELDS: [&str; 5] = ["type", "originator", "label", "added", "value"];

fn push(yes: &mut Vec<String>, no: &mut Vec<String>, negated: bool, value: String) {
    if negated {
        no.push(value);
    } else {
        yes.push(value);
    }
}

/// Splits a query into terms, keeping quoted texts whole: `(excluded, term)`.
fn terms(text: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return out;
        };
        let negated = first == '-';
        if negated {
            chars.next();
        }
        let mut term = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() && !quoted {
                break;
            }
            if c == '"' {
                quoted = !quoted;
            }
            term.push(c);
            chars.next();
        }
        if !term.is_empty() {
            out.push((negated, term));
        }
    }
}

/// A day, a month (`2024-08`), a year, or a range of them (`A..B`, `>=A`, `<B`, …), as
/// inclusive days since 1970-01-01.
fn day_range(text: &str) -> Result<(i64, i64), String> {
    if let Some((from, to)) = text.split_once("..") {
        let from = if from.is_empty() {
            i64::MIN
        } else {
            period(from)?.0
        };
        let to = if to.is_empty() {
            i64::MAX
        } else {
            period(to)?.1
        };
        return Ok((from, to));
    }
    for (op, f) in [
        (
            ">=",
            (|(a, _): (i64, i64)| (a, i64::MAX)) as fn((i64, i64)) -> (i64, i64),
        ),
        ("<=", |(_, b)| (i64::MIN, b)),
        (">", |(_, b)| (b + 1, i64::MAX)),
        ("<", |(a, _)| (i64::MIN, a - 1)),
    ] {
        if let Some(rest) = text.strip_prefix(op) {
            return Ok(f(period(rest)?));
        }
    }
    period(text)
}

/// The first and last day of a day, month or year.
fn period(text: &str) -> Result<(i64, i64), String> {
    let days = |d: NaiveDate| (d - NaiveDate::default()).num_days();
    let bad = || format!("{text:?} is not a day (2024-08-01), a month (2024-08) or a year (2024)");
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let (first, last) = match parts.as_slice() {
        [y] => {
            let y = i32::try_from(number(y)?).map_err(|_| bad())?;
            (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            )
        }
        [y, m] => {
            let y = i32::try_from(number(y)?).map_err(|_| bad())?;
            let m = number(m)?;
            let first = NaiveDate::from_ymd_opt(y, m, 1);
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            (first, next.and_then(|n| n.pred_opt()))
        }
        [_, _, _] => {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
            (Some(d), Some(d))
        }
        _ => return Err(bad()),
    };
    match (first, last) {
        (Some(a), Some(b)) => Ok((days(a), days(b))),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_words_and_values() {
        let q = Query::parse(r#"Ransom* "cable FAULT" type:Indicator -type:relationship originator:fra label:Secret added:2024-08 198.51.100.7 -noise"#).unwrap();
        assert_eq!(
            q.words
                .iter()
                .map(|w| (w.text.as_str(), w.prefix))
                .collect::<Vec<_>>(),
            [
                ("ransom", true),
                ("cable", false),
                ("fault", false),
                ("198.51.100.7", false)
            ]
        );
        assert!(q.words[3].value.is_some());
        assert_eq!(q.without_words[0].text, "noise");
        assert_eq!(q.types, ["indicator"]);
        assert_eq!(q.without_types, ["relationship"]);
        assert_eq!(q.originators, ["FRA"]);
        assert_eq!(q.labels, ["secret"]);
        let (from, to) = q.added.unwrap();
        assert_eq!(to - from, 30);
        assert!(Query::parse("").unwrap().is_everything());
    }

    #[test]
    fn day_ranges() {
        let day = |s: &str| period(s).unwrap().0;
        assert_eq!(
            day_range("2024-08-01..2024-08-03").unwrap(),
            (day("2024-08-01"), day("2024-08-03"))
        );
        assert_eq!(day_range(">=2024").unwrap(), (day("2024-01-01"), i64::MAX));
        assert_eq!(
            day_range("<2024-02").unwrap(),
            (i64::MIN, day("2024-01-31"))
        );
        assert_eq!(
            day_range(">2024-02").unwrap(),
            (day("2024-03-01"), i64::MAX)
        );
        assert_eq!(
            day_range("..2024-02-29").unwrap(),
            (i64::MIN, day("2024-02-29"))
        );
        assert!(day_range("2024-13").is_err());
        assert!(day_range("soon").is_err());
    }

    #[test]
    fn refused_terms_say_why() {
        let e = Query::parse("value:ransomware").unwrap_err();
        assert_eq!(e.term, "value:ransomware");
        assert!(Query::parse("added:tomorrow")
            .unwrap_err()
            .reason
            .contains("not a day"));
        assert!(Query::parse("type:").is_err());
        assert!(Query::parse("-added:2024").is_err());
    }
}
