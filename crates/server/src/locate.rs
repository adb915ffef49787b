//! Where an object names a model: image volumes and model-carrier
//! containers of a Pod, and every storage location of a KServe
//! InferenceService.

use serde_json::Value;

/// The Pod annotation that names, comma-separated, the containers whose
/// image carries a model (a ModelCar): they are judged as models.
pub const MODEL_CONTAINERS: &str = "modelseal.dev/model-containers";

/// An OCI image reference, with Docker's defaults made explicit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// `library/ubuntu`.
    pub repository: String,
    /// The tag, if named.
    pub tag: Option<String>,
    /// `sha256:HEX`, if named.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Reads a reference as Kubernetes names images (`repo:tag`,
    /// `host/repo@sha256:...`; a first part without a dot, a colon or
    /// `localhost` is a Docker Hub repository).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| Err(format!("{text:?} is not an image reference: {why}"));
        if text.is_empty() || text.len() > 1024 {
            return bad("empty or too long");
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@+".contains(&b))
        {
            return bad("it has characters no reference has");
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest.strip_prefix("sha256:");
                if !hex.is_some_and(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                }) {
                    return bad("the digest is not sha256:<64 lowercase hex digits>");
                }
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path.to_string())
            }
            Some(_) => ("docker.io".to_string(), rest.to_string()),
            None => ("docker.io".to_string(), format!("library/{rest}")),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), Some(tag.to_string())),
            _ => (path, None),
        };
        let name_ok = !repository.is_empty()
            && repository.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
                    && c.as_bytes()[0].is_ascii_alphanumeric()
            });
        if !name_ok {
            return bad("the repository name is not lowercase components");
        }
        if tag.as_ref().is_some_and(|t| {
            t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        }) {
            return bad("the tag is malformed");
        }
        if tag.is_none() && digest.is_none() {
            // Kubernetes pulls `:latest`: a tag like any other.
            return Ok(ImageRef {
                registry,
                repository,
                tag: Some("latest".into()),
                digest,
            });
        }
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The `oci://` form modelseal verifies.
    pub fn oci_uri(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => format!("oci://{}/{}@{d}", self.registry, self.repository),
            (Some(t), None) => format!("oci://{}/{}:{t}", self.registry, self.repository),
            (None, None) => format!("oci://{}/{}", self.registry, self.repository),
        }
    }

    /// The reference pinned to `digest`, as an image reference.
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry, self.repository)
    }
}

/// What a location names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A model in an OCI registry.
    Oci(ImageRef),
    /// A location the webhook cannot verify (`s3://`, a `storage` block).
    Other(String),
    /// Not readable as a location at all.
    Invalid(String),
}

/// One place an object names a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Where, for people: `spec.volumes[0].image.reference`.
    pub field: String,
    /// Where, as a JSON Pointer (for a patch).
    pub pointer: String,
    /// The text there.
    pub text: String,
    /// How it is written: a bare image reference or an `oci://` URI.
    pub uri_form: bool,
    /// What it names.
    pub target: Target,
}

impl Location {
    /// The text that pins this location to `digest`.
    pub fn pinned_text(&self, image: &ImageRef, digest: &str) -> String {
        if self.uri_form {
            format!("oci://{}", image.pinned(digest))
        } else {
            image.pinned(digest)
        }
    }
}

/// Why an object cannot be judged (a 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocateError {
    /// A kind the webhook does not judge.
    #[error("the webhook does not judge {0} objects")]
    UnknownKind(String),
    /// The object is not what its kind says.
    #[error("malformed {kind}: {why}")]
    Malformed {
        /// The kind.
        kind: String,
        /// What is wrong.
        why: String,
    },
}

/// The model locations of `object`, of kind `group/version/kind`.
pub fn locations(
    group: &str,
    version: &str,
    kind: &str,
    object: &Value,
) -> Result<Vec<Location>, LocateError> {
    match (group, version, kind) {
        ("", "v1", "Pod") => pod(object),
        ("serving.kserve.io", "v1beta1", "InferenceService") => inference_service(object),
        _ => Err(LocateError::UnknownKind(format!(
            "{group}/{version} {kind}"
        ))),
    }
}

fn malformed(kind: &str, why: impl Into<String>) -> LocateError {
    LocateError::Malformed {
        kind: kind.into(),
        why: why.into(),
    }
}

fn image_location(field: String, pointer: String, text: &str, uri_form: bool) -> Location {
    let target = if uri_form {
        match text.strip_prefix("oci://") {
            Some(rest) => match ImageRef::parse(rest) {
                Ok(r) => Target::Oci(r),
                Err(e) => Target::Invalid(e),
            },
            None => Target::Other(text.to_string()),
        }
    } else {
        match ImageRef::parse(text) {
            Ok(r) => Target::Oci(r),
            Err(e) => Target::Invalid(e),
        }
    };
    Location {
        field,
        pointer,
        text: text.to_string(),
        uri_form,
        target,
    }
}

fn pod(object: &Value) -> Result<Vec<Location>, LocateError> {
    let spec = object
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("Pod", "no spec"))?;
    let mut found = Vec::new();
    if let Some(volumes) = spec.get("volumes") {
        let volumes = volumes
            .as_array()
            .ok_or_else(|| malformed("Pod", "spec.volumes is not a list"))?;
        for (i, v) in volumes.iter().enumerate() {
            let Some(image) = v.get("image") else {
                continue;
            };
            let reference = image
                .get("reference")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    malformed("Pod", format!("spec.volumes[{i}].image has no reference"))
                })?;
            found.push(image_location(
                format!("spec.volumes[{i}].image.reference"),
                format!("/spec/volumes/{i}/image/reference"),
                reference,
                false,
            ));
        }
    }
    let carriers = object
        .pointer(&format!(
            "/metadata/annotations/{}",
            MODEL_CONTAINERS.replace('/', "~1")
        ))
        .map(|v| {
            v.as_str()
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .ok_or_else(|| {
                    malformed(
                        "Pod",
                        format!("the {MODEL_CONTAINERS} annotation is not text"),
                    )
                })
        })
        .transpose()?
        .unwrap_or_default();
    let mut named = std::collections::BTreeSet::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = spec.get(list) else {
            continue;
        };
        let containers = containers
            .as_array()
            .ok_or_else(|| malformed("Pod", format!("spec.{list} is not a list")))?;
        for (i, c) in containers.iter().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            if !carriers.iter().any(|n| n == name) {
                continue;
            }
            named.insert(name.to_string());
            let image = c.get("image").and_then(Value::as_str).ok_or_else(|| {
                malformed(
                    "Pod",
                    format!("spec.{list}[{i}] carries a model but has no image"),
                )
            })?;
            found.push(image_location(
                format!("spec.{list}[{i}].image"),
                format!("/spec/{list}/{i}/image"),
                image,
                false,
            ));
        }
    }
    if let Some(missing) = carriers.iter().find(|n| !named.contains(*n)) {
        return Err(malformed(
            "Pod",
            format!("{MODEL_CONTAINERS} names {missing:?}, which is not a container of the Pod"),
        ));
    }
    Ok(found)
}

/// KServe takes model locations in many places (the `model` field and every
/// framework field of a predictor, transformer and explainer containers,
/// `storage` blocks, `storageUris`, the `STORAGE_URI` environment
/// variable): every one anywhere under `spec` is found, so that a place
/// this webhook was not told of cannot carry an unverified model past it.
fn inference_service(object: &Value) -> Result<Vec<Location>, LocateError> {
    let spec = object
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| malformed("InferenceService", "no spec"))?;
    let mut found = Vec::new();
    walk(spec, "spec", "/spec", &mut found, 0)?;
    Ok(found)
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(
    value: &Value,
    field: &str,
    pointer: &str,
    found: &mut Vec<Location>,
    depth: usize,
) -> Result<(), LocateError> {
    if depth > 64 {
        return Err(malformed("InferenceService", "nested too deeply"));
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let field = format!("{field}.{key}");
                let pointer = format!("{pointer}/{}", escape_pointer(key));
                match (key.as_str(), v) {
                    ("storageUri", Value::String(s)) => {
                        found.push(image_location(field, pointer, s, true))
                    }
                    ("storageUri", Value::Null) => {}
                    ("storageUri", _) => {
                        return Err(malformed(
                            "InferenceService",
                            format!("{field} is not text"),
                        ));
                    }
                    ("storage", Value::Object(_)) => found.push(Location {
                        text: v.to_string(),
                        field,
                        pointer,
                        uri_form: true,
                        target: Target::Other(
                            "a KServe storage block (a location read from a storage secret)".into(),
                        ),
                    }),
                    ("storageUris", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            let uri = item
                                .as_str()
                                .or_else(|| item.get("uri").and_then(Value::as_str));
                            let field = format!("{field}[{i}]");
                            let pointer = format!("{pointer}/{i}");
                            match uri {
                                Some(uri) if item.is_string() => {
                                    found.push(image_location(field, pointer, uri, true))
                                }
                                Some(uri) => found.push(image_location(
                                    format!("{field}.uri"),
                                    format!("{pointer}/uri"),
                                    uri,
                                    true,
                                )),
                                None => {
                                    return Err(malformed(
                                        "InferenceService",
                                        format!("{field} names no uri"),
                                    ));
                                }
                            }
                        }
                    }
                    ("env", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if item.get("name").and_then(Value::as_str) == Some("STORAGE_URI") {
                                let field = format!("{field}[{i}].value");
                                match item.get("value").and_then(Value::as_str) {
                                    Some(uri) => found.push(image_location(
                                        field,
                                        format!("{pointer}/{i}/value"),
                                        uri,
                                        true,
                                    )),
                                    None => found.push(Location {
                                        text: item.to_string(),
                                        field,
                                        pointer: format!("{pointer}/{i}"),
                                        uri_form: true,
                                        target: Target::Other(
                                            "STORAGE_URI taken from elsewhere (valueFrom)".into(),
                                        ),
                                    }),
                                }
                            }
                        }
                        walk(v, &field, &pointer, found, depth + 1)?;
                    }
                    _ => walk(v, &field, &pointer, found, depth + 1)?,
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(
                    v,
                    &format!("{field}[{i}]"),
                    &format!("{pointer}/{i}"),
                    found,
                    depth + 1,
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_references_read_as_kubernetes_reads_them() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("127.0.0.1:5000/models/demo@{d}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "models/demo");
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.oci_uri(), format!("oci://127.0.0.1:5000/models/demo@{d}"));
        let r = ImageRef::parse("ubuntu").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/ubuntu", Some("latest"))
        );
        let r = ImageRef::parse("localhost:5000/m:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.tag.as_deref()),
            ("localhost:5000", Some("v1"))
        );
        let r = ImageRef::parse(&format!("reg.example/m:v1@{d}")).unwrap();
        assert_eq!(r.pinned(&d), format!("reg.example/m@{d}"));
        for bad in [
            "",
            "Reg/Upper",
            "a b",
            "r.example/m@sha256:12",
            "r.example/m:",
            "r.example//m",
            "r.example/m@md5:aa",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pods_name_models_in_image_volumes_and_marked_containers() {
        let pod = json!({
            "metadata": {"annotations": {MODEL_CONTAINERS: "model"}},
            "spec": {
                "containers": [{"name": "server", "image": "app:1"}, {"name": "model", "image": "r.example/m:2"}],
                "volumes": [{"name": "cfg", "configMap": {"name": "x"}}, {"name": "w", "image": {"reference": "r.example/w:1"}}]
            }
        });
        let found = locations("", "v1", "Pod", &pod).unwrap();
        let fields: Vec<_> = found
            .iter()
            .map(|l| (l.field.as_str(), l.pointer.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "spec.volumes[1].image.reference",
                    "/spec/volumes/1/image/reference"
                ),
                ("spec.containers[1].image", "/spec/containers/1/image")
            ]
        );
        let mut missing = pod.clone();
        missing["metadata"]["annotations"][MODEL_CONTAINERS] = json!("nope");
        assert!(locations("", "v1", "Pod", &missing).is_err());
        assert!(matches!(
            locations("apps", "v1", "Deployment", &pod),
            Err(LocateError::UnknownKind(_))
        ));
    }

    #[test]
    fn every_kserve_location_is_found() {
        let isvc = json!({"spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "oci://r.example/m:1"},
                "sklearn": {"storageUri": "s3://b/m"},
                "containers": [{"name": "c", "env": [{"name": "STORAGE_URI", "value": "gs://b/x"}]}]
            },
            "transformer": {"storage": {"key": "k", "path": "p"}},
            "explainer": {"storageUris": [{"uri": "oci://r.example/e@sha256:".to_string() + &"b".repeat(64), "mountPath": "/m"}]}
        }});
        let found = locations("serving.kserve.io", "v1beta1", "InferenceService", &isvc).unwrap();
        let fields: Vec<_> = found.iter().map(|l| l.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.explainer.storageUris[0].uri",
                "spec.predictor.containers[0].env[0].value",
                "spec.predictor.model.storageUri",
                "spec.predictor.sklearn.storageUri",
                "spec.transformer.storage"
            ]
        );
        assert!(matches!(found[2].target, Target::Oci(_)));
        assert!(matches!(found[3].target, Target::Other(_)));
        assert!(matches!(found[4].target, Target::Other(_)));
    }
}
