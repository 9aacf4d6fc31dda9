//! The scenario's wire log: every packet in both directions with its time,
//! its readable form and its raw bytes, plus events (connect, close,
//! timeouts). Connection tasks write to it as bytes arrive, so the log shows
//! what the peer sent even when no step ever looked at it.
//!
//! A flooding peer cannot make it grow without bound: entries and hex dumps
//! are capped.

use crate::codec::binary::to_hex;
use crate::codec::{DecodeError, Packet};
use crate::outcome::{Direction, Transcript, TranscriptEntry};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Entries kept per scenario; later ones are counted, not stored.
const MAX_ENTRIES: usize = 4000;
/// Bytes shown in hex per entry.
const MAX_HEX_BYTES: usize = 1024;

#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    entries: Vec<TranscriptEntry>,
    dropped: usize,
}

impl Recorder {
    pub fn new(start: Instant) -> Recorder {
        Recorder {
            start,
            inner: Arc::default(),
        }
    }

    pub fn sent(&self, conn: &str, text: String, raw: &[u8]) {
        self.push(conn, Direction::Sent, text, hex(raw));
    }

    pub fn received(&self, conn: &str, packet: &Packet, raw: &[u8]) {
        self.push(conn, Direction::Received, describe(packet), hex(raw));
    }

    /// Bytes that did not decode: the error, and the bytes as they came.
    pub fn malformed(&self, conn: &str, error: &DecodeError, raw: &[u8]) {
        self.push(
            conn,
            Direction::Received,
            format!("malformed: {error}"),
            hex(raw),
        );
    }

    /// Something received that is not an MQTT packet (a WebSocket frame).
    pub fn received_other(&self, conn: &str, text: impl Into<String>, raw: &[u8]) {
        self.push(conn, Direction::Received, text.into(), hex(raw));
    }

    pub fn event(&self, conn: &str, text: impl Into<String>) {
        self.push(conn, Direction::Event, text.into(), String::new());
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    fn push(&self, conn: &str, direction: Direction, text: String, hex: String) {
        let at_ms = self.elapsed_ms();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.entries.len() >= MAX_ENTRIES {
            inner.dropped += 1;
            return;
        }
        inner.entries.push(TranscriptEntry {
            at_ms,
            connection: conn.to_string(),
            direction,
            text,
            hex,
        });
    }

    /// The log so far, in time order.
    pub fn snapshot(&self) -> Transcript {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut entries = inner.entries.clone();
        if inner.dropped > 0 {
            entries.push(TranscriptEntry {
                at_ms: self.elapsed_ms(),
                connection: "-".into(),
                direction: Direction::Event,
                text: format!("{} more entries not kept", inner.dropped),
                hex: String::new(),
            });
        }
        // Connection tasks and steps append concurrently; order by time.
        entries.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        Transcript { entries }
    }
}

/// A packet in one line.
pub fn describe(packet: &Packet) -> String {
    packet.to_string()
}

/// Hex of at most [`MAX_HEX_BYTES`] bytes, noting how many were left out.
pub fn hex(raw: &[u8]) -> String {
    if raw.len() <= MAX_HEX_BYTES {
        to_hex(raw)
    } else {
        format!(
            "{}... (+{} bytes)",
            to_hex(&raw[..MAX_HEX_BYTES]),
            raw.len() - MAX_HEX_BYTES
        )
    }
}
