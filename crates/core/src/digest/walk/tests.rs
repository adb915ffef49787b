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

fn walk_with(path: &Path, scope: &LinkScope) -> Result<Walked> {
    walk_model(path, &WalkOptions::new(true, scope, &IgnoreSet::new()))
}

fn walked_names(w: &Walked) -> Vec<&str> {
    (0..w.files.len()).map(|i| w.files.name(i)).collect()
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
    assert_eq!(
        entries[2].path,
        dir.path().canonicalize().unwrap().join("tokenizer.json")
    );
}

#[test]
fn many_directories_come_out_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["a", "a.b", "a0", "b"] {
        fs::create_dir(dir.path().join(d)).unwrap();
        for f in ["x", "x.y", "y"] {
            fs::write(dir.path().join(d).join(f), f).unwrap();
        }
    }
    fs::write(dir.path().join("a-"), "-").unwrap();
    let entries = walk(dir.path(), false, &IgnoreSet::new()).unwrap();
    let got = names(&entries);
    let mut want = got.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 13);
    assert_eq!(got[0], "a-");
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
    // A scope of nowhere refuses them even when the model allows links.
    let err = walk_with(dir.path(), &LinkScope::Nowhere).unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::Symlink { .. })),
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
    assert!(n.contains(&"sub dir/empty"));
    let link = entries.iter().find(|e| e.name == "link.json").unwrap();
    assert!(link.path.ends_with("tokenizer.json"));
}

#[test]
fn a_directory_reached_through_two_links_is_listed_under_both_names() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    fs::write(dir.path().join("real/w.bin"), "w").unwrap();
    symlink("real", dir.path().join("one")).unwrap();
    symlink("real", dir.path().join("two")).unwrap();
    let w = walk_with(dir.path(), &LinkScope::WithinRoot).unwrap();
    assert_eq!(walked_names(&w), ["one/w.bin", "real/w.bin", "two/w.bin"]);
    assert!(w.notes.is_empty());
}

#[test]
fn links_out_of_the_root_need_a_wider_scope_and_are_noted() {
    let dir = tree();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), "s").unwrap();
    symlink(outside.path().join("secret"), dir.path().join("escape")).unwrap();
    let err = walk_with(dir.path(), &LinkScope::WithinRoot).unwrap_err();
    assert!(err.to_string().contains("outside the model root"), "{err}");
    // A scope that encloses the target lets the link be followed, noted.
    let common = outside.path().parent().unwrap().to_path_buf();
    for scope in [LinkScope::Within(common), LinkScope::Anywhere] {
        let w = walk_with(dir.path(), &scope).unwrap();
        assert!(walked_names(&w).contains(&"escape"));
        let target = outside.path().canonicalize().unwrap().join("secret");
        assert_eq!(
            w.notes,
            [WalkNote::LinkOutsideRoot {
                path: "escape".into(),
                target: target.display().to_string()
            }]
        );
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let err = walk_with(dir.path(), &LinkScope::Within(elsewhere.path().into())).unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::SymlinkOutside { .. })),
        "{err}"
    );
}

#[test]
fn a_cycle_is_noted_and_not_followed() {
    let dir = tree();
    symlink("..", dir.path().join("sub dir/up")).unwrap();
    symlink(".", dir.path().join("self")).unwrap();
    let w = walk_with(dir.path(), &LinkScope::WithinRoot).unwrap();
    assert_eq!(
        w.notes,
        [
            WalkNote::LinkCycle {
                path: "self".into()
            },
            WalkNote::LinkCycle {
                path: "sub dir/up".into()
            }
        ]
    );
    assert!(!walked_names(&w).iter().any(|n| n.starts_with("self/")));
}

#[test]
fn links_that_fan_out_are_refused_with_a_budget() {
    // Each level holds two links to the next one: 2^n paths at depth n.
    let dir = tempfile::tempdir().unwrap();
    let levels = 24;
    for i in 0..levels {
        let d = dir.path().join(format!("l{i}"));
        fs::create_dir(&d).unwrap();
        fs::write(d.join("f"), "x").unwrap();
        if i + 1 < levels {
            for name in ["a", "b"] {
                symlink(format!("../l{}", i + 1), d.join(name)).unwrap();
            }
        }
    }
    let ignore = IgnoreSet::new();
    let mut options = WalkOptions::new(true, &LinkScope::Anywhere, &ignore);
    assert_eq!(options.max_linked_entries, MAX_LINKED_ENTRIES);
    options.max_linked_entries = 5000;
    let err = walk_model(&dir.path().join("l0"), &options).unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::LinkFanOut { max: 5000, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("more than 5000"), "{err}");
    // A tree of links that fans out less is walked, each path listed.
    let w = walk_model(&dir.path().join(format!("l{}", levels - 8)), &options).unwrap();
    assert_eq!(w.files.len(), (1 << 8) - 1);
}

#[test]
fn dangling_links_and_links_to_special_files_are_errors() {
    let dir = tree();
    symlink("missing", dir.path().join("dangling")).unwrap();
    let err = walk(dir.path(), true, &IgnoreSet::new()).unwrap_err();
    assert!(err.to_string().contains("dangling"), "{err}");
    fs::remove_file(dir.path().join("dangling")).unwrap();
    symlink("/dev/null", dir.path().join("null")).unwrap();
    let err = walk_with(dir.path(), &LinkScope::Anywhere).unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::SymlinkTarget { .. })),
        "{err}"
    );
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
fn deep_trees_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = dir.path().to_path_buf();
    for _ in 0..=MAX_DEPTH + 1 {
        p.push("d");
    }
    fs::create_dir_all(&p).unwrap();
    fs::write(p.join("f"), "x").unwrap();
    let err = walk(dir.path(), false, &IgnoreSet::new()).unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::TooDeep { .. })),
        "{err}"
    );
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

#[test]
fn links_fanning_out_to_long_names_are_refused_before_memory_runs_out() {
    // Two links per level to the next level, with 200-byte names: 2^d
    // entries whose names grow by 200 bytes a level (17 levels held 1.8 GB
    // of names before this budget).
    let dir = tempfile::tempdir().unwrap();
    let depth = 16;
    let long = "y".repeat(200);
    for k in 0..=depth {
        fs::create_dir_all(dir.path().join(format!("L{k}"))).unwrap();
    }
    for k in 0..depth {
        for side in ["a", "b"] {
            symlink(
                format!("../L{}", k + 1),
                dir.path().join(format!("L{k}/{long}{side}")),
            )
            .unwrap();
        }
    }
    fs::write(dir.path().join(format!("L{depth}/f")), "x").unwrap();
    let ignore = IgnoreSet::new();
    let err = walk_model(
        &dir.path().join("L0"),
        &WalkOptions::new(true, &LinkScope::Anywhere, &ignore),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Walk(WalkError::LinkNamesTooLong { .. })),
        "{err}"
    );
}
