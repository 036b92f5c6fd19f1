//! A hash table from strings to the entries that carry them, for exact and suffix comparisons.
//!
//! Millions of entries (top-site and hash lists) go in, so the keys are stored once, end to end,
//! in one arena, and the table holds only group numbers: a group is one distinct key and the
//! postings (list, entry) of every list that has it, at most one per list.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// One entry of one list: indexes into `WarningLists::lists` and that list's `entries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posting {
    pub list: u32,
    pub entry: u32,
}

/// Strings to postings, built once by [`StringTableBuilder`].
pub(crate) struct StringTable {
    hasher: foldhash::fast::RandomState,
    table: HashTable<u32>,
    arena: String,
    /// Group `g`'s key is `arena[key_spans[g].0 .. key_spans[g].1]`.
    key_spans: Vec<(u32, u32)>,
    /// Group `g`'s postings are `postings[group_starts[g] .. group_starts[g + 1]]`.
    group_starts: Vec<u32>,
    postings: Vec<Posting>,
}

impl StringTable {
    /// The postings of the entries equal to `key`, in the order they were inserted.
    pub fn get(&self, key: &str) -> &[Posting] {
        let hash = self.hasher.hash_one(key);
        match self.table.find(hash, |&group| self.key(group) == key) {
            Some(&group) => {
                let group = group as usize;
                &self.postings
                    [self.group_starts[group] as usize..self.group_starts[group + 1] as usize]
            }
            None => &[],
        }
    }

    fn key(&self, group: u32) -> &str {
        let (start, end) = self.key_spans[group as usize];
        &self.arena[start as usize..end as usize]
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.key_spans.len()
    }
}

/// Collects (key, posting) pairs; a key seen again for the same list keeps its first posting.
pub(crate) struct StringTableBuilder {
    hasher: foldhash::fast::RandomState,
    table: HashTable<u32>,
    arena: String,
    key_spans: Vec<(u32, u32)>,
    first_postings: Vec<Posting>,
    /// The list of the last posting added to each group, to keep one posting per list.
    last_list: Vec<u32>,
    more_postings: Vec<(u32, Posting)>,
}

impl StringTableBuilder {
    /// A builder sized for `keys` keys of `bytes` bytes in all (a hint: it grows past them).
    pub fn with_capacity(keys: usize, bytes: usize) -> StringTableBuilder {
        StringTableBuilder {
            hasher: foldhash::fast::RandomState::default(),
            table: HashTable::with_capacity(keys),
            arena: String::with_capacity(bytes),
            key_spans: Vec::with_capacity(keys),
            first_postings: Vec::with_capacity(keys),
            last_list: Vec::with_capacity(keys),
            more_postings: Vec::new(),
        }
    }

    /// Adds a posting under `key`. Postings must arrive list by list (all of list 0, then list
    /// 1, …) for the one-posting-per-list rule to hold.
    pub fn insert(&mut self, key: &str, posting: Posting) {
        let hash = self.hasher.hash_one(key);
        let arena = &self.arena;
        let key_spans = &self.key_spans;
        let existing = self.table.find(hash, |&group| {
            let (start, end) = key_spans[group as usize];
            &arena[start as usize..end as usize] == key
        });
        match existing {
            Some(&group) => {
                if self.last_list[group as usize] != posting.list {
                    self.last_list[group as usize] = posting.list;
                    self.more_postings.push((group, posting));
                }
            }
            None => {
                let group = self.key_spans.len() as u32;
                let start = self.arena.len() as u32;
                self.arena.push_str(key);
                self.key_spans.push((start, self.arena.len() as u32));
                self.first_postings.push(posting);
                self.last_list.push(posting.list);
                let (hasher, arena, key_spans) = (&self.hasher, &self.arena, &self.key_spans);
                self.table.insert_unique(hash, group, |&group| {
                    let (start, end) = key_spans[group as usize];
                    hasher.hash_one(&arena[start as usize..end as usize])
                });
            }
        }
    }

    pub fn build(mut self) -> StringTable {
        let groups = self.key_spans.len();
        let mut group_starts = vec![0u32; groups + 1];
        for (group, _) in &self.more_postings {
            group_starts[*group as usize + 1] += 1;
        }
        for group in 0..groups {
            group_starts[group + 1] += group_starts[group] + 1;
        }
        let mut postings = vec![Posting { list: 0, entry: 0 }; group_starts[groups] as usize];
        let mut next: Vec<u32> = group_starts[..groups].to_vec();
        for (group, posting) in self.first_postings.iter().enumerate() {
            postings[next[group] as usize] = *posting;
            next[group] += 1;
        }
        for (group, posting) in &self.more_postings {
            postings[next[*group as usize] as usize] = *posting;
            next[*group as usize] += 1;
        }
        self.arena.shrink_to_fit();
        StringTable {
            hasher: self.hasher,
            table: self.table,
            arena: self.arena,
            key_spans: self.key_spans,
            group_starts,
            postings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(list: u32, entry: u32) -> Posting {
        Posting { list, entry }
    }

    #[test]
    fn groups_postings_by_key_one_per_list() {
        let mut builder = StringTableBuilder::with_capacity(0, 0);
        builder.insert("a.example", posting(0, 0));
        builder.insert("b.example", posting(0, 1));
        builder.insert("a.example", posting(0, 2));
        builder.insert("a.example", posting(1, 0));
        builder.insert("", posting(2, 0));
        let table = builder.build();
        assert_eq!(table.len(), 3);
        assert_eq!(table.get("a.example"), [posting(0, 0), posting(1, 0)]);
        assert_eq!(table.get("b.example"), [posting(0, 1)]);
        assert_eq!(table.get(""), [posting(2, 0)]);
        assert_eq!(table.get("A.example"), []);
        assert_eq!(table.get("a.exampl"), []);
    }
}
