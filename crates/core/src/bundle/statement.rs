//! in-toto Statement v1 with the OMS predicate: building one to sign, and
//! reading a signed one back into a [`Manifest`].

use crate::digest::{Manifest, Method, Resources, Serialization};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The OMS v1.0 predicate type.
pub const OMS_PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The deprecated predicate of model_signing 0.2 (read only).
pub const OMS_V01_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";

/// A statement subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Informational name.
    pub name: String,
    /// Digests by algorithm.
    pub digest: BTreeMap<String, String>,
}

/// An in-toto Statement v1. The predicate stays raw JSON so that large
/// manifests are parsed once, straight into their typed form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate body, as raw JSON text.
    pub predicate: Box<RawValue>,
}

impl Statement {
    /// The OMS statement for `manifest` of the model called `name`.
    pub fn for_manifest(name: &str, manifest: &Manifest) -> Self {
        Statement {
            statement_type: STATEMENT_TYPE.to_string(),
            subject: vec![Subject {
                name: name.to_string(),
                digest: BTreeMap::from([("sha256".to_string(), manifest.root_digest_hex())]),
            }],
            predicate_type: OMS_PREDICATE_TYPE.to_string(),
            predicate: serde_json::value::to_raw_value(manifest)
                .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("valid JSON")),
        }
    }
}

/// A signed statement read back: the manifest and the subject it claims.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    /// The predicate type found.
    pub predicate_type: String,
    /// The single subject of an OMS v1.0 statement (`None` for v0.1).
    pub subject: Option<Subject>,
    /// The manifest, in the order the statement lists it.
    pub manifest: Manifest,
}

/// Why a signed payload is not a usable OMS statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StatementProblem {
    /// The DSSE payload type is not in-toto's.
    #[error("payloadType is {found:?}, expected {:?}", super::IN_TOTO_PAYLOAD_TYPE)]
    PayloadType {
        /// The payload type found.
        found: String,
    },
    /// The payload does not parse as an in-toto statement.
    #[error("the signed payload is not an in-toto statement: {detail}")]
    NotAStatement {
        /// The parser's words.
        detail: String,
    },
    /// The statement's `_type` is not in-toto Statement v1.
    #[error("statement _type is {found:?}, expected {STATEMENT_TYPE:?}")]
    StatementType {
        /// The `_type` found.
        found: String,
    },
    /// The predicate type is not the one expected.
    #[error("predicateType is {found:?}, expected {expected:?}")]
    PredicateType {
        /// The predicate type found.
        found: String,
        /// The predicate type expected.
        expected: String,
    },
    /// The statement does not have exactly one subject.
    #[error("the statement must have exactly one subject, found {found}")]
    SubjectCount {
        /// How many it has.
        found: usize,
    },
    /// The subject's name is empty.
    #[error("the subject name is empty")]
    EmptySubjectName,
    /// A subject has no SHA-256 digest.
    #[error("the subject {name:?} has no sha256 digest")]
    NoSha256 {
        /// The subject's name.
        name: String,
    },
    /// The subject's SHA-256 digest is not 64 hex digits.
    #[error("the subject digest is not a SHA-256 hex digest")]
    BadSubjectDigest,
    /// The predicate lists no resources.
    #[error("the predicate lists no resources")]
    NoResources,
    /// The predicate is malformed.
    #[error("the predicate is malformed: {detail}")]
    Predicate {
        /// What is wrong with it.
        detail: String,
    },
    /// A resource digest is not hex.
    #[error("resource {name:?} has a digest that is not hex")]
    DigestNotHex {
        /// The resource.
        name: String,
    },
    /// A resource is listed twice.
    #[error("resource {name:?} is listed twice")]
    DuplicateResource {
        /// The resource.
        name: String,
    },
    /// A resource name is not a canonical relative path (or a shard name
    /// without a valid byte range).
    #[error("resource name {name:?} is not a canonical relative path with a valid range")]
    BadResourceName {
        /// The resource.
        name: String,
    },
    /// A resource uses another algorithm than the manifest declares.
    #[error("resource {name:?} uses algorithm {algorithm:?} but the manifest says {hash_type:?}")]
    AlgorithmMismatch {
        /// The resource.
        name: String,
        /// Its algorithm.
        algorithm: String,
        /// The manifest's hash type.
        hash_type: String,
    },
    /// The statement's subject is not the artifact (Sigstore's check).
    #[error("the statement's subject is not the artifact: {detail}")]
    ArtifactMismatch {
        /// The verifier's words.
        detail: String,
    },
}

/// Parses and checks a decoded DSSE payload as an OMS statement, in one
/// pass and without a JSON tree (the private `statement_parse` module).
pub fn parse_statement(payload: &[u8]) -> Result<ParsedStatement, StatementProblem> {
    let not_a_statement = |detail: String| StatementProblem::NotAStatement { detail };
    let found =
        super::statement_parse::read(payload).map_err(|e| not_a_statement(e.to_string()))?;
    let missing = |field: &str| not_a_statement(format!("missing field `{field}`"));
    let statement_type = found.statement_type.ok_or_else(|| missing("_type"))?;
    let predicate_type = found
        .predicate_type
        .ok_or_else(|| missing("predicateType"))?;
    let subject = found.subject.ok_or_else(|| missing("subject"))?;
    let predicate = found.predicate.ok_or_else(|| missing("predicate"))?;
    let subjects: Vec<Subject> = serde_json::from_str(subject.get())
        .map_err(|e| not_a_statement(format!("subject: {e}")))?;
    drop(subject);
    if statement_type != STATEMENT_TYPE {
        return Err(StatementProblem::StatementType {
            found: statement_type,
        });
    }
    match predicate_type.as_str() {
        OMS_PREDICATE_TYPE => parse_v1(predicate_type, subjects, predicate),
        OMS_V01_PREDICATE_TYPE => parse_v01(predicate_type, subjects),
        other => Err(StatementProblem::PredicateType {
            found: other.to_string(),
            expected: OMS_PREDICATE_TYPE.to_string(),
        }),
    }
}

fn predicate_problem(detail: impl Into<String>) -> StatementProblem {
    StatementProblem::Predicate {
        detail: detail.into(),
    }
}

fn parse_v1(
    predicate_type: String,
    subjects: Vec<Subject>,
    predicate: super::statement_parse::PredicateFound,
) -> Result<ParsedStatement, StatementProblem> {
    let [subject] = <[Subject; 1]>::try_from(subjects)
        .map_err(|s| StatementProblem::SubjectCount { found: s.len() })?;
    if subject.name.is_empty() {
        return Err(StatementProblem::EmptySubjectName);
    }
    if !subject.digest.contains_key("sha256") {
        return Err(StatementProblem::NoSha256 { name: subject.name });
    }
    if let Some(problem) = predicate.problem {
        return Err(predicate_problem(problem));
    }
    let resources = predicate
        .resources
        .ok_or_else(|| predicate_problem("the predicate has no resources"))?;
    if resources.is_empty() && predicate.not_hex.is_none() {
        return Err(StatementProblem::NoResources);
    }
    let serialization = predicate
        .serialization
        .ok_or_else(|| predicate_problem("the predicate has no serialization"))?;
    let serialization: Value =
        serde_json::from_str(serialization.get()).map_err(|e| predicate_problem(e.to_string()))?;
    let serialization =
        parse_serialization(&serialization).map_err(|e| predicate_problem(e.to_string()))?;
    if let Some(name) = predicate.not_hex {
        return Err(StatementProblem::DigestNotHex { name });
    }
    let mut resources = resources;
    resources.shrink_to_fit();
    Ok(ParsedStatement {
        predicate_type,
        subject: Some(subject),
        manifest: Manifest {
            resources,
            serialization,
        },
    })
}

/// Why an OMS predicate's `serialization` is not one modelseal reads.
#[derive(Debug, thiserror::Error)]
enum SerializationProblem {
    #[error("serialization is not an object")]
    NotObject,
    #[error("serialization.{0} is missing or not a string")]
    NotText(&'static str),
    #[error("serialization.shard_size must be a positive integer")]
    ShardSize,
    #[error("unknown serialization method {0:?}")]
    Method(String),
    #[error("serialization.allow_symlinks is not a boolean")]
    AllowSymlinks,
    #[error("serialization.ignore_paths is not a list of strings")]
    IgnorePaths,
}

fn parse_serialization(value: &Value) -> Result<Serialization, SerializationProblem> {
    use SerializationProblem as P;
    let obj = value.as_object().ok_or(P::NotObject)?;
    let text = |key: &'static str| -> Result<&str, SerializationProblem> {
        obj.get(key).and_then(Value::as_str).ok_or(P::NotText(key))
    };
    let hash_type = text("hash_type")?.to_string();
    let method = match text("method")? {
        "files" => Method::Files,
        "shards" => {
            // model_signing 1.1 writes the shard size as a float (500.0).
            let size = obj.get("shard_size").and_then(|v| {
                v.as_u64().or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= 9.0e15)
                        .map(|f| f as u64)
                })
            });
            match size {
                Some(shard_size) if shard_size > 0 => Method::Shards { shard_size },
                _ => return Err(P::ShardSize),
            }
        }
        other => return Err(P::Method(other.to_string())),
    };
    let allow_symlinks = match obj.get("allow_symlinks") {
        Some(Value::Bool(b)) => *b,
        None => false,
        Some(_) => return Err(P::AllowSymlinks),
    };
    let ignore_paths = match obj.get("ignore_paths") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(serde_json::from_value::<Vec<String>>(v.clone()).map_err(|_| P::IgnorePaths)?)
        }
    };
    Ok(Serialization {
        method,
        hash_type,
        allow_symlinks,
        ignore_paths,
    })
}

/// model_signing 0.2: one subject per file, digests under `sha256`.
fn parse_v01(
    predicate_type: String,
    subjects: Vec<Subject>,
) -> Result<ParsedStatement, StatementProblem> {
    if subjects.is_empty() {
        return Err(StatementProblem::NoResources);
    }
    let mut resources = Resources::with_capacity(subjects.len(), 0);
    for s in subjects {
        let digest = s
            .digest
            .get("sha256")
            .ok_or_else(|| StatementProblem::NoSha256 {
                name: s.name.clone(),
            })?;
        resources.push_hex(&s.name, digest, "sha256").map_err(|_| {
            StatementProblem::DigestNotHex {
                name: s.name.clone(),
            }
        })?;
    }
    Ok(ParsedStatement {
        predicate_type,
        subject: None,
        manifest: Manifest {
            resources,
            serialization: Serialization {
                method: Method::Files,
                hash_type: "sha256".into(),
                allow_symlinks: false,
                ignore_paths: None,
            },
        },
    })
}

/// The subject a statement claims (its first), read without checking the
/// rest: what records name a failed verification after. Unknown members
/// are skipped without being built.
pub fn claimed_subject(payload: &[u8]) -> Option<Subject> {
    #[derive(Deserialize)]
    struct Claim {
        subject: FirstOnly,
    }
    struct FirstOnly(Option<Subject>);
    impl<'de> Deserialize<'de> for FirstOnly {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = FirstOnly;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a list of subjects")
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<FirstOnly, A::Error> {
                    let first = seq.next_element::<Subject>()?;
                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                    Ok(FirstOnly(first))
                }
            }
            d.deserialize_seq(V)
        }
    }
    serde_json::from_slice::<Claim>(payload).ok()?.subject.0
}

/// An OMS statement for a manifest, serialised straight from it: the same
/// bytes as [`Statement::for_manifest`] without a copy of the manifest
/// text.
pub struct ManifestStatement<'a> {
    /// The model's name.
    pub name: &'a str,
    /// The manifest.
    pub manifest: &'a Manifest,
}

impl Serialize for ManifestStatement<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Statement", 4)?;
        st.serialize_field("_type", STATEMENT_TYPE)?;
        st.serialize_field(
            "subject",
            &[Subject {
                name: self.name.to_string(),
                digest: BTreeMap::from([("sha256".to_string(), self.manifest.root_digest_hex())]),
            }],
        )?;
        st.serialize_field("predicateType", OMS_PREDICATE_TYPE)?;
        st.serialize_field("predicate", self.manifest)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::HashAlgorithm;

    fn manifest() -> Manifest {
        Manifest {
            resources: vec![crate::digest::Resource::new(
                "a".into(),
                [1; 32],
                HashAlgorithm::Sha256,
            )]
            .into(),
            serialization: Serialization {
                method: Method::Files,
                hash_type: "sha256".into(),
                allow_symlinks: false,
                ignore_paths: Some(vec![".git".into()]),
            },
        }
    }

    #[test]
    fn built_statement_parses_back_to_the_same_manifest() {
        let m = manifest();
        let st = Statement::for_manifest("model", &m);
        let bytes = serde_json::to_vec(&st).unwrap();
        let parsed = parse_statement(&bytes).unwrap();
        assert_eq!(parsed.manifest, m);
        assert_eq!(
            parsed.subject.unwrap().digest["sha256"],
            m.root_digest_hex()
        );
    }

    #[test]
    fn a_statement_written_from_the_compact_manifest_is_the_same_bytes() {
        let m = manifest();
        assert_eq!(
            serde_json::to_vec(&ManifestStatement {
                name: "model",
                manifest: &m
            })
            .unwrap(),
            serde_json::to_vec(&Statement::for_manifest("model", &m)).unwrap()
        );
    }

    #[test]
    fn malformed_predicates_and_digests_are_named() {
        let m = manifest();
        let v = serde_json::to_value(Statement::for_manifest("model", &m)).unwrap();
        let check = |v: &Value, want: &str| {
            let err = parse_statement(&serde_json::to_vec(v).unwrap())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{v}: {err}");
        };
        let mut p = v.clone();
        p["predicate"]["resources"][0]["digest"] = "abc".into();
        check(&p, "not hex");
        let mut p = v.clone();
        p["predicate"]["resources"][0]["name"] = 5.into();
        check(&p, "resources[0]");
        let mut p = v.clone();
        p["predicate"]["resources"] = Value::Array(vec![]);
        check(&p, "no resources");
        let mut p = v.clone();
        p["predicate"] = Value::Null;
        check(&p, "not an object");
        let mut p = v.clone();
        p["predicate"]
            .as_object_mut()
            .unwrap()
            .remove("serialization");
        check(&p, "no serialization");
        let mut p = v.clone();
        p.as_object_mut().unwrap().remove("subject");
        check(&p, "missing field `subject`");
        // Unknown members are read past, at any depth.
        let mut p = v.clone();
        p["extra"] = serde_json::json!({"a": [1, {"b": null}]});
        p["predicate"]["resources"][0]["note"] = "x".into();
        assert_eq!(
            parse_statement(&serde_json::to_vec(&p).unwrap())
                .unwrap()
                .manifest,
            m
        );
    }

    #[test]
    fn the_claimed_subject_is_read_alone() {
        let m = manifest();
        let bytes = serde_json::to_vec(&Statement::for_manifest("model", &m)).unwrap();
        assert_eq!(claimed_subject(&bytes).unwrap().name, "model");
        assert!(claimed_subject(b"[]").is_none());
    }

    #[test]
    fn rejects_wrong_types_and_subject_counts() {
        let m = manifest();
        let mut v = serde_json::to_value(Statement::for_manifest("model", &m)).unwrap();
        let check = |v: &Value, want: &str| {
            let err = parse_statement(&serde_json::to_vec(v).unwrap())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
        };
        let mut t = v.clone();
        t["_type"] = "https://in-toto.io/Statement/v0.1".into();
        check(&t, "_type");
        let mut p = v.clone();
        p["predicateType"] = "https://example.com/other".into();
        check(&p, "predicateType");
        let subject = v["subject"][0].clone();
        v["subject"] = Value::Array(vec![subject.clone(), subject]);
        check(&v, "exactly one subject");
        v["subject"] = Value::Array(vec![]);
        check(&v, "exactly one subject");
        assert!(parse_statement(b"not json").is_err());
    }

    #[test]
    fn accepts_float_shard_size_and_rejects_bad_ones() {
        let ok = serde_json::json!({"method":"shards","hash_type":"sha256","shard_size":500.0,"allow_symlinks":false});
        assert_eq!(
            parse_serialization(&ok).unwrap().method,
            Method::Shards { shard_size: 500 }
        );
        for bad in [
            serde_json::json!(0),
            serde_json::json!(1.5),
            serde_json::json!(-3),
            serde_json::json!("9"),
        ] {
            let v = serde_json::json!({"method":"shards","hash_type":"sha256","shard_size":bad});
            assert!(parse_serialization(&v).is_err(), "{bad}");
        }
        let v = serde_json::json!({"method":"zip","hash_type":"sha256"});
        assert!(matches!(
            parse_serialization(&v).unwrap_err(),
            SerializationProblem::Method(m) if m == "zip"
        ));
    }
}
