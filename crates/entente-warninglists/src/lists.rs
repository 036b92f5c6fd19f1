//! The loaded set of lists, compiled once for lookups.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::cidr::{CidrTable, ListedNetwork};
use crate::ip::{self, Address, Network};
use crate::list::{ListType, WarningList};
use crate::pattern::PatternMatcher;
use crate::strings::{Posting, StringTable, StringTableBuilder};
use crate::substring::SubstringMatcher;
use crate::WarningListError;

/// A value found on a list: the list and the entry that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    pub list: &'a WarningList,
    /// The matching entry: for `cidr` the most specific network containing the address, for
    /// `hostname` the entry equal to the host or else the longest suffix, for `substring` the
    /// first found (by end position), for `regex` the first pattern in list order.
    pub entry: &'a str,
}

/// Warning lists compiled for lookups; immutable once built.
pub struct WarningLists {
    lists: Vec<WarningList>,
    /// Every entry of every list, exactly as written.
    exact: StringTable,
    /// Every `hostname` entry without its leading dots, for parent-domain matches.
    host_suffixes: StringTable,
    cidr_v4: CidrTable<u32>,
    cidr_v6: CidrTable<u128>,
    substrings: SubstringMatcher,
    substring_lists: usize,
    patterns: PatternMatcher,
}

impl std::fmt::Debug for WarningLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarningLists")
            .field("lists", &self.lists.len())
            .finish_non_exhaustive()
    }
}

impl WarningLists {
    /// Reads every `*/list.json` under `directory` (other files are ignored), in the order of
    /// their folder names, and compiles them.
    pub fn load_dir(directory: impl AsRef<Path>) -> Result<WarningLists, WarningListError> {
        let directory = directory.as_ref();
        let read_dir_error = |source| WarningListError::ReadDir {
            path: directory.to_owned(),
            source,
        };
        let mut files: Vec<PathBuf> = Vec::new();
        for folder in std::fs::read_dir(directory).map_err(read_dir_error)? {
            let file = folder.map_err(read_dir_error)?.path().join("list.json");
            if file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        let mut lists = Vec::with_capacity(files.len());
        let mut origins = Vec::with_capacity(files.len());
        for file in files {
            let bytes = std::fs::read(&file).map_err(|source| WarningListError::ReadFile {
                path: file.clone(),
                source,
            })?;
            let origin = file.display().to_string();
            lists.push(WarningList::from_json(&bytes, &origin)?);
            origins.push(origin);
        }
        WarningLists::compile(lists, origins)
    }

    /// Compiles lists given in memory; errors name a list by its place (`lists[3]`).
    pub fn from_lists(lists: Vec<WarningList>) -> Result<WarningLists, WarningListError> {
        let origins = (0..lists.len())
            .map(|index| format!("lists[{index}]"))
            .collect();
        WarningLists::compile(lists, origins)
    }

    fn compile(
        lists: Vec<WarningList>,
        origins: Vec<String>,
    ) -> Result<WarningLists, WarningListError> {
        let mut names: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
        for (index, list) in lists.iter().enumerate() {
            if let Some(first) = names.insert(&list.name, index) {
                return Err(WarningListError::DuplicateName {
                    name: list.name.clone(),
                    first: origins[first].clone(),
                    second: origins[index].clone(),
                });
            }
        }
        let (mut entries, mut entry_bytes, mut host_entries, mut host_bytes) = (0, 0, 0, 0);
        for list in &lists {
            let bytes: usize = list.entries.iter().map(String::len).sum();
            entries += list.entries.len();
            entry_bytes += bytes;
            if list.list_type == ListType::Hostname {
                host_entries += list.entries.len();
                host_bytes += bytes;
            }
        }
        // Tables count keys, bytes and postings in u32.
        if entries >= u32::MAX as usize || entry_bytes >= u32::MAX as usize {
            return Err(WarningListError::field(
                "lists",
                "list",
                format!("{entries} entries of {entry_bytes} bytes in all: more than this crate indexes (4 Gi)"),
            ));
        }
        let mut exact = StringTableBuilder::with_capacity(entries, entry_bytes);
        let mut host_suffixes = StringTableBuilder::with_capacity(host_entries, host_bytes);
        let mut networks_v4 = Vec::new();
        let mut networks_v6 = Vec::new();
        let mut substrings = Vec::new();
        let mut patterns = Vec::new();
        for (list_index, list) in lists.iter().enumerate() {
            for (entry_index, entry) in list.entries.iter().enumerate() {
                let posting = Posting {
                    list: list_index as u32,
                    entry: entry_index as u32,
                };
                exact.insert(entry, posting);
                match list.list_type {
                    ListType::Cidr => match ip::parse_network(entry) {
                        Some(Network::V4 { first, last }) => networks_v4.push(ListedNetwork {
                            first,
                            last,
                            posting,
                        }),
                        Some(Network::V6 { first, last }) => networks_v6.push(ListedNetwork {
                            first,
                            last,
                            posting,
                        }),
                        // Not a network for Python either: such an entry still matches itself.
                        None => {}
                    },
                    ListType::Hostname => {
                        host_suffixes.insert(entry.trim_start_matches('.'), posting)
                    }
                    ListType::String => {}
                    ListType::Substring => substrings.push((entry.as_str(), posting)),
                    ListType::Regex => patterns.push((entry.as_str(), posting)),
                }
            }
        }
        let substrings = SubstringMatcher::build(substrings)
            .map_err(|message| WarningListError::field("substring lists", "list", message))?;
        let patterns = PatternMatcher::build(patterns).map_err(|(posting, message)| {
            WarningListError::field(
                origins[posting.list as usize].clone(),
                format!("list[{}]", posting.entry),
                message,
            )
        })?;
        let substring_lists = lists
            .iter()
            .filter(|list| list.list_type == ListType::Substring)
            .count();
        Ok(WarningLists {
            exact: exact.build(),
            host_suffixes: host_suffixes.build(),
            cidr_v4: CidrTable::build(networks_v4),
            cidr_v6: CidrTable::build(networks_v6),
            substrings,
            substring_lists,
            patterns,
            lists,
        })
    }

    /// The lists, in load order.
    pub fn lists(&self) -> &[WarningList] {
        &self.lists
    }

    /// The list of that name.
    pub fn get(&self, name: &str) -> Option<&WarningList> {
        self.lists.iter().find(|list| list.name == name)
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Every list `value` is on, compared by list type (see the crate documentation), one hit
    /// per list, in load order.
    pub fn lookup(&self, value: &str) -> Vec<Hit<'_>> {
        let mut found = Found::default();
        let exact = self.exact.get(value);
        match ip::parse_address(value) {
            Some(Address::V4(address)) => found.add_all(self.cidr_v4.get(address)),
            Some(Address::V6(address)) => found.add_all(self.cidr_v6.get(address)),
            None => found.add_of_type(self, exact, ListType::Cidr),
        }
        found.add_of_type(self, exact, ListType::String);
        self.add_hostname_hits(value, exact, &mut found);
        if self.substring_lists > 0 {
            let mut substring_lists_found = 0;
            self.substrings.for_each_match(value, |posting| {
                if found.add(posting) {
                    substring_lists_found += 1;
                }
                substring_lists_found < self.substring_lists
            });
        }
        self.patterns.for_each_match(value, |posting| {
            found.add(posting);
        });
        found.into_hits(self)
    }

    /// The names of the lists `value` is on ([`WarningLists::lookup`]), in load order.
    pub fn names_of(&self, value: &str) -> Vec<String> {
        self.lookup(value)
            .into_iter()
            .map(|hit| hit.list.name.clone())
            .collect()
    }

    /// The lists on which `value` is written exactly as an entry, whatever their type: the
    /// reference's default mode (`slow_search=False`).
    pub fn lookup_exact(&self, value: &str) -> Vec<Hit<'_>> {
        // One posting per list, in list order: the table was filled list by list.
        self.exact
            .get(value)
            .iter()
            .map(|posting| self.hit(*posting))
            .collect()
    }

    fn hit(&self, posting: Posting) -> Hit<'_> {
        let list = &self.lists[posting.list as usize];
        Hit {
            list,
            entry: &list.entries[posting.entry as usize],
        }
    }

    /// The `cidr` lists with a network that contains `address` (other list types are not
    /// consulted).
    pub fn lookup_ip(&self, address: IpAddr) -> Vec<Hit<'_>> {
        let mut found = Found::default();
        match address {
            IpAddr::V4(address) => found.add_all(self.cidr_v4.get(u32::from(address))),
            IpAddr::V6(address) => found.add_all(self.cidr_v6.get(u128::from(address))),
        }
        found.into_hits(self)
    }

    /// The `hostname` lists that hold `host` or one of its parent domains, `host` being taken as
    /// given (not parsed as a URL, not lowercased).
    pub fn lookup_hostname(&self, host: &str) -> Vec<Hit<'_>> {
        let mut found = Found::default();
        found.add_of_type(self, self.exact.get(host), ListType::Hostname);
        self.add_host_suffix_hits(host, &mut found);
        found.into_hits(self)
    }

    fn add_hostname_hits(&self, value: &str, exact_of_value: &[Posting], found: &mut Found) {
        // A value Python's urlparse refuses (it raises) is compared as it is: see `url_hostname`.
        let host = match crate::url::url_hostname(value) {
            Ok(Some(host)) => host,
            Ok(None) | Err(_) => Cow::Borrowed(value),
        };
        let exact = if host == value {
            exact_of_value
        } else {
            self.exact.get(&host)
        };
        found.add_of_type(self, exact, ListType::Hostname);
        self.add_host_suffix_hits(&host, found);
    }

    /// Entries `e` (leading dots removed) such that `host` ends with `.e`, longest first.
    fn add_host_suffix_hits(&self, host: &str, found: &mut Found) {
        for (dot, _) in host.match_indices('.') {
            found.add_all(self.host_suffixes.get(&host[dot + 1..]));
        }
    }
}

/// Postings found so far for one value, one per list.
#[derive(Default)]
struct Found {
    postings: Vec<Posting>,
}

impl Found {
    /// Keeps `posting` unless its list was already found; says whether it was kept.
    fn add(&mut self, posting: Posting) -> bool {
        if self.postings.iter().any(|known| known.list == posting.list) {
            return false;
        }
        self.postings.push(posting);
        true
    }

    fn add_all(&mut self, postings: &[Posting]) {
        for posting in postings {
            self.add(*posting);
        }
    }

    fn add_of_type(&mut self, lists: &WarningLists, postings: &[Posting], list_type: ListType) {
        for posting in postings {
            if lists.lists[posting.list as usize].list_type == list_type {
                self.add(*posting);
            }
        }
    }

    fn into_hits(mut self, lists: &WarningLists) -> Vec<Hit<'_>> {
        self.postings.sort_unstable_by_key(|posting| posting.list);
        self.postings
            .into_iter()
            .map(|posting| lists.hit(posting))
            .collect()
    }
}

#[cfg(test)]
mod tests;
