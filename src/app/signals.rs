//! SIGINT and SIGTERM during a run: the first stops the run in order (no
//! new scenario, running ones end, the spawned broker stops, reports are
//! written); a second one exits at once, still stopping the spawned broker.

use crate::run::Interrupt;
use crate::target;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Starts watching; `None` where signals cannot be watched.
#[cfg(unix)]
pub fn watch(interrupt: Arc<Interrupt>) -> Option<JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered here, before the run starts, so no early signal is lost.
    let mut int = signal(SignalKind::interrupt()).ok()?;
    let mut term = signal(SignalKind::terminate()).ok()?;
    Some(tokio::spawn(async move {
        let first = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        interrupt.raise(first);
        eprintln!("mqttspec: {first}: stopping; send it again to exit at once");
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        target::kill_all_groups();
        std::process::exit(code);
    }))
}

#[cfg(not(unix))]
pub fn watch(_interrupt: Arc<Interrupt>) -> Option<JoinHandle<()>> {
    None
}
