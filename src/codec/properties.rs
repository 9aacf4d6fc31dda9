use crate::codec::Binary;
use serde::{Deserialize, Serialize};

/// MQTT 5.0 properties. Every single-valued property is optional; the two
/// repeatable ones (User Property, Subscription Identifier) are lists.
/// In 3.1.1 there are no properties and this stays empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Properties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_indicator: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_expiry_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_data: Option<Binary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_identifiers: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_expiry_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_client_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_keep_alive: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_data: Option<Binary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_problem_information: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_delay_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_response_information: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_information: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_maximum: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias_maximum: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_alias: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_qos: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_available: Option<u8>,
    /// Key/value pairs in wire order; written `[[key, value], ...]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_packet_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_subscription_available: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_identifier_available: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_subscription_available: Option<u8>,
}

impl Properties {
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }
}

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::primitives::{
    parse_vbi, put_bin, put_str, put_vbi, vbi_len, Cursor, Reader, VbiParse,
};
use bytes::{BufMut, Bytes, BytesMut};

/// Where a property block sits: the packet type, or the Will Properties of a
/// CONNECT. Used to tell which properties may appear (5.0 §2.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyContext {
    Connect,
    Will,
    Connack,
    Publish,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
}

impl PropertyContext {
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn name(self) -> &'static str {
        use PropertyContext::*;
        match self {
            Connect => "CONNECT",
            Will => "Will Properties",
            Connack => "CONNACK",
            Publish => "PUBLISH",
            Puback => "PUBACK",
            Pubrec => "PUBREC",
            Pubrel => "PUBREL",
            Pubcomp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            Suback => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            Unsuback => "UNSUBACK",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        }
    }
}

/// The wire data type of a property value (5.0 §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    Utf8String,
    BinaryData,
    Utf8StringPair,
}

/// One row of the 5.0 property table (§2.2.2.2).
#[derive(Debug, Clone, Copy)]
pub struct PropertyInfo {
    pub id: u8,
    /// The field name in [`Properties`] (and in YAML).
    pub name: &'static str,
    pub ty: PropertyType,
    allowed: u16,
    /// Whether it may appear more than once in one block.
    pub repeatable: bool,
}

impl PropertyInfo {
    pub fn allowed_in(&self, ctx: PropertyContext) -> bool {
        self.allowed & ctx.bit() != 0
    }

    /// Every context this property may appear in.
    pub fn contexts(&self) -> impl Iterator<Item = PropertyContext> + '_ {
        ALL_CONTEXTS.iter().copied().filter(|c| self.allowed_in(*c))
    }
}

const ALL_CONTEXTS: [PropertyContext; 14] = {
    use PropertyContext::*;
    [
        Connect,
        Will,
        Connack,
        Publish,
        Puback,
        Pubrec,
        Pubrel,
        Pubcomp,
        Subscribe,
        Suback,
        Unsubscribe,
        Unsuback,
        Disconnect,
        Auth,
    ]
};

const fn ctxs(list: &[PropertyContext]) -> u16 {
    let mut m = 0;
    let mut i = 0;
    while i < list.len() {
        m |= list[i].bit();
        i += 1;
    }
    m
}

/// Property identifiers (5.0 §2.2.2.2).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

macro_rules! prop {
    ($id:expr, $name:literal, $ty:ident, [$($c:ident),*], $rep:expr) => {
        PropertyInfo {
            id: $id,
            name: $name,
            ty: PropertyType::$ty,
            allowed: ctxs(&[$(PropertyContext::$c),*]),
            repeatable: $rep,
        }
    };
}

/// Every 5.0 property, in identifier order. Subscription Identifier may
/// repeat in PUBLISH only; [`PropertyInfo::repeatable`] says "in some
/// packet", and [`may_repeat`] answers per packet.
pub const PROPERTY_TABLE: &[PropertyInfo] = &[
    prop!(
        id::PAYLOAD_FORMAT_INDICATOR,
        "payload_format_indicator",
        Byte,
        [Publish, Will],
        false
    ),
    prop!(
        id::MESSAGE_EXPIRY_INTERVAL,
        "message_expiry_interval",
        FourByteInteger,
        [Publish, Will],
        false
    ),
    prop!(
        id::CONTENT_TYPE,
        "content_type",
        Utf8String,
        [Publish, Will],
        false
    ),
    prop!(
        id::RESPONSE_TOPIC,
        "response_topic",
        Utf8String,
        [Publish, Will],
        false
    ),
    prop!(
        id::CORRELATION_DATA,
        "correlation_data",
        BinaryData,
        [Publish, Will],
        false
    ),
    prop!(
        id::SUBSCRIPTION_IDENTIFIER,
        "subscription_identifiers",
        VariableByteInteger,
        [Publish, Subscribe],
        true
    ),
    prop!(
        id::SESSION_EXPIRY_INTERVAL,
        "session_expiry_interval",
        FourByteInteger,
        [Connect, Connack, Disconnect],
        false
    ),
    prop!(
        id::ASSIGNED_CLIENT_IDENTIFIER,
        "assigned_client_identifier",
        Utf8String,
        [Connack],
        false
    ),
    prop!(
        id::SERVER_KEEP_ALIVE,
        "server_keep_alive",
        TwoByteInteger,
        [Connack],
        false
    ),
    prop!(
        id::AUTHENTICATION_METHOD,
        "authentication_method",
        Utf8String,
        [Connect, Connack, Auth],
        false
    ),
    prop!(
        id::AUTHENTICATION_DATA,
        "authentication_data",
        BinaryData,
        [Connect, Connack, Auth],
        false
    ),
    prop!(
        id::REQUEST_PROBLEM_INFORMATION,
        "request_problem_information",
        Byte,
        [Connect],
        false
    ),
    prop!(
        id::WILL_DELAY_INTERVAL,
        "will_delay_interval",
        FourByteInteger,
        [Will],
        false
    ),
    prop!(
        id::REQUEST_RESPONSE_INFORMATION,
        "request_response_information",
        Byte,
        [Connect],
        false
    ),
    prop!(
        id::RESPONSE_INFORMATION,
        "response_information",
        Utf8String,
        [Connack],
        false
    ),
    prop!(
        id::SERVER_REFERENCE,
        "server_reference",
        Utf8String,
        [Connack, Disconnect],
        false
    ),
    prop!(
        id::REASON_STRING,
        "reason_string",
        Utf8String,
        [Connack, Puback, Pubrec, Pubrel, Pubcomp, Suback, Unsuback, Disconnect, Auth],
        false
    ),
    prop!(
        id::RECEIVE_MAXIMUM,
        "receive_maximum",
        TwoByteInteger,
        [Connect, Connack],
        false
    ),
    prop!(
        id::TOPIC_ALIAS_MAXIMUM,
        "topic_alias_maximum",
        TwoByteInteger,
        [Connect, Connack],
        false
    ),
    prop!(
        id::TOPIC_ALIAS,
        "topic_alias",
        TwoByteInteger,
        [Publish],
        false
    ),
    prop!(id::MAXIMUM_QOS, "maximum_qos", Byte, [Connack], false),
    prop!(
        id::RETAIN_AVAILABLE,
        "retain_available",
        Byte,
        [Connack],
        false
    ),
    prop!(
        id::USER_PROPERTY,
        "user_properties",
        Utf8StringPair,
        [
            Connect,
            Will,
            Connack,
            Publish,
            Puback,
            Pubrec,
            Pubrel,
            Pubcomp,
            Subscribe,
            Suback,
            Unsubscribe,
            Unsuback,
            Disconnect,
            Auth
        ],
        true
    ),
    prop!(
        id::MAXIMUM_PACKET_SIZE,
        "maximum_packet_size",
        FourByteInteger,
        [Connect, Connack],
        false
    ),
    prop!(
        id::WILDCARD_SUBSCRIPTION_AVAILABLE,
        "wildcard_subscription_available",
        Byte,
        [Connack],
        false
    ),
    prop!(
        id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        "subscription_identifier_available",
        Byte,
        [Connack],
        false
    ),
    prop!(
        id::SHARED_SUBSCRIPTION_AVAILABLE,
        "shared_subscription_available",
        Byte,
        [Connack],
        false
    ),
];

/// The table row for a property identifier.
pub fn property_info(id: u8) -> Option<&'static PropertyInfo> {
    PROPERTY_TABLE.iter().find(|p| p.id == id)
}

/// Whether property `id` may appear more than once in a block of `ctx`.
pub fn may_repeat(id: u8, ctx: PropertyContext) -> bool {
    match id {
        id::USER_PROPERTY => true,
        // Several subscriptions can match one message; a SUBSCRIBE carries one.
        id::SUBSCRIPTION_IDENTIFIER => ctx == PropertyContext::Publish,
        _ => false,
    }
}

/// A borrowed property value, as written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyValue<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    Vbi(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

impl PropertyValue<'_> {
    fn wire_len(&self) -> usize {
        match *self {
            PropertyValue::Byte(_) => 1,
            PropertyValue::U16(_) => 2,
            PropertyValue::U32(_) => 4,
            PropertyValue::Vbi(v) => vbi_len(v),
            PropertyValue::Str(s) => 2 + s.len(),
            PropertyValue::Bin(b) => 2 + b.len(),
            PropertyValue::Pair(k, v) => 4 + k.len() + v.len(),
        }
    }
}

impl Properties {
    /// Visits every property present, in identifier order (user properties
    /// and subscription identifiers in list order).
    pub fn for_each(&self, mut f: impl FnMut(u8, PropertyValue<'_>)) {
        use PropertyValue as V;
        let p = self;
        if let Some(v) = p.payload_format_indicator {
            f(id::PAYLOAD_FORMAT_INDICATOR, V::Byte(v));
        }
        if let Some(v) = p.message_expiry_interval {
            f(id::MESSAGE_EXPIRY_INTERVAL, V::U32(v));
        }
        if let Some(v) = &p.content_type {
            f(id::CONTENT_TYPE, V::Str(v));
        }
        if let Some(v) = &p.response_topic {
            f(id::RESPONSE_TOPIC, V::Str(v));
        }
        if let Some(v) = &p.correlation_data {
            f(id::CORRELATION_DATA, V::Bin(v.as_slice()));
        }
        for v in &p.subscription_identifiers {
            f(id::SUBSCRIPTION_IDENTIFIER, V::Vbi(*v));
        }
        if let Some(v) = p.session_expiry_interval {
            f(id::SESSION_EXPIRY_INTERVAL, V::U32(v));
        }
        if let Some(v) = &p.assigned_client_identifier {
            f(id::ASSIGNED_CLIENT_IDENTIFIER, V::Str(v));
        }
        if let Some(v) = p.server_keep_alive {
            f(id::SERVER_KEEP_ALIVE, V::U16(v));
        }
        if let Some(v) = &p.authentication_method {
            f(id::AUTHENTICATION_METHOD, V::Str(v));
        }
        if let Some(v) = &p.authentication_data {
            f(id::AUTHENTICATION_DATA, V::Bin(v.as_slice()));
        }
        if let Some(v) = p.request_problem_information {
            f(id::REQUEST_PROBLEM_INFORMATION, V::Byte(v));
        }
        if let Some(v) = p.will_delay_interval {
            f(id::WILL_DELAY_INTERVAL, V::U32(v));
        }
        if let Some(v) = p.request_response_information {
            f(id::REQUEST_RESPONSE_INFORMATION, V::Byte(v));
        }
        if let Some(v) = &p.response_information {
            f(id::RESPONSE_INFORMATION, V::Str(v));
        }
        if let Some(v) = &p.server_reference {
            f(id::SERVER_REFERENCE, V::Str(v));
        }
        if let Some(v) = &p.reason_string {
            f(id::REASON_STRING, V::Str(v));
        }
        if let Some(v) = p.receive_maximum {
            f(id::RECEIVE_MAXIMUM, V::U16(v));
        }
        if let Some(v) = p.topic_alias_maximum {
            f(id::TOPIC_ALIAS_MAXIMUM, V::U16(v));
        }
        if let Some(v) = p.topic_alias {
            f(id::TOPIC_ALIAS, V::U16(v));
        }
        if let Some(v) = p.maximum_qos {
            f(id::MAXIMUM_QOS, V::Byte(v));
        }
        if let Some(v) = p.retain_available {
            f(id::RETAIN_AVAILABLE, V::Byte(v));
        }
        for (k, v) in &p.user_properties {
            f(id::USER_PROPERTY, V::Pair(k, v));
        }
        if let Some(v) = p.maximum_packet_size {
            f(id::MAXIMUM_PACKET_SIZE, V::U32(v));
        }
        if let Some(v) = p.wildcard_subscription_available {
            f(id::WILDCARD_SUBSCRIPTION_AVAILABLE, V::Byte(v));
        }
        if let Some(v) = p.subscription_identifier_available {
            f(id::SUBSCRIPTION_IDENTIFIER_AVAILABLE, V::Byte(v));
        }
        if let Some(v) = p.shared_subscription_available {
            f(id::SHARED_SUBSCRIPTION_AVAILABLE, V::Byte(v));
        }
    }

    /// Bytes of the property block without its length prefix.
    pub fn wire_len(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, v| n += 1 + v.wire_len());
        n
    }

    /// Writes the properties (without the length prefix), whatever packet
    /// they are for: the encoder does not police which properties belong.
    pub(crate) fn write_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let mut res = Ok(());
        self.for_each(|id, v| {
            if res.is_err() {
                return;
            }
            out.put_u8(id);
            res = match v {
                PropertyValue::Byte(b) => {
                    out.put_u8(b);
                    Ok(())
                }
                PropertyValue::U16(x) => {
                    out.put_u16(x);
                    Ok(())
                }
                PropertyValue::U32(x) => {
                    out.put_u32(x);
                    Ok(())
                }
                PropertyValue::Vbi(x) => {
                    put_vbi(out, x);
                    Ok(())
                }
                PropertyValue::Str(s) => put_str(out, s, "property string"),
                PropertyValue::Bin(b) => put_bin(out, b, "property binary data"),
                PropertyValue::Pair(k, v) => put_str(out, k, "user property key")
                    .and_then(|_| put_str(out, v, "user property value")),
            };
        });
        res
    }

    /// Writes the Property Length and the properties. `extra` is appended
    /// raw inside the block; `claim` replaces the written length.
    pub(crate) fn write_block(
        &self,
        out: &mut BytesMut,
        extra: Option<&[u8]>,
        claim: Option<u32>,
    ) -> Result<(), EncodeError> {
        let extra = extra.unwrap_or(&[]);
        let real = self.wire_len() + extra.len();
        let len = match claim {
            Some(c) => c,
            None => u32::try_from(real)
                .ok()
                .filter(|n| *n <= crate::codec::primitives::VBI_MAX)
                .ok_or_else(|| {
                    EncodeError(format!("property block of {real} bytes is too long"))
                })?,
        };
        put_vbi(out, len);
        self.write_body(out)?;
        out.put_slice(extra);
        Ok(())
    }
}

/// A property block as it sits in the packet, checked completely when it
/// was read: every property known and allowed where it is, none repeated
/// unless it may be, every value well-formed and within its range. Values
/// are read from the wire bytes on demand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertiesRef<'a> {
    /// The block without its Property Length. One slice keeps every packet
    /// view small enough to move without a call to `memcpy`.
    raw: &'a [u8],
}

impl<'a> PropertiesRef<'a> {
    /// Reads a Property Length and the block it covers, checking that each
    /// property is known, allowed in `ctx`, well-typed, not repeated unless
    /// repeatable, and within its value range.
    #[inline]
    pub(crate) fn read(
        r: &mut Reader<'a, '_>,
        ctx: PropertyContext,
    ) -> Result<PropertiesRef<'a>, DecodeError> {
        // Most blocks are empty: a one-byte Property Length of 0.
        if r.peek_rest().first() == Some(&0) {
            r.take(1, "property length")?;
            return Ok(PropertiesRef::default());
        }
        PropertiesRef::read_block(r, ctx)
    }

    #[inline(never)]
    fn read_block(
        r: &mut Reader<'a, '_>,
        ctx: PropertyContext,
    ) -> Result<PropertiesRef<'a>, DecodeError> {
        let len = r.vbi("property length")? as usize;
        let mut b = r.sub(len, "property length")?;
        let raw = b.peek_rest();
        let mut seen: u64 = 0;
        while !b.is_empty() {
            let at = b.pos();
            let pid = b.vbi("property identifier")?;
            let info = u8::try_from(pid)
                .ok()
                .and_then(property_info)
                .ok_or_else(|| {
                    b.err_at(
                        at,
                        ErrorKind::Malformed,
                        "property identifier",
                        None,
                        format!("unknown property identifier 0x{pid:02X}"),
                    )
                })?;
            if !info.allowed_in(ctx) {
                return Err(b.err_at(
                    at,
                    ErrorKind::Malformed,
                    "property identifier",
                    None,
                    format!(
                        "{} (0x{:02X}) is not allowed in {}",
                        info.name,
                        info.id,
                        ctx.name()
                    ),
                ));
            }
            let bit = 1u64 << info.id;
            if seen & bit != 0 && !may_repeat(info.id, ctx) {
                return Err(b.err_at(
                    at,
                    ErrorKind::ProtocolError,
                    "property identifier",
                    None,
                    format!("{} (0x{:02X}) appears more than once", info.name, info.id),
                ));
            }
            seen |= bit;
            check_value(&mut b, info)?;
        }
        Ok(PropertiesRef { raw })
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The block's bytes, without the Property Length.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether property `id` is present.
    pub fn contains(&self, id: u8) -> bool {
        self.get(id).is_some()
    }

    /// The first value of property `id`.
    pub fn get(&self, id: u8) -> Option<PropertyValue<'a>> {
        if self.raw.is_empty() {
            return None;
        }
        self.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// Every property in wire order.
    pub fn iter(&self) -> PropertyIter<'a> {
        PropertyIter { rest: self.raw }
    }

    /// The owned model of the block (binary values copied).
    pub fn to_owned(&self) -> Properties {
        self.to_owned_in(None)
    }

    /// The owned model; binary values are slices of `owner` when given,
    /// which must be the frame this block was read from.
    pub(crate) fn to_owned_in(&self, owner: Option<&Bytes>) -> Properties {
        let mut p = Properties::default();
        self.fill(owner, &mut p);
        p
    }

    /// Sets the fields of `p`, which must be empty, in place.
    pub(crate) fn fill(&self, owner: Option<&Bytes>, p: &mut Properties) {
        for (id, v) in self.iter() {
            p.set(id, v, owner);
        }
    }
}

impl<'a> IntoIterator for &PropertiesRef<'a> {
    type Item = (u8, PropertyValue<'a>);
    type IntoIter = PropertyIter<'a>;
    fn into_iter(self) -> PropertyIter<'a> {
        self.iter()
    }
}

/// Reads one value and checks its range. A value outside its allowed range
/// is a Protocol Error in 5.0.
fn check_value(b: &mut Reader<'_, '_>, info: &PropertyInfo) -> Result<(), DecodeError> {
    let field = info.name;
    let vpos = b.pos();
    let range_err = |b: &Reader<'_, '_>, what: String, statement: Option<&'static str>| {
        b.err_at(vpos, ErrorKind::ProtocolError, field, statement, what)
    };
    let zero = |b: &Reader<'_, '_>, what: &str, statement: Option<&'static str>| {
        Err(range_err(b, format!("{what} 0"), statement))
    };
    match info.id {
        id::PAYLOAD_FORMAT_INDICATOR
        | id::REQUEST_PROBLEM_INFORMATION
        | id::REQUEST_RESPONSE_INFORMATION
        | id::MAXIMUM_QOS
        | id::RETAIN_AVAILABLE
        | id::WILDCARD_SUBSCRIPTION_AVAILABLE
        | id::SUBSCRIPTION_IDENTIFIER_AVAILABLE
        | id::SHARED_SUBSCRIPTION_AVAILABLE => {
            let v = b.u8(field)?;
            if v > 1 {
                return Err(range_err(
                    b,
                    format!("{field} is {v}; only 0 or 1 are allowed"),
                    None,
                ));
            }
        }
        id::MESSAGE_EXPIRY_INTERVAL | id::SESSION_EXPIRY_INTERVAL | id::WILL_DELAY_INTERVAL => {
            b.u32(field)?;
        }
        id::CONTENT_TYPE
        | id::ASSIGNED_CLIENT_IDENTIFIER
        | id::AUTHENTICATION_METHOD
        | id::RESPONSE_INFORMATION
        | id::SERVER_REFERENCE
        | id::REASON_STRING => {
            b.str(field)?;
        }
        id::RESPONSE_TOPIC => {
            let s = b.str(field)?;
            // The Response Topic is a Topic Name [MQTT-3.3.2-14].
            if s.contains(['+', '#']) {
                return Err(range_err(
                    b,
                    "Response Topic contains a wildcard".into(),
                    Some("MQTT-3.3.2-14"),
                ));
            }
        }
        id::CORRELATION_DATA | id::AUTHENTICATION_DATA => {
            b.binary(field)?;
        }
        id::SUBSCRIPTION_IDENTIFIER => {
            if b.vbi(field)? == 0 {
                return zero(b, "Subscription Identifier", None);
            }
        }
        id::SERVER_KEEP_ALIVE | id::TOPIC_ALIAS_MAXIMUM => {
            b.u16(field)?;
        }
        id::RECEIVE_MAXIMUM => {
            if b.u16(field)? == 0 {
                return zero(b, "Receive Maximum", None);
            }
        }
        id::TOPIC_ALIAS => {
            if b.u16(field)? == 0 {
                return zero(b, "Topic Alias", Some("MQTT-3.3.2-8"));
            }
        }
        id::USER_PROPERTY => {
            b.str("user property key")?;
            b.str("user property value")?;
        }
        id::MAXIMUM_PACKET_SIZE => {
            if b.u32(field)? == 0 {
                return zero(b, "Maximum Packet Size", None);
            }
        }
        other => {
            return Err(b.err_at(
                vpos,
                ErrorKind::Malformed,
                field,
                None,
                format!("no reader for property 0x{other:02X}"),
            ))
        }
    }
    Ok(())
}

/// The properties of a checked block, in wire order. It only walks the
/// structure (identifier, then a value of the table's type): the checks
/// were made when the block was read.
#[derive(Debug, Clone)]
pub struct PropertyIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for PropertyIter<'a> {
    type Item = (u8, PropertyValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        // Every known identifier is below 0x80, so its minimal Variable
        // Byte Integer (required in 5.0) is one byte.
        let (&id, rest) = self.rest.split_first()?;
        let info = property_info(id)?;
        let mut cur = Cursor(rest);
        let value = match info.ty {
            PropertyType::Byte => PropertyValue::Byte(cur.u8()?),
            PropertyType::TwoByteInteger => PropertyValue::U16(cur.u16()?),
            PropertyType::FourByteInteger => {
                let b = cur.take(4)?;
                PropertyValue::U32(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            PropertyType::VariableByteInteger => match parse_vbi(cur.0) {
                VbiParse::Value { value, len } => {
                    cur.take(len)?;
                    PropertyValue::Vbi(value)
                }
                _ => return self.stop(),
            },
            PropertyType::Utf8String => PropertyValue::Str(cur.str()?),
            PropertyType::BinaryData => PropertyValue::Bin(cur.bin()?),
            PropertyType::Utf8StringPair => PropertyValue::Pair(cur.str()?, cur.str()?),
        };
        self.rest = cur.0;
        Some((id, value))
    }
}

impl PropertyIter<'_> {
    fn stop<T>(&mut self) -> Option<T> {
        self.rest = &[];
        None
    }
}

impl Properties {
    /// Sets the field of property `id` (appends, for the lists). Binary
    /// values are slices of `owner` when given, copies otherwise.
    fn set(&mut self, id: u8, v: PropertyValue<'_>, owner: Option<&Bytes>) {
        use PropertyValue as V;
        let bin = |b: &[u8]| crate::codec::binary::share_or_copy(owner, b);
        let p = self;
        match (id, v) {
            (id::PAYLOAD_FORMAT_INDICATOR, V::Byte(x)) => p.payload_format_indicator = Some(x),
            (id::MESSAGE_EXPIRY_INTERVAL, V::U32(x)) => p.message_expiry_interval = Some(x),
            (id::CONTENT_TYPE, V::Str(s)) => p.content_type = Some(s.to_owned()),
            (id::RESPONSE_TOPIC, V::Str(s)) => p.response_topic = Some(s.to_owned()),
            (id::CORRELATION_DATA, V::Bin(b)) => p.correlation_data = Some(bin(b)),
            (id::SUBSCRIPTION_IDENTIFIER, V::Vbi(x)) => p.subscription_identifiers.push(x),
            (id::SESSION_EXPIRY_INTERVAL, V::U32(x)) => p.session_expiry_interval = Some(x),
            (id::ASSIGNED_CLIENT_IDENTIFIER, V::Str(s)) => {
                p.assigned_client_identifier = Some(s.to_owned())
            }
            (id::SERVER_KEEP_ALIVE, V::U16(x)) => p.server_keep_alive = Some(x),
            (id::AUTHENTICATION_METHOD, V::Str(s)) => p.authentication_method = Some(s.to_owned()),
            (id::AUTHENTICATION_DATA, V::Bin(b)) => p.authentication_data = Some(bin(b)),
            (id::REQUEST_PROBLEM_INFORMATION, V::Byte(x)) => {
                p.request_problem_information = Some(x)
            }
            (id::WILL_DELAY_INTERVAL, V::U32(x)) => p.will_delay_interval = Some(x),
            (id::REQUEST_RESPONSE_INFORMATION, V::Byte(x)) => {
                p.request_response_information = Some(x)
            }
            (id::RESPONSE_INFORMATION, V::Str(s)) => p.response_information = Some(s.to_owned()),
            (id::SERVER_REFERENCE, V::Str(s)) => p.server_reference = Some(s.to_owned()),
            (id::REASON_STRING, V::Str(s)) => p.reason_string = Some(s.to_owned()),
            (id::RECEIVE_MAXIMUM, V::U16(x)) => p.receive_maximum = Some(x),
            (id::TOPIC_ALIAS_MAXIMUM, V::U16(x)) => p.topic_alias_maximum = Some(x),
            (id::TOPIC_ALIAS, V::U16(x)) => p.topic_alias = Some(x),
            (id::MAXIMUM_QOS, V::Byte(x)) => p.maximum_qos = Some(x),
            (id::RETAIN_AVAILABLE, V::Byte(x)) => p.retain_available = Some(x),
            (id::USER_PROPERTY, V::Pair(k, v)) => {
                p.user_properties.push((k.to_owned(), v.to_owned()))
            }
            (id::MAXIMUM_PACKET_SIZE, V::U32(x)) => p.maximum_packet_size = Some(x),
            (id::WILDCARD_SUBSCRIPTION_AVAILABLE, V::Byte(x)) => {
                p.wildcard_subscription_available = Some(x)
            }
            (id::SUBSCRIPTION_IDENTIFIER_AVAILABLE, V::Byte(x)) => {
                p.subscription_identifier_available = Some(x)
            }
            (id::SHARED_SUBSCRIPTION_AVAILABLE, V::Byte(x)) => {
                p.shared_subscription_available = Some(x)
            }
            // The table gives each identifier exactly one type.
            _ => {}
        }
    }
}
