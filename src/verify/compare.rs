//! Comparing the signed manifest with the files on disk, as sets, and naming
//! every file that differs.

use super::Failure;
use crate::digest::{Method, Resource};

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

/// (file, resource name, digest) triples sorted by file then name.
fn keyed(resources: &[Resource], method: Method) -> Vec<(&str, &str, &str)> {
    let mut v: Vec<_> = resources
        .iter()
        .map(|r| (file_of(&r.name, method), r.name.as_str(), r.digest.as_str()))
        .collect();
    v.sort_unstable();
    v
}

/// Splits sorted triples into runs of the same file.
fn runs<'a, 'b>(
    v: &'b [(&'a str, &'a str, &'a str)],
) -> impl Iterator<Item = &'b [(&'a str, &'a str, &'a str)]> {
    v.chunk_by(|a, b| a.0 == b.0)
}

fn same(a: &[(&str, &str, &str)], b: &[(&str, &str, &str)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.1 == y.1 && x.2.eq_ignore_ascii_case(y.2))
}

/// Changed, missing and (unless tolerated) extra files, sorted by path.
pub(crate) fn compare(
    expected: &[Resource],
    actual: &[Resource],
    method: Method,
    ignore_unsigned_files: bool,
) -> Vec<Failure> {
    let want = keyed(expected, method);
    let have = keyed(actual, method);
    let mut want = runs(&want).peekable();
    let mut have = runs(&have).peekable();
    let mut failures = Vec::new();
    loop {
        let order = match (want.peek(), have.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(w), Some(h)) => w[0].0.cmp(h[0].0),
        };
        match order {
            std::cmp::Ordering::Less => {
                let w = want.next().expect("peeked");
                failures.push(Failure::Missing {
                    path: w[0].0.to_string(),
                });
            }
            std::cmp::Ordering::Greater => {
                let h = have.next().expect("peeked");
                if !ignore_unsigned_files {
                    failures.push(Failure::Extra {
                        path: h[0].0.to_string(),
                    });
                }
            }
            std::cmp::Ordering::Equal => {
                let (w, h) = (want.next().expect("peeked"), have.next().expect("peeked"));
                if !same(w, h) {
                    failures.push(Failure::Changed {
                        path: w[0].0.to_string(),
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

    fn r(name: &str, digest: &str) -> Resource {
        Resource {
            name: name.into(),
            digest: digest.into(),
            algorithm: "sha256".into(),
        }
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
        let want = [r("a", "01"), r("b", "02"), r("c", "03")];
        let have = [r("a", "01"), r("b", "FF"), r("d", "04")];
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
        assert!(compare(&[r("a", "AB")], &[r("a", "ab")], Method::Files, false).is_empty());
    }

    #[test]
    fn shards_are_grouped_by_file() {
        let m = Method::Shards { shard_size: 2 };
        let want = [r("w:0:2", "01"), r("w:2:3", "02")];
        let grown = [r("w:0:2", "01"), r("w:2:4", "02")];
        assert_eq!(
            compare(&want, &grown, m, false),
            [Failure::Changed { path: "w".into() }]
        );
        assert_eq!(
            compare(&want, &[], m, false),
            [Failure::Missing { path: "w".into() }]
        );
    }
}
