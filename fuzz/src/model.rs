//! Arbitrary packets for the structure-aware round-trip target.
//!
//! The fuzzer drives plain primitive choices (`Arb*` below); [`ArbPacket::build`]
//! turns them into a codec [`Packet`] that a strict decoder of the chosen
//! version must accept: every value is brought into its valid range, and
//! only the properties a packet type may carry are kept.

use arbitrary::Arbitrary;
use bytes::Bytes;
use mqttspec::codec::{
    Ack, Auth, Binary, Connack, Connect, Disconnect, Empty, Packet, Properties, ProtocolVersion,
    Publish, Suback, Subscribe, Subscription, Unsuback, Unsubscribe, Will,
};

/// Longest string or binary field generated; keeps inputs small and fast
/// while still crossing the one-byte/two-byte length boundaries.
const MAX_FIELD: usize = 300;
/// Most entries in a generated list (filters, user properties, ...).
const MAX_ITEMS: usize = 8;

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub v5: bool,
    pub packet: ArbPacket,
}

impl Input {
    pub fn version(&self) -> ProtocolVersion {
        if self.v5 {
            ProtocolVersion::V5
        } else {
            ProtocolVersion::V3_1_1
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum ArbPacket {
    Connect(Box<ArbConnect>),
    Connack(ArbConnack),
    Publish(ArbPublish),
    Puback(ArbAck),
    Pubrec(ArbAck),
    Pubrel(ArbAck),
    Pubcomp(ArbAck),
    Subscribe(ArbSubscribe),
    Suback(ArbCodes),
    Unsubscribe(ArbUnsubscribe),
    Unsuback(ArbCodes),
    Pingreq,
    Pingresp,
    Disconnect(ArbReason),
    Auth(ArbReason),
}

#[derive(Arbitrary, Debug)]
pub struct ArbConnect {
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: String,
    pub will: Option<ArbWill>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbWill {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbConnack {
    pub session_present: bool,
    pub reason: u8,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbPublish {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: String,
    /// 5.0: leave the topic empty and rely on a Topic Alias.
    pub empty_topic: bool,
    pub packet_id: u16,
    pub payload: Vec<u8>,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbAck {
    pub packet_id: u16,
    pub reason: u8,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbSubscribe {
    pub packet_id: u16,
    pub first: ArbSubscription,
    pub more: Vec<ArbSubscription>,
    pub properties: ArbProps,
}

#[derive(Arbitrary, Debug)]
pub struct ArbSubscription {
    pub filter: ArbFilter,
    pub qos: u8,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
}

/// A topic filter as a list of levels, so wildcards land only where a
/// filter may hold them.
#[derive(Arbitrary, Debug)]
pub struct ArbFilter {
    pub first: ArbLevel,
    pub more: Vec<ArbLevel>,
}

#[derive(Arbitrary, Debug)]
pub enum ArbLevel {
    Text(String),
    SingleLevel,
    MultiLevel,
}

#[derive(Arbitrary, Debug)]
pub struct ArbUnsubscribe {
    pub packet_id: u16,
    pub first: ArbFilter,
    pub more: Vec<ArbFilter>,
    pub properties: ArbProps,
}

/// SUBACK and UNSUBACK.
#[derive(Arbitrary, Debug)]
pub struct ArbCodes {
    pub packet_id: u16,
    pub first: u8,
    pub more: Vec<u8>,
    pub properties: ArbProps,
}

/// DISCONNECT and AUTH.
#[derive(Arbitrary, Debug)]
pub struct ArbReason {
    pub reason: u8,
    pub properties: ArbProps,
}

/// Raw choices for every property; [`Allowed`] decides which survive.
#[derive(Arbitrary, Debug, Default)]
pub struct ArbProps {
    pub payload_format_indicator: Option<bool>,
    pub message_expiry_interval: Option<u32>,
    pub content_type: Option<String>,
    pub response_topic: Option<String>,
    pub correlation_data: Option<Vec<u8>>,
    pub subscription_identifiers: Vec<u32>,
    pub session_expiry_interval: Option<u32>,
    pub assigned_client_identifier: Option<String>,
    pub server_keep_alive: Option<u16>,
    pub authentication_method: Option<String>,
    pub authentication_data: Option<Vec<u8>>,
    pub request_problem_information: Option<bool>,
    pub will_delay_interval: Option<u32>,
    pub request_response_information: Option<bool>,
    pub response_information: Option<String>,
    pub server_reference: Option<String>,
    pub reason_string: Option<String>,
    pub receive_maximum: Option<u16>,
    pub topic_alias_maximum: Option<u16>,
    pub topic_alias: Option<u16>,
    pub maximum_qos: Option<bool>,
    pub retain_available: Option<bool>,
    pub user_properties: Vec<(String, String)>,
    pub maximum_packet_size: Option<u32>,
    pub wildcard_subscription_available: Option<bool>,
    pub subscription_identifier_available: Option<bool>,
    pub shared_subscription_available: Option<bool>,
}

/// Which properties a packet may carry (MQTT 5.0 section 2.2.2.2 table).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowed {
    Connect,
    Will,
    Connack,
    Publish,
    Ack,
    Subscribe,
    Suback,
    Unsubscribe,
    Disconnect,
    Auth,
}

// Reason codes each 5.0 packet may carry.
const CONNACK_V5: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
    0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
];
const PUBACK_V5: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_V5: &[u8] = &[0x00, 0x92];
const SUBACK_V5: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2,
];
const SUBACK_V311: &[u8] = &[0x00, 0x01, 0x02, 0x80];
const UNSUBACK_V5: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
const DISCONNECT_V5: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
];
const AUTH_V5: &[u8] = &[0x00, 0x18, 0x19];

fn pick(codes: &[u8], choice: u8) -> u8 {
    codes[choice as usize % codes.len()]
}

/// A UTF-8 string field: no U+0000 ([MQTT-1.5.3-2] in 3.1.1, [MQTT-1.5.4-2]
/// in 5.0), bounded length.
fn text(s: &str) -> String {
    s.chars().filter(|&c| c != '\0').take(MAX_FIELD).collect()
}

/// A topic name: non-empty [MQTT-4.7.3-1] and without wildcards [MQTT-3.3.2-2].
fn topic_name(s: &str) -> String {
    let t: String = text(s).chars().filter(|&c| c != '+' && c != '#').collect();
    if t.is_empty() {
        "t".into()
    } else {
        t
    }
}

/// A topic filter: `#` only as the whole last level, `+` only as a whole
/// level (3.1.1 [MQTT-4.7.1-2] [MQTT-4.7.1-3], 5.0 [MQTT-4.7.1-1]
/// [MQTT-4.7.1-2]); never a shared subscription, whose extra rules are not
/// what this target is about.
fn topic_filter(f: &ArbFilter) -> String {
    let levels: Vec<&ArbLevel> = std::iter::once(&f.first)
        .chain(f.more.iter().take(MAX_ITEMS))
        .collect();
    let last = levels.len() - 1;
    let mut out = Vec::with_capacity(levels.len());
    for (i, level) in levels.into_iter().enumerate() {
        out.push(match level {
            ArbLevel::Text(s) => text(s)
                .chars()
                .filter(|&c| !matches!(c, '+' | '#' | '/'))
                .take(40)
                .collect(),
            ArbLevel::SingleLevel => "+".to_string(),
            ArbLevel::MultiLevel if i == last => "#".to_string(),
            ArbLevel::MultiLevel => "+".to_string(),
        });
    }
    let mut filter = out.join("/");
    if filter.is_empty() {
        filter.push('f');
    }
    if filter.starts_with("$share") {
        filter.replace_range(0..1, "s");
    }
    filter
}

fn binary(b: &[u8]) -> Binary {
    Binary(Bytes::copy_from_slice(&b[..b.len().min(MAX_FIELD)]))
}

/// A non-zero packet identifier (3.1.1 [MQTT-2.3.1-1], 5.0 section 2.2.1).
fn packet_id(id: u16) -> u16 {
    id.max(1)
}

fn user_properties(list: &[(String, String)]) -> Vec<(String, String)> {
    list.iter()
        .take(MAX_ITEMS)
        .map(|(k, v)| (text(k), text(v)))
        .collect()
}

impl ArbProps {
    fn build(&self, allowed: Allowed, version: ProtocolVersion) -> Properties {
        use Allowed::*;
        if !version.is_v5() {
            return Properties::default();
        }
        let is = |kinds: &[Allowed]| kinds.contains(&allowed);
        let flag = |v: Option<bool>| v.map(u8::from);
        let mut p = Properties::default();
        if is(&[Publish, Will]) {
            p.payload_format_indicator = flag(self.payload_format_indicator);
            p.message_expiry_interval = self.message_expiry_interval;
            p.content_type = self.content_type.as_deref().map(text);
            p.response_topic = self.response_topic.as_deref().map(topic_name);
            p.correlation_data = self.correlation_data.as_deref().map(binary);
        }
        if allowed == Publish {
            // 1 ..= 268,435,455: zero is a protocol error (section 3.3.2.3.8).
            p.subscription_identifiers = self
                .subscription_identifiers
                .iter()
                .take(MAX_ITEMS)
                .map(|&id| id % 268_435_455 + 1)
                .collect();
            p.topic_alias = self.topic_alias.filter(|&a| a != 0);
        }
        if allowed == Subscribe {
            // At most one Subscription Identifier in a SUBSCRIBE.
            p.subscription_identifiers = self
                .subscription_identifiers
                .first()
                .map(|&id| id % 268_435_455 + 1)
                .into_iter()
                .collect();
        }
        if is(&[Connect, Connack, Disconnect]) {
            p.session_expiry_interval = self.session_expiry_interval;
        }
        if allowed == Connack {
            p.assigned_client_identifier = self.assigned_client_identifier.as_deref().map(text);
            p.server_keep_alive = self.server_keep_alive;
            p.response_information = self.response_information.as_deref().map(text);
            p.maximum_qos = flag(self.maximum_qos);
            p.retain_available = flag(self.retain_available);
            p.wildcard_subscription_available = flag(self.wildcard_subscription_available);
            p.subscription_identifier_available = flag(self.subscription_identifier_available);
            p.shared_subscription_available = flag(self.shared_subscription_available);
        }
        if is(&[Connect, Connack, Auth]) {
            p.authentication_method = self.authentication_method.as_deref().map(text);
            // Authentication Data only goes with a method.
            if p.authentication_method.is_some() {
                p.authentication_data = self.authentication_data.as_deref().map(binary);
            }
        }
        if allowed == Connect {
            p.request_problem_information = flag(self.request_problem_information);
            p.request_response_information = flag(self.request_response_information);
        }
        if allowed == Will {
            p.will_delay_interval = self.will_delay_interval;
        }
        if is(&[Connack, Disconnect]) {
            p.server_reference = self.server_reference.as_deref().map(text);
        }
        if is(&[Connack, Ack, Suback, Disconnect, Auth]) {
            p.reason_string = self.reason_string.as_deref().map(text);
        }
        if is(&[Connect, Connack]) {
            p.receive_maximum = self.receive_maximum.filter(|&m| m != 0);
            p.topic_alias_maximum = self.topic_alias_maximum;
            p.maximum_packet_size = self.maximum_packet_size.filter(|&m| m != 0);
        }
        p.user_properties = user_properties(&self.user_properties);
        p
    }
}

impl ArbPacket {
    /// A packet valid in `version`. AUTH does not exist in 3.1.1 and turns
    /// into PINGREQ there.
    pub fn build(&self, version: ProtocolVersion) -> Packet {
        let v5 = version.is_v5();
        match self {
            ArbPacket::Connect(c) => Packet::Connect(c.build(version)),
            ArbPacket::Connack(c) => {
                let reason_code = if v5 {
                    pick(CONNACK_V5, c.reason)
                } else {
                    c.reason % 6
                };
                Packet::Connack(Connack {
                    // Only a successful CONNACK may say a session is present
                    // (3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]).
                    session_present: c.session_present && reason_code == 0,
                    reason_code,
                    properties: c.properties.build(Allowed::Connack, version),
                })
            }
            ArbPacket::Publish(p) => Packet::Publish(p.build(version)),
            ArbPacket::Puback(a) => Packet::Puback(a.build(PUBACK_V5, version)),
            ArbPacket::Pubrec(a) => Packet::Pubrec(a.build(PUBACK_V5, version)),
            ArbPacket::Pubrel(a) => Packet::Pubrel(a.build(PUBREL_V5, version)),
            ArbPacket::Pubcomp(a) => Packet::Pubcomp(a.build(PUBREL_V5, version)),
            ArbPacket::Subscribe(s) => Packet::Subscribe(Subscribe {
                packet_id: Some(packet_id(s.packet_id)),
                properties: s.properties.build(Allowed::Subscribe, version),
                filters: std::iter::once(&s.first)
                    .chain(s.more.iter().take(MAX_ITEMS))
                    .map(|sub| sub.build(version))
                    .collect(),
            }),
            ArbPacket::Suback(c) => {
                let codes = if v5 { SUBACK_V5 } else { SUBACK_V311 };
                Packet::Suback(Suback {
                    packet_id: packet_id(c.packet_id),
                    properties: c.properties.build(Allowed::Suback, version),
                    reason_codes: c.codes(codes),
                })
            }
            ArbPacket::Unsubscribe(u) => Packet::Unsubscribe(Unsubscribe {
                packet_id: Some(packet_id(u.packet_id)),
                properties: u.properties.build(Allowed::Unsubscribe, version),
                filters: std::iter::once(&u.first)
                    .chain(u.more.iter().take(MAX_ITEMS))
                    .map(topic_filter)
                    .collect(),
            }),
            ArbPacket::Unsuback(c) => Packet::Unsuback(Unsuback {
                packet_id: packet_id(c.packet_id),
                properties: c.properties.build(Allowed::Suback, version),
                // 3.1.1 UNSUBACK carries no codes.
                reason_codes: if v5 { c.codes(UNSUBACK_V5) } else { Vec::new() },
            }),
            ArbPacket::Pingreq => Packet::Pingreq(Empty {}),
            ArbPacket::Pingresp => Packet::Pingresp(Empty {}),
            ArbPacket::Disconnect(r) => Packet::Disconnect(Disconnect {
                reason_code: if v5 { pick(DISCONNECT_V5, r.reason) } else { 0 },
                properties: r.properties.build(Allowed::Disconnect, version),
            }),
            ArbPacket::Auth(_) if !v5 => Packet::Pingreq(Empty {}),
            ArbPacket::Auth(r) => Packet::Auth(Auth {
                reason_code: pick(AUTH_V5, r.reason),
                properties: r.properties.build(Allowed::Auth, version),
            }),
        }
    }
}

impl ArbConnect {
    fn build(&self, version: ProtocolVersion) -> Connect {
        let v5 = version.is_v5();
        let client_id = text(&self.client_id);
        // An empty 3.1.1 client id goes with a clean session [MQTT-3.1.3-7].
        let clean_session = self.clean_session || (!v5 && client_id.is_empty());
        let username = self.username.as_deref().map(text);
        // 3.1.1 forbids a password without a user name [MQTT-3.1.2-22].
        let password = match (&self.password, v5 || username.is_some()) {
            (Some(p), true) => Some(binary(p)),
            _ => None,
        };
        Connect {
            protocol_name: "MQTT".into(),
            protocol_level: version.level(),
            clean_session,
            keep_alive: self.keep_alive,
            client_id,
            will: self.will.as_ref().map(|w| Will {
                topic: topic_name(&w.topic),
                payload: if w.properties.payload_format_indicator == Some(true) && v5 {
                    Binary::from(String::from_utf8_lossy(&w.payload).as_ref())
                } else {
                    binary(&w.payload)
                },
                qos: w.qos % 3,
                retain: w.retain,
                properties: w.properties.build(Allowed::Will, version),
            }),
            username,
            password,
            properties: self.properties.build(Allowed::Connect, version),
        }
    }
}

impl ArbPublish {
    fn build(&self, version: ProtocolVersion) -> Publish {
        let qos = self.qos % 3;
        let properties = self.properties.build(Allowed::Publish, version);
        let topic = if self.empty_topic && properties.topic_alias.is_some() {
            String::new()
        } else {
            topic_name(&self.topic)
        };
        // A payload declared UTF-8 must be UTF-8 (section 3.3.2.3.2).
        let payload = if properties.payload_format_indicator == Some(1) {
            let s = String::from_utf8_lossy(&self.payload);
            Binary::from(text(&s).as_str())
        } else {
            binary(&self.payload)
        };
        Publish {
            // DUP is 0 for QoS 0 [MQTT-3.3.1-2].
            dup: self.dup && qos > 0,
            qos,
            retain: self.retain,
            topic,
            // A packet identifier exactly when QoS > 0 (3.1.1 [MQTT-2.3.1-5],
            // 5.0 [MQTT-2.2.1-2]).
            packet_id: (qos > 0).then(|| packet_id(self.packet_id)),
            properties,
            payload,
        }
    }
}

impl ArbAck {
    fn build(&self, codes: &[u8], version: ProtocolVersion) -> Ack {
        Ack {
            packet_id: packet_id(self.packet_id),
            reason_code: if version.is_v5() {
                pick(codes, self.reason)
            } else {
                0
            },
            properties: self.properties.build(Allowed::Ack, version),
        }
    }
}

impl ArbSubscription {
    fn build(&self, version: ProtocolVersion) -> Subscription {
        let v5 = version.is_v5();
        Subscription {
            filter: topic_filter(&self.filter),
            qos: self.qos % 3,
            // The other subscription options only exist in 5.0.
            no_local: v5 && self.no_local,
            retain_as_published: v5 && self.retain_as_published,
            retain_handling: if v5 { self.retain_handling % 3 } else { 0 },
        }
    }
}

impl ArbCodes {
    fn codes(&self, allowed: &[u8]) -> Vec<u8> {
        std::iter::once(self.first)
            .chain(self.more.iter().copied().take(MAX_ITEMS))
            .map(|c| pick(allowed, c))
            .collect()
    }
}
