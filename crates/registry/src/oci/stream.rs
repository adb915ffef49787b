//! One file's bytes, read once in file order: hashed as the OMS manifest
//! wants (whole file or shards, SHA-256 or BLAKE3), its SHA-256 taken on the
//! way when a policy wants it, and its format judged when asked.

use super::judge::Judge;
use crate::Result;
use crate::digest::Hasher;
use crate::digest::{HashAlgorithm, Method, Resource};
use crate::formats::FileReport;
use sha2::Digest;

/// What one file's read produced.
pub(crate) struct FileResult {
    /// Its resources (one, or one per shard).
    pub resources: Vec<Resource>,
    /// Its SHA-256 (hex), when asked for.
    pub sha256: Option<String>,
    /// Its format, when asked for.
    pub report: Option<FileReport>,
}

/// Consumes one file's bytes in order.
pub(crate) struct FileStream {
    name: String,
    algorithm: HashAlgorithm,
    method: Method,
    hasher: Hasher,
    shard_start: u64,
    offset: u64,
    resources: Vec<Resource>,
    sha256: Option<sha2::Sha256>,
    judge: Option<Judge>,
}

impl FileStream {
    /// A stream for the file `name`; `want_sha256` keeps its SHA-256,
    /// `judge` sniffs its format.
    pub fn new(
        name: &str,
        algorithm: HashAlgorithm,
        method: Method,
        want_sha256: bool,
        judge: bool,
    ) -> Result<Self> {
        Ok(FileStream {
            name: name.to_string(),
            algorithm,
            method,
            hasher: Hasher::new(algorithm),
            shard_start: 0,
            offset: 0,
            resources: Vec::new(),
            sha256: want_sha256.then(sha2::Sha256::new),
            judge: if judge { Some(Judge::new(name)?) } else { None },
        })
    }

    /// The next bytes of the file.
    pub fn update(&mut self, mut bytes: &[u8]) -> Result<()> {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(j) = &mut self.judge {
            j.update(bytes)?;
        }
        while !bytes.is_empty() {
            let take = match self.method {
                Method::Files => bytes.len(),
                Method::Shards { shard_size } => {
                    let left = self.shard_start + shard_size - self.offset;
                    usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len())
                }
            };
            self.hasher.update(&bytes[..take]);
            self.offset += take as u64;
            bytes = &bytes[take..];
            if let Method::Shards { shard_size } = self.method
                && self.offset == self.shard_start + shard_size
            {
                self.close_shard();
            }
        }
        Ok(())
    }

    fn close_shard(&mut self) {
        let hasher = std::mem::replace(&mut self.hasher, Hasher::new(self.algorithm));
        self.resources.push(Resource::new(
            format!("{}:{}:{}", self.name, self.shard_start, self.offset),
            hasher.finish(),
            self.algorithm,
        ));
        self.shard_start = self.offset;
    }

    /// The file ended.
    pub fn finish(mut self) -> Result<FileResult> {
        match self.method {
            Method::Files => {
                let hasher = std::mem::replace(&mut self.hasher, Hasher::new(self.algorithm));
                self.resources.push(Resource::new(
                    self.name.clone(),
                    hasher.finish(),
                    self.algorithm,
                ));
            }
            Method::Shards { .. } => {
                if self.offset > self.shard_start {
                    self.close_shard();
                }
            }
        }
        Ok(FileResult {
            resources: self.resources,
            sha256: self.sha256.map(|h| hex::encode(h.finalize())),
            report: match self.judge {
                Some(j) => Some(j.finish()?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_match_the_local_hashing() {
        let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let mut s = FileStream::new(
            "w",
            HashAlgorithm::Sha256,
            Method::Shards { shard_size: 1000 },
            true,
            false,
        )
        .unwrap();
        for chunk in data.chunks(333) {
            s.update(chunk).unwrap();
        }
        let r = s.finish().unwrap();
        let names: Vec<_> = r.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["w:0:1000", "w:1000:2000", "w:2000:2500"]);
        assert_eq!(
            r.resources[1].digest,
            hex::encode(sha2::Sha256::digest(&data[1000..2000]))
        );
        assert_eq!(r.sha256.unwrap(), hex::encode(sha2::Sha256::digest(&data)));
        let empty = FileStream::new(
            "e",
            HashAlgorithm::Sha256,
            Method::Shards { shard_size: 10 },
            false,
            false,
        )
        .unwrap()
        .finish()
        .unwrap();
        assert!(empty.resources.is_empty());
        let mut b3 =
            FileStream::new("f", HashAlgorithm::Blake3, Method::Files, false, false).unwrap();
        b3.update(b"abc").unwrap();
        assert_eq!(
            b3.finish().unwrap().resources[0].digest,
            blake3::hash(b"abc").to_hex().as_str()
        );
    }
}
