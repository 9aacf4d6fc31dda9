use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// AUTH (5.0 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    pub reason_code: u8,
    pub properties: Properties,
}

use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::primitives::Reader;
use crate::codec::properties::PropertyContext;
use crate::codec::Overrides;
use bytes::{BufMut, BytesMut};

impl Auth {
    /// A remaining length of 0 means Success with no properties.
    pub(crate) fn read(r: &mut Reader<'_, '_>) -> Result<Auth, DecodeError> {
        let mut a = Auth::default();
        if !r.is_empty() {
            let at = r.pos();
            a.reason_code = r.u8("reason code")?;
            crate::codec::reason_code::check(r, at, PropertyContext::Auth, a.reason_code)?;
            if r.is_empty() {
                // 5.0 §3.15.2.1 only lets both fields go together; accepted,
                // since nothing is lost, but worth pointing out.
                r.note(
                    at,
                    "property length",
                    None,
                    "AUTH has a reason code but no Property Length",
                );
            } else {
                a.properties = crate::codec::Properties::read_block(r, PropertyContext::Auth)?;
            }
        }
        r.finish("packet", None)?;
        Ok(a)
    }

    pub(crate) fn write(&self, ov: &Overrides, out: &mut BytesMut) -> Result<(), EncodeError> {
        let forced = ov.extra_properties.is_some() || ov.property_length.is_some();
        if forced || self.reason_code != 0 || !self.properties.is_empty() {
            out.put_u8(self.reason_code);
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        Ok(())
    }
}
