use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. In 3.1.1 only
/// `packet_id` is on the wire; `reason_code` and `properties` are 5.0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ack {
    pub packet_id: u16,
    pub reason_code: u8,
    pub properties: Properties,
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::Reader;
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// PUBACK, PUBREC, PUBREL or PUBCOMP as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AckRef<'a> {
    pub packet_id: u16,
    pub reason_code: u8,
    pub properties: PropertiesRef<'a>,
}

impl<'a> AckRef<'a> {
    /// Decodes the body of PUBACK/PUBREC/PUBREL/PUBCOMP (`ctx` says which).
    /// In 5.0 the Reason Code and Property Length may be left off: a
    /// remaining length of 2 means Success with no properties, 3 means a
    /// reason code with no properties.
    #[inline]
    pub(crate) fn read(
        r: &mut Reader<'a, '_>,
        ctx: PropertyContext,
    ) -> Result<AckRef<'a>, DecodeError> {
        let at = r.pos();
        let packet_id = r.u16("packet identifier")?;
        if packet_id == 0 {
            // An acknowledgement echoes the PUBLISH's non-zero identifier.
            let statement = match ctx {
                PropertyContext::Pubcomp => r.sid(None, Some("MQTT-2.2.1-5")),
                _ => r.sid(Some("MQTT-2.3.1-6"), Some("MQTT-2.2.1-5")),
            };
            return Err(r.err_at(
                at,
                ErrorKind::ProtocolError,
                "packet identifier",
                statement,
                "packet identifier 0 cannot acknowledge any PUBLISH",
            ));
        }
        let mut ack = AckRef {
            packet_id,
            ..Default::default()
        };
        if r.version.is_v5() {
            if !r.is_empty() {
                let rc_at = r.pos();
                ack.reason_code = r.u8("reason code")?;
                crate::codec::reason_code::check(r, rc_at, ctx, ack.reason_code)?;
            }
            if !r.is_empty() {
                ack.properties = PropertiesRef::read(r, ctx)?;
            }
        }
        r.finish("packet", None)?;
        Ok(ack)
    }

    /// The owned model.
    pub fn to_owned(&self) -> Ack {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Ack {
        let mut a = Ack::default();
        self.fill(owner, &mut a);
        a
    }

    /// Sets the fields of `a`, which must be `Ack::default()`, in place.
    pub(crate) fn fill(&self, owner: Option<&Bytes>, a: &mut Ack) {
        a.packet_id = self.packet_id;
        a.reason_code = self.reason_code;
        self.properties.fill(owner, &mut a.properties);
    }
}

impl Ack {
    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        out.put_u16(self.packet_id);
        if v.is_v5() {
            let forced = ov.extra_properties.is_some() || ov.property_length.is_some();
            let props = forced || !self.properties.is_empty();
            // The shortest form the model allows.
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
