//! Decoding a capture: MQTT packets back to back, as one side of a
//! connection sent them (what `mqttspec decode` reads).

use crate::codec::{decode, DecodeError, Decoded, ErrorKind, FixedHeader, Packet, ProtocolVersion};
use std::fmt::Write as _;

pub use crate::codec::binary::parse_hex;

/// One packet of a capture: its offset and decoding, or the error.
pub type Entry = Result<(usize, Decoded), DecodeError>;

/// One entry per packet in `bytes`: its offset in the capture and what it
/// decoded to, or the error. Error offsets are from the start of the
/// capture, not of the packet.
///
/// A packet whose fixed header frames it but whose body is wrong is reported
/// and skipped, since the next packet still starts at a known place. A
/// broken length field, or a capture that ends inside a packet, ends the
/// list: nothing after it can be framed.
///
/// Packets are decoded by `version` until a CONNECT is seen; from then on the
/// CONNECT's own protocol level applies.
pub fn decode_stream(bytes: &[u8], version: ProtocolVersion) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut v = version;
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let h = match FixedHeader::parse(rest) {
            Ok(h) => h,
            Err(e) => {
                out.push(Err(shift(e, at)));
                break;
            }
        };
        let len = h.packet_len();
        if rest.len() < len {
            out.push(Err(DecodeError {
                kind: ErrorKind::Incomplete,
                offset: bytes.len(),
                field: "packet",
                statement: None,
                message: format!(
                    "the capture ends {} byte(s) into a {len}-byte packet",
                    rest.len()
                ),
            }));
            break;
        }
        match decode(&rest[..len], v) {
            Ok(d) => {
                if let Packet::Connect(c) = &d.packet {
                    if c.protocol_level == 5 {
                        v = ProtocolVersion::V5;
                    } else if c.protocol_level == 4 {
                        v = ProtocolVersion::V3_1_1;
                    }
                }
                out.push(Ok((at, d)));
            }
            Err(e) => out.push(Err(shift(e, at))),
        }
        at += len;
    }
    out
}

/// [`decode_stream`] over hex text (white space ignored).
pub fn decode_hex_stream(text: &str, version: ProtocolVersion) -> Result<Vec<Entry>, String> {
    Ok(decode_stream(&parse_hex(text)?, version))
}

fn shift(mut e: DecodeError, by: usize) -> DecodeError {
    e.offset += by;
    e
}

/// Whether every entry decoded.
pub fn all_well_formed(results: &[Entry]) -> bool {
    results.iter().all(Result::is_ok)
}

/// One line per packet (`@offset PUBLISH ...`), notes indented under it,
/// errors as `@offset error: ...`.
pub fn render(results: &[Entry]) -> String {
    let mut s = String::new();
    for r in results {
        match r {
            Ok((at, d)) => {
                let _ = writeln!(s, "@{at} {}", d.packet);
                for n in &d.notes {
                    let _ = write!(
                        s,
                        "    note at byte {} ({}): {}",
                        at + n.offset,
                        n.field,
                        n.message
                    );
                    if let Some(id) = n.statement {
                        let _ = write!(s, " [{id}]");
                    }
                    s.push('\n');
                }
            }
            Err(e) => {
                let _ = writeln!(s, "error: {e}");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::{V3_1_1, V5};

    #[test]
    fn decodes_back_to_back_and_follows_the_connect() {
        // 5.0 CONNECT, then a 5.0 PUBACK short form, then PINGREQ.
        let r = decode_hex_stream(
            "10 0e 0004 4d515454 05 02 003c 00 0001 61  40 03 0001 10  c0 00",
            V3_1_1,
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        assert!(all_well_formed(&r));
        let offsets: Vec<usize> = r.iter().map(|x| x.as_ref().unwrap().0).collect();
        assert_eq!(offsets, [0, 16, 21]);
        match &r[1].as_ref().unwrap().1.packet {
            Packet::Puback(a) => assert_eq!(a.reason_code, 0x10),
            other => panic!("{other}"),
        }
        let text = render(&r);
        assert!(text.starts_with("@0 CONNECT"), "{text}");
        assert!(
            text.contains("@16 PUBACK id=1 rc=0x10 (No matching subscribers)\n"),
            "{text}"
        );
    }

    #[test]
    fn skips_a_bad_packet_that_is_still_framed() {
        let r = decode_hex_stream("c1 00 c0 00", V5).unwrap();
        assert_eq!(r.len(), 2);
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(
            (e.kind, e.statement),
            (ErrorKind::Malformed, Some("MQTT-2.1.3-1"))
        );
        assert_eq!(r[1].as_ref().unwrap().0, 2);
        assert!(!all_well_formed(&r));
    }

    #[test]
    fn stops_where_framing_breaks() {
        let r = decode_hex_stream("c0 00 30 ff ff ff ff 01 c0 00", V5).unwrap();
        assert_eq!(r.len(), 2);
        let e = r[1].as_ref().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Malformed, 6));
        let r = decode_hex_stream("c0 00 30 05 0003 61", V5).unwrap();
        assert_eq!(r[1].as_ref().unwrap_err().kind, ErrorKind::Incomplete);
    }

    #[test]
    fn error_offsets_count_from_the_capture_start() {
        // The U+0000 sits at byte 5 of the second packet, byte 7 overall.
        let r = decode_hex_stream("c0 00 30 05 0003 610062", V3_1_1).unwrap();
        let e = r[1].as_ref().unwrap_err();
        assert_eq!((e.offset, e.statement), (7, Some("MQTT-1.5.3-2")));
        assert!(render(&r).contains("error: Malformed at byte 7"));
    }

    #[test]
    fn bad_hex_is_reported() {
        assert!(decode_hex_stream("c0 0", V5).is_err());
        assert!(decode_hex_stream("zz", V5).is_err());
        assert_eq!(decode_hex_stream("", V5).unwrap().len(), 0);
    }
}
