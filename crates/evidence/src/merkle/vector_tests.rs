//! Known-answer tests from published RFC 6962 vectors.
//!
//! Source: transparency-dev/merkle, `proof/verify_test.go` (Apache-2.0,
//! Copyright Google LLC): the eight reference leaves, the tree heads of the
//! trees of 1 to 8 of them, and inclusion and consistency proofs. Only the
//! data values are copied; the checks are written here.

use super::{
    Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};

/// The eight leaf inputs (hex).
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The tree head of the first `i + 1` leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf number counted from 1, tree size, audit path).
const INCLUSION: [(usize, usize, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof).
const CONSISTENCY: [(usize, usize, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(hex_text: &str) -> Hash {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|x| h(x)).collect()
}

fn leaves() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

#[test]
fn tree_heads_of_the_reference_leaves() {
    let leaves = leaves();
    for (n, want) in ROOTS.iter().enumerate() {
        assert_eq!(hex::encode(root(&leaves[..=n])), *want, "size {}", n + 1);
    }
    assert_eq!(
        hex::encode(root(&[])),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn published_audit_paths_are_subtree_heads_and_lead_to_the_root() {
    let leaves = leaves();
    for (leaf, size, path) in INCLUSION {
        let want = hashes(path);
        assert_eq!(
            inclusion_proof(leaf - 1, &leaves[..size]),
            Some(want.clone()),
            "leaf {leaf} of {size}"
        );
        assert!(
            verify_inclusion(
                leaf as u64 - 1,
                size as u64,
                &leaves[leaf - 1],
                &h(ROOTS[size - 1]),
                &want
            ),
            "leaf {leaf} of {size}"
        );
    }
}

#[test]
fn consistency_proofs_match_the_published_ones() {
    let leaves = leaves();
    for (m, n, proof) in CONSISTENCY {
        assert_eq!(
            consistency_proof(m, &leaves[..n]),
            hashes(proof),
            "{m} -> {n}"
        );
    }
}

#[test]
fn published_consistency_proofs_verify() {
    for (m, n, proof) in CONSISTENCY {
        let (old, new) = (h(ROOTS[m - 1]), h(ROOTS[n - 1]));
        assert!(
            verify_consistency(m as u64, n as u64, &old, &new, &hashes(proof)),
            "{m} -> {n}"
        );
    }
}

/// A consistency check to run: (what, old size, new size, old root, new
/// root, proof).
type Probe = (&'static str, u64, u64, Hash, Hash, Vec<Hash>);

/// The probes of the reference tests, each applied to every published
/// non-trivial proof: none may verify.
#[test]
fn corrupted_consistency_proofs_do_not_verify() {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (m, n, proof) in CONSISTENCY.iter().filter(|c| !c.2.is_empty()) {
        let (m, n) = (*m as u64, *n as u64);
        let (old, new) = (h(ROOTS[m as usize - 1]), h(ROOTS[n as usize - 1]));
        let proof = hashes(proof);
        let mut probes: Vec<Probe> = vec![
            ("m - 1", m - 1, n, old, new, proof.clone()),
            ("m + 1", m + 1, n, old, new, proof.clone()),
            ("m ^ 2", m ^ 2, n, old, new, proof.clone()),
            ("n * 2", m, n * 2, old, new, proof.clone()),
            ("n / 2", m, n / 2, old, new, proof.clone()),
            ("wrong old root", m, n, some, new, proof.clone()),
            ("wrong new root", m, n, old, some, proof.clone()),
            ("swapped roots", m, n, new, old, proof.clone()),
            ("empty proof", m, n, old, new, Vec::new()),
        ];
        for (what, extra) in [("old", old), ("new", new), ("first", proof[0])] {
            let mut p = proof.clone();
            p.push(extra);
            probes.push((what, m, n, old, new, p));
            let mut p = proof.clone();
            p.insert(0, extra);
            probes.push((what, m, n, old, new, p));
        }
        probes.push((
            "truncated",
            m,
            n,
            old,
            new,
            proof[..proof.len() - 1].to_vec(),
        ));
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 16;
            probes.push(("bit flip", m, n, old, new, p));
        }
        for (what, pm, pn, po, pw, pp) in probes {
            assert!(
                !verify_consistency(pm, pn, &po, &pw, &pp),
                "{m} -> {n}: {what} verified"
            );
        }
    }
}

/// The trivial cases of the reference tests.
#[test]
fn trivial_consistency_cases() {
    let a = h(ROOTS[0]);
    let b = h(ROOTS[1]);
    let empty = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // Equal sizes need equal roots and an empty proof.
    assert!(verify_consistency(1, 1, &a, &a, &[]));
    assert!(!verify_consistency(1, 1, &a, &b, &[]));
    assert!(!verify_consistency(1, 1, &empty, &empty, &[empty]));
    // The empty tree is consistent with anything, with an empty proof.
    assert!(verify_consistency(0, 1, &a, &b, &[]));
    assert!(!verify_consistency(0, 1, &empty, &empty, &[empty]));
    // No time travel; no growth without a proof.
    assert!(!verify_consistency(1, 0, &a, &b, &[]));
    assert!(!verify_consistency(2, 1, &a, &b, &[]));
    assert!(!verify_consistency(1, 2, &a, &b, &[]));
}
