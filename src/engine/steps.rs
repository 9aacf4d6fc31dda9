//! The steps of a scenario, each executed as cases/README.md describes.

use super::connection::{Connection, Event, Peer};
use super::matcher::{match_packet, show, Captures, MatchError};
use super::transcript::{describe, Recorder};
use super::vars::Vars;
use super::verdict::{Evidence, Judge, Stop};
use super::websocket::{self, SUBPROTOCOL};
use super::EngineConfig;
use crate::codec::{self, Overrides, Packet, ProtocolVersion, Sender};
use crate::scenario::{
    Accept, Check, CloseStep, DisconnectStep, Expect, ExpectClose, ExpectNothing, ExpectUnordered,
    Open, Payload, Role, Scenario, Send, Step, Transport, WsOpcode,
};
use crate::target::Endpoint;
use bytes::BytesMut;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::time::timeout;

type StepResult = Result<(), Stop>;

/// The state of one trial while its steps run.
pub struct Runner<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) version: ProtocolVersion,
    pub(super) ns: String,
    pub(super) endpoint: &'a Endpoint,
    pub(super) config: &'a EngineConfig,
    pub(super) vars: Vars,
    pub(super) conns: BTreeMap<String, Connection>,
    pub log: Recorder,
    pub judge: Judge,
    /// Topics the scenario published retained messages to (cleared afterwards).
    pub(super) retained: BTreeSet<String>,
    /// Client identifiers whose sessions outlive their connection (ended afterwards).
    pub(super) sessions: BTreeSet<String>,
    /// Index of the running step, for messages.
    pub(super) step: usize,
}

impl<'a> Runner<'a> {
    pub fn new(
        scenario: &'a Scenario,
        version: ProtocolVersion,
        ns: &str,
        endpoint: &'a Endpoint,
        config: &'a EngineConfig,
        started: Instant,
    ) -> Runner<'a> {
        let mut vars = Vars::default();
        for (k, v) in &config.profile_vars {
            vars.set(k.clone(), v.clone());
        }
        vars.set("ns", Value::String(ns.to_string()));
        let log = Recorder::new(started);
        if let Some(d) = &endpoint.driver {
            d.attach(&log);
        }
        Runner {
            scenario,
            version,
            ns: ns.to_string(),
            endpoint,
            config,
            vars,
            conns: BTreeMap::new(),
            log,
            judge: Judge::new(scenario.level, version, scenario.requirements_for(version)),
            retained: BTreeSet::new(),
            sessions: BTreeSet::new(),
            step: 0,
        }
    }

    /// All steps, within the scenario's deadline.
    pub async fn run(&mut self) -> StepResult {
        let limit = self
            .scenario
            .timeout
            .unwrap_or(self.config.scenario_timeout);
        match timeout(limit, self.run_steps()).await {
            Ok(r) => r,
            Err(_) => {
                let at = self.where_();
                self.log
                    .event("-", format!("scenario deadline of {limit:?} passed"));
                Err(Stop::Error(format!(
                    "the scenario did not finish within its deadline of {limit:?} ({at})"
                )))
            }
        }
    }

    async fn run_steps(&mut self) -> StepResult {
        for (i, step) in self.scenario.steps.iter().enumerate() {
            self.step = i;
            match step {
                Step::Open(o) => self.open(o).await?,
                Step::Accept(a) => self.accept(a).await?,
                Step::Send(s) => self.send(s).await?,
                Step::Expect(e) => self.expect(e).await?,
                Step::ExpectUnordered(u) => self.expect_unordered(u).await?,
                Step::ExpectNothing(n) => self.expect_nothing(n).await?,
                Step::ExpectClose(c) => self.expect_close(c).await?,
                Step::ExpectCount(c) => self.expect_count(c).await?,
                Step::Disconnect(d) => self.disconnect(d).await?,
                Step::Close(c) => self.close(c).await?,
                Step::Wait(d) => tokio::time::sleep(*d).await,
                Step::Drive(d) => self.drive(d).await?,
                Step::ExpectEvent(e) => self.expect_event(e).await?,
            }
        }
        Ok(())
    }

    /// The version spoken and the side the peer plays.
    fn peer(&self) -> Peer {
        let side = match self.scenario.role {
            Role::Client => Sender::Server,
            Role::Server => Sender::Client,
        };
        Peer {
            version: self.version,
            side,
        }
    }

    /// "step 3 (expect)", for messages.
    fn where_(&self) -> String {
        let kind = match self.scenario.steps.get(self.step) {
            Some(Step::Open(o)) => format!("open {}", o.name),
            Some(Step::Accept(a)) => format!("accept {}", a.name),
            Some(Step::Send(s)) => format!("send on {}", s.on),
            Some(Step::Expect(e)) => format!("expect on {}", e.on),
            Some(Step::ExpectUnordered(_)) => "expect_unordered".into(),
            Some(Step::ExpectNothing(n)) => format!("expect_nothing on {}", n.on),
            Some(Step::ExpectClose(c)) => format!("expect_close on {}", c.on),
            Some(Step::ExpectCount(c)) => format!(
                "{} on {}",
                if c.one_of {
                    "expect_one_of"
                } else {
                    "expect_count"
                },
                c.on.join(", ")
            ),
            Some(Step::Disconnect(d)) => format!("disconnect {}", d.on),
            Some(Step::Close(c)) => format!("close {}", c.on),
            Some(Step::Wait(_)) => "wait".into(),
            Some(Step::Drive(d)) => format!(
                "drive {}",
                d.command.get("cmd").and_then(Value::as_str).unwrap_or("?")
            ),
            Some(Step::ExpectEvent(e)) => format!("expect_event {}", e.event),
            None => "cleanup".into(),
        };
        format!("step {} ({kind})", self.step + 1)
    }

    pub(super) fn error(&self, what: impl std::fmt::Display) -> Stop {
        Stop::Error(format!("{}: {what}", self.where_()))
    }

    pub(super) fn within(&self, w: Option<Duration>) -> Duration {
        w.unwrap_or(self.config.step_timeout)
    }

    pub(super) fn conn(&mut self, name: &str) -> Result<&mut Connection, Stop> {
        if !self.conns.contains_key(name) {
            return Err(self.error(format_args!("no connection named `{name}` is open")));
        }
        Ok(self.conns.get_mut(name).expect("checked above"))
    }

    /// The check a failure on `event` is judged by: a packet that breaks a
    /// rule of its own (malformed, or illegal from its sender) names that
    /// rule's statement; anything else fails `check`.
    pub(super) fn check_for(&self, check: &Check, event: &Event) -> Check {
        match event {
            Event::Malformed {
                error:
                    codec::DecodeError {
                        statement: Some(id),
                        ..
                    },
                ..
            } => Check::of(id, &[self.version], check.level),
            _ => check.clone(),
        }
    }

    pub(super) fn fail(
        &mut self,
        check: &Check,
        message: String,
        expected: Option<String>,
        observed: Option<String>,
    ) -> StepResult {
        let ev = Evidence {
            message: format!("{}: {message}", self.where_()),
            expected,
            observed,
        };
        self.judge.failed(check, ev)
    }

    // ---- open / accept -------------------------------------------------

    async fn open(&mut self, o: &Open) -> StepResult {
        if self.scenario.role == Role::Server {
            return Err(
                self.error("`open` needs a broker; this scenario tests a client (use accept)")
            );
        }
        let ws_url = match o.transport {
            Transport::Tcp => None,
            Transport::WebSocket => match &self.endpoint.websocket {
                Some(u) => Some(u.clone()),
                None => return Err(self.error(crate::scenario::profile::NO_WEBSOCKET)),
            },
        };
        let addr = match (&ws_url, &self.endpoint.dial) {
            (Some(u), _) => u.authority.clone(),
            (None, Some(a)) => a.clone(),
            (None, None) => {
                return Err(
                    self.error("the target is a listener; `open` needs a broker to connect to")
                )
            }
        };
        if let Some(mut old) = self.conns.remove(&o.name) {
            old.close().await;
        }
        let within = self.within(o.within);
        let stream = match timeout(within, TcpStream::connect(&addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(self.error(format_args!("cannot connect to {addr}: {e}"))),
            Err(_) => {
                return Err(self.error(format_args!(
                    "cannot connect to {addr}: no answer within {within:?}"
                )))
            }
        };
        self.log.event(&o.name, format!("connected to {addr}"));
        match &ws_url {
            None => self.start_connection(&o.name, stream),
            Some(url) => self.upgrade(o, stream, url, within).await?,
        }
        let Some(connect) = &o.connect else {
            return Ok(());
        };
        let template = self.connect_template(&o.name, connect, o.overrides.connect_flags.is_some());
        self.send_template(&o.name, &template, &o.overrides).await?;
        if let Some(matcher) = &o.connack {
            let expect = Expect {
                on: o.name.clone(),
                packet: matcher.clone(),
                within: o.within,
                max_size: None,
                check: o.check.clone(),
            };
            self.expect(&expect).await?;
        }
        Ok(())
    }

    /// The WebSocket upgrade of `open`, then the connection on top of it.
    async fn upgrade(
        &mut self,
        o: &Open,
        mut stream: TcpStream,
        url: &websocket::WebSocketUrl,
        within: Duration,
    ) -> StepResult {
        let log = self.log.clone();
        let name = o.name.clone();
        let upgrade = websocket::handshake(&mut stream, url, within, |request| {
            log.event(
                &name,
                format!("WebSocket upgrade request:\n{}", request.trim_end()),
            )
        })
        .await;
        let upgrade = match upgrade {
            Ok(u) => u,
            Err(e) => {
                self.log
                    .event(&o.name, format!("WebSocket upgrade failed: {e}"));
                return Err(self.error(format_args!("WebSocket upgrade to {url} failed: {e}")));
            }
        };
        self.log.event(
            &o.name,
            format!(
                "WebSocket upgrade response:\n{}",
                upgrade.response.trim_end()
            ),
        );
        let conn = Connection::start_websocket(
            &o.name,
            stream,
            upgrade.leftover,
            self.peer(),
            self.config.max_packet_size,
            self.log.clone(),
        );
        self.conns.insert(o.name.clone(), conn);
        if upgrade.subprotocol.as_deref() == Some(SUBPROTOCOL) {
            return Ok(());
        }
        // MQTT-6.0.0-4: the server selects and returns `mqtt`. Judged by the
        // open's `checks`, else by MQTT-6.0.0-4 when the scenario checks it.
        let check = if o.check.statement(self.version).is_some() {
            o.check.clone()
        } else if self
            .scenario
            .requirements_for(self.version)
            .iter()
            .any(|r| r == "MQTT-6.0.0-4")
        {
            Check::of("MQTT-6.0.0-4", &[self.version], o.check.level)
        } else {
            return Err(self.error(format_args!(
                "the WebSocket server selected no `{SUBPROTOCOL}` subprotocol (MQTT-6.0.0-4), \
                 so this scenario cannot go on; a scenario checking MQTT-6.0.0-4 judges it"
            )));
        };
        let observed = match &upgrade.subprotocol {
            Some(p) => format!("Sec-WebSocket-Protocol: {p}"),
            None => "no Sec-WebSocket-Protocol header".to_string(),
        };
        self.fail(
            &check,
            format!("the WebSocket upgrade response selected no `{SUBPROTOCOL}` subprotocol ({observed})"),
            Some(format!("Sec-WebSocket-Protocol: {SUBPROTOCOL}")),
            Some(observed),
        )
    }

    fn start_connection(&mut self, name: &str, stream: TcpStream) {
        let conn = Connection::start(
            name,
            stream,
            self.peer(),
            self.config.max_packet_size,
            self.log.clone(),
        );
        self.conns.insert(name.to_string(), conn);
    }

    /// The default CONNECT of `open`, with the scenario's fields on top.
    fn connect_template(&self, name: &str, given: &Value, own_flags: bool) -> Value {
        let mut fields = Map::new();
        fields.insert("protocol_name".into(), json!(self.version.protocol_name()));
        fields.insert("protocol_level".into(), json!(self.version.level()));
        fields.insert("client_id".into(), json!(format!("{}{}", self.ns, name)));
        let given = match given {
            Value::Object(m) if m.len() == 1 && m.get("connect").is_some_and(Value::is_object) => {
                &m["connect"]
            }
            other => other,
        };
        if let Value::Object(m) = given {
            for (k, v) in m {
                fields.insert(k.clone(), v.clone());
            }
        }
        // The configured login, unless the scenario writes its own
        // credentials or connect flags (which must then describe the payload).
        if let Some(login) = &self.config.login {
            if !own_flags && !fields.contains_key("username") && !fields.contains_key("password") {
                fields.insert("username".into(), json!(login.username));
                fields.insert("password".into(), json!(login.password));
            }
        }
        json!({ "connect": fields })
    }

    async fn accept(&mut self, a: &Accept) -> StepResult {
        let Some(listener) = self.endpoint.listener.clone() else {
            return Err(self.error("`accept` needs a listening target (a client under test)"));
        };
        let within = self.within(a.within);
        let accepted = timeout(within, async { listener.lock().await.accept().await }).await;
        match accepted {
            Ok(Ok((stream, peer))) => {
                self.log
                    .event(&a.name, format!("accepted a connection from {peer}"));
                if let Some(mut old) = self.conns.remove(&a.name) {
                    old.close().await;
                }
                self.start_connection(&a.name, stream);
                Ok(())
            }
            Ok(Err(e)) => Err(self.error(format_args!("accept failed: {e}"))),
            // No verdict on the client: it may not have been started at all.
            Err(_) => Err(self.error(format_args!("no client connected within {within:?}"))),
        }
    }

    // ---- send ------------------------------------------------------------

    async fn send(&mut self, s: &Send) -> StepResult {
        let framing = if s.ws_opcode.is_some() || !s.ws_split.is_empty() {
            if self.conn(&s.on)?.transport != Transport::WebSocket {
                return Err(self.error(format_args!(
                    "`ws_opcode`/`ws_split` need a WebSocket connection; `{}` is TCP",
                    s.on
                )));
            }
            Some(Framing {
                opcode: s.ws_opcode.unwrap_or_default(),
                splits: s.ws_split.clone(),
            })
        } else {
            None
        };
        match &s.payload {
            Payload::Packet {
                template,
                overrides,
            } => {
                self.send_framed(&s.on, template, overrides, framing.as_ref())
                    .await
            }
            Payload::Raw(bytes) => {
                let text = match codec::decode(bytes, self.version) {
                    Ok(d) => {
                        // Whole valid packets count as sent, as templates do.
                        self.conn(&s.on)?.sending(&d.packet);
                        format!("raw bytes: {}", describe(&d.packet))
                    }
                    Err(_) => "raw bytes".to_string(),
                };
                self.write_framed(&s.on, text, bytes, framing.as_ref())
                    .await
            }
        }
    }

    /// Substitutes variables, assigns packet identifiers, encodes and writes.
    async fn send_template(
        &mut self,
        on: &str,
        template: &Value,
        overrides: &Overrides,
    ) -> StepResult {
        self.send_framed(on, template, overrides, None).await
    }

    async fn send_framed(
        &mut self,
        on: &str,
        template: &Value,
        overrides: &Overrides,
        framing: Option<&Framing>,
    ) -> StepResult {
        let mut value = self.vars.substitute(template).map_err(|e| self.error(e))?;
        let conn = self.conn(on)?;
        assign_packet_id(&mut value, conn);
        let mut packet: Packet = serde_json::from_value(value.clone())
            .map_err(|e| self.error(format_args!("not a valid packet ({e}): {}", show(&value))))?;
        if let Packet::Connect(c) = &mut packet {
            // Level 0 means "the scenario's version"; say which in the transcript.
            if c.protocol_level == 0 {
                c.protocol_level = self.version.level();
            }
        }
        let mut buf = BytesMut::new();
        codec::encode_with(&packet, self.version, overrides, &mut buf)
            .map_err(|e| self.error(format_args!("cannot encode {}: {e}", describe(&packet))))?;
        self.remember(on, &packet, overrides);
        self.conn(on)?.sending(&packet);
        let mut text = describe(&packet);
        if *overrides != Overrides::default() {
            text.push_str(&format!(" with overrides {}", overrides_text(overrides)));
        }
        self.write_framed(on, text, &buf, framing).await
    }

    /// What later steps and the cleanup need to know about a sent packet.
    fn remember(&mut self, on: &str, packet: &Packet, overrides: &Overrides) {
        match packet {
            Packet::Connect(c) => {
                self.vars.set(format!("client_id.{on}"), json!(c.client_id));
                if let Some(w) = c.will.as_ref().filter(|w| w.retain) {
                    self.retained.insert(w.topic.clone());
                }
                // 3.1.1 keeps a session with CleanSession 0; 5.0 keeps one
                // with a Session Expiry Interval above 0.
                let kept = if self.version.is_v5() {
                    c.properties.session_expiry_interval.unwrap_or(0) > 0
                } else {
                    !c.clean_session
                };
                if kept && !c.client_id.is_empty() {
                    self.sessions.insert(c.client_id.clone());
                }
            }
            Packet::Publish(p) => {
                // The flags override can set RETAIN on the wire too.
                let retain = p.retain || overrides.flags.is_some_and(|f| f & 1 == 1);
                // An empty topic with an alias stands for the alias's topic.
                let state = self.conns.get(on).map(Connection::state);
                let topic = state
                    .as_ref()
                    .and_then(|s| s.outgoing_topic(p))
                    .unwrap_or(&p.topic);
                if retain && !topic.is_empty() {
                    self.retained.insert(topic.to_string());
                }
            }
            _ => {}
        }
    }

    async fn write_framed(
        &mut self,
        on: &str,
        mut text: String,
        bytes: &[u8],
        framing: Option<&Framing>,
    ) -> StepResult {
        let wait = self.config.step_timeout;
        let log = self.log.clone();
        if let Some(last) = framing.and_then(|f| f.splits.last()) {
            if *last >= bytes.len() {
                return Err(self.error(format_args!(
                    "`ws_split` offset {last} is not inside the {} bytes sent",
                    bytes.len()
                )));
            }
        }
        let conn = self.conn(on)?;
        if !conn.is_writable() {
            return Err(self.error(format_args!(
                "connection `{on}` was already closed by the scenario"
            )));
        }
        if let Some(f) = framing {
            let kind = match f.opcode {
                WsOpcode::Text => "text",
                WsOpcode::Binary => "binary",
            };
            if f.splits.is_empty() {
                text.push_str(&format!(" (in one WebSocket {kind} frame)"));
            } else {
                text.push_str(&format!(
                    " (as a WebSocket {kind} message in {} frames, cut at {:?})",
                    f.splits.len() + 1,
                    f.splits
                ));
            }
        }
        // Logged before writing, so the answer never appears before the question.
        log.sent(on, text, bytes);
        let written = match framing {
            None => conn.write(bytes, wait).await,
            Some(f) => {
                let opcode = match f.opcode {
                    WsOpcode::Text => websocket::OP_TEXT,
                    WsOpcode::Binary => websocket::OP_BINARY,
                };
                conn.write_frames(bytes, opcode, &f.splits, wait).await
            }
        };
        if let Err(e) = written {
            // Not a verdict by itself: the peer may have closed on purpose,
            // and the next expectation on this connection will say so.
            log.event(on, format!("write failed: {e}"));
        }
        Ok(())
    }

    // ---- expectations ------------------------------------------------------

    async fn expect(&mut self, e: &Expect) -> StepResult {
        let within = self.within(e.within);
        let expected = show(&self.vars.substitute_lenient(&e.packet));
        let conn = self.conn(&e.on)?;
        let event = conn.next(within).await;
        match event {
            None => self.fail(
                &e.check,
                format!(
                    "expected {expected} on {} within {within:?}, nothing arrived",
                    e.on
                ),
                Some(expected),
                Some(format!("nothing within {within:?}")),
            ),
            Some(Event::Packet { packet, notes, raw }) => {
                self.take_notes(&e.on, notes);
                if let Some(max) = e.max_size.filter(|&m| raw.len() > m) {
                    return self.too_big(&e.check, &e.on, &packet, raw.len(), max);
                }
                match match_packet(&e.packet, &packet, &self.vars) {
                    Ok(caps) => {
                        self.capture(caps);
                        Ok(())
                    }
                    Err(MatchError::Mismatch(m)) => self.fail(
                        &e.check,
                        format!("{m} (received on {}: {})", e.on, describe(&packet)),
                        Some(expected),
                        Some(describe(&packet)),
                    ),
                    Err(MatchError::Tool(t)) => Err(self.error(t)),
                }
            }
            Some(other) => {
                let observed = other.describe();
                self.fail(
                    &self.check_for(&e.check, &other),
                    format!("expected {expected} on {}, observed {observed}", e.on),
                    Some(expected),
                    Some(observed),
                )
            }
        }
    }

    /// A packet larger than the Maximum Packet Size the scenario announced.
    fn too_big(
        &mut self,
        check: &Check,
        on: &str,
        packet: &Packet,
        size: usize,
        max: usize,
    ) -> StepResult {
        self.fail(
            check,
            format!(
                "{} on {on} is {size} bytes, above the Maximum Packet Size {max}",
                describe(packet)
            ),
            Some(format!("packets of at most {max} bytes")),
            Some(format!("{size} bytes: {}", describe(packet))),
        )
    }

    pub(super) fn capture(&mut self, caps: Captures) {
        for (k, v) in caps {
            self.vars.set(k, v);
        }
    }

    pub(super) fn take_notes(&mut self, on: &str, notes: Vec<crate::outcome::Note>) {
        for n in notes {
            self.judge
                .note(n.statement, format!("on {on}: {}", n.message));
        }
    }

    async fn expect_unordered(&mut self, u: &ExpectUnordered) -> StepResult {
        let within = self.within(u.within);
        for e in &u.packets {
            self.conn(&e.on)?;
        }
        let until = tokio::time::Instant::now() + within;
        // compat[a] = expectations arrival `a` matches, with what it captured.
        let mut compat: Vec<Vec<(usize, Captures)>> = Vec::new();
        let mut arrivals: Vec<(String, String)> = Vec::new();
        let mut owner: Vec<Option<usize>> = vec![None; u.packets.len()];
        loop {
            if owner.iter().all(Option::is_some) {
                for (i, a) in owner.iter().enumerate() {
                    let a = a.expect("all matched");
                    if let Some((_, caps)) = compat[a].iter().find(|(j, _)| *j == i) {
                        self.capture(caps.clone());
                    }
                }
                return Ok(());
            }
            let missing: Vec<usize> = (0..u.packets.len())
                .filter(|i| owner[*i].is_none())
                .collect();
            // Connections that can still deliver something.
            let live: BTreeSet<String> = u
                .packets
                .iter()
                .map(|e| e.on.clone())
                .filter(|n| self.conns.get(n).is_some_and(|c| c.closed.is_none()))
                .collect();
            let conns = &mut self.conns;
            let next = tokio::time::timeout_at(
                until,
                poll_fn(|cx| {
                    if live.is_empty() {
                        return Poll::Pending;
                    }
                    for (name, c) in conns.iter_mut() {
                        if live.contains(name) {
                            if let Poll::Ready(ev) = c.poll_event(cx) {
                                return Poll::Ready((name.clone(), ev));
                            }
                        }
                    }
                    Poll::Pending
                }),
            )
            .await;
            let Ok((on, event)) = next else {
                let first = &u.packets[missing[0]];
                let list: Vec<String> = missing
                    .iter()
                    .map(|i| {
                        let e = &u.packets[*i];
                        format!(
                            "{} on {}",
                            show(&self.vars.substitute_lenient(&e.packet)),
                            e.on
                        )
                    })
                    .collect();
                let expected = list.join("; ");
                return self.fail(
                    &first.check.clone(),
                    format!("still missing after {within:?}: {expected}"),
                    Some(expected),
                    Some(format!("nothing more within {within:?}")),
                );
            };
            let pending_here: Vec<usize> = missing
                .iter()
                .copied()
                .filter(|i| u.packets[*i].on == on)
                .collect();
            match event {
                Event::Packet { packet, notes, .. } => {
                    self.take_notes(&on, notes);
                    let mut fits = Vec::new();
                    for (i, e) in u.packets.iter().enumerate() {
                        if e.on != on {
                            continue;
                        }
                        match match_packet(&e.packet, &packet, &self.vars) {
                            Ok(caps) => fits.push((i, caps)),
                            Err(MatchError::Tool(t)) => return Err(self.error(t)),
                            Err(MatchError::Mismatch(_)) => {}
                        }
                    }
                    compat.push(fits);
                    arrivals.push((on.clone(), describe(&packet)));
                    let adj: Vec<Vec<usize>> = compat
                        .iter()
                        .map(|f| f.iter().map(|(i, _)| *i).collect())
                        .collect();
                    let (size, assignment) = max_matching(&adj, u.packets.len());
                    if size < arrivals.len() {
                        // This packet fits none of the places left for it.
                        let target = pending_here
                            .first()
                            .or(missing.first())
                            .copied()
                            .unwrap_or(0);
                        let e = &u.packets[target];
                        let why = match match_packet(&e.packet, &packet, &self.vars) {
                            Err(MatchError::Mismatch(m)) => format!(" ({m})"),
                            _ => String::new(),
                        };
                        let expected = show(&self.vars.substitute_lenient(&e.packet));
                        return self.fail(
                            &e.check.clone(),
                            format!("unexpected packet on {on}: {}{why}", describe(&packet)),
                            Some(format!("{expected} on {}", e.on)),
                            Some(describe(&packet)),
                        );
                    }
                    owner = assignment;
                }
                other => {
                    if pending_here.is_empty() {
                        // Nothing more was expected here; later steps will see it.
                        if !matches!(other, Event::Closed(_)) {
                            let e = &u.packets[missing[0]];
                            let observed = other.describe();
                            return self.fail(
                                &self.check_for(&e.check, &other),
                                format!("unexpected on {on}: {observed}"),
                                Some(show(&self.vars.substitute_lenient(&e.packet))),
                                Some(observed),
                            );
                        }
                        continue;
                    }
                    let e = &u.packets[pending_here[0]];
                    let observed = other.describe();
                    let expected = show(&self.vars.substitute_lenient(&e.packet));
                    return self.fail(
                        &self.check_for(&e.check, &other),
                        format!("expected {expected} on {on}, observed {observed}"),
                        Some(expected),
                        Some(observed),
                    );
                }
            }
        }
    }

    async fn expect_nothing(&mut self, n: &ExpectNothing) -> StepResult {
        let conn = self.conn(&n.on)?;
        match conn.next(n.duration).await {
            None => Ok(()),
            Some(ev) => {
                let observed = ev.describe();
                self.fail(
                    &self.check_for(&n.check, &ev),
                    format!(
                        "expected nothing on {} for {:?}, observed {observed}",
                        n.on, n.duration
                    ),
                    Some(format!("nothing for {:?}", n.duration)),
                    Some(observed),
                )
            }
        }
    }

    async fn expect_close(&mut self, c: &ExpectClose) -> StepResult {
        let within = self.within(c.within);
        let until = tokio::time::Instant::now() + within;
        let mut disconnect_seen: Option<u8> = None;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let conn = self.conn(&c.on)?;
            let event = conn.next(left).await;
            let packet = match event {
                Some(Event::Closed(_)) => return Ok(()),
                None => {
                    let after = match disconnect_seen {
                        Some(rc) => format!(" (it sent DISCONNECT 0x{rc:02x} but did not close)"),
                        None => String::new(),
                    };
                    return self.fail(
                        &c.check,
                        format!("expected the peer to close {} within {within:?}; it is still open{after}", c.on),
                        Some("the connection closed".into()),
                        Some(format!("still open after {within:?}{after}")),
                    );
                }
                Some(Event::Packet { packet, notes, raw }) => {
                    self.take_notes(&c.on, notes);
                    if let Some(max) = c.max_size.filter(|&m| raw.len() > m) {
                        return self.too_big(&c.check, &c.on, &packet, raw.len(), max);
                    }
                    packet
                }
                Some(other) => {
                    // The peer had to close; whatever it sent instead (an
                    // illegal packet too) fails the rule it did not enforce.
                    let observed = other.describe();
                    return self.fail(
                        &c.check,
                        format!("expected {} to close, observed {observed}", c.on),
                        Some("the connection closed".into()),
                        Some(observed),
                    );
                }
            };
            if let Some(m) = &c.instead {
                match match_packet(m, &packet, &self.vars) {
                    Ok(caps) => {
                        self.capture(caps);
                        return Ok(());
                    }
                    Err(MatchError::Tool(t)) => return Err(self.error(t)),
                    Err(MatchError::Mismatch(_)) => {}
                }
            }
            let mut allowed = None;
            for m in &c.allow_before {
                match match_packet(m, &packet, &self.vars) {
                    Ok(caps) => {
                        allowed = Some(caps);
                        break;
                    }
                    Err(MatchError::Tool(t)) => return Err(self.error(t)),
                    Err(MatchError::Mismatch(_)) => {}
                }
            }
            if let Some(caps) = allowed {
                self.capture(caps);
                continue;
            }
            if let Packet::Disconnect(d) = &*packet {
                // 5.0 lets a server say why before it closes (MQTT-4.13.1-1);
                // a 3.1.1 server has no DISCONNECT to send, while a 3.1.1
                // client under test may send its plain DISCONNECT first.
                let client_v3 = !self.version.is_v5() && self.scenario.role == Role::Server;
                let accepted = !c.no_disconnect
                    && disconnect_seen.is_none()
                    && (client_v3
                        || self.version.is_v5()
                            && if c.disconnect_codes.is_empty() {
                                d.reason_code >= 0x80
                            } else {
                                c.disconnect_codes.contains(&d.reason_code)
                            });
                if accepted {
                    disconnect_seen = Some(d.reason_code);
                    continue;
                }
            }
            let observed = describe(&packet);
            let expected = if self.version.is_v5() {
                if c.no_disconnect {
                    "the connection closed, without a DISCONNECT".to_string()
                } else if c.disconnect_codes.is_empty() {
                    "the connection closed, optionally after DISCONNECT with a reason code >= 0x80"
                        .to_string()
                } else {
                    let codes: Vec<String> = c
                        .disconnect_codes
                        .iter()
                        .map(|x| format!("0x{x:02x}"))
                        .collect();
                    format!(
                        "the connection closed, optionally after DISCONNECT with reason code {}",
                        codes.join(" or ")
                    )
                }
            } else {
                "the connection closed".to_string()
            };
            return self.fail(
                &c.check,
                format!("expected {} to close, observed {observed}", c.on),
                Some(expected),
                Some(observed),
            );
        }
    }

    // ---- endings -----------------------------------------------------------

    async fn disconnect(&mut self, d: &DisconnectStep) -> StepResult {
        let fields = d.template.clone().unwrap_or_else(|| json!({}));
        let fields = match fields {
            Value::Object(m) if m.len() == 1 && m.get("disconnect").is_some() => {
                m["disconnect"].clone()
            }
            Value::Null => json!({}),
            other => other,
        };
        self.send_template(
            &d.on,
            &json!({ "disconnect": fields }),
            &Overrides::default(),
        )
        .await?;
        let log = self.log.clone();
        let conn = self.conn(&d.on)?;
        conn.close().await;
        log.event(&d.on, "closed by mqttspec (FIN)");
        Ok(())
    }

    async fn close(&mut self, c: &CloseStep) -> StepResult {
        let log = self.log.clone();
        let conn = self.conn(&c.on)?;
        if c.reset {
            conn.reset().await;
            log.event(&c.on, "reset by mqttspec (RST)");
        } else {
            conn.close().await;
            log.event(&c.on, "closed by mqttspec (FIN)");
        }
        Ok(())
    }
}

/// How a WebSocket `send` frames its bytes.
struct Framing {
    opcode: WsOpcode,
    splits: Vec<usize>,
}

/// Packet identifiers a template leaves out: PUBLISH with QoS > 0,
/// SUBSCRIBE and UNSUBSCRIBE take the connection's next one.
fn assign_packet_id(value: &mut Value, conn: &mut Connection) {
    let Value::Object(outer) = value else { return };
    let Some((kind, Value::Object(fields))) = outer.iter_mut().next() else {
        return;
    };
    let needs = match kind.as_str() {
        "publish" => fields.get("qos").and_then(Value::as_u64).unwrap_or(0) > 0,
        "subscribe" | "unsubscribe" => true,
        _ => false,
    };
    if needs && fields.get("packet_id").is_none_or(Value::is_null) {
        fields.insert("packet_id".into(), json!(conn.take_packet_id()));
    }
}

/// The overrides that are set, as `{flags: 6, ...}`.
fn overrides_text(o: &Overrides) -> String {
    match serde_json::to_value(o) {
        Ok(Value::Object(m)) => {
            let set: Map<String, Value> = m.into_iter().filter(|(_, v)| !v.is_null()).collect();
            Value::Object(set).to_string()
        }
        _ => format!("{o:?}"),
    }
}

/// Maximum bipartite matching of arrivals (left) to expectations (right),
/// by augmenting paths. Returns its size and, per expectation, its arrival.
fn max_matching(adj: &[Vec<usize>], right: usize) -> (usize, Vec<Option<usize>>) {
    fn augment(
        a: usize,
        adj: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &e in &adj[a] {
            if seen[e] {
                continue;
            }
            seen[e] = true;
            if owner[e].is_none_or(|b| augment(b, adj, seen, owner)) {
                owner[e] = Some(a);
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; right];
    let mut size = 0;
    for a in 0..adj.len() {
        let mut seen = vec![false; right];
        if augment(a, adj, &mut seen, &mut owner) {
            size += 1;
        }
    }
    (size, owner)
}

#[cfg(test)]
mod tests {
    use super::max_matching;

    #[test]
    fn matching_reassigns_a_general_expectation() {
        // Arrival 0 fits both; arrival 1 fits only expectation 0.
        let (size, owner) = max_matching(&[vec![0, 1], vec![0]], 2);
        assert_eq!(size, 2);
        assert_eq!(owner, vec![Some(1), Some(0)]);
        // A third arrival has no place left.
        let (size, _) = max_matching(&[vec![0, 1], vec![0], vec![1]], 2);
        assert_eq!(size, 2);
    }
}
