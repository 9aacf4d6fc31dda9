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
use crate::codec::primitives::{put_str, put_str_claiming, Cursor, Reader};
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// An UNSUBSCRIBE as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeRef<'a> {
    pub packet_id: u16,
    pub properties: PropertiesRef<'a>,
    /// The checked payload: the Topic Filters.
    payload: &'a [u8],
}

/// The Topic Filters of a checked UNSUBSCRIBE, in order.
#[derive(Debug, Clone)]
pub struct FilterIter<'a>(Cursor<'a>);

impl<'a> Iterator for FilterIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        self.0.str()
    }
}

impl<'a> UnsubscribeRef<'a> {
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<UnsubscribeRef<'a>, DecodeError> {
        let packet_id = read_nonzero_id(r)?;
        let properties = if r.version.is_v5() {
            PropertiesRef::read(r, PropertyContext::Unsubscribe)?
        } else {
            PropertiesRef::default()
        };
        if r.is_empty() {
            return Err(r.err(
                ErrorKind::ProtocolError,
                "payload",
                Some("MQTT-3.10.3-2"),
                "UNSUBSCRIBE without any Topic Filter",
            ));
        }
        let payload = r.peek_rest();
        while !r.is_empty() {
            read_filter(r)?;
        }
        Ok(UnsubscribeRef {
            packet_id,
            properties,
            payload,
        })
    }

    /// The Topic Filters, in order (at least one).
    pub fn filters(&self) -> FilterIter<'a> {
        FilterIter(Cursor(self.payload))
    }

    /// The owned model.
    pub fn to_owned(&self) -> Unsubscribe {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Unsubscribe {
        Unsubscribe {
            packet_id: Some(self.packet_id),
            properties: self.properties.to_owned_in(owner),
            filters: self.filters().map(str::to_owned).collect(),
        }
    }
}

impl Unsubscribe {
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
