//! The layer corpus (tests/corpus/layers, written by its make.py and kept
//! in the repository): images that real writers produce (GNU tar in ustar,
//! gnu and pax formats, Python's tarfile in the same three, Go's
//! archive/tar, a two-layer ModelCar image) and hostile ones. Each image
//! is pushed to the test registry and read by modelseal (`hash oci://`)
//! and by the programs that unpack layers for real:
//! - containerd's own `pkg/archive.Apply`, the layers applied in order
//!   onto an empty root (tests/differential/go_unpack, containerd v2 from
//!   the Go module proxy, pinned in its go.sum);
//! - `umoci unpack` of the image after `skopeo copy docker://... oci:...`
//!   (Go containers/image, then umoci);
//! - for one-layer images, Go's `archive/tar` and Python's `tarfile`.
//!
//! What modelseal accepts, every reader holds byte for byte under
//! /models; what it refuses as an attack, some reader reads differently,
//! fails on, or finds an unsigned file in. expected.tsv gives each image's
//! verdict, so refusing everything fails as surely as accepting an attack.

use crate::common::*;
use crate::oci::{registry, tool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What one reader finds under /models: file name -> SHA-256, or why it
/// refused the image.
type View = Result<BTreeMap<String, String>, String>;

/// Parses a peer's "SHA256 NAME" lines (then "end").
fn peer_view(out: std::process::Output) -> View {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    assert!(text.ends_with("end\n"), "a peer stopped early: {text}");
    Ok(text
        .lines()
        .filter(|l| *l != "end")
        .map(|l| {
            let (sum, name) = l.split_once(' ').unwrap();
            (name.to_string(), sum.to_string())
        })
        .collect())
}

/// modelseal's view: the files `hash` reads from the image, or its refusal.
fn modelseal_view(reference: &str) -> View {
    let (code, out, err) = run(modelseal()
        .args(["--format", "json", "hash", reference])
        .arg("--plain-http"));
    match code {
        0 => {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            Ok(v["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_string(),
                        r["digest"].as_str().unwrap().to_string(),
                    )
                })
                .collect())
        }
        2 => Err(err),
        other => panic!("hash {reference}: exit {other}: {err}"),
    }
}

/// umoci's view: the image copied by skopeo into an OCI layout and
/// unpacked, and the regular files of its root's models directory.
fn umoci_view(repo_tag: &str, tmp: &Path) -> View {
    let layout = tmp.join("layout");
    let bundle = tmp.join("bundle");
    let copy = external_tool("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false"])
        .arg(format!("docker://{}/{repo_tag}", registry()))
        .arg(format!("oci:{}:v", layout.display()))
        .output()
        .unwrap();
    if !copy.status.success() {
        return Err(String::from_utf8_lossy(&copy.stderr).into_owned());
    }
    let unpack = external_tool("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:v", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    if !unpack.status.success() {
        return Err(String::from_utf8_lossy(&unpack.stderr).into_owned());
    }
    let models = bundle.join("rootfs/models");
    let mut files = BTreeMap::new();
    if models.is_dir() {
        walk(&models, &models, &mut files);
    }
    Ok(files)
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
        if kind.is_dir() {
            walk(root, &path, files);
        } else if kind.is_file() {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            files.insert(name, file_sha256(&path));
        }
    }
}

#[test]
fn layers_read_as_containerd_umoci_go_and_python_read_them_or_are_refused() {
    let corpus = root().join("tests/corpus/layers");
    let expected = std::fs::read_to_string(corpus.join("expected.tsv")).unwrap();
    let mut accepted = 0;
    let mut attacks = 0;
    let mut images = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let [image, verdict, reason]: [&str; 3] =
            line.split('\t').collect::<Vec<_>>().try_into().unwrap();
        images += 1;
        let mut layers: Vec<PathBuf> = std::fs::read_dir(corpus.join(image))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        layers.sort();
        assert!(!layers.is_empty(), "{image}: no layers");
        let repo_tag = format!("corpus/{image}:v");
        let mut push = vec!["push-layers".to_string(), registry(), repo_tag.clone()];
        push.extend(layers.iter().map(|l| l.to_str().unwrap().to_string()));
        tool(&push.iter().map(String::as_str).collect::<Vec<_>>());
        let tmp = tempfile::tempdir().unwrap();
        let ours = modelseal_view(&format!("oci://{}/{repo_tag}", registry()));
        let mut peers: Vec<(&str, View)> = vec![
            (
                "containerd",
                peer_view(
                    external_tool("go_unpack")
                        .arg("containerd")
                        .args(&layers)
                        .output()
                        .unwrap(),
                ),
            ),
            ("umoci", umoci_view(&repo_tag, tmp.path())),
        ];
        if layers.len() == 1 {
            peers.push((
                "Go archive/tar",
                peer_view(
                    external_tool("go_unpack")
                        .arg("tar")
                        .arg(&layers[0])
                        .output()
                        .unwrap(),
                ),
            ));
            peers.push((
                "Python tarfile",
                peer_view(
                    external_tool("python3")
                        .arg(root().join("tests/differential/py_unpack.py"))
                        .arg(&layers[0])
                        .output()
                        .unwrap(),
                ),
            ));
        }
        match verdict {
            "accept" => {
                let ours = ours.unwrap_or_else(|e| panic!("{image}: refused: {e}"));
                assert!(ours.len() >= 6, "{image}: {ours:?}");
                for (peer, view) in &peers {
                    assert_eq!(view.as_ref(), Ok(&ours), "{image}: {peer}");
                }
                accepted += 1;
            }
            "refuse" | "refuse-attack" => {
                let err = ours.expect_err(image);
                assert!(err.contains(reason), "{image}: {err}");
                if verdict == "refuse-attack" {
                    // The attack is real: some reader fails, finds the
                    // unsigned file, or reads what another does not.
                    let evil = peers.iter().any(|(_, v)| {
                        v.as_ref()
                            .map_or(true, |files| files.contains_key("modeling_evil.py"))
                    });
                    let differ = peers.windows(2).any(|w| w[0].1 != w[1].1);
                    assert!(evil || differ, "{image}: every reader agrees: {peers:?}");
                    attacks += 1;
                }
            }
            other => panic!("{image}: unknown verdict {other}"),
        }
    }
    // Every image of the corpus is listed, and both kinds are there.
    let dirs = std::fs::read_dir(&corpus)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(
        dirs, images,
        "an image of the corpus is not in expected.tsv"
    );
    assert_eq!((accepted, attacks), (8, 15));
}
