use std::fmt;

/// How bad a decoding failure is. The layering follows what a receiver must
/// do: wait for more bytes, or treat the packet as malformed / a protocol error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not enough bytes yet; not an error on a stream.
    Incomplete,
    /// The bytes do not form a valid packet (5.0 reason code 0x81).
    Malformed,
    /// Well-formed but forbidden by the protocol (5.0 reason code 0x82).
    ProtocolError,
    /// Larger than the configured maximum packet size (0x95).
    TooLarge,
    /// A protocol name/level this codec only recognises (e.g. 3.1) (0x84).
    UnsupportedVersion,
}

/// A decoding failure: what is wrong, where, and which normative statement
/// (of the version being decoded) it violates, where the spec gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: ErrorKind,
    /// Byte offset from the start of the packet (the fixed header's first byte).
    pub offset: usize,
    /// The field being read, e.g. "connect flags" or "topic name".
    pub field: &'static str,
    /// The statement ID, e.g. `MQTT-3.1.2-3`.
    pub statement: Option<&'static str>,
    pub message: String,
}

impl DecodeError {
    /// The 5.0 reason code a receiver would send for this error.
    pub fn reason_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Incomplete | ErrorKind::Malformed => 0x81,
            ErrorKind::ProtocolError => 0x82,
            ErrorKind::TooLarge => 0x95,
            ErrorKind::UnsupportedVersion => 0x84,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} at byte {} ({}): {}",
            self.kind, self.offset, self.field, self.message
        )?;
        if let Some(id) = self.statement {
            write!(f, " [{id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

/// The model cannot be written (e.g. a value out of range for its field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}
