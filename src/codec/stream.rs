//! Incremental framing over a socket buffer.

use crate::codec::{DecodeError, ErrorKind, FixedHeader};
use bytes::{Bytes, BytesMut};

/// Cuts whole packets out of a growing buffer. The maximum packet size is
/// checked as soon as the fixed header is readable, before the body is
/// buffered, so a peer claiming 256 MB never makes us allocate it.
///
/// The framer only reads the fixed header; the packet itself is checked by
/// [`crate::codec::decode_ref`] (or [`crate::codec::decode`]).
#[derive(Debug, Clone)]
pub struct Framer {
    pub max_packet_size: usize,
}

impl Framer {
    pub fn new(max_packet_size: usize) -> Self {
        Framer { max_packet_size }
    }

    /// `Ok(Some(frame))`: one whole packet (fixed header included) removed
    /// from `buf`. `Ok(None)`: need more bytes. `Err`: the stream is corrupt
    /// (bad remaining length, or too large) and cannot be resynchronised.
    ///
    /// Never reserves space on the strength of a length claim: the buffer
    /// only grows as bytes actually arrive.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        Ok(self.next_frame_len(buf)?.map(|n| buf.split_to(n).freeze()))
    }

    /// The borrowed form of [`Framer::next_frame`]: `Ok(Some(n))` when
    /// `buf[..n]` is one whole packet, which is left in place.
    #[inline]
    pub fn next_frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        // No fixed header fits in fewer than two bytes.
        if buf.len() < 2 {
            return Ok(None);
        }
        let h = match FixedHeader::parse(buf) {
            Ok(h) => h,
            Err(e) if e.kind == ErrorKind::Incomplete => return Ok(None),
            Err(e) => return Err(e),
        };
        let total = h.packet_len();
        if total > self.max_packet_size {
            return Err(too_large(total, self.max_packet_size));
        }
        Ok((buf.len() >= total).then_some(total))
    }
}

#[cold]
fn too_large(total: usize, max: usize) -> DecodeError {
    DecodeError {
        kind: ErrorKind::TooLarge,
        offset: 1,
        field: "remaining length",
        statement: None,
        message: format!("a {total}-byte packet exceeds the maximum packet size of {max}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_back_to_back_packets() {
        let mut f = Framer::new(1024);
        let mut buf = BytesMut::from(&[0xc0, 0x00, 0x40, 0x02, 0x00][..]);
        assert_eq!(
            f.next_frame(&mut buf).unwrap().unwrap().as_ref(),
            &[0xc0, 0x00]
        );
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[0x01]);
        assert_eq!(
            f.next_frame(&mut buf).unwrap().unwrap().as_ref(),
            &[0x40, 0x02, 0x00, 0x01]
        );
        assert!(buf.is_empty());
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
    }

    #[test]
    fn frame_len_leaves_the_buffer_alone() {
        let f = Framer::new(1024);
        let buf = [0xc0, 0x00, 0x40, 0x02, 0x00, 0x01];
        assert_eq!(f.next_frame_len(&buf), Ok(Some(2)));
        assert_eq!(f.next_frame_len(&buf[2..]), Ok(Some(4)));
        assert_eq!(f.next_frame_len(&buf[2..5]), Ok(None));
        assert_eq!(f.next_frame_len(&buf[..1]), Ok(None));
        assert_eq!(f.next_frame_len(&[]), Ok(None));
        let huge = [0x30, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(
            f.next_frame_len(&huge).unwrap_err().kind,
            ErrorKind::TooLarge
        );
    }

    #[test]
    fn rejects_huge_claim_before_the_body_arrives() {
        let mut f = Framer::new(1024);
        // PUBLISH claiming 268,435,455 bytes; only the header is here.
        let mut buf = BytesMut::from(&[0x30, 0xff, 0xff, 0xff, 0x7f][..]);
        let cap = buf.capacity();
        let e = f.next_frame(&mut buf).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert_eq!(buf.capacity(), cap);
    }

    #[test]
    fn rejects_five_byte_length_field() {
        let mut f = Framer::new(usize::MAX);
        let mut buf = BytesMut::from(&[0x30, 0x80, 0x80, 0x80, 0x80, 0x01][..]);
        assert_eq!(
            f.next_frame(&mut buf).unwrap_err().kind,
            ErrorKind::Malformed
        );
        // Known as soon as the fourth length byte has its continuation bit.
        let mut buf = BytesMut::from(&[0x30, 0x80, 0x80, 0x80, 0x80][..]);
        assert_eq!(
            f.next_frame(&mut buf).unwrap_err().kind,
            ErrorKind::Malformed
        );
        let mut buf = BytesMut::from(&[0x30, 0x80, 0x80, 0x80][..]);
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
    }

    #[test]
    fn max_counts_the_whole_packet() {
        let mut f = Framer::new(4);
        let mut buf = BytesMut::from(&[0x40, 0x02, 0x00, 0x01][..]);
        assert!(f.next_frame(&mut buf).unwrap().is_some());
        let mut buf = BytesMut::from(&[0x40, 0x03][..]);
        assert_eq!(
            f.next_frame(&mut buf).unwrap_err().kind,
            ErrorKind::TooLarge
        );
    }
}
