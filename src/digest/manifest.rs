//! The manifest: the sorted resource list, how it was made, and its root
//! digest (OMS section 6.5.1).

use super::{HashAlgorithm, Method};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One resource descriptor: a file, or a byte range of one (`name:start:end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Relative `/`-separated path (with the byte-range suffix for shards).
    pub name: String,
    /// Lowercase hex digest.
    pub digest: String,
    /// The hash algorithm identifier.
    pub algorithm: String,
}

impl Resource {
    /// A resource from a raw digest.
    pub fn new(name: String, digest: [u8; 32], algorithm: HashAlgorithm) -> Self {
        Resource {
            name,
            digest: hex::encode(digest),
            algorithm: algorithm.name().to_string(),
        }
    }
}

/// The `serialization` object of the OMS predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// Files or shards (with the shard size).
    pub method: Method,
    /// The file hash identifier (kept as text: bundles from others may name
    /// algorithms this tool cannot compute, which verification reports).
    pub hash_type: String,
    /// Whether symbolic links were followed.
    pub allow_symlinks: bool,
    /// Excluded paths, when recorded.
    pub ignore_paths: Option<Vec<String>>,
}

#[derive(Serialize)]
struct SerializationJson<'a> {
    method: &'a str,
    hash_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<u64>,
    allow_symlinks: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore_paths: Option<&'a Vec<String>>,
}

impl Serialize for Serialization {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SerializationJson {
            method: self.method.name(),
            hash_type: &self.hash_type,
            shard_size: match self.method {
                Method::Shards { shard_size } => Some(shard_size),
                Method::Files => None,
            },
            allow_symlinks: self.allow_symlinks,
            ignore_paths: self.ignore_paths.as_ref(),
        }
        .serialize(s)
    }
}

/// A model manifest: what the OMS predicate carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Resources, sorted by name for manifests made here.
    pub resources: Vec<Resource>,
    /// How the resources were made.
    pub serialization: Serialization,
}

impl Manifest {
    /// The root digest over the resources in their listed order.
    pub fn root_digest(&self) -> Option<[u8; 32]> {
        root_digest(&self.resources)
    }

    /// The root digest as lowercase hex (empty when a digest is not hex).
    pub fn root_digest_hex(&self) -> String {
        self.root_digest().map(hex::encode).unwrap_or_default()
    }
}

/// SHA-256 over the concatenated raw digests, in the order given; `None` when
/// a digest is not valid hex.
pub fn root_digest(resources: &[Resource]) -> Option<[u8; 32]> {
    let mut hasher = Sha256::new();
    for r in resources {
        hasher.update(hex::decode(&r.digest).ok()?);
    }
    Some(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_digest_of_the_spec_example() {
        // The v1.1.0 key-mode interop bundle (signme-1, signme-2); the spec's
        // Appendix A shows the same subject digest.
        let r = |name: &str, digest: &str| Resource {
            name: name.into(),
            digest: digest.into(),
            algorithm: "sha256".into(),
        };
        let resources = [
            r(
                "signme-1",
                "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc",
            ),
            r(
                "signme-2",
                "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028",
            ),
        ];
        assert_eq!(
            hex::encode(root_digest(&resources).unwrap()),
            "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"
        );
        let mut bad = resources.to_vec();
        bad[0].digest = "zz".into();
        assert_eq!(root_digest(&bad), None);
    }

    #[test]
    fn serialization_json_follows_the_spec() {
        let s = Serialization {
            method: Method::Shards { shard_size: 500 },
            hash_type: "sha256".into(),
            allow_symlinks: false,
            ignore_paths: None,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"method":"shards","hash_type":"sha256","shard_size":500,"allow_symlinks":false}"#
        );
        let f = Serialization {
            method: Method::Files,
            ignore_paths: Some(vec![".git".into()]),
            ..s
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"method":"files","hash_type":"sha256","allow_symlinks":false,"ignore_paths":[".git"]}"#
        );
    }
}
