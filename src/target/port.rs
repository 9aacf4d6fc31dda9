//! Free ports and "is anybody listening" checks.

use super::TargetError;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

/// A port of 127.0.0.1 that was free a moment ago. Another process could
/// take it before the broker binds it; starting then fails with a clear error.
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// One connection attempt with a deadline.
pub async fn try_connect(addr: &str, deadline: Duration) -> std::io::Result<()> {
    match timeout(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {deadline:?}"),
        )),
    }
}

/// The target at `addr` accepts a TCP connection, or a one-line error.
pub async fn check_reachable(addr: &str, deadline: Duration) -> Result<(), TargetError> {
    try_connect(addr, deadline)
        .await
        .map_err(|e| TargetError(format!("cannot reach {addr}: {e}")))
}

/// Polls `addr` with backoff until it accepts a connection, `gone()` says
/// the process that should listen there is gone, or the deadline passes.
pub async fn wait_accepting(
    addr: &str,
    deadline: Duration,
    mut gone: impl FnMut() -> Option<String>,
) -> Result<(), TargetError> {
    let end = Instant::now() + deadline;
    let mut pause = Duration::from_millis(5);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let last = match try_connect(addr, left.min(Duration::from_secs(1))).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if let Some(why) = gone() {
            return Err(TargetError(format!(
                "the target exited before accepting connections on {addr}: {why}"
            )));
        }
        if Instant::now() + pause >= end {
            return Err(TargetError(format!(
                "nothing accepted connections on {addr} within {deadline:?}: {last}"
            )));
        }
        sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
