//! The scenario model: what a YAML scenario file says, after loading and
//! validation. The engine executes it; nothing here does I/O.
//!
//! Packet templates and matchers stay generic JSON values until run time,
//! because `{ns}` and captured variables are substituted into them per run.

use crate::codec::{Overrides, ProtocolVersion};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The part mqttspec plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// mqttspec is the client; the peer under test is a broker.
    Client,
    /// mqttspec listens; the peer under test is a client.
    Server,
}

/// RFC 2119 strength of a check: a failed `Should` check is a note, never a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Level {
    #[default]
    Must,
    Should,
}

/// Where a scenario came from, for error messages and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Stable, path-like, unique across all loaded files, e.g. `publish/qos-3-closes`.
    pub id: String,
    pub title: String,
    /// Statement IDs this scenario checks, in every version it runs on
    /// (the union of [`Scenario::by_version`], first seen first), for
    /// listing and selecting.
    pub requirements: Vec<String>,
    /// The statement IDs per version: one entry per version in `protocols`,
    /// each ID in that version's catalog. The same behaviour often has
    /// different IDs in 3.1.1 and 5.0.
    pub by_version: Vec<(ProtocolVersion, Vec<String>)>,
    /// The versions it runs on (one trial per version).
    pub protocols: Vec<ProtocolVersion>,
    pub role: Role,
    /// Capabilities the peer must have; a missing one skips the scenario.
    pub needs: Vec<String>,
    /// `Should` makes every failure of this scenario a note.
    pub level: Level,
    /// Deadline for the whole scenario (default from the run's `--timeout`).
    pub timeout: Option<Duration>,
    pub steps: Vec<Step>,
    /// The spec section the scenario belongs to (e.g. "3.3"), from the file
    /// or the first requirement; used to group reports.
    pub section: String,
    pub source: Source,
}

impl Scenario {
    /// The statement IDs the scenario checks on `version`.
    pub fn requirements_for(&self, version: ProtocolVersion) -> &[String] {
        self.by_version
            .iter()
            .find(|(v, _)| *v == version)
            .map_or(&self.requirements[..], |(_, ids)| &ids[..])
    }
}

/// What a check says it checks, and how strong it is. Left out, `checks`
/// defaults to the scenario's first requirement of the version it runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// The statement per version; a version not listed takes the default.
    pub checks: Vec<(ProtocolVersion, String)>,
    /// Rules the test breaks on purpose that the peer must enforce; a
    /// failure names them beside `checks` (role `enforces`).
    pub enforces: Vec<String>,
    pub level: Level,
}

impl Check {
    /// The statement this check names on `version`, if it names one.
    pub fn statement(&self, version: ProtocolVersion) -> Option<&str> {
        self.checks
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, id)| id.as_str())
    }

    /// A check of `id` on every version.
    pub fn of(id: &str, versions: &[ProtocolVersion], level: Level) -> Check {
        Check {
            checks: versions.iter().map(|v| (*v, id.to_string())).collect(),
            enforces: Vec::new(),
            level,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Step {
    /// Open a TCP connection as a client; by default send CONNECT and expect
    /// a successful CONNACK.
    Open(Open),
    /// Wait for a client to connect (role: server).
    Accept(Accept),
    /// Send a packet (structured, with overrides) or raw bytes.
    Send(Send),
    /// Expect the next packet on a connection to match.
    Expect(Expect),
    /// Expect several packets, possibly on several connections, in any order.
    ExpectUnordered(ExpectUnordered),
    /// Expect no packet (and no close) on a connection for a duration.
    ExpectNothing(ExpectNothing),
    /// Expect the peer to close the connection.
    ExpectClose(ExpectClose),
    /// Expect a number of matching packets across several connections
    /// (`expect_one_of`: exactly one), then quiet.
    ExpectCount(ExpectCount),
    /// Send DISCONNECT (optionally with a reason code) and close the socket.
    Disconnect(DisconnectStep),
    /// Close the socket without DISCONNECT (abrupt: FIN, or RST with `reset`).
    Close(CloseStep),
    /// Sleep. Only for timing rules (keep-alive, expiry); everything else awaits events.
    Wait(Duration),
    /// Send a command to the client under test's adapter (role: server).
    Drive(Drive),
    /// Expect an event from the client under test's adapter (role: server).
    ExpectEvent(ExpectEvent),
}

/// A driver command: `{"cmd": "publish", "topic": ..., ...}`.
#[derive(Debug, Clone)]
pub struct Drive {
    pub command: Value,
}

/// The first adapter event named `event` must carry `fields` (a subset
/// match); events of other kinds before it are passed over.
#[derive(Debug, Clone)]
pub struct ExpectEvent {
    pub event: String,
    pub fields: Value,
    pub within: Option<Duration>,
    pub check: Check,
    /// Without `checks:`, a missing or different event is a tool error
    /// (the adapter or the library did not do what was asked), not a failure.
    pub judged: bool,
}

#[derive(Debug, Clone)]
pub struct Open {
    /// Connection name, `[A-Za-z0-9]{1,12}`; the default client ID is `{ns}{name}`.
    pub name: String,
    /// CONNECT fields, not wrapped in a packet name (`{clean_session: false}`;
    /// `{}` for all defaults), or `None` to open the TCP connection only.
    pub connect: Option<Value>,
    /// Overrides applied when encoding the CONNECT.
    pub overrides: Overrides,
    /// Matcher for the CONNACK; `None` sends CONNECT without waiting.
    /// Default: `{connack: {reason_code: 0}}`.
    pub connack: Option<Value>,
    pub check: Check,
    pub within: Option<Duration>,
    /// How the connection carries MQTT. On WebSocket, `check` also covers
    /// the subprotocol the server selects in the handshake.
    pub transport: Transport,
}

/// The network transport of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Tcp,
    /// RFC 6455, subprotocol `mqtt` (section 6 of both versions).
    WebSocket,
}

/// The data frame type a WebSocket `send` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WsOpcode {
    Text,
    #[default]
    Binary,
}

#[derive(Debug, Clone)]
pub struct Accept {
    pub name: String,
    pub within: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum Payload {
    /// A packet template, e.g. `{publish: {topic: "{ns}/a", qos: 1}}`.
    Packet {
        template: Value,
        overrides: Overrides,
    },
    /// Bytes written as they are.
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Send {
    pub on: String,
    pub payload: Payload,
    /// WebSocket only: the frame type (default binary).
    pub ws_opcode: Option<WsOpcode>,
    /// WebSocket only: cut the bytes into frames at these offsets
    /// (increasing, each inside the bytes).
    pub ws_split: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub on: String,
    /// Matcher for a whole packet, e.g. `{puback: {packet_id: 1}}`.
    pub packet: Value,
    pub within: Option<Duration>,
    /// `max_size`: the packet, fixed header included, may be at most this
    /// many bytes (the Maximum Packet Size the scenario's CONNECT gave).
    pub max_size: Option<usize>,
    pub check: Check,
}

#[derive(Debug, Clone)]
pub struct ExpectUnordered {
    pub packets: Vec<Expect>,
    pub within: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct ExpectNothing {
    pub on: String,
    pub duration: Duration,
    pub check: Check,
}

/// `expect_one_of` / `expect_count`: `count` packets matching `packet`
/// arrive in total on the connections `on` (any of them, in any split),
/// and then nothing more arrives on any of them for `quiet`.
#[derive(Debug, Clone)]
pub struct ExpectCount {
    pub on: Vec<String>,
    pub packet: Value,
    pub count: usize,
    /// Written as `expect_one_of` (for messages).
    pub one_of: bool,
    pub within: Option<Duration>,
    pub quiet: Duration,
    pub check: Check,
}

#[derive(Debug, Clone)]
pub struct ExpectClose {
    pub on: String,
    pub within: Option<Duration>,
    /// 5.0: reason codes accepted in a DISCONNECT sent before the close.
    /// Empty means any reason code >= 0x80. A plain close is always accepted.
    /// In 3.1.1 a server sends no DISCONNECT, so none is accepted.
    pub disconnect_codes: Vec<u8>,
    /// Other packets that may arrive before the close (e.g. a CONNACK with
    /// a refusal code); each is a matcher.
    pub allow_before: Vec<Value>,
    /// `disconnect: none`: no DISCONNECT is accepted before the close except
    /// one that `allow_before` matches (e.g. before any CONNACK).
    pub no_disconnect: bool,
    /// A packet the peer may send instead of closing (e.g. a refusing
    /// SUBACK where the spec allows it or a close): it ends the step.
    pub instead: Option<Value>,
    /// `max_size`: every packet seen before the close may be at most this
    /// many bytes.
    pub max_size: Option<usize>,
    pub check: Check,
}

#[derive(Debug, Clone)]
pub struct DisconnectStep {
    pub on: String,
    /// DISCONNECT fields, not wrapped in a packet name (`{reason_code: 4}`;
    /// 5.0 only); `None` for a plain DISCONNECT.
    pub template: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct CloseStep {
    pub on: String,
    /// Send RST instead of FIN.
    pub reset: bool,
}
