//! After a scenario: close what is still open, clear the retained messages
//! it published and end the sessions it left on the broker, so the next
//! trial (and the next run) starts from a clean broker. Never changes the
//! verdict; a problem becomes a note.

use super::connection::{Connection, Event, Peer};
use super::steps::Runner;
use super::transcript::describe;
use crate::codec::{self, Connect, Packet, Publish, Sender};
use crate::scenario::Role;
use bytes::BytesMut;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Deadline of the whole cleanup.
const CLEANUP_DEADLINE: Duration = Duration::from_secs(5);

impl Runner<'_> {
    pub async fn cleanup(&mut self) {
        self.step = self.scenario.steps.len();
        let _ = timeout(CLEANUP_DEADLINE, self.cleanup_inner()).await;
        // Dropping the connections lets their readers drain and end.
        self.conns.clear();
    }

    async fn cleanup_inner(&mut self) {
        let client = self.scenario.role == Role::Client;
        for conn in self.conns.values_mut() {
            if conn.is_writable() && conn.closed.is_none() {
                // A normal DISCONNECT, so no Will Message is published. A
                // 3.1.1 server sends none, so as the server we just close.
                if client {
                    let mut buf = BytesMut::new();
                    let packet = Packet::Disconnect(Default::default());
                    if codec::encode(&packet, self.version, &mut buf).is_ok() {
                        let _ = conn.write(&buf, Duration::from_secs(1)).await;
                    }
                }
                conn.close().await;
            }
        }
        if !client {
            return;
        }
        if !self.retained.is_empty() {
            // An empty retained message removes the retained one (MQTT-3.3.1-10).
            let clear = self
                .retained
                .iter()
                .map(|topic| {
                    Packet::Publish(Publish {
                        retain: true,
                        topic: topic.clone(),
                        ..Default::default()
                    })
                })
                .collect();
            let id = format!("{}cleanup", self.ns);
            if let Err(e) = self.side_session(&id, clear).await {
                self.judge.note(
                    None,
                    format!("cleanup: could not clear retained messages ({e})"),
                );
            }
        }
        // A clean session under the same identifier discards the old one.
        let sessions: Vec<String> = self.sessions.iter().cloned().collect();
        for id in sessions {
            if let Err(e) = self.side_session(&id, Vec::new()).await {
                self.judge.note(
                    None,
                    format!("cleanup: could not end the session of {id} ({e})"),
                );
            }
        }
    }

    /// A short connection as `client_id` with a clean, non-persistent
    /// session: CONNECT, `packets`, DISCONNECT, and the broker's close.
    async fn side_session(&self, client_id: &str, packets: Vec<Packet>) -> Result<(), String> {
        let name = "cleanup";
        let addr = self.endpoint.dial.clone().ok_or("no broker address")?;
        let wait = self.config.step_timeout;
        let stream = timeout(wait, TcpStream::connect(&addr))
            .await
            .map_err(|_| format!("connect to {addr} timed out"))?
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let mut conn = Connection::start(
            name,
            stream,
            Peer {
                version: self.version,
                side: Sender::Server,
            },
            self.config.max_packet_size,
            self.log.clone(),
        );
        let connect = Packet::Connect(Connect {
            protocol_name: self.version.protocol_name().into(),
            protocol_level: self.version.level(),
            client_id: client_id.to_string(),
            username: self.config.login.as_ref().map(|l| l.username.clone()),
            password: self
                .config
                .login
                .as_ref()
                .map(|l| l.password.as_str().into()),
            ..Default::default()
        });
        self.side_send(&mut conn, &connect).await?;
        match conn.next(wait).await {
            Some(Event::Packet { packet, .. }) if matches!(*packet, Packet::Connack(ref c) if c.reason_code == 0) =>
                {}
            Some(ev) => return Err(format!("the broker answered {}", ev.describe())),
            None => return Err("no CONNACK".into()),
        }
        for p in packets
            .iter()
            .chain(std::iter::once(&Packet::Disconnect(Default::default())))
        {
            self.side_send(&mut conn, p).await?;
        }
        conn.close().await;
        // The broker closes after our DISCONNECT, once it has handled what
        // came before it: then the next trial finds it done.
        let until = tokio::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match conn.next(left).await {
                Some(Event::Closed(_)) | None => return Ok(()),
                Some(_) => {}
            }
        }
    }

    async fn side_send(&self, conn: &mut Connection, p: &Packet) -> Result<(), String> {
        let mut buf = BytesMut::new();
        codec::encode(p, self.version, &mut buf).map_err(|e| e.to_string())?;
        self.log.sent(&conn.name, describe(p), &buf);
        conn.write(&buf, self.config.step_timeout)
            .await
            .map_err(|e| e.to_string())
    }
}
