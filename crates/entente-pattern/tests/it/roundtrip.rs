//! The canonical text parses back to an equal pattern.

use entente_pattern::Pattern;
use proptest::prelude::*;

use crate::corpus::{Generator, HAND_WRITTEN};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn display_parses_back_to_an_equal_pattern(seed in any::<u64>(), mutate in any::<bool>()) {
        let mut gen = Generator::new(seed);
        let tokens = gen.tokens();
        let text = if mutate { gen.mutate(&tokens) } else { gen.join(&tokens) };
        if let Ok(pattern) = Pattern::parse(&text) {
            let canonical = pattern.to_string();
            let again = Pattern::parse(&canonical);
            prop_assert_eq!(again.as_ref(), Ok(&pattern), "{:?} -> {:?}", text, canonical);
            prop_assert_eq!(again.map(|p| p.to_string()), Ok(canonical.clone()));
        }
    }
}

#[test]
fn hand_written_valid_patterns_round_trip() {
    for text in HAND_WRITTEN {
        if let Ok(pattern) = Pattern::parse(text) {
            let canonical = pattern.to_string();
            assert_eq!(
                Pattern::parse(&canonical).as_ref(),
                Ok(&pattern),
                "{text:?} -> {canonical:?}"
            );
        }
    }
}
