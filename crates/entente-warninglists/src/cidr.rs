//! All `cidr` lists of one address family as a single sorted table of disjoint ranges.
//!
//! The ~110,000 networks of the full set are cut at every network boundary into elementary
//! ranges; each range carries, for every list that covers it, the most specific network of that
//! list. A lookup is then one binary search over `u32` (or `u128`) starts, whatever the number
//! of lists: a trie per list (as `pymispwarninglists` builds) costs one walk per list, and a
//! generic prefix-trie crate would still be walked once per list or need a merge like this one.

use crate::strings::Posting;

/// An address type: a `u32` for IPv4, a `u128` for IPv6.
pub(crate) trait Address: Copy + Ord {
    /// The next address, or `None` after the last one.
    fn successor(self) -> Option<Self>;
    fn predecessor(self) -> Option<Self>;
}

impl Address for u32 {
    fn successor(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn predecessor(self) -> Option<u32> {
        self.checked_sub(1)
    }
}

impl Address for u128 {
    fn successor(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn predecessor(self) -> Option<u128> {
        self.checked_sub(1)
    }
}

/// A network of one list: the closed range `first..=last` and the entry that wrote it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListedNetwork<A> {
    pub first: A,
    pub last: A,
    pub posting: Posting,
}

/// Disjoint ranges in order; range `i` starts at `starts[i]` and ends before `starts[i + 1]`
/// (the last one at the end of the address space). Addresses before `starts[0]` are on no list.
pub(crate) struct CidrTable<A> {
    starts: Vec<A>,
    /// Range `i`'s postings are `postings[offsets[i] .. offsets[i + 1]]`, by list.
    offsets: Vec<u32>,
    postings: Vec<Posting>,
}

impl<A: Address> CidrTable<A> {
    /// The most specific network of each list that contains `address`, by list.
    pub fn get(&self, address: A) -> &[Posting] {
        let range = self.starts.partition_point(|&start| start <= address);
        if range == 0 {
            return &[];
        }
        &self.postings[self.offsets[range - 1] as usize..self.offsets[range] as usize]
    }

    /// Builds the table. Networks of one list are nested or disjoint (CIDR blocks always are).
    pub fn build(mut networks: Vec<ListedNetwork<A>>) -> CidrTable<A> {
        networks.sort_by(|a, b| {
            (a.posting.list, a.first, b.last).cmp(&(b.posting.list, b.first, a.last))
        });
        let mut segments: Vec<ListedNetwork<A>> = Vec::with_capacity(networks.len());
        for one_list in networks.chunk_by(|a, b| a.posting.list == b.posting.list) {
            innermost_segments(one_list, &mut segments);
        }
        let mut starts: Vec<A> = Vec::with_capacity(segments.len() * 2);
        for segment in &segments {
            starts.push(segment.first);
            if let Some(after) = segment.last.successor() {
                starts.push(after);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut covered: Vec<(u32, Posting)> = Vec::with_capacity(segments.len());
        for segment in &segments {
            let first_range = starts.partition_point(|&start| start < segment.first);
            let end_range = match segment.last.successor() {
                Some(after) => starts.partition_point(|&start| start < after),
                None => starts.len(),
            };
            for range in first_range..end_range {
                covered.push((range as u32, segment.posting));
            }
        }
        covered.sort_unstable_by_key(|&(range, posting)| (range, posting.list));
        let mut offsets = vec![0u32; starts.len() + 1];
        for (range, _) in &covered {
            offsets[*range as usize + 1] += 1;
        }
        for range in 0..starts.len() {
            offsets[range + 1] += offsets[range];
        }
        CidrTable {
            starts,
            offsets,
            postings: covered.into_iter().map(|(_, posting)| posting).collect(),
        }
    }
}

/// Cuts one list's networks (sorted by first address, larger first) into disjoint segments,
/// each carrying the innermost network that covers it.
fn innermost_segments<A: Address>(networks: &[ListedNetwork<A>], out: &mut Vec<ListedNetwork<A>>) {
    let mut open: Vec<ListedNetwork<A>> = Vec::new();
    // The first address not yet given to a segment, `None` past the end of the address space.
    let mut next: Option<A> = None;
    for network in networks {
        while let Some(top) = open.last().copied() {
            if top.last >= network.first {
                break;
            }
            emit(next, top.last, top.posting, out);
            next = top.last.successor();
            open.pop();
        }
        if let Some(top) = open.last() {
            if let Some(before) = network.first.predecessor() {
                emit(next, before, top.posting, out);
            }
        }
        open.push(*network);
        next = Some(network.first);
    }
    while let Some(top) = open.pop() {
        emit(next, top.last, top.posting, out);
        next = top.last.successor();
    }
}

/// Adds the segment `from..=to` unless it is empty (or starts past the end of the space).
fn emit<A: Address>(from: Option<A>, to: A, posting: Posting, out: &mut Vec<ListedNetwork<A>>) {
    if let Some(first) = from.filter(|&from| from <= to) {
        out.push(ListedNetwork {
            first,
            last: to,
            posting,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(list: u32, entry: u32, first: u32, last: u32) -> ListedNetwork<u32> {
        ListedNetwork {
            first,
            last,
            posting: Posting { list, entry },
        }
    }

    fn entries(table: &CidrTable<u32>, address: u32) -> Vec<(u32, u32)> {
        table
            .get(address)
            .iter()
            .map(|posting| (posting.list, posting.entry))
            .collect()
    }

    #[test]
    fn most_specific_network_of_each_list() {
        let table = CidrTable::build(vec![
            net(0, 0, 100, 199),
            net(0, 1, 120, 129),
            net(0, 2, 150, 150),
            net(1, 0, 125, 300),
            net(2, 0, 0, u32::MAX),
            net(2, 1, 0, 9),
        ]);
        assert_eq!(entries(&table, 0), [(2, 1)]);
        assert_eq!(entries(&table, 9), [(2, 1)]);
        assert_eq!(entries(&table, 10), [(2, 0)]);
        assert_eq!(entries(&table, 99), [(2, 0)]);
        assert_eq!(entries(&table, 100), [(0, 0), (2, 0)]);
        assert_eq!(entries(&table, 119), [(0, 0), (2, 0)]);
        assert_eq!(entries(&table, 120), [(0, 1), (2, 0)]);
        assert_eq!(entries(&table, 125), [(0, 1), (1, 0), (2, 0)]);
        assert_eq!(entries(&table, 130), [(0, 0), (1, 0), (2, 0)]);
        assert_eq!(entries(&table, 150), [(0, 2), (1, 0), (2, 0)]);
        assert_eq!(entries(&table, 151), [(0, 0), (1, 0), (2, 0)]);
        assert_eq!(entries(&table, 200), [(1, 0), (2, 0)]);
        assert_eq!(entries(&table, 301), [(2, 0)]);
        assert_eq!(entries(&table, u32::MAX), [(2, 0)]);
    }

    #[test]
    fn gaps_and_the_ends_of_the_space() {
        let table = CidrTable::build(vec![net(0, 0, 10, 19), net(0, 1, u32::MAX, u32::MAX)]);
        assert_eq!(entries(&table, 9), []);
        assert_eq!(entries(&table, 10), [(0, 0)]);
        assert_eq!(entries(&table, 20), []);
        assert_eq!(entries(&table, u32::MAX - 1), []);
        assert_eq!(entries(&table, u32::MAX), [(0, 1)]);
        let empty: CidrTable<u32> = CidrTable::build(Vec::new());
        assert_eq!(entries(&empty, 0), []);
    }

    #[test]
    fn duplicate_networks_in_a_list() {
        let table = CidrTable::build(vec![net(0, 0, 10, 19), net(0, 1, 10, 19)]);
        assert_eq!(table.get(15).len(), 1);
    }

    #[test]
    fn ipv6_whole_space() {
        let table = CidrTable::build(vec![ListedNetwork {
            first: 0u128,
            last: u128::MAX,
            posting: Posting { list: 0, entry: 0 },
        }]);
        assert_eq!(table.get(u128::MAX).len(), 1);
        assert_eq!(table.get(0).len(), 1);
    }
}
