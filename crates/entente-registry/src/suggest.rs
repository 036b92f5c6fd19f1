//! "Did you mean …?" for unknown names.

/// The candidate closest to `text`, compared case-insensitively, if any is close enough to help.
///
/// Each candidate is `(key, display)`: keys are what is compared (a code, an id, a name), the
/// display is what is suggested. Jaro–Winkler favours shared prefixes, which suits codes and names.
pub(crate) fn closest<'a>(
    text: &str,
    candidates: impl IntoIterator<Item = (&'a str, String)>,
) -> Option<String> {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return None;
    }
    let mut best: Option<(f64, String)> = None;
    for (key, display) in candidates {
        let score = strsim::jaro_winkler(&needle, &key.to_lowercase());
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, display));
        }
    }
    best.filter(|(score, _)| *score >= 0.7).map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_the_nearest_candidate() {
        let candidates = || {
            [
                ("FRA", "FRA (France)".to_owned()),
                ("France", "FRA (France)".to_owned()),
                ("FIN", "FIN (Finland)".to_owned()),
                ("Finland", "FIN (Finland)".to_owned()),
            ]
        };
        assert_eq!(
            closest("FRN", candidates()).as_deref(),
            Some("FRA (France)")
        );
        assert_eq!(
            closest("frnace", candidates()).as_deref(),
            Some("FRA (France)")
        );
        assert_eq!(
            closest("Finlnd", candidates()).as_deref(),
            Some("FIN (Finland)")
        );
        assert_eq!(closest("zzzzzz", candidates()), None);
        assert_eq!(closest("", candidates()), None);
    }
}
