use crate::codec::Properties;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Unsubscribe {
    /// Assigned by the engine when left out.
    pub packet_id: Option<u16>,
    pub properties: Properties,
    pub filters: Vec<String>,
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::packet::subscribe::{read_filter, read_nonzero_id};
use crate::codec::primitives::{put_str, put_str_claiming, Reader};
use crate::codec::properties::PropertyContext;
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, BytesMut};

impl Unsubscribe {
    pub(crate) fn read(r: &mut Reader<'_, '_>) -> Result<Unsubscribe, DecodeError> {
        let packet_id = read_nonzero_id(r)?;
        let properties = if r.version.is_v5() {
            crate::codec::Properties::read_block(r, PropertyContext::Unsubscribe)?
        } else {
            Default::default()
        };
        if r.is_empty() {
            return Err(r.err(
                ErrorKind::ProtocolError,
                "payload",
                Some("MQTT-3.10.3-2"),
                "UNSUBSCRIBE without any Topic Filter",
            ));
        }
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(read_filter(r)?);
        }
        Ok(Unsubscribe {
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
            .ok_or_else(|| EncodeError("UNSUBSCRIBE needs a packet_id".into()))?;
        out.put_u16(id);
        if v.is_v5() {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        for (i, f) in self.filters.iter().enumerate() {
            if i == 0 {
                put_str_claiming(out, f, ov.string_length, "topic filter")?;
            } else {
                put_str(out, f, "topic filter")?;
            }
        }
        Ok(())
    }
}
