//! Comparing the signed manifest with the files on disk, as sets, and naming
//! every file that differs. Both sides are compact resource lists; the
//! comparison walks them in name order without copying names.

use super::Failure;
use crate::digest::{Method, Resources};

/// Splits a shard resource name `path:start:end` (the last two colon-separated
/// decimal fields) into the file path and the range.
pub(crate) fn split_shard_name(name: &str) -> Option<(&str, u64, u64)> {
    let (rest, end) = name.rsplit_once(':')?;
    let (path, start) = rest.rsplit_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if path.is_empty() || !digits(start) || !digits(end) {
        return None;
    }
    let (start, end) = (start.parse().ok()?, end.parse().ok()?);
    (start < end).then_some((path, start, end))
}

/// The file a resource belongs to.
pub(crate) fn file_of(name: &str, method: Method) -> &str {
    match method {
        Method::Files => name,
        Method::Shards { .. } => split_shard_name(name).map(|(p, _, _)| p).unwrap_or(name),
    }
}

/// (file, resource name, digest) of every resource, sorted by file then name.
fn keyed(resources: &Resources, method: Method) -> Vec<(&str, &str, &[u8])> {
    let mut v: Vec<_> = resources
        .iter()
        .map(|r| (file_of(r.name, method), r.name, r.digest))
        .collect();
    if method != Method::Files || !resources.is_sorted() {
        v.sort_unstable();
    }
    v
}

/// The pieces of one file (its key), each piece's name and digest.
type KeyRun = (String, Vec<(String, Vec<u8>)>);

/// Changed, missing and (unless tolerated) extra files, sorted by path.
pub(crate) fn compare(
    expected: &Resources,
    actual: &Resources,
    method: Method,
    ignore_unsigned_files: bool,
) -> Vec<Failure> {
    if method == Method::Files && expected.is_sorted() && actual.is_sorted() {
        // The common case, a million files: no keyed copies at all.
        return merge_files(expected, actual, ignore_unsigned_files);
    }
    let want = keyed(expected, method);
    let have = keyed(actual, method);
    let runs = |v: &[(&str, &str, &[u8])]| -> Vec<KeyRun> {
        v.chunk_by(|a, b| a.0 == b.0)
            .map(|run| {
                (
                    run[0].0.to_string(),
                    run.iter()
                        .map(|(_, n, d)| (n.to_string(), d.to_vec()))
                        .collect(),
                )
            })
            .collect()
    };
    merge(
        runs(&want).into_iter(),
        runs(&have).into_iter(),
        ignore_unsigned_files,
    )
}

/// Merges two lists of whole files, each sorted by name.
fn merge_files(
    expected: &Resources,
    actual: &Resources,
    ignore_unsigned_files: bool,
) -> Vec<Failure> {
    let (mut i, mut j) = (0, 0);
    let mut failures = Vec::new();
    while i < expected.len() || j < actual.len() {
        let w = expected.get(i);
        let h = actual.get(j);
        let order = match (&w, &h) {
            (Some(w), Some(h)) => w.name.cmp(h.name),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match (order, w, h) {
            (std::cmp::Ordering::Less, Some(w), _) => {
                failures.push(Failure::Missing {
                    path: w.name.to_string(),
                });
                i += 1;
            }
            (std::cmp::Ordering::Greater, _, Some(h)) => {
                if !ignore_unsigned_files {
                    failures.push(Failure::Extra {
                        path: h.name.to_string(),
                    });
                }
                j += 1;
            }
            (_, Some(w), Some(h)) => {
                if w.digest != h.digest {
                    failures.push(Failure::Changed {
                        path: w.name.to_string(),
                    });
                }
                i += 1;
                j += 1;
            }
            _ => break,
        }
    }
    failures
}

/// Merges two name-ordered sequences of (file, its resources).
fn merge<F, N, D>(
    want: impl Iterator<Item = (F, Vec<(N, D)>)>,
    have: impl Iterator<Item = (F, Vec<(N, D)>)>,
    ignore_unsigned_files: bool,
) -> Vec<Failure>
where
    F: AsRef<str>,
    N: AsRef<str>,
    D: AsRef<[u8]>,
{
    let same = |a: &[(N, D)], b: &[(N, D)]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.0.as_ref() == y.0.as_ref() && x.1.as_ref() == y.1.as_ref())
    };
    let mut want = want.peekable();
    let mut have = have.peekable();
    let mut failures = Vec::new();
    loop {
        let order = match (want.peek(), have.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(w), Some(h)) => w.0.as_ref().cmp(h.0.as_ref()),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (file, _) = want.next().expect("peeked");
                failures.push(Failure::Missing {
                    path: file.as_ref().to_string(),
                });
            }
            std::cmp::Ordering::Greater => {
                let (file, _) = have.next().expect("peeked");
                if !ignore_unsigned_files {
                    failures.push(Failure::Extra {
                        path: file.as_ref().to_string(),
                    });
                }
            }
            std::cmp::Ordering::Equal => {
                let (file, w) = want.next().expect("peeked");
                let (_, h) = have.next().expect("peeked");
                if !same(&w, &h) {
                    failures.push(Failure::Changed {
                        path: file.as_ref().to_string(),
                    });
                }
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Resource;

    fn list(items: &[(&str, &str)]) -> Resources {
        items
            .iter()
            .map(|(name, digest)| Resource {
                name: name.to_string(),
                digest: digest.to_string(),
                algorithm: "sha256".into(),
            })
            .collect()
    }

    #[test]
    fn shard_names_split_on_the_last_two_fields() {
        assert_eq!(split_shard_name("a:b.bin:0:10"), Some(("a:b.bin", 0, 10)));
        assert_eq!(split_shard_name("w:10:5"), None);
        assert_eq!(split_shard_name("w:x:5"), None);
        assert_eq!(split_shard_name(":0:5"), None);
        assert_eq!(split_shard_name("plain"), None);
    }

    #[test]
    fn reports_changed_missing_and_extra() {
        let want = list(&[("a", "01"), ("b", "02"), ("c", "03")]);
        let have = list(&[("a", "01"), ("b", "FF"), ("d", "04")]);
        let f = compare(&want, &have, Method::Files, false);
        assert_eq!(
            f,
            [
                Failure::Changed { path: "b".into() },
                Failure::Missing { path: "c".into() },
                Failure::Extra { path: "d".into() },
            ]
        );
        let f = compare(&want, &have, Method::Files, true);
        assert_eq!(f.len(), 2);
        assert!(compare(&want, &want, Method::Files, false).is_empty());
        // Hex case does not matter.
        assert!(
            compare(
                &list(&[("a", "AB")]),
                &list(&[("a", "ab")]),
                Method::Files,
                false
            )
            .is_empty()
        );
        // Nor does the order a signer listed its resources in.
        let shuffled = list(&[("c", "03"), ("a", "01"), ("b", "02")]);
        assert!(compare(&shuffled, &want, Method::Files, false).is_empty());
    }

    #[test]
    fn shards_are_grouped_by_file() {
        let m = Method::Shards { shard_size: 2 };
        let want = list(&[("w:0:2", "01"), ("w:2:3", "02")]);
        let grown = list(&[("w:0:2", "01"), ("w:2:4", "02")]);
        assert_eq!(
            compare(&want, &grown, m, false),
            [Failure::Changed { path: "w".into() }]
        );
        assert_eq!(
            compare(&want, &Resources::new(), m, false),
            [Failure::Missing { path: "w".into() }]
        );
        // Files whose shards interleave by name are told apart.
        let want = list(&[("w:0:5", "01"), ("w:3:0:5", "02"), ("w:5:10", "03")]);
        assert!(compare(&want, &want, m, false).is_empty());
    }
}
