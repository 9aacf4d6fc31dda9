//! The WebSocket transport end to end: against a scripted WebSocket server
//! (subprotocol, pings, text and close frames), and against mosquitto's
//! websockets listener when mosquitto is installed.

use mqttspec::codec::ProtocolVersion::V3_1_1;
use mqttspec::engine::websocket::accept_key;
use mqttspec::engine::{run_scenario, EngineConfig};
use mqttspec::outcome::{ScenarioResult, Verdict};
use mqttspec::run::{run, RunOptions};
use mqttspec::scenario::{load_str, Scenario};
use mqttspec::spec::Catalogs;
use mqttspec::target::{Endpoint, Target, WebSocketUrl};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn scenario(requirements: &str, steps: &str) -> Scenario {
    let text = format!(
        "protocol: \"3.1.1\"\nscenarios:\n  - id: t/ws\n    title: t\n    requirements: [{requirements}]\n    needs: [websocket]\n    steps:\n{steps}"
    );
    let catalogs = Catalogs::embedded().expect("catalogs");
    match load_str("t.yaml", &text, &catalogs) {
        Ok(mut s) => s.remove(0),
        Err(e) => panic!("{e}"),
    }
}

async fn play(s: &Scenario, endpoint: &Endpoint) -> ScenarioResult {
    let config = EngineConfig {
        step_timeout: Duration::from_secs(2),
        ..EngineConfig::default()
    };
    run_scenario(s, V3_1_1, "wst1", endpoint, &config).await
}

/// Answers the upgrade; `protocol` is the subprotocol it selects.
async fn accept_upgrade(s: &mut TcpStream, protocol: Option<&str>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("GET /mqtt HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Sec-WebSocket-Protocol: mqtt\r\n"), "{head}");
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .trim();
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(p) = protocol {
        answer.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    answer.push_str("\r\n");
    s.write_all(answer.as_bytes()).await.unwrap();
}

/// FIN and opcode byte, unmasked payload.
type ClientFrame = (u8, Vec<u8>);

/// One client frame; client frames must be masked.
async fn read_frame(s: &mut TcpStream) -> ClientFrame {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).await.unwrap();
    assert_eq!(h[1] & 0x80, 0x80, "client frames are masked");
    let len = match h[1] & 0x7f {
        126 => s.read_u16().await.unwrap() as usize,
        127 => s.read_u64().await.unwrap() as usize,
        n => n as usize,
    };
    let mut key = [0u8; 4];
    s.read_exact(&mut key).await.unwrap();
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).await.unwrap();
    for (i, b) in p.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    (h[0], p)
}

/// An unmasked server frame.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![b0, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

async fn fake_server() -> (TcpListener, Endpoint) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = WebSocketUrl::parse(&format!("ws://{}/mqtt", l.local_addr().unwrap())).unwrap();
    let ep = Endpoint {
        websocket: Some(url),
        ..Default::default()
    };
    (l, ep)
}

#[tokio::test]
async fn no_mqtt_subprotocol_fails_the_opens_check() {
    let (l, ep) = fake_server().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        accept_upgrade(&mut s, None).await;
        let _ = read_frame(&mut s).await;
        s.write_all(&frame(0x82, &[0x20, 0x02, 0, 0]))
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let s = scenario(
        "MQTT-6.0.0-2, MQTT-6.0.0-4",
        "      - open: {name: a, transport: websocket, checks: MQTT-6.0.0-4}\n",
    );
    let r = play(&s, &ep).await;
    assert_eq!(r.verdict, Verdict::Fail, "{:?}", r.message);
    assert_eq!(r.charged_statement(), Some("MQTT-6.0.0-4"));
    assert!(
        r.observed.as_deref() == Some("no Sec-WebSocket-Protocol header"),
        "{:?}",
        r.observed
    );
    // The upgrade is in the transcript.
    assert!(r.transcript.entries.iter().any(|e| e
        .text
        .starts_with("WebSocket upgrade response:\nHTTP/1.1 101")));
}

#[tokio::test]
async fn pings_fragments_text_and_close_frames() {
    let (l, ep) = fake_server().await;
    let seen: Arc<Mutex<Vec<ClientFrame>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        accept_upgrade(&mut s, Some("mqtt")).await;
        // A ping before anything else must come back as a pong.
        s.write_all(&frame(0x89, b"p1")).await.unwrap();
        let mut frames = Vec::new();
        // The pong and the CONNECT, in the order the client wrote them.
        frames.push(read_frame(&mut s).await);
        frames.push(read_frame(&mut s).await);
        frames.sort_by_key(|f| std::cmp::Reverse(f.0));
        // CONNACK in two fragments with a ping between them.
        let mut out = frame(0x02, &[0x20, 0x02]);
        out.extend(frame(0x89, b"p2"));
        out.extend(frame(0x80, &[0, 0]));
        s.write_all(&out).await.unwrap();
        // The pong (written before the last fragment is read), then the
        // PUBLISH in a text frame.
        frames.push(read_frame(&mut s).await);
        frames.push(read_frame(&mut s).await);
        // Close with 1003 (unsupported data); the client answers, then TCP ends.
        s.write_all(&frame(0x88, &[0x03, 0xeb])).await.unwrap();
        frames.push(read_frame(&mut s).await);
        log.lock().unwrap().extend(frames);
        s.shutdown().await.unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let s = scenario(
        "MQTT-6.0.0-1",
        "      - open: {name: a, transport: websocket}\n      - send: {on: a, packet: {publish: {topic: t, payload: x}}, ws_opcode: text}\n      - expect_close: {on: a}\n",
    );
    let r = play(&s, &ep).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    let frames = seen.lock().unwrap().clone();
    assert_eq!(frames.len(), 5, "{frames:?}");
    assert_eq!(frames[0], (0x8a, b"p1".to_vec()));
    assert_eq!(frames[1].0, 0x82);
    assert_eq!(frames[1].1[0], 0x10, "CONNECT");
    assert_eq!(frames[2], (0x8a, b"p2".to_vec()));
    assert_eq!(frames[3], (0x81, vec![0x30, 0x04, 0x00, 0x01, b't', b'x']));
    assert_eq!(frames[4].0, 0x88);
    let texts: Vec<&str> = r
        .transcript
        .entries
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("CONNACK")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("close frame, status 1003")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn ws_keys_on_a_tcp_connection_do_not_load() {
    let text = "protocol: \"3.1.1\"\nscenarios:\n  - id: t/x\n    title: t\n    requirements: [MQTT-6.0.0-1]\n    steps:\n      - open: a\n      - send: {on: a, raw: \"c0 00\", ws_opcode: text}\n";
    let catalogs = Catalogs::embedded().unwrap();
    let e = load_str("t.yaml", text, &catalogs).unwrap_err().to_string();
    assert!(
        e.contains("`ws_opcode` applies to WebSocket connections"),
        "{e}"
    );
    let text = text
        .replace("open: a", "open: {name: a, transport: websocket}")
        .replace("ws_opcode: text", "ws_split: [2]");
    let e = load_str("t.yaml", &text, &catalogs)
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs: [websocket]"), "{e}");
    let text = text.replace("steps:", "needs: [websocket]\n    steps:");
    let e = load_str("t.yaml", &text, &catalogs)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not inside the 2 bytes"), "{e}");
    let ok = text.replace("c0 00", "c0 00 c0");
    assert!(load_str("t.yaml", &ok, &catalogs).is_ok());
    let bad = ok.replace("ws_split: [2]", "ws_split: [2, 1]");
    assert!(load_str("t.yaml", &bad, &catalogs).is_err());
}

#[tokio::test]
async fn mosquitto_over_websocket() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/ci/brokers/mosquitto.sh");
    let installed = std::process::Command::new(script)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("mosquitto is not installed; nothing to check");
        return;
    }
    // A payload above 65535 bytes: the 64-bit length form both ways, and a
    // split inside the PUBLISH header and inside the payload.
    let payload = "x".repeat(70_000);
    let big = scenario(
        "MQTT-6.0.0-2",
        &format!(
            "      - open: {{name: a, transport: websocket}}\n      - send: {{on: a, packet: {{subscribe: {{filters: [{{filter: \"{{ns}}/big\", qos: 0}}]}}}}}}\n      - expect: {{on: a, packet: {{suback: {{reason_codes: [0]}}}}}}\n      - send: {{on: a, packet: {{publish: {{topic: \"{{ns}}/big\", payload: \"{payload}\"}}}}, ws_split: [3, 65540]}}\n      - expect: {{on: a, packet: {{publish: {{topic: \"{{ns}}/big\", payload: \"{payload}\"}}}}}}\n      - disconnect: a\n"
        ),
    );
    let options = RunOptions {
        target: Target::Spawn {
            command: format!("exec '{script}' start {{port}} {{ws_port}}"),
        },
        ..RunOptions::default()
    };
    let report = run(std::slice::from_ref(&big), &options)
        .await
        .expect("mosquitto starts");
    let r = &report.scenarios[0];
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    // Without a WebSocket endpoint the scenario is skipped with the reason.
    let options = RunOptions {
        target: Target::Spawn {
            command: format!("exec '{script}' start {{port}}"),
        },
        ..RunOptions::default()
    };
    let report = run(&[big], &options).await.expect("mosquitto starts");
    let r = &report.scenarios[0];
    assert_eq!(r.verdict, Verdict::Skip);
    assert_eq!(
        r.message.as_deref(),
        Some("no WebSocket endpoint (give --websocket or {ws_port} in --spawn)")
    );
}
