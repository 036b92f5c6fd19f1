//! A hash table from strings to the entries that carry them, for exact and suffix comparisons.
//!
//! Millions of entries (top-site and hash lists) go in, so the keys are stored once, end to end,
//! in one arena, and the table holds only a group number with 32 more bits of the key's hash: a
//! group is one distinct key and the postings (list, entry) of every list that has it, at most
//! one per list. Most lookups miss; the stored hash bits turn them away without reading the
//! group or the arena, which at this size are cache misses.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// One entry of one list: indexes into `WarningLists::lists` and that list's `entries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posting {
    pub list: u32,
    pub entry: u32,
}

/// A distinct key: `arena[key_start..key_end]`, and its `postings[postings_start..postings_end]`.
#[derive(Debug, Clone, Copy)]
struct Group {
    key_start: u32,
    key_end: u32,
    postings_start: u32,
    postings_end: u32,
}

/// A table slot: the group number in the low 32 bits, the hash's high 32 bits above.
fn slot(hash: u64, group: u32) -> u64 {
    (hash & 0xFFFF_FFFF_0000_0000) | u64::from(group)
}

fn slot_group(slot: u64) -> usize {
    (slot & 0xFFFF_FFFF) as usize
}

fn same_hash(slot: u64, hash: u64) -> bool {
    (slot ^ hash) >> 32 == 0
}

/// Strings to postings, built once by [`StringTableBuilder`]. Keys and postings are counted in
/// `u32`: the caller keeps the totals under 4 Gi (see `WarningLists::compile`).
pub(crate) struct StringTable {
    hasher: foldhash::fast::RandomState,
    table: HashTable<u64>,
    arena: String,
    groups: Vec<Group>,
    postings: Vec<Posting>,
}

impl StringTable {
    /// The postings of the entries equal to `key`, in the order they were inserted.
    pub fn get(&self, key: &str) -> &[Posting] {
        let hash = self.hasher.hash_one(key);
        let found = self.table.find(hash, |&slot| {
            same_hash(slot, hash) && {
                let group = self.groups[slot_group(slot)];
                &self.arena[group.key_start as usize..group.key_end as usize] == key
            }
        });
        match found {
            Some(&slot) => {
                let group = self.groups[slot_group(slot)];
                &self.postings[group.postings_start as usize..group.postings_end as usize]
            }
            None => &[],
        }
    }

    /// Number of distinct keys.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.groups.len()
    }
}

/// Collects (key, posting) pairs; a key seen again for the same list keeps its first posting.
pub(crate) struct StringTableBuilder {
    hasher: foldhash::fast::RandomState,
    table: HashTable<u64>,
    arena: String,
    groups: Vec<Group>,
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
            groups: Vec::with_capacity(keys),
            first_postings: Vec::with_capacity(keys),
            last_list: Vec::with_capacity(keys),
            more_postings: Vec::new(),
        }
    }

    /// Adds a posting under `key`. Postings must arrive list by list (all of list 0, then list
    /// 1, …) for the one-posting-per-list rule to hold.
    pub fn insert(&mut self, key: &str, posting: Posting) {
        let hash = self.hasher.hash_one(key);
        let (arena, groups) = (&self.arena, &self.groups);
        let existing = self.table.find(hash, |&slot| {
            same_hash(slot, hash) && {
                let group = groups[slot_group(slot)];
                &arena[group.key_start as usize..group.key_end as usize] == key
            }
        });
        match existing {
            Some(&slot) => {
                let group = slot_group(slot);
                if self.last_list[group] != posting.list {
                    self.last_list[group] = posting.list;
                    self.more_postings.push((group as u32, posting));
                }
            }
            None => {
                let group = self.groups.len() as u32;
                let key_start = self.arena.len() as u32;
                self.arena.push_str(key);
                self.groups.push(Group {
                    key_start,
                    key_end: self.arena.len() as u32,
                    postings_start: 0,
                    postings_end: 0,
                });
                self.first_postings.push(posting);
                self.last_list.push(posting.list);
                let (hasher, arena, groups) = (&self.hasher, &self.arena, &self.groups);
                self.table.insert_unique(hash, slot(hash, group), |&slot| {
                    let group = groups[slot_group(slot)];
                    hasher.hash_one(&arena[group.key_start as usize..group.key_end as usize])
                });
            }
        }
    }

    pub fn build(mut self) -> StringTable {
        let mut counts = vec![1u32; self.groups.len()];
        for (group, _) in &self.more_postings {
            counts[*group as usize] += 1;
        }
        let mut next = 0u32;
        for (group, count) in self.groups.iter_mut().zip(&counts) {
            group.postings_start = next;
            group.postings_end = next;
            next += count;
        }
        let mut postings = vec![Posting { list: 0, entry: 0 }; next as usize];
        let first = self
            .first_postings
            .iter()
            .enumerate()
            .map(|(group, posting)| (group as u32, posting));
        let more = self
            .more_postings
            .iter()
            .map(|(group, posting)| (*group, posting));
        for (group, posting) in first.chain(more) {
            let group = &mut self.groups[group as usize];
            postings[group.postings_end as usize] = *posting;
            group.postings_end += 1;
        }
        self.arena.shrink_to_fit();
        StringTable {
            hasher: self.hasher,
            table: self.table,
            arena: self.arena,
            groups: self.groups,
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
