use crate::codec::{Binary, Properties};
use serde::{Deserialize, Serialize};

/// CONNECT. `protocol_level` 0 means "the level of the scenario's version"
/// when encoding; a decoded CONNECT always carries the level it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connect {
    pub protocol_name: String,
    pub protocol_level: u8,
    /// CleanSession in 3.1.1, Clean Start in 5.0 (the same bit).
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Binary>,
    pub properties: Properties,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            protocol_name: "MQTT".into(),
            protocol_level: 0,
            clean_session: true,
            keep_alive: 60,
            client_id: String::new(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Will {
    pub topic: String,
    pub payload: Binary,
    pub qos: u8,
    pub retain: bool,
    /// Will properties (5.0).
    pub properties: Properties,
}

use crate::codec::binary::share_or_copy;
use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::{put_bin, put_str, put_str_claiming, Reader};
use crate::codec::properties::{id, PropertiesRef, PropertyContext, PropertyValue};
use crate::codec::{Overrides, ProtocolVersion};
use bytes::{BufMut, Bytes, BytesMut};

/// Bits of the Connect Flags byte.
pub mod flag {
    pub const RESERVED: u8 = 0x01;
    pub const CLEAN: u8 = 0x02;
    pub const WILL: u8 = 0x04;
    pub const WILL_QOS_SHIFT: u8 = 3;
    pub const WILL_RETAIN: u8 = 0x20;
    pub const PASSWORD: u8 = 0x40;
    pub const USERNAME: u8 = 0x80;
}

/// A CONNECT as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRef<'a> {
    pub protocol_name: &'a str,
    pub protocol_level: u8,
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: &'a str,
    pub will: Option<WillRef<'a>>,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
    pub properties: PropertiesRef<'a>,
}

/// The Will of a CONNECT as it sits in the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillRef<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
    pub qos: u8,
    pub retain: bool,
    pub properties: PropertiesRef<'a>,
}

impl<'a> ConnectRef<'a> {
    /// Reads the protocol name and level, which choose the version the rest
    /// of the packet is decoded by. 3.1 ("MQIsdp", level 3) is recognised and
    /// reported as unsupported.
    pub(crate) fn read_version(
        r: &mut Reader<'a, '_>,
    ) -> Result<(&'a str, u8, ProtocolVersion), DecodeError> {
        let name_at = r.pos();
        let name = r.str("protocol name")?;
        let level_at = r.pos();
        let level = r.u8("protocol level")?;
        let v = match (name, level) {
            ("MQTT", 4) => ProtocolVersion::V3_1_1,
            ("MQTT", 5) => ProtocolVersion::V5,
            ("MQIsdp", 3) => {
                return Err(r.err_at(
                    name_at,
                    ErrorKind::UnsupportedVersion,
                    "protocol name",
                    Some("MQTT-3.1.2-2"),
                    "MQTT 3.1 CONNECT (\"MQIsdp\", level 3) is recognised but not supported",
                ))
            }
            ("MQTT", other) => {
                return Err(r.err_at(
                    level_at,
                    ErrorKind::UnsupportedVersion,
                    "protocol level",
                    Some("MQTT-3.1.2-2"),
                    format!("unsupported protocol level {other}"),
                ))
            }
            (other, _) => {
                return Err(r.err_at(
                    name_at,
                    ErrorKind::UnsupportedVersion,
                    "protocol name",
                    Some("MQTT-3.1.2-1"),
                    format!("protocol name {other:?} is not \"MQTT\""),
                ))
            }
        };
        Ok((name, level, v))
    }

    /// Decodes the body; `r.version` must already be the CONNECT's own.
    pub(crate) fn read_rest(
        r: &mut Reader<'a, '_>,
        protocol_name: &'a str,
        protocol_level: u8,
    ) -> Result<ConnectRef<'a>, DecodeError> {
        let v5 = r.version.is_v5();
        let flags_at = r.pos();
        let flags = r.u8("connect flags")?;
        let bad = |r: &Reader<'_, '_>, kind, st311, st5, msg: &str| {
            Err(r.err_at(flags_at, kind, "connect flags", r.sid(st311, st5), msg))
        };
        if flags & flag::RESERVED != 0 {
            return bad(
                r,
                ErrorKind::Malformed,
                Some("MQTT-3.1.2-3"),
                Some("MQTT-3.1.2-3"),
                "reserved flag is 1",
            );
        }
        let will_flag = flags & flag::WILL != 0;
        let will_qos = (flags >> flag::WILL_QOS_SHIFT) & 3;
        let will_retain = flags & flag::WILL_RETAIN != 0;
        if !will_flag && will_qos != 0 {
            return bad(
                r,
                ErrorKind::Malformed,
                Some("MQTT-3.1.2-13"),
                Some("MQTT-3.1.2-11"),
                "Will QoS is not 0 without a Will",
            );
        }
        if !will_flag && will_retain {
            return bad(
                r,
                ErrorKind::Malformed,
                Some("MQTT-3.1.2-15"),
                Some("MQTT-3.1.2-13"),
                "Will Retain is 1 without a Will",
            );
        }
        if will_qos == 3 {
            return bad(
                r,
                ErrorKind::Malformed,
                Some("MQTT-3.1.2-14"),
                Some("MQTT-3.1.2-12"),
                "Will QoS is 3",
            );
        }
        let has_user = flags & flag::USERNAME != 0;
        let has_pass = flags & flag::PASSWORD != 0;
        if !v5 && has_pass && !has_user {
            return bad(
                r,
                ErrorKind::Malformed,
                Some("MQTT-3.1.2-22"),
                None,
                "Password Flag is 1 but User Name Flag is 0",
            );
        }
        let keep_alive = r.u16("keep alive")?;
        let properties = if v5 {
            PropertiesRef::read(r, PropertyContext::Connect)?
        } else {
            PropertiesRef::default()
        };
        if properties.contains(id::AUTHENTICATION_DATA)
            && !properties.contains(id::AUTHENTICATION_METHOD)
        {
            return Err(r.err(
                ErrorKind::ProtocolError,
                "authentication_data",
                None,
                "Authentication Data without an Authentication Method",
            ));
        }
        let id_at = r.pos();
        let client_id = r.str("client identifier")?;
        if !v5 && client_id.is_empty() && flags & flag::CLEAN == 0 {
            return Err(r.err_at(
                id_at,
                ErrorKind::ProtocolError,
                "client identifier",
                Some("MQTT-3.1.3-7"),
                "zero-length ClientId with CleanSession 0",
            ));
        }
        let will = if will_flag {
            let properties = if v5 {
                PropertiesRef::read(r, PropertyContext::Will)?
            } else {
                PropertiesRef::default()
            };
            let topic_at = r.pos();
            let topic = r.str("will topic")?;
            if let Some(i) = topic.find(['+', '#']) {
                return Err(r.err_at(
                    topic_at + 2 + i,
                    ErrorKind::ProtocolError,
                    "will topic",
                    r.sid(Some("MQTT-4.7.1-1"), Some("MQTT-4.7.0-1")),
                    "Will Topic contains a wildcard character",
                ));
            }
            if topic.is_empty() {
                return Err(r.err_at(
                    topic_at,
                    ErrorKind::ProtocolError,
                    "will topic",
                    Some("MQTT-4.7.3-1"),
                    "empty Will Topic",
                ));
            }
            let payload_at = r.pos();
            let payload = r.binary("will payload")?;
            if properties.get(id::PAYLOAD_FORMAT_INDICATOR) == Some(PropertyValue::Byte(1))
                && std::str::from_utf8(payload).is_err()
            {
                r.note(
                    payload_at,
                    "will payload",
                    None,
                    "Payload Format Indicator says UTF-8 but the Will Payload is not well-formed UTF-8",
                );
            }
            Some(WillRef {
                topic,
                payload,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_user {
            if r.is_empty() {
                return Err(r.err(
                    ErrorKind::Malformed,
                    "user name",
                    r.sid(Some("MQTT-3.1.2-19"), Some("MQTT-3.1.2-17")),
                    "User Name Flag is 1 but the payload ends",
                ));
            }
            Some(r.str("user name")?)
        } else {
            None
        };
        let password = if has_pass {
            if r.is_empty() {
                return Err(r.err(
                    ErrorKind::Malformed,
                    "password",
                    r.sid(Some("MQTT-3.1.2-21"), Some("MQTT-3.1.2-19")),
                    "Password Flag is 1 but the payload ends",
                ));
            }
            Some(r.binary("password")?)
        } else {
            None
        };
        // Anything left is a field its flag says is absent.
        let extra = match (has_user, has_pass) {
            (false, _) => r.sid(Some("MQTT-3.1.2-18"), Some("MQTT-3.1.2-16")),
            (true, false) => r.sid(Some("MQTT-3.1.2-20"), Some("MQTT-3.1.2-18")),
            (true, true) => None,
        };
        r.finish("payload", extra)?;
        Ok(ConnectRef {
            protocol_name,
            protocol_level,
            clean_session: flags & flag::CLEAN != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    /// The owned model (binary fields copied).
    pub fn to_owned(&self) -> Connect {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Connect {
        Connect {
            protocol_name: self.protocol_name.to_owned(),
            protocol_level: self.protocol_level,
            clean_session: self.clean_session,
            keep_alive: self.keep_alive,
            client_id: self.client_id.to_owned(),
            will: self.will.as_ref().map(|w| w.to_owned_in(owner)),
            username: self.username.map(str::to_owned),
            password: self.password.map(|p| share_or_copy(owner, p)),
            properties: self.properties.to_owned_in(owner),
        }
    }
}

impl WillRef<'_> {
    /// The owned model (payload copied).
    pub fn to_owned(&self) -> Will {
        self.to_owned_in(None)
    }

    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Will {
        Will {
            topic: self.topic.to_owned(),
            payload: share_or_copy(owner, self.payload),
            qos: self.qos,
            retain: self.retain,
            properties: self.properties.to_owned_in(owner),
        }
    }
}

impl Connect {
    /// The Connect Flags byte the model describes.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if self.clean_session {
            f |= flag::CLEAN;
        }
        if let Some(w) = &self.will {
            f |= flag::WILL | ((w.qos & 3) << flag::WILL_QOS_SHIFT);
            if w.retain {
                f |= flag::WILL_RETAIN;
            }
        }
        if self.password.is_some() {
            f |= flag::PASSWORD;
        }
        if self.username.is_some() {
            f |= flag::USERNAME;
        }
        f
    }

    /// Writes the model as-is: `protocol_level` 0 takes `v`'s level, and the
    /// Connect Flags follow the fields present unless overridden.
    pub(crate) fn write(
        &self,
        v: ProtocolVersion,
        ov: &Overrides,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let level = if self.protocol_level == 0 {
            v.level()
        } else {
            self.protocol_level
        };
        // The level written decides the layout, as a receiver would read it.
        let v5 = match level {
            5 => true,
            3 | 4 => false,
            _ => v.is_v5(),
        };
        put_str_claiming(out, &self.protocol_name, ov.string_length, "protocol name")?;
        out.put_u8(level);
        out.put_u8(ov.connect_flags.unwrap_or_else(|| self.flags()));
        out.put_u16(self.keep_alive);
        if v5 {
            self.properties.write_block(
                out,
                ov.extra_properties.as_ref().map(|b| b.as_slice()),
                ov.property_length,
            )?;
        }
        put_str(out, &self.client_id, "client_id")?;
        if let Some(w) = &self.will {
            if v5 {
                w.properties.write_block(out, None, None)?;
            }
            put_str(out, &w.topic, "will topic")?;
            put_bin(out, w.payload.as_slice(), "will payload")?;
        }
        if let Some(u) = &self.username {
            put_str(out, u, "username")?;
        }
        if let Some(p) = &self.password {
            put_bin(out, p.as_slice(), "password")?;
        }
        Ok(())
    }
}
