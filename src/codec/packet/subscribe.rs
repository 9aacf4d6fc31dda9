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
use crate::codec::primitives::{put_str, put_str_claiming, Cursor, Reader};
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::topic::check_topic_filter;
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

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
pub(crate) fn read_filter<'a>(r: &mut Reader<'a, '_>) -> Result<&'a str, DecodeError> {
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
    Ok(f)
}

/// A SUBSCRIBE as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRef<'a> {
    pub packet_id: u16,
    pub properties: PropertiesRef<'a>,
    /// The checked payload: each Topic Filter with its options byte.
    payload: &'a [u8],
}

/// One Topic Filter of a SUBSCRIBE with its subscription options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRef<'a> {
    pub filter: &'a str,
    pub qos: u8,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
}

impl<'a> SubscriptionRef<'a> {
    /// Splits an options byte (3.1.1 has only the QoS bits).
    fn new(filter: &'a str, o: u8, v5: bool) -> Self {
        SubscriptionRef {
            filter,
            qos: o & 3,
            no_local: v5 && o & 0x04 != 0,
            retain_as_published: v5 && o & 0x08 != 0,
            retain_handling: if v5 { (o >> 4) & 3 } else { 0 },
        }
    }

    pub fn to_owned(&self) -> Subscription {
        Subscription {
            filter: self.filter.to_owned(),
            qos: self.qos,
            no_local: self.no_local,
            retain_as_published: self.retain_as_published,
            retain_handling: self.retain_handling,
        }
    }
}

/// The subscriptions of a checked SUBSCRIBE, in order.
#[derive(Debug, Clone)]
pub struct SubscriptionIter<'a>(Cursor<'a>);

impl<'a> Iterator for SubscriptionIter<'a> {
    type Item = SubscriptionRef<'a>;
    fn next(&mut self) -> Option<SubscriptionRef<'a>> {
        let filter = self.0.str()?;
        let o = self.0.u8()?;
        // A 3.1.1 options byte was checked to hold only the QoS bits, which
        // the 5.0 reading gives the same meaning.
        Some(SubscriptionRef::new(filter, o, true))
    }
}

impl<'a> SubscribeRef<'a> {
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<SubscribeRef<'a>, DecodeError> {
        let packet_id = read_nonzero_id(r)?;
        let properties = if r.version.is_v5() {
            PropertiesRef::read(r, PropertyContext::Subscribe)?
        } else {
            PropertiesRef::default()
        };
        if r.is_empty() {
            return Err(r.err(
                ErrorKind::ProtocolError,
                "payload",
                r.sid(Some("MQTT-3.8.3-3"), Some("MQTT-3.8.3-2")),
                "SUBSCRIBE without any Topic Filter",
            ));
        }
        let payload = r.peek_rest();
        while !r.is_empty() {
            let filter = read_filter(r)?;
            let at = r.pos();
            let o = r.u8("subscription options")?;
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
            let sub = SubscriptionRef::new(filter, o, v5);
            if sub.qos == 3 {
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
        }
        Ok(SubscribeRef {
            packet_id,
            properties,
            payload,
        })
    }

    /// The Topic Filters with their options, in order (at least one).
    pub fn filters(&self) -> SubscriptionIter<'a> {
        SubscriptionIter(Cursor(self.payload))
    }

    /// The owned model.
    pub fn to_owned(&self) -> Subscribe {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Subscribe {
        Subscribe {
            packet_id: Some(self.packet_id),
            properties: self.properties.to_owned_in(owner),
            filters: self.filters().map(|s| s.to_owned()).collect(),
        }
    }
}

impl Subscribe {
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
