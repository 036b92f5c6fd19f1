//! Shared vocabulary of Entente.
//!
//! Every other crate speaks in these terms: a [`NationCode`] is an ISO 3166-1 alpha-3 code that has
//! been checked to be three ASCII capital letters (so homoglyphs and zero-width characters never reach
//! a policy decision), a [`Date`] is a calendar day parsed strictly as `YYYY-MM-DD`, and an
//! [`ErrorCode`] is the transport-neutral class of an error that the edges (CLI exit codes, HTTP
//! statuses) map in exactly one place each.
//!
//! Nothing here reads the clock: "today" is always a parameter, supplied by the binary. The loaders'
//! common machinery lives here too: [`diagnostic`] (problems located to file, line and field) and
//! [`suggest`] ("did you mean …?").

pub mod diagnostic;
pub mod report;
pub mod suggest;

use std::fmt;
use std::str::FromStr;

/// A calendar day (no time zone). Agreements and memberships are dated to the day.
pub type Date = chrono::NaiveDate;

/// Parses a strict `YYYY-MM-DD` date.
///
/// Unlike `NaiveDate::from_str`, this refuses signs, missing zero padding and trailing text, so that
/// `2024-3-7` or `+2024-03-07` are reported rather than silently accepted.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(DateError {
            text: text.to_owned(),
            reason: "expected YYYY-MM-DD",
        });
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| DateError {
        text: text.to_owned(),
        reason: "no such day in the calendar",
    })
}

/// A date string that is not a valid `YYYY-MM-DD` calendar day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed date {text:?}: {reason}")]
pub struct DateError {
    text: String,
    reason: &'static str,
}

impl DateError {
    /// The text that failed to parse.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// An ISO 3166-1 alpha-3 code: exactly three ASCII capital letters.
///
/// Construction only checks the shape; whether the code names a nation known to the registry is the
/// registry's business.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationCode([u8; 3]);

impl NationCode {
    /// Builds a code from three bytes, checking they are ASCII capital letters.
    pub const fn from_bytes(bytes: [u8; 3]) -> Option<NationCode> {
        let mut i = 0;
        while i < 3 {
            if !bytes[i].is_ascii_uppercase() {
                return None;
            }
            i += 1;
        }
        Some(NationCode(bytes))
    }

    /// The code's three bytes (ASCII capitals).
    pub const fn bytes(&self) -> [u8; 3] {
        self.0
    }

    /// The code as text, e.g. `"FRA"`.
    pub fn as_str(&self) -> &str {
        // The constructor guarantees three ASCII capitals, which are valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for NationCode {
    type Err = NationCodeError;

    fn from_str(text: &str) -> Result<NationCode, NationCodeError> {
        let err = |reason| NationCodeError {
            text: text.to_owned(),
            reason,
        };
        if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
            return Err(err(if is_invisible(c) {
                "contains an invisible character"
            } else {
                "contains a non-ASCII character"
            }));
        }
        let bytes: [u8; 3] = text
            .as_bytes()
            .try_into()
            .map_err(|_| err("expected three letters"))?;
        NationCode::from_bytes(bytes).ok_or_else(|| err("expected three capital letters A-Z"))
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

impl fmt::Display for NationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationCode({})", self.as_str())
    }
}

impl serde::Serialize for NationCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for NationCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NationCode, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Text that is not a well-formed alpha-3 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed nation code {text:?}: {reason}")]
pub struct NationCodeError {
    text: String,
    reason: &'static str,
}

/// The transport-neutral class of an error. Each edge maps it in one place: the CLI to an exit code,
/// the node to an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The input is malformed or fails validation (CLI exit 2, HTTP 400/422).
    InvalidInput,
    /// The named thing does not exist (CLI exit 2, HTTP 404).
    NotFound,
    /// The request is well-formed but refused by policy (CLI exit 3, HTTP 403).
    Forbidden,
    /// Something failed on our side (CLI exit 1, HTTP 500).
    Internal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2024-03-07").unwrap(),
            Date::from_ymd_opt(2024, 3, 7).unwrap()
        );
        for bad in [
            "2024-3-7",
            "+2024-03-07",
            "2024-03-07x",
            "2024-02-30",
            "",
            "07/03/2024",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
        let err = parse_date("2024-02-30").unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed date \"2024-02-30\": no such day in the calendar"
        );
    }

    #[test]
    fn nation_codes_reject_lookalikes() {
        assert_eq!("FRA".parse::<NationCode>().unwrap().as_str(), "FRA");
        let cases = [
            ("fra", "expected three capital letters A-Z"),
            ("FR", "expected three letters"),
            ("FRAN", "expected three letters"),
            ("F\u{200B}RA", "contains an invisible character"),
            ("FRА", "contains a non-ASCII character"), // Cyrillic A
        ];
        for (text, reason) in cases {
            let err = text.parse::<NationCode>().unwrap_err();
            assert_eq!(err.reason, reason, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn nation_code_round_trips(s in "[A-Z]{3}") {
            let code: NationCode = s.parse().unwrap();
            proptest::prop_assert_eq!(code.to_string(), s);
        }

        #[test]
        fn nation_code_never_accepts_other_text(s in "\\PC{0,5}") {
            let ok = s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase());
            proptest::prop_assert_eq!(s.parse::<NationCode>().is_ok(), ok);
        }
    }
}
