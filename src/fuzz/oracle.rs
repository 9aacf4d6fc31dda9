//! The spec-violation oracle. Before a session runs, each connection's
//! byte stream is read as the broker must read it (strictly, as coming from
//! a client) to find the first packet the broker must refuse by closing the
//! connection. After the session, every packet the broker sent is decoded
//! strictly as coming from a server, and a connection that had to be
//! closed must have been, with nothing in between but answers to earlier
//! packets (and, in 5.0, a DISCONNECT with a reason code of 0x80 or more).
//! These are the accept-sets of the scenario engine's `expect_close`.

use super::exec::{ConnObs, Observation};
use super::session::{conn_name, Session, MAX_CONNS};
use crate::codec::{
    self, DecodeOptions, ErrorKind, FixedHeader, Packet, PacketType, ProtocolVersion, Sender,
};

/// A packet on a connection that the broker must answer by closing it.
#[derive(Debug, Clone)]
pub struct Bad {
    /// Offset just past the packet in the connection's stream.
    pub end: usize,
    /// The packet is the first of the connection.
    pub first: bool,
    /// The statement that obliges the server to close.
    pub duty: &'static str,
    /// The rule the client's packet breaks, when the decoder names one.
    pub rule: Option<&'static str>,
    /// What is wrong with it.
    pub what: String,
}

impl Bad {
    /// The key a "not closed" violation of this packet would have.
    pub fn not_closed_key(&self) -> String {
        format!("{}|{}|not-closed", self.duty, self.rule.unwrap_or("-"))
    }
}

/// What the client side of one connection says, before anything is sent.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The version of the connection's valid first CONNECT.
    pub version: Option<ProtocolVersion>,
    pub bad: Option<Bad>,
    /// Bit per server packet type that answers a packet before `bad`.
    pub answers: u16,
}

pub fn plans(s: &Session) -> Vec<Plan> {
    (0..MAX_CONNS)
        .map(|c| plan(&s.stream(c), s.version))
        .collect()
}

fn level_version(level: u8) -> Option<ProtocolVersion> {
    match level {
        4 => Some(ProtocolVersion::V3_1_1),
        5 => Some(ProtocolVersion::V5),
        _ => None,
    }
}

fn bit(t: PacketType) -> u16 {
    1 << (t as u16)
}

fn duty(v: ProtocolVersion) -> &'static str {
    if v.is_v5() {
        "MQTT-4.13.1-1"
    } else {
        "MQTT-4.8.0-1"
    }
}

/// Reads the client stream of one connection.
pub fn plan(stream: &[u8], session_version: ProtocolVersion) -> Plan {
    let mut p = Plan::default();
    let mut version = session_version;
    let mut pos = 0;
    let opts = DecodeOptions {
        sender: Some(Sender::Client),
    };
    while pos < stream.len() {
        let rest = &stream[pos..];
        let first = pos == 0;
        let h = match FixedHeader::parse(rest) {
            Ok(h) => h,
            Err(e) if e.kind == ErrorKind::Incomplete => return p,
            Err(e) => {
                // Five length bytes: the fifth shows the field cannot end in four.
                if rest.len() < 6 {
                    return p;
                }
                p.bad = Some(Bad {
                    end: pos + 6,
                    first,
                    duty: if first { "MQTT-3.1.4-1" } else { duty(version) },
                    rule: e.statement,
                    what: e.message,
                });
                return p;
            }
        };
        let end = pos + h.packet_len();
        if end > stream.len() {
            return p;
        }
        let frame = &stream[pos..end];
        match codec::decode_with(frame, version, &opts) {
            Ok(d) => {
                match (&d.packet, first) {
                    (Packet::Connect(c), true) => {
                        let Some(v) = level_version(c.protocol_level) else {
                            return p;
                        };
                        version = v;
                        p.version = Some(v);
                        p.answers |= bit(PacketType::Connack);
                    }
                    (other, true) => {
                        p.bad = Some(Bad {
                            end,
                            first,
                            duty: duty(version),
                            rule: Some("MQTT-3.1.0-1"),
                            what: format!(
                                "the first packet is {}, not CONNECT",
                                other.packet_type().name()
                            ),
                        });
                        return p;
                    }
                    (Packet::Connect(_), false) => {
                        p.bad = Some(Bad {
                            end,
                            first,
                            duty: "MQTT-3.1.0-2",
                            rule: None,
                            what: "a second CONNECT on the connection".into(),
                        });
                        return p;
                    }
                    // After DISCONNECT the server closes anyway.
                    (Packet::Disconnect(_), false) => return p,
                    (other, false) => p.answers |= answers(other),
                }
            }
            Err(e) => match e.kind {
                ErrorKind::Malformed | ErrorKind::ProtocolError => {
                    let is_connect = h.type_nibble == 1;
                    let (duty_id, rule) = match (first, is_connect) {
                        (true, true) => ("MQTT-3.1.4-1", e.statement),
                        (true, false) => (duty(version), Some("MQTT-3.1.0-1")),
                        (false, true) => ("MQTT-3.1.0-2", e.statement),
                        (false, false) => (duty(version), e.statement),
                    };
                    p.bad = Some(Bad {
                        end,
                        first,
                        duty: duty_id,
                        rule,
                        what: format!("{} ({})", e.message, e.field),
                    });
                    return p;
                }
                // A version the codec does not judge, or a size it does not
                // check: no verdict on the rest of the stream.
                _ => return p,
            },
        }
        pos = end;
    }
    p
}

/// Server packets that may answer `p`.
fn answers(p: &Packet) -> u16 {
    use PacketType::*;
    match p {
        Packet::Publish(x) => match x.qos {
            1 => bit(Puback) | bit(Disconnect),
            2 => bit(Pubrec),
            _ => 0,
        },
        Packet::Pubrec(_) => bit(Pubrel),
        Packet::Pubrel(_) => bit(Pubcomp),
        // Retained messages follow a SUBACK, and whatever else is published.
        Packet::Subscribe(_) => bit(Suback) | bit(Publish) | bit(Pubrel),
        Packet::Unsubscribe(_) => bit(Unsuback),
        Packet::Pingreq(_) => bit(Pingresp),
        Packet::Auth(_) => bit(Auth),
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Oracle {
    Crash,
    Hang,
    Memory,
    Violation,
}

impl Oracle {
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Crash => "crash",
            Oracle::Hang => "hang",
            Oracle::Memory => "memory",
            Oracle::Violation => "violation",
        }
    }
}

/// What a violation is, precisely enough to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The connection stayed open after a packet the server must refuse.
    NotClosed,
    /// The server answered that packet with something not allowed.
    Answered(String),
    /// A server packet failed strict decoding.
    Malformed,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub conn: usize,
    pub kind: Kind,
    pub statement: Option<String>,
    /// The client-side rule of the packet that caused it, if any.
    pub rule: Option<String>,
    pub description: String,
}

impl Violation {
    /// Findings with the same key are one finding.
    pub fn key(&self) -> String {
        let kind = match &self.kind {
            Kind::NotClosed => "not-closed".to_string(),
            Kind::Answered(t) => format!("answered-{t}"),
            Kind::Malformed => "malformed".to_string(),
        };
        format!(
            "{}|{}|{kind}",
            self.statement.as_deref().unwrap_or("-"),
            self.rule.as_deref().unwrap_or("-")
        )
    }
}

/// Every whole frame in `bytes`, with its offset.
pub fn frames(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Ok(h) = FixedHeader::parse(&bytes[pos..]) else {
            break;
        };
        let end = pos + h.packet_len();
        if end > bytes.len() {
            break;
        }
        out.push((pos, &bytes[pos..end]));
        pos = end;
    }
    out
}

/// The first violation the observation shows, if any.
pub fn judge(s: &Session, plans: &[Plan], obs: &Observation) -> Option<Violation> {
    for (c, (plan, o)) in plans.iter().zip(&obs.conns).enumerate() {
        if let Some(v) = judge_conn(s, c, plan, o) {
            return Some(v);
        }
    }
    None
}

fn judge_conn(s: &Session, c: usize, plan: &Plan, o: &ConnObs) -> Option<Violation> {
    let server = DecodeOptions {
        sender: Some(Sender::Server),
    };
    let bad = plan.bad.as_ref().filter(|b| o.written >= b.end);
    let bad_from = bad.map(|b| o.received_when(b.end));
    let mut disconnect_seen = false;
    for (at, frame) in frames(&o.received) {
        let decoded = match plan.version {
            Some(v) => match codec::decode_with(frame, v, &server) {
                Ok(d) => Some((d.packet, v)),
                Err(e) if matches!(e.kind, ErrorKind::Malformed | ErrorKind::ProtocolError) => {
                    return Some(Violation {
                        conn: c,
                        kind: Kind::Malformed,
                        statement: e.statement.map(str::to_string),
                        rule: None,
                        description: format!(
                            "the server sent a malformed packet on {}: {} ({}) [{}]",
                            conn_name(c),
                            e.message,
                            e.field,
                            codec::binary::to_hex(frame)
                        ),
                    });
                }
                Err(_) => None,
            },
            // The CONNECT was refused or unreadable: read the answer as either version.
            None => [s.version, ProtocolVersion::V3_1_1, ProtocolVersion::V5]
                .into_iter()
                .find_map(|v| {
                    codec::decode_with(frame, v, &server)
                        .ok()
                        .map(|d| (d.packet, v))
                }),
        };
        let (Some(b), Some(from)) = (bad, bad_from) else {
            continue;
        };
        if at < from {
            continue;
        }
        let Some((packet, v)) = decoded else { continue };
        let t = packet.packet_type();
        let allowed = match &packet {
            Packet::Connack(ca) if b.first => {
                if v.is_v5() {
                    ca.reason_code >= 0x80
                } else {
                    (1..=5).contains(&ca.reason_code)
                }
            }
            Packet::Disconnect(d) if v.is_v5() && !disconnect_seen && d.reason_code >= 0x80 => {
                disconnect_seen = true;
                true
            }
            _ => plan.answers & bit(t) != 0,
        };
        if !allowed {
            return Some(Violation {
                conn: c,
                kind: Kind::Answered(t.name().to_ascii_lowercase()),
                statement: Some(b.duty.to_string()),
                rule: b.rule.map(str::to_string),
                description: format!(
                    "after {} on {}, the server sent {} instead of closing the connection",
                    b.what,
                    conn_name(c),
                    crate::engine::transcript::describe(&packet)
                ),
            });
        }
    }
    if let Some(b) = bad {
        if o.closed.is_none() {
            return Some(Violation {
                conn: c,
                kind: Kind::NotClosed,
                statement: Some(b.duty.to_string()),
                rule: b.rule.map(str::to_string),
                description: format!(
                    "after {} on {}, the server did not close the connection within {:?}",
                    b.what,
                    conn_name(c),
                    o.waited
                ),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::binary::Binary;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const CONNECT_311: &str = "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61";

    #[test]
    fn a_valid_stream_has_no_bad_packet() {
        let mut s = hex(CONNECT_311);
        s.extend(hex("c0 00 82 06 00 01 00 01 61 00"));
        let p = plan(&s, ProtocolVersion::V3_1_1);
        assert_eq!(p.version, Some(ProtocolVersion::V3_1_1));
        assert!(p.bad.is_none());
        assert_ne!(p.answers & bit(PacketType::Suback), 0);
    }

    #[test]
    fn qos_3_publish_after_connect_is_bad_with_the_general_duty() {
        let mut s = hex(CONNECT_311);
        s.extend(hex("36 07 00 03 61 2f 62 00 01"));
        let p = plan(&s, ProtocolVersion::V3_1_1);
        let b = p.bad.unwrap();
        assert_eq!((b.duty, b.end, b.first), ("MQTT-4.8.0-1", s.len(), false));
        assert_eq!(b.rule, Some("MQTT-3.3.1-4"));
    }

    #[test]
    fn first_packet_and_second_connect_and_incomplete_streams() {
        let p = plan(&hex("c0 00"), ProtocolVersion::V5);
        assert_eq!(p.bad.unwrap().rule, Some("MQTT-3.1.0-1"));
        let mut s = hex(CONNECT_311);
        s.extend(hex(CONNECT_311));
        assert_eq!(
            plan(&s, ProtocolVersion::V3_1_1).bad.unwrap().duty,
            "MQTT-3.1.0-2"
        );
        // Half a packet: the server waits for the rest; no verdict.
        let mut s = hex(CONNECT_311);
        s.extend(hex("30 10 00"));
        assert!(plan(&s, ProtocolVersion::V3_1_1).bad.is_none());
        // An unsupported level: no verdict either.
        let p = plan(
            &hex("10 0d 00 04 4d 51 54 54 07 02 00 3c 00 01 61"),
            ProtocolVersion::V3_1_1,
        );
        assert!(p.bad.is_none() && p.version.is_none());
    }

    fn obs(received: &str, closed: bool, written: usize) -> ConnObs {
        ConnObs {
            written,
            received: hex(received),
            progress: vec![(written, 0)],
            closed: closed.then_some(super::super::exec::Closed::Fin),
            waited: std::time::Duration::from_millis(500),
        }
    }

    fn session(stream: Vec<u8>) -> Session {
        Session {
            index: 0,
            version: ProtocolVersion::V3_1_1,
            ops: vec![super::super::session::Op::Send {
                conn: 0,
                bytes: stream,
            }],
            origin: String::new(),
        }
    }

    #[test]
    fn verdicts_on_close_answers_and_malformed_server_packets() {
        let mut s = hex(CONNECT_311);
        s.extend(hex("36 07 00 03 61 2f 62 00 01"));
        let ses = session(s.clone());
        let plans = plans(&ses);
        let judge1 = |o: ConnObs| {
            let mut conns = vec![o];
            conns.resize_with(MAX_CONNS, ConnObs::default);
            judge(
                &ses,
                &plans,
                &Observation {
                    conns,
                    ..Default::default()
                },
            )
        };
        // CONNACK, then close: fine.
        assert!(judge1(obs("20 02 00 00", true, s.len())).is_none());
        // Still open: not closed.
        let v = judge1(obs("20 02 00 00", false, s.len())).unwrap();
        assert_eq!(
            (v.kind, v.statement.as_deref()),
            (Kind::NotClosed, Some("MQTT-4.8.0-1"))
        );
        // A PUBACK for the bad PUBLISH: answered.
        let v = judge1(obs("20 02 00 00 40 02 00 01", true, s.len())).unwrap();
        assert_eq!(v.kind, Kind::Answered("puback".into()));
        // A CONNACK with a reserved flag bit: malformed server packet.
        let v = judge1(obs("20 02 02 00", true, s.len())).unwrap();
        assert_eq!(v.kind, Kind::Malformed);
        // Not all bytes written (the server closed first): no verdict on closing.
        assert!(judge1(obs("20 02 00 00", false, 15)).is_none());
        let _ = Binary::from("x");
    }
}
