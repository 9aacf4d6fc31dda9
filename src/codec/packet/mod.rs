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

pub use ack::{Ack, AckRef};
pub use auth::{Auth, AuthRef};
pub use connack::{Connack, ConnackRef};
pub use connect::{Connect, ConnectRef, Will, WillRef};
pub use disconnect::{Disconnect, DisconnectRef};
pub use ping::Empty;
pub use publish::{Publish, PublishRef};
pub use suback::{Suback, SubackRef};
pub use subscribe::{Subscribe, SubscribeRef, Subscription, SubscriptionIter, SubscriptionRef};
pub use unsuback::{Unsuback, UnsubackRef};
pub use unsubscribe::{FilterIter, Unsubscribe, UnsubscribeRef};

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

/// A decoded packet that borrows its strings and bytes from the frame it
/// was read from: what [`crate::codec::decode_ref`] returns. Everything in
/// it has been checked as [`crate::codec::decode`] checks it; `to_owned`
/// gives the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketRef<'a> {
    /// Boxed: a CONNECT view is more than twice the size of any other, and
    /// comes once per connection.
    Connect(Box<ConnectRef<'a>>),
    Connack(ConnackRef<'a>),
    Publish(PublishRef<'a>),
    Puback(AckRef<'a>),
    Pubrec(AckRef<'a>),
    Pubrel(AckRef<'a>),
    Pubcomp(AckRef<'a>),
    Subscribe(SubscribeRef<'a>),
    Suback(SubackRef<'a>),
    Unsubscribe(UnsubscribeRef<'a>),
    Unsuback(UnsubackRef<'a>),
    Pingreq(Empty),
    Pingresp(Empty),
    Disconnect(DisconnectRef<'a>),
    Auth(AuthRef<'a>),
}

impl PacketRef<'_> {
    pub fn packet_type(&self) -> PacketType {
        match self {
            PacketRef::Connect(_) => PacketType::Connect,
            PacketRef::Connack(_) => PacketType::Connack,
            PacketRef::Publish(_) => PacketType::Publish,
            PacketRef::Puback(_) => PacketType::Puback,
            PacketRef::Pubrec(_) => PacketType::Pubrec,
            PacketRef::Pubrel(_) => PacketType::Pubrel,
            PacketRef::Pubcomp(_) => PacketType::Pubcomp,
            PacketRef::Subscribe(_) => PacketType::Subscribe,
            PacketRef::Suback(_) => PacketType::Suback,
            PacketRef::Unsubscribe(_) => PacketType::Unsubscribe,
            PacketRef::Unsuback(_) => PacketType::Unsuback,
            PacketRef::Pingreq(_) => PacketType::Pingreq,
            PacketRef::Pingresp(_) => PacketType::Pingresp,
            PacketRef::Disconnect(_) => PacketType::Disconnect,
            PacketRef::Auth(_) => PacketType::Auth,
        }
    }

    /// The owned model (binary fields copied).
    pub fn to_owned(&self) -> Packet {
        self.to_owned_in(None)
    }

    /// [`PacketRef::to_owned_in`] into `out`. The model structs are large:
    /// the packets of a message flow are filled in place rather than built
    /// and moved.
    pub(crate) fn fill(&self, owner: Option<&bytes::Bytes>, out: &mut Packet) {
        let ack = |a: &AckRef<'_>, out: &mut Packet, wrap: fn(Ack) -> Packet| {
            *out = wrap(Ack::default());
            if let Packet::Puback(o) | Packet::Pubrec(o) | Packet::Pubrel(o) | Packet::Pubcomp(o) =
                out
            {
                a.fill(owner, o);
            }
        };
        match self {
            PacketRef::Publish(p) => {
                *out = Packet::Publish(Publish::default());
                if let Packet::Publish(o) = out {
                    p.fill(owner, o);
                }
            }
            PacketRef::Puback(a) => ack(a, out, Packet::Puback),
            PacketRef::Pubrec(a) => ack(a, out, Packet::Pubrec),
            PacketRef::Pubrel(a) => ack(a, out, Packet::Pubrel),
            PacketRef::Pubcomp(a) => ack(a, out, Packet::Pubcomp),
            other => *out = other.to_owned_in(owner),
        }
    }

    /// The owned model; binary fields are slices of `owner` when given,
    /// which must be the frame this packet was decoded from.
    pub(crate) fn to_owned_in(&self, owner: Option<&bytes::Bytes>) -> Packet {
        match self {
            PacketRef::Connect(p) => Packet::Connect(p.to_owned_in(owner)),
            PacketRef::Connack(p) => Packet::Connack(p.to_owned_in(owner)),
            PacketRef::Publish(p) => Packet::Publish(p.to_owned_in(owner)),
            PacketRef::Puback(p) => Packet::Puback(p.to_owned_in(owner)),
            PacketRef::Pubrec(p) => Packet::Pubrec(p.to_owned_in(owner)),
            PacketRef::Pubrel(p) => Packet::Pubrel(p.to_owned_in(owner)),
            PacketRef::Pubcomp(p) => Packet::Pubcomp(p.to_owned_in(owner)),
            PacketRef::Subscribe(p) => Packet::Subscribe(p.to_owned_in(owner)),
            PacketRef::Suback(p) => Packet::Suback(p.to_owned_in(owner)),
            PacketRef::Unsubscribe(p) => Packet::Unsubscribe(p.to_owned_in(owner)),
            PacketRef::Unsuback(p) => Packet::Unsuback(p.to_owned_in(owner)),
            PacketRef::Pingreq(e) => Packet::Pingreq(*e),
            PacketRef::Pingresp(e) => Packet::Pingresp(*e),
            PacketRef::Disconnect(p) => Packet::Disconnect(p.to_owned_in(owner)),
            PacketRef::Auth(p) => Packet::Auth(p.to_owned_in(owner)),
        }
    }
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
