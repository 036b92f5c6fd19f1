//! RFC 9162 §2.1 Merkle tree hashing: leaf and node hashes, the root and inclusion paths of a
//! tree held in memory, and the root an inclusion path leads to. The audit log builds its tree
//! from these hashes; bindings signed together carry a path to the root their origin signed.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// MTH({}) = SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// RFC 9162: the hash of a leaf, SHA-256(0x00 ‖ leaf).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// RFC 9162: the hash of an interior node, SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2): where RFC 9162 splits a tree.
pub fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of the tree over `leaves` (leaf hashes, in order) and, for each leaf, its inclusion
/// path (PATH of RFC 9162 §2.1.3.1, leaf side first).
pub fn root_and_paths(leaves: &[Hash]) -> (Hash, Vec<Vec<Hash>>) {
    fn walk(leaves: &[Hash], paths: &mut [Vec<Hash>]) -> Hash {
        if let [only] = leaves {
            return *only;
        }
        let k = split(leaves.len() as u64) as usize;
        let (left_paths, right_paths) = paths.split_at_mut(k);
        let left = walk(&leaves[..k], left_paths);
        let right = walk(&leaves[k..], right_paths);
        // The subtrees' own hashes are pushed first: paths grow from the leaf up.
        left_paths.iter_mut().for_each(|p| p.push(right));
        right_paths.iter_mut().for_each(|p| p.push(left));
        node_hash(&left, &right)
    }
    if leaves.is_empty() {
        return (EMPTY_ROOT, Vec::new());
    }
    let depth = 64 - (leaves.len() as u64 - 1).leading_zeros() as usize;
    let mut paths = vec![Vec::with_capacity(depth); leaves.len()];
    let root = walk(leaves, &mut paths);
    (root, paths)
}

/// Why an inclusion path does not fit its tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("leaf index {index} is not below the tree size {size}")]
    OutOfRange { index: u64, size: u64 },
    #[error(
        "inclusion path of leaf {index} in size {size} has {len} hashes, more than the tree needs"
    )]
    TooLong { index: u64, size: u64, len: usize },
    #[error(
        "inclusion path of leaf {index} in size {size} has {len} hashes, fewer than the tree needs"
    )]
    TooShort { index: u64, size: u64, len: usize },
}

/// The root that `path` leads to from the leaf hash `leaf` at `index` in a tree of `size` leaves,
/// computed as RFC 9162 §2.1.3.2 prescribes; the caller compares it with the root it trusts.
pub fn root_from_path(
    leaf: &Hash,
    index: u64,
    size: u64,
    path: &[Hash],
) -> Result<Hash, PathError> {
    if index >= size {
        return Err(PathError::OutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return Err(PathError::TooLong {
                index,
                size,
                len: path.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(PathError::TooShort {
            index,
            size,
            len: path.len(),
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH of RFC 9162 §2.1.1, written as the RFC states it.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves {
            [] => EMPTY_ROOT,
            [one] => *one,
            _ => {
                let k = split(leaves.len() as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn every_path_leads_to_the_root_of_every_size() {
        for n in 1..=70 {
            let leaves = leaves(n);
            let (root, paths) = root_and_paths(&leaves);
            assert_eq!(root, mth(&leaves), "size {n}");
            for (i, (leaf, path)) in leaves.iter().zip(&paths).enumerate() {
                assert_eq!(
                    root_from_path(leaf, i as u64, n as u64, path),
                    Ok(root),
                    "leaf {i} of {n}"
                );
            }
        }
    }

    #[test]
    fn a_path_does_not_lead_to_the_root_from_another_leaf_or_place() {
        let leaves = leaves(13);
        let (root, paths) = root_and_paths(&leaves);
        for i in 0..13 {
            for j in 0..13 {
                if i != j {
                    let r = root_from_path(&leaves[j], i as u64, 13, &paths[i]);
                    assert_ne!(r, Ok(root), "leaf {j} with the path of {i}");
                    let r = root_from_path(&leaves[i], j as u64, 13, &paths[i]);
                    assert_ne!(r, Ok(root), "leaf {i} at place {j}");
                }
            }
        }
    }

    #[test]
    fn a_path_of_the_wrong_length_or_a_leaf_outside_is_refused() {
        let leaves = leaves(5);
        let (_, paths) = root_and_paths(&leaves);
        let mut long = paths[0].clone();
        long.push(leaves[0]);
        assert!(matches!(
            root_from_path(&leaves[0], 0, 5, &long),
            Err(PathError::TooLong { .. })
        ));
        assert!(matches!(
            root_from_path(&leaves[0], 0, 5, &paths[0][..1]),
            Err(PathError::TooShort { .. })
        ));
        assert!(matches!(
            root_from_path(&leaves[0], 5, 5, &paths[0]),
            Err(PathError::OutOfRange { .. })
        ));
    }
}
