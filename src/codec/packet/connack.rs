use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// CONNACK. `reason_code` is the Connect Return Code in 3.1.1 and the
/// Connect Reason Code in 5.0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connack {
    pub session_present: bool,
    pub reason_code: u8,
    pub properties: Properties,
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::Reader;
use crate::codec::properties::PropertyContext;
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, BytesMut};

impl Connack {
    pub(crate) fn read(r: &mut Reader<'_, '_>) -> Result<Connack, DecodeError> {
        if let Some(c) = Connack::other_version_refusal(r)? {
            return Ok(c);
        }
        let at = r.pos();
        let flags = r.u8("connect acknowledge flags")?;
        if flags & 0xfe != 0 {
            return Err(r.err_at(
                at,
                ErrorKind::Malformed,
                "connect acknowledge flags",
                r.sid(None, Some("MQTT-3.2.2-1")),
                format!("reserved bits 7-1 are not 0 (0x{flags:02X})"),
            ));
        }
        let rc_at = r.pos();
        let reason_code = r.u8("reason code")?;
        crate::codec::reason_code::check(r, rc_at, PropertyContext::Connack, reason_code)?;
        let session_present = flags & 1 == 1;
        if session_present && reason_code != 0 {
            return Err(r.err_at(
                at,
                ErrorKind::ProtocolError,
                "session present",
                r.sid(Some("MQTT-3.2.2-4"), Some("MQTT-3.2.2-6")),
                format!("Session Present is 1 with non-zero code 0x{reason_code:02X}"),
            ));
        }
        let properties = if r.version.is_v5() {
            crate::codec::Properties::read_block(r, PropertyContext::Connack)?
        } else {
            Default::default()
        };
        r.finish("packet", None)?;
        Ok(Connack {
            session_present,
            reason_code,
            properties,
        })
    }

    /// A server that does not speak the client's version answers in its own
    /// (3.1.1 MQTT-3.1.2-2: return code 0x01; 5.0 MQTT-3.1.2-2: reason code
    /// 0x84). Those exact refusals are decoded, with a note, so the tool can
    /// tell "unsupported version" from "malformed".
    fn other_version_refusal(r: &mut Reader<'_, '_>) -> Result<Option<Connack>, DecodeError> {
        let at = r.pos();
        let (body, message) = if r.version.is_v5() {
            (
                &[0x00, 0x01][..],
                "a 3.1.1 CONNACK refusing the protocol level",
            )
        } else {
            (
                &[0x00, 0x84, 0x00][..],
                "a 5.0 CONNACK refusing the protocol version",
            )
        };
        if r.peek_rest() != body {
            return Ok(None);
        }
        r.take(body.len(), "connect acknowledge flags")?;
        r.note(at, "reason code", None, message);
        Ok(Some(Connack {
            session_present: false,
            reason_code: body[1],
            properties: Default::default(),
        }))
    }

    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        out.put_u8(self.session_present as u8);
        out.put_u8(self.reason_code);
        // The other version's refusal is written in that version's layout,
        // as the decoder reads it (see `other_version_refusal`).
        let plain = !self.session_present
            && self.properties.is_empty()
            && ov.extra_properties.is_none()
            && ov.property_length.is_none();
        if plain && v.is_v5() && self.reason_code == 0x01 {
            return Ok(());
        }
        if plain && !v.is_v5() && self.reason_code == 0x84 {
            out.put_u8(0);
            return Ok(());
        }
        if v.is_v5() {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        Ok(())
    }
}
