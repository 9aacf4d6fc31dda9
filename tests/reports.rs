//! Report documents checked against their published structure (the JUnit
//! XML against tests/data/junit.xsd, the JSON against
//! reports/schema/report.schema.json) and for their content.

mod report_check;

use mqttspec::codec::ProtocolVersion;
use mqttspec::outcome::*;
use mqttspec::report::{html, json, junit, markdown};
use report_check::{json_errors, junit_errors, parse_xml};
use serde_json::Value;
use std::time::Duration;

// ---------------------------------------------------------------- fixtures

fn result(
    id: &str,
    protocol: ProtocolVersion,
    reqs: &[&str],
    section: &str,
    verdict: Verdict,
) -> ScenarioResult {
    ScenarioResult {
        id: id.into(),
        title: format!("{id} title"),
        protocol,
        requirements: reqs.iter().map(|s| s.to_string()).collect(),
        section: section.into(),
        verdict,
        violated: None,
        message: None,
        expected: None,
        observed: None,
        notes: vec![],
        duration: Duration::from_micros(1500),
        transcript: Transcript::default(),
        source: format!("cases/v3.1.1/server/{section}.yaml:10"),
    }
}

fn entry(at_ms: f64, direction: Direction, text: &str, hex: &str) -> TranscriptEntry {
    TranscriptEntry {
        at_ms,
        connection: "a".into(),
        direction,
        text: text.into(),
        hex: hex.into(),
    }
}

/// Every verdict, two protocols, several sections, and text a hostile
/// broker could have put into the transcript.
fn full_run() -> RunReport {
    use ProtocolVersion::{V3_1_1 as V3, V5};
    let mut fail = result(
        "publish/qos-3-closes",
        V3,
        &["MQTT-3.3.1-4"],
        "3.3",
        Verdict::Fail,
    );
    fail.violated = Some("MQTT-3.3.1-4".into());
    fail.message = Some("the server kept the connection open".into());
    fail.expected = Some("the connection closed".into());
    fail.observed = Some("PUBACK packet_id=1".into());
    fail.transcript.entries = vec![
        entry(0.2, Direction::Event, "connected", ""),
        entry(
            0.5,
            Direction::Sent,
            "PUBLISH qos=3 topic=\"a/b\"",
            "36070003612f620001",
        ),
        entry(
            1.7,
            Direction::Received,
            "PUBACK packet_id=1 ]]> </system-out> \u{0} \u{1b}[31m <![CDATA[",
            "40020001",
        ),
    ];
    let mut pass = result(
        "connect/reserved-flag",
        V3,
        &["MQTT-3.1.2-3"],
        "3.1",
        Verdict::Pass,
    );
    pass.transcript.entries = vec![entry(
        0.1,
        Direction::Sent,
        "CONNECT",
        "100c00044d5154540402003c0000",
    )];
    pass.notes.push(Note {
        statement: Some("MQTT-3.1.2-3".into()),
        message: "closed without CONNACK".into(),
    });
    let mut skip = result(
        "retain/new-subscriber",
        V5,
        &["MQTT-3.3.1-6", "MQTT-3.3.1-8"],
        "3.3",
        Verdict::Skip,
    );
    skip.message = Some("needs retain, which the broker's CONNACK says it lacks".into());
    let mut error = result(
        "subscribe/wildcard",
        V5,
        &["MQTT-3.8.3-1"],
        "3.8",
        Verdict::Error,
    );
    error.message = Some("connection refused \"quoted\" & <tagged>".into());
    let pass5 = result(
        "publish/qos-3-closes",
        V5,
        &["MQTT-3.3.1-4"],
        "3.3",
        Verdict::Pass,
    );
    RunReport {
        meta: RunMeta {
            mqttspec_version: "0.1.0".into(),
            started_at: "2025-01-02T03:04:05Z".into(),
            target: "tcp://127.0.0.1:1883".into(),
            broker: None,
            protocols: vec![V3, V5],
            jobs: 4,
            duration_ms: 321,
        },
        scenarios: vec![fail, pass, skip, error, pass5],
        target_died: Some("process exited: signal 11".into()),
        interrupted: None,
    }
}

#[test]
fn junit_conforms_to_the_xsd() {
    for run in [full_run(), RunReport::default()] {
        let xml = junit::render(&run);
        assert_eq!(junit_errors(&xml), Vec::<String>::new(), "{xml}");
    }
}

#[test]
fn the_xsd_check_catches_violations() {
    let good = junit::render(&full_run());
    let missing_class = good.replacen(" classname=\"mqtt.v3_1_1.section_3_1\"", "", 1);
    assert!(junit_errors(&missing_class)
        .iter()
        .any(|e| e.contains("`classname` missing")));
    let bad_child = good.replacen("<system-out>", "<stdout/><system-out>", 1);
    assert!(junit_errors(&bad_child)
        .iter()
        .any(|e| e.contains("<stdout> not allowed")));
    let bad_count = good.replacen("tests=\"", "tests=\"x", 1);
    assert!(junit_errors(&bad_count)
        .iter()
        .any(|e| e.contains("not xs:nonNegativeInteger")));
    let control = good.replacen("connected", "conn\u{1}ected", 1);
    assert!(junit_errors(&control)[0].contains("U+0001"));
    let unclosed = good.replacen("</testcase>", "", 1);
    assert!(junit_errors(&unclosed)[0].contains("not well-formed"));
}

#[test]
fn junit_content() {
    let root = parse_xml(&junit::render(&full_run())).unwrap();
    let suites: Vec<&str> = root
        .children
        .iter()
        .map(|s| s.attrs["name"].as_str())
        .collect();
    assert_eq!(
        suites,
        [
            "mqtt.v3_1_1.section_3_1",
            "mqtt.v3_1_1.section_3_3",
            "mqtt.v5_0.section_3_3",
            "mqtt.v5_0.section_3_8",
            "mqttspec.target"
        ]
    );
    let v5_33 = &root.children[2];
    assert_eq!(
        (
            &v5_33.attrs["tests"][..],
            &v5_33.attrs["skipped"][..],
            &v5_33.attrs["failures"][..]
        ),
        ("2", "1", "0")
    );

    let case = &root.children[1].children[0];
    assert_eq!(case.attrs["name"], "MQTT-3.3.1-4 publish/qos-3-closes");
    assert_eq!(case.attrs["classname"], "mqtt.v3_1_1.section_3_3");
    assert_eq!(case.attrs["time"], "0.0015");
    let failure = &case.children[0];
    assert_eq!(failure.name, "failure");
    assert_eq!(
        failure.attrs["message"],
        "MQTT-3.3.1-4 violated: the server kept the connection open"
    );
    assert!(failure.text.contains("expected: the connection closed\n"));
    assert!(failure.text.contains("observed: PUBACK packet_id=1\n"));
    let out = &case.children[1];
    assert_eq!(out.name, "system-out");
    // The transcript survives intact, `]]>` included; the NUL and ESC are escaped.
    assert!(out.text.contains("  [36070003612f620001]"), "{}", out.text);
    assert!(
        out.text
            .contains("PUBACK packet_id=1 ]]> </system-out> \\u{0} \\u{1b}[31m <![CDATA["),
        "{}",
        out.text
    );

    let skipped = &v5_33
        .children
        .iter()
        .find(|c| c.attrs["name"].starts_with("MQTT-3.3.1-6 MQTT-3.3.1-8 "))
        .unwrap()
        .children[0];
    assert_eq!(skipped.name, "skipped");
    assert_eq!(
        skipped.attrs["message"],
        "needs retain, which the broker's CONNACK says it lacks"
    );
    let error = &root.children[3].children[0].children[0];
    assert_eq!(
        (error.name.as_str(), error.attrs["message"].as_str()),
        ("error", "connection refused \"quoted\" & <tagged>")
    );
    let died = &root.children[4].children[0].children[0];
    assert_eq!(
        (died.name.as_str(), died.attrs["message"].as_str()),
        ("error", "process exited: signal 11")
    );
}

// ------------------------------------------------- JSON

#[test]
fn json_conforms_to_the_schema() {
    for run in [full_run(), RunReport::default()] {
        let v: Value = serde_json::from_str(&json::render(&run)).unwrap();
        assert_eq!(json_errors(&v), Vec::<String>::new(), "{v:#}");
    }
}

#[test]
fn the_schema_check_catches_violations() {
    let v: Value = serde_json::from_str(&json::render(&full_run())).unwrap();
    let mut missing = v.clone();
    missing["scenarios"][0]
        .as_object_mut()
        .unwrap()
        .remove("violated");
    assert!(json_errors(&missing)
        .iter()
        .any(|e| e.contains("/scenarios/0: required key \"violated\"")));
    let mut bad_verdict = v.clone();
    bad_verdict["requirements"][0]["verdict"] = "passed".into();
    assert!(json_errors(&bad_verdict)
        .iter()
        .any(|e| e.contains("not in")));
    let mut extra = v.clone();
    extra["meta"]["color"] = "blue".into();
    assert!(json_errors(&extra)
        .iter()
        .any(|e| e.contains("key color not allowed")));
    let mut negative = v;
    negative["summary"]["scenarios"]["pass"] = (-1).into();
    assert!(!json_errors(&negative).is_empty());
}

#[test]
fn json_content() {
    let v: Value = serde_json::from_str(&json::render(&full_run())).unwrap();
    assert_eq!(
        v["summary"]["scenarios"],
        serde_json::json!({"pass": 2, "fail": 1, "skip": 1, "error": 1, "not_run": 0})
    );
    assert_eq!(
        v["summary"]["requirements"],
        serde_json::json!({"pass": 2, "fail": 1, "skip": 2, "error": 1, "not_run": 0})
    );
    assert_eq!(v["target_died"], "process exited: signal 11");
    assert_eq!(
        v["scenarios"][0]["transcript"][2]["text"],
        "PUBACK packet_id=1 ]]> </system-out> \u{0} \u{1b}[31m <![CDATA["
    );
    let ids: Vec<String> = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["protocol"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
                r["verdict"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "3.1.1 MQTT-3.1.2-3 pass",
            "3.1.1 MQTT-3.3.1-4 fail",
            "5.0 MQTT-3.3.1-4 pass",
            "5.0 MQTT-3.3.1-6 skip",
            "5.0 MQTT-3.3.1-8 skip",
            "5.0 MQTT-3.8.3-1 error"
        ]
    );
}

// ------------------------------------------------- Markdown and HTML

#[test]
fn markdown_for_a_pull_request() {
    let md = markdown::render(&full_run());
    assert!(md.starts_with("## mqttspec report\n\n**Scenarios:** 2 pass, 1 fail, 1 error, 1 skip."));
    assert!(md.contains("**The target died during the run:** process exited: signal 11"));
    assert!(md.contains("- **MQTT-3.3.1-4** (3.1.1) `publish/qos-3-closes`: the server kept the connection open; expected the connection closed; observed PUBACK packet\\_id=1\n"), "{md}");
    // Every table row has exactly four pipes: nothing in a cell breaks the table.
    for row in md.lines().filter(|l| l.starts_with("| MQTT-")) {
        assert_eq!(
            row.matches('|').count() - row.matches("\\|").count(),
            4,
            "{row}"
        );
    }
    assert_eq!(md.lines().filter(|l| l.starts_with("| MQTT-")).count(), 6);
}

#[test]
fn html_is_self_contained_and_escaped() {
    let page = html::render(&full_run());
    assert!(page.contains("PUBACK packet_id=1 ]]&gt; &lt;/system-out&gt;"));
    assert!(page.contains("connection refused &quot;quoted&quot; &amp; &lt;tagged&gt;"));
    assert!(page.contains("The target died during the run:</strong> process exited: signal 11"));
    // Every scenario result has its block, every matrix link a target.
    for s in &full_run().scenarios {
        let slug = format!("v{}", s.protocol.as_str().replace('.', "_"));
        assert!(
            page.contains(&format!("<details id=\"{slug}-{}\"", s.id)),
            "{}",
            s.id
        );
        assert!(
            page.contains(&format!("href=\"#{slug}-{}\"", s.id)),
            "{}",
            s.id
        );
    }
    for external in ["src=", "href=\"http", "<link", "<script", "url("] {
        assert!(!page.contains(external), "{external}");
    }
}
