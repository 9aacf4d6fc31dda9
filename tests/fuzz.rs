//! `mqttspec fuzz` against scripted brokers: one that follows the rules the
//! codec knows (no finding may be reported against it) and one that keeps
//! the connection open after a QoS 3 PUBLISH (the fuzzer must find that,
//! and the scenario it writes must fail on that broker and pass on the
//! correct one).

use bytes::BytesMut;
use mqttspec::codec::{
    self, Ack, Connack, DecodeOptions, Empty, Framer, Packet, ProtocolVersion, Sender, Suback,
    Unsuback,
};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A broker that decodes strictly, answers what it must and closes on the
/// first packet it must refuse; `broken` ignores QoS 3 PUBLISH instead.
fn start_peer(broken: bool) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap().to_string()).unwrap();
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(serve(s, broken));
            }
        });
    });
    rx.recv().unwrap()
}

async fn serve(mut s: TcpStream, broken: bool) {
    let mut buf = BytesMut::new();
    let framer = Framer::new(1 << 20);
    let mut version: Option<ProtocolVersion> = None;
    // Filters this connection subscribed to: its own messages come back.
    let mut filters: Vec<String> = Vec::new();
    let opts = DecodeOptions {
        sender: Some(Sender::Client),
    };
    loop {
        while let Ok(Some(n)) = framer.next_frame_len(&buf) {
            let frame = buf.split_to(n);
            let v = version.unwrap_or(ProtocolVersion::V3_1_1);
            let mut echo = None;
            let reply = match codec::decode_with(&frame, v, &opts) {
                Err(e) if broken && e.statement == Some("MQTT-3.3.1-4") && version.is_some() => {
                    None
                }
                Err(_) => return,
                Ok(d) => match (d.packet, version) {
                    (Packet::Connect(c), None) => {
                        version = match c.protocol_level {
                            4 => Some(ProtocolVersion::V3_1_1),
                            5 => Some(ProtocolVersion::V5),
                            _ => return,
                        };
                        Some(Packet::Connack(Connack::default()))
                    }
                    (_, None) | (Packet::Connect(_), Some(_)) | (Packet::Disconnect(_), _) => {
                        return
                    }
                    (Packet::Publish(p), _) => {
                        let matches = |f: &String| {
                            *f == p.topic
                                || f.strip_suffix('#')
                                    .is_some_and(|pre| p.topic.starts_with(pre))
                        };
                        if filters.iter().any(matches) {
                            echo = Some(Packet::Publish(codec::Publish {
                                topic: p.topic.clone(),
                                payload: p.payload.clone(),
                                ..codec::Publish::default()
                            }));
                        }
                        let a = Ack {
                            packet_id: p.packet_id.unwrap_or(0),
                            ..Ack::default()
                        };
                        match p.qos {
                            1 => Some(Packet::Puback(a)),
                            2 => Some(Packet::Pubrec(a)),
                            _ => None,
                        }
                    }
                    (Packet::Pubrel(a), _) => Some(Packet::Pubcomp(Ack {
                        packet_id: a.packet_id,
                        ..Ack::default()
                    })),
                    (Packet::Subscribe(x), _) => {
                        filters.extend(x.filters.iter().map(|f| f.filter.clone()));
                        Some(Packet::Suback(Suback {
                            packet_id: x.packet_id.unwrap_or(0),
                            properties: Default::default(),
                            reason_codes: x.filters.iter().map(|f| f.qos).collect(),
                        }))
                    }
                    (Packet::Unsubscribe(x), Some(v)) => Some(Packet::Unsuback(Unsuback {
                        packet_id: x.packet_id.unwrap_or(0),
                        properties: Default::default(),
                        reason_codes: if v.is_v5() {
                            vec![0; x.filters.len()]
                        } else {
                            Vec::new()
                        },
                    })),
                    (Packet::Pingreq(_), _) => Some(Packet::Pingresp(Empty {})),
                    _ => None,
                },
            };
            for r in [reply, echo].into_iter().flatten() {
                let mut out = BytesMut::new();
                codec::encode(&r, version.unwrap_or(v), &mut out).unwrap();
                if s.write_all(&out).await.is_err() {
                    return;
                }
            }
        }
        if framer.next_frame_len(&buf).is_err() {
            return;
        }
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn mqttspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn fuzz(addr: &str, dir: &Path, sessions: &str) -> (Output, Value) {
    let json = dir.join("summary.json");
    let findings = dir.join("findings");
    let o = mqttspec(&[
        "fuzz",
        "--target",
        &format!("tcp://{addr}"),
        "--protocol",
        "3.1.1",
        "--sessions",
        sessions,
        "--seed",
        "11",
        "-j",
        "8",
        "--findings",
        findings.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--broker",
        "scripted peer",
    ]);
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|_| panic!("no summary; stderr: {}", String::from_utf8_lossy(&o.stderr)));
    (o, serde_json::from_str(&text).unwrap())
}

#[test]
fn no_finding_on_a_correct_broker() {
    let addr = start_peer(false);
    let dir = tempfile::tempdir().unwrap();
    let (o, summary) = fuzz(&addr, dir.path(), "4000");
    assert_eq!(summary["findings"], Value::Array(vec![]), "{summary:#}");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(summary["sessions"], 4000);
    for key in ["seed", "duration_s", "sessions_per_s"] {
        assert!(summary[key].is_number(), "{key}");
    }
}

#[test]
fn a_broken_broker_is_found_and_the_finding_replays() {
    let broken = start_peer(true);
    let dir = tempfile::tempdir().unwrap();
    let (o, summary) = fuzz(&broken, dir.path(), "4000");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{summary:#}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let findings = summary["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["oracle"], "violation", "{f:#}");
        assert_eq!(f["statement"], "MQTT-4.8.0-1", "{f:#}");
        assert!(
            f["description"].as_str().unwrap().contains("MQTT-3.3.1-4"),
            "{f:#}"
        );
        assert_eq!(f["seed"], 11);
        assert!(f["session"].is_number());
        let path = f["scenario"].as_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("scripted peer") && text.contains("seed: 11"),
            "{text}"
        );
        assert!(text.contains("oracle: violation"), "{text}");
    }
    let cases = dir.path().join("findings");
    let cases = cases.to_str().unwrap();
    let replay = |addr: &str| {
        mqttspec(&[
            "run",
            "--cases",
            cases,
            "--target",
            &format!("tcp://{addr}"),
            "-q",
        ])
    };
    let on_broken = replay(&broken);
    assert_eq!(
        on_broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&on_broken.stdout)
    );
    let correct = start_peer(false);
    let on_correct = replay(&correct);
    assert_eq!(
        on_correct.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&on_correct.stdout)
    );
}

#[test]
fn same_seed_same_inputs_and_exit_statuses() {
    // Unreachable target: 3.
    let o = mqttspec(&["fuzz", "--target", "tcp://127.0.0.1:1", "--sessions", "1"]);
    assert_eq!(o.status.code(), Some(3));
    // Usage: 2.
    let o = mqttspec(&["fuzz", "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(2));
}
