//! Shared machinery for reading TOML inputs: byte offsets to line numbers, problem collection, and the
//! partial-date rules of the dataset.

use std::ops::Range;
use std::path::{Path, PathBuf};

use entente_types::diagnostic::LineIndex;
use entente_types::{parse_date, Date};

use crate::error::{Location, Problem};

/// Collects problems for one input text, turning byte spans into line numbers.
pub(crate) struct Ctx<'a> {
    pub(crate) file: Option<PathBuf>,
    text: &'a str,
    lines: LineIndex,
    pub(crate) problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(file: Option<&Path>, text: &'a str) -> Ctx<'a> {
        Ctx {
            file: file.map(Path::to_path_buf),
            text,
            lines: LineIndex::new(text),
            problems: Vec::new(),
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.lines.line_of(offset)
    }

    pub(crate) fn location(&self, span: Option<Range<usize>>, field: &str) -> Location {
        Location {
            file: self.file.clone(),
            line: span.map(|s| self.line_of(s.start)),
            field: (!field.is_empty()).then(|| field.to_owned()),
        }
    }

    pub(crate) fn report(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        let location = self.location(Some(span), field);
        self.problems.push(Problem {
            location,
            message: message.into(),
        });
    }

    /// Parses the whole text, or records the parse error with its line.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        match toml::from_str::<T>(self.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let location = self.location(e.span(), "");
                self.problems.push(Problem {
                    location,
                    message: e.message().trim().to_owned(),
                });
                None
            }
        }
    }

    /// Checks a number is finite and not negative.
    pub(crate) fn amount(&mut self, span: Range<usize>, field: &str, v: f64) -> bool {
        if v.is_finite() && v >= 0.0 {
            true
        } else {
            self.report(
                span,
                field,
                format!("expected a finite number >= 0, found {v}"),
            );
            false
        }
    }

    /// Checks a fraction lies in [0, 1].
    pub(crate) fn fraction(&mut self, span: Range<usize>, field: &str, v: f64) -> bool {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            true
        } else {
            self.report(
                span,
                field,
                format!("expected a fraction between 0 and 1, found {v}"),
            );
            false
        }
    }

    /// Parses a start date that may be partial; see [`start_of`].
    pub(crate) fn start_date(
        &mut self,
        span: Range<usize>,
        field: &str,
        text: &str,
    ) -> Option<Date> {
        match start_of(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.report(span, field, e.to_string());
                None
            }
        }
    }

    /// Parses an end date that may be partial; see [`end_of`].
    pub(crate) fn end_date(&mut self, span: Range<usize>, field: &str, text: &str) -> Option<Date> {
        match end_of(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.report(span, field, e.to_string());
                None
            }
        }
    }

    /// Checks every id in a `;`-separated source list is known, and that the figure does not rest on
    /// weak (tier-3) sources alone. `tier_of` gives a known source's tier.
    pub(crate) fn sources(
        &mut self,
        span: Range<usize>,
        field: &str,
        text: &str,
        tier_of: &dyn Fn(&str) -> Option<u8>,
    ) {
        if text.trim().is_empty() {
            self.report(span, field, "a source id is required");
            return;
        }
        let mut tiers = Vec::new();
        for id in text.split(';').map(str::trim) {
            match tier_of(id) {
                Some(tier) => tiers.push(tier),
                None => self.report(
                    span.clone(),
                    field,
                    format!("unknown source id {id:?} (not in sources.toml)"),
                ),
            }
        }
        if !tiers.is_empty() && tiers.iter().all(|&t| t >= WEAK_TIER) {
            self.report(
                span,
                field,
                format!(
                    "{text:?}: a figure needs a primary (tier 1) or reputable secondary (tier 2) source; tier 3 alone is not enough"
                ),
            );
        }
    }
}

/// The tier of weak sources (wikis, blogs, aggregators, generated "fact" sites): never a figure's only
/// support.
pub const WEAK_TIER: u8 = 3;

/// A date given as `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, read as the start of a period. A partial date
/// counts conservatively: from the first day of the next month (or year), so a query may miss a few
/// weeks but never invents a participation.
pub fn start_of(text: &str) -> Result<Date, PartialDateError> {
    partial(text, true)
}

/// A date given as `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, read as the end of a period: a partial end stops
/// on the last day of the previous month (or year).
pub fn end_of(text: &str) -> Result<Date, PartialDateError> {
    partial(text, false)
}

/// A date that is not `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, or not a day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialDateError {
    #[error("malformed date {0:?}: expected YYYY-MM-DD, YYYY-MM or YYYY")]
    Malformed(String),
    #[error(transparent)]
    Day(#[from] entente_types::DateError),
}

fn partial(text: &str, start: bool) -> Result<Date, PartialDateError> {
    let bad = || PartialDateError::Malformed(text.to_owned());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text.len() {
        10 => Ok(parse_date(text)?),
        7 if text.as_bytes()[4] == b'-' && digits(&text[..4]) && digits(&text[5..]) => {
            let y: i32 = text[..4].parse().map_err(|_| bad())?;
            let m: u32 = text[5..].parse().map_err(|_| bad())?;
            let first = Date::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
            if start {
                first
                    .checked_add_months(chrono::Months::new(1))
                    .ok_or_else(bad)
            } else {
                first.pred_opt().ok_or_else(bad)
            }
        }
        4 if digits(text) => {
            let y: i32 = text.parse().map_err(|_| bad())?;
            let d = if start {
                Date::from_ymd_opt(y + 1, 1, 1)
            } else {
                Date::from_ymd_opt(y - 1, 12, 31)
            };
            d.ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}
