use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// DISCONNECT. Empty in 3.1.1; in 5.0 a reason code and properties, both of
/// which may be left off the wire when they are 0 and empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Disconnect {
    pub reason_code: u8,
    pub properties: Properties,
}

use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::primitives::Reader;
use crate::codec::properties::{id, PropertiesRef, PropertyContext};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// A DISCONNECT as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisconnectRef<'a> {
    pub reason_code: u8,
    pub properties: PropertiesRef<'a>,
}

impl<'a> DisconnectRef<'a> {
    /// 3.1.1: an empty body. 5.0: remaining length 0 means Normal
    /// disconnection, 1 a reason code without properties.
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<DisconnectRef<'a>, DecodeError> {
        let mut d = DisconnectRef::default();
        if r.version.is_v5() {
            if !r.is_empty() {
                let at = r.pos();
                d.reason_code = r.u8("reason code")?;
                crate::codec::reason_code::check(
                    r,
                    at,
                    PropertyContext::Disconnect,
                    d.reason_code,
                )?;
            }
            if !r.is_empty() {
                let at = r.pos();
                d.properties = PropertiesRef::read(r, PropertyContext::Disconnect)?;
                if r.sender == Some(crate::codec::Sender::Server)
                    && d.properties.contains(id::SESSION_EXPIRY_INTERVAL)
                {
                    return Err(r.err_at(
                        at,
                        crate::codec::ErrorKind::ProtocolError,
                        "session_expiry_interval",
                        Some("MQTT-3.14.2-2"),
                        "a Server's DISCONNECT carries a Session Expiry Interval",
                    ));
                }
            }
        }
        r.finish("packet", None)?;
        Ok(d)
    }

    /// The owned model.
    pub fn to_owned(&self) -> Disconnect {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Disconnect {
        Disconnect {
            reason_code: self.reason_code,
            properties: self.properties.to_owned_in(owner),
        }
    }
}

impl Disconnect {
    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        if v.is_v5() {
            let forced = ov.extra_properties.is_some() || ov.property_length.is_some();
            let props = forced || !self.properties.is_empty();
            if props || self.reason_code != 0 {
                out.put_u8(self.reason_code);
            }
            if props {
                self.properties.write_block(
                    out,
                    ov.extra_properties.as_ref().map(|b| b.as_slice()),
                    ov.property_length,
                )?;
            }
        }
        Ok(())
    }
}
