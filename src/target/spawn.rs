//! A broker process started by mqttspec: `sh -c COMMAND` with `{port}`
//! replaced, in its own process group so the whole group can be stopped
//! (a wrapper shell does not always exec its last command).

use super::port::wait_accepting;
use super::TargetError;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// How much of the process's stderr is kept: the last lines, and a byte
/// bound so one endless line cannot grow it.
const TAIL_LINES: usize = 40;
const TAIL_BYTES: usize = 16 * 1024;

/// Process groups of the brokers started and not yet stopped, so that an
/// immediate exit (a second SIGINT) can still stop them.
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// SIGKILL to every spawned process group still running. For the exit path
/// that cannot wait for an orderly stop.
pub fn kill_all_groups() {
    let groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for pid in groups {
        signal_group(Some(pid), Signal::Kill);
    }
}

fn forget_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        GROUPS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|g| *g != pid);
    }
}

pub struct Child {
    process: Mutex<tokio::process::Child>,
    pid: Option<u32>,
    tail: Arc<Mutex<Vec<u8>>>,
    /// Bytes written to stderr so far, so a watcher can tell new output.
    written: Arc<std::sync::atomic::AtomicU64>,
}

impl Child {
    pub async fn start(command: &str, port: u16, deadline: Duration) -> Result<Child, TargetError> {
        let line = command.replace("{port}", &port.to_string());
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&line)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut process = cmd
            .spawn()
            .map_err(|e| TargetError(format!("cannot start `{line}`: {e}")))?;
        let pid = process.id();
        if let Some(pid) = pid {
            GROUPS.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
        }
        let tail = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
        if let Some(mut stderr) = process.stderr.take() {
            let tail = tail.clone();
            let written = written.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 1024];
                while let Ok(n) = stderr.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    keep_tail(&tail, &chunk[..n]);
                    written.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        let child = Child {
            process: Mutex::new(process),
            pid,
            tail,
            written,
        };
        let addr = format!("127.0.0.1:{port}");
        if let Err(e) = wait_accepting(&addr, deadline, || child.died()).await {
            // When the process died, its stderr is in the message already.
            let msg = match child.stderr_tail() {
                t if t.is_empty() || e.0.contains(&t) => e.0,
                t => format!("{}; last stderr:\n{t}", e.0),
            };
            child.stop().await;
            return Err(TargetError(format!("`{line}`: {msg}")));
        }
        Ok(child)
    }

    /// The last lines (at most 40) the process wrote on stderr, line breaks kept.
    pub fn stderr_tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        last_lines(&String::from_utf8_lossy(&tail), TAIL_LINES)
    }

    /// The process id of the shell, which leads the process group.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How many bytes the process has written to stderr so far.
    pub fn stderr_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `Some(why)` once the process has exited.
    pub fn died(&self) -> Option<String> {
        let status = {
            let mut p = self.process.lock().unwrap_or_else(|p| p.into_inner());
            match p.try_wait() {
                Ok(Some(status)) => status,
                Ok(None) => return None,
                Err(e) => return Some(format!("cannot query the target process: {e}")),
            }
        };
        let tail = self.stderr_tail();
        Some(if tail.is_empty() {
            format!("the target process exited ({status})")
        } else {
            format!("the target process exited ({status})\nlast stderr:\n{tail}")
        })
    }

    /// SIGTERM to the process group, then SIGKILL if it lingers.
    pub async fn stop(self) {
        forget_group(self.pid);
        let mut process = self.process.into_inner().unwrap_or_else(|p| p.into_inner());
        if matches!(process.try_wait(), Ok(Some(_))) {
            signal_group(self.pid, Signal::Kill);
            return;
        }
        signal_group(self.pid, Signal::Term);
        if tokio::time::timeout(Duration::from_secs(3), process.wait())
            .await
            .is_err()
        {
            signal_group(self.pid, Signal::Kill);
            let _ = process.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), process.wait()).await;
        } else {
            // The shell may be gone while children it forked live on.
            signal_group(self.pid, Signal::Kill);
        }
    }
}

fn keep_tail(tail: &Mutex<Vec<u8>>, bytes: &[u8]) {
    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
    t.extend_from_slice(bytes);
    if t.len() > TAIL_BYTES {
        let cut = t.len() - TAIL_BYTES;
        t.drain(..cut);
    }
}

/// The last `n` non-empty lines of `s`, joined by line breaks.
fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

enum Signal {
    Term,
    Kill,
}

#[cfg(unix)]
fn signal_group(pid: Option<u32>, signal: Signal) {
    let Some(pid) = pid else { return };
    let Ok(pgid) = libc::pid_t::try_from(pid) else {
        return;
    };
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    // The child was started with process_group(0): its group id is its pid,
    // and the group holds only what it started.
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

#[cfg(not(unix))]
fn signal_group(_pid: Option<u32>, _signal: Signal) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_with_their_breaks() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let t = last_lines(&text, TAIL_LINES);
        assert_eq!(t.lines().count(), 40);
        assert!(t.starts_with("line 61\n") && t.ends_with("line 100"), "{t}");
        assert_eq!(last_lines("a\r\n\nb\n", 40), "a\nb");
    }
}
