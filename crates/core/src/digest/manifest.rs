//! The manifest: the sorted resource list, how it was made, and its root
//! digest (OMS section 6.5.1).
//!
//! A dataset can hold millions of files, so the resources are not kept as
//! one object per file: [`Resources`] stores every name in one text buffer
//! and every digest in one byte buffer, about 60 bytes per file for names of
//! 15 characters, and serialises them to the same JSON as a list of
//! [`Resource`] objects.

use super::{HashAlgorithm, Method};
use serde::ser::{SerializeSeq, SerializeStruct};
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

/// One resource of a [`Resources`] list, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceRef<'a> {
    /// Relative `/`-separated path (with the byte-range suffix for shards).
    pub name: &'a str,
    /// The raw digest bytes.
    pub digest: &'a [u8],
    /// The hash algorithm identifier.
    pub algorithm: &'a str,
}

impl ResourceRef<'_> {
    /// The digest as lowercase hex.
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest)
    }

    /// An owned copy.
    pub fn to_resource(&self) -> Resource {
        Resource {
            name: self.name.to_string(),
            digest: self.digest_hex(),
            algorithm: self.algorithm.to_string(),
        }
    }
}

impl Serialize for ResourceRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The field order of `Resource`: signatures must stay byte-identical.
        let mut st = s.serialize_struct("Resource", 3)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("digest", &HexDigest(self.digest))?;
        st.serialize_field("algorithm", self.algorithm)?;
        st.end()
    }
}

/// Raw bytes serialised as a lowercase hex string without an intermediate
/// `String` per resource.
struct HexDigest<'a>(&'a [u8]);

impl Serialize for HexDigest<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 128];
        match self.0.len() {
            n if n * 2 <= buf.len() => {
                let out = &mut buf[..n * 2];
                hex::encode_to_slice(self.0, out).map_err(serde::ser::Error::custom)?;
                // Hex digits are ASCII.
                s.serialize_str(std::str::from_utf8(out).map_err(serde::ser::Error::custom)?)
            }
            _ => s.serialize_str(&hex::encode(self.0)),
        }
    }
}

/// A digest that is not an even number of hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotHex;

/// The resources of a manifest, held compactly: all names in one buffer,
/// all raw digests in another, the algorithm names once each.
#[derive(Clone, Default)]
pub struct Resources {
    names: String,
    name_ends: Vec<usize>,
    digests: Vec<u8>,
    /// The width of every digest while all have the same; then
    /// `digest_ends` stays empty.
    width: Option<usize>,
    digest_ends: Vec<usize>,
    algorithms: Vec<String>,
    algorithm_of: Vec<u32>,
}

impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Resources {}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Resources {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `resources` entries of `name_bytes`
    /// bytes of names in all.
    pub fn with_capacity(resources: usize, name_bytes: usize) -> Self {
        Resources {
            names: String::with_capacity(name_bytes),
            name_ends: Vec::with_capacity(resources),
            digests: Vec::with_capacity(resources * 32),
            width: None,
            digest_ends: Vec::new(),
            algorithms: Vec::new(),
            algorithm_of: Vec::with_capacity(resources),
        }
    }

    /// The number of resources.
    pub fn len(&self) -> usize {
        self.name_ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.name_ends.is_empty()
    }

    /// Appends a resource with a raw digest.
    pub fn push(&mut self, name: &str, digest: &[u8], algorithm: &str) {
        self.names.push_str(name);
        self.name_ends.push(self.names.len());
        match self.width {
            None if self.name_ends.len() == 1 => self.width = Some(digest.len()),
            Some(w) if w == digest.len() => {}
            Some(w) => {
                // Digests of several widths: keep where each one ends.
                self.digest_ends = (1..self.name_ends.len()).map(|i| i * w).collect();
                self.width = None;
            }
            None => {}
        }
        self.digests.extend_from_slice(digest);
        if self.width.is_none() {
            self.digest_ends.push(self.digests.len());
        }
        let index = match self.algorithm_of.last() {
            Some(&last) if self.algorithms[last as usize] == algorithm => last,
            _ => match self.algorithms.iter().position(|a| a == algorithm) {
                Some(i) => i as u32,
                None => {
                    self.algorithms.push(algorithm.to_string());
                    (self.algorithms.len() - 1) as u32
                }
            },
        };
        self.algorithm_of.push(index);
    }

    /// Appends a resource whose digest is hex text (either case).
    pub fn push_hex(
        &mut self,
        name: &str,
        digest_hex: &str,
        algorithm: &str,
    ) -> Result<(), NotHex> {
        let text = digest_hex.as_bytes();
        if text.is_empty() || !text.len().is_multiple_of(2) {
            return Err(NotHex);
        }
        let start = self.digests.len();
        for pair in text.chunks_exact(2) {
            match (hex_value(pair[0]), hex_value(pair[1])) {
                (Some(hi), Some(lo)) => self.digests.push(hi << 4 | lo),
                _ => {
                    self.digests.truncate(start);
                    return Err(NotHex);
                }
            }
        }
        let digest = self.digests.split_off(start);
        self.push(name, &digest, algorithm);
        Ok(())
    }

    /// The resource at `index`.
    pub fn get(&self, index: usize) -> Option<ResourceRef<'_>> {
        let name_end = *self.name_ends.get(index)?;
        let name_start = if index == 0 {
            0
        } else {
            self.name_ends[index - 1]
        };
        let (digest_start, digest_end) = match self.width {
            Some(w) => (index * w, (index + 1) * w),
            None if index == 0 => (0, self.digest_ends[0]),
            None => (self.digest_ends[index - 1], self.digest_ends[index]),
        };
        Some(ResourceRef {
            name: &self.names[name_start..name_end],
            digest: &self.digests[digest_start..digest_end],
            algorithm: &self.algorithms[self.algorithm_of[index] as usize],
        })
    }

    /// The name of the resource at `index` (panics when out of range).
    pub fn name(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.name_ends[index - 1]
        };
        &self.names[start..self.name_ends[index]]
    }

    /// The resources in their listed order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ResourceRef<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    /// The indices of the resources in byte-wise name order.
    pub fn sorted_indices(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if !self.is_sorted() {
            order.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        }
        order
    }

    /// Whether the names are in strictly increasing byte-wise order.
    pub fn is_sorted(&self) -> bool {
        (1..self.len()).all(|i| self.name(i - 1) < self.name(i))
    }

    /// The same resources sorted by name.
    pub fn sorted(self) -> Self {
        if self.is_sorted() {
            return self;
        }
        let order = self.sorted_indices();
        let mut out = Resources::with_capacity(self.len(), self.names.len());
        for i in order {
            let r = self.get(i).expect("in range");
            out.push(r.name, r.digest, r.algorithm);
        }
        out
    }

    /// Resources named by `names` (ends at `name_ends`), each with a
    /// 32-byte digest from `digests`, all made with `algorithm`.
    pub(crate) fn from_parts(
        names: String,
        name_ends: Vec<usize>,
        digests: Vec<[u8; 32]>,
        algorithm: HashAlgorithm,
    ) -> Self {
        debug_assert_eq!(name_ends.len(), digests.len());
        let count = name_ends.len();
        Resources {
            names,
            name_ends,
            digests: digests.into_iter().flatten().collect(),
            width: (count > 0).then_some(32),
            digest_ends: Vec::new(),
            algorithms: vec![algorithm.name().to_string()],
            algorithm_of: vec![0; count],
        }
    }

    /// Owned copies of every resource (for small manifests and tests).
    pub fn to_vec(&self) -> Vec<Resource> {
        self.iter().map(|r| r.to_resource()).collect()
    }

    /// Frees spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        self.name_ends.shrink_to_fit();
        self.digests.shrink_to_fit();
        self.digest_ends.shrink_to_fit();
        self.algorithm_of.shrink_to_fit();
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Serialize for Resources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

impl FromIterator<Resource> for Resources {
    /// Collects owned resources; a digest that is not hex is kept as its
    /// text bytes (it then never matches a computed digest).
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Self {
        let mut out = Resources::new();
        for r in iter {
            if out.push_hex(&r.name, &r.digest, &r.algorithm).is_err() {
                out.push(&r.name, r.digest.as_bytes(), &r.algorithm);
            }
        }
        out
    }
}

impl From<Vec<Resource>> for Resources {
    fn from(v: Vec<Resource>) -> Self {
        v.into_iter().collect()
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
    pub resources: Resources,
    /// How the resources were made.
    pub serialization: Serialization,
}

impl Manifest {
    /// The root digest over the resources in their listed order.
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(&self.resources)
    }

    /// The root digest as lowercase hex.
    pub fn root_digest_hex(&self) -> String {
        hex::encode(self.root_digest())
    }
}

/// SHA-256 over the concatenated raw digests, in the order given.
pub fn root_digest(resources: &Resources) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for r in resources.iter() {
        hasher.update(r.digest);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, digest: &str) -> Resource {
        Resource {
            name: name.into(),
            digest: digest.into(),
            algorithm: "sha256".into(),
        }
    }

    #[test]
    fn root_digest_of_the_spec_example() {
        // The v1.1.0 key-mode interop bundle (signme-1, signme-2); the spec's
        // Appendix A shows the same subject digest.
        let resources: Resources = vec![
            r(
                "signme-1",
                "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc",
            ),
            r(
                "signme-2",
                "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028",
            ),
        ]
        .into();
        assert_eq!(
            hex::encode(root_digest(&resources)),
            "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"
        );
    }

    #[test]
    fn compact_resources_serialise_like_the_owned_ones() {
        let owned = vec![
            r("b/\"q\".bin", "00FF"),
            r("a", "0a0b"),
            Resource {
                name: "c:0:5".into(),
                digest: "ab".into(),
                algorithm: "blake3".into(),
            },
        ];
        let compact: Resources = owned.clone().into();
        let mut lower = owned.clone();
        lower[0].digest = "00ff".into();
        assert_eq!(
            serde_json::to_string(&compact).unwrap(),
            serde_json::to_string(&lower).unwrap()
        );
        assert_eq!(compact.len(), 3);
        assert!(!compact.is_sorted());
        let sorted = compact.clone().sorted();
        let names: Vec<_> = sorted.iter().map(|r| r.name).collect();
        assert_eq!(names, ["a", "b/\"q\".bin", "c:0:5"]);
        assert_eq!(sorted.get(2).unwrap().algorithm, "blake3");
        assert_eq!(sorted.get(0).unwrap().digest, [10, 11]);
        assert!(sorted.get(3).is_none());
    }

    #[test]
    fn hex_digests_must_be_whole_bytes_of_hex() {
        let mut list = Resources::new();
        assert_eq!(list.push_hex("a", "abc", "sha256"), Err(NotHex));
        assert_eq!(list.push_hex("a", "zz", "sha256"), Err(NotHex));
        assert_eq!(list.push_hex("a", "", "sha256"), Err(NotHex));
        assert!(list.is_empty());
        list.push_hex("a", "AbCd", "sha256").unwrap();
        assert_eq!(list.get(0).unwrap().digest_hex(), "abcd");
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
