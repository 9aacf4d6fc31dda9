use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// SUBACK: one return code (3.1.1) or reason code (5.0) per filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Suback {
    pub packet_id: u16,
    pub properties: Properties,
    pub reason_codes: Vec<u8>,
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::Reader;
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// A SUBACK as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubackRef<'a> {
    pub packet_id: u16,
    pub properties: PropertiesRef<'a>,
    /// One checked code per filter.
    pub reason_codes: &'a [u8],
}

/// Reads the packet identifier of a SUBACK or UNSUBACK: it echoes a
/// non-zero SUBSCRIBE/UNSUBSCRIBE identifier.
pub(crate) fn read_echoed_id(r: &mut Reader<'_, '_>) -> Result<u16, DecodeError> {
    let at = r.pos();
    let id = r.u16("packet identifier")?;
    if id == 0 {
        return Err(r.err_at(
            at,
            ErrorKind::ProtocolError,
            "packet identifier",
            r.sid(Some("MQTT-2.3.1-7"), Some("MQTT-2.2.1-6")),
            "packet identifier 0 cannot acknowledge any request",
        ));
    }
    Ok(id)
}

/// Reads one code per remaining byte; at least one, since the request
/// carried at least one filter.
pub(crate) fn read_codes<'a>(
    r: &mut Reader<'a, '_>,
    ctx: PropertyContext,
    statement: Option<&'static str>,
) -> Result<&'a [u8], DecodeError> {
    if r.is_empty() {
        return Err(r.err(
            ErrorKind::ProtocolError,
            "payload",
            statement,
            format!("{} without any reason code", ctx.name()),
        ));
    }
    let start = r.pos();
    let codes = r.peek_rest();
    for (i, &c) in codes.iter().enumerate() {
        crate::codec::reason_code::check(r, start + i, ctx, c)?;
    }
    Ok(r.rest())
}

impl<'a> SubackRef<'a> {
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<SubackRef<'a>, DecodeError> {
        let packet_id = read_echoed_id(r)?;
        let properties = if r.version.is_v5() {
            PropertiesRef::read(r, PropertyContext::Suback)?
        } else {
            PropertiesRef::default()
        };
        let st = r.sid(Some("MQTT-3.8.4-5"), Some("MQTT-3.8.4-6"));
        let reason_codes = read_codes(r, PropertyContext::Suback, st)?;
        Ok(SubackRef {
            packet_id,
            properties,
            reason_codes,
        })
    }

    /// The owned model.
    pub fn to_owned(&self) -> Suback {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Suback {
        Suback {
            packet_id: self.packet_id,
            properties: self.properties.to_owned_in(owner),
            reason_codes: self.reason_codes.to_vec(),
        }
    }
}

impl Suback {
    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        out.put_u16(self.packet_id);
        if v.is_v5() {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        out.put_slice(&self.reason_codes);
        Ok(())
    }
}
