//! Counting the entries of a tree cheaply (directory listings only, no
//! stat of regular files): how large a real signature of it can be.

use super::walk::{MAX_DEPTH, MAX_LINKED_ENTRIES};
use crate::{Error, Result};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The number of entries under `path` (files, directories, links; links
/// to directories followed once along each path, as the walk does) and
/// the total length of their names relative to `path`. A single file
/// counts once.
pub fn count_tree(path: &Path) -> Result<(u64, u64)> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        let name = path.file_name().map_or(0, |n| n.len() as u64);
        return Ok((1, name));
    }
    let mut counter = Counter {
        entries: 0,
        names: 0,
        linked: 0,
        ancestors: vec![(meta.dev(), meta.ino())],
    };
    counter.dir(path, 0, 0, false)?;
    Ok((counter.entries, counter.names))
}

struct Counter {
    entries: u64,
    names: u64,
    linked: usize,
    ancestors: Vec<(u64, u64)>,
}

impl Counter {
    fn dir(&mut self, dir: &Path, prefix: usize, depth: usize, via_link: bool) -> Result<()> {
        if depth > MAX_DEPTH || self.linked > MAX_LINKED_ENTRIES {
            return Ok(());
        }
        let reader = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for item in reader {
            let item = item.map_err(|e| Error::io(dir, e))?;
            let len = prefix + item.file_name().len() + usize::from(prefix > 0);
            self.entries += 1;
            self.names += len as u64;
            if via_link {
                self.linked += 1;
            }
            let Ok(file_type) = item.file_type() else {
                continue;
            };
            let path = item.path();
            let (meta, link) = if file_type.is_dir() {
                match item.metadata() {
                    Ok(m) => (m, false),
                    Err(_) => continue,
                }
            } else if file_type.is_symlink() {
                match fs::metadata(&path) {
                    Ok(m) if m.is_dir() => (m, true),
                    _ => continue,
                }
            } else {
                continue;
            };
            let id = (meta.dev(), meta.ino());
            if self.ancestors.contains(&id) {
                continue;
            }
            self.ancestors.push(id);
            let result = self.dir(&path, len, depth + 1, via_link || link);
            self.ancestors.pop();
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_entries_and_name_bytes_through_links() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("ab")).unwrap();
        fs::write(dir.path().join("ab/c"), "x").unwrap();
        fs::write(dir.path().join("d"), "x").unwrap();
        std::os::unix::fs::symlink("ab", dir.path().join("l")).unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("ab/up")).unwrap();
        // ab, ab/c, ab/up, d, l, l/c, l/up
        let (entries, names) = count_tree(dir.path()).unwrap();
        assert_eq!(entries, 7);
        assert_eq!(names, (2 + 4 + 5 + 1 + 1 + 3 + 4) as u64);
        assert_eq!(count_tree(&dir.path().join("d")).unwrap(), (1, 1));
    }
}
