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
use crate::codec::properties::PropertyContext;
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, BytesMut};

impl Unsuback {
    pub(crate) fn read(r: &mut Reader<'_, '_>) -> Result<Unsuback, DecodeError> {
        let packet_id = read_echoed_id(r)?;
        if !r.version.is_v5() {
            r.finish("packet", None)?;
            return Ok(Unsuback {
                packet_id,
                ..Default::default()
            });
        }
        let properties = crate::codec::Properties::read_block(r, PropertyContext::Unsuback)?;
        let reason_codes = read_codes(r, PropertyContext::Unsuback, Some("MQTT-3.11.3-2"))?;
        Ok(Unsuback {
            packet_id,
            properties,
            reason_codes,
        })
    }

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
