//! A record's digests by algorithm (in-toto's `digest` member): almost
//! always one entry (`sha256`), so held as a small sorted list rather than
//! a tree, with the usual algorithm names not allocated. An audit keeps
//! every record of a log in memory, and a B-tree allocates a node of
//! eleven entries for the one it holds.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// An algorithm's name: the usual ones are not allocated.
type Name = Cow<'static, str>;

/// Algorithm names in-toto digests use, held without an allocation.
const USUAL: &[&str] = &[
    "sha256",
    "sha384",
    "sha512",
    "sha1",
    "blake3",
    "sha512_256",
    "md5",
    "gitCommit",
];

fn name(text: String) -> Name {
    USUAL
        .iter()
        .find(|usual| **usual == text)
        .map_or(Cow::Owned(text), |usual| Cow::Borrowed(*usual))
}

/// Digests by algorithm name (`sha256`: lowercase hex), in algorithm
/// order, each algorithm once. Serialised as a JSON object, as in-toto
/// writes it; reading one that names an algorithm twice is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digests(Box<[(Name, Box<str>)]>);

impl Digests {
    /// No digests.
    pub fn new() -> Self {
        Digests(Box::default())
    }

    /// The digest by `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.position(algorithm)
            .ok()
            .map(|at| self.0[at].1.as_ref())
    }

    /// Sets the digest by `algorithm`, returning the one it replaced.
    pub fn insert(
        &mut self,
        algorithm: impl Into<String>,
        value: impl Into<String>,
    ) -> Option<String> {
        let algorithm = name(algorithm.into());
        let value: Box<str> = value.into().into_boxed_str();
        match self.position(&algorithm) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value).into()),
            Err(at) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(at, (algorithm, value));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    /// Whether it holds no digest.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many digests it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds a digest by `algorithm`.
    pub fn contains_key(&self, algorithm: &str) -> bool {
        self.position(algorithm).is_ok()
    }

    /// Each algorithm and digest, in algorithm order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, v)| (a.as_ref(), v.as_ref()))
    }

    /// The algorithms, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(a, _)| a.as_ref())
    }

    /// `entries` in algorithm order, or the algorithm named twice: one
    /// sort, whatever their number.
    fn sorted(mut entries: Vec<(Name, Box<str>)>) -> Result<Self, Name> {
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(twice) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(twice[0].0.clone());
        }
        Ok(Digests(entries.into_boxed_slice()))
    }

    fn position(&self, algorithm: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(a, _)| a.as_ref().cmp(algorithm))
    }
}

/// The last digest given for an algorithm counts, as with a map.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Digests {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut entries: Vec<(Name, Box<str>)> = Vec::new();
        for (k, v) in items {
            let (k, v) = (name(k.into()), v.into().into_boxed_str());
            match entries.iter_mut().find(|(a, _)| *a == k) {
                Some(entry) => entry.1 = v,
                None => entries.push((k, v)),
            }
        }
        // No algorithm is left twice.
        Digests::sorted(entries).unwrap_or_default()
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for Digests {
    fn from(items: [(K, V); N]) -> Self {
        items.into_iter().collect()
    }
}

impl Serialize for Digests {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (a, v) in &self.0 {
            map.serialize_entry(a.as_ref(), v.as_ref())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Digests {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Digests;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of digests by algorithm")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Digests, M::Error> {
                let mut entries: Vec<(Name, Box<str>)> = Vec::new();
                while let Some((algorithm, value)) = map.next_entry::<String, String>()? {
                    entries.push((name(algorithm), value.into_boxed_str()));
                }
                Digests::sorted(entries).map_err(|algorithm| {
                    serde::de::Error::custom(format!("digest algorithm {algorithm:?} named twice"))
                })
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::Digests;

    #[test]
    fn reads_and_writes_the_object_in_toto_writes() {
        let d: Digests = serde_json::from_str(r#"{"sha512":"bb","sha256":"aa"}"#).unwrap();
        assert_eq!(d.get("sha256"), Some("aa"));
        assert_eq!(d.get("sha1"), None);
        assert_eq!(d.keys().collect::<Vec<_>>(), ["sha256", "sha512"]);
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"sha256":"aa","sha512":"bb"}"#
        );
        assert_eq!(
            serde_json::to_string(&Digests::new()).unwrap(),
            "{}",
            "an empty map stays an object"
        );
    }

    #[test]
    fn an_algorithm_named_twice_is_refused() {
        let err = serde_json::from_str::<Digests>(r#"{"sha256":"aa","sha256":"bb"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("named twice"), "{err}");
    }

    #[test]
    fn insert_replaces_and_keeps_order() {
        let mut d = Digests::from([("sha256", "aa")]);
        assert_eq!(d.insert("sha256", "cc"), Some("aa".to_string()));
        d.insert("blake3", "dd");
        assert_eq!(
            d.iter().collect::<Vec<_>>(),
            [("blake3", "dd"), ("sha256", "cc")]
        );
        assert_eq!(d.len(), 2);
    }
}
