//! The deploy-gate policy: who may sign, what must accompany a model, and
//! which formats may be deployed. A TOML file; its SHA-256 identifies it in
//! verdicts and evidence.

mod rules;

pub use rules::{ImageSignature, PolicyContext, evaluate};

use crate::formats::Format;
use crate::keys::{PublicKey, load_certificates, load_public_key};
use crate::sigstore::KeylessIdentity;
use crate::verify::{SymlinkRule, Trust};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The default policy, shipped with the tool (`data/default-policy.toml`).
pub const DEFAULT_POLICY: &str = include_str!("../../data/default-policy.toml");

/// A policy file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Who may sign.
    #[serde(default)]
    pub signers: Signers,
    /// What must hold.
    #[serde(default)]
    pub require: Requirements,
    /// Which formats may be deployed.
    #[serde(default)]
    pub formats: Formats,
    /// What the admission service (`modelseal serve`) may contact and
    /// admit.
    #[serde(default)]
    pub admission: Admission,
    /// How the rest of a container image that carries a model (a
    /// ModelCar) is trusted.
    #[serde(default)]
    pub container_images: ContainerImages,
}

/// The rest of a container image carrying a model: its config
/// (entrypoint, command, environment) and the layers outside `/models`,
/// which the model's signature does not cover. With `require_signature`,
/// a Sigstore bundle over the image manifest's digest, attached to the
/// image as a referrer, must verify from one of these signers (as
/// `verify-bundle` verifies one): then the whole image is signed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerImages {
    /// A container image passes only with a verified signature over its
    /// manifest (and only when `require.allow_container_images` is on).
    #[serde(default)]
    pub require_signature: bool,
    /// Public key files of the image signers.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// Keyless image signers.
    #[serde(default)]
    pub keyless: Vec<KeylessSigner>,
    /// Accept a key-signed image bundle without a transparency log entry.
    #[serde(default)]
    pub allow_missing_tlog: bool,
}

/// Rules for the admission service.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// The registries (`host` or `host:port`) whose models may be
    /// verified; the service contacts no other. Empty: none.
    #[serde(default)]
    pub registries: Vec<String>,
    /// Whether a model named by tag may be admitted (verified at the digest
    /// the tag names then). Off: a tag is denied unless the mutating
    /// webhook pinned it to the digest it verified.
    #[serde(default)]
    pub allow_tags: bool,
    /// Model locations the service cannot verify (`s3://`, `gs://`,
    /// `pvc://`, `https://`, a KServe `storage` block).
    #[serde(default)]
    pub other_storage: OtherStorage,
}

/// What to do with a model location that cannot be verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OtherStorage {
    /// Deny the object.
    #[default]
    Deny,
    /// Admit it unverified, with a warning.
    Allow,
}

/// Trusted signers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Signers {
    /// Public key files.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// Key fingerprints (`SHA256:hex` of the SPKI DER) a `--key` must match.
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// Certificate anchors, each with an optional required subject.
    #[serde(default)]
    pub certificates: Vec<CertificateSigner>,
    /// Keyless identities.
    #[serde(default)]
    pub keyless: Vec<KeylessSigner>,
}

/// A certificate-mode signer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSigner {
    /// The trust anchor (PEM).
    pub anchor: PathBuf,
    /// The signing certificate's subject (RFC 4514), exactly.
    pub subject: Option<String>,
}

/// A keyless signer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeylessSigner {
    /// The certificate identity, exactly.
    pub identity: String,
    /// The OIDC issuer, exactly.
    pub issuer: String,
    /// A Sigstore trusted root file; default the embedded public-good root.
    pub trusted_root: Option<PathBuf>,
}

/// Requirements.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// A signed BOM must accompany the model and verify.
    #[serde(default = "yes")]
    pub bom: bool,
    /// The signature may be at most this old.
    pub max_signature_age_days: Option<u64>,
    /// `--ignore-unsigned-files` may be used.
    #[serde(default)]
    pub allow_ignore_unsigned_files: bool,
    /// How far the model's symbolic links may lead (when its signature
    /// allows links).
    #[serde(default = "default_symlinks")]
    pub symlinks: SymlinkRule,
    /// A model may come in a container image (a ModelCar), although the
    /// signature covers only the files under `/models`, not the image's
    /// entrypoint or other files.
    #[serde(default)]
    pub allow_container_images: bool,
}

/// Today's strictness (links stay inside the model root), except inside
/// the repository for a model in the Hugging Face cache.
fn default_symlinks() -> SymlinkRule {
    SymlinkRule::WithinHfRepo
}

fn yes() -> bool {
    true
}

impl Default for Requirements {
    fn default() -> Self {
        Requirements {
            bom: true,
            max_signature_age_days: None,
            allow_ignore_unsigned_files: false,
            symlinks: default_symlinks(),
            allow_container_images: false,
        }
    }
}

/// Format rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Formats {
    /// Formats that may be deployed.
    #[serde(default = "default_formats")]
    pub allowed: Vec<Format>,
    /// Single files allowed whatever their format, by exact digest.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Whether a config may name Python code that
    /// `trust_remote_code=True` imports (Hugging Face `auto_map`).
    #[serde(default)]
    pub remote_code: RemoteCode,
}

/// The remote-code rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteCode {
    /// A config that imports code breaks the policy.
    #[default]
    Deny,
    /// Signed code files may be imported (code from other repositories
    /// stays unsafe).
    Allow,
}

fn default_formats() -> Vec<Format> {
    vec![
        Format::Safetensors,
        Format::Gguf,
        Format::Onnx,
        Format::OnnxData,
        Format::Numpy,
        Format::Json,
        Format::Text,
    ]
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            allowed: default_formats(),
            exceptions: Vec::new(),
            remote_code: RemoteCode::Deny,
        }
    }
}

/// A file allowed by digest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The file, relative to the model root.
    pub path: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Why.
    pub reason: Option<String>,
}

/// A policy as loaded: where it came from, its digest, and the trust it
/// names, resolved once when it was loaded (a key file changed afterwards
/// changes nothing: every check of this policy trusts the same keys).
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// The rules.
    pub policy: Policy,
    /// Where it was read from.
    pub uri: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The directory relative paths are resolved against.
    pub base: PathBuf,
    /// The keys, certificate anchors and keyless identities the policy
    /// names, read when it was loaded.
    trusted: Vec<Trust>,
    /// The container image signers, read when it was loaded: each with
    /// how it is described in a verdict.
    image_signers: Vec<ImageSigner>,
}

/// The predicate type of a container image signature: an in-toto
/// statement whose subject is the image manifest's digest, by which the
/// signer vouches for the whole image (config, entrypoint, every layer),
/// which a model's signature does not cover.
pub const IMAGE_PREDICATE_TYPE: &str = "https://modelseal.dev/container-image/v1";

/// A signer of container image manifests.
#[derive(Debug, Clone)]
struct ImageSigner {
    trust: crate::sigstore::BundleTrust,
    root: std::sync::Arc<crate::sigstore::TrustedRoot>,
    name: String,
}

/// Why a bundle is not an approval of a container image by one of the
/// policy's image signers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageSignerError {
    /// The policy names no container image signer.
    #[error("the policy names no container image signer")]
    NoSigners,
    /// A signer signed the image, but a statement of another type than
    /// an approval (an SBOM, a scan, provenance).
    #[error(
        "{signer}: a statement of type {} over the image, not {IMAGE_PREDICATE_TYPE}",
        found.as_deref().unwrap_or("(none: not a DSSE statement)")
    )]
    NotAnApproval {
        /// The signer's name in the policy.
        signer: String,
        /// The statement's predicate type, if it is a DSSE statement.
        found: Option<String>,
    },
    /// No signer's check passed: each signer and why.
    #[error("{}", signer_failures(.0))]
    NotVerified(Vec<(String, Option<crate::sigstore::SigstoreProblem>)>),
    /// The bundle cannot be read.
    #[error(transparent)]
    Unreadable(Box<crate::Error>),
}

/// `name: why` for each image signer whose check failed, joined by `; `.
fn signer_failures(failed: &[(String, Option<crate::sigstore::SigstoreProblem>)]) -> String {
    let one = |(name, why): &(String, Option<crate::sigstore::SigstoreProblem>)| match why {
        Some(why) => format!("{name}: {why}"),
        None => format!("{name}: "),
    };
    failed.iter().map(one).collect::<Vec<_>>().join("; ")
}

impl LoadedPolicy {
    /// Parses policy text; `uri` names it and `base` resolves its paths.
    pub fn parse(text: &[u8], uri: &str, base: &Path) -> Result<Self> {
        let sha256 = hex::encode(Sha256::digest(text));
        let text =
            std::str::from_utf8(text).map_err(|_| Error::Policy(format!("{uri}: not UTF-8")))?;
        let policy: Policy = toml::from_str(text).map_err(|e| {
            // One line: the message and where (toml's own text spans
            // several lines with the source quoted).
            let at = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!(" (line {line}, column {column})")
                })
                .unwrap_or_default();
            Error::Policy(format!(
                "{uri}: {}{at}",
                e.message().trim_end().replace('\n', "; ")
            ))
        })?;
        let mut loaded = LoadedPolicy {
            policy,
            uri: uri.to_string(),
            sha256,
            base: base.to_path_buf(),
            trusted: Vec::new(),
            image_signers: Vec::new(),
        };
        loaded.validate()?;
        loaded.trusted = loaded.resolve_trust()?;
        loaded.image_signers = loaded.resolve_image_signers()?;
        Ok(loaded)
    }

    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::fetch::read_file(path, crate::fetch::InputKind::Policy)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&bytes, &path.display().to_string(), &base)
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Policy(format!("{}: {m}", self.uri)));
        for f in &self.policy.signers.fingerprints {
            let ok = f
                .strip_prefix("SHA256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            if !ok {
                return bad(format!("fingerprint {f:?} is not SHA256:<64 hex digits>"));
            }
        }
        for r in &self.policy.admission.registries {
            let host_port = !r.is_empty()
                && r.len() <= 255
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
                && !r.starts_with([':', '.', '-']);
            if !host_port {
                return bad(format!(
                    "admission registry {r:?} is not a host or host:port"
                ));
            }
        }
        for e in &self.policy.formats.exceptions {
            if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad(format!(
                    "exception {:?}: sha256 must be 64 hex digits",
                    e.path
                ));
            }
            let canonical = crate::digest::ignore::normalize_relative(Path::new(&e.path)).ok();
            if canonical.as_deref() != Some(e.path.as_str()) || e.path.is_empty() {
                return bad(format!(
                    "exception path {:?} must be relative to the model root",
                    e.path
                ));
            }
        }
        for k in self
            .policy
            .signers
            .keyless
            .iter()
            .chain(&self.policy.container_images.keyless)
        {
            if k.identity.is_empty() || k.issuer.is_empty() {
                return bad("a keyless signer needs an identity and an issuer".into());
            }
        }
        let images = &self.policy.container_images;
        let named = !images.keys.is_empty() || !images.keyless.is_empty();
        if images.require_signature && !named {
            return bad(
                "container_images.require_signature needs keys or keyless signers to trust".into(),
            );
        }
        if named && !images.require_signature {
            return bad(
                "container_images names signers but require_signature is off: they would never be asked"
                    .into(),
            );
        }
        Ok(())
    }

    /// The trusted root a keyless signer names, read (`None`: it names
    /// none, and the embedded public-good root applies).
    fn named_root(&self, k: &KeylessSigner) -> Result<Option<crate::sigstore::TrustedRoot>> {
        k.trusted_root
            .as_ref()
            .map(|p| {
                let bytes = crate::fetch::read_file(
                    &self.resolve(p),
                    crate::fetch::InputKind::TrustedRoot,
                )?;
                crate::sigstore::trusted_root_from_json(&bytes)
            })
            .transpose()
    }

    /// Reads the container image signers: once, at load.
    fn resolve_image_signers(&self) -> Result<Vec<ImageSigner>> {
        let images = &self.policy.container_images;
        let mut out = Vec::new();
        if images.keys.is_empty() && images.keyless.is_empty() {
            return Ok(out);
        }
        let embedded = std::sync::Arc::new(crate::sigstore::embedded_trusted_root()?);
        for k in &images.keys {
            let key = load_public_key(&self.resolve(k))?;
            out.push(ImageSigner {
                name: format!("key {}", key.fingerprint()),
                trust: crate::sigstore::BundleTrust::Key {
                    key,
                    allow_missing_tlog: images.allow_missing_tlog,
                },
                root: embedded.clone(),
            });
        }
        for k in &images.keyless {
            let root = match self.named_root(k)? {
                Some(root) => std::sync::Arc::new(root),
                None => embedded.clone(),
            };
            out.push(ImageSigner {
                name: format!("{} ({})", k.identity, k.issuer),
                trust: crate::sigstore::BundleTrust::Identity(KeylessIdentity {
                    identity: k.identity.clone(),
                    issuer: k.issuer.clone(),
                }),
                root,
            });
        }
        Ok(out)
    }

    /// Whether `bundle` is a signature over the image manifest whose
    /// SHA-256 is `manifest` from one of the policy's container image
    /// signers: the signer's description, or why it is not.
    pub fn image_signer(
        &self,
        manifest: [u8; 32],
        bundle: &[u8],
    ) -> std::result::Result<String, ImageSignerError> {
        if self.image_signers.is_empty() {
            return Err(ImageSignerError::NoSigners);
        }
        let artifact = crate::sigstore::ArtifactInput::Digest(manifest);
        // Read once, however many signers are tried.
        let bundle = crate::sigstore::ParsedBundle::parse(bundle)
            .map_err(|e| ImageSignerError::Unreadable(Box::new(e)))?;
        let mut failed = Vec::new();
        for signer in &self.image_signers {
            match crate::sigstore::verify_parsed(&bundle, &artifact, &signer.trust, &signer.root) {
                Ok(check) if check.is_verified() => {
                    // Only a statement made to approve the image counts:
                    // an SBOM, a scan or provenance from the same signer
                    // over the same digest is not an approval.
                    return match bundle.predicate_type() {
                        Some(t) if t == IMAGE_PREDICATE_TYPE => Ok(signer.name.clone()),
                        found => Err(ImageSignerError::NotAnApproval {
                            signer: signer.name.clone(),
                            found,
                        }),
                    };
                }
                Ok(check) => failed.push((signer.name.clone(), check.failure)),
                Err(e) => return Err(ImageSignerError::Unreadable(Box::new(e))),
            }
        }
        Err(ImageSignerError::NotVerified(failed))
    }

    /// The public keys the policy trusts (read when it was loaded).
    pub fn keys(&self) -> Vec<PublicKey> {
        self.trusted
            .iter()
            .filter_map(|t| match t {
                Trust::Key(k) => Some(k.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every trust source the policy names (read when it was loaded).
    pub fn trusts(&self) -> Result<Vec<Trust>> {
        Ok(self.trusted.clone())
    }

    /// Reads every trust source the policy names: once, at load.
    fn resolve_trust(&self) -> Result<Vec<Trust>> {
        let mut trusts: Vec<Trust> = Vec::new();
        for k in &self.policy.signers.keys {
            trusts.push(Trust::Key(load_public_key(&self.resolve(k))?));
        }
        for c in &self.policy.signers.certificates {
            trusts.push(Trust::Anchors {
                anchors: load_certificates(&self.resolve(&c.anchor))?,
                subject: c.subject.clone(),
            });
        }
        for k in &self.policy.signers.keyless {
            let root = match self.named_root(k)? {
                Some(root) => root,
                None => crate::sigstore::embedded_trusted_root()?,
            };
            trusts.push(Trust::Keyless {
                who: KeylessIdentity {
                    identity: k.identity.clone(),
                    issuer: k.issuer.clone(),
                },
                root: std::sync::Arc::new(root),
            });
        }
        Ok(trusts)
    }

    /// Whether a key given on the command line is one the policy trusts.
    pub fn trusts_key(&self, key: &PublicKey) -> Result<bool> {
        let fingerprint = key.fingerprint();
        Ok(self
            .policy
            .signers
            .fingerprints
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&fingerprint))
            || self.keys().iter().any(|k| k == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image signature required from nobody, or signers named for a
    /// rule that is off, is a policy that cannot mean what it says.
    #[test]
    fn container_image_signers_and_their_rule_go_together() {
        for (text, expect) in [
            (
                "[container_images]\nrequire_signature = true\n",
                "needs keys or keyless signers",
            ),
            (
                "[container_images]\nkeys = [\"a.pem\"]\n",
                "require_signature is off",
            ),
        ] {
            let err = LoadedPolicy::parse(text.as_bytes(), "p.toml", Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    #[test]
    fn a_malformed_policy_is_one_line_saying_where() {
        let text = "[signers]\nkeys = [\"a.pem\"]\n[require]\nbom = \"yes\"\n";
        let err = LoadedPolicy::parse(text.as_bytes(), "p.toml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("p.toml") && err.contains("line 4"), "{err}");
    }

    /// Only a statement of the container image type, over the manifest
    /// digest, from an image signer, approves an image: a scan or an SBOM
    /// by the same signer over the same digest does not, nor does the
    /// right statement over another digest.
    #[test]
    fn an_image_is_approved_only_by_an_image_statement_over_its_digest() {
        use crate::bundle::{STATEMENT_TYPE, Statement, Subject};
        use crate::keys::{KeyAlgorithm, generate};
        use crate::sign::{SigningIdentity, sign_statement};
        let dir = tempfile::tempdir().unwrap();
        let key = generate(KeyAlgorithm::Ed25519).unwrap();
        std::fs::write(
            dir.path().join("image.pub.pem"),
            key.public_key().to_spki_pem(),
        )
        .unwrap();
        let text = "[container_images]\nrequire_signature = true\nkeys = [\"image.pub.pem\"]\nallow_missing_tlog = true\n";
        let policy = LoadedPolicy::parse(text.as_bytes(), "p.toml", dir.path()).unwrap();
        let manifest = [7u8; 32];
        let bundle = |predicate_type: &str, digest: [u8; 32]| {
            let statement = Statement {
                statement_type: STATEMENT_TYPE.to_string(),
                subject: vec![Subject {
                    name: "registry.example/repo".into(),
                    digest: std::collections::BTreeMap::from([(
                        "sha256".to_string(),
                        hex::encode(digest),
                    )]),
                }],
                predicate_type: predicate_type.to_string(),
                predicate: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
            };
            sign_statement(&statement, &SigningIdentity::Key(&key))
                .unwrap()
                .to_json()
                .into_bytes()
        };
        let approved = policy.image_signer(manifest, &bundle(IMAGE_PREDICATE_TYPE, manifest));
        assert!(approved.is_ok(), "{approved:?}");
        let scan = policy.image_signer(
            manifest,
            &bundle("https://cosign.sigstore.dev/attestation/vuln/v1", manifest),
        );
        assert!(
            scan.unwrap_err()
                .to_string()
                .contains("not https://modelseal.dev/container-image/v1")
        );
        let other = policy.image_signer(manifest, &bundle(IMAGE_PREDICATE_TYPE, [8u8; 32]));
        assert!(other.is_err());
    }

    #[test]
    fn a_key_file_changed_after_loading_changes_nothing() {
        use crate::keys::{KeyAlgorithm, generate};
        let dir = tempfile::tempdir().unwrap();
        let first = generate(KeyAlgorithm::Ed25519).unwrap().public_key();
        let second = generate(KeyAlgorithm::Ed25519).unwrap().public_key();
        let file = dir.path().join("release.pub.pem");
        std::fs::write(&file, first.to_spki_pem()).unwrap();
        let text = "[signers]\nkeys = [\"release.pub.pem\"]\n";
        let p = LoadedPolicy::parse(text.as_bytes(), "p.toml", dir.path()).unwrap();
        // Someone swaps the key file while a service runs.
        std::fs::write(&file, second.to_spki_pem()).unwrap();
        assert_eq!(p.keys(), vec![first.clone()]);
        assert!(p.trusts_key(&first).unwrap());
        assert!(!p.trusts_key(&second).unwrap());
        // A key file that cannot be read fails the load, not a later check.
        std::fs::remove_file(&file).unwrap();
        assert!(LoadedPolicy::parse(text.as_bytes(), "p.toml", dir.path()).is_err());
    }

    #[test]
    fn the_shipped_default_parses_with_the_documented_defaults() {
        let p = LoadedPolicy::parse(DEFAULT_POLICY.as_bytes(), "default", Path::new(".")).unwrap();
        assert!(p.policy.require.bom);
        assert!(!p.policy.require.allow_ignore_unsigned_files);
        assert_eq!(p.policy.require.symlinks, SymlinkRule::WithinHfRepo);
        assert_eq!(p.policy.formats.allowed, default_formats());
        assert_eq!(p.sha256.len(), 64);
        // An empty file means the same defaults.
        let empty = LoadedPolicy::parse(b"", "empty", Path::new(".")).unwrap();
        assert!(empty.policy.require.bom);
        assert_eq!(empty.policy.require.symlinks, SymlinkRule::WithinHfRepo);
        let any =
            LoadedPolicy::parse(b"[require]\nsymlinks = \"any\"\n", "p", Path::new(".")).unwrap();
        assert_eq!(any.policy.require.symlinks, SymlinkRule::Any);
        assert_eq!(empty.policy.formats.allowed, default_formats());
    }

    #[test]
    fn malformed_policies_say_why() {
        for (text, want) in [
            ("[signers]\nkeyz = []\n", "unknown field"),
            ("[formats]\nallowed = [\"exe\"]\n", "unknown variant"),
            ("[require]\nsymlinks = \"outside\"\n", "unknown variant"),
            ("[signers]\nfingerprints = [\"abc\"]\n", "SHA256:"),
            (
                "[[formats.exceptions]]\npath = \"../x\"\nsha256 = \"00\"\n",
                "64 hex",
            ),
            (
                "[[formats.exceptions]]\npath = \"/abs\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
                "relative",
            ),
            ("not toml = = 1", "policy"),
        ] {
            let err = LoadedPolicy::parse(text.as_bytes(), "p.toml", Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
