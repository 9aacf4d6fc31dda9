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
use crate::codec::properties::{PropertiesRef, PropertyContext};
use crate::codec::Overrides;
use bytes::{BufMut, Bytes, BytesMut};

/// An AUTH as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthRef<'a> {
    pub reason_code: u8,
    pub properties: PropertiesRef<'a>,
}

impl<'a> AuthRef<'a> {
    /// A remaining length of 0 means Success with no properties.
    pub(crate) fn read(r: &mut Reader<'a, '_>) -> Result<AuthRef<'a>, DecodeError> {
        let mut a = AuthRef::default();
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
                a.properties = PropertiesRef::read(r, PropertyContext::Auth)?;
            }
        }
        r.finish("packet", None)?;
        Ok(a)
    }

    /// The owned model.
    pub fn to_owned(&self) -> Auth {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Auth {
        Auth {
            reason_code: self.reason_code,
            properties: self.properties.to_owned_in(owner),
        }
    }
}

impl Auth {
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
