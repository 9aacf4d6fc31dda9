//! Whole runs: targets start and stop, unreachable targets are one clear
//! error, skips follow the profile and the role, the report is filled, and a
//! target that dies is reported.

mod support;

use mqttspec::codec::ProtocolVersion::{V3_1_1, V5};
use mqttspec::outcome::Verdict;
use mqttspec::run::{run, Progress, RunOptions};
use mqttspec::scenario::{Profile, Role};
use mqttspec::target::{self, free_port, Target};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn ping(id: &str) -> mqttspec::scenario::Scenario {
    let mut s = scenario(
        id,
        V3_1_1,
        vec![
            open("a"),
            send("a", json!({"pingreq": {}})),
            expect("a", json!({"pingresp": {}})),
        ],
    );
    s.protocols = vec![V3_1_1, V5];
    s
}

#[cfg(feature = "embedded-broker")]
#[tokio::test]
async fn a_run_against_the_embedded_broker_fills_the_report() {
    let mut needs_qos2 = ping("needs-qos2");
    needs_qos2.needs = vec!["qos2".into()];
    let mut client_role = ping("client-under-test");
    client_role.role = Role::Server;
    let scenarios = vec![ping("ping"), needs_qos2, client_role];

    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let options = RunOptions {
        target: Target::Embedded,
        jobs: 4,
        profile: Profile::from_str("p.yaml", "unsupported: [qos2]\n").unwrap(),
        progress: Some(Arc::new(move |p: &Progress<'_>| {
            assert!(p.done <= p.total);
            counter.fetch_add(1, Ordering::SeqCst);
        })),
        ..RunOptions::default()
    };
    let report = run(&scenarios, &options)
        .await
        .expect("the embedded broker starts");
    assert_eq!(report.scenarios.len(), 6);
    assert_eq!(seen.load(Ordering::SeqCst), 6);
    let verdict = |id: &str, v| {
        report
            .scenarios
            .iter()
            .find(|r| r.id == id && r.protocol == v)
            .map(|r| (r.verdict, r.message.clone()))
            .unwrap()
    };
    assert_eq!(verdict("ping", V3_1_1).0, Verdict::Pass);
    assert_eq!(verdict("ping", V5).0, Verdict::Pass);
    // In 3.1.1 the profile decides; in 5.0 the broker's CONNACK (rumqttd announces no limit).
    let (v, why) = verdict("needs-qos2", V3_1_1);
    assert_eq!(v, Verdict::Skip);
    assert!(why.unwrap().contains("qos2"));
    assert_eq!(verdict("needs-qos2", V5).0, Verdict::Pass);
    assert_eq!(verdict("client-under-test", V3_1_1).0, Verdict::Skip);

    let m = &report.meta;
    assert_eq!(m.mqttspec_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(m.target, "embedded");
    assert_eq!(m.broker.as_deref(), Some("rumqttd 0.20.0"));
    assert_eq!(m.protocols, vec![V3_1_1, V5]);
    assert_eq!(m.jobs, 4);
    assert_eq!(m.started_at.len(), 20, "{}", m.started_at);
    assert!(m.started_at.ends_with('Z') && m.started_at.starts_with("20"));
    assert!(report.target_died.is_none());
}

#[tokio::test]
async fn an_unreachable_target_is_one_line_naming_the_address() {
    let port = free_port().unwrap();
    let options = RunOptions {
        target: Target::Tcp(format!("127.0.0.1:{port}")),
        ..RunOptions::default()
    };
    let err = run(&[ping("ping")], &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

/// A "broker" that listens for `secs` seconds, says so on stderr, and exits.
fn short_lived(secs: u32) -> Target {
    Target::Spawn {
        command: format!(
            "exec python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(64); print(\"listening, leaving soon\", file=sys.stderr, flush=True); time.sleep({secs})' {{port}}"
        ),
    }
}

#[tokio::test]
async fn a_spawned_target_that_exits_is_reported_dead_with_its_stderr() {
    let running = target::start(&short_lived(1)).await.expect("starts");
    assert!(running.died().is_none());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let why = running.died().expect("noticed");
    assert!(why.contains("exited"), "{why}");
    assert!(why.contains("leaving soon"), "{why}");
    running.stop().await;
}

#[tokio::test]
async fn a_spawned_command_that_never_listens_fails_fast_with_its_stderr() {
    let started = std::time::Instant::now();
    let target = Target::Spawn {
        command: "echo 'config error: no such option' >&2; exit 3".into(),
    };
    let err = target::start(&target)
        .await
        .err()
        .expect("fails")
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.contains("config error"), "{err}");
    assert!(err.contains("exit"), "{err}");
}

#[tokio::test]
async fn stopping_a_spawned_target_frees_its_port() {
    let running = target::start(&short_lived(30)).await.expect("starts");
    let addr = running.endpoint(V3_1_1).dial.unwrap();
    running.stop().await;
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}

#[tokio::test]
async fn mosquitto_spawned_by_its_script_runs_a_scenario() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/ci/brokers/mosquitto.sh");
    let installed = std::process::Command::new(script)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("mosquitto is not installed; nothing to check");
        return;
    }
    let options = RunOptions {
        target: Target::Spawn {
            command: format!("exec '{script}' start {{port}}"),
        },
        jobs: 2,
        ..RunOptions::default()
    };
    let report = run(&[ping("ping")], &options)
        .await
        .expect("mosquitto starts");
    assert!(
        report.scenarios.iter().all(|r| r.verdict == Verdict::Pass),
        "{:?}",
        report.scenarios
    );
    assert!(report.target_died.is_none());
}

#[tokio::test]
async fn a_listening_target_plays_the_server_for_a_client_under_test() {
    use mqttspec::engine::{run_scenario, EngineConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let running = target::start(&Target::Listen("127.0.0.1:0".into()))
        .await
        .unwrap();
    let addr = running
        .description
        .trim_start_matches("listen://")
        .to_string();
    // The client under test: CONNECT, wait for CONNACK, PINGREQ, then wait.
    let client = tokio::spawn(async move {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(&[
            0x10, 0x0d, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'c',
        ])
        .await
        .unwrap();
        let mut connack = [0u8; 4];
        s.read_exact(&mut connack).await.unwrap();
        s.write_all(&[0xc0, 0x00]).await.unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
        (connack, rest)
    });
    let mut s = scenario(
        "client/ping",
        V3_1_1,
        vec![
            mqttspec::scenario::Step::Accept(mqttspec::scenario::Accept {
                name: "c".into(),
                within: Some(Duration::from_secs(2)),
            }),
            expect(
                "c",
                json!({"connect": {"client_id": "c", "keep_alive": 60, "protocol_level": 4}}),
            ),
            send("c", json!({"connack": {"reason_code": 0}})),
            expect("c", json!({"pingreq": {}})),
            send("c", json!({"pingresp": {}})),
        ],
    );
    s.role = Role::Server;
    let r = run_scenario(
        &s,
        V3_1_1,
        "l0000",
        &running.endpoint(V3_1_1),
        &EngineConfig::default(),
    )
    .await;
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{:?}\n{}",
        r.message,
        r.transcript.render()
    );
    let (connack, rest) = client.await.unwrap();
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x00]);
    // The PINGRESP, then our close (a server sends no DISCONNECT in 3.1.1).
    assert_eq!(rest, vec![0xd0, 0x00]);

    // Nobody connects: a tool-side error, not a verdict on the client.
    let r = run_scenario(
        &s,
        V3_1_1,
        "l0001",
        &running.endpoint(V3_1_1),
        &EngineConfig::default(),
    )
    .await;
    assert_eq!(r.verdict, Verdict::Error);
}
