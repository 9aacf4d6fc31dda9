use crate::codec::{Binary, Properties};
use serde::{Deserialize, Serialize};

/// PUBLISH. `packet_id` is present exactly when `qos` > 0 on the wire; when
/// sending a QoS > 0 PUBLISH without one, the engine assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Publish {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: String,
    pub packet_id: Option<u16>,
    pub properties: Properties,
    pub payload: Binary,
}

/// A PUBLISH as it sits in the frame, fully checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRef<'a> {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: &'a str,
    pub packet_id: Option<u16>,
    pub properties: PropertiesRef<'a>,
    pub payload: &'a [u8],
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::{put_str_claiming, Reader};
use crate::codec::properties::{id, PropertiesRef, PropertyContext, PropertyValue};
use crate::codec::{Overrides, PacketRef, ProtocolVersion, Sender};
use bytes::{BufMut, Bytes, BytesMut};

impl<'a> PublishRef<'a> {
    /// Reads the body, giving the whole [`PacketRef`] so the hot path
    /// builds it where the caller wants it.
    #[inline]
    pub(crate) fn read_packet(
        r: &mut Reader<'a, '_>,
        flags: u8,
    ) -> Result<PacketRef<'a>, DecodeError> {
        let dup = flags & 0b1000 != 0;
        let qos = (flags >> 1) & 3;
        let retain = flags & 1 != 0;
        if qos == 3 {
            return Err(r.err_at(
                0,
                ErrorKind::Malformed,
                "fixed header flags",
                Some("MQTT-3.3.1-4"),
                "QoS bits are 11",
            ));
        }
        if dup && qos == 0 {
            return Err(r.err_at(
                0,
                ErrorKind::ProtocolError,
                "fixed header flags",
                Some("MQTT-3.3.1-2"),
                "DUP is 1 on a QoS 0 PUBLISH",
            ));
        }
        let topic_at = r.pos();
        let topic = r.topic_name("topic name")?;
        let packet_id = if qos > 0 {
            let at = r.pos();
            let id = r.u16("packet identifier")?;
            if id == 0 {
                // 5.0 states this once per sender.
                let v5 = match r.sender {
                    Some(Sender::Client) => Some("MQTT-2.2.1-3"),
                    Some(Sender::Server) => Some("MQTT-2.2.1-4"),
                    None => None,
                };
                return Err(r.err_at(
                    at,
                    ErrorKind::ProtocolError,
                    "packet identifier",
                    r.sid(Some("MQTT-2.3.1-1"), v5),
                    "packet identifier 0 on a QoS > 0 PUBLISH",
                ));
            }
            Some(id)
        } else {
            None
        };
        let props_at = r.pos();
        let properties = if r.version.is_v5() {
            PropertiesRef::read(r, PropertyContext::Publish)?
        } else {
            PropertiesRef::default()
        };
        if r.sender == Some(Sender::Client) && properties.contains(id::SUBSCRIPTION_IDENTIFIER) {
            return Err(r.err_at(
                props_at,
                ErrorKind::ProtocolError,
                "subscription_identifiers",
                Some("MQTT-3.3.4-6"),
                "a Client's PUBLISH carries a Subscription Identifier",
            ));
        }
        if topic.is_empty() && !properties.contains(id::TOPIC_ALIAS) {
            return Err(r.err_at(
                topic_at,
                ErrorKind::ProtocolError,
                "topic name",
                r.sid(Some("MQTT-4.7.3-1"), None),
                if r.version.is_v5() {
                    "empty Topic Name without a Topic Alias"
                } else {
                    "empty Topic Name"
                },
            ));
        }
        let payload_at = r.pos();
        let payload = r.rest();
        if properties.get(id::PAYLOAD_FORMAT_INDICATOR) == Some(PropertyValue::Byte(1))
            && std::str::from_utf8(payload).is_err()
        {
            // The receiver may check this; a server forwards it unaltered.
            r.note(
                payload_at,
                "payload",
                None,
                "Payload Format Indicator says UTF-8 but the payload is not well-formed UTF-8",
            );
        }
        Ok(PacketRef::Publish(PublishRef {
            dup,
            qos,
            retain,
            topic,
            packet_id,
            properties,
            payload,
        }))
    }

    /// The owned model (payload copied).
    pub fn to_owned(&self) -> Publish {
        self.to_owned_in(None)
    }

    /// The owned model; binary fields are slices of `owner` when given.
    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Publish {
        let mut p = Publish::default();
        self.fill(owner, &mut p);
        p
    }

    /// Sets the fields of `p`, which must be `Publish::default()`, in place:
    /// the model is large, and moving it costs more than filling it.
    pub(crate) fn fill(&self, owner: Option<&Bytes>, p: &mut Publish) {
        p.dup = self.dup;
        p.qos = self.qos;
        p.retain = self.retain;
        p.topic = self.topic.to_owned();
        p.packet_id = self.packet_id;
        self.properties.fill(owner, &mut p.properties);
        p.payload = crate::codec::binary::share_or_copy(owner, self.payload);
    }
}

impl Publish {
    /// The fixed-header flags this packet is written with.
    pub fn flags(&self) -> u8 {
        ((self.dup as u8) << 3) | ((self.qos & 3) << 1) | self.retain as u8
    }

    /// Writes whatever the model says, including a wildcard topic or a
    /// packet identifier on QoS 0, so negative tests can send them.
    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        put_str_claiming(out, &self.topic, ov.string_length, "topic name")?;
        match (self.qos, self.packet_id) {
            (_, Some(id)) => out.put_u16(id),
            (0, None) => {}
            (_, None) => return Err(EncodeError("PUBLISH with QoS > 0 needs a packet_id".into())),
        }
        if v.is_v5() {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        out.put_slice(self.payload.as_slice());
        Ok(())
    }
}
