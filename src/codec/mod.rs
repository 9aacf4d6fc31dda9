//! The shared MQTT codec: the only place in mqttspec that knows MQTT bytes.
//!
//! * [`decode_ref`] is strict and total: any byte string gives a
//!   [`PacketRef`] (borrowing from the bytes) or a [`DecodeError`] naming
//!   the offset, the field and the violated statement (of the version being
//!   decoded). Errors are layered: `Incomplete` (wait for bytes),
//!   `Malformed` (0x81), `ProtocolError` (0x82), `TooLarge`,
//!   `UnsupportedVersion` (a 3.1 "MQIsdp" CONNECT or an unknown level).
//!   SHOULD-level observations become [`Note`]s, never errors. The packet is
//!   checked completely, in one pass, before anything is built from it.
//! * [`decode`] is [`decode_ref`] followed by `to_owned`: the same checks,
//!   giving the owned [`Packet`] model. [`decode_bytes`] slices binary
//!   fields out of a `Bytes` instead of copying them; the `_with` forms take
//!   [`DecodeOptions`] (who sent it).
//! * [`encode`] writes any model packet; [`encode_with`] applies [`Overrides`]
//!   so scenarios can send deliberately malformed packets. The encoder writes
//!   the model as given (a wildcard topic, QoS 3) so negative tests can.
//! * [`stream::Framer`] finds whole packets in a socket buffer and enforces
//!   the maximum packet size before buffering a body.
//! * [`inspect`] decodes a capture of packets back to back.
//! * [`properties`] and [`reason_code`] hold the 5.0 tables: which property
//!   and which reason code each packet may carry.
//!
//! The model types derive serde so scenarios can write packets in YAML and
//! match received packets field by field.

pub mod arbitrary;
pub mod binary;
mod display;
pub mod error;
pub mod inspect;
pub mod packet;
pub mod primitives;
pub mod properties;
pub mod reason_code;
pub mod topic;
pub mod version;

pub use binary::Binary;
pub use error::{DecodeError, EncodeError, ErrorKind};
pub use packet::*;
pub use properties::{Properties, PropertiesRef};
pub use version::ProtocolVersion;

use bytes::{Bytes, BytesMut};

pub mod overrides;
pub mod stream;

pub use overrides::Overrides;
pub use stream::Framer;

/// A decoded packet and any SHOULD-level observations about it (e.g. control
/// characters in a string). Notes never make a packet invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub packet: Packet,
    pub notes: Vec<Note>,
}

/// A SHOULD-level observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub offset: usize,
    pub field: &'static str,
    pub statement: Option<&'static str>,
    pub message: String,
}

/// Which side of the connection sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Client,
    Server,
}

/// What the decoder may assume beyond the bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Who sent the packet. When known, the decoder also rejects packets
    /// that side never sends (a CONNACK from a client) and applies the rules
    /// that 5.0 states per sender (e.g. a Subscription Identifier in a
    /// client's PUBLISH, MQTT-3.3.4-6), and names the sender's statement
    /// where 5.0 has one per side (packet identifier 0 in PUBLISH).
    pub sender: Option<Sender>,
}

/// Decodes exactly one whole packet (fixed header included) from `frame`,
/// which must hold nothing after it, checking every rule the decoder knows
/// before returning. The packet borrows its strings and bytes from `frame`.
/// A CONNECT is decoded by the protocol level it carries; every other
/// packet by `version`. SHOULD-level [`Note`]s are dropped; see
/// [`decode_ref_with_notes`]. [`decode`] and its variants are this
/// followed by `to_owned`.
#[inline]
pub fn decode_ref<'a>(
    frame: &'a [u8],
    version: ProtocolVersion,
    opts: &DecodeOptions,
) -> Result<PacketRef<'a>, DecodeError> {
    decode_packet(frame, version, opts, None)
}

/// [`decode_ref`], appending SHOULD-level observations to `notes`.
pub fn decode_ref_with_notes<'a>(
    frame: &'a [u8],
    version: ProtocolVersion,
    opts: &DecodeOptions,
    notes: &mut Vec<Note>,
) -> Result<PacketRef<'a>, DecodeError> {
    decode_packet(frame, version, opts, Some(notes))
}

/// Like [`decode_ref`], giving the owned model.
pub fn decode(frame: &[u8], version: ProtocolVersion) -> Result<Decoded, DecodeError> {
    decode_owned(frame, None, version, &DecodeOptions::default())
}

/// Like [`decode`], but binary fields (payloads, passwords, correlation and
/// authentication data) are slices of `frame` instead of copies.
pub fn decode_bytes(frame: Bytes, version: ProtocolVersion) -> Result<Decoded, DecodeError> {
    decode_owned(&frame, Some(&frame), version, &DecodeOptions::default())
}

/// [`decode`] with options.
pub fn decode_with(
    frame: &[u8],
    version: ProtocolVersion,
    opts: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    decode_owned(frame, None, version, opts)
}

/// [`decode_bytes`] with options.
pub fn decode_bytes_with(
    frame: Bytes,
    version: ProtocolVersion,
    opts: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    decode_owned(&frame, Some(&frame), version, opts)
}

/// `owner`, when given, is `frame` as a `Bytes` to slice binary fields from.
fn decode_owned(
    frame: &[u8],
    owner: Option<&Bytes>,
    version: ProtocolVersion,
    opts: &DecodeOptions,
) -> Result<Decoded, DecodeError> {
    let mut notes = Vec::new();
    let view = decode_packet(frame, version, opts, Some(&mut notes))?;
    let mut decoded = Decoded {
        packet: Packet::Pingreq(Empty {}),
        notes,
    };
    view.fill(owner, &mut decoded.packet);
    Ok(decoded)
}

/// The parsed fixed header of a whole frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// The 4-bit type, as on the wire (0 and, in 3.1.1, 15 are reserved).
    pub type_nibble: u8,
    pub flags: u8,
    /// The Remaining Length value.
    pub remaining_length: u32,
    /// Bytes taken by the fixed header (1 + the length field).
    pub header_len: usize,
    /// Whether the length field used more bytes than needed.
    pub non_minimal: bool,
}

impl FixedHeader {
    /// Reads a fixed header from the front of `buf`. `Incomplete` means more
    /// bytes are needed to read it.
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<FixedHeader, DecodeError> {
        // Most packets are short enough for a one-byte length.
        if let [b0, b1, ..] = *buf {
            if b1 < 0x80 {
                return Ok(FixedHeader {
                    type_nibble: b0 >> 4,
                    flags: b0 & 0x0f,
                    remaining_length: u32::from(b1),
                    header_len: 2,
                    non_minimal: false,
                });
            }
        }
        FixedHeader::parse_any(buf)
    }

    #[inline(never)]
    fn parse_any(buf: &[u8]) -> Result<FixedHeader, DecodeError> {
        let Some(&b0) = buf.first() else {
            return Err(DecodeError {
                kind: ErrorKind::Incomplete,
                offset: 0,
                field: "fixed header",
                statement: None,
                message: "no bytes".into(),
            });
        };
        match primitives::parse_vbi(&buf[1..]) {
            primitives::VbiParse::Value { value, len } => Ok(FixedHeader {
                type_nibble: b0 >> 4,
                flags: b0 & 0x0f,
                remaining_length: value,
                header_len: 1 + len,
                non_minimal: len > primitives::vbi_len(value),
            }),
            primitives::VbiParse::Incomplete => Err(DecodeError {
                kind: ErrorKind::Incomplete,
                offset: buf.len(),
                field: "remaining length",
                statement: None,
                message: "the Remaining Length field is not complete".into(),
            }),
            primitives::VbiParse::TooLong => Err(DecodeError {
                kind: ErrorKind::Malformed,
                offset: 4,
                field: "remaining length",
                statement: None,
                message: "Remaining Length field longer than 4 bytes".into(),
            }),
        }
    }

    /// Bytes of the whole packet.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length as usize
    }
}

/// The fixed-header flags each packet type must carry (PUBLISH excepted),
/// with the statement that says so in each version.
fn required_flags(t: PacketType) -> (u8, Option<&'static str>, Option<&'static str>) {
    match t {
        PacketType::Pubrel => (0b0010, Some("MQTT-3.6.1-1"), Some("MQTT-3.6.1-1")),
        PacketType::Subscribe => (0b0010, Some("MQTT-3.8.1-1"), Some("MQTT-3.8.1-1")),
        PacketType::Unsubscribe => (0b0010, Some("MQTT-3.10.1-1"), Some("MQTT-3.10.1-1")),
        PacketType::Disconnect => (0, Some("MQTT-3.14.1-1"), Some("MQTT-3.14.1-1")),
        PacketType::Auth => (0, None, Some("MQTT-3.15.1-1")),
        _ => (0, Some("MQTT-2.2.2-1"), Some("MQTT-2.1.3-1")),
    }
}

/// The single decoder every entry point goes through.
#[inline]
fn decode_packet<'a>(
    frame: &'a [u8],
    version: ProtocolVersion,
    opts: &DecodeOptions,
    notes: Option<&mut Vec<Note>>,
) -> Result<PacketRef<'a>, DecodeError> {
    let h = FixedHeader::parse(frame)?;
    let total = h.packet_len();
    if frame.len() != total {
        return Err(wrong_frame_len(frame.len(), total));
    }
    let mut r = primitives::Reader::new(frame, h.header_len, total, version, notes);
    r.sender = opts.sender;
    // The packets of a message flow are read inline, and in tail position
    // so they are built where the caller wants them. Both sides send them,
    // PUBLISH has no required flags and PUBACK's are 0, so the checks made
    // first on the general path hold for them.
    if !h.non_minimal {
        match (h.type_nibble, h.flags) {
            (3, _) => return PublishRef::read_packet(&mut r, h.flags),
            (4, 0) => {
                return AckRef::read(&mut r, properties::PropertyContext::Puback)
                    .map(PacketRef::Puback)
            }
            _ => {}
        }
    }
    decode_general(&mut r, &h)
}

/// Any packet: its type, its flags, who sent it, its body, then its length
/// field.
#[inline(never)]
fn decode_general<'a>(
    r: &mut primitives::Reader<'a, '_>,
    h: &FixedHeader,
) -> Result<PacketRef<'a>, DecodeError> {
    let Some(t) = PacketType::from_nibble(h.type_nibble)
        .filter(|t| *t != PacketType::Auth || r.version.is_v5())
    else {
        return Err(r.err_at(
            0,
            ErrorKind::Malformed,
            "packet type",
            None,
            format!("reserved packet type {}", h.type_nibble),
        ));
    };
    if t != PacketType::Publish {
        let (want, s311, s5) = required_flags(t);
        if h.flags != want {
            return Err(r.err_at(
                0,
                ErrorKind::Malformed,
                "fixed header flags",
                r.sid(s311, s5),
                format!("{} flags must be {want:04b}, got {:04b}", t.name(), h.flags),
            ));
        }
    }
    if let Some(s) = r.sender {
        check_direction(r, t, s)?;
    }
    let packet = decode_body(r, t, h.flags)?;
    if h.non_minimal {
        non_minimal_length(r, h)?;
    }
    Ok(packet)
}

/// A Remaining Length in more bytes than needed, once the body is known to
/// be good: an error in 5.0, a note in 3.1.1. A CONNECT's own level decides
/// which rule applies.
fn non_minimal_length(
    r: &mut primitives::Reader<'_, '_>,
    h: &FixedHeader,
) -> Result<(), DecodeError> {
    if r.version.is_v5() {
        return Err(r.err_at(
            1,
            ErrorKind::Malformed,
            "remaining length",
            Some("MQTT-1.5.5-1"),
            format!(
                "Remaining Length {} is encoded in {} bytes instead of {}",
                h.remaining_length,
                h.header_len - 1,
                primitives::vbi_len(h.remaining_length)
            ),
        ));
    }
    r.note(
        1,
        "remaining length",
        None,
        "non-minimal Remaining Length encoding",
    );
    Ok(())
}

/// The body of a packet of type `t`.
fn decode_body<'a>(
    r: &mut primitives::Reader<'a, '_>,
    t: PacketType,
    flags: u8,
) -> Result<PacketRef<'a>, DecodeError> {
    use properties::PropertyContext as Ctx;
    Ok(match t {
        PacketType::Connect => {
            let (name, level, v) = ConnectRef::read_version(r)?;
            r.version = v;
            PacketRef::Connect(Box::new(ConnectRef::read_rest(r, name, level)?))
        }
        PacketType::Connack => PacketRef::Connack(ConnackRef::read(r)?),
        PacketType::Publish => PublishRef::read_packet(r, flags)?,
        PacketType::Puback => PacketRef::Puback(AckRef::read(r, Ctx::Puback)?),
        PacketType::Pubrec => PacketRef::Pubrec(AckRef::read(r, Ctx::Pubrec)?),
        PacketType::Pubrel => PacketRef::Pubrel(AckRef::read(r, Ctx::Pubrel)?),
        PacketType::Pubcomp => PacketRef::Pubcomp(AckRef::read(r, Ctx::Pubcomp)?),
        PacketType::Subscribe => PacketRef::Subscribe(SubscribeRef::read(r)?),
        PacketType::Suback => PacketRef::Suback(SubackRef::read(r)?),
        PacketType::Unsubscribe => PacketRef::Unsubscribe(UnsubscribeRef::read(r)?),
        PacketType::Unsuback => PacketRef::Unsuback(UnsubackRef::read(r)?),
        PacketType::Pingreq => PacketRef::Pingreq(Empty::read(r)?),
        PacketType::Pingresp => PacketRef::Pingresp(Empty::read(r)?),
        PacketType::Disconnect => PacketRef::Disconnect(DisconnectRef::read(r)?),
        PacketType::Auth => PacketRef::Auth(AuthRef::read(r)?),
    })
}

/// The frame is not exactly one packet long.
#[cold]
fn wrong_frame_len(have: usize, total: usize) -> DecodeError {
    if have < total {
        DecodeError {
            kind: ErrorKind::Incomplete,
            offset: have,
            field: "packet",
            statement: None,
            message: format!("the packet needs {total} bytes, {have} are present"),
        }
    } else {
        DecodeError {
            kind: ErrorKind::Malformed,
            offset: total,
            field: "packet",
            statement: None,
            message: format!("{} byte(s) after the end of the packet", have - total),
        }
    }
}

/// Rejects a packet type its sender never sends.
fn check_direction(
    r: &primitives::Reader<'_, '_>,
    t: PacketType,
    s: Sender,
) -> Result<(), DecodeError> {
    use PacketType::*;
    let from_client_only = matches!(t, Connect | Subscribe | Unsubscribe | Pingreq)
        // A 3.1.1 server closes the connection instead of sending DISCONNECT.
        || (t == Disconnect && !r.version.is_v5());
    let from_server_only = matches!(t, Connack | Suback | Unsuback | Pingresp);
    let (bad, who) = match s {
        Sender::Client => (from_server_only, "a Client"),
        Sender::Server => (from_client_only, "a Server"),
    };
    if bad {
        return Err(r.err_at(
            0,
            ErrorKind::ProtocolError,
            "packet type",
            None,
            format!("{who} does not send {} in {}", t.name(), r.version),
        ));
    }
    Ok(())
}

/// Writes `packet` as valid bytes of `version`.
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    encode_with(packet, version, &Overrides::default(), out)
}

/// Writes `packet` with the given deviations from a valid encoding. The
/// model itself is written as given (a wildcard topic, QoS 3, a packet
/// identifier on QoS 0 are all written), so only values that cannot be put
/// on the wire at all are refused. In 3.1.1 properties are not written.
pub fn encode_with(
    packet: &Packet,
    version: ProtocolVersion,
    overrides: &Overrides,
    out: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    use bytes::BufMut;
    let ov = overrides;
    check_encodable(packet, version, ov)?;
    // The body is written straight after room for the longest fixed header;
    // once its length is known the header goes in front of it and the gap
    // is closed. On failure `out` is left as it was.
    let start = out.len();
    out.reserve(HEADER_ROOM + 64);
    out.put_bytes(0, HEADER_ROOM);
    let body_start = out.len();
    if let Err(e) = write_body(packet, version, ov, out) {
        out.truncate(start);
        return Err(e);
    }
    if let Some(n) = ov.truncate_body {
        out.truncate(body_start + n.min(out.len() - body_start));
    }
    if let Some(t) = &ov.trailing {
        out.put_slice(t.as_slice());
    }
    let body_len = out.len() - body_start;
    let t = ov.packet_type.unwrap_or(packet.packet_type() as u8);
    let flags = ov.flags.unwrap_or_else(|| packet.wire_flags());
    let first = (t << 4) | flags;
    let length = match (&ov.remaining_length_bytes, ov.remaining_length) {
        (Some(raw), _) => {
            // Raw length bytes may be longer than the room kept for them.
            let body = out.split_off(body_start);
            out.truncate(start);
            out.put_u8(first);
            out.put_slice(raw.as_slice());
            out.put_slice(&body);
            return Ok(());
        }
        (None, Some(n)) => n,
        (None, None) => match u32::try_from(body_len)
            .ok()
            .filter(|n| *n <= primitives::VBI_MAX)
        {
            Some(n) => n,
            None => {
                out.truncate(start);
                return Err(EncodeError(format!(
                    "body of {body_len} bytes is too long for MQTT"
                )));
            }
        },
    };
    // Values above the 4-byte maximum take a fifth byte; room for it is
    // borrowed from the gap, which is then one byte short of HEADER_ROOM.
    let (vbi, n) = primitives::vbi_array(length);
    let hlen = 1 + n;
    if hlen > HEADER_ROOM {
        let body = out.split_off(body_start);
        out.truncate(start);
        out.put_u8(first);
        out.put_slice(&vbi[..n]);
        out.put_slice(&body);
        return Ok(());
    }
    let h = body_start - hlen;
    out[h] = first;
    out[h + 1..body_start].copy_from_slice(&vbi[..n]);
    out.copy_within(h.., start);
    out.truncate(start + hlen + body_len);
    Ok(())
}

/// One type byte and a four-byte Remaining Length.
const HEADER_ROOM: usize = 5;

fn write_body(
    packet: &Packet,
    v: ProtocolVersion,
    ov: &Overrides,
    body: &mut BytesMut,
) -> Result<(), EncodeError> {
    match packet {
        Packet::Connect(p) => p.write(v, ov, body),
        Packet::Connack(p) => p.write(v, ov, body),
        Packet::Publish(p) => p.write(v, ov, body),
        Packet::Puback(p) | Packet::Pubrec(p) | Packet::Pubrel(p) | Packet::Pubcomp(p) => {
            p.write(v, ov, body)
        }
        Packet::Subscribe(p) => p.write(v, ov, body),
        Packet::Suback(p) => p.write(v, ov, body),
        Packet::Unsubscribe(p) => p.write(v, ov, body),
        Packet::Unsuback(p) => p.write(v, ov, body),
        Packet::Pingreq(_) | Packet::Pingresp(_) => Ok(()),
        Packet::Disconnect(p) => p.write(v, ov, body),
        Packet::Auth(p) => p.write(ov, body),
    }
}

/// Refuses models and overrides that have no wire form.
fn check_encodable(p: &Packet, v: ProtocolVersion, ov: &Overrides) -> Result<(), EncodeError> {
    let e = |m: String| Err(EncodeError(m));
    let name = p.packet_type().name();
    if let Some(t) = ov.packet_type.filter(|t| *t > 15) {
        return e(format!("packet_type override {t} does not fit in 4 bits"));
    }
    if let Some(f) = ov.flags.filter(|f| *f > 15) {
        return e(format!("flags override {f} does not fit in 4 bits"));
    }
    if ov.connect_flags.is_some() && !matches!(p, Packet::Connect(_)) {
        return e(format!("connect_flags override on {name}"));
    }
    let has_string = match p {
        Packet::Connect(_) | Packet::Publish(_) => true,
        Packet::Subscribe(s) => !s.filters.is_empty(),
        Packet::Unsubscribe(u) => !u.filters.is_empty(),
        _ => false,
    };
    if ov.string_length.is_some() && !has_string {
        return e(format!(
            "string_length override on {name}, which has no string to apply it to"
        ));
    }
    if ov.extra_properties.is_some() || ov.property_length.is_some() {
        let has_props = v.is_v5() && !matches!(p, Packet::Pingreq(_) | Packet::Pingresp(_));
        if !has_props {
            return e(format!(
                "property overrides on {name} in {v}, which has no property block"
            ));
        }
    }
    let too_big = |what: &str, x: u8, max: u8| {
        if x > max {
            e(format!("{what} {x} does not fit its field (max {max})"))
        } else {
            Ok(())
        }
    };
    match p {
        Packet::Publish(x) => too_big("PUBLISH qos", x.qos, 3)?,
        Packet::Connect(c) => {
            if let Some(w) = &c.will {
                too_big("will qos", w.qos, 3)?;
            }
        }
        Packet::Subscribe(s) => {
            for f in &s.filters {
                too_big("subscription qos", f.qos, 3)?;
                too_big("retain_handling", f.retain_handling, 3)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Packet {
    /// The low four bits of the fixed header for this packet.
    pub fn wire_flags(&self) -> u8 {
        match self {
            Packet::Publish(p) => p.flags(),
            Packet::Pubrel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
