//! The WebSocket transport (RFC 6455), client side: the HTTP/1.1 upgrade,
//! and the frame codec that turns binary frames into the byte stream the
//! MQTT framer reads and MQTT bytes into masked frames.
//!
//! Hostile input stays bounded: the handshake answer is read up to a fixed
//! size, and a frame whose length claim exceeds the limit is an error before
//! any of its payload is buffered.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

/// Appended to the key before hashing (RFC 6455 section 1.3).
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The subprotocol an MQTT server must select (MQTT-6.0.0-4).
pub const SUBPROTOCOL: &str = "mqtt";
/// Largest handshake answer read; a longer one is an error.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// `ws://HOST:PORT/PATH` split into what the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketUrl {
    /// `HOST:PORT`, to connect to and for the Host header.
    pub authority: String,
    /// Starts with `/`.
    pub path: String,
}

impl WebSocketUrl {
    /// `ws://HOST:PORT[/PATH]`; the path defaults to `/mqtt`.
    pub fn parse(s: &str) -> Result<WebSocketUrl, String> {
        let rest = s
            .strip_prefix("ws://")
            .ok_or_else(|| format!("`{s}`: expected ws://HOST:PORT/PATH (wss is not supported)"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/mqtt"),
        };
        let bad = || format!("`{s}`: expected ws://HOST:PORT/PATH with a port from 1 to 65535");
        let (host, port) = authority.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || !matches!(port.parse::<u16>(), Ok(p) if p != 0) {
            return Err(bad());
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`{s}`: the path may not contain spaces"));
        }
        Ok(WebSocketUrl {
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }
}

impl fmt::Display for WebSocketUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ws://{}{}", self.authority, self.path)
    }
}

// ---- handshake -------------------------------------------------------------

/// What the server answered to the upgrade request.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// The request as sent, for the transcript.
    pub request: String,
    /// The response's status line and headers, for the transcript.
    pub response: String,
    /// The subprotocol the server selected, if any.
    pub subprotocol: Option<String>,
    /// Bytes after the response head: the first frames.
    pub leftover: BytesMut,
}

/// Sends the upgrade request offering subprotocol `mqtt` and checks the
/// answer: status 101 and the right Sec-WebSocket-Accept. Which subprotocol
/// the server selected is left to the caller to judge. The error text says
/// what went wrong; the request is logged by the caller before.
pub async fn handshake(
    stream: &mut TcpStream,
    url: &WebSocketUrl,
    within: Duration,
    on_request: impl FnOnce(&str),
) -> Result<Upgrade, String> {
    let until = tokio::time::Instant::now() + within;
    let key = base64(&random_bytes::<16>());
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n",
        url.path, url.authority
    );
    on_request(&request);
    match timeout_at(until, stream.write_all(request.as_bytes())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("cannot send the upgrade request: {e}")),
        Err(_) => return Err(format!("cannot send the upgrade request within {within:?}")),
    }
    let mut buf = BytesMut::with_capacity(1024);
    let head_len = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_RESPONSE_HEAD {
            return Err(format!(
                "the upgrade response has no end of headers within {MAX_RESPONSE_HEAD} bytes"
            ));
        }
        buf.reserve(1024);
        match timeout_at(until, stream.read_buf(&mut buf)).await {
            Ok(Ok(0)) => {
                return Err(format!(
                    "the server closed the connection during the upgrade (received: {:?})",
                    String::from_utf8_lossy(&buf)
                ))
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("the upgrade failed: {e}")),
            Err(_) => {
                return Err(format!(
                    "no complete upgrade response within {within:?} (received: {:?})",
                    String::from_utf8_lossy(&buf)
                ))
            }
        }
    };
    let head = buf.split_to(head_len);
    let response = String::from_utf8_lossy(&head).to_string();
    let parsed = parse_response(&response, &key)?;
    Ok(Upgrade {
        request,
        response,
        subprotocol: parsed,
        leftover: buf,
    })
}

/// Checks status and accept key; returns the selected subprotocol.
fn parse_response(head: &str, key: &str) -> Result<Option<String>, String> {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.1 ") || code != "101" {
        return Err(format!(
            "the server did not switch to WebSocket: `{}`",
            status.trim()
        ));
    }
    let mut accept = None;
    let mut protocol = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "sec-websocket-accept" => accept = Some(value.to_string()),
            "sec-websocket-protocol" => protocol = Some(value.to_string()),
            _ => {}
        }
    }
    let want = accept_key(key);
    match accept {
        Some(a) if a == want => Ok(protocol),
        Some(a) => Err(format!(
            "wrong Sec-WebSocket-Accept `{a}` (expected `{want}`)"
        )),
        None => Err("the upgrade response has no Sec-WebSocket-Accept".into()),
    }
}

/// The Sec-WebSocket-Accept a server must return for `key`.
pub fn accept_key(key: &str) -> String {
    let mut input = key.as_bytes().to_vec();
    input.extend_from_slice(ACCEPT_GUID.as_bytes());
    base64(&sha1(&input))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---- frames ------------------------------------------------------------------

/// One frame as received (payload already unmasked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Bytes,
}

/// Appends one frame. Client frames carry a mask (RFC 6455 section 5.3).
pub fn encode_frame(
    fin: bool,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    out: &mut BytesMut,
) {
    out.put_u8(if fin { 0x80 } else { 0 } | (opcode & 0x0f));
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.put_u8(m | n as u8),
        n if n <= u16::MAX as usize => {
            out.put_u8(m | 126);
            out.put_u16(n as u16);
        }
        n => {
            out.put_u8(m | 127);
            out.put_u64(n as u64);
        }
    }
    match mask {
        Some(key) => {
            out.put_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.put_slice(payload),
    }
}

/// `payload` as client frames of `opcode`, cut at `splits` (offsets into
/// the payload, increasing): the first frame has the opcode, the others
/// are continuations, the last has FIN.
pub fn encode_message(opcode: u8, payload: &[u8], splits: &[usize]) -> BytesMut {
    let mut out = BytesMut::with_capacity(payload.len() + 14 * (splits.len() + 1));
    let mut start = 0;
    let ends = splits
        .iter()
        .copied()
        .filter(|&s| s > 0 && s < payload.len())
        .chain(std::iter::once(payload.len()));
    let mut first = true;
    let mut ends = ends.peekable();
    while let Some(end) = ends.next() {
        let op = if first { opcode } else { OP_CONTINUATION };
        let fin = ends.peek().is_none();
        encode_frame(
            fin,
            op,
            &payload[start..end],
            Some(random_bytes::<4>()),
            &mut out,
        );
        start = end;
        first = false;
    }
    out
}

/// The peer broke the framing; the stream cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Cuts server frames out of the received bytes.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_payload: usize,
}

impl FrameDecoder {
    pub fn new(max_payload: usize) -> FrameDecoder {
        FrameDecoder { max_payload }
    }

    /// The next whole frame, `None` when more bytes are needed. A length
    /// claim above the limit is an error at once, before the payload.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        if b0 & 0x70 != 0 {
            return Err(FrameError(format!(
                "reserved bits set in frame header 0x{b0:02x} with no extension negotiated"
            )));
        }
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        if !matches!(
            opcode,
            OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
        ) {
            return Err(FrameError(format!("unknown opcode 0x{opcode:x}")));
        }
        let masked = b1 & 0x80 != 0;
        let (len, header) = match b1 & 0x7f {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                let n = u64::from_be_bytes(b);
                if n >> 63 != 0 {
                    return Err(FrameError(format!(
                        "frame length 0x{n:x} has its top bit set"
                    )));
                }
                (n, 10)
            }
            n => (n as u64, 2),
        };
        if opcode >= OP_CLOSE {
            if !fin {
                return Err(FrameError(format!(
                    "fragmented control frame (opcode 0x{opcode:x})"
                )));
            }
            if len > 125 {
                return Err(FrameError(format!(
                    "control frame (opcode 0x{opcode:x}) with a {len}-byte payload (at most 125)"
                )));
            }
        }
        // A server never masks its frames (RFC 6455 section 5.1).
        if masked {
            return Err(FrameError("masked frame from the server".into()));
        }
        if len > self.max_payload as u64 {
            return Err(FrameError(format!(
                "frame payload of {len} bytes exceeds the limit of {} bytes",
                self.max_payload
            )));
        }
        let total = header + len as usize;
        if buf.len() < total {
            return Ok(None);
        }
        buf.advance(header);
        let payload = buf.split_to(len as usize).freeze();
        Ok(Some(Frame {
            fin,
            opcode,
            payload,
        }))
    }
}

/// What a frame means once messages are put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Bytes of a binary message: part of the MQTT stream.
    Binary(Bytes),
    /// Bytes of a text message (not MQTT: MQTT-6.0.0-1).
    Text(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    /// The close status code, if one was given, and the reason.
    Close(Option<u16>, String),
}

/// Tracks fragmented messages: which data opcode the continuations belong to.
#[derive(Debug, Clone, Default)]
pub struct Assembler {
    /// The opcode of the message whose continuations are still to come.
    open: Option<u8>,
}

impl Assembler {
    pub fn accept(&mut self, frame: Frame) -> Result<Incoming, FrameError> {
        let data = |op: u8, p: Bytes| {
            if op == OP_TEXT {
                Incoming::Text(p)
            } else {
                Incoming::Binary(p)
            }
        };
        match frame.opcode {
            OP_TEXT | OP_BINARY => {
                if self.open.is_some() {
                    return Err(FrameError(
                        "a new data frame before the previous message's final continuation".into(),
                    ));
                }
                if !frame.fin {
                    self.open = Some(frame.opcode);
                }
                Ok(data(frame.opcode, frame.payload))
            }
            OP_CONTINUATION => {
                let Some(op) = self.open else {
                    return Err(FrameError(
                        "a continuation frame with no message to continue".into(),
                    ));
                };
                if frame.fin {
                    self.open = None;
                }
                Ok(data(op, frame.payload))
            }
            OP_PING => Ok(Incoming::Ping(frame.payload)),
            OP_PONG => Ok(Incoming::Pong(frame.payload)),
            _ => {
                let p = frame.payload;
                if p.len() == 1 {
                    return Err(FrameError("close frame with a 1-byte payload".into()));
                }
                let code = (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
                let reason = String::from_utf8_lossy(p.get(2..).unwrap_or_default()).to_string();
                Ok(Incoming::Close(code, reason))
            }
        }
    }
}

/// The payload of a close frame with `code`.
pub fn close_payload(code: Option<u16>) -> Vec<u8> {
    code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default()
}

// ---- small primitives ----------------------------------------------------------

/// Unpredictable enough for keys and masks; not for secrets.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4), only for the accept key.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server frame (unmasked) for the decoder.
    fn server(fin: bool, op: u8, payload: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        encode_frame(fin, op, payload, None, &mut b);
        b
    }

    /// Unmasks a client frame the way a server would.
    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        assert_eq!(frame[1] & 0x80, 0x80, "client frames are masked");
        let (len, at) = match frame[1] & 0x7f {
            126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let key = &frame[at..at + 4];
        let body = &frame[at + 4..at + 4 + len];
        assert_eq!(frame.len(), at + 4 + len);
        (
            frame[0],
            body.iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect(),
        )
    }

    #[test]
    fn sha1_and_base64_known_answers() {
        assert_eq!(
            base64(&sha1(b"abc")),
            base64(&[
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ])
        );
        assert_eq!(base64(&sha1(b"")), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
        // Two blocks of padding.
        assert_eq!(base64(&sha1(&[b'a'; 64])), "AJi6gktcFkJ716ESKlpEKiXsZE0=");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        // The example of RFC 6455 section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn client_frames_are_masked_with_each_length_form() {
        for (n, len_byte, header) in [
            (0, 0, 2),
            (125, 125, 2),
            (126, 126, 4),
            (65535, 126, 4),
            (65536, 127, 10),
        ] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let out = encode_message(OP_BINARY, &payload, &[]);
            assert_eq!(out[1], 0x80 | len_byte, "length {n}");
            assert_eq!(out.len(), header + 4 + n, "length {n}");
            let (b0, body) = unmask(&out);
            assert_eq!(b0, 0x82);
            assert_eq!(body, payload, "length {n}");
        }
    }

    #[test]
    fn decoder_reads_each_length_form_and_waits_for_bytes() {
        let d = FrameDecoder::new(1 << 20);
        for n in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![0x5a; n];
            let whole = server(true, OP_BINARY, &payload);
            // Byte by byte for small frames, in two halves for big ones.
            let mut buf = BytesMut::new();
            let cut = if n < 200 { 1 } else { whole.len() / 2 };
            let mut got = None;
            for piece in whole.chunks(cut) {
                assert!(got.is_none());
                buf.extend_from_slice(piece);
                got = d.next_frame(&mut buf).unwrap();
            }
            let f = got.expect("a whole frame");
            assert_eq!((f.fin, f.opcode, f.payload.len()), (true, OP_BINARY, n));
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn decoder_rejects_bad_frames_before_their_payload() {
        let d = FrameDecoder::new(1000);
        // A 2^40-byte claim with no payload: refused from the header alone.
        let mut huge = BytesMut::from(&[0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0][..]);
        assert!(d.next_frame(&mut huge).unwrap_err().0.contains("exceeds"));
        let mut top = BytesMut::from(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1][..]);
        assert!(d.next_frame(&mut top).is_err());
        let mut over = server(true, OP_BINARY, &[0; 1001]);
        assert!(d.next_frame(&mut over).is_err());
        let mut masked = BytesMut::from(&[0x82, 0x81, 1, 2, 3, 4, 5][..]);
        assert!(d.next_frame(&mut masked).unwrap_err().0.contains("masked"));
        let mut rsv = BytesMut::from(&[0xc2, 0][..]);
        assert!(d.next_frame(&mut rsv).is_err());
        let mut op = BytesMut::from(&[0x83, 0][..]);
        assert!(d.next_frame(&mut op).is_err());
        let mut frag_ping = server(false, OP_PING, b"x");
        assert!(d.next_frame(&mut frag_ping).is_err());
        let mut long_ping = server(true, OP_PING, &[0; 126]);
        assert!(d.next_frame(&mut long_ping).is_err());
    }

    #[test]
    fn fragments_reassemble_with_control_frames_between() {
        let d = FrameDecoder::new(1 << 20);
        let mut buf = BytesMut::new();
        buf.extend(server(false, OP_BINARY, b"\x10\x0c"));
        buf.extend(server(true, OP_PING, b"hi"));
        buf.extend(server(false, OP_CONTINUATION, b"\x00\x04MQTT"));
        buf.extend(server(true, OP_PONG, b""));
        buf.extend(server(true, OP_CONTINUATION, b"\x04\x02\x00\x3c\x00\x00"));
        buf.extend(server(true, OP_TEXT, b"{}"));
        buf.extend(server(true, OP_CLOSE, b"\x03\xe8bye"));
        let mut a = Assembler::default();
        let mut stream = Vec::new();
        let mut others = Vec::new();
        while let Some(f) = d.next_frame(&mut buf).unwrap() {
            match a.accept(f).unwrap() {
                Incoming::Binary(b) => stream.extend_from_slice(&b),
                other => others.push(other),
            }
        }
        assert_eq!(stream, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
        assert_eq!(
            others,
            vec![
                Incoming::Ping(Bytes::from_static(b"hi")),
                Incoming::Pong(Bytes::new()),
                Incoming::Text(Bytes::from_static(b"{}")),
                Incoming::Close(Some(1000), "bye".into()),
            ]
        );
    }

    #[test]
    fn assembler_rejects_broken_fragmentation() {
        let mut a = Assembler::default();
        let cont = |fin| Frame {
            fin,
            opcode: OP_CONTINUATION,
            payload: Bytes::new(),
        };
        let data = |fin, opcode| Frame {
            fin,
            opcode,
            payload: Bytes::new(),
        };
        assert!(a.accept(cont(true)).is_err());
        assert!(a.accept(data(false, OP_TEXT)).is_ok());
        assert_eq!(a.accept(cont(true)), Ok(Incoming::Text(Bytes::new())));
        assert!(a.accept(data(false, OP_BINARY)).is_ok());
        assert!(a.accept(data(true, OP_BINARY)).is_err());
    }

    #[test]
    fn messages_split_at_offsets() {
        let payload: Vec<u8> = (0..10).collect();
        let out = encode_message(OP_BINARY, &payload, &[3, 7]);
        let mut at = 0;
        let mut parts = Vec::new();
        while at < out.len() {
            let len = (out[at + 1] & 0x7f) as usize;
            let (b0, body) = unmask(&out[at..at + 6 + len]);
            parts.push((b0, body));
            at += 6 + len;
        }
        assert_eq!(
            parts,
            vec![
                (0x02, vec![0, 1, 2]),
                (0x00, vec![3, 4, 5, 6]),
                (0x80, vec![7, 8, 9]),
            ]
        );
        // One text frame.
        let (b0, body) = unmask(&encode_message(OP_TEXT, b"ab", &[]));
        assert_eq!((b0, body), (0x81, b"ab".to_vec()));
    }

    #[test]
    fn response_checks() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
        assert_eq!(parse_response(ok, key), Ok(Some("mqtt".into())));
        let none = ok.replace("Sec-WebSocket-Protocol: mqtt\r\n", "");
        assert_eq!(parse_response(&none, key), Ok(None));
        assert!(parse_response(&ok.replace("s3pP", "x3pP"), key).is_err());
        assert!(parse_response("HTTP/1.1 400 Bad Request\r\n\r\n", key).is_err());
        assert_eq!(
            WebSocketUrl::parse("ws://127.0.0.1:8080/mqtt"),
            Ok(WebSocketUrl {
                authority: "127.0.0.1:8080".into(),
                path: "/mqtt".into()
            })
        );
        assert_eq!(WebSocketUrl::parse("ws://h:1").unwrap().path, "/mqtt");
        for bad in ["wss://h:1/", "ws://h/", "ws://:1/", "ws://h:0/", "h:1"] {
            assert!(WebSocketUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
