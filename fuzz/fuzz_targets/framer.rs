//! Framing must not depend on how the stream is cut into reads: feeding the
//! input in random chunks yields exactly the frames (and the same final
//! state) as feeding it at once. Every frame is one whole packet within the
//! size limit, and decoding it never panics.
//!
//! Input layout: byte 0 picks the maximum packet size, bytes 1-2 seed the
//! chunk sizes, the rest is the stream.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use mqttspec::codec::{self, DecodeError, Framer, ProtocolVersion};
use mqttspec_fuzz::hex;

/// What feeding a stream to a framer produced.
#[derive(Debug)]
struct Outcome {
    frames: Vec<Bytes>,
    error: Option<DecodeError>,
    /// Bytes still buffered at the end (only meaningful without an error).
    rest: BytesMut,
}

fn max_packet_size(selector: u8) -> usize {
    let low = (selector & 0x3f) as usize;
    match selector >> 6 {
        0 => low,
        1 => 64 + (low << 4),
        // The largest packet MQTT can express: 5-byte fixed header + 268,435,455.
        2 => 268_435_460,
        _ => usize::MAX,
    }
}

/// Drains every frame the buffer holds; `Err` once the stream is corrupt.
fn drain(
    framer: &mut Framer,
    buf: &mut BytesMut,
    frames: &mut Vec<Bytes>,
) -> Result<(), DecodeError> {
    while let Some(frame) = framer.next_frame(buf)? {
        frames.push(frame);
    }
    Ok(())
}

fn feed(stream: &[u8], max: usize, mut chunk_len: impl FnMut() -> usize) -> Outcome {
    let mut framer = Framer::new(max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        let end = (pos + chunk_len()).min(stream.len());
        buf.extend_from_slice(&stream[pos..end]);
        pos = end;
        if let Err(e) = drain(&mut framer, &mut buf, &mut frames) {
            return Outcome {
                frames,
                error: Some(e),
                rest: buf,
            };
        }
    }
    Outcome {
        frames,
        error: None,
        rest: buf,
    }
}

/// Total length of the packet `frame` starts with, read independently of the
/// codec: type byte + Remaining Length (at most 4 bytes) + that many bytes.
fn packet_len(frame: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for (i, &b) in frame.iter().skip(1).take(4).enumerate() {
        value |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Some(1 + i + 1 + value);
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let max = max_packet_size(data[0]);
    let mut state = u32::from(u16::from_le_bytes([data[1], data[2]])) | 0x1_0000;
    let stream = &data[3..];

    let whole = feed(stream, max, || stream.len().max(1));
    let chunked = feed(stream, max, || {
        // xorshift32: mostly small reads, now and then a large one.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        if state % 8 == 0 {
            1 + (state >> 8) as usize % 512
        } else {
            1 + (state >> 8) as usize % 8
        }
    });

    assert_eq!(
        whole.frames,
        chunked.frames,
        "chunking changed the frames\nstream: {}",
        hex(stream)
    );
    match (&whole.error, &chunked.error) {
        (None, None) => assert_eq!(
            whole.rest, chunked.rest,
            "chunking changed the leftover bytes"
        ),
        (Some(a), Some(b)) => assert_eq!(a.kind, b.kind, "chunking changed the error: {a} vs {b}"),
        (a, b) => panic!(
            "chunking changed the outcome: {a:?} vs {b:?}\nstream: {}",
            hex(stream)
        ),
    }

    let framed: Vec<u8> = whole
        .frames
        .iter()
        .flat_map(|f| f.iter().copied())
        .collect();
    assert!(
        stream.starts_with(&framed),
        "frames are not the stream's leading bytes"
    );

    for frame in &whole.frames {
        assert_eq!(
            packet_len(frame),
            Some(frame.len()),
            "not one whole packet: {}",
            hex(frame)
        );
        assert!(
            frame.len() <= max,
            "{}-byte frame over the {max}-byte limit",
            frame.len()
        );
        let _ = codec::decode(frame, ProtocolVersion::V3_1_1);
        let _ = codec::decode(frame, ProtocolVersion::V5);
    }
});
