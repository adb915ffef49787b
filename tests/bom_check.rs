//! `bom --check` reads a BOM as a stream: a regular file of any size, each
//! component bounded; a pipe still capped; strict JSON inside components.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// A BOM of the tiny model, as `modelseal bom` writes it.
fn written_bom(dir: &Path) -> String {
    let (_tmp, model) = tiny_model();
    let out = dir.join("m.cdx.json");
    let (code, _, err) = run(modelseal().arg("bom").arg(&model).arg("--out").arg(&out));
    assert_eq!(code, 0, "{err}");
    fs::read_to_string(out).unwrap()
}

fn check(file: &Path) -> (i32, String, String) {
    run(modelseal()
        .timeout(Duration::from_secs(120))
        .arg("bom")
        .arg("--check")
        .arg(file))
}

/// Exit 2 with a single `error:` line containing `want`.
fn refused(result: (i32, String, String), want: &str) {
    let (code, out, err) = result;
    assert_eq!(code, 2, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("error: ") && lines[0].contains(want),
        "{err}"
    );
}

#[test]
fn a_written_bom_checks_valid_and_a_repeated_key_in_a_component_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bom = written_bom(tmp.path());
    let file = tmp.path().join("b.json");
    fs::write(&file, &bom).unwrap();
    let (code, out, err) = check(&file);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("valid: "), "{out}");
    let twice = bom.replacen(
        "\"type\": \"file\",",
        "\"type\": \"file\", \"type\": \"file\",",
        1,
    );
    assert_ne!(twice, bom);
    fs::write(&file, twice).unwrap();
    refused(
        check(&file),
        "duplicate JSON key \"type\" in the object at $.components[0]",
    );
}

#[test]
fn an_oversized_component_is_refused_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bom: Value = serde_json::from_str(&written_bom(tmp.path())).unwrap();
    let max = modelseal::bom::MAX_BOM_ITEM as usize;
    bom["components"][0]["description"] = Value::String("x".repeat(max));
    let file = tmp.path().join("big.json");
    fs::write(&file, serde_json::to_vec(&bom).unwrap()).unwrap();
    refused(
        check(&file),
        &format!("/components/0 is larger than {max} bytes"),
    );
}

#[test]
fn a_dataset_larger_than_the_item_cap_through_its_files_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (_model_tmp, model) = tiny_model();
    let dataset = tmp.path().join("ds");
    fs::create_dir(&dataset).unwrap();
    for i in 0..20 {
        fs::write(dataset.join(format!("{i}.csv")), format!("row {i}\n")).unwrap();
    }
    let out = tmp.path().join("m.cdx.json");
    let (code, _, err) = run(modelseal()
        .arg("bom")
        .arg(&model)
        .arg("--dataset")
        .arg(&dataset)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    let mut bom: Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    // Each file of the dataset under the cap; the dataset, files included, over it.
    let max = modelseal::bom::MAX_BOM_ITEM as usize;
    let components = bom["components"].as_array_mut().unwrap();
    let at = components.iter().position(|c| c["type"] == "data").unwrap();
    let files = components[at]["components"].as_array_mut().unwrap();
    assert_eq!(files.len(), 20);
    for file in files.iter_mut() {
        file["description"] = Value::String("x".repeat(max / 16));
    }
    assert!(components[at].to_string().len() > max);
    let file = tmp.path().join("ds.json");
    fs::write(&file, serde_json::to_vec(&bom).unwrap()).unwrap();
    let (code, out, err) = check(&file);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.starts_with("valid: "), "{out}");
    // A problem inside one of the files is found and located.
    bom["components"][at]["components"][7]["type"] = Value::String("spaceship".into());
    fs::write(&file, serde_json::to_vec(&bom).unwrap()).unwrap();
    let (code, out, err) = check(&file);
    assert_eq!(code, 1, "{out}{err}");
    let want = format!("  /components/{at}/components/7/type: ");
    assert!(out.lines().any(|l| l.starts_with(&want)), "{out}");
}

#[test]
fn a_bom_from_a_pipe_is_still_capped() {
    // Valid JSON as far as it goes: components padded to 1 MiB each, more
    // of them than the pipe cap allows; the reader stops first.
    let script = r#"set -e
"$1" bom --check <(
  exec 2>/dev/null
  printf '{"bomFormat":"CycloneDX","specVersion":"1.6","components":['
  for i in $(seq 0 399); do
    [ "$i" = 0 ] || printf ','
    head -c 1048576 /dev/zero | tr '\0' ' '
    printf '{"type":"file","name":"%s"}' "$i"
  done
  printf ']}'
)
"#;
    let result = run(assert_cmd::Command::new("bash")
        .timeout(Duration::from_secs(120))
        .args(["-c", script, "bash"])
        .arg(assert_cmd::cargo::cargo_bin("modelseal")));
    refused(
        result,
        &format!(
            "is larger than {} bytes, the most read for a BOM file",
            modelseal::bundle::MAX_BUNDLE_SIZE
        ),
    );
}
