//! Timestamps read as stix2-matcher reads them (`_str_to_datetime`: Python's `strptime` with
//! `%Y-%m-%dT%H:%M:%S[.%f]Z`), down to its leniencies: one-digit months, days, hours, minutes and
//! seconds, a space before a one-digit day, any Unicode decimal digit where the format says `\d`,
//! fractions longer than six digits cut to six. Lower-case letters are refused anywhere.

use chrono::NaiveDate;

/// The zeros of the runs of ten Unicode decimal digits (general category Nd), as Python 3.11 knows
/// them (Unicode 14).
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// The value of a Unicode decimal digit (what Python's `\d` matches and `int()` reads).
pub(crate) fn decimal_value(c: char) -> Option<u32> {
    let c = c as u32;
    if c < 0x80 {
        return (0x30..=0x39).contains(&c).then(|| c - 0x30);
    }
    let i = DECIMAL_ZEROS.partition_point(|z| *z <= c);
    let zero = DECIMAL_ZEROS[i.checked_sub(1)?];
    (c - zero < 10).then(|| c - zero)
}

/// Microseconds since the Unix epoch, or `None` where stix2-matcher raises.
pub(crate) fn parse_python(text: &str) -> Option<i64> {
    canonical(text).or_else(|| lenient(text))
}

/// The common form, `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` in ASCII digits, read without allocating;
/// `None` for anything else (which [`lenient`] then reads, or refuses).
fn canonical(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let (head, fraction) = match b.len() {
        20 => (b, &[][..]),
        22..=27 if b[19] == b'.' => (&b[..20], &b[20..b.len() - 1]),
        _ => return None,
    };
    if b[b.len() - 1] != b'Z'
        || head[4] != b'-'
        || head[7] != b'-'
        || head[10] != b'T'
        || head[13] != b':'
        || head[16] != b':'
    {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = digits(0, 4)?;
    let (month, day) = (digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    let mut micros = 0;
    for (i, d) in fraction.iter().enumerate() {
        if !d.is_ascii_digit() {
            return None;
        }
        micros += u32::from(d - b'0') * 10u32.pow(5 - i as u32);
    }
    if year == 0 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = date.and_hms_micro_opt(hour, minute, second, micros)?;
    Some(time.and_utc().timestamp_micros())
}

/// Every form `strptime` accepts (see the module documentation).
fn lenient(text: &str) -> Option<i64> {
    if text.chars().any(char::is_lowercase) {
        return None;
    }
    let owned;
    let mut text = text;
    let with_fraction = text.contains('.');
    if with_fraction {
        // "maximum supported precision by Datetime is microsecond": the part after the first
        // dot (up to a second dot) is cut to six characters and 'Z' when longer than seven.
        let (head, tail) = text.split_once('.')?;
        let (part, rest) = match tail.find('.') {
            Some(i) => (&tail[..i], &tail[i..]),
            None => (tail, ""),
        };
        if part.chars().count() > 7 && part.ends_with('Z') {
            let cut: String = part.chars().take(6).collect();
            owned = format!("{head}.{cut}Z{rest}");
            text = &owned;
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let year = {
        let mut y = 0;
        for _ in 0..4 {
            y = y * 10 + decimal_value(*chars.get(at)?)?;
            at += 1;
        }
        y
    };
    expect(&chars, &mut at, '-')?;
    let month = field(&chars, &mut at, '-', month_alternatives)?;
    let day = field(&chars, &mut at, 'T', day_alternatives)?;
    let hour = field(&chars, &mut at, ':', hour_alternatives)?;
    let minute = field(&chars, &mut at, ':', minute_alternatives)?;
    let second = field(
        &chars,
        &mut at,
        if with_fraction { '.' } else { 'Z' },
        second_alternatives,
    )?;
    let mut micros = 0;
    if with_fraction {
        let start = at;
        while at < chars.len() && chars[at].is_ascii_digit() && at - start < 6 {
            at += 1;
        }
        if at == start {
            return None;
        }
        let digits: String = chars[start..at].iter().collect();
        micros = format!("{digits:0<6}").parse::<u32>().ok()?;
        expect(&chars, &mut at, 'Z')?;
    }
    if at != chars.len() || year == 0 || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = date.and_hms_micro_opt(hour, minute, second, micros)?;
    Some(time.and_utc().timestamp_micros())
}

fn expect(chars: &[char], at: &mut usize, c: char) -> Option<()> {
    (chars.get(*at) == Some(&c)).then(|| *at += 1)
}

/// Reads the characters before the separator `until` with the field's alternatives.
fn field(
    chars: &[char],
    at: &mut usize,
    until: char,
    read: fn(&[char]) -> Option<u32>,
) -> Option<u32> {
    let len = chars[*at..].iter().position(|c| *c == until)?;
    let value = read(&chars[*at..*at + len])?;
    *at += len + 1;
    Some(value)
}

fn ascii(c: char, lo: char, hi: char) -> Option<u32> {
    (lo..=hi).contains(&c).then(|| c as u32 - '0' as u32)
}

/// `1[0-2]|0[1-9]|[1-9]`
fn month_alternatives(s: &[char]) -> Option<u32> {
    match s {
        ['1', b] => Some(10 + ascii(*b, '0', '2')?),
        ['0', b] => ascii(*b, '1', '9'),
        [a] => ascii(*a, '1', '9'),
        _ => None,
    }
}

/// `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`
fn day_alternatives(s: &[char]) -> Option<u32> {
    match s {
        ['3', b] => Some(30 + ascii(*b, '0', '1')?),
        [a @ ('1' | '2'), b] => Some(ascii(*a, '1', '2')? * 10 + decimal_value(*b)?),
        ['0', b] => ascii(*b, '1', '9'),
        [' ', b] => ascii(*b, '1', '9'),
        [a] => ascii(*a, '1', '9'),
        _ => None,
    }
}

/// `2[0-3]|[0-1]\d|\d`
fn hour_alternatives(s: &[char]) -> Option<u32> {
    match s {
        ['2', b] => Some(20 + ascii(*b, '0', '3')?),
        [a @ ('0' | '1'), b] => Some(ascii(*a, '0', '1')? * 10 + decimal_value(*b)?),
        [a] => decimal_value(*a),
        _ => None,
    }
}

/// `[0-5]\d|\d`
fn minute_alternatives(s: &[char]) -> Option<u32> {
    match s {
        [a, b] => Some(ascii(*a, '0', '5')? * 10 + decimal_value(*b)?),
        [a] => decimal_value(*a),
        _ => None,
    }
}

/// `6[0-1]|[0-5]\d|\d`
fn second_alternatives(s: &[char]) -> Option<u32> {
    match s {
        ['6', b] => Some(60 + ascii(*b, '0', '1')?),
        [a, b] => Some(ascii(*a, '0', '5')? * 10 + decimal_value(*b)?),
        [a] => decimal_value(*a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_strptime_reads() {
        let base = parse_python("2020-01-05T01:02:03Z").unwrap();
        assert_eq!(parse_python("2020-1-5T1:2:3Z"), Some(base));
        assert_eq!(parse_python("2020-01- 5T01:02:03Z"), Some(base));
        assert_eq!(parse_python("٢٠٢٠-01-05T01:02:03Z"), Some(base));
        assert_eq!(parse_python("2020-01-05T01:02:03.5Z"), Some(base + 500_000));
        assert_eq!(
            parse_python("2020-01-05T01:02:03.123456789Z"),
            Some(base + 123_456)
        );
        assert_eq!(parse_python("2020-01-05T01:02:03.000001Z"), Some(base + 1));
        assert_eq!(
            parse_python("2020-01-05T01:02:03.1234567Z"),
            Some(base + 123_456)
        );
    }

    #[test]
    fn the_common_form_reads_as_the_lenient_reading() {
        for text in [
            "2020-01-05T01:02:03Z",
            "2020-12-31T23:59:59.999999Z",
            "1970-01-01T00:00:00.5Z",
            "2024-02-29T12:00:00.12Z",
            "9999-12-31T23:59:59.123Z",
        ] {
            assert!(canonical(text).is_some(), "{text}");
            assert_eq!(canonical(text), lenient(text), "{text}");
        }
        for text in [
            "2020-1-05T01:02:03Z",
            "2020-01-05T01:02:03.1234567Z",
            "2020-02-30T00:00:00Z",
        ] {
            assert_eq!(canonical(text), None, "{text}");
        }
    }

    #[test]
    fn refuses_what_strptime_or_datetime_refuses() {
        for bad in [
            "2020-02-30T00:00:00Z",
            "2020-01-01T00:00:60Z",
            "0000-01-01T00:00:00Z",
            "2020-01-01t00:00:00Z",
            "2020-01-01T00:00:00z",
            "2020-01-01T00:00:00",
            "2020-01-01T00:00:00ZZ",
            "2020-01-01T00:00:00.Z",
            "2020-13-01T00:00:00Z",
            "2020-01-01 00:00:00Z",
            "",
        ] {
            assert_eq!(parse_python(bad), None, "{bad}");
        }
    }
}
