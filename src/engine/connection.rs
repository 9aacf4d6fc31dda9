//! One TCP connection to the peer, in either role. A task owns the reading
//! half from the moment the connection exists, cuts the byte stream into
//! packets with the codec's framer and hands them over as events, so
//! nothing the peer sends is lost between steps. The write half stays with
//! the engine.
//!
//! Memory stays bounded whatever the peer does: the framer rejects a length
//! claim above the maximum packet size before buffering the body, the event
//! channel is bounded (a full channel stops reading, which pushes back on
//! the peer through TCP), and a corrupt stream is discarded, not kept.

use super::transcript::Recorder;
use crate::codec::{self, DecodeError, Framer, Packet, ProtocolVersion};
use crate::outcome::Note;
use bytes::{Bytes, BytesMut};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

/// Events waiting for a step; more stop the reader until one is taken.
const EVENT_QUEUE: usize = 64;
/// How much of a corrupt stream is kept as evidence.
const CORRUPT_EVIDENCE: usize = 256;
/// How long a connection we closed is still read, so our close is a FIN
/// and the peer's last bytes are logged.
const DRAIN_FOR: Duration = Duration::from_secs(5);

/// Something that happened on the connection, in arrival order.
#[derive(Debug, Clone)]
pub enum Event {
    /// A whole packet that decoded.
    Packet {
        packet: Box<Packet>,
        raw: Bytes,
        /// SHOULD-level observations of the codec.
        notes: Vec<Note>,
    },
    /// A packet (or the stream) that did not decode, with the bytes.
    Malformed { error: DecodeError, raw: Bytes },
    /// The peer closed the connection; no event follows.
    Closed(Close),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Close {
    /// An orderly end of stream.
    Fin,
    /// A connection reset.
    Reset,
    /// Another read error.
    Error(String),
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Close::Fin => f.write_str("connection closed by the peer (FIN)"),
            Close::Reset => f.write_str("connection reset by the peer (RST)"),
            Close::Error(e) => write!(f, "connection failed: {e}"),
        }
    }
}

impl Event {
    /// One line for messages: the packet, the decode error or the close.
    pub fn describe(&self) -> String {
        match self {
            Event::Packet { packet, .. } => super::transcript::describe(packet),
            Event::Malformed { error, raw } => {
                format!(
                    "malformed bytes ({error}) [{}]",
                    super::transcript::hex(raw)
                )
            }
            Event::Closed(c) => c.to_string(),
        }
    }
}

/// The engine's side of a connection.
pub struct Connection {
    pub name: String,
    writer: Option<OwnedWriteHalf>,
    events: mpsc::Receiver<Event>,
    reader: JoinHandle<()>,
    /// How the connection ended, once the engine has seen it end.
    pub closed: Option<Close>,
    /// Next packet identifier to assign on this connection.
    next_packet_id: u16,
}

impl Connection {
    /// Takes over `stream` and starts reading it at once.
    pub fn start(
        name: &str,
        stream: TcpStream,
        version: ProtocolVersion,
        max_packet_size: usize,
        log: Recorder,
    ) -> Connection {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let reader = tokio::spawn(read_loop(
            rd,
            version,
            Framer::new(max_packet_size),
            tx,
            log,
            name.to_string(),
        ));
        Connection {
            name: name.to_string(),
            writer: Some(wr),
            events: rx,
            reader,
            closed: None,
            next_packet_id: 1,
        }
    }

    /// The next event, or `None` when nothing arrived within `wait`. Once
    /// the connection has ended, every call returns how it ended.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        if let Some(c) = &self.closed {
            return Some(Event::Closed(c.clone()));
        }
        match timeout(wait, self.events.recv()).await {
            Ok(ev) => Some(self.seen(ev)),
            Err(_) => None,
        }
    }

    /// For waiting on several connections at once.
    pub fn poll_event(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Event> {
        if let Some(c) = &self.closed {
            return std::task::Poll::Ready(Event::Closed(c.clone()));
        }
        self.events.poll_recv(cx).map(|ev| self.seen(ev))
    }

    fn seen(&mut self, ev: Option<Event>) -> Event {
        // The reader ends without a Closed event only when we stopped it.
        let ev = ev.unwrap_or(Event::Closed(Close::Error("closed by mqttspec".into())));
        if let Event::Closed(c) = &ev {
            self.closed = Some(c.clone());
        }
        ev
    }

    /// The next packet identifier: 1, 2, ... 65535, then 1 again (0 is not a valid identifier).
    pub fn take_packet_id(&mut self) -> u16 {
        let id = self.next_packet_id;
        self.next_packet_id = if id == u16::MAX { 1 } else { id + 1 };
        id
    }

    /// Whether we can still write (we have not closed our side).
    pub fn is_writable(&self) -> bool {
        self.writer.is_some()
    }

    /// Writes all of `bytes` within `wait`.
    pub async fn write(&mut self, bytes: &[u8], wait: Duration) -> io::Result<()> {
        let Some(w) = self.writer.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "this connection was closed by the scenario",
            ));
        };
        match timeout(wait, w.write_all(bytes)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer did not take the bytes within {wait:?}"),
            )),
        }
    }

    /// Ends our side with a FIN. The reader goes on, so the peer's answer
    /// (its close) is still seen and unread bytes never turn our close into
    /// a reset.
    pub async fn close(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = timeout(Duration::from_secs(1), w.shutdown()).await;
        }
    }

    /// Ends the connection with a reset (SO_LINGER 0, then close).
    pub fn reset(&mut self) {
        if let Some(w) = self.writer.take() {
            let _ = w.as_ref().set_zero_linger();
            drop(w);
        }
        // Dropping the read half too closes the socket.
        self.reader.abort();
        self.closed
            .get_or_insert(Close::Error("reset by mqttspec".into()));
    }
}

async fn read_loop(
    mut rd: OwnedReadHalf,
    version: ProtocolVersion,
    mut framer: Framer,
    tx: mpsc::Sender<Event>,
    log: Recorder,
    name: String,
) {
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut corrupt = false;
    let mut draining = false;
    let mut drain_until: Option<Instant> = None;
    let close = loop {
        if !corrupt {
            loop {
                let ev = match framer.next_frame(&mut buf) {
                    Ok(Some(frame)) => match codec::decode(&frame, version) {
                        Ok(decoded) => {
                            log.received(&name, &decoded.packet, &frame);
                            Event::Packet {
                                packet: Box::new(decoded.packet),
                                raw: frame,
                                notes: decoded
                                    .notes
                                    .into_iter()
                                    .map(|n| Note {
                                        statement: n.statement.map(str::to_string),
                                        message: format!(
                                            "{} at byte {}: {}",
                                            n.field, n.offset, n.message
                                        ),
                                    })
                                    .collect(),
                            }
                        }
                        Err(error) => {
                            log.malformed(&name, &error, &frame);
                            Event::Malformed { error, raw: frame }
                        }
                    },
                    Ok(None) => break,
                    Err(error) => {
                        // The stream cannot be resynchronised: keep a little
                        // evidence and throw away everything after it.
                        let keep = buf.len().min(CORRUPT_EVIDENCE);
                        let raw = buf.split_to(keep).freeze();
                        buf.clear();
                        corrupt = true;
                        log.malformed(&name, &error, &raw);
                        Event::Malformed { error, raw }
                    }
                };
                if !draining && tx.send(ev).await.is_err() {
                    draining = true;
                }
                if corrupt {
                    break;
                }
            }
        }
        if corrupt {
            buf.clear();
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(8 * 1024);
        }
        let read = if draining || tx.is_closed() {
            draining = true;
            let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN_FOR);
            match timeout_at(until, rd.read_buf(&mut buf)).await {
                Ok(r) => r,
                Err(_) => return,
            }
        } else {
            tokio::select! {
                r = rd.read_buf(&mut buf) => r,
                // The engine let go of the connection: stop waiting for it
                // to consume events and only drain.
                _ = tx.closed() => { draining = true; continue; }
            }
        };
        match read {
            Ok(0) => break Close::Fin,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break Close::Reset,
            Err(e) => break Close::Error(e.to_string()),
        }
    };
    log.event(&name, close.to_string());
    if !draining {
        let _ = tx.send(Event::Closed(close)).await;
    }
}
