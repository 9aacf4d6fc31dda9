//! A finding, written as a scenario file that `mqttspec run --cases DIR`
//! replays: the session's writes as raw `send` steps, then the expectation
//! the broker failed (a close, the packets it sent, or a fresh client's
//! CONNACK after the input).

use super::oracle::{frames, Kind, Oracle, Plan, Violation};
use super::session::{conn_name, Op, Session};
use crate::codec::{self, DecodeOptions, PacketType, ProtocolVersion, Sender};
use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct Finding {
    pub oracle: Oracle,
    pub statement: Option<String>,
    pub description: String,
    /// The first line of the crash message, or the violation's key.
    pub signature: String,
    pub session: Session,
    pub violation: Option<Violation>,
    /// What the broker sent on each connection (violations only).
    pub received: Vec<Vec<u8>>,
    pub seed: u64,
    pub minimised: bool,
}

impl Finding {
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.oracle.name(),
            self.statement.as_deref().unwrap_or("-"),
            self.signature
        )
    }
}

/// The statement a fresh client's CONNECT checks: a valid CONNECT is
/// answered with CONNACK 0.
pub fn liveness_statement(v: ProtocolVersion) -> &'static str {
    if v.is_v5() {
        "MQTT-3.1.4-5"
    } else {
        "MQTT-3.1.4-4"
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

/// A short stable hash of the finding's key and input.
fn fingerprint(f: &Finding) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= u64::from(*x);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    };
    eat(f.key().as_bytes());
    for op in &f.session.ops {
        if let Op::Send { bytes, .. } = op {
            eat(bytes);
        }
    }
    format!("{:08x}", h as u32)
}

/// Hex with a space between bytes, as scenario files write raw bytes.
fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// File name and text of the finding's scenario file.
pub fn scenario(f: &Finding, broker: &str, plans: &[Plan]) -> (String, String) {
    let v = f.session.version;
    let hash = fingerprint(f);
    let name = format!("{}-{}-{hash}.yaml", f.oracle.name(), slug(broker));
    let id = format!("regressions/{}/{}-{hash}", slug(broker), f.oracle.name());
    let liveness = liveness_statement(v);
    let checks = match f.oracle {
        Oracle::Violation => f.statement.clone().unwrap_or_else(|| liveness.to_string()),
        _ => liveness.to_string(),
    };
    let mut t = String::new();
    let _ = writeln!(t, "# Found by `mqttspec fuzz` on {broker}, MQTT {v}.");
    let _ = writeln!(
        t,
        "# oracle: {}; seed: {}; session: {}; {}",
        f.oracle.name(),
        f.seed,
        f.session.index,
        if f.minimised {
            "minimised"
        } else {
            "not minimised"
        }
    );
    for line in f.description.lines() {
        let _ = writeln!(t, "# {line}");
    }
    let _ = writeln!(t, "# input: {}", f.session.origin);
    let _ = writeln!(t, "protocol: \"{v}\"");
    let _ = writeln!(t, "scenarios:");
    let _ = writeln!(t, "  - id: {id}");
    let title = format!(
        "fuzz finding ({}) on {broker}: {}",
        f.oracle.name(),
        f.description.lines().next().unwrap_or("")
    );
    let title: String = title.chars().take(300).collect();
    let _ = writeln!(t, "    title: {}", q(&title));
    let _ = writeln!(t, "    requirements: [{checks}]");
    let _ = writeln!(t, "    steps:");
    let mut opened = [false; super::session::MAX_CONNS];
    // A violation replays the input up to the packet that caused it.
    let limit = f.violation.as_ref().and_then(|x| {
        plans
            .get(x.conn)
            .and_then(|p| p.bad.as_ref())
            .map(|b| (x.conn, b.end))
    });
    let mut written = [0usize; super::session::MAX_CONNS];
    for op in &f.session.ops {
        match op {
            Op::Send { conn, bytes } => {
                let c = *conn;
                let mut bytes = bytes.as_slice();
                if let Some((lc, end)) = limit {
                    if lc == c {
                        let left = end.saturating_sub(written[c]);
                        if left == 0 {
                            continue;
                        }
                        bytes = &bytes[..bytes.len().min(left)];
                    }
                }
                if !opened[c] {
                    opened[c] = true;
                    let _ = writeln!(
                        t,
                        "      - open: {{name: {}, connect: false}}",
                        conn_name(c)
                    );
                }
                written[c] += bytes.len();
                let _ = writeln!(
                    t,
                    "      - send: {{on: {}, raw: \"{}\"}}",
                    conn_name(c),
                    to_hex(bytes)
                );
            }
            Op::Pause(d) => {
                let _ = writeln!(t, "      - wait: {}ms", d.as_millis().max(1));
            }
            Op::Close { conn } => {
                if opened[*conn] {
                    let _ = writeln!(t, "      - close: {}", conn_name(*conn));
                }
            }
        }
    }
    match (&f.violation, f.oracle) {
        (Some(x), Oracle::Violation) => expectation(&mut t, x, plans, &f.received, v, &checks),
        _ => {
            // Time for the input to take effect before a fresh client checks
            // that the broker still serves connections.
            let _ = writeln!(t, "      - wait: 500ms");
            let _ = writeln!(
                t,
                "      - open: {{name: probe, within: 2s, checks: {checks}}}"
            );
        }
    }
    (name, t)
}

fn expectation(
    t: &mut String,
    x: &Violation,
    plans: &[Plan],
    received: &[Vec<u8>],
    v: ProtocolVersion,
    checks: &str,
) {
    let on = conn_name(x.conn);
    let plan = plans.get(x.conn).cloned().unwrap_or_default();
    match &x.kind {
        Kind::NotClosed | Kind::Answered(_) => {
            let mut allow: Vec<String> = Vec::new();
            let first = plan.bad.as_ref().is_some_and(|b| b.first);
            if first {
                allow.push(if v.is_v5() {
                    let codes: Vec<String> = (0x80..=0xa2u8).map(|c| c.to_string()).collect();
                    format!(
                        "{{connack: {{reason_code: {{one_of: [{}]}}}}}}",
                        codes.join(", ")
                    )
                } else {
                    "{connack: {reason_code: {one_of: [1, 2, 3, 4, 5]}}}".to_string()
                });
            }
            for ty in [
                PacketType::Connack,
                PacketType::Publish,
                PacketType::Puback,
                PacketType::Pubrec,
                PacketType::Pubrel,
                PacketType::Pubcomp,
                PacketType::Suback,
                PacketType::Unsuback,
                PacketType::Pingresp,
                PacketType::Auth,
            ] {
                if plan.answers & (1 << (ty as u16)) != 0 && !(first && ty == PacketType::Connack) {
                    allow.push(format!("{{{}: {{}}}}", ty.name().to_ascii_lowercase()));
                }
            }
            let _ = write!(
                t,
                "      - expect_close: {{on: {on}, within: 2s, checks: {checks}"
            );
            if !allow.is_empty() {
                let _ = write!(t, ", allow_before: [{}]", allow.join(", "));
            }
            let _ = writeln!(t, "}}");
        }
        Kind::Malformed => {
            let opts = DecodeOptions {
                sender: Some(Sender::Server),
            };
            let version = plan.version.unwrap_or(v);
            let bytes = received.get(x.conn).map(Vec::as_slice).unwrap_or(&[]);
            for (_, frame) in frames(bytes) {
                let ty = codec::FixedHeader::parse(frame)
                    .ok()
                    .and_then(|h| PacketType::from_nibble(h.type_nibble));
                let Some(ty) = ty else { break };
                let _ = writeln!(
                    t,
                    "      - expect: {{on: {on}, packet: {{{}: {{}}}}, within: 2s, checks: {checks}}}",
                    ty.name().to_ascii_lowercase()
                );
                if codec::decode_with(frame, version, &opts).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::oracle::plans;
    use crate::scenario::load_str;
    use crate::spec::catalog::Catalogs;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn findings_load_as_scenarios() {
        let mut bytes = hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
        bytes.extend(hex("36 07 00 03 61 2f 62 00 01 c0 00"));
        let session = Session {
            index: 12,
            version: ProtocolVersion::V3_1_1,
            ops: vec![
                Op::Send { conn: 0, bytes },
                Op::Pause(std::time::Duration::from_millis(3)),
            ],
            origin: "generated + flags".into(),
        };
        let plans = plans(&session);
        let violation = Violation {
            conn: 0,
            kind: Kind::NotClosed,
            statement: Some("MQTT-4.8.0-1".into()),
            rule: Some("MQTT-3.3.1-4".into()),
            description: "after QoS 3, the server did not close \"a\"".into(),
        };
        let catalogs = Catalogs::embedded().unwrap();
        for (oracle, violation) in [(Oracle::Violation, Some(violation)), (Oracle::Crash, None)] {
            let f = Finding {
                oracle,
                statement: Some("MQTT-4.8.0-1".into()),
                description: "after QoS 3, the server did not close \"a\"\nsecond line".into(),
                signature: "x".into(),
                session: session.clone(),
                violation,
                received: vec![hex("20 02 00 00")],
                seed: 7,
                minimised: true,
            };
            let (name, text) = scenario(&f, "Some Broker 1.0", &plans);
            assert!(name.starts_with(oracle.name()), "{name}");
            let s = load_str(&name, &text, &catalogs).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(s.len(), 1);
            assert!(s[0].id.starts_with("regressions/some-broker-1.0/"));
            if oracle == Oracle::Violation {
                // The PINGREQ after the bad packet is not replayed.
                assert!(text.contains("36 07 00 03 61 2f 62 00 01\"}"), "{text}");
                assert!(!text.contains("c0 00\""), "{text}");
                assert!(text.contains("expect_close"), "{text}");
            } else {
                assert!(text.contains("open: {name: probe"), "{text}");
            }
        }
    }
}
