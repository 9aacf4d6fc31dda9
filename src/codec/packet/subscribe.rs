use crate::codec::Properties;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Subscribe {
    /// Assigned by the engine when left out.
    pub packet_id: Option<u16>,
    pub properties: Properties,
    pub filters: Vec<Subscription>,
}

/// One topic filter with its subscription options. In 3.1.1 only `qos` is on
/// the wire; the other options are 5.0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Subscription {
    pub filter: String,
    pub qos: u8,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::{put_str, put_str_claiming, Reader};
use crate::codec::properties::PropertyContext;
use crate::codec::topic::check_topic_filter;
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, BytesMut};

impl Subscription {
    /// The Subscription Options byte (3.1.1: only the QoS bits).
    pub fn options_byte(&self, v: ProtocolVersion) -> u8 {
        let qos = self.qos & 3;
        if v.is_v5() {
            qos | (self.no_local as u8) << 2
                | (self.retain_as_published as u8) << 3
                | (self.retain_handling & 3) << 4
        } else {
            qos
        }
    }
}

/// Reads a packet identifier that must not be 0 (SUBSCRIBE, UNSUBSCRIBE).
pub(crate) fn read_nonzero_id(r: &mut Reader<'_, '_>) -> Result<u16, DecodeError> {
    let at = r.pos();
    let id = r.u16("packet identifier")?;
    if id == 0 {
        return Err(r.err_at(
            at,
            ErrorKind::ProtocolError,
            "packet identifier",
            r.sid(Some("MQTT-2.3.1-1"), Some("MQTT-2.2.1-3")),
            "packet identifier 0",
        ));
    }
    Ok(id)
}

/// Reads a Topic Filter and checks its syntax.
pub(crate) fn read_filter(r: &mut Reader<'_, '_>) -> Result<String, DecodeError> {
    let at = r.pos();
    let f = r.str("topic filter")?;
    if let Err(e) = check_topic_filter(f, r.version) {
        return Err(r.err_at(
            at + 2 + e.index,
            ErrorKind::ProtocolError,
            "topic filter",
            e.statement,
            e.message,
        ));
    }
    Ok(f.to_owned())
}

impl Subscribe {
    pub(crate) fn read(r: &mut Reader<'_, '_>) -> Result<Subscribe, DecodeError> {
        let packet_id = read_nonzero_id(r)?;
        let properties = if r.version.is_v5() {
            crate::codec::Properties::read_block(r, PropertyContext::Subscribe)?
        } else {
            Default::default()
        };
        if r.is_empty() {
            return Err(r.err(
                ErrorKind::ProtocolError,
                "payload",
                r.sid(Some("MQTT-3.8.3-3"), Some("MQTT-3.8.3-2")),
                "SUBSCRIBE without any Topic Filter",
            ));
        }
        let mut filters = Vec::new();
        while !r.is_empty() {
            let filter = read_filter(r)?;
            let at = r.pos();
            let o = r.u8("subscription options")?;
            let qos = o & 3;
            let v5 = r.version.is_v5();
            let reserved = if v5 { o & 0xc0 } else { o & 0xfc };
            if reserved != 0 {
                return Err(r.err_at(
                    at,
                    ErrorKind::Malformed,
                    "subscription options",
                    r.sid(Some("MQTT-3.8.3-4"), Some("MQTT-3.8.3-5")),
                    format!("reserved bits set (0x{o:02X})"),
                ));
            }
            if qos == 3 {
                // 3.1.1 calls this malformed; 5.0 §3.8.3.1 a Protocol Error.
                return Err(r.err_at(
                    at,
                    if v5 {
                        ErrorKind::ProtocolError
                    } else {
                        ErrorKind::Malformed
                    },
                    "subscription options",
                    r.sid(Some("MQTT-3.8.3-4"), None),
                    "requested QoS 3",
                ));
            }
            let sub = Subscription {
                filter,
                qos,
                no_local: v5 && o & 0x04 != 0,
                retain_as_published: v5 && o & 0x08 != 0,
                retain_handling: if v5 { (o >> 4) & 3 } else { 0 },
            };
            if sub.retain_handling == 3 {
                return Err(r.err_at(
                    at,
                    ErrorKind::ProtocolError,
                    "subscription options",
                    None,
                    "Retain Handling 3",
                ));
            }
            if sub.no_local && sub.filter.starts_with("$share/") {
                return Err(r.err_at(
                    at,
                    ErrorKind::ProtocolError,
                    "subscription options",
                    Some("MQTT-3.8.3-4"),
                    "No Local on a shared subscription",
                ));
            }
            filters.push(sub);
        }
        Ok(Subscribe {
            packet_id: Some(packet_id),
            properties,
            filters,
        })
    }

    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let id = self
            .packet_id
            .ok_or_else(|| EncodeError("SUBSCRIBE needs a packet_id".into()))?;
        out.put_u16(id);
        if v.is_v5() {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        for (i, s) in self.filters.iter().enumerate() {
            if i == 0 {
                put_str_claiming(out, &s.filter, ov.string_length, "topic filter")?;
            } else {
                put_str(out, &s.filter, "topic filter")?;
            }
            out.put_u8(s.options_byte(v));
        }
        Ok(())
    }
}
