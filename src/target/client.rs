//! A client under test (`--client COMMAND`): per trial a fresh loopback
//! listener and a fresh client process, so trials run in parallel and one
//! trial's client never sees another's server.

use super::{Endpoint, TargetError};
use crate::codec::ProtocolVersion;
use crate::driver::process::{Ended, LABEL};
use crate::driver::{Driver, Hello};
use crate::engine::{self, EngineConfig};
use crate::outcome::{Direction, Note, ScenarioResult, TranscriptEntry, Verdict};
use crate::scenario::Scenario;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// How long an adapter has to print its `hello` line (interpreters start slowly).
pub const HELLO_DEADLINE: Duration = Duration::from_secs(15);
/// The host clients are given.
const HOST: &str = "127.0.0.1";

/// The command and what its adapter announced when the run started.
#[derive(Debug, Clone)]
pub struct ClientTarget {
    pub command: String,
    pub hello: Hello,
}

impl ClientTarget {
    /// Starts the command once to read its `hello`: a command that does not
    /// start or speaks no driver protocol is an error before any trial.
    pub async fn probe(command: &str) -> Result<ClientTarget, TargetError> {
        let listener = TcpListener::bind((HOST, 0))
            .await
            .map_err(|e| TargetError(format!("cannot listen on {HOST}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| TargetError(format!("cannot listen on {HOST}: {e}")))?
            .port();
        let driver = Driver::start(command, HOST, port).map_err(TargetError)?;
        let hello = driver.hello(HELLO_DEADLINE).await;
        let tail = driver.stderr_tail();
        driver.stop().await;
        match hello {
            Ok(hello) => Ok(ClientTarget {
                command: command.to_string(),
                hello,
            }),
            Err(e) if tail.is_empty() => Err(TargetError(format!("`{}`: {e}", driver.line))),
            Err(e) => Err(TargetError(format!(
                "`{}`: {e} (stderr: {})",
                driver.line,
                last_lines(&tail, 3)
            ))),
        }
    }

    /// One trial: listener, client process, the scenario, then the process
    /// stopped and its stderr tail and fate added to the result.
    pub async fn run_trial(
        &self,
        scenario: &Scenario,
        version: ProtocolVersion,
        ns: &str,
        config: &EngineConfig,
    ) -> ScenarioResult {
        let setup = async {
            let listener = TcpListener::bind((HOST, 0))
                .await
                .map_err(|e| format!("cannot listen on {HOST}: {e}"))?;
            let port = listener
                .local_addr()
                .map_err(|e| format!("cannot listen on {HOST}: {e}"))?
                .port();
            let driver = Driver::start(&self.command, HOST, port)?;
            Ok::<_, String>((listener, Arc::new(driver)))
        };
        let (listener, driver) = match setup.await {
            Ok(x) => x,
            Err(e) => return crate::run::not_run(scenario, version, Verdict::Error, e),
        };
        let endpoint = Endpoint {
            dial: None,
            listener: Some(Arc::new(Mutex::new(listener))),
            websocket: None,
            driver: Some(driver.clone()),
        };
        let mut result = engine::run_scenario(scenario, version, ns, &endpoint, config).await;
        let fate = driver.ended();
        driver.stop().await;
        let at_ms = result.duration.as_secs_f64() * 1000.0;
        let tail = driver.stderr_tail();
        if !tail.is_empty() {
            result.transcript.entries.push(TranscriptEntry {
                at_ms,
                connection: LABEL.into(),
                direction: Direction::Event,
                text: format!("client stderr (last lines):\n{}", last_lines(&tail, 20)),
                hex: String::new(),
            });
        }
        if let Ended::Exited { status, crashed } = fate {
            let what = if crashed {
                format!("the client process crashed ({status}) during the scenario")
            } else {
                format!("the client process exited ({status}) before the scenario ended")
            };
            result.transcript.entries.push(TranscriptEntry {
                at_ms,
                connection: LABEL.into(),
                direction: Direction::Event,
                text: what.clone(),
                hex: String::new(),
            });
            if crashed && result.verdict == Verdict::Pass {
                // A library that dies on what a server sends has a bug, but
                // not one that any single MQTT statement names.
                result.verdict = Verdict::Error;
                result.message = Some(what);
            } else {
                result.notes.push(Note {
                    statement: None,
                    message: what,
                });
            }
        }
        result
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
