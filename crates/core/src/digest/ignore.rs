//! Path exclusion (OMS section 6.2): exact relative paths from the model root,
//! each excluding itself and, when it is a directory, its subtree.

use crate::{Error, Result};
use std::path::{Component, Path};

/// The paths the spec excludes by default, matched at the top level only.
pub const DEFAULT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// A set of canonical relative paths (`/`-separated, no `.` or `..`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreSet {
    paths: Vec<String>,
}

impl IgnoreSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set holding the spec's default exclusions.
    pub fn with_defaults() -> Self {
        let mut set = Self::new();
        for p in DEFAULT_IGNORES {
            set.insert(p.to_string());
        }
        set
    }

    /// The set a user asks for over a local model at `root`: the spec's
    /// defaults unless `no_defaults`, then each of `paths` (relative to the
    /// root, or absolute inside it), then each of `excluded` (files written
    /// beside the model, such as its signature), read relative to `base`
    /// (the caller's working directory) and skipped when outside the root.
    pub fn for_model(
        root: &Path,
        no_defaults: bool,
        paths: &[std::path::PathBuf],
        excluded: &[&Path],
        base: &Path,
    ) -> Result<Self> {
        let mut set = if no_defaults {
            Self::new()
        } else {
            Self::with_defaults()
        };
        for p in paths {
            set.insert_user_path(root, p)?;
        }
        for p in excluded {
            set.insert_user_path(root, &base.join(p))?;
        }
        Ok(set)
    }

    /// The set a user asks for over a registry model, which has no local
    /// directory to resolve paths against: each path is a name relative to
    /// the model root.
    pub fn for_names(no_defaults: bool, paths: &[std::path::PathBuf]) -> Result<Self> {
        let mut set = if no_defaults {
            Self::new()
        } else {
            Self::with_defaults()
        };
        for p in paths {
            let text = p.to_str().filter(|_| p.is_relative()).ok_or_else(|| {
                Error::Usage(format!(
                    "ignore path {}: for an oci:// model, name a path relative to the model root",
                    p.display()
                ))
            })?;
            set.insert_canonical(text)?;
        }
        Ok(set)
    }

    /// Adds a path already in canonical form (as read from a bundle).
    /// Returns an error for paths that are not relative and normalised.
    pub fn insert_canonical(&mut self, path: &str) -> Result<()> {
        let normal = normalize_relative(Path::new(path))?;
        if normal.is_empty() {
            return Err(Error::Usage(format!(
                "ignore path {path:?} names the model root"
            )));
        }
        self.insert(normal);
        Ok(())
    }

    /// Adds a user-given path: relative to the model root, or absolute inside
    /// it. An absolute path outside the model is not an error (it cannot
    /// match anything) and is skipped; the return value says whether it was
    /// added.
    pub fn insert_user_path(&mut self, root: &Path, path: &Path) -> Result<bool> {
        if path.is_absolute() {
            match relative_to_root(root, path)? {
                Some(rel) if !rel.is_empty() => {
                    self.insert(rel);
                    Ok(true)
                }
                Some(_) => Err(Error::Usage(format!(
                    "ignore path {} is the model root itself",
                    path.display()
                ))),
                None => Ok(false),
            }
        } else {
            let normal = normalize_relative(path)?;
            if normal.is_empty() {
                return Err(Error::Usage(format!(
                    "ignore path {} names the model root",
                    path.display()
                )));
            }
            self.insert(normal);
            Ok(true)
        }
    }

    fn insert(&mut self, path: String) {
        if let Err(at) = self.paths.binary_search(&path) {
            self.paths.insert(at, path);
        }
    }

    /// Whether the relative name `name` is excluded by this set.
    pub fn matches(&self, name: &str) -> bool {
        self.paths.iter().any(|p| {
            name == p
                || (name.len() > p.len()
                    && name.starts_with(p.as_str())
                    && name.as_bytes()[p.len()] == b'/')
        })
    }

    /// The paths, sorted.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Normalises a relative path: drops `.` and empty components, refuses `..`,
/// absolute paths and non-UTF-8 names. The model root itself gives `""`.
pub(crate) fn normalize_relative(path: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(part) => {
                parts.push(part.to_str().ok_or_else(|| {
                    Error::Usage(format!("{} is not valid UTF-8", path.display()))
                })?)
            }
            Component::ParentDir => {
                return Err(Error::Usage(format!(
                    "{} leaves the model root (`..` is not allowed)",
                    path.display()
                )));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Error::Usage(format!(
                    "{} is not a relative path",
                    path.display()
                )));
            }
        }
    }
    Ok(parts.join("/"))
}

/// The canonical relative name of `path` (absolute, or relative to the
/// current directory) inside the model `root`, or `None` when it is outside.
/// The path need not exist; its parent directory is resolved when it does.
pub(crate) fn relative_to_root(root: &Path, path: &Path) -> Result<Option<String>> {
    let root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(path)
    };
    let resolved = match std::fs::canonicalize(&absolute) {
        Ok(p) => p,
        Err(_) => match (absolute.parent(), absolute.file_name()) {
            (Some(parent), Some(name)) => match std::fs::canonicalize(parent) {
                Ok(p) => p.join(name),
                Err(_) => absolute.clone(),
            },
            _ => absolute.clone(),
        },
    };
    match resolved.strip_prefix(&root) {
        Ok(rel) => normalize_relative(rel).map(Some),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_exact_paths_and_subtrees_only() {
        let mut set = IgnoreSet::new();
        set.insert_canonical("cache").unwrap();
        set.insert_canonical("a/b").unwrap();
        assert!(set.matches("cache"));
        assert!(set.matches("cache/x.bin"));
        assert!(!set.matches("cache2"));
        assert!(!set.matches("sub/cache"));
        assert!(set.matches("a/b/c"));
        assert!(!set.matches("a/bc"));
        assert!(!set.matches("a"));
    }

    #[test]
    fn defaults_are_top_level_only() {
        let set = IgnoreSet::with_defaults();
        assert!(set.matches(".git/HEAD"));
        assert!(set.matches(".gitignore"));
        assert!(!set.matches("sub/.git/HEAD"));
        assert!(!set.matches(".gitmodules"));
    }

    #[test]
    fn normalizes_and_refuses_escapes() {
        assert_eq!(
            normalize_relative(Path::new("./a//b/./c")).unwrap(),
            "a/b/c"
        );
        assert!(normalize_relative(Path::new("a/../b")).is_err());
        assert!(normalize_relative(Path::new("/etc")).is_err());
        let mut set = IgnoreSet::new();
        assert!(set.insert_canonical(".").is_err());
        assert!(set.insert_canonical("../x").is_err());
    }

    #[test]
    fn absolute_paths_outside_the_root_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        let mut set = IgnoreSet::new();
        let root = dir.path().join("m");
        assert!(
            !set.insert_user_path(&root, &dir.path().join("other"))
                .unwrap()
        );
        assert!(set.insert_user_path(&root, &root.join("x/y")).unwrap());
        assert_eq!(set.paths(), ["x/y"]);
    }

    /// The set a user asks for: the defaults unless told otherwise, their
    /// paths, and a signature beside the model only when it lies inside it.
    #[test]
    fn a_user_set_holds_the_defaults_their_paths_and_a_signature_inside() {
        use std::path::PathBuf;
        let tmp = tempfile::tempdir().unwrap();
        let root = &tmp.path().join("m");
        std::fs::create_dir(root).unwrap();
        let set = IgnoreSet::for_model(
            root,
            false,
            &[PathBuf::from("cache"), root.join("logs")],
            &[Path::new("m/model.sig"), Path::new("model.sig")],
            tmp.path(),
        )
        .unwrap();
        assert_eq!(
            set.paths(),
            [
                ".git",
                ".gitattributes",
                ".github",
                ".gitignore",
                "cache",
                "logs",
                "model.sig"
            ]
        );
        let bare = IgnoreSet::for_model(root, true, &[], &[&tmp.path().join("s")], root).unwrap();
        assert!(bare.paths().is_empty());
        assert!(IgnoreSet::for_model(root, true, &[PathBuf::from("../x")], &[], root).is_err());
        let names = IgnoreSet::for_names(true, &[PathBuf::from("a/b")]).unwrap();
        assert_eq!(names.paths(), ["a/b"]);
        let err = IgnoreSet::for_names(true, &[PathBuf::from("/abs")]).unwrap_err();
        assert!(err.to_string().contains("for an oci:// model"), "{err}");
    }
}
