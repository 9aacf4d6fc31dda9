//! Wire primitives shared by every packet: a bounded reader over one packet
//! and the matching writers (two-byte integers, Variable Byte Integers,
//! UTF-8 strings, binary data).
//!
//! The reader always works on the whole packet so that every error carries
//! the byte offset from the packet's first byte; a `Reader::sub` reader is
//! limited to a length-prefixed part (the body, a property block) and can
//! never read past it.

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::{Note, ProtocolVersion, Sender};
use bytes::{BufMut, Bytes, BytesMut};

/// Largest value a four-byte Variable Byte Integer can hold.
pub const VBI_MAX: u32 = 268_435_455;

/// Picks the statement ID of the version being decoded.
pub(crate) fn sid(
    v: ProtocolVersion,
    v311: Option<&'static str>,
    v5: Option<&'static str>,
) -> Option<&'static str> {
    if v.is_v5() {
        v5
    } else {
        v311
    }
}

/// A cursor over `frame[pos..end]`. `owner`, when present, is the same frame
/// as a [`Bytes`], so binary fields are sliced out of it instead of copied.
pub(crate) struct Reader<'a, 'n> {
    frame: &'a [u8],
    owner: Option<&'a Bytes>,
    pos: usize,
    end: usize,
    pub version: ProtocolVersion,
    /// Who sent the packet, when known; enables the checks that depend on it.
    pub sender: Option<Sender>,
    notes: &'n mut Vec<Note>,
}

impl<'a, 'n> Reader<'a, 'n> {
    pub fn new(
        frame: &'a [u8],
        owner: Option<&'a Bytes>,
        pos: usize,
        end: usize,
        version: ProtocolVersion,
        notes: &'n mut Vec<Note>,
    ) -> Self {
        debug_assert!(pos <= end && end <= frame.len());
        Reader {
            frame,
            owner,
            pos,
            end,
            version,
            sender: None,
            notes,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// An error at the current position.
    pub fn err(
        &self,
        kind: ErrorKind,
        field: &'static str,
        statement: Option<&'static str>,
        message: impl Into<String>,
    ) -> DecodeError {
        self.err_at(self.pos, kind, field, statement, message)
    }

    pub fn err_at(
        &self,
        offset: usize,
        kind: ErrorKind,
        field: &'static str,
        statement: Option<&'static str>,
        message: impl Into<String>,
    ) -> DecodeError {
        DecodeError {
            kind,
            offset,
            field,
            statement,
            message: message.into(),
        }
    }

    /// Picks the statement ID of the version being decoded.
    pub fn sid(
        &self,
        v311: Option<&'static str>,
        v5: Option<&'static str>,
    ) -> Option<&'static str> {
        sid(self.version, v311, v5)
    }

    pub fn note(
        &mut self,
        offset: usize,
        field: &'static str,
        statement: Option<&'static str>,
        message: impl Into<String>,
    ) {
        self.notes.push(Note {
            offset,
            field,
            statement,
            message: message.into(),
        });
    }

    fn short(&self, field: &'static str, need: usize) -> DecodeError {
        self.err(
            ErrorKind::Malformed,
            field,
            None,
            format!(
                "needs {need} byte(s) but only {} remain in the packet",
                self.remaining()
            ),
        )
    }

    /// The unread bytes, without consuming them.
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.frame[self.pos..self.end]
    }

    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.short(field, n));
        }
        let s = &self.frame[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        if self.pos >= self.end {
            return Err(self.short(field, 1));
        }
        let b = self.frame[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let s = self.take(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let s = self.take(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// A Variable Byte Integer inside the body (property lengths, property
    /// identifiers, Subscription Identifiers). 5.0 requires the shortest
    /// encoding [MQTT-1.5.5-1].
    pub fn vbi(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        match parse_vbi(&self.frame[self.pos..self.end]) {
            VbiParse::Value { value, len } => {
                self.pos += len;
                if len > vbi_len(value) {
                    if self.version.is_v5() {
                        return Err(self.err_at(
                            start,
                            ErrorKind::Malformed,
                            field,
                            Some("MQTT-1.5.5-1"),
                            format!(
                                "value {value} is encoded in {len} bytes instead of {}",
                                vbi_len(value)
                            ),
                        ));
                    }
                    self.note(
                        start,
                        field,
                        None,
                        "non-minimal Variable Byte Integer encoding",
                    );
                }
                Ok(value)
            }
            VbiParse::Incomplete => Err(self.err(
                ErrorKind::Malformed,
                field,
                None,
                "Variable Byte Integer runs past the end of its field",
            )),
            VbiParse::TooLong => Err(self.err(
                ErrorKind::Malformed,
                field,
                None,
                "Variable Byte Integer longer than 4 bytes",
            )),
        }
    }

    /// A bounded reader over the next `n` bytes; this reader skips past them.
    pub fn sub(&mut self, n: usize, field: &'static str) -> Result<Reader<'a, '_>, DecodeError> {
        if self.remaining() < n {
            return Err(self.err(
                ErrorKind::Malformed,
                field,
                None,
                format!(
                    "claims {n} byte(s) but only {} remain in the packet",
                    self.remaining()
                ),
            ));
        }
        let start = self.pos;
        self.pos += n;
        Ok(Reader {
            frame: self.frame,
            owner: self.owner,
            pos: start,
            end: start + n,
            version: self.version,
            sender: self.sender,
            notes: self.notes,
        })
    }

    /// Fails unless every byte of this reader has been consumed.
    pub fn finish(
        &self,
        field: &'static str,
        statement: Option<&'static str>,
    ) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(
                ErrorKind::Malformed,
                field,
                statement,
                format!("{} unexpected byte(s) at the end", self.remaining()),
            ))
        }
    }

    /// The rest of this reader as owned bytes (a slice of the frame when the
    /// frame is a `Bytes`).
    pub fn rest_bytes(&mut self) -> Bytes {
        let (s, e) = (self.pos, self.end);
        self.pos = e;
        self.bytes_range(s, e)
    }

    fn bytes_range(&self, s: usize, e: usize) -> Bytes {
        match self.owner {
            Some(b) => b.slice(s..e),
            None => Bytes::copy_from_slice(&self.frame[s..e]),
        }
    }

    /// Two-byte length followed by that many bytes.
    pub fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let n = self.u16(field)? as usize;
        if self.remaining() < n {
            return Err(self.err(
                ErrorKind::Malformed,
                field,
                None,
                format!(
                    "length prefix claims {n} byte(s) but only {} remain",
                    self.remaining()
                ),
            ));
        }
        let s = self.pos;
        self.pos += n;
        Ok(self.bytes_range(s, s + n))
    }

    /// A UTF-8 Encoded String, checked against 1.5.3 (3.1.1) / 1.5.4 (5.0).
    pub fn str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.u16(field)? as usize;
        if self.remaining() < n {
            return Err(self.err(
                ErrorKind::Malformed,
                field,
                None,
                format!(
                    "length prefix claims {n} byte(s) but only {} remain",
                    self.remaining()
                ),
            ));
        }
        let start = self.pos;
        let raw = &self.frame[start..start + n];
        self.pos += n;
        self.check_utf8(raw, start, field)
    }

    pub fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.str(field).map(str::to_owned)
    }

    fn check_utf8(
        &mut self,
        raw: &'a [u8],
        start: usize,
        field: &'static str,
    ) -> Result<&'a str, DecodeError> {
        let s = match std::str::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => {
                // Rust's validator rejects overlong forms and surrogates, which
                // is exactly the well-formedness the spec asks for.
                return Err(self.err_at(
                    start + e.valid_up_to(),
                    ErrorKind::Malformed,
                    field,
                    self.sid(Some("MQTT-1.5.3-1"), Some("MQTT-1.5.4-1")),
                    "ill-formed UTF-8",
                ));
            }
        };
        // Fast path: printable ASCII needs no further checks.
        if raw.iter().all(|&b| (0x20..0x7f).contains(&b)) {
            return Ok(s);
        }
        if let Some(i) = raw.iter().position(|&b| b == 0) {
            return Err(self.err_at(
                start + i,
                ErrorKind::Malformed,
                field,
                self.sid(Some("MQTT-1.5.3-2"), Some("MQTT-1.5.4-2")),
                "contains U+0000",
            ));
        }
        for (i, c) in s.char_indices() {
            let cp = c as u32;
            if (0x01..=0x1f).contains(&cp) || (0x7f..=0x9f).contains(&cp) {
                self.note(
                    start + i,
                    field,
                    None,
                    format!("contains control character U+{cp:04X} (should not be sent)"),
                );
            } else if is_noncharacter(cp) {
                self.note(
                    start + i,
                    field,
                    None,
                    format!("contains non-character U+{cp:04X} (should not be sent)"),
                );
            }
        }
        Ok(s)
    }
}

fn is_noncharacter(cp: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&cp) || (cp & 0xfffe) == 0xfffe
}

/// Result of reading a Variable Byte Integer from the front of a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VbiParse {
    /// `len` bytes hold `value`.
    Value { value: u32, len: usize },
    /// The slice ends before the last byte.
    Incomplete,
    /// The fourth byte still has its continuation bit set.
    TooLong,
}

pub(crate) fn parse_vbi(b: &[u8]) -> VbiParse {
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = b.get(i) else {
            return VbiParse::Incomplete;
        };
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return VbiParse::Value { value, len: i + 1 };
        }
    }
    VbiParse::TooLong
}

/// Bytes the shortest encoding of `v` takes.
pub fn vbi_len(v: u32) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes `v` as a Variable Byte Integer. Values above [`VBI_MAX`] get a
/// fifth byte: never valid, but useful to write on purpose.
pub fn put_vbi(out: &mut BytesMut, mut v: u32) {
    loop {
        let mut byte = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if v == 0 {
            break;
        }
    }
}

/// `v` as a Variable Byte Integer in a fixed array: (bytes, length used).
/// Like [`put_vbi`], values above [`VBI_MAX`] take five bytes.
pub fn vbi_array(mut v: u32) -> ([u8; 5], usize) {
    let mut a = [0u8; 5];
    let mut n = 0;
    loop {
        let mut byte = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        a[n] = byte;
        n += 1;
        if v == 0 {
            return (a, n);
        }
    }
}

pub fn put_str(out: &mut BytesMut, s: &str, field: &str) -> Result<(), EncodeError> {
    put_bin(out, s.as_bytes(), field)
}

pub fn put_bin(out: &mut BytesMut, b: &[u8], field: &str) -> Result<(), EncodeError> {
    let n = u16::try_from(b.len())
        .map_err(|_| EncodeError(format!("{field} is {} bytes; at most 65535 fit", b.len())))?;
    out.put_u16(n);
    out.put_slice(b);
    Ok(())
}

/// A string whose length prefix may be overridden (negative tests).
pub fn put_str_claiming(
    out: &mut BytesMut,
    s: &str,
    claim: Option<u16>,
    field: &str,
) -> Result<(), EncodeError> {
    match claim {
        Some(n) => {
            out.put_u16(n);
            out.put_slice(s.as_bytes());
            Ok(())
        }
        None => put_str(out, s, field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vbi_boundaries_round_trip() {
        for v in [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, VBI_MAX] {
            let mut b = BytesMut::new();
            put_vbi(&mut b, v);
            assert_eq!(b.len(), vbi_len(v));
            assert_eq!(
                parse_vbi(&b),
                VbiParse::Value {
                    value: v,
                    len: b.len()
                }
            );
        }
    }

    #[test]
    fn vbi_five_bytes_is_too_long() {
        assert_eq!(
            parse_vbi(&[0xff, 0xff, 0xff, 0xff, 0x7f]),
            VbiParse::TooLong
        );
        assert_eq!(parse_vbi(&[0xff, 0xff]), VbiParse::Incomplete);
        assert_eq!(parse_vbi(&[]), VbiParse::Incomplete);
    }
}
