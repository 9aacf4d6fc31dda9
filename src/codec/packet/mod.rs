//! The control packets, one file per packet type. Each file holds the model
//! struct, its body decoder (from a slice exactly the remaining length) and
//! its encoder.

pub mod ack;
pub mod auth;
pub mod connack;
pub mod connect;
pub mod disconnect;
pub mod ping;
pub mod publish;
pub mod suback;
pub mod subscribe;
pub mod unsuback;
pub mod unsubscribe;

pub use ack::Ack;
pub use auth::Auth;
pub use connack::Connack;
pub use connect::{Connect, Will};
pub use disconnect::Disconnect;
pub use ping::Empty;
pub use publish::Publish;
pub use suback::Suback;
pub use subscribe::{Subscribe, Subscription};
pub use unsuback::Unsuback;
pub use unsubscribe::Unsubscribe;

use serde::{Deserialize, Serialize};

/// Every MQTT control packet. In YAML a packet is a one-key mapping from the
/// lower-case packet name to its fields, e.g. `{puback: {packet_id: 1}}`;
/// fields left out take their defaults.
// Boxing the large variants would change the model every other module
// builds and matches on; the size is a known cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Packet {
    Connect(Connect),
    Connack(Connack),
    Publish(Publish),
    Puback(Ack),
    Pubrec(Ack),
    Pubrel(Ack),
    Pubcomp(Ack),
    Subscribe(Subscribe),
    Suback(Suback),
    Unsubscribe(Unsubscribe),
    Unsuback(Unsuback),
    Pingreq(Empty),
    Pingresp(Empty),
    Disconnect(Disconnect),
    /// 5.0 only.
    Auth(Auth),
}

/// The 4-bit packet type in the fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PacketType {
    Connect = 1,
    Connack = 2,
    Publish = 3,
    Puback = 4,
    Pubrec = 5,
    Pubrel = 6,
    Pubcomp = 7,
    Subscribe = 8,
    Suback = 9,
    Unsubscribe = 10,
    Unsuback = 11,
    Pingreq = 12,
    Pingresp = 13,
    Disconnect = 14,
    Auth = 15,
}

impl PacketType {
    pub fn from_nibble(n: u8) -> Option<PacketType> {
        use PacketType::*;
        Some(match n {
            1 => Connect,
            2 => Connack,
            3 => Publish,
            4 => Puback,
            5 => Pubrec,
            6 => Pubrel,
            7 => Pubcomp,
            8 => Subscribe,
            9 => Suback,
            10 => Unsubscribe,
            11 => Unsuback,
            12 => Pingreq,
            13 => Pingresp,
            14 => Disconnect,
            15 => Auth,
            _ => return None,
        })
    }

    /// Upper-case name as the spec writes it.
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "CONNECT",
            Connack => "CONNACK",
            Publish => "PUBLISH",
            Puback => "PUBACK",
            Pubrec => "PUBREC",
            Pubrel => "PUBREL",
            Pubcomp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            Suback => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            Unsuback => "UNSUBACK",
            Pingreq => "PINGREQ",
            Pingresp => "PINGRESP",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        }
    }
}

impl Packet {
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::Connack(_) => PacketType::Connack,
            Packet::Publish(_) => PacketType::Publish,
            Packet::Puback(_) => PacketType::Puback,
            Packet::Pubrec(_) => PacketType::Pubrec,
            Packet::Pubrel(_) => PacketType::Pubrel,
            Packet::Pubcomp(_) => PacketType::Pubcomp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::Suback(_) => PacketType::Suback,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::Unsuback(_) => PacketType::Unsuback,
            Packet::Pingreq(_) => PacketType::Pingreq,
            Packet::Pingresp(_) => PacketType::Pingresp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }
}
