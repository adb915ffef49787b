//! Formats judged the way their real loaders read them: files written by
//! the real writers (the `onnx` and `h5py` packages, installed by
//! `scripts/install-test-deps.sh`), loaded by the real loaders in the test
//! to show what they do, and modelseal's verdict compared with it. Where no
//! writer installs in reasonable time (TensorFlow, for SavedModel), the
//! file is encoded here from the published message definitions.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn loaders_dir() -> PathBuf {
    root().join("tests/loaders")
}

/// Runs a script of tests/loaders with the test tools' Python.
fn python(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = external_tool("python3")
        .arg(loaders_dir().join(script))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `modelseal --format json inspect PATH`: (exit code, reports).
fn inspect(path: &Path) -> (i32, Vec<Value>) {
    let (code, out, err) = run(modelseal().args(["--format", "json", "inspect"]).arg(path));
    if code == 2 {
        return (code, Vec::new());
    }
    assert!(code == 0 || code == 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let reports = v
        .get("files")
        .and_then(Value::as_array)
        .or_else(|| v.as_array())
        .unwrap_or_else(|| panic!("no reports in {out}"))
        .clone();
    (code, reports)
}

fn findings(reports: &[Value], name: &str) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r["name"] == name)
        .flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            format!(
                "{}: {}",
                f["severity"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn onnx_external_data_is_judged_as_onnx_loads_it() {
    let tmp = tempfile::tempdir().unwrap();
    python("onnx_cases.py", &["write".as_ref(), tmp.path().as_os_str()]);
    let models = tmp.path().join("models");
    let mut seen = Vec::new();
    for entry in fs::read_dir(&models).unwrap() {
        let dir = entry.unwrap().path();
        let case = dir.file_name().unwrap().to_str().unwrap().to_string();
        let loaded: Value = serde_json::from_str(&python(
            "onnx_cases.py",
            &["load".as_ref(), dir.join("model.onnx").as_os_str()],
        ))
        .unwrap();
        let (code, reports) = inspect(&dir);
        let model = findings(&reports, "model.onnx");
        // Never "ok" for a model whose loader read bytes from outside it.
        assert!(
            !(code == 0 && loaded["read_outside"] == true),
            "{case}: modelseal passed what onnx read from outside: {model:?}"
        );
        match case.as_str() {
            "inside" => {
                assert_eq!(loaded["loaded"], true);
                assert_eq!(code, 0, "{case}: {model:?}");
                let r = reports.iter().find(|r| r["name"] == "model.onnx").unwrap();
                assert_eq!(r["details"]["external_data"][0], "weights.bin");
                let w = reports.iter().find(|r| r["name"] == "weights.bin").unwrap();
                assert_eq!(w["format"], "onnx-data");
            }
            "custom" => {
                assert_eq!(code, 0, "{model:?}");
                assert!(
                    model
                        .iter()
                        .any(|f| f.starts_with("warning") && f.contains("com.example (1 nodes)")),
                    "{model:?}"
                );
            }
            "dotdot" | "nested" => {
                assert_eq!(code, 1);
                assert!(
                    model
                        .iter()
                        .any(|f| f.starts_with("dangerous") && f.contains("(..)")),
                    "{model:?}"
                );
            }
            "absolute" => {
                assert_eq!(code, 1);
                assert!(model.iter().any(|f| f.contains("is absolute")), "{model:?}");
            }
            "missing" => {
                assert_eq!(code, 1);
                assert!(
                    model.iter().any(
                        |f| f.contains("missing.bin is not one of the model's inspected files")
                    ),
                    "{model:?}"
                );
            }
            // A link is not followed: the model is refused whole.
            "symlink" => assert_eq!(code, 2),
            "ort-memory" => {
                assert_eq!(code, 1);
                assert!(
                    model.iter().any(|f| f.contains("in-memory tag")),
                    "{model:?}"
                );
            }
            "unknown-field" => {
                assert_eq!(code, 1);
                assert!(
                    model
                        .iter()
                        .any(|f| f.starts_with("dangerous") && f.contains("(..)")),
                    "{model:?}"
                );
            }
            "laundering" => {
                assert_eq!(code, 1);
                let evil = reports.iter().find(|r| r["name"] == "evil.onnx").unwrap();
                assert_ne!(evil["format"], "onnx-data", "{evil}");
                assert!(!findings(&reports, "evil.onnx").is_empty());
            }
            other => panic!("unexpected case {other}"),
        }
        seen.push(case);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "absolute",
            "custom",
            "dotdot",
            "inside",
            "laundering",
            "missing",
            "nested",
            "ort-memory",
            "symlink",
            "unknown-field"
        ]
    );
}

/// Writes a policy trusting the demo key, without a BOM, plus `extra`.
fn policy(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("policy.toml");
    fs::write(
        &path,
        format!(
            "[signers]\nkeys = [{:?}]\n[require]\nbom = false\nallow_ignore_unsigned_files = true\n{extra}",
            demo_key().1.to_str().unwrap()
        ),
    )
    .unwrap();
    path
}

fn verify_with(model: &Path, sig: &Path, policy: &Path, extra: &[&str]) -> (i32, String) {
    let (code, out, err) = run(modelseal()
        .arg("verify")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--policy")
        .arg(policy)
        .args(extra));
    (code, format!("{out}{err}"))
}

#[test]
fn onnx_external_data_must_be_a_signed_file() {
    let tmp = tempfile::tempdir().unwrap();
    python("onnx_cases.py", &["write".as_ref(), tmp.path().as_os_str()]);
    let model = tmp.path().join("models/inside");
    let policy = policy(tmp.path(), "");
    // Signed whole: verifies under the policy.
    let sig = tmp.path().join("whole.sig");
    sign_demo(&model, &sig);
    let (code, out) = verify_with(&model, &sig, &policy, &[]);
    assert_eq!(code, 0, "{out}");
    // The weights left out of the signature and tolerated at verification:
    // onnx would read unsigned bytes.
    let sig = tmp.path().join("partial.sig");
    let (code, _, err) =
        run(demo_sign_args(&mut modelseal(), &model, &sig, None)
            .args(["--ignore-path", "weights.bin"]));
    assert_eq!(code, 0, "{err}");
    let (code, out) = verify_with(&model, &sig, &policy, &["--ignore-unsigned-files"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("external data weights.bin is not one of the model's signed files"),
        "{out}"
    );
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn remote_code_is_reported_and_denied_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    write(
        &model.join("config.json"),
        r#"{"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}}"#,
    );
    write(&model.join("modeling_x.py"), "import os\nos.system('id')\n");
    write(
        &model.join("tokenizer_config.json"),
        r#"{"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", null]}}"#,
    );
    write(&model.join("tokenization_x.py"), "class XTokenizer: pass\n");
    // A string that merely mentions auto_map is inert data.
    write(
        &model.join("notes.json"),
        r#"{"text": "auto_map: modeling_evil.Evil"}"#,
    );
    let sig = tmp.path().join("model.sig");
    sign_demo(&model, &sig);

    let (code, reports) = inspect(&model);
    assert_eq!(code, 0);
    let config = findings(&reports, "config.json");
    assert!(
        config
            .iter()
            .any(|f| f == "warning: remote code: trust_remote_code=True imports modeling_x.py"),
        "{config:?}"
    );
    assert!(findings(&reports, "notes.json").is_empty());

    let deny = policy(tmp.path(), "");
    let (code, out) = verify_with(&model, &sig, &deny, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "config.json: imports remote code (modeling_x.py), which the policy does not allow"
        ),
        "{out}"
    );
    assert!(
        out.contains("tokenizer_config.json: imports remote code (tokenization_x.py)"),
        "{out}"
    );

    let allow = policy(tmp.path(), "[formats]\nremote_code = \"allow\"\n");
    let (code, out) = verify_with(&model, &sig, &allow, &[]);
    assert_eq!(code, 0, "{out}");

    // Code from another repository, or a module that is not signed: unsafe
    // whatever the rule says.
    write(
        &model.join("config.json"),
        r#"{"auto_map": {"AutoModel": "someone/else--modeling_y.YModel", "AutoConfig": "configuration_z.Z"}}"#,
    );
    let sig = tmp.path().join("again.sig");
    sign_demo(&model, &sig);
    let (code, out) = verify_with(&model, &sig, &allow, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("remote code from other repositories"), "{out}");
    let (code, reports) = inspect(&model);
    assert_eq!(code, 1);
    let config = findings(&reports, "config.json");
    assert!(
        config.iter().any(|f| f
            .contains("remote code configuration_z.py is not one of the model's inspected files")),
        "{config:?}"
    );
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A length-delimited protobuf field, enough to encode a SavedModel.
fn field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(number << 3 | 2), &mut out);
    varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// A `NodeDef` named `name` running `op`.
fn node(name: &str, op: &str) -> Vec<u8> {
    [field(1, name.as_bytes()), field(2, op.as_bytes())].concat()
}

/// A `SavedModel` (schema version 1) with one meta graph whose graph holds
/// `nodes` and one library function holding `function_nodes`.
fn saved_model(nodes: &[Vec<u8>], function_nodes: &[Vec<u8>]) -> Vec<u8> {
    let mut graph: Vec<u8> = nodes.iter().flat_map(|n| field(1, n)).collect();
    let function: Vec<u8> = function_nodes.iter().flat_map(|n| field(3, n)).collect();
    graph.extend(field(2, &field(1, &function)));
    let meta = field(2, &graph);
    [vec![0x08, 0x01], field(2, &meta)].concat()
}

#[test]
fn savedmodel_operations_that_reach_files_or_python_are_unsafe() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain/saved_model.pb");
    let evil = tmp.path().join("evil/saved_model.pb");
    fs::create_dir_all(plain.parent().unwrap()).unwrap();
    fs::create_dir_all(evil.parent().unwrap()).unwrap();
    let checkpoint = [
        node("x", "Placeholder"),
        node("m", "MatMul"),
        node("save", "SaveV2"),
        node("restore", "RestoreV2"),
    ];
    fs::write(&plain, saved_model(&checkpoint, &[node("f", "Identity")])).unwrap();
    fs::write(
        &evil,
        saved_model(
            &[node("x", "Placeholder"), node("r", "ReadFile")],
            &[node("p", "EagerPyFunc"), node("w", "WriteFile")],
        ),
    )
    .unwrap();
    let (code, reports) = inspect(&plain);
    assert_eq!(code, 0, "{reports:?}");
    assert_eq!(reports[0]["format"], "tf-savedmodel");
    assert_eq!(reports[0]["details"]["checkpoint_ops"]["RestoreV2"], 1);
    let (code, reports) = inspect(&evil);
    assert_eq!(code, 1);
    let f = findings(&reports, "saved_model.pb");
    assert!(
        f.iter().any(|f| f.starts_with("dangerous")
            && f.contains("EagerPyFunc (1 nodes), ReadFile (1 nodes), WriteFile (1 nodes)")),
        "{f:?}"
    );
    // An unknown top-level field TensorFlow skips (field 7, which also
    // makes the file look like ONNX; field 3) does not hide the ops.
    for extra in [field(7, &[]), field(3, b"x")] {
        let dir = tmp.path().join(format!("extra{}", extra[0]));
        fs::create_dir_all(&dir).unwrap();
        let mut bytes = saved_model(&[node("p", "PyFunc")], &[]);
        bytes.extend(extra);
        fs::write(dir.join("saved_model.pb"), bytes).unwrap();
        let (code, reports) = inspect(&dir);
        assert_eq!(code, 1, "{reports:?}");
        assert!(
            findings(&reports, "saved_model.pb")
                .iter()
                .any(|f| f.contains("PyFunc")),
            "{reports:?}"
        );
    }
    // The text form TensorFlow reads by its name is not read: undecided.
    let text = tmp.path().join("text");
    fs::create_dir_all(&text).unwrap();
    fs::write(
        text.join("saved_model.pbtxt"),
        "saved_model_schema_version: 1\n",
    )
    .unwrap();
    let (code, reports) = inspect(&text);
    assert_eq!(code, 1, "{reports:?}");
}

/// Every global named in a report's details (under any `globals` list).
fn reported_globals(details: &Value, out: &mut std::collections::BTreeSet<String>) {
    match details {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "globals"
                    && let Some(list) = value.as_array()
                {
                    out.extend(
                        list.iter()
                            .filter_map(|g| g["name"].as_str().map(str::to_string)),
                    );
                } else {
                    reported_globals(value, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| reported_globals(v, out)),
        _ => {}
    }
}

#[test]
fn a_public_scanner_corpus_is_judged_as_python_loads_it() {
    let corpus = root().join("tests/corpus/picklescan");
    let expected = fs::read_to_string(corpus.join("expected.tsv")).unwrap();
    let mut checked = 0;
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut cols = line.split('\t');
        let (path, verdict) = (cols.next().unwrap(), cols.next().unwrap());
        let file = corpus.join(path);
        let (code, reports) = inspect(&file);
        let want = match verdict {
            "refused" => 1,
            "accepted" => 0,
            other => panic!("{path}: verdict {other}"),
        };
        assert_eq!(code, want, "{path}: {reports:?}");
        // What Python's unpickler imports, modelseal reports.
        let out = external_tool("python3")
            .arg(root().join("tests/corpus/imports.py"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{path}");
        let imported: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        let mut reported = std::collections::BTreeSet::new();
        for r in &reports {
            reported_globals(&r["details"], &mut reported);
        }
        for g in &imported {
            assert!(
                reported.contains(g),
                "{path}: Python imports {g}, modelseal reports {reported:?}"
            );
        }
        checked += 1;
    }
    // Every file of the corpus has a verdict.
    let files = ["data", "data2"]
        .iter()
        .map(|d| fs::read_dir(corpus.join(d)).unwrap().count())
        .sum::<usize>();
    assert_eq!(checked, files);
    assert!(checked >= 100, "{checked}");
}

#[test]
fn keras_hdf5_models_are_judged_by_their_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cases");
    python("keras_cases.py", &["write".as_ref(), dir.as_os_str()]);
    // (file, exit code, a finding that must be there)
    let cases: &[(&str, i32, &str)] = &[
        ("plain.h5", 0, ""),
        (
            "lambda.h5",
            1,
            "Keras Lambda layer: its Python code runs on load",
        ),
        ("named-lambda.h5", 0, ""),
        ("lambda-bytes.h5", 1, "Keras Lambda layer"),
        ("latest-plain.h5", 0, ""),
        ("latest-lambda.h5", 1, "Keras Lambda layer"),
        ("dense-plain.h5", 0, ""),
        ("dense-lambda.h5", 1, "Keras Lambda layer"),
        ("large-lambda.h5", 1, "Keras Lambda layer"),
        ("training-custom.h5", 1, "from module \"os\""),
        ("userblock-lambda.h5", 1, "Keras Lambda layer"),
        ("dataset.h5", 0, ""),
        ("keras-plain.h5", 0, ""),
        ("keras-lambda.h5", 1, "Keras Lambda layer"),
    ];
    for (file, want, finding) in cases {
        let (code, reports) = inspect(&dir.join(file));
        let found = findings(&reports, file);
        assert_eq!(code, *want, "{file}: {found:?}");
        assert_eq!(reports[0]["format"], "hdf5", "{file}");
        if !finding.is_empty() {
            assert!(
                found
                    .iter()
                    .any(|f| f.starts_with("dangerous") && f.contains(finding)),
                "{file}: {found:?}"
            );
        }
    }
    // What the real loader does with the two models Keras saved itself:
    // the Lambda's code runs; the plain model runs nothing.
    for (file, ran) in [("keras-lambda.h5", true), ("keras-plain.h5", false)] {
        let marker = dir.join("marker");
        let _ = fs::remove_file(&marker);
        let loaded: Value = serde_json::from_str(&python(
            "keras_cases.py",
            &[
                "load".as_ref(),
                dir.join(file).as_os_str(),
                marker.as_os_str(),
            ],
        ))
        .unwrap();
        assert_eq!(loaded["loaded"], true, "{file}");
        assert_eq!(loaded["ran"], ran, "{file}");
    }
}
