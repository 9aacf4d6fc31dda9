//! Scenario loading: good files load into the model, and every class of bad
//! input is refused with its file, line, column and what was expected.

use mqttspec::codec::ProtocolVersion::{V3_1_1, V5};
use mqttspec::scenario::{
    load_dir, load_embedded, load_files, load_str, load_suite, LoadError, Payload, Role, Scenario,
    Step,
};
use mqttspec::spec::Catalogs;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;

fn catalogs() -> &'static Catalogs {
    static C: OnceLock<Catalogs> = OnceLock::new();
    C.get_or_init(|| Catalogs::embedded().expect("embedded catalogs"))
}

fn load(text: &str) -> Vec<Scenario> {
    match load_str("t.yaml", text, catalogs()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn err(text: &str) -> LoadError {
    match load_str("t.yaml", text, catalogs()) {
        Ok(s) => panic!("loaded {} scenarios, expected an error", s.len()),
        Err(e) => e,
    }
}

/// Asserts that the error points at the first `anchor` on `line` and that
/// its message contains `part`.
#[track_caller]
fn assert_err(text: &str, line: usize, anchor: &str, part: &str) {
    let e = err(text);
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    let column = line_text
        .find(anchor)
        .unwrap_or_else(|| panic!("no `{anchor}` on line {line}"))
        + 1;
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert!(e.message.contains(part), "`{}` lacks `{part}`", e.message);
    assert!(e
        .to_string()
        .starts_with(&format!("t.yaml:{line}:{column}: ")));
}

/// One scenario around the given steps (indented as list items at 6).
fn with_steps(steps: &str) -> String {
    format!(
        "protocol: \"3.1.1\"\nscenarios:\n  - id: s\n    title: t\n    requirements: [MQTT-3.3.1-4]\n    steps:\n{steps}"
    )
}

const README_EXAMPLE: &str = r#"protocol: "3.1.1"        # default for the scenarios below
role: client
section: "3.3"
scenarios:
  - id: publish/qos-3-closes
    title: A PUBLISH with both QoS bits set makes the server close the connection
    requirements: [MQTT-3.3.1-4]
    steps:
      - open: a
      - send: {on: a, packet: {publish: {topic: "{ns}/t", qos: 1}}, override: {flags: 0x06}}
      - expect_close: {on: a}
"#;

#[test]
fn readme_example_loads() {
    let s = load(README_EXAMPLE);
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.id, "publish/qos-3-closes");
    assert_eq!(s.protocols, [V3_1_1]);
    assert_eq!(s.role, Role::Client);
    assert_eq!(s.section, "3.3");
    assert_eq!(s.requirements, ["MQTT-3.3.1-4"]);
    assert_eq!((s.source.line, s.source.column), (5, 5));
    assert_eq!(s.source.file.to_str(), Some("t.yaml"));
    assert_eq!(s.steps.len(), 3);
    let Step::Open(open) = &s.steps[0] else {
        panic!()
    };
    assert_eq!(open.name, "a");
    assert_eq!(open.connect, Some(json!({})));
    assert_eq!(open.connack, Some(json!({"connack": {"reason_code": 0}})));
    let Step::Send(send) = &s.steps[1] else {
        panic!()
    };
    let Payload::Packet {
        template,
        overrides,
    } = &send.payload
    else {
        panic!()
    };
    assert_eq!(template, &json!({"publish": {"topic": "{ns}/t", "qos": 1}}));
    assert_eq!(overrides.flags, Some(6));
    let Step::ExpectClose(close) = &s.steps[2] else {
        panic!()
    };
    assert_eq!(close.on, "a");
    assert!(close.disconnect_codes.is_empty());
}

const EVERY_STEP: &str = r#"
protocol: 5.0
scenarios:
  - id: every/step
    title: Every step form loads
    requirements: [MQTT-3.3.1-4, MQTT-4.3.2-2]
    needs: [retain, qos2]
    level: should
    timeout: 1.5s
    steps:
      - open:
          name: a
          connect: {clean_session: false, keep_alive: 1, will: {topic: "{ns}/w", payload: bye}, properties: {session_expiry_interval: 10}}
          override: {connect_flags: 0x03}
          connack: {connack: {session_present: {one_of: [true, false]}, properties: {assigned_client_identifier: {absent: true}}}}
          checks: MQTT-4.3.2-2
          level: should
          within: 500ms
      - open: {name: b, connect: {client_id: "{client_id.a}x"}, connack: false}
      - open: {name: c, connect: false}
      - send: {on: c, raw: "10 0c 00 04 4d 51 54 54\n 05 02 00 3c 00 00"}
      - send: {on: a, packet: {subscribe: {filters: [{filter: "{ns}/#", qos: 2, no_local: true}]}}}
      - expect: {on: a, packet: {suback: {packet_id: "{=sid}", reason_codes: [2]}}, within: 2s, checks: MQTT-4.3.2-2}
      - send: {on: a, packet: {unsubscribe: {packet_id: "{sid}", filters: ["{ns}/#"]}}}
      - send: {on: a, packet: {publish: {topic: "{ns}/t", qos: 1, payload: {hex: "00 ff"}, properties: {user_properties: [[k, v]]}}}}
      - expect_unordered:
          within: 2s
          packets:
            - {on: a, packet: {puback: {packet_id: "{=pid}"}}}
            - {on: a, packet: {publish: {topic: "{ns}/t"}}, checks: MQTT-3.3.1-4, level: should}
      - send: {on: a, packet: {puback: {packet_id: "{pid}"}}}
      - expect_nothing: {on: a, for: 500ms, checks: MQTT-3.3.1-4}
      - send: {on: a, packet: {pingreq: {}}}
      - expect: {on: a, packet: {pingresp: {}}}
      - wait: 1.5s
      - close: {on: c, reset: true}
      - close: b
      - disconnect: {on: a, packet: {reason_code: 0x04}}
      - open: a
      - send: {on: a, packet: {publish: {topic: "{ns}/t", qos: 3}}}
      - expect_close: {on: a, within: 2s, disconnect: [0x81, 0x82], allow_before: [{puback: {}}], checks: MQTT-3.3.1-4}
      - open: d
      - disconnect: d
"#;

#[test]
fn every_step_form_loads() {
    let s = load(EVERY_STEP);
    let s = &s[0];
    assert_eq!(s.protocols, [V5]);
    assert_eq!(s.needs, ["retain", "qos2"]);
    assert_eq!(s.level, mqttspec::scenario::Level::Should);
    assert_eq!(s.timeout, Some(Duration::from_millis(1500)));
    // No `section` in the file: the first requirement's, cut to two levels.
    assert_eq!(s.section, "3.3");
    assert_eq!(s.steps.len(), 22);

    let Step::Open(a) = &s.steps[0] else { panic!() };
    assert_eq!(a.connect.as_ref().unwrap()["keep_alive"], json!(1));
    assert_eq!(a.overrides.connect_flags, Some(3));
    assert_eq!(a.check.statement(V5), Some("MQTT-4.3.2-2"));
    assert_eq!(a.check.level, mqttspec::scenario::Level::Should);
    assert_eq!(a.within, Some(Duration::from_millis(500)));
    let Step::Open(b) = &s.steps[1] else { panic!() };
    assert!(b.connect.is_some() && b.connack.is_none());
    let Step::Open(c) = &s.steps[2] else { panic!() };
    assert!(c.connect.is_none() && c.connack.is_none());
    let Step::Send(raw) = &s.steps[3] else {
        panic!()
    };
    let Payload::Raw(bytes) = &raw.payload else {
        panic!()
    };
    assert_eq!(bytes.len(), 14);
    assert_eq!(&bytes[..4], &[0x10, 0x0c, 0x00, 0x04]);
    let Step::Expect(e) = &s.steps[5] else {
        panic!()
    };
    assert_eq!(
        e.packet,
        json!({"suback": {"packet_id": "{=sid}", "reason_codes": [2]}})
    );
    assert_eq!(e.within, Some(Duration::from_secs(2)));
    let Step::ExpectUnordered(u) = &s.steps[8] else {
        panic!()
    };
    assert_eq!(u.packets.len(), 2);
    assert_eq!(u.packets[1].check.statement(V5), Some("MQTT-3.3.1-4"));
    let Step::ExpectNothing(n) = &s.steps[10] else {
        panic!()
    };
    assert_eq!(n.duration, Duration::from_millis(500));
    let Step::Wait(w) = &s.steps[13] else {
        panic!()
    };
    assert_eq!(*w, Duration::from_millis(1500));
    let Step::Close(c) = &s.steps[14] else {
        panic!()
    };
    assert!(c.reset);
    let Step::Close(b) = &s.steps[15] else {
        panic!()
    };
    assert!(!b.reset);
    let Step::Disconnect(d) = &s.steps[16] else {
        panic!()
    };
    assert_eq!(d.template, Some(json!({"reason_code": 4})));
    let Step::ExpectClose(x) = &s.steps[19] else {
        panic!()
    };
    assert_eq!(x.disconnect_codes, [0x81, 0x82]);
    assert_eq!(x.allow_before, [json!({"puback": {}})]);
    let Step::Disconnect(d) = &s.steps[21] else {
        panic!()
    };
    assert_eq!((d.on.as_str(), d.template.as_ref()), ("d", None));
}

#[test]
fn protocol_forms() {
    let one = |p: &str, id: &str| {
        format!(
            "protocol: {p}\nscenarios:\n  - id: {id}\n    title: t\n    requirements: [MQTT-3.3.1-4]\n    steps: [open: a]\n"
        )
    };
    assert_eq!(load(&one("\"3.1.1\"", "a"))[0].protocols, [V3_1_1]);
    assert_eq!(load(&one("3.1.1", "a"))[0].protocols, [V3_1_1]);
    assert_eq!(load(&one("\"5.0\"", "a"))[0].protocols, [V5]);
    assert_eq!(load(&one("5.0", "a"))[0].protocols, [V5]);
    assert_eq!(load(&one("both", "a"))[0].protocols, [V3_1_1, V5]);
    assert_err(
        &one("3.1", "a"),
        1,
        "3.1",
        "expected a protocol: \"3.1.1\", \"5.0\" or both",
    );
    assert_err(&one("\"4.0\"", "a"), 1, "\"4.0\"", "found string \"4.0\"");
    // The scenario's own protocol wins over the file's.
    let text = "protocol: \"3.1.1\"\nscenarios:\n  - {id: a, title: t, protocol: \"5.0\", requirements: [MQTT-3.3.1-4], steps: [open: a]}\n";
    assert_eq!(load(text)[0].protocols, [V5]);
    assert_err(
        "scenarios:\n  - {id: a, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n",
        2,
        "{id",
        "missing field `protocol`",
    );
}

#[test]
fn role_server_uses_accept() {
    let text = "protocol: \"5.0\"\nrole: server\nscenarios:\n  - id: c/x\n    title: t\n    requirements: [MQTT-3.1.0-1]\n    steps:\n      - accept: {name: c, within: 5s}\n      - expect: {on: c, packet: {connect: {client_id: \"{=cid}\"}}}\n      - send: {on: c, packet: {connack: {reason_code: 0}}}\n      - expect: {on: c, packet: {publish: {topic: \"{cid}/x\"}}}\n      - accept: d\n";
    let s = load(text);
    assert_eq!(s[0].role, Role::Server);
    let Step::Accept(a) = &s[0].steps[0] else {
        panic!()
    };
    assert_eq!(
        (a.name.as_str(), a.within),
        ("c", Some(Duration::from_secs(5)))
    );
    assert_err(
        &text.replace("      - accept: {name: c, within: 5s}", "      - open: c"),
        8,
        "open",
        "with role: server use `accept`",
    );
    assert_err(
        &with_steps("      - accept: c\n"),
        7,
        "accept",
        "with role: client use `open`",
    );
}

#[test]
fn unknown_keys_are_refused_everywhere() {
    assert_err(
        "protocol: \"3.1.1\"\nsection: \"3.3\"\nscenaros: []\n",
        3,
        "scenaros",
        "unknown field `scenaros`, expected one of `protocol`, `role`, `section`, `scenarios`",
    );
    assert_err(
        "protocol: \"3.1.1\"\nscenarios:\n  - id: a\n    titel: t\n",
        4,
        "titel",
        "unknown field `titel`, expected one of `id`, `title`, `requirements`",
    );
    assert_err(
        &with_steps("      - open: {name: a, conect: {}}\n"),
        7,
        "conect",
        "unknown field `conect`",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, packet: {publish: {topic: t}}, overide: {flags: 1}}\n"),
        8,
        "overide",
        "unknown field `overide`, expected one of `on`, `packet`, `raw`, `override`",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, packet: {publish: {topic: t}}, override: {flag: 1}}\n"),
        8,
        "flag",
        "unknown field `flag`, expected one of `packet_type`, `flags`",
    );
    assert_err(
        &with_steps("      - opne: a\n"),
        7,
        "opne",
        "unknown step `opne`, expected one of `open`, `accept`",
    );
    assert_err(
        &with_steps("      - send:\n        on: a\n"),
        8,
        "on",
        "a step has exactly one key; indent `on` under `send:`",
    );
}

#[test]
fn statement_ids_are_checked_per_version() {
    let one = |p: &str, req: &str| {
        format!("protocol: {p}\nscenarios:\n  - id: a\n    title: t\n    requirements: [{req}]\n    steps: [open: a]\n")
    };
    assert_err(
        &one("both", "MQTT-9.9.9-9"),
        5,
        "MQTT-9",
        "unknown statement `MQTT-9.9.9-9`: not in the MQTT 3.1.1 catalog",
    );
    assert_err(&one("both", "MQTT-3.3.1"), 5, "MQTT", "not a statement ID");
    // MQTT-1.5.4-1 exists in 5.0 only (1.5.3 in 3.1.1 is the same rule).
    load(&one("\"5.0\"", "MQTT-1.5.4-1"));
    assert_err(
        &one("\"3.1.1\"", "MQTT-1.5.4-1"),
        5,
        "MQTT",
        "is not a statement of MQTT 3.1.1, only of 5.0",
    );
    assert_err(
        &one("both", "MQTT-1.5.3-1"),
        5,
        "MQTT",
        "is not a statement of MQTT 5.0, only of 3.1.1",
    );
    assert_err(
        "protocol: both\nscenarios:\n  - id: a\n    title: t\n    requirements: []\n    steps: [open: a]\n",
        5,
        "[]",
        "at least one statement",
    );
    assert_err(
        &one("both", "MQTT-3.3.1-4, MQTT-3.3.1-4"),
        5,
        "MQTT-3.3.1-4]",
        "listed twice",
    );
    assert_err(
        &with_steps("      - open: a\n      - expect_close: {on: a, checks: MQTT-3.3.1-5}\n"),
        8,
        "MQTT-3.3.1-5",
        "`checks: MQTT-3.3.1-5` must be one of the scenario's requirements (MQTT-3.3.1-4)",
    );
}

#[test]
fn connection_names_are_checked() {
    assert_err(
        &with_steps("      - send: {on: a, raw: \"c0 00\"}\n"),
        7,
        "a,",
        "no connection `a`: `open` it in an earlier step",
    );
    assert_err(
        &with_steps(
            "      - open: a\n      - close: a\n      - expect_nothing: {on: a, for: 1s}\n",
        ),
        9,
        "a,",
        "connection `a` was closed at line 8",
    );
    assert_err(
        &with_steps("      - open: a\n      - open: a\n"),
        8,
        "a",
        "already open",
    );
    assert_err(
        &with_steps("      - open: averyveryverylongname\n"),
        7,
        "avery",
        "1 to 12 letters or digits",
    );
    assert_err(
        &with_steps("      - open: a-b\n"),
        7,
        "a-b",
        "not a connection name",
    );
    // Reopening after a close is how session tests reconnect.
    load(&with_steps(
        "      - open: a\n      - disconnect: a\n      - open: a\n",
    ));
    assert_err(
        &with_steps("      - open: a\n      - expect_unordered:\n          packets:\n            - {on: b, packet: {puback: {}}}\n"),
        10,
        "b,",
        "no connection `b`",
    );
}

#[test]
fn templates_and_matchers_are_checked_against_the_packet_model() {
    assert_err(
        &with_steps(
            "      - open: a\n      - expect: {on: a, packet: {puback: {packet_idd: 1}}}\n",
        ),
        8,
        "packet_idd",
        "unknown field `packet_idd`, expected one of `packet_id`, `reason_code`, `properties`",
    );
    assert_err(
        &with_steps("      - open: a\n      - expect: {on: a, packet: {pubak: {}}}\n"),
        8,
        "pubak",
        "unknown variant `pubak`",
    );
    assert_err(
        &with_steps("      - open: a\n      - expect: {on: a, packet: {publish: {qos: {one_of: [1, high]}}}}\n"),
        8,
        "high",
        "invalid type: string \"high\", expected u8",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, packet: {publish: {topic: t, properties: {topic_alias: 70000}}}}\n"),
        8,
        "70000",
        "expected u16",
    );
    assert_err(
        &with_steps("      - open: {name: a, connect: {clean_sesion: false}}\n"),
        7,
        "clean_sesion",
        "unknown field `clean_sesion`",
    );
    assert_err(
        &with_steps("      - open: {name: a, connack: {puback: {}}}\n"),
        7,
        "puback",
        "expected a CONNACK packet here, found PUBACK",
    );
    assert_err(
        &with_steps(
            "      - open: a\n      - send: {on: a, packet: {publish: {qos: {one_of: [1, 2]}}}}\n",
        ),
        8,
        "one_of",
        "only allowed in what is expected",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, packet: {auth: {}}}\n"),
        8,
        "auth",
        "AUTH exists only in MQTT 5.0",
    );
    assert_err(
        &with_steps("      - open: a\n      - disconnect: {on: a, packet: {reason_code: 4}}\n"),
        8,
        "{reason_code",
        "a 3.1.1 DISCONNECT has no fields",
    );
}

#[test]
fn variables_are_checked() {
    assert_err(
        &with_steps(
            "      - open: a\n      - send: {on: a, packet: {publish: {topic: \"{nss}/t\"}}}\n",
        ),
        8,
        "\"{nss}",
        "unknown variable `{nss}`",
    );
    assert_err(
        &with_steps(
            "      - open: a\n      - send: {on: a, packet: {puback: {packet_id: \"{pid}\"}}}\n",
        ),
        8,
        "\"{pid}",
        "unknown variable `{pid}`",
    );
    assert_err(
        &with_steps(
            "      - open: a\n      - send: {on: a, packet: {publish: {topic: \"{ns\"}}}\n",
        ),
        8,
        "\"{ns\"",
        "unclosed `{`",
    );
    assert_err(
        &with_steps("      - open: {name: b, connect: {client_id: \"{client_id.a}\"}}\n"),
        7,
        "\"{client_id",
        "no connection `a` has been opened",
    );
    // `{{` is a literal brace.
    load(&with_steps(
        "      - open: a\n      - send: {on: a, packet: {publish: {topic: \"{{x}/{ns}\"}}}\n",
    ));
}

#[test]
fn raw_hex_and_durations_are_checked() {
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, raw: \"c0 0\"}\n"),
        8,
        "\"c0",
        "bad hex: odd number of hex digits (3)",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, raw: \"c0 zz\"}\n"),
        8,
        "\"c0",
        "bad hex: invalid hex digit",
    );
    assert_err(
        &with_steps("      - open: a\n      - send: {on: a, raw: 0xc0}\n"),
        8,
        "0xc0",
        "expected hex bytes",
    );
    assert_err(
        &with_steps("      - wait: 2\n"),
        7,
        "2",
        "expected a duration such as `500ms` or `2s`, found integer `2`",
    );
    assert_err(
        &with_steps("      - wait: 2 seconds\n"),
        7,
        "2 s",
        "expected a duration such as `500ms`, `2s` or `1.5s`",
    );
    assert_err(
        &with_steps("      - open: a\n      - expect_nothing: {on: a}\n"),
        8,
        "{on",
        "missing field `for`",
    );
    let s = load(&with_steps(
        "      - wait: 250ms\n      - wait: 2s\n      - wait: 0.5s\n",
    ));
    let waits: Vec<_> = s[0]
        .steps
        .iter()
        .map(|s| match s {
            Step::Wait(d) => d.as_millis(),
            _ => 0,
        })
        .collect();
    assert_eq!(waits, [250, 2000, 500]);
}

#[test]
fn scenario_ids_are_checked() {
    let two = "protocol: both\nscenarios:\n  - {id: a/b, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n  - {id: a/b, title: u, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n";
    assert_err(
        two,
        4,
        "a/b",
        "duplicate scenario id `a/b` (first at line 3)",
    );
    assert_err(
        "protocol: both\nscenarios:\n  - {id: A/b, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n",
        3,
        "A/b",
        "not a scenario id",
    );
    // Across files.
    let one = "protocol: both\nscenarios:\n  - {id: a/b, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n";
    let e = load_files([("x.yaml", one), ("y.yaml", one)], catalogs()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "y.yaml:3:5: duplicate scenario id `a/b` (first in x.yaml:3:5)"
    );
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    // Billion laughs: ten levels of ten aliases each.
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    text.push_str("scenarios: *a9\n");
    let start = std::time::Instant::now();
    let e = err(&text);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(e.message.starts_with("file too complex:"), "{e}");
    assert!(e.line >= 1 && e.line <= 11, "{e}");

    let deep = format!("scenarios: {}{}\n", "[".repeat(200), "]".repeat(200));
    let e = err(&deep);
    assert_eq!(
        e.message, "file too complex: nested deeper than 32 levels",
        "{e}"
    );
    assert_eq!(e.line, 1);

    let big = format!("# {}\nscenarios: []\n", "x".repeat(1 << 20));
    let e = err(&big);
    assert_eq!(
        e.to_string(),
        format!(
            "t.yaml:1:1: file is {} bytes, more than the limit of 1048576 bytes",
            big.len()
        )
    );

    let many = format!(
        "protocol: both\nscenarios:\n{}",
        "  - {id: a, title: t, requirements: [MQTT-3.3.1-4], steps: [open: a]}\n".repeat(1001)
    );
    assert_err(&many, 1003, "{id", "more than 1000 scenarios in one file");

    let steps = "      - wait: 0s\n".repeat(1001);
    assert_err(&with_steps(&steps), 1007, "wait", "more than 1000 steps");
}

#[test]
fn yaml_errors_are_located() {
    assert_err("protocol: both\nscenarios: [\n", 2, "[", "unclosed bracket");
    assert_err(
        "protocol: both\nprotocol: both\n",
        2,
        "protocol",
        "duplicate",
    );
    assert_err(
        "- a\n- b\n",
        1,
        "-",
        "expected a scenario file (a mapping), found a sequence",
    );
}

#[test]
fn fuzz_like_inputs_never_panic() {
    let samples = [
        "", "~", "[]", "{}", "scenarios: ~", "scenarios: [~]", "scenarios: [{}]", "\u{feff}", "!!binary aGk=",
        "scenarios: [{steps: [{}]}]", "a: !!float x", "&a [*a]", "*x", "scenarios: [{id: a, steps: [{open: {}}]}]",
        "protocol: .nan", "protocol: 1e999", "protocol: 0x8000000000000000000000000",
        "protocol: both\nscenarios: [{id: a, title: t, requirements: [MQTT-3.3.1-4], steps: [{expect: {on: a, packet: {one_of: [{one_of: [{puback: {}}]}]}}}]}]",
        "protocol: both\nscenarios: [{id: a, title: t, requirements: [MQTT-3.3.1-4], steps: [{open: a}, {expect: {on: a, packet: \"{=x}\"}}]}]",
    ];
    for s in samples {
        let _ = load_str("f.yaml", s, catalogs());
    }
    let base = EVERY_STEP.as_bytes();
    // Every prefix of a real file.
    for end in (0..base.len()).step_by(7) {
        if let Ok(text) = std::str::from_utf8(&base[..end]) {
            let _ = load_str("f.yaml", text, catalogs());
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Random edits of a valid file load or fail with a located error; they never panic.
    #[test]
    fn edited_files_never_panic(
        edits in proptest::collection::vec((0usize..4000, proptest::prelude::any::<char>(), 0usize..4), 1..6)
    ) {
        let mut text: Vec<char> = EVERY_STEP.chars().collect();
        for (at, c, how) in edits {
            let at = at % (text.len() + 1);
            match how {
                0 => text.insert(at, c),
                1 if at < text.len() => { text.remove(at); }
                2 if at < text.len() => text[at] = c,
                _ => text.truncate(at),
            }
        }
        let text: String = text.into_iter().collect();
        if let Err(e) = load_str("f.yaml", &text, catalogs()) {
            proptest::prop_assert!(!e.message.is_empty());
            proptest::prop_assert!(e.line >= 1, "{}", e);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = load_str("f.yaml", &text, catalogs());
    }
}

#[test]
fn files_load_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("v3.1.1/server")).unwrap();
    std::fs::create_dir_all(root.join("spec")).unwrap();
    std::fs::write(root.join("v3.1.1/server/3.3.yaml"), README_EXAMPLE).unwrap();
    std::fs::write(root.join("notes.txt"), "not a scenario").unwrap();
    // The catalog folder is not read as scenarios.
    std::fs::write(root.join("spec/other.yaml"), "- not a scenario file").unwrap();
    let s = load_dir(root, catalogs()).unwrap();
    assert_eq!(s.len(), 1);
    assert!(s[0].source.file.ends_with("v3.1.1/server/3.3.yaml"));
    // A single file works too.
    let s = load_dir(&root.join("v3.1.1/server/3.3.yaml"), catalogs()).unwrap();
    assert_eq!(s.len(), 1);
    // Errors name the file on disk.
    std::fs::write(root.join("v3.1.1/server/bad.yaml"), "protocol: 4\n").unwrap();
    let e = load_dir(root, catalogs()).unwrap_err();
    assert!(e.file.ends_with("v3.1.1/server/bad.yaml"), "{e}");
    assert_eq!((e.line, e.column), (1, 11));
    // A file over the limit is refused without being read.
    std::fs::write(
        root.join("v3.1.1/server/bad.yaml"),
        vec![b'#'; (1 << 20) + 1],
    )
    .unwrap();
    let e = load_dir(root, catalogs()).unwrap_err();
    assert!(e.message.contains("more than the limit"), "{e}");
    let e = load_dir(&root.join("missing"), catalogs()).unwrap_err();
    assert_eq!(e.line, 0);
}

#[test]
fn a_cases_folder_may_bring_its_own_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("spec")).unwrap();
    let statement = |id: &str| {
        format!("- {{id: {id}, section: \"9.9\", title: T, level: MUST, applies_to: server, wire_testable: true, summary: S}}\n")
    };
    std::fs::write(root.join("spec/mqtt-3.1.1.yaml"), statement("MQTT-9.9.9-1")).unwrap();
    std::fs::write(root.join("spec/mqtt-5.0.yaml"), statement("MQTT-9.9.9-2")).unwrap();
    std::fs::write(
        root.join("s.yaml"),
        "protocol: \"3.1.1\"\nscenarios:\n  - {id: a, title: t, requirements: [MQTT-9.9.9-1], steps: [open: a]}\n",
    )
    .unwrap();
    let (catalogs, scenarios) = load_suite(Some(root)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalogs.get(V3_1_1).unwrap().len(), 1);
    assert_eq!(scenarios[0].section, "9.9");
    // A broken catalog is reported with its own location.
    std::fs::write(
        root.join("spec/mqtt-5.0.yaml"),
        "- {id: MQTT-9.9.9-2, level: MUST}\n",
    )
    .unwrap();
    let e = load_suite(Some(root)).unwrap_err();
    assert!(e.file.ends_with("spec/mqtt-5.0.yaml"), "{e}");
    assert_eq!((e.line, e.message.as_str()), (1, "missing field `section`"));
    // Without a spec/ folder, the built-in catalog applies.
    std::fs::remove_dir_all(root.join("spec")).unwrap();
    let e = load_suite(Some(root)).unwrap_err();
    assert!(
        e.message.contains("unknown statement `MQTT-9.9.9-1`"),
        "{e}"
    );
}

#[test]
fn embedded_cases_load() {
    let s = load_embedded(catalogs()).unwrap_or_else(|e| panic!("{e}"));
    for sc in &s {
        assert!(sc.source.file.starts_with("cases"), "{:?}", sc.source.file);
        assert!(!sc.steps.is_empty());
    }
}

#[test]
fn embedded_cases_match_the_folder() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let on_disk = load_dir(&dir, catalogs()).unwrap_or_else(|e| panic!("{e}"));
    let embedded = load_embedded(catalogs()).unwrap();
    let ids = |v: &[Scenario]| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&embedded),
        ids(&on_disk),
        "the embedded cases differ from cases/ (build.rs should rebuild on any change there)"
    );
}
