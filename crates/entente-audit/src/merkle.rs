//! RFC 9162 §2.1 proof construction and proof verification over the log's tree (the hashes
//! themselves are [`entente_seal::merkle`]'s, shared with bindings signed together).
//!
//! Construction works over any [`NodeSource`]: something that returns the hash of a complete,
//! aligned subtree (`level`, `index`) = MTH(D[index·2^level : (index+1)·2^level]). The log serves
//! those from its node file; tests serve them from memory. Only the right edge of a tree is ever
//! incomplete, so every hash a proof needs costs O(log n) node reads.

pub use entente_seal::merkle::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
use entente_seal::merkle::{root_from_path, split, PathError};

use crate::AuditError;

/// The hashes of complete, aligned subtrees of a tree.
pub(crate) trait NodeSource {
    /// MTH(D[index·2^level : (index+1)·2^level]).
    fn node(&self, level: u32, index: u64) -> Result<Hash, AuditError>;
}

/// MTH(D[lo:hi]) where `lo` is a multiple of the largest power of two not above `hi - lo`, which
/// holds for every subtree the RFC's recursions visit.
pub(crate) fn subtree<S: NodeSource + ?Sized>(
    src: &S,
    lo: u64,
    hi: u64,
) -> Result<Hash, AuditError> {
    let n = hi - lo;
    if n == 0 {
        return Ok(EMPTY_ROOT);
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return src.node(n.trailing_zeros(), lo / n);
    }
    let k = split(n);
    Ok(node_hash(
        &subtree(src, lo, lo + k)?,
        &subtree(src, lo + k, hi)?,
    ))
}

/// The root of the tree of the first `size` leaves.
pub(crate) fn root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, AuditError> {
    subtree(src, 0, size)
}

/// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first.
pub(crate) fn inclusion_path<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, AuditError> {
    if index >= size {
        return Err(AuditError::OutOfRange(format!(
            "leaf index {index} is not in a tree of size {size}"
        )));
    }
    // Walk down from the root, collecting siblings; the RFC lists them from the leaf up.
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi, mut m) = (0u64, size, index);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if m < k {
            path.push(subtree(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(subtree(src, lo, lo + k)?);
            lo += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1; empty when `first` is 0 or equals `second`.
pub(crate) fn consistency_path<S: NodeSource + ?Sized>(
    src: &S,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, AuditError> {
    if first > second {
        return Err(AuditError::OutOfRange(format!(
            "consistency from size {first} to the smaller size {second}"
        )));
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: the recursion only ever descends into one side.
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi, mut m, mut whole) = (0u64, second, first, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                path.push(subtree(src, lo, hi)?);
            }
            break;
        }
        let k = split(n);
        if m <= k {
            path.push(subtree(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(subtree(src, lo, lo + k)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Verifies an inclusion proof as RFC 9162 §2.1.3.2 prescribes.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), AuditError> {
    let r = root_from_path(leaf_hash, index, size, proof).map_err(|e| {
        AuditError::rejected(match e {
            PathError::OutOfRange { .. } => e.to_string(),
            PathError::TooLong { len, .. } => format!(
                "inclusion proof of leaf {index} in size {size} has {len} hashes, more than the tree needs"
            ),
            PathError::TooShort { len, .. } => format!(
                "inclusion proof of leaf {index} in size {size} has {len} hashes, fewer than the tree needs"
            ),
        })
    })?;
    if r != *root {
        return Err(AuditError::rejected(format!(
            "inclusion proof of leaf {index} in size {size} leads to root {}, not {}",
            crate::b64(&r),
            crate::b64(root)
        )));
    }
    Ok(())
}

/// Verifies a consistency proof as RFC 9162 §2.1.4.2 prescribes, with the trivial cases made
/// explicit: an empty tree is consistent with any tree whose proof is empty, and equal sizes need
/// equal roots and an empty proof.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), AuditError> {
    if first > second {
        return Err(AuditError::rejected(format!(
            "consistency from size {first} to the smaller size {second}"
        )));
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(AuditError::rejected(format!(
                "consistency from size {first} to {second} needs no hashes, the proof has {}",
                proof.len()
            )));
        }
        if first == 0 && *first_root != EMPTY_ROOT {
            return Err(AuditError::rejected(
                "a tree of size 0 has the root SHA-256(\"\"), the first root is another",
            ));
        }
        if first == second && first_root != second_root {
            return Err(AuditError::rejected(format!(
                "two different roots for the same size {first}"
            )));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(AuditError::rejected(format!(
            "consistency from size {first} to {second} with an empty proof"
        )));
    }
    let mut path = proof.iter();
    let mut first_hash_prepended = None;
    if first.is_power_of_two() {
        first_hash_prepended = Some(*first_root);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let start = match first_hash_prepended {
        Some(h) => h,
        None => *path.next().unwrap_or(&EMPTY_ROOT),
    };
    let (mut fr, mut sr) = (start, start);
    for c in path {
        if sn == 0 {
            return Err(AuditError::rejected(format!(
                "consistency proof from size {first} to {second} has {} hashes, more than needed",
                proof.len()
            )));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(AuditError::rejected(format!(
            "consistency proof from size {first} to {second} has {} hashes, fewer than needed",
            proof.len()
        )));
    }
    if fr != *first_root {
        return Err(AuditError::rejected(format!(
            "consistency proof from size {first} to {second} rebuilds the first root as {}, not {}",
            crate::b64(&fr),
            crate::b64(first_root)
        )));
    }
    if sr != *second_root {
        return Err(AuditError::rejected(format!(
            "consistency proof from size {first} to {second} rebuilds the second root as {}, not {}",
            crate::b64(&sr),
            crate::b64(second_root)
        )));
    }
    Ok(())
}

/// A whole tree in memory: every complete node, level by level. The reference the log's own
/// node file is tested against, and a convenient source for tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a leaf by its leaf hash.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut node = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(node);
            let len = self.levels[level].len();
            if len % 2 == 1 {
                break;
            }
            node = node_hash(&self.levels[level][len - 2], &node);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, AuditError> {
        self.check(size)?;
        root(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
        self.check(size)?;
        inclusion_path(self, index, size)
    }

    /// The consistency proof between the trees of the first `first` and `second` leaves.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, AuditError> {
        self.check(second)?;
        consistency_path(self, first, second)
    }

    fn check(&self, size: u64) -> Result<(), AuditError> {
        if size > self.size() {
            return Err(AuditError::OutOfRange(format!(
                "size {size} is beyond the tree's {} leaves",
                self.size()
            )));
        }
        Ok(())
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, AuditError> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| AuditError::OutOfRange(format!("no node ({level}, {index})")))
    }
}
