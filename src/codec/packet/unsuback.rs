use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// UNSUBACK. 3.1.1 carries only the packet identifier; 5.0 adds properties
/// and one reason code per filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Unsuback {
    pub packet_id: u16,
    pub properties: Properties,
    pub reason_codes: Vec<u8>,
}

use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::packet::suback::{read_codes, read_echoed_id};
use crate::codec::primitives::Reader;
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// An UNSUBACK as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubackRef<'a> {
    pub packet_id: u16,
    pub properties: PropertiesRef<'a>,
    /// One checked code per filter (5.0; empty in 3.1.1).
    pub reason_codes: &'a [u8],
}

impl<'a> UnsubackRef<'a> {
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<UnsubackRef<'a>, DecodeError> {
        let packet_id = read_echoed_id(r)?;
        if !r.version.is_v5() {
            r.finish("packet", None)?;
            return Ok(UnsubackRef {
                packet_id,
                properties: PropertiesRef::default(),
                reason_codes: &[],
            });
        }
        let properties = PropertiesRef::read(r, PropertyContext::Unsuback)?;
        let reason_codes = read_codes(r, PropertyContext::Unsuback, Some("MQTT-3.11.3-2"))?;
        Ok(UnsubackRef {
            packet_id,
            properties,
            reason_codes,
        })
    }

    /// The owned model.
    pub fn to_owned(&self) -> Unsuback {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Unsuback {
        Unsuback {
            packet_id: self.packet_id,
            properties: self.properties.to_owned_in(owner),
            reason_codes: self.reason_codes.to_vec(),
        }
    }
}

impl Unsuback {
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
            out.put_slice(&self.reason_codes);
        }
        Ok(())
    }
}
