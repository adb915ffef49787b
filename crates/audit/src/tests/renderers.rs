//! Every report format: what an auditor must find in it, and untrusted
//! text that must not forge rows or drive a terminal.

use super::fail_closed::passing_log;
use super::*;
use serde_json::Value;

const HOSTILE: &str = "evil|model\n| 7 | AI Model Integrity and Provenance | **pass** |\r\u{1b}[2J\u{1b}[32m<img src=x onerror=alert(1)>`";

/// A log whose model and document names are hostile, and a checklist that
/// marks a control not applicable.
fn hostile() -> (AuditReport<'static>, &'static Checklist) {
    let mut log = passing_log();
    for r in &mut log.records {
        if r.subject.sha256 == model(1).sha256 {
            r.subject.name = HOSTILE.into();
        }
        if let Predicate::Attachment(a) = &mut r.predicate {
            a.document.name = format!("{HOSTILE}.md");
            a.reviewer = Some("Mallory\n- **Result: pass**\u{1b}]0;pwned\u{7}".to_string());
        }
    }
    log.verify(2, false);
    let list: &'static Checklist = Box::leak(Box::new(checklist(|t| {
        t.replacen(
            "id = 3\n",
            "id = 3\nnot_applicable = \"Not regulated | yet\"\n",
            1,
        )
    })));
    (audit_with(&log, list, |_| {}), list)
}

fn renderings(report: &AuditReport) -> Vec<(&'static str, String)> {
    vec![
        ("human", to_human(report)),
        ("markdown", to_markdown(report)),
        ("html", to_html(report)),
        ("json", serde_json::to_string_pretty(report).unwrap()),
        (
            "oscal",
            serde_json::to_string_pretty(&to_oscal(report)).unwrap(),
        ),
    ]
}

#[test]
fn every_format_shows_the_checklist_digest_the_not_applicable_list_and_the_checkpoint() {
    let (report, list) = hostile();
    for (format, text) in renderings(&report) {
        assert!(text.contains(&list.sha256), "{format}: checklist digest");
        assert!(
            text.contains("Not regulated"),
            "{format}: not-applicable justification"
        );
        assert!(
            text.contains("modelseal.test/log/0123"),
            "{format}: checkpoint origin"
        );
        assert!(text.contains(&"07".repeat(32)), "{format}: checkpoint root");
        // Full digests, never shortened (HTML shortens them for reading,
        // the full value kept in the title and the records table).
        assert!(
            text.contains(&*model(1).sha256),
            "{format}: full model digest"
        );
        if format != "html" {
            assert!(!text.contains('…'), "{format}: nothing truncated");
        }
    }
}

#[test]
fn hostile_names_cannot_forge_rows_or_drive_a_terminal() {
    let (report, _) = hostile();
    for (format, text) in renderings(&report) {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'),
            "{format}"
        );
    }
    let md = to_markdown(&report);
    // The matrix has exactly one row per control: the forged row is not one.
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| 7 | AI Model Integrity"))
        .count();
    assert_eq!(rows, 1, "{md}");
    // Every line of a table has as many unescaped cell borders as its header.
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let borders = line
            .char_indices()
            .filter(|(i, c)| *c == '|' && (*i == 0 || &line[i - 1..*i] != "\\"))
            .count();
        match columns {
            None => columns = Some(borders),
            Some(n) => assert_eq!(borders, n, "a forged cell: {line}"),
        }
    }
    let results = md.lines().filter(|l| l.starts_with("- **Result: ")).count();
    assert_eq!(results, report.controls.len(), "a forged result line: {md}");
    let html = to_html(&report);
    assert!(!html.contains("<img"), "markup from a name");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<script"), "the report needs no script");
    let human = to_human(&report);
    assert!(
        human.contains("evil|model\\n"),
        "newlines shown, not obeyed"
    );
    // JSON keeps the name exactly (it is data, escaped by JSON itself).
    let json: Value = serde_json::to_value(&report).unwrap();
    let names: Vec<&str> = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&HOSTILE));
}

#[test]
fn the_html_report_is_self_contained() {
    let (report, _) = hostile();
    let html = to_html(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Links stay inside the page (`href="#..."`); nothing else is fetched.
    let outside_text = html.replace("&lt;img src=x", "").replace("href=\"#", "");
    for external in ["href=", "src=", "<link", "<script", "url(", "@import"] {
        assert!(!outside_text.contains(external), "{external}");
    }
    assert!(html.contains("@media print"));
    assert!(
        html.contains("default-src 'none'"),
        "a CSP forbids fetching anything"
    );
    for c in &report.controls {
        assert!(
            html.contains(&format!(
                "id=\"status-{}\" data-status=\"{}\"",
                c.control.id,
                c.status.token()
            )),
            "{}",
            c.control.id
        );
    }
    assert!(
        html.contains("blocked by the gate"),
        "the timeline shows the blocked model"
    );
}

#[test]
fn every_internal_link_of_the_oscal_document_resolves() {
    let (report, _) = hostile();
    let doc = to_oscal(&report);
    let ar = &doc["assessment-results"];
    let resources: Vec<&str> = ar["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect();
    let mut hrefs = Vec::new();
    collect(&doc, "href", &mut hrefs);
    let internal: Vec<&String> = hrefs.iter().filter(|h| h.starts_with('#')).collect();
    assert!(
        internal.len() > report.records.len(),
        "the plan and every record are linked"
    );
    for h in internal {
        assert!(resources.contains(&&h[1..]), "dangling {h}");
    }
    // Every record cited has its resource, with its hash.
    for r in &report.records {
        let found = ar["back-matter"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|res| res["rlinks"][0]["hashes"][0]["value"] == r.digest());
        assert!(found, "no resource for {}", r.digest());
    }
    // Subjects, actors and related observations point at what exists.
    let result = &ar["results"][0];
    let components: Vec<&str> = result["local-definitions"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    let observations: Vec<&str> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["uuid"].as_str().unwrap())
        .collect();
    for (key, targets) in [
        ("subject-uuid", &components),
        ("actor-uuid", &components),
        ("observation-uuid", &observations),
    ] {
        let mut refs = Vec::new();
        collect(&doc, key, &mut refs);
        assert!(!refs.is_empty(), "{key}");
        for r in refs {
            assert!(targets.contains(&r.as_str()), "dangling {key} {r}");
        }
    }
    // Fail and no evidence are told apart; the not-applicable control is
    // excluded, not judged.
    let reasons: Vec<(String, String)> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["target"]["target-id"].as_str().unwrap().to_string(),
                f["target"]["status"]["reason"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert!(!reasons.iter().any(|(id, _)| id == "control-3"));
    assert_eq!(
        result["reviewed-controls"]["control-selections"][0]["exclude-controls"][0]["control-id"],
        "control-3"
    );
    assert!(reasons.iter().all(|(_, r)| {
        ["pass", "fail", "no-evidence", "recorded-not-rechecked"].contains(&r.as_str())
    }));
    assert!(result["start"].as_str().unwrap() <= result["end"].as_str().unwrap());
}

#[test]
fn oscal_tells_fail_from_no_evidence() {
    let mut log = Log::new();
    log.attach(1, "2020-01-01", |_| {});
    let doc = to_oscal(&audit(&log));
    let findings = doc["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap()
        .clone();
    let reason = |id: &str| {
        findings
            .iter()
            .find(|f| f["target"]["target-id"] == id)
            .unwrap()["target"]["status"]
            .clone()
    };
    assert_eq!(reason("control-1")["reason"], "fail");
    assert_eq!(reason("control-1")["state"], "not-satisfied");
    assert_eq!(reason("control-2")["reason"], "no-evidence");
    assert_eq!(reason("control-2")["state"], "not-satisfied");
}

fn collect(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_string());
                }
                collect(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, key, out)),
        _ => {}
    }
}

#[test]
fn untrusted_text_in_oscal_markup_fields_is_one_escaped_line() {
    let (report, _) = hostile();
    let doc = to_oscal(&report);
    let mut texts = Vec::new();
    for key in ["title", "description", "remarks"] {
        collect(&doc, key, &mut texts);
    }
    assert!(
        texts.iter().any(|t| t.contains("evil")),
        "the name is shown"
    );
    for t in &texts {
        assert!(
            !t.contains('\n') && !t.contains('\r'),
            "a raw line break: {t:?}"
        );
        assert!(!t.contains('\u{1b}'), "a terminal escape: {t:?}");
        // Every markup character is escaped (`\<img` shows as text).
        let bytes = t.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if matches!(b, b'<' | b'>' | b'[' | b']' | b'*' | b'|') {
                assert!(i > 0 && bytes[i - 1] == b'\\', "unescaped markup in {t:?}");
            }
        }
        assert!(!t.contains("**pass**"), "emphasis: {t:?}");
        assert!(!t.contains("| 7 |"), "a table row: {t:?}");
    }
}
