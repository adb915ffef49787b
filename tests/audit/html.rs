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
