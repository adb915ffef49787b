use super::*;

const ENVELOPE: &str = r#""dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}"#;

fn bundle(media: &str, material: &str, rest: &str) -> String {
    format!(r#"{{"mediaType":"{media}","verificationMaterial":{material}{rest}}}"#)
}

#[test]
fn accepts_known_media_types_and_key_material() {
    for media in KNOWN_MEDIA_TYPES {
        let text = bundle(
            media,
            r#"{"publicKey":{"hint":"ab"}}"#,
            &format!(",{ENVELOPE}"),
        );
        Bundle::from_slice(text.as_bytes()).unwrap();
    }
}

#[test]
fn rejects_malformed_containers_with_reasons() {
    let cases = [
        ("", "empty"),
        ("   \n", "empty"),
        ("{", "not a Sigstore bundle"),
        ("[]", "not a Sigstore bundle"),
        (
            &bundle(
                "application/json",
                r#"{"publicKey":{"hint":"a"}}"#,
                &format!(",{ENVELOPE}"),
            ),
            "mediaType",
        ),
        (
            &bundle(BUNDLE_V03_MEDIA_TYPE, r#"{"publicKey":{"hint":"a"}}"#, ""),
            "dsseEnvelope",
        ),
        (
            &bundle(
                BUNDLE_V03_MEDIA_TYPE,
                r#"{"publicKey":{"hint":"a"}}"#,
                r#","messageSignature":{}"#,
            ),
            "message-signature",
        ),
        (
            &bundle(BUNDLE_V03_MEDIA_TYPE, "{}", &format!(",{ENVELOPE}")),
            "exactly one of",
        ),
        (
            &bundle(
                BUNDLE_V03_MEDIA_TYPE,
                r#"{"publicKey":{"hint":"a"}}"#,
                r#","dsseEnvelope":{"payload":"","payloadType":"x","signatures":[]}"#,
            ),
            "exactly one signature",
        ),
    ];
    for (text, want) in cases {
        let err = Bundle::from_slice(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
}

/// Issue 10: counts that are small in every real bundle are capped while
/// parsing, before the items are built.
#[test]
fn counts_that_are_small_in_real_bundles_are_capped() {
    let many = |item: &str, n: usize| vec![item; n].join(",");
    let cases = [
        (
            bundle(
                BUNDLE_V03_MEDIA_TYPE,
                &format!(
                    r#"{{"certificate":{{"rawBytes":"AA=="}},"tlogEntries":[{}]}}"#,
                    many("{}", MAX_TLOG_ENTRIES + 1)
                ),
                &format!(",{ENVELOPE}"),
            ),
            "transparency log entries",
        ),
        (
            bundle(
                BUNDLE_V03_MEDIA_TYPE,
                &format!(
                    r#"{{"x509CertificateChain":{{"certificates":[{}]}}}}"#,
                    many(r#"{"rawBytes":"AA=="}"#, MAX_CERTIFICATES + 1)
                ),
                &format!(",{ENVELOPE}"),
            ),
            "certificates",
        ),
        (
            bundle(
                BUNDLE_V03_MEDIA_TYPE,
                r#"{"publicKey":{"hint":"a"}}"#,
                &format!(
                    r#","dsseEnvelope":{{"payload":"","payloadType":"x","signatures":[{}]}}"#,
                    many(r#"{"sig":"AA=="}"#, MAX_SIGNATURES + 1)
                ),
            ),
            "DSSE signatures",
        ),
    ];
    for (text, want) in cases {
        let err = Bundle::from_slice(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains(want) && err.contains("more than"), "{err}");
    }
    // At the caps, they parse.
    let ok = bundle(
        BUNDLE_V03_MEDIA_TYPE,
        &format!(
            r#"{{"certificate":{{"rawBytes":"AA=="}},"tlogEntries":[{}]}}"#,
            many(r#"{"logIndex":"1"}"#, MAX_TLOG_ENTRIES)
        ),
        &format!(",{ENVELOPE}"),
    );
    let b = Bundle::from_slice(ok.as_bytes()).unwrap();
    assert_eq!(
        b.verification_material.tlog_entries.unwrap()[0].0.get(),
        r#"{"logIndex":"1"}"#
    );
}

/// Unknown members are skipped without building them, but still checked
/// for repeated keys; the payload is borrowed, not copied.
#[test]
fn unknown_members_are_skipped_strictly_and_the_payload_is_borrowed() {
    let filler = format!(r#""extra":[{}]"#, vec!["[[],{}]"; 1000].join(","));
    let text = bundle(
        BUNDLE_V03_MEDIA_TYPE,
        r#"{"publicKey":{"hint":"a"},"unknown":{"x":1}}"#,
        &format!(",{filler},{ENVELOPE}"),
    );
    let view = BundleView::parse(text.as_bytes()).unwrap();
    assert!(matches!(view.envelope().payload, Cow::Borrowed("e30=")));
    let dup = bundle(
        BUNDLE_V03_MEDIA_TYPE,
        r#"{"publicKey":{"hint":"a"},"unknown":{"x":1,"x":2}}"#,
        &format!(",{ENVELOPE}"),
    );
    let err = BundleView::parse(dup.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("duplicate"), "{err}");
}
