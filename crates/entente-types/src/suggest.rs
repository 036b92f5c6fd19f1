//! "Did you mean …?": the known name closest to one that was not found.

/// How close a candidate must be to be worth suggesting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nearness {
    /// Case-insensitive Jaro–Winkler similarity of at least this much (0 to 1). It favours shared
    /// prefixes, which suits codes and names typed by people.
    JaroWinkler(f64),
    /// Case-sensitive Levenshtein distance of at most this many edits, for identifiers.
    EditDistance(usize),
}

/// The candidate closest to `text`, if one is near enough to help.
///
/// Each candidate is `(key, suggestion)`: the key is what is compared (a code, an id, a name), the
/// suggestion is what is returned. Of equally close candidates the first wins, so callers choose
/// the order.
pub fn closest<'a, S>(
    text: &str,
    candidates: impl IntoIterator<Item = (&'a str, S)>,
    nearness: Nearness,
) -> Option<S> {
    let needle = text.to_lowercase();
    // Higher is closer for both measures: distances are negated.
    let score = |key: &str| match nearness {
        Nearness::JaroWinkler(_) => strsim::jaro_winkler(&needle, &key.to_lowercase()),
        Nearness::EditDistance(_) => -(strsim::levenshtein(text, key) as f64),
    };
    let near_enough = |score: f64| match nearness {
        Nearness::JaroWinkler(min) => score >= min,
        Nearness::EditDistance(max) => -score <= max as f64,
    };
    let mut best: Option<(f64, S)> = None;
    for (key, suggestion) in candidates {
        let s = score(key);
        if best.as_ref().is_none_or(|(b, _)| s > *b) {
            best = Some((s, suggestion));
        }
    }
    best.filter(|(s, _)| near_enough(*s)).map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::{closest, Nearness};

    #[test]
    fn suggests_the_nearest_candidate() {
        let candidates = || {
            [
                ("FRA", "FRA (France)"),
                ("France", "FRA (France)"),
                ("FIN", "FIN (Finland)"),
                ("Finland", "FIN (Finland)"),
            ]
        };
        let near = Nearness::JaroWinkler(0.7);
        assert_eq!(closest("FRN", candidates(), near), Some("FRA (France)"));
        assert_eq!(closest("frnace", candidates(), near), Some("FRA (France)"));
        assert_eq!(closest("Finlnd", candidates(), near), Some("FIN (Finland)"));
        assert_eq!(closest("zzzzzz", candidates(), near), None);
        assert_eq!(closest("", candidates(), near), None);
    }

    #[test]
    fn edit_distance_is_case_sensitive_and_bounded() {
        let names = || [("typhoon", "typhoon"), ("R6", "R6")];
        let near = Nearness::EditDistance(3);
        assert_eq!(closest("typhon", names(), near), Some("typhoon"));
        assert_eq!(closest("R66", names(), near), Some("R6"));
        assert_eq!(closest("zzzzzzzz", names(), near), None);
    }

    #[test]
    fn the_first_of_equally_close_candidates_wins() {
        let near = Nearness::EditDistance(3);
        assert_eq!(closest("ab", [("aa", 1), ("bb", 2)], near), Some(1));
        assert_eq!(closest("ab", [("bb", 2), ("aa", 1)], near), Some(2));
    }
}
