//! The shared MQTT codec: the only place in mqttspec that knows MQTT bytes.
//!
//! * [`decode`] is strict and total: any byte string gives a [`Packet`] or a
//!   [`DecodeError`] naming the offset, the field and the violated statement.
//! * [`encode`] writes any model packet; [`encode_with`] applies [`Overrides`]
//!   so scenarios can send deliberately malformed packets.
//! * [`stream::Framer`] cuts whole packets out of a socket buffer and enforces
//!   the maximum packet size before buffering a body.
//!
//! The model types derive serde so scenarios can write packets in YAML and
//! match received packets field by field.

pub mod binary;
pub mod error;
pub mod packet;
pub mod properties;
pub mod version;

pub use binary::Binary;
pub use error::{DecodeError, EncodeError, ErrorKind};
pub use packet::*;
pub use properties::Properties;
pub use version::ProtocolVersion;

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

/// Decodes exactly one whole packet (fixed header included) from `frame`,
/// which must hold nothing after it. A CONNECT is decoded by the protocol
/// level it carries; every other packet by `version`.
pub fn decode(frame: &[u8], version: ProtocolVersion) -> Result<Decoded, DecodeError> {
    let _ = (frame, version);
    Err(DecodeError {
        kind: ErrorKind::Malformed,
        offset: 0,
        field: "packet",
        statement: None,
        message: "decoder not written yet".into(),
    })
}

/// Writes `packet` as valid bytes of `version`.
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    encode_with(packet, version, &Overrides::default(), out)
}

/// Writes `packet` with the given deviations from a valid encoding.
pub fn encode_with(
    packet: &Packet,
    version: ProtocolVersion,
    overrides: &Overrides,
    out: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    let _ = (packet, version, overrides, out);
    Err(EncodeError("encoder not written yet".into()))
}
