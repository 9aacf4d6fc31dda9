//! The engine against a real broker (the embedded rumqttd): the steps do
//! what cases/README.md says, verdicts name the right statement, and the
//! cleanup leaves no retained message behind.
#![cfg(feature = "embedded-broker")]

mod support;

use mqttspec::codec::ProtocolVersion::{self, V3_1_1, V5};
use mqttspec::engine::{run_scenario, EngineConfig, Namespaces};
use mqttspec::outcome::{Direction, ScenarioResult, Verdict};
use mqttspec::scenario::{Level, Scenario};
use mqttspec::target::{self, Endpoint, Running, Target};
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

/// One broker for every test in this file; it lives as long as the process.
fn broker() -> &'static Running {
    static BROKER: OnceLock<&'static Running> = OnceLock::new();
    BROKER.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let running = rt
                .block_on(target::start(&Target::Embedded))
                .expect("embedded broker starts");
            // The broker's own threads keep running after this runtime ends.
            &*Box::leak(Box::new(running))
        })
        .join()
        .expect("broker thread")
    })
}

fn namespaces() -> &'static Namespaces {
    static NS: OnceLock<Namespaces> = OnceLock::new();
    NS.get_or_init(Namespaces::new)
}

/// rumqttd 0.20 drops unrelated connections when several clients come and go
/// at once (reports/brokers/rumqttd-0.20.0.md), so the tests of this file,
/// which libtest runs in parallel, take turns on the shared broker.
fn turn() -> &'static tokio::sync::Mutex<()> {
    static TURN: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    TURN.get_or_init(|| tokio::sync::Mutex::new(()))
}

async fn run_ns(s: &Scenario, v: ProtocolVersion, ns: &str) -> ScenarioResult {
    let _turn = turn().lock().await;
    let endpoint: Endpoint = broker().endpoint(v);
    let config = EngineConfig::default();
    run_scenario(s, v, ns, &endpoint, &config).await
}

async fn run(s: &Scenario, v: ProtocolVersion) -> ScenarioResult {
    run_ns(s, v, &namespaces().next()).await
}

fn assert_verdict(r: &ScenarioResult, v: Verdict) {
    assert_eq!(
        r.verdict,
        v,
        "{}: {:?}\n{}",
        r.id,
        r.message,
        r.transcript.render()
    );
}

fn pubsub() -> Vec<mqttspec::scenario::Step> {
    vec![
        open("a"),
        open("b"),
        send(
            "b",
            json!({"subscribe": {"filters": [{"filter": "{ns}/t", "qos": 1}]}}),
        ),
        expect(
            "b",
            json!({"suback": {"packet_id": 1, "reason_codes": [1]}}),
        ),
        send(
            "a",
            json!({"publish": {"topic": "{ns}/t", "qos": 1, "payload": "hi"}}),
        ),
        unordered(vec![
            expect_(
                "b",
                json!({"publish": {"topic": "{ns}/t", "qos": 1, "payload": "hi", "packet_id": "{=pid}"}}),
            ),
            expect_("a", json!({"puback": {"packet_id": 1}})),
        ]),
        send("b", json!({"puback": {"packet_id": "{pid}"}})),
        send(
            "a",
            json!({"publish": {"topic": "{ns}/t", "qos": 1, "payload": {"hex": "00ff"}}}),
        ),
        expect("a", json!({"puback": {"packet_id": 2}})),
        expect("b", json!({"publish": {"payload": {"hex": "00 FF"}}})),
        nothing("a", 200),
        disconnect("a"),
    ]
}

#[tokio::test]
async fn publish_subscribe_round_trip_passes_on_both_versions() {
    for v in [V3_1_1, V5] {
        let r = run(&scenario("pubsub", v, pubsub()), v).await;
        assert_verdict(&r, Verdict::Pass);
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        // The transcript has both directions, with raw bytes.
        let t = &r.transcript.entries;
        assert!(t.iter().any(|e| e.direction == Direction::Sent
            && e.text.starts_with("CONNECT")
            && !e.hex.is_empty()));
        assert!(t.iter().any(|e| e.direction == Direction::Received
            && e.text.starts_with("PUBLISH")
            && e.connection == "b"));
    }
}

#[tokio::test]
async fn a_mismatch_fails_with_the_checked_statement_and_the_field() {
    let steps = vec![
        open("a"),
        send(
            "a",
            json!({"subscribe": {"filters": [{"filter": "{ns}/t", "qos": 0}]}}),
        ),
        expect_within(
            "a",
            json!({"suback": {"reason_codes": [1]}}),
            Duration::from_secs(2),
            Some("MQTT-TEST-2"),
            Level::Must,
        ),
        // Never reached: the scenario ends at the first MUST failure.
        expect("a", json!({"pingresp": {}})),
    ];
    let r = run(&scenario("mismatch", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Fail);
    assert_eq!(r.charged_statement(), Some("MQTT-TEST-2"));
    let msg = r.message.unwrap();
    assert!(msg.contains("step 3"), "{msg}");
    assert!(
        msg.contains("field suback.reason_codes[0]: expected 1, observed 0"),
        "{msg}"
    );
    assert!(r.observed.unwrap().starts_with("SUBACK"));
}

#[tokio::test]
async fn a_timeout_fails_with_the_first_requirement_by_default() {
    let steps = vec![
        open("a"),
        expect_within(
            "a",
            json!({"pingresp": {}}),
            Duration::from_millis(300),
            None,
            Level::Must,
        ),
    ];
    let started = std::time::Instant::now();
    let r = run(&scenario("timeout", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Fail);
    assert_eq!(r.charged_statement(), Some(REQ));
    assert!(r.message.unwrap().contains("nothing arrived"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn should_checks_are_notes() {
    let steps = vec![
        open("a"),
        expect_within(
            "a",
            json!({"pingresp": {}}),
            Duration::from_millis(200),
            Some("MQTT-TEST-2"),
            Level::Should,
        ),
        send("a", json!({"pingreq": {}})),
        expect("a", json!({"pingresp": {}})),
    ];
    let r = run(&scenario("should-step", V5, steps.clone()), V5).await;
    assert_verdict(&r, Verdict::Pass);
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].statement.as_deref(), Some("MQTT-TEST-2"));

    // A SHOULD scenario: the first failure ends it as a Pass with a note.
    let mut s = scenario(
        "should-scenario",
        V3_1_1,
        vec![
            open("a"),
            expect_within(
                "a",
                json!({"pingresp": {}}),
                Duration::from_millis(200),
                None,
                Level::Must,
            ),
            expect("a", json!({"pingresp": {}})),
        ],
    );
    s.level = Level::Should;
    let r = run(&s, V3_1_1).await;
    assert_verdict(&r, Verdict::Pass);
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].statement.as_deref(), Some(REQ));
}

#[tokio::test]
async fn packet_ids_are_assigned_per_connection() {
    let steps = vec![
        open("a"),
        open("b"),
        send("a", json!({"publish": {"topic": "{ns}/x", "qos": 1}})),
        expect("a", json!({"puback": {"packet_id": 1}})),
        send(
            "a",
            json!({"subscribe": {"filters": [{"filter": "{ns}/x"}]}}),
        ),
        expect("a", json!({"suback": {"packet_id": 2}})),
        send("a", json!({"unsubscribe": {"filters": ["{ns}/x"]}})),
        expect("a", json!({"unsuback": {"packet_id": 3}})),
        send(
            "a",
            json!({"publish": {"topic": "{ns}/x", "qos": 1, "packet_id": 77}}),
        ),
        expect("a", json!({"puback": {"packet_id": 77}})),
        send("b", json!({"publish": {"topic": "{ns}/x", "qos": 1}})),
        expect("b", json!({"puback": {"packet_id": 1}})),
    ];
    let r = run(&scenario("ids", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Pass);
}

#[tokio::test]
async fn retained_messages_are_cleared_after_the_scenario() {
    let ns = namespaces().next();
    for v in [V3_1_1, V5] {
        let publish = scenario(
            "retain",
            v,
            vec![
                open("a"),
                send(
                    "a",
                    json!({"publish": {"topic": "{ns}/r", "qos": 1, "retain": true, "payload": "kept"}}),
                ),
                expect("a", json!({"puback": {}})),
                open("b"),
                send(
                    "b",
                    json!({"subscribe": {"filters": [{"filter": "{ns}/r", "qos": 0}]}}),
                ),
                expect("b", json!({"suback": {}})),
                // The message was retained (so the cleanup has something to do).
                expect(
                    "b",
                    json!({"publish": {"topic": "{ns}/r", "retain": true, "payload": "kept"}}),
                ),
            ],
        );
        let r = run_ns(&publish, v, &ns).await;
        assert_verdict(&r, Verdict::Pass);
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        assert!(r
            .transcript
            .entries
            .iter()
            .any(|e| e.connection == "cleanup"));

        let check = scenario(
            "retain-gone",
            v,
            vec![
                open("c"),
                send(
                    "c",
                    json!({"subscribe": {"filters": [{"filter": "{ns}/r", "qos": 0}]}}),
                ),
                expect("c", json!({"suback": {}})),
                nothing("c", 300),
            ],
        );
        let r = run_ns(&check, v, &ns).await;
        assert_verdict(&r, Verdict::Pass);
    }
}

#[tokio::test]
async fn a_malformed_publish_makes_the_broker_close() {
    let steps = vec![
        open("a"),
        // PUBLISH with both QoS bits set.
        raw("a", &[0x36, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01]),
        expect_close("a", Duration::from_secs(2)),
    ];
    for v in [V3_1_1, V5] {
        let r = run(&scenario("qos3", v, steps.clone()), v).await;
        assert_verdict(&r, Verdict::Pass);
    }
}

#[tokio::test]
async fn expect_close_on_an_open_connection_fails_in_time() {
    let steps = vec![open("a"), expect_close("a", Duration::from_millis(300))];
    let r = run(&scenario("still-open", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Fail);
    assert_eq!(r.charged_statement(), Some("MQTT-TEST-2"));
    assert!(r.message.unwrap().contains("still open"));
}

#[tokio::test]
async fn unordered_reports_an_unexpected_packet() {
    let steps = vec![
        open("a"),
        send("a", json!({"pingreq": {}})),
        unordered(vec![expect_("a", json!({"puback": {}}))]),
    ];
    let r = run(&scenario("unordered-bad", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Fail);
    let msg = r.message.unwrap();
    assert!(msg.contains("unexpected packet on a: PINGRESP"), "{msg}");
}

#[tokio::test]
async fn tool_side_problems_are_errors() {
    let unknown_conn = scenario("no-conn", V3_1_1, vec![send("zz", json!({"pingreq": {}}))]);
    let r = run(&unknown_conn, V3_1_1).await;
    assert_verdict(&r, Verdict::Error);
    assert!(r.message.unwrap().contains("no connection named `zz`"));

    let bad_template = scenario(
        "bad-template",
        V3_1_1,
        vec![open("a"), send("a", json!({"publish": {"qos": "high"}}))],
    );
    let r = run(&bad_template, V3_1_1).await;
    assert_verdict(&r, Verdict::Error);

    let unknown_var = scenario(
        "bad-var",
        V3_1_1,
        vec![
            open("a"),
            send("a", json!({"publish": {"topic": "{nope}/t"}})),
        ],
    );
    let r = run(&unknown_var, V3_1_1).await;
    assert_verdict(&r, Verdict::Error);
    assert!(r.message.unwrap().contains("{nope}"));
}

#[tokio::test]
async fn client_ids_default_to_ns_and_name_and_are_variables() {
    let steps = vec![
        open("a"),
        // A second connection with the first one's client id takes it over.
        open_with(
            "b",
            json!({"client_id": "{client_id.a}"}),
            Some(json!({"connack": {"reason_code": 0}})),
        ),
        expect_close("a", Duration::from_secs(2)),
    ];
    let r = run(&scenario("takeover", V3_1_1, steps), V3_1_1).await;
    assert_verdict(&r, Verdict::Pass);
    let connect = r
        .transcript
        .entries
        .iter()
        .find(|e| e.text.starts_with("CONNECT"))
        .unwrap();
    assert!(connect.text.contains("a\""), "{}", connect.text);
}

#[tokio::test]
async fn sessions_left_on_the_broker_are_ended_after_the_scenario() {
    let ns = namespaces().next();
    for v in [V3_1_1, V5] {
        let keep = if v == V5 {
            json!({"clean_session": false, "properties": {"session_expiry_interval": 300}})
        } else {
            json!({"clean_session": false})
        };
        let connack_present = |present: bool| {
            Some(json!({"connack": {"reason_code": 0, "session_present": present}}))
        };
        let leave = scenario(
            "leave-session",
            v,
            vec![
                open_with("a", keep.clone(), connack_present(false)),
                send(
                    "a",
                    json!({"subscribe": {"filters": [{"filter": "{ns}/s", "qos": 1}]}}),
                ),
                expect("a", json!({"suback": {}})),
                disconnect("a"),
                // The session is there while the scenario runs.
                open_with("a", keep.clone(), connack_present(true)),
            ],
        );
        let r = run_ns(&leave, v, &ns).await;
        assert_verdict(&r, Verdict::Pass);
        assert!(r.notes.is_empty(), "{:?}", r.notes);

        let after = scenario(
            "session-gone",
            v,
            vec![open_with("a", keep, connack_present(false))],
        );
        let r = run_ns(&after, v, &ns).await;
        assert_verdict(&r, Verdict::Pass);
    }
}
