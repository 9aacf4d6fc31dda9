//! One adapter process: started with `sh -c` in its own process group,
//! commands written to its stdin, events read from its stdout, the tail of
//! its stderr kept for the transcript, and the whole group stopped at the
//! end of the trial.

use super::Hello;
use crate::engine::transcript::Recorder;
use serde_json::Value;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

/// How much of the process's stderr is kept.
const TAIL_BYTES: usize = 4096;
/// Longest event line; a longer one is cut off and reported.
const MAX_LINE: usize = 256 * 1024;
/// Events not yet taken by a step; a fuller queue stops reading stdout.
const EVENT_QUEUE: usize = 1024;
/// How long a command may take to be written.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);
/// How long the adapter has to leave after `exit` before it is signalled.
const EXIT_GRACE: Duration = Duration::from_millis(300);

/// Where event lines are logged: kept until a scenario's recorder exists.
enum Sink {
    Buffer(Vec<String>),
    Log(Recorder),
}

/// The connection label of driver lines in the transcript.
pub const LABEL: &str = "driver";

pub struct Driver {
    child: Mutex<tokio::process::Child>,
    pid: Option<u32>,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    events: tokio::sync::Mutex<mpsc::Receiver<Value>>,
    hello: watch::Receiver<Option<Result<Hello, String>>>,
    sink: Arc<Mutex<Sink>>,
    tail: Arc<Mutex<Vec<u8>>>,
    /// The command line as started, for messages.
    pub line: String,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("line", &self.line).finish()
    }
}

/// How the process ended, if it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Running,
    /// It exited with this status; `crashed` when a signal ended it.
    Exited {
        status: String,
        crashed: bool,
    },
}

impl Driver {
    /// Starts `command` with `{host}` and `{port}` replaced, and the same in
    /// `MQTTSPEC_HOST` / `MQTTSPEC_PORT`.
    pub fn start(command: &str, host: &str, port: u16) -> Result<Driver, String> {
        let line = command
            .replace("{host}", host)
            .replace("{port}", &port.to_string());
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&line)
            .env("MQTTSPEC_HOST", host)
            .env("MQTTSPEC_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{line}`: {e}"))?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let tail = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut stderr) = child.stderr.take() {
            let tail = tail.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 1024];
                while let Ok(n) = stderr.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    keep_tail(&tail, &chunk[..n]);
                }
            });
        }
        let sink = Arc::new(Mutex::new(Sink::Buffer(Vec::new())));
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let (hello_tx, hello_rx) = watch::channel(None);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_events(stdout, tx, hello_tx, sink.clone()));
        }
        Ok(Driver {
            child: Mutex::new(child),
            pid,
            stdin: tokio::sync::Mutex::new(stdin),
            events: tokio::sync::Mutex::new(rx),
            hello: hello_rx,
            sink,
            tail,
            line,
        })
    }

    /// From now on, driver lines go to `log` (earlier ones are added now).
    pub fn attach(&self, log: &Recorder) {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        if let Sink::Buffer(lines) = &*sink {
            for l in lines {
                log.event(LABEL, l.clone());
            }
        }
        *sink = Sink::Log(log.clone());
    }

    fn log(&self, text: String) {
        log_to(&self.sink, text);
    }

    /// The `hello` line, waiting at most `within` for it.
    pub async fn hello(&self, within: Duration) -> Result<Hello, String> {
        let mut rx = self.hello.clone();
        let got = timeout(within, rx.wait_for(Option::is_some)).await;
        match got {
            Ok(Ok(h)) => h.clone().expect("waited for Some"),
            Ok(Err(_)) => Err("the adapter closed its stdout before a hello line".into()),
            Err(_) => Err(format!("the adapter wrote no hello line within {within:?}")),
        }
    }

    /// Writes one command line.
    pub async fn send(&self, command: &Value) -> Result<(), String> {
        let mut line = command.to_string();
        self.log(format!("=> {line}"));
        line.push('\n');
        let mut stdin = self.stdin.lock().await;
        let Some(w) = stdin.as_mut() else {
            return Err("the adapter's stdin is closed".into());
        };
        let write = async {
            w.write_all(line.as_bytes()).await?;
            w.flush().await
        };
        match timeout(WRITE_DEADLINE, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot write to the adapter's stdin: {e}")),
            Err(_) => Err(format!(
                "the adapter did not read its stdin within {WRITE_DEADLINE:?}"
            )),
        }
    }

    /// The next event, or `None` when none came within `within` (or the
    /// adapter closed its stdout).
    pub async fn next_event(&self, within: Duration) -> Option<Value> {
        let mut rx = self.events.lock().await;
        timeout(within, rx.recv()).await.ok().flatten()
    }

    /// Whether (and how) the process has ended.
    pub fn ended(&self) -> Ended {
        let mut c = self.child.lock().unwrap_or_else(|p| p.into_inner());
        match c.try_wait() {
            Ok(Some(status)) => ended(status),
            _ => Ended::Running,
        }
    }

    /// The last lines of its stderr.
    pub fn stderr_tail(&self) -> String {
        let t = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&t).trim_end().to_string()
    }

    /// Asks the adapter to exit, then stops its process group.
    pub async fn stop(&self) {
        if self.ended() == Ended::Running {
            let _ = timeout(
                Duration::from_millis(200),
                self.send(&serde_json::json!({"cmd": "exit"})),
            )
            .await;
            self.stdin.lock().await.take();
            let end = tokio::time::Instant::now() + EXIT_GRACE;
            while self.ended() == Ended::Running && tokio::time::Instant::now() < end {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // The adapter may be a shell whose children live on: the whole group goes.
        signal_group(self.pid, libc_sigterm());
        let end = tokio::time::Instant::now() + Duration::from_secs(1);
        while self.ended() == Ended::Running && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        signal_group(self.pid, libc_sigkill());
        let mut c = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = c.start_kill();
    }
}

fn ended(status: ExitStatus) -> Ended {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ended::Exited {
                status: format!("killed by signal {sig}"),
                crashed: true,
            };
        }
    }
    Ended::Exited {
        status: status.to_string(),
        crashed: false,
    }
}

fn log_to(sink: &Mutex<Sink>, text: String) {
    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
    match &mut *s {
        Sink::Buffer(lines) => {
            if lines.len() < 1000 {
                lines.push(text);
            }
        }
        Sink::Log(r) => r.event(LABEL, text),
    }
}

/// Reads stdout line by line: the first line must be `hello`, the rest are
/// queued as events. Lines that are not protocol events are logged only.
async fn read_events(
    mut stdout: tokio::process::ChildStdout,
    tx: mpsc::Sender<Value>,
    hello: watch::Sender<Option<Result<Hello, String>>>,
    sink: Arc<Mutex<Sink>>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut first = true;
    let mut skipping = false;
    loop {
        let n = match stdout.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            if std::mem::take(&mut skipping) {
                continue;
            }
            let text = String::from_utf8_lossy(&line).trim().to_string();
            if text.is_empty() {
                continue;
            }
            let parsed: Option<Value> = serde_json::from_str(&text)
                .ok()
                .filter(|v: &Value| v.get("event").and_then(Value::as_str).is_some());
            let Some(v) = parsed else {
                log_to(&sink, format!("<= (not an event) {text}"));
                continue;
            };
            log_to(&sink, format!("<= {text}"));
            if first {
                first = false;
                hello.send_replace(Some(Hello::parse(&v)));
                continue;
            }
            if tx.send(v).await.is_err() {
                return;
            }
        }
        if buf.len() > MAX_LINE {
            log_to(
                &sink,
                format!("<= (a line longer than {MAX_LINE} bytes, left out)"),
            );
            buf.clear();
            skipping = true;
        }
    }
    if first {
        hello.send_replace(Some(Err(
            "the adapter closed its stdout before a hello line".into(),
        )));
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

#[cfg(unix)]
fn libc_sigterm() -> i32 {
    libc::SIGTERM
}
#[cfg(unix)]
fn libc_sigkill() -> i32 {
    libc::SIGKILL
}
#[cfg(not(unix))]
fn libc_sigterm() -> i32 {
    15
}
#[cfg(not(unix))]
fn libc_sigkill() -> i32 {
    9
}

#[cfg(unix)]
fn signal_group(pid: Option<u32>, sig: i32) {
    let Some(pgid) = pid.and_then(|p| libc::pid_t::try_from(p).ok()) else {
        return;
    };
    // Started with process_group(0): the group id is the pid, and the group
    // holds only what the adapter started.
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

#[cfg(not(unix))]
fn signal_group(_pid: Option<u32>, _sig: i32) {}
