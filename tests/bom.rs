//! ML-BOMs: written, signed, schema-valid, and checked at verify.

use crate::common::*;
use modelseal::bom::{Bom, sign_bom};
use modelseal::keys::load_private_key;
use modelseal::sign::SigningIdentity;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// The official CycloneDX 1.6 schema (vendored), with a local resolver
/// for the SPDX and JSF schemas it refers to.
fn official_validator() -> jsonschema::Validator {
    let dir = root().join("crates/core/data/cyclonedx");
    let load =
        |f: &str| -> Value { serde_json::from_slice(&fs::read(dir.join(f)).unwrap()).unwrap() };
    let resource = |f: &str| jsonschema::Resource::from_contents(load(f)).unwrap();
    jsonschema::options()
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            resource("spdx.schema.json"),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            resource("jsf-0.82.schema.json"),
        )
        .build(&load("bom-1.6.schema.json"))
        .unwrap()
}

fn assert_schema_valid(bom: &Value, what: &str) {
    let validator = official_validator();
    let errors: Vec<String> = validator
        .iter_errors(bom)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// A copy of the tiny model and dataset; returns (tmp, model, dataset).
fn workspace() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, model) = tiny_model();
    let dataset = tmp.path().join("tiny-dataset");
    copy_tree(&fixture("tiny-dataset"), &dataset);
    (tmp, model, dataset)
}

fn bom_cmd(model: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> (i32, String, String) {
    run(modelseal()
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("bom")
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra))
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

#[test]
fn written_boms_validate_against_the_official_schema() {
    let (tmp, model, dataset) = workspace();
    let (private, _) = demo_key();
    let variants: Vec<(&str, PathBuf, Vec<std::ffi::OsString>)> = vec![
        ("model only", model.clone(), vec![]),
        (
            "with dataset and key",
            model.clone(),
            vec![
                "--dataset".into(),
                dataset.clone().into(),
                "--key".into(),
                private.clone().into(),
            ],
        ),
        (
            "blake3 and flags",
            model.clone(),
            vec![
                "--blake3".into(),
                "--version".into(),
                "2.1".into(),
                "--license".into(),
                "mit".into(),
                "--task".into(),
                "fill-mask".into(),
            ],
        ),
        ("single file model", model.join("model.safetensors"), vec![]),
        (
            "dataset file",
            model.clone(),
            vec!["--dataset".into(), dataset.join("train.jsonl").into()],
        ),
    ];
    for (what, path, args) in variants {
        let out = tmp.path().join("b.cdx.json");
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (code, stdout, err) = bom_cmd(&path, &out, &args);
        assert_eq!(code, 0, "{what}: {stdout}{err}");
        let bom = read_json(&out);
        assert_schema_valid(&bom, what);
        let (code, check, _) = run(modelseal().arg("bom").arg("--check").arg(&out));
        assert_eq!(code, 0, "{what}: {check}");
    }
}

#[test]
fn the_bom_says_what_the_directory_says() {
    let (tmp, model, dataset) = workspace();
    let out = tmp.path().join("b.cdx.json");
    let (code, _, err) = bom_cmd(
        &model,
        &out,
        &[
            "--dataset".as_ref(),
            dataset.as_os_str(),
            "--blake3".as_ref(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let bom = read_json(&out);
    let component = &bom["metadata"]["component"];
    assert_eq!(component["type"], "machine-learning-model");
    assert_eq!(component["licenses"][0]["license"]["id"], "Apache-2.0");
    let params = &component["modelCard"]["modelParameters"];
    assert_eq!(params["task"], "text-generation");
    assert_eq!(params["architectureFamily"], "tiny");
    assert_eq!(params["modelArchitecture"], "TinyForCausalLM");
    assert_eq!(params["datasets"][0]["ref"], "dataset:tiny-dataset");
    // The model component carries the same root digest `hash` prints.
    let (_, hashed, _) = run(modelseal().arg("hash").arg(&model));
    let root = hashed.split_whitespace().next().unwrap();
    assert_eq!(component["hashes"][0]["content"], root);
    // Files: SHA-256 and BLAKE3 equal to `hash`, safetensors facts from the header.
    let (_, manifest, _) = run(modelseal().args(["--format", "json", "hash"]).arg(&model));
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let components = bom["components"].as_array().unwrap();
    for r in manifest["resources"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let c = components
            .iter()
            .find(|c| c["bom-ref"] == format!("model-file:{name}"))
            .unwrap();
        assert_eq!(c["hashes"][0]["content"], r["digest"], "{name}");
        assert_eq!(c["hashes"][1]["alg"], "BLAKE3");
    }
    let weights = components
        .iter()
        .find(|c| c["name"] == "model.safetensors")
        .unwrap();
    let prop = |n: &str| {
        weights["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop("modelseal:safetensors:tensors"), Some("2".into()));
    assert_eq!(prop("modelseal:safetensors:parameters"), Some("12".into()));
    assert_eq!(prop("modelseal:safetensors:dtypes"), Some("F32,I32".into()));
    let ds = components
        .iter()
        .find(|c| c["bom-ref"] == "dataset:tiny-dataset")
        .unwrap();
    assert_eq!(ds["type"], "data");
    assert_eq!(ds["data"][0]["type"], "dataset");
    assert_eq!(ds["components"].as_array().unwrap().len(), 3);
    let deps = bom["dependencies"].as_array().unwrap();
    let model_deps = deps
        .iter()
        .find(|d| d["ref"] == "model:tiny-model")
        .unwrap();
    assert!(
        model_deps["dependsOn"]
            .as_array()
            .unwrap()
            .contains(&"dataset:tiny-dataset".into())
    );
}

#[test]
fn output_is_deterministic_and_the_serial_follows_the_content() {
    let (tmp, model, _) = workspace();
    let a = tmp.path().join("a.json");
    let b = tmp.path().join("b.json");
    assert_eq!(bom_cmd(&model, &a, &[]).0, 0);
    assert_eq!(bom_cmd(&model, &b, &[]).0, 0);
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(
        read_json(&a)["metadata"]["timestamp"],
        "2026-01-01T00:00:00Z"
    );
    fs::write(model.join("config.json"), "{\"model_type\": \"other\"}\n").unwrap();
    assert_eq!(bom_cmd(&model, &b, &[]).0, 0);
    assert_ne!(read_json(&a)["serialNumber"], read_json(&b)["serialNumber"]);
    let given = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79";
    assert_eq!(
        bom_cmd(
            &model,
            &b,
            &[
                "--serial-number".as_ref(),
                given.as_ref(),
                "--timestamp".as_ref(),
                "2025-05-05T10:00:00Z".as_ref()
            ]
        )
        .0,
        0
    );
    assert_eq!(read_json(&b)["serialNumber"], given);
    assert_eq!(
        read_json(&b)["metadata"]["timestamp"],
        "2025-05-05T10:00:00Z"
    );
}

/// The BOM and its signature are the bytes release 0.1.0 wrote for the
/// same inputs, key and time (the BOM is written and signed as a stream).
#[test]
fn bom_and_signature_are_the_bytes_of_release_0_1_0() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("tiny-model.cdx.json");
    let (code, _, stderr) = bom_cmd(
        &fixture("tiny-model"),
        &out,
        &[
            "--dataset".as_ref(),
            fixture("tiny-dataset").as_os_str(),
            "--key".as_ref(),
            demo_key().0.as_os_str(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let golden = fixture("golden/v0.1.0");
    assert!(fs::read(&out).unwrap() == fs::read(golden.join("tiny-model.cdx.json")).unwrap());
    let mut sig = out.into_os_string();
    sig.push(".sig");
    assert!(fs::read(sig).unwrap() == fs::read(golden.join("tiny-model.cdx.json.sig")).unwrap());
}

/// Signs the model and a BOM in one pass; returns (tmp, model, sig, bom).
fn signed_with_bom() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let (tmp, model, dataset) = workspace();
    let sig = tmp.path().join("model.sig");
    let bom = tmp.path().join("model.cdx.json");
    let (code, out, err) = run(demo_sign_args(&mut modelseal(), &model, &sig, Some(&bom))
        .arg("--dataset")
        .arg(dataset));
    assert_eq!(code, 0, "{out}{err}");
    (tmp, model, sig, bom)
}

fn verify_with_bom(model: &Path, sig: &Path, bom: &Path) -> (i32, String, String) {
    verify_demo(model, sig, &["--bom", bom.to_str().unwrap()])
}

/// The same JSON value in other text verifies; an object serde_json would
/// read as the JSON text inside it (its private raw-value key) is refused,
/// though it would digest as the signed component.
#[test]
fn a_reformatted_bom_verifies_and_a_disguised_one_is_refused() {
    let (tmp, model, sig, bom) = signed_with_bom();
    let value = read_json(&bom);
    let compact = tmp.path().join("compact.json");
    fs::write(&compact, serde_json::to_vec(&value).unwrap()).unwrap();
    fs::copy(sig_of(&bom), sig_of(&compact)).unwrap();
    let (code, out, err) = verify_with_bom(&model, &sig, &compact);
    assert_eq!(code, 0, "{out}{err}");
    let mut disguised = value.clone();
    let hidden = disguised["components"][0].to_string();
    disguised["components"][0] = serde_json::json!({ "$serde_json::private::RawValue": hidden });
    fs::write(&compact, serde_json::to_vec(&disguised).unwrap()).unwrap();
    let (code, out, err) = verify_with_bom(&model, &sig, &compact);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("reserved JSON key"), "{err}");
}

/// `sign --bom` refuses outputs that name the same file before writing
/// anything (they would be staged under one name and the last would win).
#[test]
fn sign_refuses_a_signature_path_that_is_the_bom_or_its_signature() {
    let (tmp, model, _) = workspace();
    let bom = tmp.path().join("clash.json");
    for sig in [
        sig_of(&bom),
        bom.clone(),
        tmp.path().join(".").join("clash.json"),
    ] {
        let (code, out, err) = run(demo_sign_args(&mut modelseal(), &model, &sig, Some(&bom)));
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("same file"), "{err}");
        assert!(!bom.exists() && !sig_of(&bom).exists());
    }
}

fn sig_of(bom: &Path) -> PathBuf {
    let mut sig = bom.as_os_str().to_os_string();
    sig.push(".sig");
    PathBuf::from(sig)
}

#[test]
fn sign_with_bom_then_verify_with_bom() {
    let (_tmp, model, sig, bom) = signed_with_bom();
    let (code, out, err) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("bom:     verified"), "{out}");
    let (_, public) = demo_key();
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "verify"])
        .arg(&model)
        .arg("--signature")
        .arg(&sig)
        .arg("--key")
        .arg(public)
        .arg("--bom")
        .arg(&bom));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"]["bom_verified"], true);
}

#[test]
fn a_tampered_weight_file_fails_model_and_bom() {
    let (_tmp, model, sig, bom) = signed_with_bom();
    let p = model.join("model.safetensors");
    let mut bytes = fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    fs::write(&p, bytes).unwrap();
    let (code, out, _) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 1);
    assert!(out.contains("changed: model.safetensors"), "{out}");
    assert!(
        out.contains(
            "bom: model.safetensors: the SHA-256 in the BOM differs from the file on disk"
        ),
        "{out}"
    );
}

/// Rewrites the BOM with `edit` and re-signs it with `key` (a valid
/// signature over a BOM that says something else).
fn resign(bom_path: &Path, key: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value = read_json(bom_path);
    edit(&mut value);
    let bom: Bom = serde_json::from_value(value.clone()).unwrap();
    let key = load_private_key(key).unwrap();
    let name = value["metadata"]["component"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let root = value["metadata"]["component"]["hashes"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let bundle = sign_bom(&bom, &name, &root, &SigningIdentity::Key(&key)).unwrap();
    fs::write(bom_path, modelseal::bom::to_json(&bom)).unwrap();
    let mut sig = bom_path.as_os_str().to_os_string();
    sig.push(".sig");
    fs::write(sig, bundle.to_bundle().to_json()).unwrap();
}

#[test]
fn a_bom_listing_a_file_the_signature_does_not_fails_by_name() {
    let (_tmp, model, sig, bom) = signed_with_bom();
    let (private, _) = demo_key();
    resign(&bom, &private, |b| {
        let extra = serde_json::json!({"type": "file", "bom-ref": "model-file:extra.bin", "name": "extra.bin",
            "hashes": [{"alg": "SHA-256", "content": "00".repeat(32)}]});
        b["components"].as_array_mut().unwrap().push(extra);
    });
    let (code, out, _) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 1);
    assert!(
        out.contains("bom: extra.bin: listed by the BOM but not by the model signature"),
        "{out}"
    );
    resign(&bom, &private, |b| {
        b["components"].as_array_mut().unwrap().retain(|c| {
            c["bom-ref"] != "model-file:config.json" && c["bom-ref"] != "model-file:extra.bin"
        });
    });
    let (code, out, _) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 1);
    assert!(
        out.contains("bom: config.json: signed, but missing from the BOM"),
        "{out}"
    );
}

#[test]
fn an_edited_bom_file_a_foreign_key_and_another_model_fail() {
    let (tmp, model, sig, bom) = signed_with_bom();
    // The BOM file edited after signing.
    let mut value = read_json(&bom);
    value["metadata"]["component"]["version"] = "9.9".into();
    fs::write(&bom, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let (code, out, _) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 1);
    assert!(
        out.contains("bom: the BOM file differs from the signed BOM"),
        "{out}"
    );
    // The BOM re-signed by another key.
    let intruder = tmp.path().join("intruder");
    assert_eq!(
        run(modelseal().arg("keygen").arg("--out").arg(&intruder)).0,
        0
    );
    resign(&bom, &tmp.path().join("intruder.priv.pem"), |_| {});
    let (code, out, _) = verify_with_bom(&model, &sig, &bom);
    assert_eq!(code, 1);
    assert!(out.contains("bom: the BOM signature:"), "{out}");
    // The signed BOM of another model.
    let other = tmp.path().join("other-model");
    copy_tree(&model, &other);
    fs::write(other.join("config.json"), "{\"model_type\": \"other\"}\n").unwrap();
    let other_sig = tmp.path().join("other.sig");
    let other_bom = tmp.path().join("other.cdx.json");
    let (private, _) = demo_key();
    let (code, _, err) = run(modelseal()
        .arg("sign")
        .arg(&other)
        .arg("--key")
        .arg(&private)
        .arg("--signature")
        .arg(&other_sig)
        .arg("--bom")
        .arg(&other_bom));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = verify_with_bom(&model, &sig, &other_bom);
    assert_eq!(code, 1);
    assert!(
        out.contains("bom: the BOM describes another model"),
        "{out}"
    );
}

#[test]
fn bom_check_lists_dangling_refs_and_duplicates() {
    let (tmp, model, _) = workspace();
    let out = tmp.path().join("b.json");
    assert_eq!(bom_cmd(&model, &out, &[]).0, 0);
    let mut bom = read_json(&out);
    bom["dependencies"][0]["dependsOn"]
        .as_array_mut()
        .unwrap()
        .push("model-file:ghost".into());
    let first = bom["components"][0].clone();
    bom["components"].as_array_mut().unwrap().push(first);
    let broken = tmp.path().join("broken.json");
    fs::write(&broken, serde_json::to_vec(&bom).unwrap()).unwrap();
    let (code, out, _) = run(modelseal()
        .args(["--format", "json", "bom", "--check"])
        .arg(&broken));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], false);
    let problems: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"model-file:ghost\" resolves to no bom-ref")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("is not unique")),
        "{problems:#?}"
    );
    // Not JSON at all: exit 2.
    fs::write(&broken, "<bom/>").unwrap();
    let (code, _, err) = run(modelseal().arg("bom").arg("--check").arg(&broken));
    assert_eq!(code, 2);
    assert!(err.contains("not JSON"), "{err}");
}

#[test]
fn malformed_model_metadata_is_a_clear_error() {
    let cases: Vec<(&str, &[u8], &str)> = vec![
        (
            "README.md",
            b"---\nlicense: [unclosed\n---\n",
            "front matter is not valid YAML",
        ),
        ("README.md", b"---\nlicense: mit\n", "no closing"),
        (
            "config.json",
            b"{\"architectures\": [",
            "config.json is not valid JSON",
        ),
    ];
    for (file, bytes, want) in cases {
        let (tmp, model, _) = workspace();
        fs::write(model.join(file), bytes).unwrap();
        let (code, out, err) = bom_cmd(&model, &tmp.path().join("b.json"), &[]);
        assert_eq!(code, 2, "{file}: {out}{err}");
        assert!(err.contains(want), "{file}: {err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn a_safetensors_header_that_lies_is_a_clear_error() {
    let (tmp, model, _) = workspace();
    let header = br#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0u8; 16]);
    fs::write(model.join("model.safetensors"), bytes).unwrap();
    let (code, _, err) = bom_cmd(&model, &tmp.path().join("b.json"), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("model.safetensors: not a valid safetensors file"),
        "{err}"
    );
}

/// A BOM dated by the test clock says so; one dated by `SOURCE_DATE_EPOCH`
/// or `--timestamp` does not (its time came from no clock).
#[test]
fn a_bom_dated_by_the_test_clock_carries_the_mark() {
    let (tmp, model, _) = workspace();
    let out = tmp.path().join("m.cdx.json");
    let marked = |bom: &Value| bom.to_string().contains("\"modelseal:time-source\"");
    let (code, _, err) = run(modelseal()
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("bom")
        .arg(&model)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let bom = read_json(&out);
    assert_eq!(
        bom["metadata"]["timestamp"],
        test_now().to_string().as_str()
    );
    assert!(marked(&bom), "{bom}");
    assert_eq!(bom_cmd(&model, &out, &[]).0, 0);
    assert!(!marked(&read_json(&out)));
    let (code, _, err) = run(modelseal()
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("bom")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .args(["--timestamp", "2030-01-01T00:00:00Z"]));
    assert_eq!(code, 0, "{err}");
    assert!(!marked(&read_json(&out)));
}
