use crate::codec::Binary;
use serde::{Deserialize, Serialize};

/// Deliberate deviations from a valid encoding, for negative tests. Every
/// field left out means "encode normally".
///
/// The body is built first (with `connect_flags`, `string_length`,
/// `extra_properties` and `property_length` applied), then cut to
/// `truncate_body`, then `trailing` is appended; the Remaining Length is the
/// length of that result unless `remaining_length(_bytes)` says otherwise.
/// An override that has nothing to apply to (e.g. `connect_flags` on a
/// PUBLISH, property overrides in 3.1.1) is refused by the encoder rather than
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    /// The 4-bit packet type written in the fixed header.
    pub packet_type: Option<u8>,
    /// The low 4 bits of the fixed header (reserved flags, or DUP/QoS/RETAIN).
    pub flags: Option<u8>,
    /// The Remaining Length value to claim, whatever the body's real length.
    pub remaining_length: Option<u32>,
    /// Raw bytes to write as the Remaining Length field (e.g. a non-minimal
    /// encoding); takes precedence over `remaining_length`.
    pub remaining_length_bytes: Option<Binary>,
    /// The CONNECT flags byte.
    pub connect_flags: Option<u8>,
    /// The 16-bit length prefix written before the first string field of the
    /// packet (protocol name in CONNECT, topic in PUBLISH, first Topic Filter
    /// in SUBSCRIBE and UNSUBSCRIBE); the string's bytes are written as they are.
    pub string_length: Option<u16>,
    /// Raw property bytes appended to the packet's property block (5.0), for
    /// duplicate or disallowed properties; the property length is adjusted.
    /// In CONNECT this is the main block, not the Will Properties. A 5.0
    /// acknowledgement, DISCONNECT or AUTH is then written in its full form.
    pub extra_properties: Option<Binary>,
    /// The Property Length value to claim, whatever the block's real length.
    pub property_length: Option<u32>,
    /// Bytes appended after the body (the remaining length includes them
    /// unless `remaining_length` is given).
    pub trailing: Option<Binary>,
    /// Keep only this many bytes of the body.
    pub truncate_body: Option<usize>,
}
