//! The matrix site as a real browser sees it: `mqttspec matrix` on two
//! recorded reports, then headless Chromium loads `index.html` and a case
//! page it links to, and the test reads the DOM Chromium built. A
//! screenshot is kept in `target/artifacts/matrix.png` (or
//! `$MQTTSPEC_ARTIFACTS/matrix.png`).
//!
//! Skipped, with a message, when no Chromium is installed
//! (`ci/install-chromium.sh` installs it; `$CHROMIUM` names another binary).

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Headless Chromium with nothing reaching out to the network, a fresh
/// profile, and a time limit.
fn browser(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new("timeout");
    c.arg("120").arg(bin).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1400",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn dump_dom(bin: &Path, profile: &Path, page: &Path) -> String {
    let out = browser(bin, profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// The `<tr ...>...</tr>` of a statement's row in the DOM.
fn row<'a>(dom: &'a str, statement: &str) -> &'a str {
    let at = dom
        .find(&format!("data-statement=\"{statement}\""))
        .unwrap_or_else(|| panic!("no row for {statement}"));
    let end = at + dom[at..].find("</tr>").unwrap();
    &dom[at..end]
}

#[test]
fn matrix_renders_in_chromium() {
    let Some(bin) = chromium() else {
        eprintln!("skipped: Chromium is not installed (ci/install-chromium.sh installs it)");
        return;
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matrix");
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let status = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .arg("matrix")
        .arg(data.join("rumqttd-0.20.0-3.1.1.json"))
        .arg(data.join("mosquitto-2.0.11-3.1.1.json"))
        .arg("--out")
        .arg(&site)
        .status()
        .unwrap();
    assert!(status.success());

    let profile = tmp.path().join("profile");
    let dom = dump_dom(&bin, &profile, &site.join("index.html"));
    assert!(dom.contains("<title>mqttspec conformance matrix</title>"));
    // Columns: the two implementations, in the order given.
    let headers: Vec<&str> = dom
        .split("<th class=\"impl\" scope=\"col\">")
        .skip(1)
        .map(|s| &s[..s.find('<').unwrap()])
        .collect();
    assert_eq!(headers, ["rumqttd-0.20.0", "mosquitto-2.0.11"]);
    // Rows: one per statement the two reports check.
    let rows = dom.matches("data-statement=").count();
    assert_eq!(rows, 7, "{dom}");
    // A known cell: rumqttd accepts a will topic with ill-formed UTF-8
    // (MQTT-1.5.3-1 fails), mosquitto closes the connection.
    let r = row(&dom, "MQTT-1.5.3-1");
    assert!(r.starts_with("data-statement=\"MQTT-1.5.3-1\""));
    assert!(
        r.contains("data-impl=\"rumqttd-0.20.0\" data-verdict=\"fail\""),
        "{r}"
    );
    assert!(
        r.contains("data-impl=\"mosquitto-2.0.11\" data-verdict=\"pass\""),
        "{r}"
    );
    assert!(dom.contains("class=\"differ has-fail has-pass\" data-statement=\"MQTT-1.5.3-1\""));
    // The summary table has one bar per implementation.
    assert_eq!(dom.matches("<svg width=\"200\"").count(), 2);

    // The failing cell's link resolves to the case page of that failure.
    let cell = &r[r.find("data-impl=\"rumqttd-0.20.0\"").unwrap()..];
    let href = &cell[cell.find("href=\"").unwrap() + 6..];
    let href = &href[..href.find('"').unwrap()];
    let case = site.join(href);
    assert!(case.is_file(), "{href}");
    let case_dom = dump_dom(&bin, &profile, &case);
    assert!(
        case_dom.contains("<td class=\"fail\" id=\"verdict\">✗ fail</td>"),
        "{case_dom}"
    );
    assert!(case_dom.contains("<th>MQTT-1.5.3-1</th><td>violated</td>"));
    assert!(case_dom.contains("<pre class=\"yaml\">- id: 1.5.3/"));
    assert!(case_dom.contains("<h3>Connection"));
    assert!(case_dom.contains("class=\"violating\""));
    assert!(case_dom.contains("<a href=\"../../../index.html\">"));

    // The screenshot CI keeps.
    let artifacts = std::env::var_os("MQTTSPEC_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts"));
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("matrix.png");
    let _ = std::fs::remove_file(&shot);
    let out = browser(&bin, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", site.join("index.html").display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
}
