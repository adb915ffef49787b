//! Every reader of signed JSON refuses duplicate keys, naming the key and
//! where it is: bundles, statement payloads and BOMs (evidence records: the
//! evidence crate's `record` tests).

use crate::bundle::{Bundle, parse_statement};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const ENVELOPE: &str = r#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}"#;

fn bundle(envelope: &str, material: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{material},"dsseEnvelope":{envelope}}}"#
    )
}

fn assert_names(message: &str, key: &str, path: &str) {
    assert!(
        message.contains(&format!("duplicate JSON key {key:?}")) && message.contains(path),
        "expected {key:?} at {path}: {message}"
    );
}

#[test]
fn bundles_with_a_repeated_key_are_refused() {
    let hint = r#"{"publicKey":{"hint":"ab"}}"#;
    Bundle::from_slice(bundle(ENVELOPE, hint).as_bytes()).unwrap();
    for (text, key, path) in [
        (
            bundle(
                r#"{"payload":"e30=","payload":"eyJhIjoxfQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}"#,
                hint,
            ),
            "payload",
            "$.dsseEnvelope",
        ),
        (
            bundle(ENVELOPE, r#"{"publicKey":{"hint":"ab","hint":"cd"}}"#),
            "hint",
            "$.verificationMaterial.publicKey",
        ),
        (
            bundle(
                r#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA==","sig":"AQ=="}]}"#,
                hint,
            ),
            "sig",
            "$.dsseEnvelope.signatures[0]",
        ),
        (
            format!(
                r#"{{"mediaType":"x","mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{hint},"dsseEnvelope":{ENVELOPE}}}"#
            ),
            "mediaType",
            "$",
        ),
    ] {
        let err = Bundle::from_slice(text.as_bytes()).unwrap_err();
        assert!(matches!(err, crate::Error::Bundle(_)), "{err}");
        assert_names(&err.to_string(), key, path);
    }
}

fn statement(predicate_type: &str, subject_digest: &str, resource: &str) -> String {
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"m","digest":{subject_digest}}}],"predicateType":{predicate_type},"predicate":{{"serialization":{{"method":"files","hash_type":"sha256","allow_symlinks":false}},"resources":[{resource}]}}}}"#
    )
}

/// The predicate type, subject digest and resource of a valid OMS
/// statement.
fn oms_parts() -> (&'static str, String, String) {
    (
        r#""https://model_signing/signature/v1.0""#,
        format!(r#"{{"sha256":"{}"}}"#, "ab".repeat(32)),
        format!(
            r#"{{"name":"a","algorithm":"sha256","digest":"{}"}}"#,
            "cd".repeat(32)
        ),
    )
}

#[test]
fn statements_with_a_repeated_key_are_refused() {
    let (oms, digest, resource) = oms_parts();
    parse_statement(statement(oms, &digest, &resource).as_bytes()).unwrap();
    for (text, key, path) in [
        (
            statement(
                &format!(r#"{oms},"predicateType":"https://example.com/other""#),
                &digest,
                &resource,
            ),
            "predicateType",
            "$",
        ),
        (
            statement(
                oms,
                &format!(
                    r#"{{"sha256":"{}","sha256":"{}"}}"#,
                    "ab".repeat(32),
                    "ef".repeat(32)
                ),
                &resource,
            ),
            "sha256",
            "$.subject[0].digest",
        ),
        (
            statement(
                oms,
                &digest,
                &format!(
                    r#"{{"name":"a","algorithm":"sha256","digest":"{}","digest":"{}"}}"#,
                    "cd".repeat(32),
                    "00".repeat(32)
                ),
            ),
            "digest",
            "$.predicate.resources[0]",
        ),
    ] {
        let err = parse_statement(text.as_bytes()).unwrap_err().to_string();
        assert_names(&err, key, path);
    }
}

#[test]
fn boms_with_a_repeated_key_are_refused() {
    let ok =
        r#"{"bomFormat":"CycloneDX","components":[{"hashes":[{"alg":"SHA-256","content":"ab"}]}]}"#;
    crate::bom::parse_bom(ok.as_bytes()).unwrap();
    let twice = r#"{"bomFormat":"CycloneDX","components":[{"hashes":[{"alg":"SHA-256","content":"ab","content":"cd"}]}]}"#;
    let err = crate::bom::parse_bom(twice.as_bytes()).unwrap_err();
    assert_names(&err.to_string(), "content", "$.components[0].hashes[0]");
}

/// The Sigstore parser of `verify-bundle` and keyless verification: the
/// bundle and its in-toto payload are both checked.
#[test]
fn sigstore_bundles_and_their_payloads_with_a_repeated_key_are_refused() {
    let sigstore = |payload: &str, extra: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{{"publicKey":{{"hint":"ab"}}{extra}}},"dsseEnvelope":{{"payload":"{}","payloadType":"application/vnd.in-toto+json","signatures":[{{"sig":"AA=="}}]}}}}"#,
            STANDARD.encode(payload)
        )
    };
    let statement = |digest: &str| {
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{digest}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#
        )
    };
    let one = format!(r#"{{"sha256":"{}"}}"#, "ab".repeat(32));
    crate::sigstore::parse_sigstore_bundle(sigstore(&statement(&one), "").as_bytes()).unwrap();
    let err = crate::sigstore::parse_sigstore_bundle(
        sigstore(&statement(&one), r#","publicKey":{"hint":"cd"}"#).as_bytes(),
    )
    .unwrap_err();
    assert_names(&err.to_string(), "publicKey", "$.verificationMaterial");
    let two = format!(
        r#"{{"sha256":"{}","sha256":"{}"}}"#,
        "ab".repeat(32),
        "cd".repeat(32)
    );
    let err = crate::sigstore::parse_sigstore_bundle(sigstore(&statement(&two), "").as_bytes())
        .unwrap_err();
    assert_names(&err.to_string(), "sha256", "$.subject[0].digest");
}

/// Every reader admits keys by the same rules: a key serde_json reserves
/// for itself is refused where it is, in the statement's own objects (read
/// by the statement reader, not by the whole-document check) as in a
/// safetensors header.
#[test]
fn every_reader_refuses_a_reserved_key() {
    let (oms, digest, resource) = oms_parts();
    let reserved = r#""$serde_json::private::RawValue":"x""#;
    let ok = statement(oms, &digest, &resource);
    parse_statement(ok.as_bytes()).unwrap();
    for text in [
        ok.replacen('{', &format!("{{{reserved},"), 1),
        ok.replacen(
            r#""predicate":{"#,
            &format!(r#""predicate":{{{reserved},"#),
            1,
        ),
    ] {
        let err = parse_statement(text.as_bytes()).unwrap_err();
        match &err {
            crate::bundle::StatementProblem::NotAStatement { detail } => assert!(
                detail.contains("reserved JSON key \"$serde_json::private::RawValue\""),
                "{detail}"
            ),
            other => panic!("{other}"),
        }
    }
    let header =
        format!(r#"{{{reserved},"a":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}}"#);
    let err =
        crate::formats::safetensors::check_header(header.as_bytes(), 8 + header.len() as u64 + 4)
            .unwrap_err();
    assert!(
        matches!(
            err,
            crate::formats::safetensors::SafetensorsError::Json(
                crate::json::StrictJsonError::ReservedKey { .. }
            )
        ),
        "{err}"
    );
}

/// A Sigstore bundle is read once for all its uses: the predicate type of
/// its statement comes from the same parse.
#[test]
fn a_parsed_bundle_names_its_statement_type() {
    let payload = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://example.com/p","predicate":{}}"#;
    let text = format!(
        r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{{"publicKey":{{"hint":"ab"}}}},"dsseEnvelope":{{"payload":"{}","payloadType":"application/vnd.in-toto+json","signatures":[{{"sig":"AA=="}}]}}}}"#,
        STANDARD.encode(payload)
    );
    let parsed = crate::sigstore::ParsedBundle::parse(text.as_bytes()).unwrap();
    assert_eq!(
        parsed.predicate_type().as_deref(),
        Some("https://example.com/p")
    );
    assert_eq!(parsed.json(), text.as_bytes());
}

/// Sigstore's parser reads whichever of `messageSignature` and
/// `dsseEnvelope` comes first; modelseal reads the envelope. A bundle with
/// both is refused by both readers, in either order.
#[test]
fn a_bundle_holding_two_contents_is_refused() {
    let message = r#""messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}"#;
    let envelope = format!(r#""dsseEnvelope":{ENVELOPE}"#);
    let material = r#""verificationMaterial":{"publicKey":{"hint":"ab"}}"#;
    for (first, second) in [(message, envelope.as_str()), (envelope.as_str(), message)] {
        let text = format!(
            r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",{material},{first},{second}}}"#
        );
        for err in [
            crate::bundle::BundleView::parse(text.as_bytes()).unwrap_err(),
            crate::sigstore::ParsedBundle::parse(text.as_bytes()).unwrap_err(),
        ] {
            match err {
                crate::Error::Bundle(why) => assert_eq!(
                    why,
                    "the bundle holds both a message signature and a DSSE envelope"
                ),
                other => panic!("{other}"),
            }
        }
    }
    let not_utf8 = b"{\"mediaType\":\"\xff\"}";
    match crate::sigstore::ParsedBundle::parse(not_utf8).unwrap_err() {
        crate::Error::Bundle(why) => assert_eq!(why, "the bundle is not UTF-8 JSON"),
        other => panic!("{other}"),
    }
}
