//! STIX timestamps: RFC 3339, UTC (`Z`), with an optional fraction of up to nine digits.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The layout of [`Timestamp::key`].
const KEY_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// A parsed STIX timestamp that remembers the text it came from.
///
/// Ordering and equality are on the instant, so `…:00Z` and `…:00.000Z` are the same version;
/// [`Timestamp::key`] is a fixed-width text with the same order, for storage indexes.
#[derive(Debug, Clone)]
pub struct Timestamp {
    instant: DateTime<Utc>,
    text: String,
}

/// Text that is not a STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed timestamp {text:?}: {reason}")]
pub struct TimestampError {
    pub text: String,
    pub reason: &'static str,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let err = |reason| TimestampError {
            text: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() < 20
            || !(digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && b[10] == b'T'
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19))
        {
            return Err(err("expected YYYY-MM-DDTHH:MM:SS[.s]Z"));
        }
        if b[b.len() - 1] != b'Z' {
            return Err(err("must be UTC and end in Z"));
        }
        let fraction = &b[19..b.len() - 1];
        let nanos = match fraction {
            [] => 0,
            [b'.', rest @ ..] if !rest.is_empty() && rest.iter().all(u8::is_ascii_digit) => {
                if rest.len() > 9 {
                    return Err(err("more than nine fractional digits"));
                }
                (0..9).fold(0u32, |n, i| {
                    n * 10 + rest.get(i).map_or(0, |d| u32::from(d - b'0'))
                })
            }
            _ => return Err(err("expected YYYY-MM-DDTHH:MM:SS[.s]Z")),
        };
        let naive = NaiveDateTime::parse_from_str(&text[..19], "%Y-%m-%dT%H:%M:%S")
            .map_err(|_| err("no such date or time"))?;
        let instant = naive
            .and_utc()
            .with_nanosecond_checked(nanos)
            .ok_or_else(|| err("no such date or time"))?;
        Ok(Timestamp {
            instant,
            text: text.to_owned(),
        })
    }

    /// A timestamp for an instant, written with microseconds.
    pub fn from_instant(instant: DateTime<Utc>) -> Timestamp {
        let text = instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        Timestamp { instant, text }
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// The text as written in the object.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Fixed-width text (nanoseconds) whose byte order is the order of instants.
    pub fn key(&self) -> String {
        use chrono::{Datelike, Timelike};
        let t = &self.instant;
        let (year, nanos) = (t.year(), t.nanosecond());
        // Written by hand for every instant a STIX timestamp can hold (one is written per stored
        // version); chrono's formatter for the rest, such as a leap second.
        let (Ok(year), true) = (u32::try_from(year), nanos < 1_000_000_000) else {
            return self.instant.format(KEY_FORMAT).to_string();
        };
        if year > 9999 {
            return self.instant.format(KEY_FORMAT).to_string();
        }
        let mut key = String::with_capacity(30);
        let mut digits = |n: u32, width: u32, then: Option<char>| {
            for p in (0..width).rev() {
                let d = (n / 10u32.pow(p)) % 10;
                key.push(char::from(b'0' + d as u8));
            }
            if let Some(c) = then {
                key.push(c);
            }
        };
        digits(year, 4, Some('-'));
        digits(t.month(), 2, Some('-'));
        digits(t.day(), 2, Some('T'));
        digits(t.hour(), 2, Some(':'));
        digits(t.minute(), 2, Some(':'));
        digits(t.second(), 2, Some('.'));
        digits(nanos, 9, Some('Z'));
        key
    }
}

trait WithNanos: Sized {
    fn with_nanosecond_checked(self, nanos: u32) -> Option<Self>;
}

impl WithNanos for DateTime<Utc> {
    fn with_nanosecond_checked(self, nanos: u32) -> Option<Self> {
        chrono::Timelike::with_nanosecond(&self, nanos)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.instant == other.instant
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn the_key_is_chronos_fixed_width_layout() {
        for text in [
            "2020-01-01T00:00:00Z",
            "1970-01-01T00:00:00.000Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2016-12-31T23:59:60.5Z",
            "2024-02-29T12:34:56.000001Z",
            "2021-07-09T08:07:06.1Z",
        ] {
            let Ok(t) = Timestamp::parse(text) else {
                continue;
            };
            assert_eq!(t.key(), t.instant.format(KEY_FORMAT).to_string(), "{text}");
            assert_eq!(t.key().len(), 30, "{text}");
        }
    }
}
