//! `audit --format html` rendered by headless Chromium (Debian package
//! `chromium`, installed by scripts/install-test-deps.sh): the screenshot
//! is not blank and the page holds each control's status.

use super::*;
use std::fs;
use std::process::Command;

/// Runs headless Chromium on `page` with a fresh profile, no network
/// services and no sandbox (the tests may run as root); `extra` says what
/// to produce. Returns stdout.
fn chromium(page: &Path, profile: &Path, extra: &[String]) -> String {
    external_tool("chromium");
    let out = Command::new("timeout")
        .arg("300")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Share of pixels that are not (near) white.
fn ink(png_file: &Path) -> (f64, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(png_file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = buf[..info.buffer_size()].chunks(channels);
    let total = (info.width * info.height) as f64;
    let inked = pixels
        .filter(|p| p.iter().take(3).any(|&c| c < 235))
        .count() as f64;
    (inked / total, info.width, info.height)
}

#[test]
fn the_html_report_renders_in_chromium_with_every_status() {
    let ws = Workspace::new();
    let good = ws.signed_model("good");
    let bad = ws.signed_model("bad");
    assert_eq!(ws.verify(&good), 0);
    fs::write(bad.dir.join("config.json"), "{\"tampered\": true}\n").unwrap();
    assert_eq!(ws.verify(&bad), 1);
    let (code, _, err) = ws.deploy(&good, &[]);
    assert_eq!(code, 0, "{err}");
    for id in [1, 2, 3, 5] {
        let (code, _, err) = ws.attach(id, &["--reviewer", "CISO"]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = ws.attach(6, &["--reviewer", "Red team", "--reviewed", &day(-400)]);
    assert_eq!(code, 0, "{err}");
    let (_, report) = ws.audit_json(&[]);
    let (code, page, _) = ws.audit("html", &[]);
    assert_eq!(code, 1, "control 6 is stale and 8 has no evidence");
    let file = ws.path("audit-report.html");
    fs::write(&file, &page).unwrap();

    let png_file = ws.path("audit-report.png");
    chromium(
        &file,
        &ws.path("profile-shot"),
        &[
            format!("--screenshot={}", png_file.display()),
            "--window-size=1280,2400".into(),
        ],
    );
    let (share, width, height) = ink(&png_file);
    println!(
        "screenshot {width}x{height}: {:.1}% of the pixels inked",
        share * 100.0
    );
    assert_eq!((width, height), (1280, 2400));
    assert!(share > 0.02, "the screenshot is (nearly) blank: {share}");
    assert!(share < 0.9, "the screenshot is (nearly) all ink: {share}");
    // Kept for people to look at: target/tmp/audit-report.png.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report.png");
    fs::copy(&png_file, &kept).unwrap();

    let dom = chromium(&file, &ws.path("profile-dom"), &["--dump-dom".into()]);
    let mut seen = std::collections::BTreeSet::new();
    for c in report["controls"].as_array().unwrap() {
        let (id, token) = (c["id"].as_u64().unwrap(), c["status"].as_str().unwrap());
        let cell = format!("id=\"status-{id}\" data-status=\"{token}\"");
        assert!(dom.contains(&cell), "control {id} is not shown as {token}");
        seen.insert(token.to_string());
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["fail", "no-evidence", "pass", "recorded-not-rechecked"],
        "the page shows every kind of status"
    );
    assert!(dom.contains("AUDIT FAILED"));
    assert!(
        dom.contains("blocked by the gate"),
        "the timeline shows the blocked model"
    );
    assert!(dom.contains(&good.digest) && dom.contains(&bad.digest));
}

/// The report as an auditor reads and files it: the matrix links to each
/// finding and each finding to the records it relies on (every link lands
/// on an element of the page); long digests are shortened with the full
/// value kept; datasets are listed apart from models; nothing runs past
/// the right edge at 800 px; printed, every page is numbered by the
/// report's own print CSS (the browser's header and footer turned off).
#[test]
fn the_html_report_links_shortens_sets_datasets_apart_and_numbers_printed_pages() {
    let ws = Workspace::new();
    // A dataset, signed on its own, that the model's BOM names.
    let data = ws.path("train");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("train.jsonl"), "{\"text\": \"a\"}\n").unwrap();
    let (code, _, err) = run(demo_sign_args(
        &mut ws.cmd(),
        &data,
        &ws.path("train.sig"),
        None,
    ));
    assert_eq!(code, 0, "{err}");
    let model = ws.path("m");
    copy_tree(&fixture("tiny-model"), &model);
    let sig = ws.path("m.sig");
    let bom = ws.path("m.cdx.json");
    let (code, _, err) = run(demo_sign_args(&mut ws.cmd(), &model, &sig, Some(&bom))
        .arg("--dataset")
        .arg(&data));
    assert_eq!(code, 0, "{err}");
    let signed = Signed {
        digest: String::new(),
        dir: model.clone(),
        sig,
        bom,
    };
    assert_eq!(ws.verify(&signed), 0);
    ws.attach_all();
    let (_, report) = ws.audit_json(&[]);
    let kinds: Vec<(bool, String)> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["dataset"].as_bool().unwrap(),
                m["model"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(kinds.contains(&(true, "train".into())), "{kinds:?}");
    assert!(kinds.contains(&(false, "m".into())), "{kinds:?}");
    let (_, page, _) = ws.audit("html", &[]);
    let file = ws.path("report.html");
    fs::write(&file, &page).unwrap();
    let dom = chromium(&file, &ws.path("profile-dom"), &["--dump-dom".into()]);
    // Every in-page link lands on an element.
    let mut links = 0;
    for part in dom.split("href=\"#").skip(1) {
        let target = &part[..part.find('"').unwrap()];
        assert!(
            dom.contains(&format!("id=\"{target}\"")),
            "#{target} leads nowhere"
        );
        links += 1;
    }
    assert!(
        dom.contains("href=\"#control-7\""),
        "the matrix links to the findings"
    );
    let cited = report["records"].as_array().unwrap();
    assert!(!cited.is_empty());
    for r in cited {
        let d = r["digest"].as_str().unwrap();
        assert!(
            dom.contains(&format!("href=\"#record-{d}\"")),
            "record {d} is not linked"
        );
        // Shortened where cited, the full value kept in the title and the
        // records table.
        assert!(dom.contains(&format!("title=\"sha256:{d}\">sha256:{}…", &d[..16])));
    }
    assert!(links > cited.len(), "{links} links");
    let models_at = dom.find("id=\"models\"").unwrap();
    let datasets_at = dom.find("id=\"datasets\"").expect("a datasets section");
    let train_at = dom.find("<h3>train ").expect("the dataset's heading");
    let m_at = dom.find("<h3>m ").expect("the model's heading");
    assert!(models_at < m_at && m_at < datasets_at && datasets_at < train_at);

    // 800 px wide: the rightmost columns stay blank (nothing overflows).
    let png_file = ws.path("narrow.png");
    chromium(
        &file,
        &ws.path("profile-narrow"),
        &[
            format!("--screenshot={}", png_file.display()),
            "--window-size=800,3000".into(),
            "--hide-scrollbars".into(),
        ],
    );
    let (share, width, _) = ink(&png_file);
    assert_eq!(width, 800);
    assert!(share > 0.02, "blank at 800 px: {share}");
    // Kept for people to look at: target/tmp/audit-report-800.png.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report-800.png");
    fs::copy(&png_file, &kept).unwrap();
    let right = right_edge_ink(&png_file, 6);
    assert!(
        right < 0.005,
        "content runs past the right edge at 800 px: {right}"
    );

    // Printed without the browser's header and footer: the report's own
    // print CSS numbers the pages.
    let pdf = ws.path("report.pdf");
    chromium(
        &file,
        &ws.path("profile-print"),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let text = Command::new(external_tool("pdftotext").get_program())
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let pages = text.matches('\u{c}').count().max(1);
    assert!(pages >= 2, "{pages} page(s)");
    for n in 1..=pages {
        assert!(
            text.contains(&format!("Page {n} of {pages}")),
            "page {n} of {pages} is not numbered:\n{text}"
        );
    }
    assert!(
        !text.contains("file://"),
        "the browser's own footer is printed"
    );
}

/// Share of inked pixels in the rightmost `columns` columns.
fn right_edge_ink(png_file: &Path, columns: u32) -> f64 {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(png_file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let (w, h) = (info.width, info.height);
    let mut inked = 0u64;
    for y in 0..h {
        for x in (w - columns)..w {
            let at = ((y * w + x) as usize) * channels;
            if buf[at..at + 3].iter().any(|&c| c < 235) {
                inked += 1;
            }
        }
    }
    inked as f64 / (h as u64 * columns as u64) as f64
}
