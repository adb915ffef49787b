//! Tar layers, read once as a stream: each model file inside is handed to a
//! visitor with its bytes. Only regular files and directories may make up a
//! model: hard links, symbolic links, devices, FIFOs, sparse files and
//! whiteouts are refused, as are unsafe names (absolute, `..`).

use super::OciError;
use super::manifest::{Compression, Layer, LayerKind, MODELCAR_ROOT, TarRoot, safe_name};
use crate::{Error, Result};
use std::io::Read;

/// Reads the tar layer `layer` from `reader` (the blob's bytes), calling
/// `visit(name, size, bytes)` for each model file in archive order. The
/// visitor must read the entry to its end.
pub(crate) fn read_tar_layer<R: Read>(
    reader: R,
    layer: &Layer,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>,
) -> Result<R> {
    let LayerKind::Tar { compression, root } = layer.kind else {
        return Err(bad(layer, "not a tar layer".into()));
    };
    match compression {
        Compression::None => entries(reader, layer, root, visit),
        Compression::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(reader);
            Ok(entries(decoder, layer, root, visit)?.into_inner())
        }
        Compression::Zstd => Err(bad(
            layer,
            "zstd-compressed layers are not read by this build (push gzip or uncompressed layers)"
                .into(),
        )),
    }
}

fn bad(layer: &Layer, reason: String) -> Error {
    Error::from(OciError::BadTar {
        layer: layer.descriptor.digest.clone(),
        reason,
    })
}

fn entries<R: Read>(
    reader: R,
    layer: &Layer,
    root: TarRoot,
    visit: &mut dyn FnMut(&str, u64, &mut dyn Read) -> Result<()>,
) -> Result<R> {
    let digest = &layer.descriptor.digest;
    let mut archive = tar::Archive::new(reader);
    {
        let entries = archive.entries().map_err(|e| bad(layer, e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(layer, e.to_string()))?;
            let raw = entry.path_bytes().into_owned();
            let kind = entry.header().entry_type();
            if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            let text = String::from_utf8(raw).map_err(|e| {
                Error::from(OciError::UnsafeName {
                    layer: digest.clone(),
                    name: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    reason: "not UTF-8".into(),
                })
            })?;
            let unsafe_name = |reason: String| {
                Error::from(OciError::UnsafeName {
                    layer: digest.clone(),
                    name: text.clone(),
                    reason,
                })
            };
            let name = safe_name(&text).map_err(unsafe_name)?;
            // Whiteouts delete files of lower layers: the mounted model
            // would differ from the layers read here.
            let base = name.rsplit('/').next().unwrap_or(&name);
            let in_model = match root {
                TarRoot::Model => Some(name.as_str()),
                TarRoot::ModelsDir => {
                    if name == MODELCAR_ROOT {
                        Some("")
                    } else {
                        name.strip_prefix(MODELCAR_ROOT)
                            .and_then(|r| r.strip_prefix('/'))
                    }
                }
            };
            let whiteout = base.starts_with(".wh.");
            let touches_model = in_model.is_some()
                || (whiteout
                    && root == TarRoot::ModelsDir
                    && !name.contains('/')
                    && (base == ".wh..wh..opq" || base == format!(".wh.{MODELCAR_ROOT}")));
            if !touches_model {
                continue; // The rest of a container image.
            }
            let refuse = |what: &str| {
                Error::from(OciError::UnsupportedEntry {
                    layer: digest.clone(),
                    name: text.clone(),
                    kind: what.to_string(),
                })
            };
            if whiteout {
                return Err(refuse("whiteout (it deletes files of another layer)"));
            }
            let Some(model_name) = in_model else { continue };
            match kind {
                tar::EntryType::Directory => continue,
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Link => return Err(refuse("hard link")),
                tar::EntryType::Symlink => return Err(refuse("symbolic link")),
                tar::EntryType::Char | tar::EntryType::Block => return Err(refuse("device")),
                tar::EntryType::Fifo => return Err(refuse("FIFO")),
                tar::EntryType::GNUSparse => return Err(refuse("sparse file")),
                _ => return Err(refuse("entry of an unknown type")),
            }
            if model_name.is_empty() {
                return Err(refuse("file where the model directory should be"));
            }
            let size = entry.size();
            visit(model_name, size, &mut entry)?;
            let mut rest = [0u8; 1];
            if entry
                .read(&mut rest)
                .map_err(|e| bad(layer, e.to_string()))?
                != 0
            {
                return Err(bad(
                    layer,
                    format!("{model_name}: entry not read to its end"),
                ));
            }
        }
    }
    Ok(archive.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::manifest::Descriptor;
    use super::*;

    fn layer(root: TarRoot) -> Layer {
        Layer {
            descriptor: Descriptor {
                media_type: "application/vnd.oci.image.layer.v1.tar".into(),
                digest: "sha256:00".into(),
                size: 0,
                artifact_type: None,
                annotations: Default::default(),
            },
            kind: LayerKind::Tar {
                compression: Compression::None,
                root,
            },
        }
    }

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Bypass the builder's own path checks: hostile names must be
            // refused by the reader, not the writer.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            if *kind == tar::EntryType::Link || *kind == tar::EntryType::Symlink {
                h.set_link_name("models/a").unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn names(bytes: &[u8], root: TarRoot) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        read_tar_layer(bytes, &layer(root), &mut |name, _size, r| {
            let mut data = Vec::new();
            r.read_to_end(&mut data).unwrap();
            out.push((name.to_string(), data));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn modelcar_layers_yield_the_files_under_models() {
        use tar::EntryType::*;
        let bytes = archive(&[
            ("bin/sh", Regular, b"#!"),
            ("bin/ls", Link, b""),
            ("models", Directory, b""),
            ("models/config.json", Regular, b"{}"),
            ("models/sub/w.bin", Regular, b"abc"),
        ]);
        let got = names(&bytes, TarRoot::ModelsDir).unwrap();
        assert_eq!(
            got,
            [
                ("config.json".to_string(), b"{}".to_vec()),
                ("sub/w.bin".to_string(), b"abc".to_vec())
            ]
        );
    }

    #[test]
    fn refuses_links_devices_whiteouts_and_unsafe_names() {
        use tar::EntryType::*;
        for (entries, expect) in [
            (vec![("models/a", Link, &b""[..])], "hard link"),
            (vec![("models/a", Symlink, &b""[..])], "symbolic link"),
            (vec![("models/dev", Char, &b""[..])], "device"),
            (
                vec![("models/.wh.config.json", Regular, &b""[..])],
                "whiteout",
            ),
            (vec![(".wh.models", Regular, &b""[..])], "whiteout"),
            (vec![("/models/a", Regular, &b"x"[..])], "absolute"),
            (vec![("models/../etc/passwd", Regular, &b"x"[..])], ".."),
            (vec![("models", Regular, &b"x"[..])], "model directory"),
        ] {
            let err = names(&archive(&entries), TarRoot::ModelsDir).unwrap_err();
            assert!(err.to_string().contains(expect), "{entries:?}: {err}");
        }
        let err = names(&archive(&[("w", Fifo, b"")]), TarRoot::Model).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
}
