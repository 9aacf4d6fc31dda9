//! A fuzzing session: what is written to the broker, on which connection,
//! with which pauses. Sessions are plain data so they can be replayed,
//! minimised and written out as a scenario.

use crate::codec::ProtocolVersion;
use std::time::Duration;

/// Connections a session may use; named `a`, `b`, `c` in findings.
pub const MAX_CONNS: usize = 3;

pub fn conn_name(i: usize) -> &'static str {
    ["a", "b", "c"][i.min(MAX_CONNS - 1)]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// One write on connection `conn` (opened on first use).
    Send { conn: usize, bytes: Vec<u8> },
    /// Nothing is written for a while.
    Pause(Duration),
    /// Our side of `conn` is closed (FIN).
    Close { conn: usize },
}

#[derive(Debug, Clone)]
pub struct Session {
    /// Position in the run's input sequence.
    pub index: u64,
    /// The version the session was built for (its CONNECTs say which
    /// version each connection really speaks).
    pub version: ProtocolVersion,
    pub ops: Vec<Op>,
    /// Where the input came from and how it was changed, for the finding.
    pub origin: String,
}

impl Session {
    /// The bytes written on `conn`, in order.
    pub fn stream(&self, conn: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for op in &self.ops {
            if let Op::Send { conn: c, bytes } = op {
                if *c == conn {
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }

    /// Connections the session writes on.
    pub fn conns(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::Send { conn, .. } => Some(*conn),
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn bytes_sent(&self) -> usize {
        self.ops
            .iter()
            .map(|o| match o {
                Op::Send { bytes, .. } => bytes.len(),
                _ => 0,
            })
            .sum()
    }
}
