//! One connection to the peer, in either role, over TCP or WebSocket. A
//! task owns the reading half from the moment the connection exists, cuts
//! the byte stream into packets with the codec's framer and hands them over
//! as events, so nothing the peer sends is lost between steps. The engine
//! writes; on WebSocket the reader also answers pings and close frames.
//!
//! Memory stays bounded whatever the peer does: the framer rejects a length
//! claim above the maximum packet size before buffering the body, the event
//! channel is bounded (a full channel stops reading, which pushes back on
//! the peer through TCP), and a corrupt stream is discarded, not kept.

use super::state::ProtocolState;
use super::transcript::Recorder;
use super::websocket::{self, Assembler, FrameDecoder, Incoming};
use crate::codec::{self, DecodeError, DecodeOptions, Framer, Packet, ProtocolVersion, Sender};
use crate::outcome::Note;
pub use crate::scenario::Transport;
use bytes::{Bytes, BytesMut};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

/// Events waiting for a step; more stop the reader until one is taken.
const EVENT_QUEUE: usize = 64;
/// How much of a corrupt stream is kept as evidence.
const CORRUPT_EVIDENCE: usize = 256;
/// How long a connection we closed is still read, so our close is a FIN
/// and the peer's last bytes are logged.
const DRAIN_FOR: Duration = Duration::from_secs(5);
/// How long answering a ping or a close may block the reader.
const CONTROL_WRITE: Duration = Duration::from_secs(1);
/// Normal closure (RFC 6455 section 7.4.1).
const CLOSE_NORMAL: u16 = 1000;

/// The write half, shared with the reader on WebSocket (pongs, close
/// replies). `None` once we closed our side.
type Writer = Arc<Mutex<Option<OwnedWriteHalf>>>;

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
    /// WebSocket only: a frame that breaks the framing rules or carries no
    /// MQTT bytes (a text frame), with its payload.
    Transport { error: String, raw: Bytes },
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
            Event::Transport { error, raw } => {
                format!("WebSocket: {error} [{}]", super::transcript::hex(raw))
            }
            Event::Closed(c) => c.to_string(),
        }
    }
}

/// Who the peer is: the version spoken and the side it plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub version: ProtocolVersion,
    pub side: Sender,
}

/// The engine's side of a connection.
pub struct Connection {
    pub name: String,
    pub transport: Transport,
    writer: Writer,
    /// WebSocket: a close frame went out (ours or the answer to the peer's);
    /// a second one is never sent.
    close_sent: Arc<AtomicBool>,
    /// Whether the scenario may still write (it has not closed our side).
    writable: bool,
    events: mpsc::Receiver<Event>,
    reader: JoinHandle<()>,
    /// How the connection ended, once the engine has seen it end.
    pub closed: Option<Close>,
    /// Next packet identifier to assign on this connection.
    next_packet_id: u16,
    /// Topic aliases, announced limits and packets in flight. The reader
    /// applies each packet as it arrives; the engine applies what it sends
    /// before writing it, so a packet that crossed ours is never blamed.
    state: SharedState,
}

type SharedState = Arc<std::sync::Mutex<ProtocolState>>;

impl Connection {
    /// Takes over `stream` and starts reading it at once.
    pub fn start(
        name: &str,
        stream: TcpStream,
        peer: Peer,
        max_packet_size: usize,
        log: Recorder,
    ) -> Connection {
        Self::start_on(name, stream, None, peer, max_packet_size, log)
    }

    /// Takes over a stream whose WebSocket upgrade is done; `leftover` are
    /// the bytes that came after the upgrade response.
    pub fn start_websocket(
        name: &str,
        stream: TcpStream,
        leftover: BytesMut,
        peer: Peer,
        max_packet_size: usize,
        log: Recorder,
    ) -> Connection {
        Self::start_on(name, stream, Some(leftover), peer, max_packet_size, log)
    }

    fn start_on(
        name: &str,
        stream: TcpStream,
        websocket: Option<BytesMut>,
        peer: Peer,
        max_packet_size: usize,
        log: Recorder,
    ) -> Connection {
        let Peer { version, side } = peer;
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let writer: Writer = Arc::new(Mutex::new(Some(wr)));
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let transport = match websocket {
            Some(_) => Transport::WebSocket,
            None => Transport::Tcp,
        };
        let close_sent = Arc::new(AtomicBool::new(false));
        let ws = websocket.map(|raw| WsReader {
            raw,
            // A frame may carry a whole packet plus the start of the next.
            decoder: FrameDecoder::new(max_packet_size.saturating_add(8)),
            assembler: Assembler::default(),
            writer: writer.clone(),
            close_sent: close_sent.clone(),
        });
        let state: SharedState = Arc::new(std::sync::Mutex::new(ProtocolState::new(version, side)));
        let sink = Sink {
            state: state.clone(),
            tx,
            log,
            name: name.to_string(),
            version,
            options: DecodeOptions { sender: Some(side) },
            framer: Framer::new(max_packet_size),
            draining: false,
            corrupt: false,
        };
        let reader = tokio::spawn(read_loop(rd, ws, sink));
        Connection {
            name: name.to_string(),
            transport,
            writer,
            close_sent,
            writable: true,
            events: rx,
            reader,
            closed: None,
            next_packet_id: 1,
            state,
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

    /// Applies a packet we are about to send to the connection's state.
    pub fn sending(&self, packet: &Packet) {
        lock(&self.state).sent(packet);
    }

    /// A copy of the connection's protocol state.
    pub fn state(&self) -> ProtocolState {
        lock(&self.state).clone()
    }

    /// The next packet identifier: 1, 2, ... 65535, then 1 again (0 is not a valid identifier).
    pub fn take_packet_id(&mut self) -> u16 {
        let id = self.next_packet_id;
        self.next_packet_id = if id == u16::MAX { 1 } else { id + 1 };
        id
    }

    /// Whether we can still write (we have not closed our side).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Writes all of `bytes` within `wait`; on WebSocket as one binary frame.
    pub async fn write(&mut self, bytes: &[u8], wait: Duration) -> io::Result<()> {
        match self.transport {
            Transport::Tcp => self.write_raw(bytes, wait).await,
            Transport::WebSocket => {
                let frames = websocket::encode_message(websocket::OP_BINARY, bytes, &[]);
                self.write_raw(&frames, wait).await
            }
        }
    }

    /// WebSocket only: writes `bytes` as a message of `opcode`, cut into
    /// frames at `splits`.
    pub async fn write_frames(
        &mut self,
        bytes: &[u8],
        opcode: u8,
        splits: &[usize],
        wait: Duration,
    ) -> io::Result<()> {
        if self.transport != Transport::WebSocket {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "WebSocket frames on a TCP connection",
            ));
        }
        let frames = websocket::encode_message(opcode, bytes, splits);
        self.write_raw(&frames, wait).await
    }

    async fn write_raw(&mut self, bytes: &[u8], wait: Duration) -> io::Result<()> {
        if !self.writable {
            return Err(not_connected());
        }
        let written = timeout(wait, async {
            let mut w = self.writer.lock().await;
            match w.as_mut() {
                Some(w) => w.write_all(bytes).await,
                None => Err(not_connected()),
            }
        })
        .await;
        match written {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer did not take the bytes within {wait:?}"),
            )),
        }
    }

    /// Ends our side with a FIN (on WebSocket after a close frame). The
    /// reader goes on, so the peer's answer (its close) is still seen and
    /// unread bytes never turn our close into a reset.
    pub async fn close(&mut self) {
        self.writable = false;
        let _ = timeout(Duration::from_secs(1), async {
            let mut w = self.writer.lock().await;
            if let Some(mut wr) = w.take() {
                if self.transport == Transport::WebSocket
                    && !self.close_sent.swap(true, Ordering::SeqCst)
                {
                    let payload = websocket::close_payload(Some(CLOSE_NORMAL));
                    let frame = websocket::encode_message(websocket::OP_CLOSE, &payload, &[]);
                    let _ = wr.write_all(&frame).await;
                }
                let _ = wr.shutdown().await;
            }
        })
        .await;
    }

    /// Ends the connection with a reset (SO_LINGER 0, then close).
    pub async fn reset(&mut self) {
        self.writable = false;
        // The reader may hold the writer for a moment (a pong); stop it first.
        self.reader.abort();
        if let Ok(mut w) = timeout(CONTROL_WRITE, self.writer.lock()).await {
            if let Some(w) = w.take() {
                let _ = w.as_ref().set_zero_linger();
                drop(w);
            }
        }
        self.closed
            .get_or_insert(Close::Error("reset by mqttspec".into()));
    }
}

/// The state is only held for a moment and never across an await; a
/// panic while holding it leaves a state that is still usable.
fn lock(state: &SharedState) -> std::sync::MutexGuard<'_, ProtocolState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_connected() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "this connection was closed by the scenario",
    )
}

/// Where the reader puts what it found: packets through the framer, then
/// events to the engine (or only the transcript once the engine let go).
struct Sink {
    tx: mpsc::Sender<Event>,
    log: Recorder,
    name: String,
    version: ProtocolVersion,
    /// The sender is known, so rules that bind only one side apply.
    options: DecodeOptions,
    state: SharedState,
    framer: Framer,
    /// The engine stopped taking events: only log.
    draining: bool,
    /// The stream broke: nothing after it is read as packets.
    corrupt: bool,
}

impl Sink {
    /// Decodes a frame and applies it to the connection's state.
    fn decode(&self, frame: &[u8]) -> Result<codec::Decoded, DecodeError> {
        let mut decoded = codec::decode_with(frame, self.version, &self.options)?;
        lock(&self.state).received(&mut decoded.packet, frame.len())?;
        Ok(decoded)
    }

    async fn emit(&mut self, ev: Event) {
        if !self.draining && self.tx.send(ev).await.is_err() {
            self.draining = true;
        }
    }

    /// Every whole packet in `buf`, as events.
    async fn packets(&mut self, buf: &mut BytesMut) {
        while !self.corrupt {
            let ev = match self.framer.next_frame(buf) {
                Ok(Some(frame)) => match self.decode(&frame) {
                    Ok(decoded) => {
                        self.log.received(&self.name, &decoded.packet, &frame);
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
                        self.log.malformed(&self.name, &error, &frame);
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
                    self.corrupt = true;
                    self.log.malformed(&self.name, &error, &raw);
                    Event::Malformed { error, raw }
                }
            };
            self.emit(ev).await;
        }
        if self.corrupt {
            buf.clear();
        }
    }
}

/// The WebSocket layer of a reader.
struct WsReader {
    /// Received bytes not yet cut into frames.
    raw: BytesMut,
    decoder: FrameDecoder,
    assembler: Assembler,
    writer: Writer,
    /// Shared with [`Connection::close_sent`].
    close_sent: Arc<AtomicBool>,
}

impl WsReader {
    /// Cuts whole frames out of `raw`: binary bytes go to the MQTT stream
    /// `buf` (and on to the framer), the rest is answered or reported.
    async fn frames(&mut self, buf: &mut BytesMut, sink: &mut Sink) {
        while !sink.corrupt {
            let frame = match self.decoder.next_frame(&mut self.raw) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let keep = self.raw.len().min(CORRUPT_EVIDENCE);
                    let raw = self.raw.split_to(keep).freeze();
                    self.broken(e.0, raw, sink).await;
                    break;
                }
            };
            let opcode = frame.opcode;
            let raw = frame.payload.clone();
            match self.assembler.accept(frame) {
                Ok(Incoming::Binary(bytes)) => {
                    buf.extend_from_slice(&bytes);
                    sink.packets(buf).await;
                }
                Ok(Incoming::Text(bytes)) => {
                    // MQTT packets travel in binary frames only (MQTT-6.0.0-1).
                    let error = format!(
                        "a {} frame with {} bytes; MQTT packets travel in binary frames (MQTT-6.0.0-1)",
                        if opcode == websocket::OP_TEXT { "text" } else { "text continuation" },
                        bytes.len()
                    );
                    sink.log.received_other(&sink.name, error.clone(), &bytes);
                    sink.emit(Event::Transport { error, raw: bytes }).await;
                }
                Ok(Incoming::Ping(p)) => {
                    sink.log.received_other(&sink.name, "WebSocket ping", &p);
                    if !self.close_sent.load(Ordering::SeqCst) {
                        let pong = websocket::encode_message(websocket::OP_PONG, &p, &[]);
                        self.write(&pong).await;
                        sink.log.event(&sink.name, "answered with a WebSocket pong");
                    }
                }
                Ok(Incoming::Pong(p)) => {
                    sink.log.received_other(&sink.name, "WebSocket pong", &p);
                }
                Ok(Incoming::Close(code, reason)) => {
                    let text = match code {
                        Some(c) => format!("WebSocket close frame, status {c} {reason:?}"),
                        None => "WebSocket close frame without a status".to_string(),
                    };
                    sink.log.received_other(&sink.name, text, &raw);
                    // Echo the close; the server then ends the TCP connection.
                    if !self.close_sent.swap(true, Ordering::SeqCst) {
                        let payload = websocket::close_payload(code.map(|_| CLOSE_NORMAL));
                        let frame = websocket::encode_message(websocket::OP_CLOSE, &payload, &[]);
                        self.write(&frame).await;
                        sink.log
                            .event(&sink.name, "answered with a WebSocket close frame");
                    }
                }
                Err(e) => self.broken(e.0, raw, sink).await,
            }
        }
        if sink.corrupt {
            self.raw.clear();
        }
    }

    async fn broken(&mut self, error: String, raw: Bytes, sink: &mut Sink) {
        sink.corrupt = true;
        self.raw.clear();
        let error = format!("broken framing: {error}");
        sink.log
            .received_other(&sink.name, format!("WebSocket {error}"), &raw);
        sink.emit(Event::Transport { error, raw }).await;
    }

    /// A control answer; best effort, bounded in time.
    async fn write(&self, bytes: &[u8]) {
        let _ = timeout(CONTROL_WRITE, async {
            if let Some(w) = self.writer.lock().await.as_mut() {
                let _ = w.write_all(bytes).await;
            }
        })
        .await;
    }
}

async fn read_loop(mut rd: OwnedReadHalf, mut ws: Option<WsReader>, mut sink: Sink) {
    // The MQTT byte stream (on WebSocket: the binary payloads).
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut drain_until: Option<Instant> = None;
    // Bytes that came with the upgrade response.
    if let Some(w) = ws.as_mut() {
        w.frames(&mut buf, &mut sink).await;
    }
    let close = loop {
        sink.packets(&mut buf).await;
        let target = match ws.as_mut() {
            Some(w) => &mut w.raw,
            None => &mut buf,
        };
        if sink.corrupt {
            target.clear();
        }
        if target.capacity() - target.len() < 4096 {
            target.reserve(8 * 1024);
        }
        let read = if sink.draining || sink.tx.is_closed() {
            sink.draining = true;
            let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN_FOR);
            match timeout_at(until, rd.read_buf(target)).await {
                Ok(r) => r,
                Err(_) => return,
            }
        } else {
            tokio::select! {
                r = rd.read_buf(target) => r,
                // The engine let go of the connection: stop waiting for it
                // to consume events and only drain.
                _ = sink.tx.closed() => { sink.draining = true; continue; }
            }
        };
        match read {
            Ok(0) => break Close::Fin,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break Close::Reset,
            Err(e) => break Close::Error(e.to_string()),
        }
        if let Some(w) = ws.as_mut() {
            w.frames(&mut buf, &mut sink).await;
        }
    };
    sink.log.event(&sink.name, close.to_string());
    if !sink.draining {
        let _ = sink.tx.send(Event::Closed(close)).await;
    }
}
