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

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::{put_str_claiming, Reader};
use crate::codec::properties::PropertyContext;
use crate::codec::topic::check_topic_name;
use crate::codec::{Overrides, ProtocolVersion, Sender};
use bytes::{BufMut, BytesMut};

impl Publish {
    /// The fixed-header flags this packet is written with.
    pub fn flags(&self) -> u8 {
        ((self.dup as u8) << 3) | ((self.qos & 3) << 1) | self.retain as u8
    }

    /// Decodes into `p`, which must be `Publish::default()`; filling it in
    /// place avoids moving the large struct through `Result`s.
    pub(crate) fn read_into(
        r: &mut Reader<'_, '_>,
        flags: u8,
        p: &mut Publish,
    ) -> Result<(), DecodeError> {
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
        let topic = r.str("topic name")?;
        if let Err(e) = check_topic_name(topic, r.version) {
            // Skip the two-byte length prefix to point at the character.
            return Err(r.err_at(
                topic_at + 2 + e.index,
                ErrorKind::ProtocolError,
                "topic name",
                e.statement,
                e.message,
            ));
        }
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
        if r.version.is_v5() {
            crate::codec::Properties::read_block_into(
                r,
                PropertyContext::Publish,
                &mut p.properties,
            )?;
        }
        let properties = &p.properties;
        if r.sender == Some(Sender::Client) && !properties.subscription_identifiers.is_empty() {
            return Err(r.err_at(
                props_at,
                ErrorKind::ProtocolError,
                "subscription_identifiers",
                Some("MQTT-3.3.4-6"),
                "a Client's PUBLISH carries a Subscription Identifier",
            ));
        }
        if topic.is_empty() && properties.topic_alias.is_none() {
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
        let payload: Binary = r.rest_bytes().into();
        if properties.payload_format_indicator == Some(1)
            && std::str::from_utf8(payload.as_slice()).is_err()
        {
            // The receiver may check this; a server forwards it unaltered.
            r.note(
                payload_at,
                "payload",
                None,
                "Payload Format Indicator says UTF-8 but the payload is not well-formed UTF-8",
            );
        }
        p.dup = dup;
        p.qos = qos;
        p.retain = retain;
        p.topic = topic.to_owned();
        p.packet_id = packet_id;
        p.payload = payload;
        Ok(())
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
