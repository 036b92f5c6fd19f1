//! Closed date intervals and the partial dates that sources sometimes give ("1973", "1995-02").

use std::fmt;

use entente_types::Date;

/// A closed interval of days: `from` and `until` both belong to it; `until = None` means "still open".
///
/// Membership uses this directly: the United Kingdom's EU membership is
/// `1973-01-01 ..= 2020-01-31`, so it is a member on 2020-01-31 and not on 2020-02-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub from: Date,
    pub until: Option<Date>,
}

impl Interval {
    /// An interval, or `None` if it is inverted (`until` before `from`).
    pub fn new(from: Date, until: Option<Date>) -> Option<Interval> {
        match until {
            Some(u) if u < from => None,
            _ => Some(Interval { from, until }),
        }
    }

    /// Whether `day` lies in the interval.
    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }

    /// Whether every day of this interval lies in `outer`.
    pub fn within(&self, outer: &Interval) -> bool {
        self.from >= outer.from
            && match (self.until, outer.until) {
                (_, None) => true,
                (Some(end), Some(outer_end)) => end <= outer_end,
                (None, Some(_)) => false,
            }
    }

    /// Whether the two intervals share at least one day.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.from <= other.until.unwrap_or(Date::MAX)
            && other.from <= self.until.unwrap_or(Date::MAX)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.until {
            Some(u) => write!(f, "{} – {}", self.from, u),
            None => write!(f, "{} –", self.from),
        }
    }
}

/// A date as a source states it: a day, or only a month or a year when the day is not known.
///
/// Partial dates are resolved conservatively, never by guessing a day: a membership or an agreement
/// whose start is known only to the month counts from the first day of the *next* month, and one
/// whose end is known only to the month stops counting on the last day of the *previous* month. A
/// query can therefore miss a few weeks of a real membership but never invents one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatedDate {
    Day(Date),
    Month { year: i32, month: u32 },
    Year(i32),
}

impl StatedDate {
    /// Parses `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    pub fn parse(text: &str) -> Option<StatedDate> {
        match text.len() {
            10 => entente_types::parse_date(text).ok().map(StatedDate::Day),
            7 => {
                let (y, m) = text.split_once('-')?;
                let year = parse_year(y)?;
                let month: u32 = (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| m.parse().ok())
                    .flatten()?;
                Date::from_ymd_opt(year, month, 1)?;
                Some(StatedDate::Month { year, month })
            }
            4 => parse_year(text).map(StatedDate::Year),
            _ => None,
        }
    }

    /// Whether the source gave the exact day.
    pub fn is_exact(&self) -> bool {
        matches!(self, StatedDate::Day(_))
    }

    /// The first day that is certainly on or after the stated date (used for starts).
    pub fn earliest_certain_start(&self) -> Date {
        match *self {
            StatedDate::Day(d) => d,
            StatedDate::Month { year, month } => {
                let (y, m) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                Date::from_ymd_opt(y, m, 1).unwrap_or(Date::MAX)
            }
            StatedDate::Year(y) => Date::from_ymd_opt(y + 1, 1, 1).unwrap_or(Date::MAX),
        }
    }

    /// The last day that is certainly before the stated date (used for ends).
    pub fn latest_certain_end(&self) -> Date {
        match *self {
            StatedDate::Day(d) => d,
            StatedDate::Month { year, month } => Date::from_ymd_opt(year, month, 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(Date::MIN),
            StatedDate::Year(y) => Date::from_ymd_opt(y, 1, 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(Date::MIN),
        }
    }

    /// The last day the stated period allows.
    pub fn last_possible_day(&self) -> Date {
        match *self {
            StatedDate::Day(d) => d,
            _ => self
                .earliest_certain_start()
                .pred_opt()
                .unwrap_or(Date::MAX),
        }
    }

    /// A day to sort events by: the first day of the stated period.
    pub fn sort_key(&self) -> Date {
        match *self {
            StatedDate::Day(d) => d,
            StatedDate::Month { year, month } => {
                Date::from_ymd_opt(year, month, 1).unwrap_or(Date::MIN)
            }
            StatedDate::Year(y) => Date::from_ymd_opt(y, 1, 1).unwrap_or(Date::MIN),
        }
    }

    /// The calendar year of the stated date.
    pub fn year(&self) -> i32 {
        match *self {
            StatedDate::Day(d) => chrono::Datelike::year(&d),
            StatedDate::Month { year, .. } | StatedDate::Year(year) => year,
        }
    }
}

/// As written in the dataset: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
impl serde::Serialize for StatedDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn parse_year(text: &str) -> Option<i32> {
    (text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

impl fmt::Display for StatedDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatedDate::Day(d) => write!(f, "{d}"),
            StatedDate::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            StatedDate::Year(y) => write!(f, "{y:04}"),
        }
    }
}

#[cfg(test)]
mod tests;
