//! Plays one session against the broker over plain TCP, as fast as the
//! broker answers: no reader tasks, no transcript; the bytes each way are
//! kept for the oracles.

use super::oracle::Plan;
use super::session::{Op, Session, MAX_CONNS};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

/// Most bytes kept from the broker per connection.
const MAX_RECEIVED: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Deadline of a TCP connect.
    pub connect: Duration,
    /// Deadline of one write.
    pub write: Duration,
    /// After the last write, a connection with nothing to judge is read
    /// until it has been quiet this long.
    pub settle: Duration,
    /// How long a connection that must be closed may stay open.
    pub close_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect: Duration::from_secs(2),
            write: Duration::from_secs(2),
            settle: Duration::from_millis(5),
            close_wait: Duration::from_millis(100),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Fin,
    Reset,
}

#[derive(Debug, Clone, Default)]
pub struct ConnObs {
    /// Bytes written on the connection.
    pub written: usize,
    pub received: Vec<u8>,
    /// (bytes written, bytes received) after each write.
    pub progress: Vec<(usize, usize)>,
    pub closed: Option<Closed>,
    /// How long the end of the session waited on this connection.
    pub waited: Duration,
}

impl ConnObs {
    /// How many bytes had arrived by the time `written` bytes were sent.
    pub fn received_when(&self, written: usize) -> usize {
        self.progress
            .iter()
            .find(|(w, _)| *w >= written)
            .map_or(self.received.len(), |(_, r)| *r)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub conns: Vec<ConnObs>,
    /// A connection could not be opened.
    pub unreachable: Option<String>,
    /// A write did not complete in time (the broker stopped reading).
    pub stuck: bool,
}

impl Observation {
    /// Worth a liveness probe.
    pub fn suspicious(&self) -> bool {
        self.stuck || self.unreachable.is_some()
    }
}

fn read_into(o: &mut ConnObs, chunk: &[u8]) {
    let room = MAX_RECEIVED.saturating_sub(o.received.len());
    o.received
        .extend_from_slice(&chunk[..chunk.len().min(room)]);
}

/// Takes what has already arrived without waiting.
fn drain(stream: &TcpStream, o: &mut ConnObs) {
    let mut buf = [0u8; 4096];
    while o.closed.is_none() {
        match stream.try_read(&mut buf) {
            Ok(0) => o.closed = Some(Closed::Fin),
            Ok(n) => read_into(o, &buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => o.closed = Some(Closed::Reset),
        }
    }
}

/// Reads until the peer closes, `quiet` passes without data, or `until`.
async fn read_until(stream: &mut TcpStream, o: &mut ConnObs, quiet: Duration, until: Instant) {
    let mut buf = [0u8; 4096];
    while o.closed.is_none() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match timeout(quiet.min(left), stream.read(&mut buf)).await {
            Ok(Ok(0)) => o.closed = Some(Closed::Fin),
            Ok(Ok(n)) => read_into(o, &buf[..n]),
            Ok(Err(_)) => o.closed = Some(Closed::Reset),
            Err(_) => break,
        }
    }
}

/// Plays `s` on `addr`. A connection with a packet the broker must refuse
/// is written up to that packet and then waited on for a close.
pub async fn execute(addr: &str, s: &Session, plans: &[Plan], t: &Timing) -> Observation {
    let mut obs = Observation {
        conns: vec![ConnObs::default(); MAX_CONNS],
        ..Default::default()
    };
    let mut streams: Vec<Option<TcpStream>> = (0..MAX_CONNS).map(|_| None).collect();
    'ops: for op in &s.ops {
        match op {
            Op::Send { conn, bytes } => {
                let c = *conn;
                if obs.conns[c].closed.is_some() {
                    continue;
                }
                if streams[c].is_none() {
                    match timeout(t.connect, TcpStream::connect(addr)).await {
                        Ok(Ok(st)) => {
                            let _ = st.set_nodelay(true);
                            streams[c] = Some(st);
                        }
                        Ok(Err(e)) => {
                            obs.unreachable = Some(format!("cannot connect to {addr}: {e}"));
                            break 'ops;
                        }
                        Err(_) => {
                            obs.unreachable = Some(format!(
                                "no TCP connection to {addr} within {:?}",
                                t.connect
                            ));
                            break 'ops;
                        }
                    }
                }
                let Some(st) = streams[c].as_mut() else {
                    continue;
                };
                let o = &mut obs.conns[c];
                // Nothing after a packet the broker must refuse: an answer
                // to a later packet would be blamed on it.
                let limit = plans
                    .get(c)
                    .and_then(|p| p.bad.as_ref())
                    .map_or(usize::MAX, |b| b.end);
                let room = limit.saturating_sub(o.written);
                if room == 0 {
                    continue;
                }
                let bytes = &bytes[..bytes.len().min(room)];
                match timeout(t.write, st.write_all(bytes)).await {
                    Ok(Ok(())) => o.written += bytes.len(),
                    Ok(Err(_)) => o.closed = Some(Closed::Reset),
                    Err(_) => {
                        obs.stuck = true;
                        break 'ops;
                    }
                }
                drain(st, o);
                o.progress.push((o.written, o.received.len()));
            }
            Op::Pause(d) => {
                sleep(*d).await;
                for (st, o) in streams.iter().zip(obs.conns.iter_mut()) {
                    if let Some(st) = st {
                        drain(st, o);
                    }
                }
            }
            Op::Close { conn } => {
                if let Some(mut st) = streams[*conn].take() {
                    let _ = st.shutdown().await;
                }
            }
        }
    }
    for (c, st) in streams.iter_mut().enumerate() {
        let Some(st) = st else { continue };
        let o = &mut obs.conns[c];
        let start = Instant::now();
        let must_close = plans
            .get(c)
            .and_then(|p| p.bad.as_ref())
            .is_some_and(|b| o.written >= b.end);
        if must_close {
            read_until(st, o, t.close_wait, start + t.close_wait).await;
        } else {
            read_until(st, o, t.settle, start + t.settle * 20).await;
        }
        o.waited = start.elapsed();
    }
    obs
}
