//! STIX timestamps: RFC 3339, UTC (`Z`), with an optional fraction of up to nine digits.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};

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
        self.instant.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
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
