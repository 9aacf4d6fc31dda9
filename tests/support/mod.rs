//! Scenario builders for engine tests: scenarios written as Rust values, so
//! the engine is tested independently of the YAML loader.
#![allow(dead_code)]

use mqttspec::codec::{Overrides, ProtocolVersion};
use mqttspec::scenario::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

pub const REQ: &str = "MQTT-TEST-1";

const ALL: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

pub fn scenario(id: &str, version: ProtocolVersion, steps: Vec<Step>) -> Scenario {
    Scenario {
        id: id.into(),
        title: id.into(),
        requirements: vec![REQ.into(), "MQTT-TEST-2".into()],
        by_version: vec![],
        protocols: vec![version],
        role: Role::Client,
        needs: vec![],
        level: Level::Must,
        timeout: None,
        steps,
        section: "0".into(),
        source: Source {
            file: PathBuf::from("test.yaml"),
            line: 1,
            column: 1,
        },
    }
}

pub fn open(name: &str) -> Step {
    open_with(
        name,
        json!({}),
        Some(json!({"connack": {"reason_code": 0}})),
    )
}

pub fn open_with(name: &str, connect: Value, connack: Option<Value>) -> Step {
    Step::Open(Open {
        name: name.into(),
        connect: Some(connect),
        overrides: Overrides::default(),
        connack,
        check: Check::default(),
        within: None,
        transport: Transport::Tcp,
    })
}

pub fn open_within(name: &str, within: Duration) -> Step {
    Step::Open(Open {
        name: name.into(),
        connect: Some(json!({})),
        overrides: Overrides::default(),
        connack: Some(json!({"connack": {"reason_code": 0}})),
        check: Check::default(),
        within: Some(within),
        transport: Transport::Tcp,
    })
}

pub fn tcp_only(name: &str) -> Step {
    Step::Open(Open {
        name: name.into(),
        connect: None,
        overrides: Overrides::default(),
        connack: None,
        check: Check::default(),
        within: None,
        transport: Transport::Tcp,
    })
}

pub fn send(on: &str, packet: Value) -> Step {
    send_with(on, packet, Overrides::default())
}

pub fn send_with(on: &str, packet: Value, overrides: Overrides) -> Step {
    Step::Send(Send {
        on: on.into(),
        payload: Payload::Packet {
            template: packet,
            overrides,
        },
        ws_opcode: None,
        ws_split: vec![],
    })
}

pub fn raw(on: &str, bytes: &[u8]) -> Step {
    Step::Send(Send {
        on: on.into(),
        payload: Payload::Raw(bytes.to_vec()),
        ws_opcode: None,
        ws_split: vec![],
    })
}

pub fn expect_(on: &str, packet: Value) -> Expect {
    Expect {
        on: on.into(),
        packet,
        within: None,
        max_size: None,
        check: Check::default(),
    }
}

pub fn expect(on: &str, packet: Value) -> Step {
    Step::Expect(expect_(on, packet))
}

pub fn expect_within(
    on: &str,
    packet: Value,
    within: Duration,
    checks: Option<&str>,
    level: Level,
) -> Step {
    Step::Expect(Expect {
        on: on.into(),
        packet,
        within: Some(within),
        max_size: None,
        check: Check {
            checks: checks
                .map(|c| ALL.iter().map(|v| (*v, c.to_string())).collect())
                .unwrap_or_default(),
            level,
        },
    })
}

pub fn unordered(packets: Vec<Expect>) -> Step {
    Step::ExpectUnordered(ExpectUnordered {
        packets,
        within: None,
    })
}

pub fn nothing(on: &str, ms: u64) -> Step {
    Step::ExpectNothing(ExpectNothing {
        on: on.into(),
        duration: Duration::from_millis(ms),
        check: Check::default(),
    })
}

pub fn expect_close(on: &str, within: Duration) -> Step {
    expect_close_with(on, within, vec![], vec![])
}

pub fn expect_close_with(
    on: &str,
    within: Duration,
    codes: Vec<u8>,
    allow_before: Vec<Value>,
) -> Step {
    Step::ExpectClose(ExpectClose {
        on: on.into(),
        within: Some(within),
        disconnect_codes: codes,
        allow_before,
        no_disconnect: false,
        instead: None,
        max_size: None,
        check: Check::of("MQTT-TEST-2", &ALL, Level::Must),
    })
}

pub fn disconnect(on: &str) -> Step {
    Step::Disconnect(DisconnectStep {
        on: on.into(),
        template: None,
    })
}

pub fn close(on: &str, reset: bool) -> Step {
    Step::Close(CloseStep {
        on: on.into(),
        reset,
    })
}
