//! Artifacts attached to a model manifest (its signature bundles, its BOM)
//! as OCI 1.1 referrers: a manifest whose `subject` is the model's manifest.
//! Registries with the referrers API index them; for the others, the
//! referrers tag scheme of the distribution spec is kept here: an image
//! index tagged `sha256-<hex>` that lists the referrers.

use super::OciError;
use super::client::{Registry, sha256_digest};
use super::manifest::{
    Descriptor, EMPTY_MEDIA_TYPE, INDEX_MEDIA_TYPE, ImageManifest, MANIFEST_MEDIA_TYPE,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The artifact type (and layer media type) of a Sigstore bundle, as
/// Sigstore tools attach bundles.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The artifact type of a CycloneDX BOM.
pub const BOM_ARTIFACT_TYPE: &str = "application/vnd.cyclonedx+json";
/// The empty JSON object, the config of artifacts that need none.
const EMPTY_JSON: &[u8] = b"{}";
/// Most referrers read for one manifest.
pub const MAX_REFERRERS: usize = 256;
/// Most pages of the referrers API followed.
const MAX_PAGES: usize = 16;

/// How a referrer was found or attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Via {
    /// The registry's referrers API.
    Api,
    /// The `sha256-<hex>` referrers tag.
    Tag,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Via::Api => "referrers API",
            Via::Tag => "referrers tag",
        })
    }
}

/// One blob of an artifact to attach.
#[derive(Debug, Clone)]
pub struct Blob {
    /// Its media type.
    pub media_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
}

/// An artifact to attach to a manifest.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Its artifact type.
    pub artifact_type: String,
    /// Its blobs, in order.
    pub blobs: Vec<Blob>,
    /// Annotations of the artifact manifest.
    pub annotations: BTreeMap<String, String>,
}

/// An artifact attached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attached {
    /// The artifact manifest's digest.
    pub digest: String,
    /// How registries find it.
    pub via: Via,
}

/// The referrers tag of `digest` (`sha256:HEX` -> `sha256-HEX`).
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// Pushes `artifact` with `subject` as its subject, and lists it in the
/// referrers tag when the registry did not index it itself.
pub(crate) fn attach(
    registry: &Registry,
    subject: &Descriptor,
    artifact: &Artifact,
) -> Result<Attached, OciError> {
    let config = registry.push_blob(EMPTY_JSON)?;
    let mut layers = Vec::new();
    for blob in &artifact.blobs {
        let digest = registry.push_blob(&blob.bytes)?;
        layers.push(Descriptor {
            media_type: blob.media_type.clone(),
            digest,
            size: blob.bytes.len() as u64,
            artifact_type: None,
            annotations: blob.annotations.clone(),
        });
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": artifact.artifact_type,
        "config": { "mediaType": EMPTY_MEDIA_TYPE, "digest": config, "size": EMPTY_JSON.len() },
        "layers": layers,
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": artifact.annotations,
    });
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| OciError::Registry(format!("cannot encode the artifact manifest: {e}")))?;
    let digest = sha256_digest(&bytes);
    let pushed = registry.push_manifest(&digest, &bytes, MANIFEST_MEDIA_TYPE)?;
    if pushed.subject_indexed {
        return Ok(Attached {
            digest,
            via: Via::Api,
        });
    }
    let entry = Descriptor {
        media_type: MANIFEST_MEDIA_TYPE.into(),
        digest: digest.clone(),
        size: bytes.len() as u64,
        artifact_type: Some(artifact.artifact_type.clone()),
        annotations: artifact.annotations.clone(),
    };
    add_to_tag(registry, &subject.digest, &entry)?;
    Ok(Attached {
        digest,
        via: Via::Tag,
    })
}

/// Adds `entry` to the referrers tag of `subject` (creating it).
fn add_to_tag(registry: &Registry, subject: &str, entry: &Descriptor) -> Result<(), OciError> {
    let tag = referrers_tag(subject);
    let mut index = match registry.get_manifest_if_any(&tag, &[INDEX_MEDIA_TYPE])? {
        Some(fetched) => serde_json::from_slice::<Value>(&fetched.bytes)
            .ok()
            .filter(|v| v.get("manifests").is_some_and(Value::is_array))
            .ok_or_else(|| {
                OciError::Registry(format!(
                    "the referrers tag {tag} holds something other than an image index"
                ))
            })?,
        None => json!({ "schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [] }),
    };
    let manifests = index["manifests"]
        .as_array_mut()
        .ok_or_else(|| OciError::Registry(format!("{tag}: no manifests list")))?;
    if manifests
        .iter()
        .any(|m| m.get("digest").and_then(Value::as_str) == Some(entry.digest.as_str()))
    {
        return Ok(());
    }
    manifests.push(
        serde_json::to_value(entry)
            .map_err(|e| OciError::Registry(format!("cannot encode a descriptor: {e}")))?,
    );
    let bytes = serde_json::to_vec(&index)
        .map_err(|e| OciError::Registry(format!("cannot encode the referrers index: {e}")))?;
    registry.push_manifest(&tag, &bytes, INDEX_MEDIA_TYPE)?;
    Ok(())
}

/// The referrers of `subject` with `artifact_type`, from the referrers API
/// or, where the registry has none, the referrers tag.
pub(crate) fn list(
    registry: &Registry,
    subject: &str,
    artifact_type: &str,
) -> Result<(Vec<Descriptor>, Via), OciError> {
    let mut found = Vec::new();
    let mut page = None;
    let mut via = Via::Api;
    for _ in 0..MAX_PAGES {
        match registry.referrers_page(page.as_ref(), subject, artifact_type)? {
            None => {
                via = Via::Tag;
                if let Some(fetched) =
                    registry.get_manifest_if_any(&referrers_tag(subject), &[INDEX_MEDIA_TYPE])?
                {
                    found.extend(index_entries(&fetched.bytes)?);
                }
                break;
            }
            Some((bytes, next)) => {
                found.extend(index_entries(&bytes)?);
                match next {
                    Some(n) => page = Some(n),
                    None => break,
                }
            }
        }
        if found.len() > MAX_REFERRERS {
            break;
        }
    }
    // Past the cap, the rest is not listed: anyone who can push could
    // otherwise attach enough junk to end every verification with an
    // error, where the signatures listed are still tried.
    let mut found = select(found, artifact_type);
    found.truncate(MAX_REFERRERS);
    Ok((found, via))
}

/// The entries of `artifact_type`, each digest once: registries may ignore
/// the `artifactType` filter, and the tag lists every type.
fn select(mut found: Vec<Descriptor>, artifact_type: &str) -> Vec<Descriptor> {
    found.retain(|d| d.artifact_type.as_deref() == Some(artifact_type));
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|d| seen.insert(d.digest.clone()));
    found
}

fn index_entries(bytes: &[u8]) -> Result<Vec<Descriptor>, OciError> {
    #[derive(serde::Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Descriptor>,
    }
    let index: Index = super::manifest::from_oci_json(bytes)
        .map_err(|e| OciError::Registry(format!("referrers index: {e}")))?;
    Ok(index.manifests)
}

/// The blob of media type `media_type` in the referrer `referrer`, checked
/// to be an artifact about `subject` (listings are not trusted: the
/// referrer's own manifest must name the subject).
pub(crate) fn fetch_blob(
    registry: &Registry,
    referrer: &Descriptor,
    subject: &str,
    media_type: &str,
    max: u64,
) -> Result<Vec<u8>, OciError> {
    let bad = |reason: &str| OciError::Manifest {
        digest: referrer.digest.clone(),
        reason: reason.to_string(),
    };
    super::reference::check_digest(&referrer.digest).map_err(|e| bad(&e.to_string()))?;
    let fetched = registry.get_manifest(&referrer.digest, &[MANIFEST_MEDIA_TYPE])?;
    let manifest: ImageManifest = super::manifest::from_oci_json(&fetched.bytes)
        .map_err(|e| bad(&format!("not an artifact manifest: {e}")))?;
    if manifest.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject) {
        return Err(bad(&format!("its subject is not {subject}")));
    }
    let kind = manifest
        .artifact_type
        .as_deref()
        .unwrap_or(manifest.config.media_type.as_str());
    if Some(kind) != referrer.artifact_type.as_deref() {
        return Err(bad(&format!("artifact type {kind} is not the one listed")));
    }
    let mut layers = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == media_type);
    let (Some(layer), None) = (layers.next(), layers.next()) else {
        return Err(bad(&format!("it needs exactly one {media_type} layer")));
    };
    registry.blob_bytes(
        &layer.digest,
        layer.size,
        max,
        &format!("referrer {}", referrer.digest),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_scheme_replaces_the_colon() {
        assert_eq!(
            referrers_tag(
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// A referrers API response as the distribution spec shows it (an image
    /// index whose descriptors carry `artifactType`), with a second type and
    /// a repeated entry: the bundles are kept, once each.
    #[test]
    fn referrers_responses_are_read_as_the_spec_shows_them() {
        let bundle = "1".repeat(64);
        let other = "2".repeat(64);
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{INDEX_MEDIA_TYPE}","manifests":[
              {{"mediaType":"{MANIFEST_MEDIA_TYPE}","size":1234,"digest":"sha256:{bundle}",
                "artifactType":"{BUNDLE_ARTIFACT_TYPE}",
                "annotations":{{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"}}}},
              {{"mediaType":"{MANIFEST_MEDIA_TYPE}","size":1234,"digest":"sha256:{other}",
                "artifactType":"{BOM_ARTIFACT_TYPE}"}},
              {{"mediaType":"{MANIFEST_MEDIA_TYPE}","size":1234,"digest":"sha256:{bundle}",
                "artifactType":"{BUNDLE_ARTIFACT_TYPE}"}}]}}"#
        );
        let entries = index_entries(body.as_bytes()).unwrap();
        assert_eq!(entries.len(), 3);
        let bundles = select(entries, BUNDLE_ARTIFACT_TYPE);
        assert_eq!(bundles.len(), 1);
        assert_eq!(bundles[0].digest, format!("sha256:{bundle}"));
        assert_eq!(bundles[0].size, 1234);
        // An empty index (no referrers) is no error; a body that is not an
        // index, or repeats a key, is one.
        assert!(
            index_entries(br#"{"schemaVersion":2,"manifests":[]}"#)
                .unwrap()
                .is_empty()
        );
        assert!(index_entries(b"<html>").is_err());
        assert!(index_entries(br#"{"manifests":[],"manifests":[]}"#).is_err());
    }
}
