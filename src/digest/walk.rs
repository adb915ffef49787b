//! Enumerating the regular files of a model (OMS section 6.1) without ever
//! leaving the model root.

use super::{IgnoreSet, WalkError};
use crate::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Directory depth beyond which the walk gives up rather than recurse further.
const MAX_DEPTH: usize = 256;

/// One regular file of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The canonical resource name: relative, `/`-separated, UTF-8.
    pub name: String,
    /// Where to read the bytes (the link target for a followed symlink).
    pub path: PathBuf,
    /// The size seen while walking.
    pub size: u64,
}

/// Lists the regular files of the model at `path`, sorted by name (byte-wise).
///
/// A single file is named by its basename. Symbolic links are an error unless
/// `allow_symlinks` is set; then they are followed while their targets stay
/// inside the model root, and a link to one of its own ancestors is an error.
/// Names that are not UTF-8 and special files (FIFOs, sockets, devices) are
/// errors too, since they cannot be signed faithfully.
pub fn walk(path: &Path, allow_symlinks: bool, ignore: &IgnoreSet) -> Result<Vec<Entry>> {
    let root = fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
    let meta = fs::metadata(&root).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    if meta.is_file() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::Walk(WalkError::NotUtf8 {
                    path: path.display().to_string(),
                })
            })?
            .to_string();
        out.push(Entry {
            name,
            path: root,
            size: meta.len(),
        });
        return Ok(out);
    }
    if !meta.is_dir() {
        return Err(Error::Walk(WalkError::NotFileOrDir {
            path: path.display().to_string(),
        }));
    }
    let mut walker = Walker {
        root: &root,
        allow_symlinks,
        ignore,
        stack: vec![root.clone()],
        out: &mut out,
    };
    walker.dir(&root, "")?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

struct Walker<'a> {
    root: &'a Path,
    allow_symlinks: bool,
    ignore: &'a IgnoreSet,
    /// Canonical directories from the root down to the current one.
    stack: Vec<PathBuf>,
    out: &'a mut Vec<Entry>,
}

impl Walker<'_> {
    fn dir(&mut self, dir: &Path, prefix: &str) -> Result<()> {
        if self.stack.len() > MAX_DEPTH {
            return Err(Error::Walk(WalkError::TooDeep {
                path: prefix.to_string(),
                max: MAX_DEPTH,
            }));
        }
        let reader = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for item in reader {
            let item = item.map_err(|e| Error::io(dir, e))?;
            let file_name = item.file_name();
            let Some(name) = file_name.to_str() else {
                return Err(Error::Walk(WalkError::NotUtf8 {
                    path: item.path().display().to_string(),
                }));
            };
            let rel = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            if self.ignore.matches(&rel) {
                continue;
            }
            let file_type = item.file_type().map_err(|e| Error::io(item.path(), e))?;
            if file_type.is_symlink() {
                self.symlink(&item.path(), rel)?;
            } else if file_type.is_dir() {
                let child = dir.join(&file_name);
                self.stack.push(child.clone());
                self.dir(&child, &rel)?;
                self.stack.pop();
            } else if file_type.is_file() {
                let size = item
                    .metadata()
                    .map_err(|e| Error::io(item.path(), e))?
                    .len();
                self.out.push(Entry {
                    name: rel,
                    path: item.path(),
                    size,
                });
            } else {
                return Err(Error::Walk(WalkError::Special { path: rel }));
            }
        }
        Ok(())
    }

    fn symlink(&mut self, link: &Path, rel: String) -> Result<()> {
        if !self.allow_symlinks {
            return Err(Error::Walk(WalkError::Symlink { path: rel }));
        }
        let target = fs::canonicalize(link).map_err(|e| {
            Error::Walk(WalkError::Dangling {
                path: rel.clone(),
                detail: e.to_string(),
            })
        })?;
        if !target.starts_with(self.root) {
            return Err(Error::Walk(WalkError::SymlinkOutside {
                path: rel,
                target: target.display().to_string(),
            }));
        }
        let meta = fs::metadata(&target).map_err(|e| Error::io(&target, e))?;
        if meta.is_dir() {
            if self.stack.iter().any(|d| d == &target) {
                return Err(Error::Walk(WalkError::SymlinkCycle { path: rel }));
            }
            self.stack.push(target.clone());
            self.dir(&target, &rel)?;
            self.stack.pop();
        } else if meta.is_file() {
            self.out.push(Entry {
                name: rel,
                path: target,
                size: meta.len(),
            });
        } else {
            return Err(Error::Walk(WalkError::SymlinkTarget { path: rel }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub dir/.hidden")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join(".git/HEAD"), "ref").unwrap();
        fs::write(root.join(".gitignore"), "x").unwrap();
        fs::write(root.join("sub dir/.hidden/w.bin"), "w").unwrap();
        fs::write(root.join("sub dir/empty"), "").unwrap();
        fs::write(root.join("tokenizer.json"), "{}").unwrap();
        fs::write(root.join("ünïcode név.txt"), "u").unwrap();
        dir
    }

    #[test]
    fn lists_files_bytewise_with_default_ignores() {
        let dir = tree();
        let entries = walk(dir.path(), false, &IgnoreSet::with_defaults()).unwrap();
        assert_eq!(
            names(&entries),
            [
                "sub dir/.hidden/w.bin",
                "sub dir/empty",
                "tokenizer.json",
                "ünïcode név.txt"
            ]
        );
        assert_eq!(entries[1].size, 0);
    }

    #[test]
    fn without_ignores_git_files_are_listed() {
        let dir = tree();
        let entries = walk(dir.path(), false, &IgnoreSet::new()).unwrap();
        assert!(names(&entries).contains(&".git/HEAD"));
        assert!(names(&entries).contains(&".gitignore"));
    }

    #[test]
    fn single_file_is_named_by_basename() {
        let dir = tree();
        let entries = walk(&dir.path().join("sub dir/empty"), false, &IgnoreSet::new()).unwrap();
        assert_eq!(names(&entries), ["empty"]);
    }

    #[test]
    fn symlinks_are_refused_by_default() {
        let dir = tree();
        symlink("tokenizer.json", dir.path().join("link.json")).unwrap();
        let err = walk(dir.path(), false, &IgnoreSet::new()).unwrap_err();
        assert!(
            matches!(err, Error::Walk(WalkError::Symlink { ref path }) if path == "link.json"),
            "{err}"
        );
    }

    #[test]
    fn symlinks_inside_the_root_are_followed_when_allowed() {
        let dir = tree();
        symlink("tokenizer.json", dir.path().join("link.json")).unwrap();
        symlink("sub dir", dir.path().join("alias")).unwrap();
        let entries = walk(dir.path(), true, &IgnoreSet::with_defaults()).unwrap();
        let n = names(&entries);
        assert!(n.contains(&"link.json"));
        assert!(n.contains(&"alias/empty"));
        let link = entries.iter().find(|e| e.name == "link.json").unwrap();
        assert!(link.path.ends_with("tokenizer.json"));
    }

    #[test]
    fn symlinks_out_of_the_root_and_cycles_are_errors() {
        let dir = tree();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        symlink(outside.path().join("secret"), dir.path().join("escape")).unwrap();
        let err = walk(dir.path(), true, &IgnoreSet::new()).unwrap_err();
        assert!(err.to_string().contains("outside the model root"), "{err}");
        fs::remove_file(dir.path().join("escape")).unwrap();
        symlink("..", dir.path().join("sub dir/up")).unwrap();
        let err = walk(dir.path(), true, &IgnoreSet::new()).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn dangling_symlink_is_an_error() {
        let dir = tree();
        symlink("missing", dir.path().join("dangling")).unwrap();
        let err = walk(dir.path(), true, &IgnoreSet::new()).unwrap_err();
        assert!(err.to_string().contains("dangling"), "{err}");
    }

    #[test]
    fn ignored_symlinks_are_not_looked_at() {
        let dir = tree();
        symlink("/etc/passwd", dir.path().join("escape")).unwrap();
        let mut ignore = IgnoreSet::new();
        ignore.insert_canonical("escape").unwrap();
        assert!(walk(dir.path(), false, &ignore).is_ok());
    }

    #[test]
    fn fifos_are_refused() {
        let dir = tree();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe"))
            .status();
        if status.map(|s| s.success()).unwrap_or(false) {
            let err = walk(dir.path(), false, &IgnoreSet::new()).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn missing_path_is_an_io_error() {
        let err = walk(Path::new("/nonexistent/model"), false, &IgnoreSet::new()).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
    }
}
