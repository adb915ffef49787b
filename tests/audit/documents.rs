//! `audit --documents DIR`: the documents the auditor was given are
//! re-hashed, by file name, against the digests recorded.

use super::*;
use std::fs;

#[test]
fn the_documents_given_must_match_the_records() {
    let ws = Workspace::new();
    ws.attach_all();
    let given = ws.path("given");
    fs::create_dir(&given).unwrap();
    for id in [1, 2, 3, 5, 6, 8] {
        let name = format!("control-{id}.md");
        fs::copy(ws.path(&name), given.join(&name)).unwrap();
    }
    let dir = given.to_str().unwrap();
    let (_, report) = ws.audit_json(&["--documents", dir]);
    for id in [1, 2, 3, 5, 6, 8] {
        assert_eq!(status(&report, id), "pass", "{id}: {report:#}");
        assert_eq!(control(&report, id)["documents"][0]["rehashed"], true);
    }
    assert_eq!(report["documents"], dir);
    // A document edited after its review, and one not given.
    fs::write(given.join("control-2.md"), "# Edited afterwards\n").unwrap();
    fs::remove_file(given.join("control-3.md")).unwrap();
    let (code, report) = ws.audit_json(&["--documents", dir]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, 2), "fail");
    assert_eq!(control(&report, 2)["documents"][0]["outcome"], "changed");
    assert_eq!(status(&report, 3), "fail");
    assert_eq!(control(&report, 3)["documents"][0]["outcome"], "missing");
    assert_eq!(status(&report, 1), "pass");
    // Without --documents, the digests are taken as recorded, and the
    // report says so.
    let (_, human, _) = ws.audit("human", &[]);
    assert!(human.contains("not re-hashed"), "{human}");
    // --documents must be a directory.
    let (code, _, err) = run(ws
        .cmd()
        .args(["audit", "--documents"])
        .arg(ws.path("control-1.md")));
    assert_eq!(code, 2, "{err}");
}
