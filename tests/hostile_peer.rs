//! The engine against scripted hostile peers: garbage, a 256 MB length
//! claim, silence, one byte a second, a half-open socket, a flood, a peer
//! that never reads, a reset. Each scenario must end within its deadline
//! with a Fail or Error verdict, without a panic and without buffering what
//! the peer claims or sends.

mod support;

use mqttspec::codec::ProtocolVersion::{V3_1_1, V5};
use mqttspec::engine::{run_scenario, EngineConfig};
use mqttspec::outcome::{ScenarioResult, Verdict};
use mqttspec::scenario::{Level, Scenario, Step};
use mqttspec::target::Endpoint;
use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONNACK_OK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

/// A peer on a free port that treats every connection with `behave`.
async fn peer<F, Fut>(behave: F) -> Endpoint
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(behave(s));
        }
    });
    Endpoint {
        dial: Some(addr),
        listener: None,
        ..Default::default()
    }
}

/// Reads whatever the client sent first (its CONNECT).
async fn read_connect(s: &mut TcpStream) {
    let mut buf = [0u8; 512];
    let _ = s.read(&mut buf).await;
}

fn config() -> EngineConfig {
    EngineConfig {
        step_timeout: Duration::from_millis(500),
        scenario_timeout: Duration::from_secs(3),
        ..EngineConfig::default()
    }
}

/// Runs `s` and checks it ended in time with `verdict`.
async fn run(
    s: &Scenario,
    endpoint: &Endpoint,
    verdict: Verdict,
    limit: Duration,
) -> ScenarioResult {
    let started = Instant::now();
    let r = run_scenario(s, V3_1_1, "h0000", endpoint, &config()).await;
    let took = started.elapsed();
    assert_eq!(
        r.verdict,
        verdict,
        "{}: {:?}\n{}",
        s.id,
        r.message,
        r.transcript.render()
    );
    assert!(took < limit, "{} took {took:?}", s.id);
    r
}

/// Peak resident memory of this process, in MiB.
#[cfg(target_os = "linux")]
fn peak_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}

#[tokio::test]
async fn garbage_instead_of_connack_fails() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s
            .write_all(&[0x00, 0x00, 0xff, 0xfe, 0x13, 0x37, b'x', b'y'])
            .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let r = run(
        &scenario("garbage", V3_1_1, vec![open("a")]),
        &ep,
        Verdict::Fail,
        Duration::from_secs(2),
    )
    .await;
    let msg = r.message.unwrap();
    assert!(msg.contains("malformed"), "{msg}");
    // The bytes are evidence, in hex.
    assert!(
        r.transcript
            .entries
            .iter()
            .any(|e| e.hex.starts_with("0000")),
        "{}",
        r.transcript.render()
    );
}

#[tokio::test]
async fn a_256_mb_length_claim_is_refused_without_buffering() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        // PUBLISH claiming 268,435,455 bytes, then 256 MiB of them for real.
        let _ = s.write_all(&[0x30, 0xff, 0xff, 0xff, 0x7f]).await;
        let chunk = vec![0x41u8; 64 * 1024];
        for _ in 0..4096 {
            if s.write_all(&chunk).await.is_err() {
                break;
            }
        }
    })
    .await;
    let steps = vec![open("a"), expect("a", json!({"publish": {}}))];
    let r = run(
        &scenario("huge", V3_1_1, steps),
        &ep,
        Verdict::Fail,
        Duration::from_secs(3),
    )
    .await;
    let msg = r.message.unwrap();
    assert!(msg.contains("maximum packet size"), "{msg}");
    #[cfg(target_os = "linux")]
    assert!(peak_mib() < 200, "peak memory {} MiB", peak_mib());
}

#[tokio::test]
async fn the_maximum_packet_size_is_configurable() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        // A valid 2 KiB PUBLISH.
        let mut p = vec![0x30, 0x80, 0x10, 0x00, 0x01, b't'];
        p.resize(3 + 2048, b'z');
        let _ = s.write_all(&p).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let s = scenario(
        "small-max",
        V3_1_1,
        vec![open("a"), expect("a", json!({"publish": {"topic": "t"}}))],
    );
    let r = run_scenario(&s, V3_1_1, "h0001", &ep, &config()).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    let small = EngineConfig {
        max_packet_size: 1024,
        ..config()
    };
    let r = run_scenario(&s, V3_1_1, "h0002", &ep, &small).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.message.unwrap().contains("maximum packet size"));
}

#[tokio::test]
async fn silence_fails_at_the_deadline() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let s = scenario(
        "silence",
        V3_1_1,
        vec![open_within("a", Duration::from_millis(300))],
    );
    let r = run(&s, &ep, Verdict::Fail, Duration::from_secs(1)).await;
    assert!(r.message.unwrap().contains("nothing arrived"));
}

#[tokio::test]
async fn one_byte_a_second_fails_at_the_deadline() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        for b in CONNACK_OK {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let s = scenario(
        "slow",
        V3_1_1,
        vec![open_within("a", Duration::from_millis(1500))],
    );
    let r = run(&s, &ep, Verdict::Fail, Duration::from_millis(2500)).await;
    assert!(r.message.unwrap().contains("nothing arrived"));
}

#[tokio::test]
async fn a_half_open_peer_is_seen_closing() {
    // The peer ends its sending side at once but keeps reading.
    let ep = peer(|mut s| async move {
        let _ = s.shutdown().await;
        let mut sink = [0u8; 1024];
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    let r = run(
        &scenario("half-open", V3_1_1, vec![open("a")]),
        &ep,
        Verdict::Fail,
        Duration::from_secs(1),
    )
    .await;
    assert!(r.observed.unwrap().contains("FIN"));
    // The same close satisfies expect_close.
    let s = scenario(
        "half-open-close",
        V3_1_1,
        vec![tcp_only("a"), expect_close("a", Duration::from_millis(500))],
    );
    run(&s, &ep, Verdict::Pass, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_reset_is_seen() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let r = run(
        &scenario("reset", V3_1_1, vec![open("a")]),
        &ep,
        Verdict::Fail,
        Duration::from_secs(1),
    )
    .await;
    let observed = r.observed.unwrap();
    assert!(
        observed.contains("RST") || observed.contains("FIN"),
        "{observed}"
    );
}

#[tokio::test]
async fn a_flood_fails_expect_nothing_and_expect_close_with_bounded_memory() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        let pings = [0xd0u8, 0x00].repeat(32 * 1024);
        loop {
            if s.write_all(&pings).await.is_err() {
                return;
            }
        }
    })
    .await;
    let r = run(
        &scenario("flood-nothing", V3_1_1, vec![open("a"), nothing("a", 300)]),
        &ep,
        Verdict::Fail,
        Duration::from_secs(2),
    )
    .await;
    assert!(r.observed.unwrap().starts_with("PINGRESP"));
    let s = scenario(
        "flood-close",
        V3_1_1,
        vec![open("a"), expect_close("a", Duration::from_millis(300))],
    );
    run(&s, &ep, Verdict::Fail, Duration::from_secs(2)).await;
    // While the engine waits without reading events, the peer is held back by TCP.
    let s = scenario(
        "flood-wait",
        V3_1_1,
        vec![
            open("a"),
            mqttspec::scenario::Step::Wait(Duration::from_millis(500)),
            nothing("a", 100),
        ],
    );
    let r = run(&s, &ep, Verdict::Fail, Duration::from_secs(2)).await;
    assert!(
        r.transcript.entries.len() <= 4001 + 10,
        "{}",
        r.transcript.entries.len()
    );
    #[cfg(target_os = "linux")]
    assert!(peak_mib() < 200, "peak memory {} MiB", peak_mib());
}

#[tokio::test]
async fn a_peer_that_never_reads_cannot_block_a_send() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let big = vec![0x30u8; 32 * 1024 * 1024];
    let steps = vec![
        open("a"),
        raw("a", &big),
        expect("a", json!({"pingresp": {}})),
    ];
    let r = run(
        &scenario("no-reader", V3_1_1, steps),
        &ep,
        Verdict::Fail,
        Duration::from_secs(3),
    )
    .await;
    assert!(r.transcript.render().contains("write failed"));
}

#[tokio::test]
async fn the_scenario_deadline_ends_a_long_scenario_as_an_error() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let mut s = scenario(
        "deadline",
        V3_1_1,
        vec![
            open("a"),
            nothing("a", 400),
            nothing("a", 400),
            nothing("a", 400),
        ],
    );
    s.timeout = Some(Duration::from_millis(700));
    let r = run(&s, &ep, Verdict::Error, Duration::from_secs(2)).await;
    let msg = r.message.unwrap();
    assert!(msg.contains("deadline") && msg.contains("step 3"), "{msg}");
}

#[tokio::test]
async fn unreachable_peer_is_an_error_not_a_failure() {
    let port = mqttspec::target::free_port().unwrap();
    let ep = Endpoint {
        dial: Some(format!("127.0.0.1:{port}")),
        listener: None,
        ..Default::default()
    };
    let r = run(
        &scenario("unreachable", V3_1_1, vec![open("a")]),
        &ep,
        Verdict::Error,
        Duration::from_secs(1),
    )
    .await;
    assert!(r.message.unwrap().contains("cannot connect"));
}

#[tokio::test]
async fn a_should_expectation_on_a_hostile_peer_is_a_note() {
    let ep = peer(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&CONNACK_OK).await;
        let _ = s.write_all(&[0xff, 0xff]).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let steps = vec![
        open("a"),
        expect_within(
            "a",
            json!({"pingresp": {}}),
            Duration::from_millis(300),
            None,
            Level::Should,
        ),
    ];
    let r = run(
        &scenario("should-garbage", V3_1_1, steps),
        &ep,
        Verdict::Pass,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(r.notes.len(), 1);
}

/// A peer that answers the CONNECT with `first`, then sends `then` and closes.
async fn answer_then_close(first: &'static [u8], then: &'static [u8]) -> Endpoint {
    peer(move |mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(first).await;
        let _ = s.write_all(then).await;
        let _ = s.shutdown().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await
}

async fn run_v5(s: &Scenario, ep: &Endpoint) -> ScenarioResult {
    run_scenario(s, V5, "h5000", ep, &config()).await
}

const CONNACK_V5_OK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00];

#[tokio::test]
async fn expect_close_accepts_the_5_0_disconnect_set_only() {
    let within = Duration::from_millis(500);
    let close_any = |codes: Vec<u8>| {
        let mut s = scenario(
            "close",
            V5,
            vec![open("a"), expect_close_with("a", within, codes, vec![])],
        );
        s.protocols = vec![V5];
        s
    };
    // DISCONNECT 0x81 (malformed packet) then FIN: accepted by default.
    let ep = answer_then_close(CONNACK_V5_OK, &[0xe0, 0x02, 0x81, 0x00]).await;
    let r = run_v5(&close_any(vec![]), &ep).await;
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{:?}\n{}",
        r.message,
        r.transcript.render()
    );
    // ... but not when the scenario names other codes.
    let r = run_v5(&close_any(vec![0x82]), &ep).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.expected.unwrap().contains("0x82"));
    // A success code is not a reason to close on error.
    let ep = answer_then_close(CONNACK_V5_OK, &[0xe0, 0x00]).await;
    let r = run_v5(&close_any(vec![]), &ep).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.observed.unwrap().starts_with("DISCONNECT"));
    // A 3.1.1 server has no DISCONNECT to send.
    let ep = answer_then_close(&CONNACK_OK, &[0xe0, 0x00]).await;
    let s = scenario(
        "close-311",
        V3_1_1,
        vec![open("a"), expect_close("a", within)],
    );
    let r = run(&s, &ep, Verdict::Fail, Duration::from_secs(2)).await;
    let observed = r.observed.unwrap();
    assert!(
        observed.contains("a Server does not send DISCONNECT in 3.1.1"),
        "{observed}"
    );
}

#[tokio::test]
async fn expect_close_allows_the_listed_packets_first() {
    // A refusing CONNACK (0x05, not authorized) and then the close.
    let ep = answer_then_close(&[0x20, 0x02, 0x00, 0x05], &[]).await;
    let within = Duration::from_millis(500);
    let steps = |allow: Vec<serde_json::Value>| {
        vec![
            open_with("a", json!({}), None),
            expect_close_with("a", within, vec![], allow),
        ]
    };
    let s = scenario(
        "refused",
        V3_1_1,
        steps(vec![
            json!({"connack": {"reason_code": {"one_of": [4, 5]}}}),
        ]),
    );
    run(&s, &ep, Verdict::Pass, Duration::from_secs(2)).await;
    let s = scenario(
        "refused-unlisted",
        V3_1_1,
        steps(vec![json!({"connack": {"reason_code": 4}})]),
    );
    let r = run(&s, &ep, Verdict::Fail, Duration::from_secs(2)).await;
    assert!(r.observed.unwrap().starts_with("CONNACK"));
}

#[tokio::test]
async fn expect_close_without_disconnect_and_with_a_packet_instead() {
    let within = Duration::from_millis(500);
    let step = |no_disconnect: bool, instead: Option<serde_json::Value>| {
        let mut st = expect_close_with("a", within, vec![], vec![]);
        if let Step::ExpectClose(c) = &mut st {
            c.no_disconnect = no_disconnect;
            c.instead = instead;
        }
        let mut s = scenario("close", V5, vec![open("a"), st]);
        s.protocols = vec![V5];
        s
    };
    // `disconnect: none`: a DISCONNECT before the close fails, a plain close passes.
    let ep = answer_then_close(CONNACK_V5_OK, &[0xe0, 0x02, 0x81, 0x00]).await;
    let r = run_v5(&step(true, None), &ep).await;
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.observed.unwrap().starts_with("DISCONNECT"));
    let ep = answer_then_close(CONNACK_V5_OK, &[]).await;
    let r = run_v5(&step(true, None), &ep).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    // `instead`: the matching packet ends the step, another one fails it.
    let ep = answer_then_close(CONNACK_V5_OK, &[0x90, 0x04, 0x00, 0x01, 0x00, 0xa2]).await;
    let refused = json!({"suback": {"reason_codes": [0xa2]}});
    let r = run_v5(&step(false, Some(refused)), &ep).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    let granted = json!({"suback": {"reason_codes": [0]}});
    let r = run_v5(&step(false, Some(granted)), &ep).await;
    assert_eq!(r.verdict, Verdict::Fail);
}

#[tokio::test]
async fn max_size_fails_a_packet_above_the_announced_limit() {
    let within = Duration::from_millis(500);
    let limited = |max: usize| {
        let mut e = expect_("a", json!({"disconnect": {}}));
        e.max_size = Some(max);
        e.within = Some(within);
        let mut st = expect_close_with("a", within, vec![], vec![]);
        if let Step::ExpectClose(c) = &mut st {
            c.max_size = Some(max);
        }
        let mut s = scenario("limit", V5, vec![open("a"), st]);
        s.protocols = vec![V5];
        let mut s2 = scenario("limit-expect", V5, vec![open("a"), Step::Expect(e)]);
        s2.protocols = vec![V5];
        (s, s2)
    };
    // DISCONNECT 0x81 with a Reason String "xy": 9 bytes.
    let bytes: &[u8] = &[0xe0, 0x07, 0x81, 0x05, 0x1f, 0x00, 0x02, b'x', b'y'];
    for (max, verdict) in [(9, Verdict::Pass), (8, Verdict::Fail)] {
        let (close, exp) = limited(max);
        let ep = answer_then_close(CONNACK_V5_OK, bytes).await;
        let r = run_v5(&close, &ep).await;
        assert_eq!(r.verdict, verdict, "{:?}", r.message);
        let ep = answer_then_close(CONNACK_V5_OK, bytes).await;
        let r = run_v5(&exp, &ep).await;
        assert_eq!(r.verdict, verdict, "{:?}", r.message);
        if verdict == Verdict::Fail {
            assert!(r.message.unwrap().contains("9 bytes"));
        }
    }
}
