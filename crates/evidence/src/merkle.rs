//! The RFC 6962 Merkle tree: leaf and node hashes, the tree head,
//! inclusion proofs of one record and consistency proofs between two sizes
//! of the same log (the proofs C2SP tlog-proof and witnesses carry).

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly less than `n` (for `n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree head over leaf hashes (the empty tree is `SHA-256("")`).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The right edge of an RFC 6962 tree: the roots of its perfect subtrees,
/// largest first (one per set bit of the size). Appending a leaf and taking
/// the tree head cost O(log n) hashes, so neither a log's writer nor its
/// verifier needs every leaf in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Perfect-subtree roots, left to right (their sizes are the set bits
    /// of `size`, high to low).
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier read back from storage: `hashes` must hold one hash per
    /// set bit of `size`. It is only as good as its source: callers check
    /// its [`Frontier::root`] against a signed checkpoint before using it.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(Frontier { size, hashes })
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Adds one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        // Each trailing one bit of the old size is a subtree of equal size
        // to merge with.
        let mut size = self.size;
        while size & 1 == 1 {
            let left = self.hashes.pop().expect("one hash per set bit");
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The tree head (equal to [`root`] over the same leaves).
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return Sha256::digest([]).into();
        };
        iter.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The inclusion proof (audit path) of leaf `index` in the tree of all
/// `leaves` (RFC 6962 section 2.1.1); `None` when there is no such leaf.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    (index < leaves.len()).then(|| path(index, leaves))
}

fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut proof = path(m, &leaves[..k]);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = path(m - k, &leaves[k..]);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` leaves whose
/// head is `root` (the algorithm of RFC 9162 section 2.1.3.2). A proof of
/// the wrong length, an index outside the tree or an empty tree is false.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, root: &Hash, proof: &[Hash]) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
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
    sn == 0 && &r == root
}

/// The consistency proof from the first `m` leaves to all of `leaves`
/// (RFC 6962 section 2.1.2).
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m >= leaves.len() {
        return Vec::new();
    }
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if complete {
            Vec::new()
        } else {
            vec![root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = subproof(m, &leaves[..k], complete);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &leaves[k..], false);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// Verifies a consistency proof between tree heads of sizes `m <= n`
/// (the algorithm of RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    m: u64,
    n: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old_root == new_root;
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut proof = proof.to_vec();
    if m.is_power_of_two() {
        proof.insert(0, *old_root);
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
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
    sn == 0 && &fr == old_root && &sr == new_root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("record {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn known_roots() {
        // RFC 6962: the empty tree and single leaves.
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let l = leaves(3);
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn the_frontier_gives_the_same_root_as_the_whole_tree() {
        let all = leaves(70);
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), root(&[]));
        for (n, leaf) in all.iter().enumerate() {
            frontier.push(*leaf);
            assert_eq!(frontier.size(), n as u64 + 1);
            assert_eq!(frontier.root(), root(&all[..=n]), "size {}", n + 1);
            let again = Frontier::from_parts(frontier.size(), frontier.hashes().to_vec());
            assert_eq!(again.as_ref(), Some(&frontier));
        }
        assert!(Frontier::from_parts(3, vec![all[0]]).is_none());
    }

    #[test]
    fn every_consistency_proof_verifies_and_forgeries_do_not() {
        let all = leaves(33);
        for n in 1..=all.len() {
            let new_root = root(&all[..n]);
            for m in 1..=n {
                let proof = consistency_proof(m, &all[..n]);
                let old_root = root(&all[..m]);
                assert!(
                    verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof),
                    "{m} -> {n}"
                );
                if m < n {
                    let wrong = root(&leaves(m + 1)[1..]);
                    assert!(
                        !verify_consistency(m as u64, n as u64, &wrong, &new_root, &proof),
                        "{m} -> {n}"
                    );
                    if let Some(first) = proof.first() {
                        let mut bad = proof.clone();
                        bad[0] = node_hash(first, first);
                        assert!(!verify_consistency(
                            m as u64, n as u64, &old_root, &new_root, &bad
                        ));
                    }
                }
            }
        }
        assert!(!verify_consistency(5, 4, &all[0], &all[1], &[]));
    }
}

#[cfg(test)]
mod vector_tests;

/// Our proofs against an independent implementation: the sigstore-rust
/// project's `sigstore-merkle` (the verifier of Rekor's proofs, already in
/// the dependency tree through sigstore-verify).
#[cfg(test)]
mod cross_tests {
    use super::*;
    use sigstore_merkle::{verify_consistency_proof, verify_inclusion_proof};
    use sigstore_types::Sha256Hash;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("line {i}").as_bytes()))
            .collect()
    }

    fn theirs(hashes: &[Hash]) -> Vec<Sha256Hash> {
        hashes.iter().map(|h| Sha256Hash::new(*h)).collect()
    }

    #[test]
    fn every_inclusion_proof_verifies_here_and_in_sigstore_merkle() {
        let all = leaves(70);
        for n in 1..=all.len() {
            let head = root(&all[..n]);
            for i in 0..n {
                let proof = inclusion_proof(i, &all[..n]).unwrap();
                assert!(
                    verify_inclusion(i as u64, n as u64, &all[i], &head, &proof),
                    "{i} of {n}"
                );
                verify_inclusion_proof(
                    &Sha256Hash::new(all[i]),
                    i as u64,
                    n as u64,
                    &theirs(&proof),
                    &Sha256Hash::new(head),
                )
                .unwrap_or_else(|e| panic!("{i} of {n}: {e}"));
                // Another leaf, another index, a shorter or longer proof,
                // or another tree: false here, refused there.
                let other = (i + 1) % n;
                if other != i {
                    assert!(!verify_inclusion(
                        i as u64,
                        n as u64,
                        &all[other],
                        &head,
                        &proof
                    ));
                    assert!(!verify_inclusion(
                        other as u64,
                        n as u64,
                        &all[i],
                        &head,
                        &proof
                    ));
                    assert!(
                        verify_inclusion_proof(
                            &Sha256Hash::new(all[other]),
                            i as u64,
                            n as u64,
                            &theirs(&proof),
                            &Sha256Hash::new(head),
                        )
                        .is_err()
                    );
                }
                let mut longer = proof.clone();
                longer.push(head);
                assert!(!verify_inclusion(
                    i as u64, n as u64, &all[i], &head, &longer
                ));
                if let Some((_, shorter)) = proof.split_last() {
                    assert!(!verify_inclusion(
                        i as u64, n as u64, &all[i], &head, shorter
                    ));
                }
                if n > 1 {
                    let smaller = root(&all[..n - 1]);
                    assert!(!verify_inclusion(
                        i as u64, n as u64, &all[i], &smaller, &proof
                    ));
                }
            }
            assert!(inclusion_proof(n, &all[..n]).is_none());
            assert!(!verify_inclusion(n as u64, n as u64, &all[0], &head, &[]));
        }
    }

    #[test]
    fn every_consistency_proof_verifies_here_and_in_sigstore_merkle() {
        let all = leaves(40);
        for n in 1..=all.len() {
            let new_root = root(&all[..n]);
            for m in 1..=n {
                let old_root = root(&all[..m]);
                let proof = consistency_proof(m, &all[..n]);
                assert!(verify_consistency(
                    m as u64, n as u64, &old_root, &new_root, &proof
                ));
                verify_consistency_proof(
                    m as u64,
                    n as u64,
                    &theirs(&proof),
                    &Sha256Hash::new(old_root),
                    &Sha256Hash::new(new_root),
                )
                .unwrap_or_else(|e| panic!("{m} -> {n}: {e}"));
                if m < n {
                    // A forged old root: refused by both.
                    let forged = leaf_hash(b"forged");
                    assert!(!verify_consistency(
                        m as u64, n as u64, &forged, &new_root, &proof
                    ));
                    assert!(
                        verify_consistency_proof(
                            m as u64,
                            n as u64,
                            &theirs(&proof),
                            &Sha256Hash::new(forged),
                            &Sha256Hash::new(new_root),
                        )
                        .is_err()
                    );
                }
            }
        }
    }
}
