//! Where the packets go: a broker reached over TCP, a broker process we
//! start ourselves, the in-process broker, or a listener for clients under
//! test. Starting a target ends with a reachability check, so an unreachable
//! target is one readable error before any scenario runs.

pub mod client;
#[cfg(feature = "embedded-broker")]
mod embedded;
mod port;
mod spawn;

use crate::codec::ProtocolVersion;
pub use crate::engine::websocket::WebSocketUrl;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

pub use port::{free_port, wait_accepting};
pub use spawn::kill_all_groups;

/// What mqttspec tests, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A broker already running at `host:port`.
    Tcp(String),
    /// A broker started with `sh -c`; `{port}` in the command is replaced by
    /// a free port on 127.0.0.1, and `{ws_port}`, if present, by another one
    /// where the broker serves MQTT over WebSocket.
    Spawn { command: String },
    /// rumqttd, in process, on free ports of 127.0.0.1.
    #[cfg(feature = "embedded-broker")]
    Embedded,
    /// mqttspec listens at `host:port` for a client under test.
    Listen(String),
    /// A client under test started per trial with `sh -c`; `{host}` and
    /// `{port}` are replaced by a fresh listener of mqttspec.
    Client { command: String },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(addr) => write!(f, "tcp://{addr}"),
            Target::Spawn { command } => write!(f, "spawn: {command}"),
            #[cfg(feature = "embedded-broker")]
            Target::Embedded => f.write_str("embedded"),
            Target::Listen(addr) => write!(f, "listen://{addr}"),
            Target::Client { command } => write!(f, "client: {command}"),
        }
    }
}

/// A target could not be started or reached. Its text is one line naming
/// the address (or command) and the OS error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// How the engine reaches the peer of one trial.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// `host:port` to connect to (mqttspec plays the client).
    pub dial: Option<String>,
    /// Where clients under test connect (mqttspec plays the server). Shared
    /// by all trials, so server-role trials run one at a time.
    pub listener: Option<Arc<Mutex<TcpListener>>>,
    /// Where the broker serves MQTT over WebSocket, if it does.
    pub websocket: Option<WebSocketUrl>,
    /// The adapter of the client under test (`--client`), for `drive` and
    /// `expect_event`.
    pub driver: Option<Arc<crate::driver::Driver>>,
}

/// A started target. Dropping it stops a spawned broker.
pub struct Running {
    /// How the report names the target.
    pub description: String,
    /// Name and version of the broker when known.
    pub broker: Option<String>,
    v3: Option<String>,
    v5: Option<String>,
    websocket: Option<WebSocketUrl>,
    listener: Option<Arc<Mutex<TcpListener>>>,
    child: Option<spawn::Child>,
    #[cfg(feature = "embedded-broker")]
    embedded: Option<embedded::Embedded>,
    /// `--client`: a fresh listener and client process per trial.
    pub client: Option<Arc<client::ClientTarget>>,
}

/// How long a spawned broker has to start accepting connections.
pub const SPAWN_DEADLINE: Duration = Duration::from_secs(30);
/// How long a reachability check of an existing target may take.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

impl Running {
    /// The endpoint for trials of `version`. Some brokers serve 3.1.1 and 5.0
    /// on different ports.
    pub fn endpoint(&self, version: ProtocolVersion) -> Endpoint {
        let dial = match version {
            ProtocolVersion::V5 => self.v5.clone(),
            _ => self.v3.clone(),
        };
        Endpoint {
            dial,
            listener: self.listener.clone(),
            websocket: self.websocket.clone(),
            driver: None,
        }
    }

    /// The broker's WebSocket endpoint, if it has one.
    pub fn websocket(&self) -> Option<&WebSocketUrl> {
        self.websocket.as_ref()
    }

    /// Whether clients connect to us (client-role scenarios) rather than we to them.
    pub fn is_listener(&self) -> bool {
        self.listener.is_some() || self.client.is_some()
    }

    /// `Some(why)` once the target has died: a spawned process exited (with
    /// the tail of its stderr) or the embedded broker stopped.
    pub fn died(&self) -> Option<String> {
        if let Some(child) = &self.child {
            return child.died();
        }
        #[cfg(feature = "embedded-broker")]
        if let Some(e) = &self.embedded {
            return e.died();
        }
        None
    }

    /// A spawned broker: the id of its process group (its processes are
    /// the group's members).
    pub fn process_group(&self) -> Option<u32> {
        self.child.as_ref().and_then(spawn::Child::pid)
    }

    /// A spawned broker: the last of its stderr, and how many bytes it has
    /// written there in all.
    pub fn stderr(&self) -> Option<(String, u64)> {
        self.child
            .as_ref()
            .map(|c| (c.stderr_tail(), c.stderr_written()))
    }

    /// Stops what we started. The embedded broker cannot be stopped and
    /// ends with the process.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.take() {
            child.stop().await;
        }
    }
}

/// Starts (or checks) the target and returns it once it accepts connections.
pub async fn start(target: &Target) -> Result<Running, TargetError> {
    start_with(target, None).await
}

/// [`start`], with the broker's WebSocket endpoint given by the user
/// (it wins over a `{ws_port}` of a spawned broker).
pub async fn start_with(
    target: &Target,
    websocket: Option<&WebSocketUrl>,
) -> Result<Running, TargetError> {
    let mut running = start_target(target).await?;
    if let Some(url) = websocket {
        if let Err(e) = port::check_reachable(&url.authority, CONNECT_DEADLINE).await {
            running.stop().await;
            return Err(TargetError(format!("WebSocket endpoint {url}: {}", e.0)));
        }
        running.websocket = Some(url.clone());
    }
    if let Some(url) = &running.websocket {
        running.description.push_str(&format!(" (WebSocket {url})"));
    }
    Ok(running)
}

async fn start_target(target: &Target) -> Result<Running, TargetError> {
    let description = target.to_string();
    match target {
        Target::Tcp(addr) => {
            port::check_reachable(addr, CONNECT_DEADLINE).await?;
            Ok(Running {
                description,
                broker: None,
                v3: Some(addr.clone()),
                v5: Some(addr.clone()),
                websocket: None,
                listener: None,
                child: None,
                #[cfg(feature = "embedded-broker")]
                embedded: None,
                client: None,
            })
        }
        Target::Spawn { command } => {
            let port = free_port().map_err(|e| TargetError(format!("no free port: {e}")))?;
            let mut command = command.clone();
            let mut websocket = None;
            if command.contains("{ws_port}") {
                let ws_port = loop {
                    let p = free_port().map_err(|e| TargetError(format!("no free port: {e}")))?;
                    if p != port {
                        break p;
                    }
                };
                command = command.replace("{ws_port}", &ws_port.to_string());
                websocket = Some(WebSocketUrl {
                    authority: format!("127.0.0.1:{ws_port}"),
                    path: "/mqtt".into(),
                });
            }
            let child = spawn::Child::start(&command, port, SPAWN_DEADLINE).await?;
            if let Some(url) = &websocket {
                // Listeners may open one after the other.
                if let Err(e) =
                    wait_accepting(&url.authority, SPAWN_DEADLINE, || child.died()).await
                {
                    child.stop().await;
                    return Err(TargetError(format!("`{command}` (WebSocket): {}", e.0)));
                }
            }
            let addr = format!("127.0.0.1:{port}");
            Ok(Running {
                description,
                broker: None,
                v3: Some(addr.clone()),
                v5: Some(addr),
                websocket,
                listener: None,
                child: Some(child),
                #[cfg(feature = "embedded-broker")]
                embedded: None,
                client: None,
            })
        }
        #[cfg(feature = "embedded-broker")]
        Target::Embedded => {
            let e = embedded::Embedded::start(SPAWN_DEADLINE).await?;
            Ok(Running {
                description,
                broker: Some(embedded::NAME.to_string()),
                v3: Some(e.v3_addr()),
                v5: Some(e.v5_addr()),
                websocket: None,
                listener: None,
                child: None,
                embedded: Some(e),
                client: None,
            })
        }
        Target::Client { command } => {
            let c = client::ClientTarget::probe(command).await?;
            Ok(Running {
                description,
                broker: Some(c.hello.name()),
                v3: None,
                v5: None,
                websocket: None,
                listener: None,
                child: None,
                #[cfg(feature = "embedded-broker")]
                embedded: None,
                client: Some(Arc::new(c)),
            })
        }
        Target::Listen(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| TargetError(format!("cannot listen on {addr}: {e}")))?;
            let description = match listener.local_addr() {
                Ok(local) => format!("listen://{local}"),
                Err(_) => description,
            };
            Ok(Running {
                description,
                broker: None,
                v3: None,
                v5: None,
                websocket: None,
                listener: Some(Arc::new(Mutex::new(listener))),
                child: None,
                #[cfg(feature = "embedded-broker")]
                embedded: None,
                client: None,
            })
        }
    }
}
