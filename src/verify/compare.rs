//! Comparing the signed manifest with the files on disk, as sets, and naming
//! every file that differs.

use super::Failure;
use crate::digest::{Method, Resource};
use std::collections::BTreeMap;

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

type Files<'a> = BTreeMap<&'a str, BTreeMap<&'a str, String>>;

fn group(resources: &[Resource], method: Method) -> Files<'_> {
    let mut files: Files<'_> = BTreeMap::new();
    for r in resources {
        files
            .entry(file_of(&r.name, method))
            .or_default()
            .insert(r.name.as_str(), r.digest.to_ascii_lowercase());
    }
    files
}

/// Changed, missing and (unless tolerated) extra files, sorted by path.
pub(crate) fn compare(
    expected: &[Resource],
    actual: &[Resource],
    method: Method,
    ignore_unsigned_files: bool,
) -> Vec<Failure> {
    let want = group(expected, method);
    let have = group(actual, method);
    let mut failures = Vec::new();
    for (file, shards) in &want {
        match have.get(file) {
            None => failures.push(Failure::Missing {
                path: file.to_string(),
            }),
            Some(found) if found != shards => failures.push(Failure::Changed {
                path: file.to_string(),
            }),
            Some(_) => {}
        }
    }
    if !ignore_unsigned_files {
        for file in have.keys().filter(|f| !want.contains_key(*f)) {
            failures.push(Failure::Extra {
                path: file.to_string(),
            });
        }
    }
    failures.sort_by(|a, b| a.path().cmp(&b.path()));
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
