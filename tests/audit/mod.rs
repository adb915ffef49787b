//! The audit through the command line: what an auditor runs and receives.

mod cli;
mod documents;
mod golden;
mod html;

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A workspace with an evidence key and a log; commands get both through
/// the environment, as a pipeline would set them.
pub struct Workspace {
    pub tmp: tempfile::TempDir,
    pub log: PathBuf,
    pub key: PathBuf,
}

/// A signed model: its directory, signature, BOM and root digest.
pub struct Signed {
    pub dir: PathBuf,
    pub sig: PathBuf,
    pub bom: PathBuf,
    pub digest: String,
}

impl Workspace {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = tmp.path().join("evidence");
        assert_eq!(
            run(modelseal().arg("keygen").arg("--out").arg(&prefix)).0,
            0
        );
        Workspace {
            log: tmp.path().join("evidence.jsonl"),
            key: tmp.path().join("evidence.priv.pem"),
            tmp,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = modelseal();
        c.env("MODELSEAL_EVIDENCE", &self.log)
            .env("MODELSEAL_EVIDENCE_KEY", &self.key);
        c
    }

    /// A copy of the tiny model named `name` (with a file that makes its
    /// digest its own), signed with a BOM.
    pub fn signed_model(&self, name: &str) -> Signed {
        let dir = self.path(name);
        copy_tree(&fixture("tiny-model"), &dir);
        std::fs::write(dir.join("variant.txt"), format!("{name}\n")).unwrap();
        let sig = self.path(&format!("{name}.sig"));
        let bom = self.path(&format!("{name}.cdx.json"));
        // The model card names its training data: given, the BOM pins it.
        let (code, out, err) = run(demo_sign_args(
            self.cmd().args(["--format", "json"]),
            &dir,
            &sig,
            Some(&bom),
        )
        .arg("--dataset")
        .arg(fixture("tiny-dataset")));
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        Signed {
            digest: v["subject"]["digest"]["sha256"]
                .as_str()
                .unwrap()
                .to_string(),
            dir,
            sig,
            bom,
        }
    }

    /// Verifies `model` (at `dir`) with its BOM under a deploy policy that
    /// trusts the demo key; the exit code.
    pub fn verify_at(&self, model: &Signed, dir: &Path) -> i32 {
        run(demo_verify_args(&mut self.cmd(), dir, &model.sig)
            .arg("--bom")
            .arg(&model.bom)
            .arg("--policy")
            .arg(demo_policy(self.tmp.path())))
        .0
    }

    pub fn verify(&self, model: &Signed) -> i32 {
        self.verify_at(model, &model.dir)
    }

    /// `evidence deploy` of `model`; (code, stdout, stderr).
    pub fn deploy(&self, model: &Signed, extra: &[&str]) -> (i32, String, String) {
        run(self
            .cmd()
            .args([
                "evidence", "deploy", "--name", "m", "--target", "prod", "--model",
            ])
            .arg(format!("sha256:{}", model.digest))
            .args(extra))
    }

    /// Writes a document and attaches it to `control`; (code, stdout, stderr).
    pub fn attach(&self, control: u32, extra: &[&str]) -> (i32, String, String) {
        let doc = self.path(&format!("control-{control}.md"));
        std::fs::write(&doc, format!("# Document for control {control}\n")).unwrap();
        run(self
            .cmd()
            .args(["evidence", "attach", "--control", &control.to_string()])
            .arg("--file")
            .arg(&doc)
            .args(extra))
    }

    /// Attaches a document, reviewed today, to every document control.
    pub fn attach_all(&self) {
        for id in [1, 2, 3, 5, 6, 8] {
            let (code, _, err) = self.attach(id, &["--reviewer", "Security lead"]);
            assert_eq!(code, 0, "{err}");
        }
    }

    /// `audit` in `format`; (code, stdout, stderr). Exit 0 or 1 only.
    pub fn audit(&self, format: &str, extra: &[&str]) -> (i32, String, String) {
        let (code, out, err) = run(self.cmd().args(["--format", format, "audit"]).args(extra));
        assert!(code == 0 || code == 1, "audit exit {code}: {err}");
        (code, out, err)
    }

    /// `audit --format json`: (code, report).
    pub fn audit_json(&self, extra: &[&str]) -> (i32, Value) {
        let (code, out, err) = self.audit("json", extra);
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
        )
    }

    /// Every record, as `evidence list --format json` shows them.
    pub fn records(&self) -> Vec<Value> {
        let (code, out, err) = run(self.cmd().args(["--format", "json", "evidence", "list"]));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }
}

/// The test clock's day (UTC) plus `days`, as YYYY-MM-DD.
pub fn day(days: i64) -> String {
    test_day(days)
}

/// A control of a JSON report.
pub fn control(report: &Value, id: u64) -> &Value {
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

/// A control's status in a JSON report.
pub fn status(report: &Value, id: u64) -> String {
    control(report, id)["status"].as_str().unwrap().to_string()
}
