//! Reading a registry manifest as a model: which layers are files (ModelPack
//! raw layers, named by their `org.cncf.model.filepath` annotation, else
//! `org.opencontainers.image.title`) and which are tar archives (ModelPack
//! tar layers, whose entries are named from the model root; container image
//! layers in ModelCar style, whose model files sit under `/models/`).

use super::OciError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// A Docker image manifest (schema 2), read like an OCI manifest.
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// A Docker manifest list.
pub const DOCKER_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// The empty descriptor's media type (`{}` as a config).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The ModelPack annotation naming a layer's file path.
pub const FILEPATH_ANNOTATION: &str = "org.cncf.model.filepath";
/// The OCI title annotation (a file name, as ORAS sets it).
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
/// Where ModelCar images keep the model.
pub const MODELCAR_ROOT: &str = "models";
/// Most layers a model manifest may have.
const MAX_LAYERS: usize = 100_000;

/// The manifest types a model reference may resolve to (indexes are
/// accepted only to refuse them with a clear reason).
pub const ACCEPTED: [&str; 4] = [
    MANIFEST_MEDIA_TYPE,
    DOCKER_MANIFEST_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    DOCKER_LIST_MEDIA_TYPE,
];

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The content's media type.
    pub media_type: String,
    /// `sha256:HEX`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// The artifact type (referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image manifest, as far as modelseal reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageManifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub subject: Option<Descriptor>,
}

/// How a tar layer's entries map to model files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarRoot {
    /// Entries are named from the model root (ModelPack tar layers).
    Model,
    /// Model files are the entries under `models/` (ModelCar image layers);
    /// the rest of the image is not part of the model.
    ModelsDir,
}

/// How a tar layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd (refused: no decoder here).
    Zstd,
}

/// What a layer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerKind {
    /// One file, whose bytes are the blob (its digest is the file's SHA-256).
    Raw {
        /// The file's resource name.
        name: String,
    },
    /// A tar archive of files.
    Tar {
        /// How it is compressed.
        compression: Compression,
        /// Where the model files are in it.
        root: TarRoot,
    },
}

/// One layer of a model manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The layer's descriptor.
    pub descriptor: Descriptor,
    /// What it holds.
    pub kind: LayerKind,
}

/// The model a manifest describes.
#[derive(Debug, Clone)]
pub struct ModelLayout {
    /// The layers, in manifest order.
    pub layers: Vec<Layer>,
}

/// The member names of the OCI image-spec types (manifest, index,
/// descriptor, platform), as their JSON tags spell them.
const OCI_FIELDS: &[&str] = &[
    "schemaVersion",
    "mediaType",
    "artifactType",
    "config",
    "layers",
    "manifests",
    "subject",
    "annotations",
    "digest",
    "size",
    "urls",
    "data",
    "platform",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
];

/// A name as Go's `encoding/json` compares it with a struct field's tag:
/// Unicode simple case folding (so `Digest`, `DIGEST` and `digeſt` are all
/// `digest`; the Kelvin sign is a `k`).
fn go_fold(name: &str) -> String {
    name.chars()
        .flat_map(char::to_uppercase)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Refuses an object that Go programs would read differently: two members
/// whose names are equal but for case (Go takes the last one for the
/// field), or a member that Go reads as an OCI field it does not spell
/// exactly (Go matches names case-insensitively; this reader does not).
/// Annotation maps are maps in Go too (exact keys) and are not folded.
fn check_go_fields(value: &serde_json::Value, path: &str) -> Result<(), OciJsonError> {
    match value {
        serde_json::Value::Object(map) => {
            let mut seen: BTreeMap<String, &str> = BTreeMap::new();
            for (key, member) in map {
                let folded = go_fold(key);
                if let Some(earlier) = seen.insert(folded.clone(), key) {
                    return Err(OciJsonError::OneFieldToGo {
                        path: path.to_string(),
                        earlier: earlier.to_string(),
                        key: key.clone(),
                    });
                }
                if !OCI_FIELDS.contains(&key.as_str())
                    && let Some(field) = OCI_FIELDS.iter().find(|f| go_fold(f) == folded)
                {
                    return Err(OciJsonError::OtherFieldToGo {
                        path: path.to_string(),
                        key: key.clone(),
                        field,
                    });
                }
                if key != "annotations" {
                    check_go_fields(member, &format!("{path}.{key}"))?;
                }
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_go_fields(item, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

/// Reads an OCI manifest or index as this crate and the Go programs that
/// pull images (containerd, CRI-O, podman, skopeo, oras) would both read
/// it: strict JSON (no repeated member) and nothing Go would read as a
/// different field ([`check_go_fields`]).
pub(crate) fn from_oci_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, OciJsonError> {
    let value: serde_json::Value = crate::json::from_slice(bytes)?;
    check_go_fields(&value, "$")?;
    Ok(serde_json::from_value(value)?)
}

/// Why bytes are not an OCI manifest or index read alike here and by Go
/// ([`from_oci_json`]). Callers put it in their own [`OciError`] with
/// what they were reading.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OciJsonError {
    /// Not strict JSON (a repeated member, nested too deep, a syntax
    /// error).
    #[error(transparent)]
    Strict(#[from] crate::json::StrictJsonError),
    /// Two members of an object whose names differ only in case.
    #[error(
        "{path}: members {earlier:?} and {key:?} are one field to Go's encoding/json (it matches names case-insensitively and takes the last)"
    )]
    OneFieldToGo {
        /// The object's JSON path.
        path: String,
        /// The member met first.
        earlier: String,
        /// The member met second.
        key: String,
    },
    /// A member that Go reads as an OCI field spelt otherwise.
    #[error("{path}: member {key:?} is read as {field:?} by Go's encoding/json, but not here")]
    OtherFieldToGo {
        /// The object's JSON path.
        path: String,
        /// The member as written.
        key: String,
        /// The OCI field Go reads it as.
        field: &'static str,
    },
    /// Strict JSON that is not of the expected shape (serde's reason).
    #[error(transparent)]
    Shape(#[from] serde_json::Error),
}

/// Reads the manifest `bytes` (of `digest`) as a model.
pub fn parse_model_manifest(
    bytes: &[u8],
    header_type: Option<&str>,
    digest: &str,
) -> Result<ModelLayout, OciError> {
    let bad = |reason: String| OciError::Manifest {
        digest: digest.to_string(),
        reason,
    };
    let manifest: ImageManifest = from_oci_json(bytes).map_err(|e| {
        // An index has no config: say so rather than "missing field".
        if is_index(bytes, header_type) {
            bad("an image index, not a manifest; name one of its manifests by digest".into())
        } else {
            bad(format!("not an image manifest: {e}"))
        }
    })?;
    if is_index(bytes, header_type) {
        return Err(bad(
            "an image index, not a manifest; name one of its manifests by digest".into(),
        ));
    }
    if manifest.schema_version != 2 {
        return Err(bad(format!(
            "schemaVersion {} (only 2 is read)",
            manifest.schema_version
        )));
    }
    let declared = manifest.media_type.as_deref();
    if let (Some(d), Some(h)) = (declared, header_type)
        && d != h
        && h != "application/json"
    {
        return Err(bad(format!(
            "the manifest says it is {d} but was served as {h}"
        )));
    }
    if let Some(t) = declared.or(header_type)
        && t != MANIFEST_MEDIA_TYPE
        && t != DOCKER_MANIFEST_MEDIA_TYPE
        && t != "application/json"
    {
        return Err(bad(format!("media type {t} is not an image manifest")));
    }
    if manifest.layers.len() > MAX_LAYERS {
        return Err(bad(format!("more than {MAX_LAYERS} layers")));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for d in manifest.layers {
        super::reference::check_digest(&d.digest).map_err(|e| bad(e.to_string()))?;
        // oras extracts a layer so annotated as a directory, where this
        // verifier signs one file.
        if d.annotations.contains_key(UNPACK_ANNOTATION) {
            return Err(bad(format!(
                "layer {} asks clients to unpack it ({UNPACK_ANNOTATION}): a client that does writes files this verification did not read",
                d.digest
            )));
        }
        let kind = classify(&d)?;
        // oras writes a ModelPack tar layer with a title as a file of that
        // name (the tar's bytes), which nothing here reads as such.
        if matches!(
            kind,
            LayerKind::Tar {
                root: TarRoot::Model,
                ..
            }
        ) && d.annotations.contains_key(TITLE_ANNOTATION)
        {
            return Err(bad(format!(
                "tar layer {} has a title ({TITLE_ANNOTATION}): a client that writes layers by title would write its bytes as that file",
                d.digest
            )));
        }
        layers.push(Layer {
            descriptor: d,
            kind,
        });
    }
    if layers.is_empty() {
        return Err(bad("the manifest has no layers".into()));
    }
    // A container image holds container layers only: CRI-O and podman
    // unpack every layer of an image into its filesystem, whatever its
    // type, so a model layer beside image layers would land there unread
    // as one.
    let image = layers.iter().any(|l| {
        matches!(
            l.kind,
            LayerKind::Tar {
                root: TarRoot::ModelsDir,
                ..
            }
        )
    });
    if image
        && let Some(other) = layers.iter().find(|l| {
            !matches!(
                l.kind,
                LayerKind::Tar {
                    root: TarRoot::ModelsDir,
                    ..
                }
            )
        })
    {
        return Err(bad(format!(
            "a container image with a layer of another kind ({}): runtimes that unpack every layer would put it in the image's filesystem",
            other.descriptor.media_type
        )));
    }
    Ok(ModelLayout { layers })
}

fn is_index(bytes: &[u8], header_type: Option<&str>) -> bool {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let index_type = |t: &str| t == INDEX_MEDIA_TYPE || t == DOCKER_LIST_MEDIA_TYPE;
    if header_type.is_some_and(index_type) {
        return true;
    }
    serde_json::from_slice::<Probe>(bytes)
        .map(|p| p.manifests.is_some() || p.media_type.as_deref().is_some_and(index_type))
        .unwrap_or(false)
}

/// The annotation by which oras extracts a layer as a directory.
const UNPACK_ANNOTATION: &str = "io.deis.oras.content.unpack";

/// Decides what a layer holds from its media type, as loaders do.
fn classify(d: &Descriptor) -> Result<LayerKind, OciError> {
    let t = d.media_type.as_str();
    let tar = |compression, root| Ok(LayerKind::Tar { compression, root });
    // Container image layers (ModelCar): the model is under /models/.
    match t {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => {
            return tar(Compression::None, TarRoot::ModelsDir);
        }
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            return tar(Compression::Gzip, TarRoot::ModelsDir);
        }
        "application/vnd.oci.image.layer.v1.tar+zstd" => {
            return tar(Compression::Zstd, TarRoot::ModelsDir);
        }
        _ => {}
    }
    if let Some(rest) = t.strip_prefix("application/vnd.cncf.model.") {
        if rest.ends_with(".tar") {
            return tar(Compression::None, TarRoot::Model);
        }
        if rest.ends_with(".tar+gzip") {
            return tar(Compression::Gzip, TarRoot::Model);
        }
        if rest.ends_with(".tar+zstd") {
            return tar(Compression::Zstd, TarRoot::Model);
        }
    }
    // A type container runtimes unpack as a layer is never a raw file
    // here: containerd applies `application/vnd.oci.image.layer.v1.tar+x.raw`
    // as a tar, whatever its suffix says.
    let runtime_layer = t.starts_with("application/vnd.oci.image.layer.")
        || t.starts_with("application/vnd.docker.image.rootfs.")
        || t.starts_with("application/vnd.erofs.layer");
    if runtime_layer || (t.contains("tar") && !t.ends_with(".raw")) {
        return Err(OciError::Manifest {
            digest: d.digest.clone(),
            reason: format!("layer media type {t} is not one modelseal reads"),
        });
    }
    // A raw file: named by its annotations.
    let name = d
        .annotations
        .get(FILEPATH_ANNOTATION)
        .or_else(|| d.annotations.get(TITLE_ANNOTATION))
        .ok_or_else(|| OciError::Manifest {
            digest: d.digest.clone(),
            reason: format!(
                "layer of media type {t} has no {FILEPATH_ANNOTATION} or {TITLE_ANNOTATION} annotation to name its file"
            ),
        })?;
    let name = safe_name(name).map_err(|reason| OciError::UnsafeName {
        layer: d.digest.clone(),
        name: name.clone(),
        reason: reason.to_string(),
    })?;
    // oras and other clients write a raw layer to the file its title names:
    // with a filepath too, the title must be a safe name for the same file
    // (the path itself or its last component), or a pull of the verified
    // digest writes the signed bytes under another name.
    if let (Some(title), Some(_)) = (
        d.annotations.get(TITLE_ANNOTATION),
        d.annotations.get(FILEPATH_ANNOTATION),
    ) {
        let unsafe_title = |reason: String| OciError::UnsafeName {
            layer: d.digest.clone(),
            name: title.clone(),
            reason,
        };
        let title = safe_name(title).map_err(|r| unsafe_title(format!("title: {r}")))?;
        let last = name.rsplit('/').next().unwrap_or(&name);
        if title != name && title != last {
            return Err(unsafe_title(format!(
                "the title names another file than the filepath {name:?} (a client that writes by title would put the signed bytes there)"
            )));
        }
    }
    Ok(LayerKind::Raw { name })
}

/// A file name that is safe to sign and to write under a directory:
/// relative, no `..`, no empty or `.` components (a leading `./` is
/// dropped), UTF-8, no NUL, no control characters.
pub fn safe_name(name: &str) -> Result<String, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.starts_with('/') {
        return Err(NameError::Absolute);
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(NameError::ControlCharacter);
    }
    let trimmed = name.strip_prefix("./").unwrap_or(name);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            ".." => return Err(NameError::ParentDir),
            "" | "." => return Err(NameError::EmptyComponent),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(NameError::Root);
    }
    Ok(parts.join("/"))
}

/// Why [`safe_name`] refuses a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("empty")]
    Empty,
    /// It starts with `/`.
    #[error("absolute path")]
    Absolute,
    /// It holds a control character (NUL, newline, ...).
    #[error("control character in the name")]
    ControlCharacter,
    /// A `..` component would leave the model root.
    #[error("`..` leaves the model root")]
    ParentDir,
    /// An empty (`a//b`) or `.` component past a leading `./`.
    #[error("empty or `.` path component")]
    EmptyComponent,
    /// It names the model root itself.
    #[error("names the root")]
    Root,
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest(layers: &str) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_MEDIA_TYPE}","artifactType":"application/vnd.cncf.model.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"{D}","size":0}},
            "layers":[{layers}]}}"#
        )
        .into_bytes()
    }

    fn layer(media_type: &str, annotations: &str) -> String {
        format!(
            r#"{{"mediaType":"{media_type}","digest":"{D}","size":0,"annotations":{{{annotations}}}}}"#
        )
    }

    #[test]
    fn names_raw_layers_by_filepath_then_title() {
        let bytes = manifest(&format!(
            "{},{},{}",
            layer(
                "application/vnd.cncf.model.weight.v1.raw",
                r#""org.cncf.model.filepath":"sub/model.safetensors","org.opencontainers.image.title":"model.safetensors""#
            ),
            layer(
                "application/vnd.cncf.model.doc.v1.raw",
                r#""org.opencontainers.image.title":"README.md""#
            ),
            layer("application/vnd.cncf.model.weight.v1.tar+gzip", ""),
        ));
        let layout = parse_model_manifest(&bytes, Some(MANIFEST_MEDIA_TYPE), D).unwrap();
        let kinds: Vec<_> = layout.layers.iter().map(|l| l.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                LayerKind::Raw {
                    name: "sub/model.safetensors".into()
                },
                LayerKind::Raw {
                    name: "README.md".into()
                },
                LayerKind::Tar {
                    compression: Compression::Gzip,
                    root: TarRoot::Model
                },
            ]
        );
    }

    /// oras writes a raw layer by its title: a title that is unsafe, or
    /// names another file than the filepath, refuses the manifest.
    #[test]
    fn a_title_must_name_the_filepath_file() {
        for (title, ok) in [
            ("model.safetensors", true),
            ("sub/model.safetensors", true),
            ("modeling_llama.py", false),
            ("../../x", false),
            ("/abs", false),
            ("model.safetensors\nx", false),
            ("other/model.safetensors", false),
        ] {
            let bytes = manifest(&layer(
                "application/vnd.cncf.model.weight.v1.raw",
                &format!(
                    r#""org.cncf.model.filepath":"sub/model.safetensors","org.opencontainers.image.title":{}"#,
                    serde_json::to_string(title).unwrap()
                ),
            ));
            let got = parse_model_manifest(&bytes, None, D);
            assert_eq!(got.is_ok(), ok, "{title:?}: {got:?}");
            if let Err(e) = got {
                assert!(matches!(e, OciError::UnsafeName { .. }), "{title:?}: {e}");
            }
        }
    }

    #[test]
    fn refuses_unsafe_names_indexes_and_unknown_layers() {
        for name in ["/etc/passwd", "../x", "a/../../x", "a//b", "", "a\nb"] {
            let bytes = manifest(&layer(
                "application/vnd.cncf.model.weight.v1.raw",
                &format!(
                    r#""org.cncf.model.filepath":{}"#,
                    serde_json::to_string(name).unwrap()
                ),
            ));
            let err = parse_model_manifest(&bytes, None, D).unwrap_err();
            assert!(matches!(err, OciError::UnsafeName { .. }), "{name}: {err}");
        }
        let unnamed = manifest(&layer("application/vnd.cncf.model.weight.v1.raw", ""));
        assert!(parse_model_manifest(&unnamed, None, D).is_err());
        let index =
            format!(r#"{{"schemaVersion":2,"mediaType":"{INDEX_MEDIA_TYPE}","manifests":[]}}"#);
        let err = parse_model_manifest(index.as_bytes(), Some(INDEX_MEDIA_TYPE), D).unwrap_err();
        assert!(err.to_string().contains("image index"), "{err}");
        let odd = manifest(&layer(
            "application/x-tar-something",
            r#""org.opencontainers.image.title":"x""#,
        ));
        assert!(parse_model_manifest(&odd, None, D).is_err());
        // Types a runtime applies as layers are never raw files here,
        // whatever their suffix (containerd unpacks `...tar+x.raw`).
        for runtime in [
            "application/vnd.oci.image.layer.v1.tar+x.raw",
            "application/vnd.oci.image.layer.nondistributable.v1.raw",
            "application/vnd.docker.image.rootfs.foreign.diff.raw",
            "application/vnd.erofs.layer.v1",
        ] {
            let bytes = manifest(&layer(
                runtime,
                r#""org.opencontainers.image.title":"README.md""#,
            ));
            let err = parse_model_manifest(&bytes, None, D).unwrap_err();
            assert!(
                err.to_string().contains("not one modelseal reads"),
                "{runtime}: {err}"
            );
        }
        // A container image with a model layer beside its image layers
        // (CRI-O unpacks both into the filesystem), a layer oras would
        // unpack, and a titled ModelPack tar layer are refused.
        let mixed = manifest(&format!(
            "{},{}",
            layer("application/vnd.oci.image.layer.v1.tar", ""),
            layer(
                "application/vnd.cncf.model.weight.v1.raw",
                r#""org.opencontainers.image.title":"embeddings.npy""#
            )
        ));
        let err = parse_model_manifest(&mixed, None, D).unwrap_err();
        assert!(err.to_string().contains("a layer of another kind"), "{err}");
        let unpack = manifest(&layer(
            "application/vnd.cncf.model.weight.v1.raw",
            r#""org.opencontainers.image.title":"extra","io.deis.oras.content.unpack":"true""#,
        ));
        let err = parse_model_manifest(&unpack, None, D).unwrap_err();
        assert!(err.to_string().contains("unpack"), "{err}");
        let titled = manifest(&layer(
            "application/vnd.cncf.model.weight.v1.tar",
            r#""org.opencontainers.image.title":"chat_template.jinja""#,
        ));
        let err = parse_model_manifest(&titled, None, D).unwrap_err();
        assert!(err.to_string().contains("has a title"), "{err}");
        let dup_keys = br#"{"schemaVersion":2,"schemaVersion":2,"config":{},"layers":[]}"#;
        assert!(parse_model_manifest(dup_keys, None, D).is_err());
        assert_eq!(safe_name("./a/b/").unwrap(), "a/b");
    }

    #[test]
    fn names_and_go_fields_are_refused_in_the_words_they_always_were() {
        for (name, error, message) in [
            ("", NameError::Empty, "empty"),
            ("/etc/passwd", NameError::Absolute, "absolute path"),
            (
                "a\nb",
                NameError::ControlCharacter,
                "control character in the name",
            ),
            (
                "a/../../x",
                NameError::ParentDir,
                "`..` leaves the model root",
            ),
            (
                "a//b",
                NameError::EmptyComponent,
                "empty or `.` path component",
            ),
            (
                "./",
                NameError::EmptyComponent,
                "empty or `.` path component",
            ),
        ] {
            assert_eq!(safe_name(name), Err(error), "{name:?}");
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(NameError::Root.to_string(), "names the root");
        let twice = br#"{"layers":[{"x":{"foo":1,"FOO":2}}]}"#;
        let err = from_oci_json::<serde_json::Value>(twice).unwrap_err();
        assert!(
            matches!(&err, OciJsonError::OneFieldToGo { path, earlier, key }
                if path == "$.layers[0].x" && earlier == "FOO" && key == "foo"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            r#"$.layers[0].x: members "FOO" and "foo" are one field to Go's encoding/json (it matches names case-insensitively and takes the last)"#
        );
        let other = br#"{"Layers":[]}"#;
        let err = from_oci_json::<serde_json::Value>(other).unwrap_err();
        assert!(
            matches!(
                &err,
                OciJsonError::OtherFieldToGo {
                    field: "layers",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            r#"$: member "Layers" is read as "layers" by Go's encoding/json, but not here"#
        );
        let repeated = br#"{"a":1,"a":2}"#;
        assert!(matches!(
            from_oci_json::<serde_json::Value>(repeated),
            Err(OciJsonError::Strict(_))
        ));
        let shape = from_oci_json::<ImageManifest>(b"{}").unwrap_err();
        assert!(matches!(shape, OciJsonError::Shape(_)), "{shape:?}");
    }
}
