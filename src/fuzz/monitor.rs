//! Watching the broker: the liveness probe (hang oracle), the memory of a
//! spawned broker's process group (memory oracle), and its stderr and exit
//! (crash oracle). Panics of the embedded broker's tasks are caught by a
//! panic hook.

use crate::codec::{self, Connect, DecodeOptions, Packet, ProtocolVersion, Sender};
use bytes::BytesMut;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A fresh client connects with a clean session; the broker must answer
/// its CONNECT with a CONNACK within `wait`. Returns how long it took.
pub async fn probe(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    wait: Duration,
) -> Result<Duration, String> {
    let started = Instant::now();
    let fut = async {
        let mut st = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = st.set_nodelay(true);
        let connect = Packet::Connect(Connect {
            protocol_name: version.protocol_name().into(),
            protocol_level: version.level(),
            clean_session: true,
            keep_alive: 60,
            client_id: client_id.into(),
            ..Connect::default()
        });
        let mut buf = BytesMut::new();
        codec::encode(&connect, version, &mut buf).map_err(|e| e.to_string())?;
        st.write_all(&buf)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            if let Some((_, frame)) = super::oracle::frames(&got).first() {
                let opts = DecodeOptions {
                    sender: Some(Sender::Server),
                };
                return match codec::decode_with(frame, version, &opts) {
                    Ok(d) if matches!(d.packet, Packet::Connack(_)) => {
                        let mut buf = BytesMut::new();
                        let _ = codec::encode(
                            &Packet::Disconnect(Default::default()),
                            version,
                            &mut buf,
                        );
                        let _ = st.write_all(&buf).await;
                        Ok(())
                    }
                    Ok(d) => Err(format!(
                        "the answer to CONNECT was {}",
                        d.packet.packet_type().name()
                    )),
                    Err(e) => Err(format!("the answer to CONNECT did not decode: {e}")),
                };
            }
            match st.read(&mut chunk).await {
                Ok(0) => return Err("the connection was closed before a CONNACK".to_string()),
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    match timeout(wait, fut).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no CONNACK within {wait:?}")),
    }
}

/// Resident memory, in bytes, of every process in process group `pgid`.
#[cfg(target_os = "linux")]
pub fn group_rss(pgid: u32) -> Option<u64> {
    // SAFETY: sysconf takes and returns plain integers.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let mut total = 0u64;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses and may hold spaces.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state ppid pgrp ... ; rss is field 24 of stat (index 21 here).
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) != Some(pgid) {
            continue;
        }
        if let Some(rss) = fields.get(21).and_then(|r| r.parse::<u64>().ok()) {
            total += rss * page;
            found = true;
        }
    }
    found.then_some(total)
}

#[cfg(not(target_os = "linux"))]
pub fn group_rss(_pgid: u32) -> Option<u64> {
    None
}

/// The first line of `text` that reports a crash of the broker or of one
/// of its connection tasks: a Rust panic, a failed assertion, a sanitizer
/// report, a segmentation fault, an uncaught exception.
pub fn crash_line(text: &str) -> Option<String> {
    const MARKERS: &[&str] = &[
        "panicked at",
        "Assertion",
        "assertion failed",
        "AddressSanitizer",
        "LeakSanitizer",
        "UndefinedBehaviorSanitizer",
        "runtime error:",
        "Segmentation fault",
        "SIGSEGV",
        "SIGABRT",
        "double free",
        "Traceback (most recent call last)",
        "Task exception was never retrieved",
        "Unhandled exception",
        "UnhandledPromiseRejection",
        "Uncaught",
        "FATAL ERROR",
        "core dumped",
    ];
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if MARKERS.iter().any(|m| line.contains(m)) {
            // A Python traceback names the exception on its last line.
            if line.contains("Traceback") {
                if let Some(exc) = lines[i + 1..]
                    .iter()
                    .find(|l| !l.starts_with(' ') && !l.trim().is_empty())
                {
                    return Some(exc.trim().to_string());
                }
            }
            // A logged task failure: name the exception of the traceback after it.
            let exc = lines[i + 1..]
                .iter()
                .take(60)
                .position(|l| l.contains("Traceback (most recent call last)"))
                .and_then(|t| {
                    lines[i + 1 + t + 1..]
                        .iter()
                        .find(|l| !l.starts_with(' ') && !l.trim().is_empty())
                });
            return Some(match exc {
                Some(e) => format!("{}: {}", line.trim(), e.trim()),
                None => line.trim().to_string(),
            });
        }
    }
    None
}

/// A crash line without its numbers (timestamps, addresses, process ids),
/// so the same crash reported twice is one finding.
pub fn signature(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Panics of the embedded broker's threads and tasks, caught by
/// [`watch_embedded_panics`].
static EMBEDDED_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs a panic hook that records panics raised in the embedded
/// broker's code (their location is in the rumqttd crate), then runs the
/// default hook.
pub fn watch_embedded_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(loc) = info.location() {
            if loc.file().contains("rumqttd") {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let line = format!("panicked at {}:{}: {msg}", loc.file(), loc.line());
                EMBEDDED_PANICS
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(line);
            }
        }
        default(info);
    }));
}

/// Embedded-broker panics recorded since the last call.
pub fn take_embedded_panics() -> Vec<String> {
    std::mem::take(&mut *EMBEDDED_PANICS.lock().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_lines() {
        assert_eq!(
            crash_line("info: ok\nthread 'x' panicked at src/a.rs:1:2:\nboom").as_deref(),
            Some("thread 'x' panicked at src/a.rs:1:2:")
        );
        let py =
            "Traceback (most recent call last):\n  File \"a.py\", line 1\n    x()\nKeyError: 'k'\n";
        assert_eq!(crash_line(py).as_deref(), Some("KeyError: 'k'"));
        assert_eq!(
            crash_line("1700000000: New connection from 127.0.0.1"),
            None
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn rss_of_our_own_group_is_positive() {
        // SAFETY: getpgrp has no arguments and cannot fail.
        let pgid = unsafe { libc::getpgrp() } as u32;
        assert!(group_rss(pgid).unwrap_or(0) > 0);
    }
}
