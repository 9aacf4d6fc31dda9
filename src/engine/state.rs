//! The protocol state of one connection, as both sides announced it and as
//! the packets so far have built it: topic aliases in each direction, the
//! limits each side announced (Receive Maximum, Maximum Packet Size, Topic
//! Alias Maximum) and the QoS 1/2 PUBLISH packets still in flight.
//!
//! The engine feeds it every packet it sends and every packet it takes from
//! the peer, in order. A received packet that breaks a limit we announced
//! becomes a protocol error naming the statement the peer broke; a PUBLISH
//! that uses a topic alias gets its topic filled in, so matchers see the
//! resolved topic while `properties.topic_alias` keeps the raw alias.

use crate::codec::{DecodeError, ErrorKind, Packet, ProtocolVersion, Publish, Sender};
use std::collections::{BTreeSet, HashMap};

/// What one side announced (5.0; 3.1.1 has none of these limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Receive Maximum (absent: 65,535).
    pub receive_maximum: u16,
    /// Maximum Packet Size (absent: no limit beyond the protocol's).
    pub maximum_packet_size: Option<u32>,
    /// Topic Alias Maximum (absent: 0, no aliases).
    pub topic_alias_maximum: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            receive_maximum: u16::MAX,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
        }
    }
}

impl Limits {
    fn from_properties(p: &crate::codec::Properties) -> Limits {
        Limits {
            // 0 is itself a protocol error; it is the peer's to reject, and
            // no accounting can be built on it.
            receive_maximum: p.receive_maximum.filter(|r| *r > 0).unwrap_or(u16::MAX),
            maximum_packet_size: p.maximum_packet_size.filter(|m| *m > 0),
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
        }
    }
}

/// The state of one connection.
#[derive(Debug, Clone)]
pub struct ProtocolState {
    version: ProtocolVersion,
    /// The side the peer plays.
    peer: Sender,
    /// What we announced (in our CONNECT, or our CONNACK as a server).
    pub ours: Limits,
    /// What the peer announced, once its CONNECT or CONNACK arrived.
    pub theirs: Option<Limits>,
    /// Topic aliases the peer set up, by alias.
    peer_aliases: HashMap<u16, String>,
    /// Topic aliases we set up.
    our_aliases: HashMap<u16, String>,
    /// Packet identifiers of QoS 1/2 PUBLISH packets the peer sent that we
    /// have not finished acknowledging.
    inbound: BTreeSet<u16>,
    /// The same for the PUBLISH packets we sent.
    outbound: BTreeSet<u16>,
}

impl ProtocolState {
    /// A new connection's state; `peer` is the side the peer plays.
    pub fn new(version: ProtocolVersion, peer: Sender) -> ProtocolState {
        ProtocolState {
            version,
            peer,
            ours: Limits::default(),
            theirs: None,
            peer_aliases: HashMap::new(),
            our_aliases: HashMap::new(),
            inbound: BTreeSet::new(),
            outbound: BTreeSet::new(),
        }
    }

    /// QoS 1/2 PUBLISH packets from the peer not yet acknowledged by us.
    pub fn inbound_in_flight(&self) -> usize {
        self.inbound.len()
    }

    /// QoS 1/2 PUBLISH packets we sent that the peer has not finished.
    pub fn outbound_in_flight(&self) -> usize {
        self.outbound.len()
    }

    /// The topic a PUBLISH we send stands for: its own, or the one its
    /// alias was set up with on this connection.
    pub fn outgoing_topic<'p>(&'p self, p: &'p Publish) -> Option<&'p str> {
        if !p.topic.is_empty() {
            return Some(&p.topic);
        }
        let alias = p.properties.topic_alias?;
        self.our_aliases.get(&alias).map(String::as_str)
    }

    /// Takes note of a packet we send.
    pub fn sent(&mut self, packet: &Packet) {
        match packet {
            Packet::Connect(c) if self.peer == Sender::Server => {
                self.ours = Limits::from_properties(&c.properties);
            }
            Packet::Connack(c) if self.peer == Sender::Client => {
                self.ours = Limits::from_properties(&c.properties);
            }
            Packet::Publish(p) => {
                if let (Some(alias), false) = (p.properties.topic_alias, p.topic.is_empty()) {
                    self.our_aliases.insert(alias, p.topic.clone());
                }
                if let (true, Some(id)) = (p.qos > 0, p.packet_id) {
                    self.outbound.insert(id);
                }
            }
            Packet::Puback(a) | Packet::Pubcomp(a) => {
                self.inbound.remove(&a.packet_id);
            }
            Packet::Pubrec(a) if a.reason_code >= 0x80 => {
                self.inbound.remove(&a.packet_id);
            }
            _ => {}
        }
    }

    /// Takes note of a packet the peer sent (`size`: its bytes on the
    /// wire), resolving a topic alias in place. `Err` is the rule the
    /// packet breaks, given the state so far.
    pub fn received(&mut self, packet: &mut Packet, size: usize) -> Result<(), DecodeError> {
        if self.version.is_v5() {
            self.check_size(size)?;
        }
        match packet {
            Packet::Connect(c) if self.peer == Sender::Client => {
                self.theirs = Some(Limits::from_properties(&c.properties));
            }
            Packet::Connack(c) if self.peer == Sender::Server => {
                self.theirs = Some(Limits::from_properties(&c.properties));
            }
            Packet::Publish(p) if self.version.is_v5() => {
                self.resolve_alias(p)?;
                self.count_inbound(p)?;
            }
            Packet::Puback(a) | Packet::Pubcomp(a) => {
                self.outbound.remove(&a.packet_id);
            }
            Packet::Pubrec(a) if a.reason_code >= 0x80 => {
                self.outbound.remove(&a.packet_id);
            }
            _ => {}
        }
        Ok(())
    }

    /// The peer's statement for a rule that 5.0 states per side.
    fn sid(&self, from_server: &'static str, from_client: &'static str) -> &'static str {
        match self.peer {
            Sender::Server => from_server,
            Sender::Client => from_client,
        }
    }

    fn check_size(&self, size: usize) -> Result<(), DecodeError> {
        match self.ours.maximum_packet_size {
            Some(max) if size > max as usize => Err(violation(
                "packet size",
                self.sid("MQTT-3.1.2-24", "MQTT-3.2.2-15"),
                format!("a packet of {size} bytes; the Maximum Packet Size announced to the peer is {max}"),
            )),
            _ => Ok(()),
        }
    }

    fn resolve_alias(&mut self, p: &mut Publish) -> Result<(), DecodeError> {
        let Some(alias) = p.properties.topic_alias else {
            return Ok(());
        };
        let max = self.ours.topic_alias_maximum;
        if alias > max {
            let (statement, limit) = if max == 0 {
                (
                    self.sid("MQTT-3.1.2-27", "MQTT-3.2.2-18"),
                    "no Topic Alias Maximum was announced, so no alias may be used".to_string(),
                )
            } else {
                (
                    self.sid("MQTT-3.3.2-11", "MQTT-3.3.2-9"),
                    format!("the Topic Alias Maximum announced to the peer is {max}"),
                )
            };
            return Err(violation(
                "topic alias",
                statement,
                format!("Topic Alias {alias}; {limit}"),
            ));
        }
        if !p.topic.is_empty() {
            self.peer_aliases.insert(alias, p.topic.clone());
            return Ok(());
        }
        match self.peer_aliases.get(&alias) {
            Some(topic) => {
                p.topic = topic.clone();
                Ok(())
            }
            // Section 3.3.2.3.4 makes this a Protocol Error but gives it no
            // statement of its own.
            None => Err(DecodeError {
                kind: ErrorKind::ProtocolError,
                offset: 0,
                field: "topic alias",
                statement: None,
                message: format!(
                    "a PUBLISH with an empty topic and Topic Alias {alias}, which was never set up on this connection (a protocol error, section 3.3.2.3.4)"
                ),
            }),
        }
    }

    fn count_inbound(&mut self, p: &Publish) -> Result<(), DecodeError> {
        let (true, Some(id)) = (p.qos > 0, p.packet_id) else {
            return Ok(());
        };
        // A resent PUBLISH (same identifier) is not a new one in flight.
        if !self.inbound.insert(id) {
            return Ok(());
        }
        let max = self.ours.receive_maximum;
        if self.inbound.len() > max as usize {
            return Err(violation(
                "receive maximum",
                self.sid("MQTT-3.3.4-9", "MQTT-3.3.4-7"),
                format!(
                    "{} QoS 1/2 PUBLISH packets unacknowledged; the Receive Maximum announced to the peer is {max}",
                    self.inbound.len()
                ),
            ));
        }
        Ok(())
    }
}

fn violation(field: &'static str, statement: &'static str, message: String) -> DecodeError {
    DecodeError {
        kind: ErrorKind::ProtocolError,
        offset: 0,
        field,
        statement: Some(statement),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Ack, Connack, Connect, Properties};

    const V5: ProtocolVersion = ProtocolVersion::V5;

    fn connect(props: Properties) -> Packet {
        Packet::Connect(Connect {
            protocol_name: "MQTT".into(),
            protocol_level: 5,
            clean_session: true,
            keep_alive: 60,
            client_id: "c".into(),
            will: None,
            username: None,
            password: None,
            properties: props,
        })
    }

    fn publish(topic: &str, alias: Option<u16>, qos: u8, id: Option<u16>) -> Packet {
        Packet::Publish(Publish {
            topic: topic.into(),
            qos,
            packet_id: id,
            properties: Properties {
                topic_alias: alias,
                ..Properties::default()
            },
            ..Publish::default()
        })
    }

    /// A client-side state that announced `props` in its CONNECT.
    fn client(props: Properties) -> ProtocolState {
        let mut s = ProtocolState::new(V5, Sender::Server);
        s.sent(&connect(props));
        s
    }

    fn topic_of(p: &Packet) -> &str {
        match p {
            Packet::Publish(p) => &p.topic,
            _ => panic!("not a PUBLISH"),
        }
    }

    #[test]
    fn an_alias_set_up_by_the_peer_resolves_later_publishes() {
        let mut s = client(Properties {
            topic_alias_maximum: Some(5),
            ..Properties::default()
        });
        let mut first = publish("a/b", Some(3), 0, None);
        s.received(&mut first, 10).unwrap();
        let mut second = publish("", Some(3), 0, None);
        s.received(&mut second, 10).unwrap();
        assert_eq!(topic_of(&second), "a/b");
        // The raw alias stays.
        let Packet::Publish(p) = &second else {
            panic!()
        };
        assert_eq!(p.properties.topic_alias, Some(3));
        // A new topic for the same alias replaces the mapping.
        s.received(&mut publish("c", Some(3), 0, None), 10).unwrap();
        let mut third = publish("", Some(3), 0, None);
        s.received(&mut third, 10).unwrap();
        assert_eq!(topic_of(&third), "c");
    }

    #[test]
    fn unknown_and_excess_aliases_are_protocol_errors() {
        let mut s = client(Properties {
            topic_alias_maximum: Some(2),
            ..Properties::default()
        });
        let e = s
            .received(&mut publish("", Some(1), 0, None), 10)
            .unwrap_err();
        assert_eq!((e.kind, e.statement), (ErrorKind::ProtocolError, None));
        assert!(e.message.contains("never set up"), "{e}");
        let e = s
            .received(&mut publish("t", Some(3), 0, None), 10)
            .unwrap_err();
        assert_eq!(e.statement, Some("MQTT-3.3.2-11"));
        // Nothing announced: any alias from the server breaks MQTT-3.1.2-27.
        let mut none = client(Properties::default());
        let e = none
            .received(&mut publish("t", Some(1), 0, None), 10)
            .unwrap_err();
        assert_eq!(e.statement, Some("MQTT-3.1.2-27"));
        // The same rules name the client's statements when the peer is a client.
        let mut server = ProtocolState::new(V5, Sender::Client);
        server.sent(&Packet::Connack(Connack {
            properties: Properties {
                topic_alias_maximum: Some(1),
                ..Properties::default()
            },
            ..Connack::default()
        }));
        let e = server
            .received(&mut publish("t", Some(2), 0, None), 10)
            .unwrap_err();
        assert_eq!(e.statement, Some("MQTT-3.3.2-9"));
        server
            .received(&mut publish("t", Some(1), 0, None), 10)
            .unwrap();
    }

    #[test]
    fn our_aliases_give_the_topic_of_what_we_send() {
        let mut s = client(Properties::default());
        s.sent(&publish("x/y", Some(4), 0, None));
        let Packet::Publish(p) = publish("", Some(4), 0, None) else {
            panic!()
        };
        assert_eq!(s.outgoing_topic(&p), Some("x/y"));
        let Packet::Publish(p) = publish("", Some(5), 0, None) else {
            panic!()
        };
        assert_eq!(s.outgoing_topic(&p), None);
    }

    #[test]
    fn the_peer_may_not_exceed_our_receive_maximum() {
        let mut s = client(Properties {
            receive_maximum: Some(2),
            ..Properties::default()
        });
        s.received(&mut publish("t", None, 1, Some(1)), 10).unwrap();
        s.received(&mut publish("t", None, 2, Some(2)), 10).unwrap();
        // QoS 0 does not count, nor does a resend of one in flight.
        s.received(&mut publish("t", None, 0, None), 10).unwrap();
        s.received(&mut publish("t", None, 1, Some(1)), 10).unwrap();
        assert_eq!(s.inbound_in_flight(), 2);
        let e = s
            .received(&mut publish("t", None, 1, Some(3)), 10)
            .unwrap_err();
        assert_eq!(e.statement, Some("MQTT-3.3.4-9"));
        // Our PUBACK, and for QoS 2 our PUBCOMP (not a successful PUBREC), free a place.
        let mut s = client(Properties {
            receive_maximum: Some(1),
            ..Properties::default()
        });
        s.received(&mut publish("t", None, 1, Some(1)), 10).unwrap();
        s.sent(&Packet::Puback(Ack {
            packet_id: 1,
            ..Ack::default()
        }));
        s.received(&mut publish("t", None, 2, Some(2)), 10).unwrap();
        s.sent(&Packet::Pubrec(Ack {
            packet_id: 2,
            ..Ack::default()
        }));
        assert_eq!(s.inbound_in_flight(), 1);
        s.sent(&Packet::Pubcomp(Ack {
            packet_id: 2,
            ..Ack::default()
        }));
        s.received(&mut publish("t", None, 1, Some(3)), 10).unwrap();
    }

    #[test]
    fn the_peer_may_not_exceed_our_maximum_packet_size() {
        let mut s = client(Properties {
            maximum_packet_size: Some(100),
            ..Properties::default()
        });
        s.received(&mut publish("t", None, 0, None), 100).unwrap();
        let e = s
            .received(&mut publish("t", None, 0, None), 101)
            .unwrap_err();
        assert_eq!(e.statement, Some("MQTT-3.1.2-24"));
        // 3.1.1 has no such limit.
        let mut old = ProtocolState::new(ProtocolVersion::V3_1_1, Sender::Server);
        old.sent(&connect(Properties {
            maximum_packet_size: Some(100),
            ..Properties::default()
        }));
        old.received(&mut publish("t", None, 0, None), 1000)
            .unwrap();
    }

    #[test]
    fn the_peers_announcement_is_kept() {
        let mut s = client(Properties::default());
        assert_eq!(s.theirs, None);
        let mut connack = Packet::Connack(Connack {
            properties: Properties {
                receive_maximum: Some(20),
                maximum_packet_size: Some(4096),
                ..Properties::default()
            },
            ..Connack::default()
        });
        s.received(&mut connack, 20).unwrap();
        let theirs = s.theirs.unwrap();
        assert_eq!(theirs.receive_maximum, 20);
        assert_eq!(theirs.maximum_packet_size, Some(4096));
        assert_eq!(theirs.topic_alias_maximum, 0);
        s.sent(&publish("t", None, 1, Some(7)));
        assert_eq!(s.outbound_in_flight(), 1);
        let mut ack = Packet::Puback(Ack {
            packet_id: 7,
            ..Ack::default()
        });
        s.received(&mut ack, 4).unwrap();
        assert_eq!(s.outbound_in_flight(), 0);
    }
}

/// The state at work in a scenario, against a scripted broker.
#[cfg(test)]
mod in_scenarios {
    use crate::codec::{Packet, Properties, ProtocolVersion::V5, Publish};
    use crate::engine::testkit::{run, scenario, FakeBroker};
    use crate::outcome::{ScenarioResult, Verdict};

    fn aliased(topic: &str, alias: u16) -> Packet {
        Packet::Publish(Publish {
            topic: topic.into(),
            properties: Properties {
                topic_alias: Some(alias),
                ..Properties::default()
            },
            ..Publish::default()
        })
    }

    async fn play(steps: &str, sends: Vec<Vec<u8>>) -> ScenarioResult {
        let s = scenario(&format!(
            "protocol: \"5.0\"\nscenarios:\n  - id: s\n    title: t\n    requirements: [MQTT-3.3.2-12, MQTT-3.3.4-9]\n    steps:\n{steps}"
        ));
        let mut broker = FakeBroker::start().await;
        let ep = broker.endpoint.clone();
        let script = async {
            let mut p = broker.connected(V5).await;
            for bytes in sends {
                p.send_raw(&bytes).await;
            }
            p
        };
        tokio::join!(run(&s, V5, &ep), script).0
    }

    fn wire(p: &Packet) -> Vec<u8> {
        let mut out = bytes::BytesMut::new();
        crate::codec::encode(p, V5, &mut out).unwrap();
        out.to_vec()
    }

    const OPEN: &str = "      - open: {name: a, connect: {properties: {topic_alias_maximum: 4, receive_maximum: 1}}}\n";

    #[tokio::test]
    async fn the_matcher_sees_the_resolved_topic_and_the_raw_alias() {
        let steps = format!("{OPEN}      - expect: {{on: a, packet: {{publish: {{topic: x/y}}}}}}\n      - expect: {{on: a, packet: {{publish: {{topic: x/y, properties: {{topic_alias: 2}}}}}}}}\n");
        let r = play(
            &steps,
            vec![wire(&aliased("x/y", 2)), wire(&aliased("", 2))],
        )
        .await;
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    }

    #[tokio::test]
    async fn an_alias_never_set_up_or_above_our_maximum_fails() {
        let steps = format!("{OPEN}      - expect: {{on: a, packet: {{publish: {{}}}}}}\n");
        let r = play(&steps, vec![wire(&aliased("", 3))]).await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.message.as_deref().unwrap().contains("never set up"),
            "{:?}",
            r.message
        );
        let r = play(&steps, vec![wire(&aliased("t", 5))]).await;
        assert_eq!(
            r.violated.as_deref(),
            Some("MQTT-3.3.2-11"),
            "{:?}",
            r.message
        );
    }

    #[tokio::test]
    async fn a_broker_above_our_receive_maximum_fails() {
        let qos1 = |id| {
            wire(&Packet::Publish(Publish {
                topic: "t".into(),
                qos: 1,
                packet_id: Some(id),
                ..Publish::default()
            }))
        };
        let steps = format!("{OPEN}      - expect: {{on: a, packet: {{publish: {{packet_id: 1}}}}}}\n      - expect: {{on: a, packet: {{publish: {{packet_id: 2}}}}}}\n");
        let r = play(&steps, vec![qos1(1), qos1(2)]).await;
        assert_eq!(
            r.violated.as_deref(),
            Some("MQTT-3.3.4-9"),
            "{:?}",
            r.message
        );
        // Acknowledged in between, the second one is within the limit.
        let steps = format!("{OPEN}      - expect: {{on: a, packet: {{publish: {{packet_id: 1}}}}}}\n      - send: {{on: a, packet: {{puback: {{packet_id: 1}}}}}}\n      - expect: {{on: a, packet: {{publish: {{packet_id: 2}}}}}}\n");
        let r = play(&steps, vec![qos1(1), qos1(2)]).await;
        // The broker sent both at once, before our PUBACK: still a failure.
        assert_eq!(
            r.violated.as_deref(),
            Some("MQTT-3.3.4-9"),
            "{:?}",
            r.message
        );
    }

    #[tokio::test]
    async fn a_packet_illegal_from_a_server_fails_with_its_statement() {
        // PUBLISH QoS 1 with packet identifier 0, from the server.
        let steps = format!("{OPEN}      - expect: {{on: a, packet: {{publish: {{}}}}}}\n");
        let r = play(
            &steps,
            vec![vec![0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x00, 0x00]],
        )
        .await;
        assert_eq!(
            r.violated.as_deref(),
            Some("MQTT-2.2.1-4"),
            "{:?}",
            r.message
        );
        // A SUBSCRIBE, which only clients send.
        let r = play(
            &steps,
            vec![vec![0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b't', 0x00]],
        )
        .await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("does not send SUBSCRIBE"),
            "{:?}",
            r.message
        );
    }
}
