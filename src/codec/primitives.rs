//! Wire primitives shared by every packet: a bounded reader over one packet
//! and the matching writers (two-byte integers, Variable Byte Integers,
//! UTF-8 strings, binary data).
//!
//! The reader always works on the whole packet so that every error carries
//! the byte offset from the packet's first byte; a `Reader::sub` reader is
//! limited to a length-prefixed part (the body, a property block) and can
//! never read past it. Everything it returns borrows from the packet.

use crate::codec::error::{DecodeError, EncodeError, ErrorKind};
use crate::codec::{Note, ProtocolVersion, Sender};
use bytes::{BufMut, BytesMut};

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

/// A cursor over `frame[pos..end]`.
pub(crate) struct Reader<'a, 'n> {
    frame: &'a [u8],
    pos: usize,
    end: usize,
    pub version: ProtocolVersion,
    /// Who sent the packet, when known; enables the checks that depend on it.
    pub sender: Option<Sender>,
    /// Where notes go; `None` drops them.
    notes: Option<&'n mut Vec<Note>>,
}

impl<'a, 'n> Reader<'a, 'n> {
    pub fn new(
        frame: &'a [u8],
        pos: usize,
        end: usize,
        version: ProtocolVersion,
        notes: Option<&'n mut Vec<Note>>,
    ) -> Self {
        debug_assert!(pos <= end && end <= frame.len());
        Reader {
            frame,
            pos,
            end,
            version,
            sender: None,
            notes,
        }
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    #[inline]
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

    #[cold]
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
    #[inline]
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
        if let Some(notes) = self.notes.as_deref_mut() {
            notes.push(Note {
                offset,
                field,
                statement,
                message: message.into(),
            });
        }
    }

    #[cold]
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
    #[inline]
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.frame[self.pos..self.end]
    }

    #[inline]
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.short(field, n));
        }
        let s = &self.frame[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        if self.pos >= self.end {
            return Err(self.short(field, 1));
        }
        let b = self.frame[self.pos];
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let s = self.take(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    #[inline]
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
            pos: start,
            end: start + n,
            version: self.version,
            sender: self.sender,
            notes: self.notes.as_deref_mut(),
        })
    }

    /// Fails unless every byte of this reader has been consumed.
    #[inline]
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

    /// The rest of this reader.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.frame[self.pos..self.end];
        self.pos = self.end;
        s
    }

    /// Two-byte length followed by that many bytes.
    #[inline]
    pub fn binary(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(field)? as usize;
        self.prefixed(n, field)
    }

    /// The `n` bytes a length prefix announced.
    #[inline]
    fn prefixed(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
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
        let s = &self.frame[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A UTF-8 Encoded String, checked against 1.5.3 (3.1.1) / 1.5.4 (5.0).
    pub fn str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.u16(field)? as usize;
        let start = self.pos;
        let raw = self.prefixed(n, field)?;
        if let Some(s) = printable_ascii(raw, false) {
            return Ok(s);
        }
        self.check_utf8(raw, start, field)
    }

    /// A Topic Name (PUBLISH): a string as [`Reader::str`], then the topic
    /// syntax [MQTT-3.3.2-2]; a syntax error is a Protocol Error pointing
    /// at the offending character. Checked in that order, so the error a
    /// packet gets does not depend on which path found it.
    #[inline]
    pub fn topic_name(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let at = self.pos;
        let n = self.u16(field)? as usize;
        let raw = self.prefixed(n, field)?;
        // One pass rules out everything that needs a closer look: bytes
        // outside printable ASCII (ill-formed UTF-8, U+0000, characters
        // worth a note) and the wildcards.
        if let Some(s) = printable_ascii(raw, true) {
            return Ok(s);
        }
        let s = self.check_utf8(raw, at + 2, field)?;
        if let Err(e) = crate::codec::topic::check_topic_name(s, self.version) {
            return Err(self.err_at(
                at + 2 + e.index,
                ErrorKind::ProtocolError,
                field,
                e.statement,
                e.message,
            ));
        }
        Ok(s)
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

/// `raw` as a string when every byte is printable ASCII (U+0020..U+007E),
/// and not a Topic Name wildcard (`+`, `#`) if `no_wildcards`: such a string
/// needs no check beyond its length. `None` means "look closer", not
/// "invalid".
///
/// The loop has no early exit so that it vectorises; the strings it sees
/// are short.
#[inline(always)]
fn printable_ascii(raw: &[u8], no_wildcards: bool) -> Option<&str> {
    // 0x00 is outside the printable range already.
    let (x, y) = if no_wildcards { (b'+', b'#') } else { (0, 0) };
    let bad = raw.iter().fold(false, |bad, &b| {
        bad | (b.wrapping_sub(0x20) > 0x5e) | (b == x) | (b == y)
    });
    if bad {
        return None;
    }
    debug_assert!(std::str::from_utf8(raw).is_ok());
    // SAFETY: every byte of `raw` was just checked to lie in 0x20..=0x7E;
    // ASCII bytes are valid UTF-8 on their own. (`str::from_utf8` would
    // check that again, byte by byte for a short unaligned string: about a
    // third of the time it takes to decode a PUBLISH.)
    Some(unsafe { std::str::from_utf8_unchecked(raw) })
}

fn is_noncharacter(cp: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&cp) || (cp & 0xfffe) == 0xfffe
}

/// Structural reads over checked bytes; `None` only past the end.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a>(pub &'a [u8]);

impl<'a> Cursor<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn bin(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bin()?).ok()
    }
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
    fn printable_ascii_takes_exactly_the_printable_bytes() {
        for b in 0..=255u8 {
            let printable = (0x20..=0x7e).contains(&b);
            let raw = [b'a', b, b'z'];
            assert_eq!(
                printable_ascii(&raw, false).is_some(),
                printable,
                "{b:#04x}"
            );
            let wildcard = b == b'+' || b == b'#';
            assert_eq!(
                printable_ascii(&raw, true).is_some(),
                printable && !wildcard,
                "{b:#04x}"
            );
        }
        // Every length the vectorised loop splits differently.
        for n in 0..70 {
            let raw: Vec<u8> = (0..n).map(|i| b' ' + (i % 95) as u8).collect();
            assert_eq!(
                printable_ascii(&raw, false).map(str::as_bytes),
                Some(&raw[..])
            );
            for i in 0..n {
                let mut bad = raw.clone();
                bad[i] = 0x80;
                assert_eq!(printable_ascii(&bad, false), None, "{n} {i}");
            }
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
