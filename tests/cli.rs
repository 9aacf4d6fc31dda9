//! The command line as users and CI scripts see it: the built binary, its
//! output and its exit status.

mod report_check;

use report_check::{json_errors, junit_errors, parse_xml};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mqttspec"))
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert_exit(&o, 0);
    for sub in ["run", "list", "coverage", "decode"] {
        assert!(stdout(&o).contains(sub), "{sub}");
    }
    let o = run(&["--version"]);
    assert_exit(&o, 0);
    assert_eq!(
        stdout(&o).trim(),
        format!("mqttspec {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["run", "--jobs", "0"],
        &["run", "--timeout", "soon"],
        &["run", "--target", "tcp://localhost"],
        &["run", "--target", "tcp://h:1", "--spawn", "broker {port}"],
        &["run", "--spawn", "broker --port 1883"],
        &["run", "--protocol", "4.0"],
        &["list", "--protocol", "6"],
        &["coverage", "--protocol", "all"],
        &["decode"],
    ] {
        let o = run(args);
        assert_exit(&o, 2);
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn list_prints_one_line_per_scenario_and_protocol() {
    let cases = fixture("cli-cases");
    let o = run(&["list", "--cases", &cases]);
    assert_exit(&o, 0);
    let lines: Vec<Vec<String>> = stdout(&o)
        .lines()
        .map(|l| {
            l.split("  ")
                .filter(|c| !c.is_empty())
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        lines,
        [
            [
                "cli/clean-connack",
                "3.1.1",
                "MQTT-3.2.2-1",
                "A clean CONNECT is accepted with Session Present cleared"
            ],
            [
                "cli/inverted-expectation",
                "3.1.1",
                "MQTT-3.2.2-2",
                "Expects Session Present set on a clean session, which no conforming broker sends"
            ],
        ]
    );

    let o = run(&["list", "--cases", &cases, "inverted"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with("cli/inverted-expectation "));
    assert_eq!(stdout(&o).lines().count(), 1);

    let o = run(&["list", "--cases", &cases, "--requirement", "MQTT-3.2.2-1"]);
    assert!(stdout(&o).starts_with("cli/clean-connack "));
    assert_eq!(stdout(&o).lines().count(), 1);

    let o = run(&["list", "--cases", &cases, "--protocol", "5.0"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("no scenario matches"));
}

#[test]
fn scenario_file_errors_exit_2_with_position() {
    let o = run(&["list", "--cases", &fixture("cli-bad-cases")]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("bad.yaml:7:5: unknown field `colour`"),
        "{}",
        stderr(&o)
    );
    let o = run(&["run", "--cases", &fixture("cli-bad-cases")]);
    assert_exit(&o, 2);
    let o = run(&["list", "--cases", "/nonexistent/mqttspec-cases"]);
    assert_exit(&o, 2);
    let o = run(&[
        "list",
        "--cases",
        &fixture("cli-cases"),
        "--requirement",
        "MQTT-[3",
    ]);
    assert_exit(&o, 2);
}

#[test]
fn coverage_text_and_json() {
    let cases = fixture("cli-cases");
    let o = run(&["coverage", "--cases", &cases, "--protocol", "3.1.1"]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(text.starts_with("MQTT 3.1.1\n"), "{text}");
    assert!(!text.contains("MQTT 5.0"));
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("MQTT-3.2.2-1 "))
        .unwrap();
    assert!(
        row.contains("covered") && row.ends_with("cli/clean-connack"),
        "{row}"
    );

    let o = run(&["coverage", "--cases", &cases, "--json"]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["protocol"], "3.1.1");
    assert_eq!(versions[0]["totals"]["covered"], 2);
    assert_eq!(versions[1]["totals"]["covered"], 0);
}

#[test]
fn decode_good_and_bad_hex() {
    // CONNECT (3.1.1, clean, keep-alive 60, empty client id) then PINGREQ.
    let o = run(&[
        "decode",
        "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00",
        "c000",
    ]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("@0 CONNECT") && lines[0].contains("keep_alive=60"),
        "{out}"
    );
    assert!(lines[1].starts_with("@14 PINGREQ"), "{out}");

    // A PUBLISH with both QoS bits set: malformed, with offset and statement.
    let o = run(&["decode", "c000", "36 07 00 03 61 2f 62 00 01"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    assert!(out.starts_with("@0 PINGREQ\n"), "{out}");
    let err = out.lines().nth(1).unwrap();
    assert!(
        err.contains("at byte 2") && err.contains("[MQTT-3.3.1-4]"),
        "{err}"
    );

    // A truncated packet is malformed too.
    let o = run(&["decode", "30 05 00"]);
    assert_exit(&o, 1);
    assert!(stdout(&o).contains("error:"));

    // Not hex: a usage error naming the culprit.
    let o = run(&["decode", "c0 0g"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("`g`"), "{}", stderr(&o));
    let o = run(&["decode", "c00"]);
    assert_exit(&o, 2);
}

#[test]
fn decode_reads_stdin() {
    let mut child = bin()
        .args(["decode", "--protocol", "5.0", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"e0 00\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert!(stdout(&o).starts_with("@0 DISCONNECT"), "{}", stdout(&o));
}

#[test]
fn unreachable_target_exits_3_with_one_line() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("tcp://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "--cases",
        &fixture("cli-cases"),
        "--target",
        &target,
        "--report-dir",
        &dir.path().display().to_string(),
    ]);
    assert_exit(&o, 3);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_eq!(stdout(&o), "");
}

#[test]
fn bad_profile_and_empty_selection_exit_2() {
    let cases = fixture("cli-cases");
    let o = run(&[
        "run",
        "--cases",
        &cases,
        "--profile",
        "/nonexistent/profile.yaml",
    ]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("/nonexistent/profile.yaml"));
    let o = run(&["run", "--cases", &cases, "no-such-scenario"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("no scenario matches"));
}

#[cfg(feature = "embedded-broker")]
#[test]
fn run_writes_well_formed_reports() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("out");
    let extra = dir.path().join("extra.xml");
    let o = run(&[
        "run",
        "--cases",
        &fixture("cli-cases"),
        "--report-dir",
        &reports.display().to_string(),
        "--junit",
        &extra.display().to_string(),
        "--jobs",
        "2",
    ]);
    // One scenario fails on purpose: exit 1.
    assert_exit(&o, 1);

    // Not a terminal: one plain line per finished scenario, then the summary.
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    let mut progress: Vec<&str> = lines[..2].to_vec();
    progress.sort();
    assert!(
        progress[0].starts_with("fail  cli/inverted-expectation 3.1.1 "),
        "{out}"
    );
    assert!(
        progress[1].starts_with("pass  cli/clean-connack 3.1.1 "),
        "{out}"
    );
    assert!(progress.iter().all(|l| l.ends_with("ms")));
    assert!(lines[2].starts_with("target: embedded"), "{out}");
    assert_eq!(
        lines[3],
        "scenarios:    1 passed, 1 failed, 0 errors, 0 skipped"
    );
    assert_eq!(
        lines[4],
        "requirements: 1 passed, 1 failed, 0 errors, 0 skipped"
    );
    assert!(
        lines[5].starts_with("FAIL  MQTT-3.2.2-2 cli/inverted-expectation (3.1.1): "),
        "{out}"
    );
    // Counts per section come before the reports.
    assert_eq!(lines[6], "by section (pass/fail/error/skip):", "{out}");
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("reports: ") && last.contains("junit.xml"),
        "{out}"
    );

    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert_eq!(junit_errors(&junit), Vec::<String>::new(), "{junit}");
    assert_eq!(std::fs::read_to_string(&extra).unwrap(), junit);
    let root = parse_xml(&junit).unwrap();
    let cases: Vec<&str> = root.children[0]
        .children
        .iter()
        .map(|c| c.attrs["name"].as_str())
        .collect();
    assert_eq!(
        cases,
        [
            "MQTT-3.2.2-1 cli/clean-connack",
            "MQTT-3.2.2-2 cli/inverted-expectation"
        ]
    );
    let failure = &root.children[0].children[1].children[0];
    assert_eq!(failure.name, "failure");
    assert!(failure.attrs["message"].starts_with("MQTT-3.2.2-2 violated: "));

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json_errors(&json), Vec::<String>::new());
    assert_eq!(json["meta"]["target"], "embedded");
    assert_eq!(json["summary"]["scenarios"]["fail"], 1);
    let transcript = json["scenarios"][0]["transcript"].as_array().unwrap();
    assert!(
        transcript.iter().any(|e| e["direction"] == "received"),
        "{transcript:?}"
    );

    let md = std::fs::read_to_string(reports.join("report.md")).unwrap();
    assert!(
        md.contains("| MQTT-3.2.2-2 | fail | `cli/inverted-expectation` |"),
        "{md}"
    );
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    // Only the four reports: no temporary file left behind.
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 4);
}

#[cfg(feature = "embedded-broker")]
#[test]
fn quiet_run_prints_only_the_summary() {
    let o = run(&["run", "--cases", &fixture("cli-cases"), "clean", "-q"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("target: embedded"), "{out}");
    assert!(
        out.contains("scenarios:    1 passed, 0 failed, 0 errors, 0 skipped\n"),
        "{out}"
    );
    assert!(!out.contains("FAIL") && !out.contains("reports:"), "{out}");
}

#[test]
fn explain_matrix_and_replay_usage() {
    let report = fixture("matrix/rumqttd-0.20.0-3.1.1.json");
    let o = run(&["explain", "MQTT-1.5.3-1", "--report", &report]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("MQTT-1.5.3-1 (MQTT 3.1.1, section 1.5.3"),
        "{out}"
    );
    assert!(out.contains("(rumqttd 0.20.0, "), "{out}");
    assert!(out.contains("    fail  1.5.3/ill-formed-utf8-will-topic-closes: "));

    let o = run(&["explain", "MQTT-9.9.9-9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a statement"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n \"scenarios\": [1,,]}").unwrap();
    let out = dir.path().join("site");
    let o = run(&[
        "matrix",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json:2:"), "{}", stderr(&o));
    assert!(!out.exists());

    let o = run(&["replay", &report, "no/such-scenario"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no scenario `no/such-scenario`"));
}

#[cfg(feature = "embedded-broker")]
#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.yaml");
    let base_s = base.display().to_string();
    let cases = fixture("cli-cases");
    // The fixture suite has one scenario that always fails.
    let o = run(&["run", "-q", "--cases", &cases, "--save-baseline", &base_s]);
    assert_exit(&o, 1);
    let saved = std::fs::read_to_string(&base).unwrap();
    assert!(
        saved.contains(
            "\"3.1.1 cli/inverted-expectation\":\n  verdict: fail\n  violated: \"MQTT-3.2.2-2\"\n  reason: \"TODO: "
        ),
        "{saved}"
    );
    assert!(!saved.contains("cli/clean-connack"));

    // Against its own baseline nothing regressed: exit 0, the failure is
    // listed as known, and JUnit shows it skipped with the reason.
    let junit = dir.path().join("junit.xml");
    let o = run(&[
        "run",
        "-q",
        "--cases",
        &cases,
        "--baseline",
        &base_s,
        "--junit",
        &junit.display().to_string(),
    ]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("baseline "), "{out}");
    assert!(
        out.contains(": 0 new failures, 0 changed, 0 fixed, 1 known failures\n"),
        "{out}"
    );
    assert!(
        out.contains("  KNOWN   3.1.1 cli/inverted-expectation: TODO: "),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(junit_errors(&xml), Vec::<String>::new(), "{xml}");
    assert!(xml.contains("known fail (baseline): TODO: "), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");

    // The baseline expects the failure on another statement: a regression.
    std::fs::write(
        &base,
        saved.replace("violated: \"MQTT-3.2.2-2\"", "violated: MQTT-3.2.2-1"),
    )
    .unwrap();
    let o = run(&["run", "-q", "--cases", &cases, "--baseline", &base_s]);
    assert_exit(&o, 1);
    assert!(stdout(&o).contains("  CHANGED 3.1.1 cli/inverted-expectation now violates MQTT-3.2.2-2 (baseline: MQTT-3.2.2-1)"));

    // An empty baseline: the failure is new.
    std::fs::write(&base, "").unwrap();
    let o = run(&["run", "-q", "--cases", &cases, "--baseline", &base_s]);
    assert_exit(&o, 1);
    assert!(stdout(&o)
        .contains("  NEW     3.1.1 cli/inverted-expectation fail MQTT-3.2.2-2 (baseline: pass): "));

    // A broken baseline is a usage error before anything runs.
    std::fs::write(&base, "\"x\": {verdict: perhaps}\n").unwrap();
    let o = run(&["run", "-q", "--cases", &cases, "--baseline", &base_s]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("verdict `perhaps`"));
}
