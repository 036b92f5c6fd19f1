//! `substring` lists: every entry of every such list in one Aho–Corasick automaton, so a value is
//! scanned once whatever the number of entries (the reference tries each entry in turn).

use aho_corasick::{AhoCorasick, MatchKind};

use crate::strings::Posting;

/// The entries of all `substring` lists; comparison is case-sensitive, as in the reference.
pub(crate) struct SubstringMatcher {
    automaton: Option<AhoCorasick>,
    /// Pattern `i` of the automaton is a distinct entry text; these are the entries that have it.
    pattern_postings: Vec<Vec<Posting>>,
}

impl SubstringMatcher {
    pub fn build(entries: Vec<(&str, Posting)>) -> Result<SubstringMatcher, String> {
        let mut pattern_of: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
        let mut patterns: Vec<&str> = Vec::new();
        let mut pattern_postings: Vec<Vec<Posting>> = Vec::new();
        for (entry, posting) in entries {
            let pattern = *pattern_of.entry(entry).or_insert_with(|| {
                patterns.push(entry);
                pattern_postings.push(Vec::new());
                patterns.len() - 1
            });
            let postings = &mut pattern_postings[pattern];
            if postings.last().is_none_or(|last| last.list != posting.list) {
                postings.push(posting);
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|error| error.to_string())?,
            )
        };
        Ok(SubstringMatcher {
            automaton,
            pattern_postings,
        })
    }

    /// Calls `found` with the postings of every entry that occurs in `value`, in the order the
    /// occurrences end; `found` returns `false` to stop the scan.
    pub fn for_each_match(&self, value: &str, mut found: impl FnMut(Posting) -> bool) {
        let Some(automaton) = &self.automaton else {
            return;
        };
        for occurrence in automaton.find_overlapping_iter(value) {
            for posting in &self.pattern_postings[occurrence.pattern().as_usize()] {
                if !found(*posting) {
                    return;
                }
            }
        }
    }
}
