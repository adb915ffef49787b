//! Bundles written here validate against the OMS v1.0 JSON schemas (bundle,
//! envelope, statement, predicate), vendored under `schemas/oms/`.

use crate::common::*;
use base64::Engine;
use jsonschema::Resource;
use serde_json::Value;

fn schema(name: &str) -> Value {
    let path = schemas(&format!("oms/v1.0/{name}.schema.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    let mut options = jsonschema::options();
    for other in ["bundle", "envelope", "statement", "predicate"] {
        let s = schema(other);
        let id = s["$id"].as_str().unwrap().to_string();
        options = options.with_resource(id, Resource::from_contents(s).unwrap());
    }
    options.build(&schema(name)).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn our_bundles_validate_against_every_oms_schema() {
    let (tmp, model) = tiny_model();
    let bundle_schema = validator("bundle");
    let statement_schema = validator("statement");
    let predicate_schema = validator("predicate");
    let (private, _) = demo_key();
    let pki = |f: &str| fixture(&format!("pki/{f}"));
    let variants: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "ed25519 files",
            vec!["--key".into(), private.clone().into()],
        ),
        (
            "shards blake3",
            vec![
                "--key".into(),
                private.clone().into(),
                "--method".into(),
                "shards".into(),
                "--shard-size".into(),
                "64".into(),
                "--hash".into(),
                "blake3".into(),
            ],
        ),
        (
            "certificate",
            vec![
                "--key".into(),
                pki("signer.key").into(),
                "--signing-cert".into(),
                pki("signer.pem").into(),
                "--cert-chain".into(),
                pki("intermediate.pem").into(),
            ],
        ),
    ];
    for (what, args) in variants {
        let sig = tmp.path().join("s.sig");
        let (code, _, err) = run(modelseal()
            .env(TEST_NOW, PKI_NOW)
            .arg("sign")
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .args(&args));
        assert_eq!(code, 0, "{what}: {err}");
        let bundle: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
        assert_valid(&bundle_schema, &bundle, what);
        let payload = base64::engine::general_purpose::STANDARD
            .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let statement: Value = serde_json::from_slice(&payload).unwrap();
        assert_valid(&statement_schema, &statement, what);
        assert_valid(&predicate_schema, &statement["predicate"], what);
    }
}

#[test]
fn the_schemas_do_reject_a_broken_bundle() {
    // Guard against a validator that accepts everything.
    let bundle_schema = validator("bundle");
    let broken = serde_json::json!({"mediaType": "application/json", "verificationMaterial": {}});
    assert!(!bundle_schema.is_valid(&broken));
}
