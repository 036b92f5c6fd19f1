use proptest::prelude::*;

use super::*;

fn d(text: &str) -> Date {
    entente_types::parse_date(text).unwrap()
}

#[test]
fn closed_interval_edges() {
    // United Kingdom in the EU: a member on its last day, not on the day after.
    let uk = Interval::new(d("1973-01-01"), Some(d("2020-01-31"))).unwrap();
    assert!(!uk.contains(d("1972-12-31")));
    assert!(uk.contains(d("1973-01-01")));
    assert!(uk.contains(d("2020-01-31")));
    assert!(!uk.contains(d("2020-02-01")));
    // An open interval contains every later day.
    let open = Interval::new(d("2024-03-07"), None).unwrap();
    assert!(!open.contains(d("2024-03-06")));
    assert!(open.contains(d("2024-03-07")));
    assert!(open.contains(Date::MAX));
    // Single-day interval; inverted interval refused.
    assert!(Interval::new(d("2000-01-01"), Some(d("2000-01-01"))).is_some());
    assert!(Interval::new(d("2000-01-02"), Some(d("2000-01-01"))).is_none());
}

#[test]
fn overlap_edges() {
    let a = Interval::new(d("1995-04-26"), Some(d("1996-10-26"))).unwrap();
    let b = Interval::new(d("1996-10-27"), None).unwrap();
    let c = Interval::new(d("1996-10-26"), None).unwrap();
    assert!(!a.overlaps(&b) && !b.overlaps(&a));
    assert!(a.overlaps(&c) && c.overlaps(&a));
}

#[test]
fn stated_dates_resolve_conservatively() {
    let month = StatedDate::parse("1995-02").unwrap();
    assert_eq!(month.earliest_certain_start(), d("1995-03-01"));
    assert_eq!(month.latest_certain_end(), d("1995-01-31"));
    let dec = StatedDate::parse("2004-12").unwrap();
    assert_eq!(dec.earliest_certain_start(), d("2005-01-01"));
    let year = StatedDate::parse("1973").unwrap();
    assert_eq!(year.earliest_certain_start(), d("1974-01-01"));
    assert_eq!(year.latest_certain_end(), d("1972-12-31"));
    let day = StatedDate::parse("2023-05-23").unwrap();
    assert_eq!(day.earliest_certain_start(), d("2023-05-23"));
    assert_eq!(day.to_string(), "2023-05-23");
    for bad in [
        "95-02",
        "1995-2",
        "1995-13",
        "1995-02-30",
        "19x5",
        "",
        "1995-02-01x",
    ] {
        assert!(StatedDate::parse(bad).is_none(), "{bad:?} accepted");
    }
}

fn day() -> impl Strategy<Value = Date> {
    (0i64..40_000)
        .prop_map(|n| Date::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(n as u64))
}

fn interval() -> impl Strategy<Value = Interval> {
    (day(), proptest::option::of(0u64..20_000)).prop_map(|(from, len)| {
        Interval::new(from, len.map(|l| from + chrono::Days::new(l))).unwrap()
    })
}

proptest! {
    #[test]
    fn contains_matches_definition(i in interval(), x in day()) {
        let expected = i.from <= x && match i.until { Some(u) => x <= u, None => true };
        prop_assert_eq!(i.contains(x), expected);
    }

    #[test]
    fn overlap_is_symmetric_and_witnessed(a in interval(), b in interval()) {
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        // Two intervals overlap exactly when the later start lies in both.
        let witness = a.from.max(b.from);
        prop_assert_eq!(a.overlaps(&b), a.contains(witness) && b.contains(witness));
    }

    #[test]
    fn partial_dates_bracket_their_period(y in 1600i32..2100, m in 1u32..=12) {
        let stated = StatedDate::parse(&format!("{y:04}-{m:02}")).unwrap();
        let first = Date::from_ymd_opt(y, m, 1).unwrap();
        prop_assert!(stated.latest_certain_end() < first);
        prop_assert!(stated.earliest_certain_start() > first);
        prop_assert_eq!(stated.sort_key(), first);
        prop_assert_eq!((stated.earliest_certain_start() - stated.latest_certain_end()).num_days() - 1,
            i64::from(chrono::Datelike::day(&(stated.earliest_certain_start().pred_opt().unwrap()))));
    }
}
