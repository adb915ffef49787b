//! Where an object names a model: image volumes and model-carrier
//! containers of a Pod, and every storage location of a KServe
//! InferenceService.

use serde_json::Value;

/// The Pod annotation that names, comma-separated, the containers whose
/// image carries a model (a ModelCar): they are judged as models.
pub const MODEL_CONTAINERS: &str = "modelseal.dev/model-containers";

/// The annotation KServe's pod mutator reads to inject a storage
/// initializer or a modelcar container for a model URI; set on an
/// InferenceService (or one of its components) it reaches the Pods.
pub const KSERVE_SOURCE_URI: &str = "internal.serving.kserve.io/storage-initializer-sourceuri";

/// Containers KServe injects to carry a model: judged as model carriers
/// whatever the annotation says.
const KSERVE_CARRIERS: [&str; 2] = ["modelcar", "modelcar-init"];

/// The init container KServe injects to download a model: its first
/// argument is the model's URI.
const KSERVE_INITIALIZER: &str = "storage-initializer";

/// The most model locations one object may name (each is verified and
/// recorded).
pub const MAX_LOCATIONS: usize = 32;

/// URI schemes that name a model in an OCI registry (KServe's modelcar
/// and its image-volume form).
const OCI_SCHEMES: [&str; 2] = ["oci://", "oci+native://"];

/// The longest image reference read.
const MAX_IMAGE_REF: usize = 1024;

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
    pub fn parse(text: &str) -> Result<Self, ImageRefError> {
        let bad = |reason| {
            Err(ImageRefError {
                text: text.to_string(),
                reason,
            })
        };
        if text.is_empty() || text.len() > MAX_IMAGE_REF {
            return bad(ImageRefProblem::Length);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@+".contains(&b))
        {
            return bad(ImageRefProblem::Characters);
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest.strip_prefix("sha256:");
                if !hex.is_some_and(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                }) {
                    return bad(ImageRefProblem::Digest);
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
            return bad(ImageRefProblem::Repository);
        }
        if tag.as_ref().is_some_and(|t| {
            t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        }) {
            return bad(ImageRefProblem::Tag);
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

/// Why text is not an image reference ([`ImageRef::parse`]): the text,
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an image reference: {reason}")]
#[non_exhaustive]
pub struct ImageRefError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    #[source]
    pub reason: ImageRefProblem,
}

/// What is wrong with an image reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRefProblem {
    /// Empty, or longer than any reference (1024 bytes).
    #[error("empty or too long")]
    Length,
    /// A character no reference has (only ASCII letters, digits and
    /// `._-/:@+`).
    #[error("it has characters no reference has")]
    Characters,
    /// The digest is not `sha256:` and 64 lowercase hex digits.
    #[error("the digest is not sha256:<64 lowercase hex digits>")]
    Digest,
    /// The repository is not lowercase components.
    #[error("the repository name is not lowercase components")]
    Repository,
    /// The tag is empty, longer than 128 characters or has other
    /// characters than ASCII letters, digits and `._-`.
    #[error("the tag is malformed")]
    Tag,
}

/// What a location names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A model in an OCI registry.
    Oci(ImageRef),
    /// A location the webhook cannot verify (`s3://`, a `storage` block).
    Other(String),
    /// Not readable as a location at all.
    Invalid(ImageRefError),
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
    /// How it is written: a bare image reference (empty) or a URI
    /// scheme (`oci://`).
    pub scheme: String,
    /// What it names.
    pub target: Target,
}

impl Location {
    /// The text that pins this location to `digest`.
    pub fn pinned_text(&self, image: &ImageRef, digest: &str) -> String {
        format!("{}{}", self.scheme, image.pinned(digest))
    }
}

/// Why an object cannot be judged (a 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocateError {
    /// A kind the webhook does not judge.
    #[error("the webhook does not judge {0} objects")]
    UnknownKind(String),
    /// More locations than [`MAX_LOCATIONS`].
    #[error("the object names {0} model locations; at most {MAX_LOCATIONS} are judged")]
    TooMany(usize),
    /// The object is not what its kind says.
    #[error("malformed {kind}: {why}")]
    Malformed {
        /// The kind.
        kind: String,
        /// What is wrong.
        why: String,
    },
}

/// The model locations of `object`, of kind `group/version/kind`;
/// `carriers` names more containers that carry a model (those an older
/// version of the object named).
pub fn locations(
    group: &str,
    version: &str,
    kind: &str,
    object: &Value,
    carriers: &[String],
) -> Result<Vec<Location>, LocateError> {
    let found = match (group, version, kind) {
        ("", "v1", "Pod") => pod(object, carriers)?,
        ("serving.kserve.io", "v1beta1", "InferenceService")
        | ("serving.kserve.io", "v1alpha1", "TrainedModel") => inference_service(object)?,
        ("serving.kserve.io", "v1alpha1", "LLMInferenceService") => llm_inference_service(object)?,
        _ => {
            return Err(LocateError::UnknownKind(format!(
                "{group}/{version} {kind}"
            )));
        }
    };
    if found.len() > MAX_LOCATIONS {
        return Err(LocateError::TooMany(found.len()));
    }
    Ok(found)
}

/// The containers a Pod's annotation names as model carriers.
pub fn carriers(object: &Value) -> Result<Vec<String>, LocateError> {
    let Some(value) = object.pointer(&format!(
        "/metadata/annotations/{}",
        escape_pointer(MODEL_CONTAINERS)
    )) else {
        return Ok(Vec::new());
    };
    let text = value.as_str().ok_or_else(|| {
        malformed(
            "Pod",
            format!("the {MODEL_CONTAINERS} annotation is not text"),
        )
    })?;
    Ok(text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

fn malformed(kind: &str, why: impl Into<String>) -> LocateError {
    LocateError::Malformed {
        kind: kind.into(),
        why: why.into(),
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A bare image reference (a Pod's image volume or container).
fn image_location(field: String, pointer: String, text: &str) -> Location {
    let target = match ImageRef::parse(text) {
        Ok(r) => Target::Oci(r),
        Err(e) => Target::Invalid(e),
    };
    Location {
        field,
        pointer,
        text: text.to_string(),
        scheme: String::new(),
        target,
    }
}

/// A model URI (KServe's `storageUri` and kin): `oci://` (and KServe's
/// `oci+native://`) names a registry model; anything else cannot be
/// verified here.
fn uri_location(field: String, pointer: String, text: &str) -> Location {
    let oci = OCI_SCHEMES
        .iter()
        .find_map(|scheme| text.strip_prefix(scheme).map(|rest| (*scheme, rest)));
    let (scheme, target) = match oci {
        Some((scheme, rest)) => (
            scheme.to_string(),
            match ImageRef::parse(rest) {
                Ok(r) => Target::Oci(r),
                Err(e) => Target::Invalid(e),
            },
        ),
        None => (String::new(), Target::Other(text.to_string())),
    };
    Location {
        field,
        pointer,
        text: text.to_string(),
        scheme,
        target,
    }
}

/// The KServe source-URI annotation among `annotations` (at `field` and
/// `pointer`), as a location.
fn source_uri(
    annotations: Option<&Value>,
    field: &str,
    pointer: &str,
    found: &mut Vec<Location>,
) -> Result<(), LocateError> {
    let Some(value) = annotations.and_then(|a| a.get(KSERVE_SOURCE_URI)) else {
        return Ok(());
    };
    let uri = value.as_str().ok_or_else(|| {
        malformed(
            "object",
            format!("{field}[{KSERVE_SOURCE_URI}] is not text"),
        )
    })?;
    found.push(uri_location(
        format!("{field}[{KSERVE_SOURCE_URI}]"),
        format!("{pointer}/{}", escape_pointer(KSERVE_SOURCE_URI)),
        uri,
    ));
    Ok(())
}

fn pod(object: &Value, more_carriers: &[String]) -> Result<Vec<Location>, LocateError> {
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
            ));
        }
    }
    source_uri(
        object.pointer("/metadata/annotations"),
        "metadata.annotations",
        "/metadata/annotations",
        &mut found,
    )?;
    let named = carriers(object)?;
    let mut seen = std::collections::BTreeSet::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = spec.get(list) else {
            continue;
        };
        let containers = containers
            .as_array()
            .ok_or_else(|| malformed("Pod", format!("spec.{list} is not a list")))?;
        for (i, c) in containers.iter().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            if name == KSERVE_INITIALIZER
                && let Some(uri) = c.pointer("/args/0").and_then(Value::as_str)
            {
                found.push(uri_location(
                    format!("spec.{list}[{i}].args[0]"),
                    format!("/spec/{list}/{i}/args/0"),
                    uri,
                ));
            }
            let carrier = named.iter().chain(more_carriers).any(|n| n == name)
                || KSERVE_CARRIERS.contains(&name);
            if !carrier {
                continue;
            }
            seen.insert(name.to_string());
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
            ));
        }
    }
    if let Some(missing) = named.iter().find(|n| !seen.contains(*n)) {
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
/// variable, the source-URI annotation): every one anywhere in the object
/// is found, so that a place this webhook was not told of cannot carry an
/// unverified model past it.
fn inference_service(object: &Value) -> Result<Vec<Location>, LocateError> {
    let spec = object
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| malformed("InferenceService", "no spec"))?;
    let mut found = Vec::new();
    source_uri(
        object.pointer("/metadata/annotations"),
        "metadata.annotations",
        "/metadata/annotations",
        &mut found,
    )?;
    walk(spec, "spec", "/spec", &mut found, 0)?;
    Ok(found)
}

/// KServe's LLMInferenceService names its model at `spec.model.uri`
/// (`hf://`, `oci://`, `pvc://`, `s3://`), besides the places every KServe
/// object may carry one.
fn llm_inference_service(object: &Value) -> Result<Vec<Location>, LocateError> {
    let mut found = inference_service(object)?;
    match object.pointer("/spec/model/uri") {
        Some(Value::String(uri)) => found.push(uri_location(
            "spec.model.uri".into(),
            "/spec/model/uri".into(),
            uri,
        )),
        None | Some(Value::Null) => {}
        Some(_) => {
            return Err(malformed(
                "LLMInferenceService",
                "spec.model.uri is not text",
            ));
        }
    }
    Ok(found)
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
                    ("storageUri", Value::String(s)) => found.push(uri_location(field, pointer, s)),
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
                        scheme: String::new(),
                        target: Target::Other(
                            "a KServe storage block (a location read from a storage secret)".into(),
                        ),
                    }),
                    ("storageUris", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            let field = format!("{field}[{i}]");
                            let pointer = format!("{pointer}/{i}");
                            match (item.as_str(), item.get("uri").and_then(Value::as_str)) {
                                (Some(uri), _) => found.push(uri_location(field, pointer, uri)),
                                (None, Some(uri)) => found.push(uri_location(
                                    format!("{field}.uri"),
                                    format!("{pointer}/uri"),
                                    uri,
                                )),
                                (None, None) => {
                                    return Err(malformed(
                                        "InferenceService",
                                        format!("{field} names no uri"),
                                    ));
                                }
                            }
                        }
                    }
                    ("annotations", Value::Object(_)) => {
                        source_uri(Some(v), &field, &pointer, found)?;
                    }
                    ("env", Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if item.get("name").and_then(Value::as_str) != Some("STORAGE_URI") {
                                continue;
                            }
                            let field = format!("{field}[{i}].value");
                            match item.get("value").and_then(Value::as_str) {
                                Some(uri) => found.push(uri_location(
                                    field,
                                    format!("{pointer}/{i}/value"),
                                    uri,
                                )),
                                None => found.push(Location {
                                    text: item.to_string(),
                                    field,
                                    pointer: format!("{pointer}/{i}"),
                                    scheme: String::new(),
                                    target: Target::Other(
                                        "STORAGE_URI taken from elsewhere (valueFrom)".into(),
                                    ),
                                }),
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
        for (text, reason, message) in [
            ("", ImageRefProblem::Length, "empty or too long"),
            (
                "a b",
                ImageRefProblem::Characters,
                "it has characters no reference has",
            ),
            (
                "r.example/m@md5:aa",
                ImageRefProblem::Digest,
                "the digest is not sha256:<64 lowercase hex digits>",
            ),
            (
                "Reg/Upper",
                ImageRefProblem::Repository,
                "the repository name is not lowercase components",
            ),
            ("r.example/m:", ImageRefProblem::Tag, "the tag is malformed"),
        ] {
            let err = ImageRef::parse(text).unwrap_err();
            assert_eq!((err.text.as_str(), err.reason), (text, reason));
            assert_eq!(
                err.to_string(),
                format!("{text:?} is not an image reference: {message}")
            );
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
        let found = locations("", "v1", "Pod", &pod, &[]).unwrap();
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
        assert!(locations("", "v1", "Pod", &missing, &[]).is_err());
        assert!(matches!(
            locations("apps", "v1", "Deployment", &pod, &[]),
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
        let found = locations(
            "serving.kserve.io",
            "v1beta1",
            "InferenceService",
            &isvc,
            &[],
        )
        .unwrap();
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

    /// KServe's other model kinds: a TrainedModel's `spec.model.storageUri`
    /// and an LLMInferenceService's `spec.model.uri`.
    #[test]
    fn trained_models_and_llm_inference_services_name_models_too() {
        let trained = json!({"spec": {"inferenceService": "iris", "model": {"framework": "sklearn", "storageUri": "gs://b/m", "memory": "1Gi"}}});
        let found = locations(
            "serving.kserve.io",
            "v1alpha1",
            "TrainedModel",
            &trained,
            &[],
        )
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "spec.model.storageUri");
        let llm = json!({"spec": {"model": {"uri": "oci://r.example/llm@sha256:".to_string() + &"c".repeat(64), "name": "llm"}}});
        let found = locations(
            "serving.kserve.io",
            "v1alpha1",
            "LLMInferenceService",
            &llm,
            &[],
        )
        .unwrap();
        assert_eq!(found.len(), 1);
        assert!(matches!(found[0].target, Target::Oci(_)));
    }

    /// What KServe's own machinery turns into a model load: its source-URI
    /// annotation (on the object, on a component, on a Pod), the modelcar
    /// containers and the storage initializer it injects, `oci+native://`.
    #[test]
    fn kserve_injection_paths_are_locations_too() {
        let uri = "oci://evil.example/backdoor:latest";
        let isvc = json!({
            "metadata": {"annotations": {KSERVE_SOURCE_URI: uri}},
            "spec": {"predictor": {"annotations": {KSERVE_SOURCE_URI: uri},
                                   "model": {"storageUri": "oci+native://r.example/m:1"}}}
        });
        let found = locations(
            "serving.kserve.io",
            "v1beta1",
            "InferenceService",
            &isvc,
            &[],
        )
        .unwrap();
        let fields: Vec<_> = found.iter().map(|l| l.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.annotations[internal.serving.kserve.io/storage-initializer-sourceuri]",
                "spec.predictor.annotations[internal.serving.kserve.io/storage-initializer-sourceuri]",
                "spec.predictor.model.storageUri"
            ]
        );
        assert!(found.iter().all(|l| matches!(l.target, Target::Oci(_))));
        assert_eq!(found[2].scheme, "oci+native://");
        assert_eq!(
            found[0].pointer,
            "/metadata/annotations/internal.serving.kserve.io~1storage-initializer-sourceuri"
        );
        let pod = json!({
            "metadata": {"annotations": {KSERVE_SOURCE_URI: "s3://b/m"}},
            "spec": {
                "initContainers": [{"name": "storage-initializer", "image": "kserve/init:1", "args": ["gs://b/m", "/mnt/models"]}],
                "containers": [{"name": "kserve-container", "image": "app:1"}, {"name": "modelcar", "image": "r.example/m:1"}]
            }
        });
        let fields: Vec<_> = locations("", "v1", "Pod", &pod, &[])
            .unwrap()
            .into_iter()
            .map(|l| l.field)
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.annotations[internal.serving.kserve.io/storage-initializer-sourceuri]",
                "spec.initContainers[0].args[0]",
                "spec.containers[1].image"
            ]
        );
        // Carriers an older version named stay carriers.
        let plain = json!({"spec": {"containers": [{"name": "m", "image": "r.example/x:1"}]}});
        assert!(locations("", "v1", "Pod", &plain, &[]).unwrap().is_empty());
        assert_eq!(
            locations("", "v1", "Pod", &plain, &["m".into()])
                .unwrap()
                .len(),
            1
        );
        let many = json!({"spec": {"volumes": (0..40).map(|i| json!({"name": format!("v{i}"), "image": {"reference": "r.example/m:1"}})).collect::<Vec<_>>()}});
        assert_eq!(
            locations("", "v1", "Pod", &many, &[]),
            Err(LocateError::TooMany(40))
        );
    }
}
