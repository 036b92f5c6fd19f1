//! The wall clock, read here and nowhere else in the node and its federation layer.
//!
//! Release decisions depend on the day (an agreement in force, a label's embargo), events carry
//! their time: one entry point keeps every reading in the same zone (UTC) and easy to find.

use entente_types::Date;

/// Today's date in UTC, the day release decisions are taken for.
pub fn today() -> Date {
    chrono::Utc::now().date_naive()
}

/// Now, in microseconds since the Unix epoch (the store's `date_added`).
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Now, in seconds since the Unix epoch with fractions (an exercise's wall clock).
pub fn now_seconds() -> f64 {
    now_us() as f64 / 1_000_000.0
}

/// Now as RFC 3339 UTC with milliseconds, the form events are stamped with.
pub fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readings_agree() {
        let text = now_text();
        assert_eq!(text.len(), "2026-12-06T20:29:07.123Z".len());
        assert!(text.ends_with('Z'));
        assert_eq!(text[..10], today().to_string());
        assert!(now_us() > 1_700_000_000_000_000);
    }
}
