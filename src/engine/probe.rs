//! One CONNECT before the run, to learn what a 5.0 broker offers: its
//! CONNACK says whether retained messages, QoS 1/2, wildcards, shared
//! subscriptions, subscription identifiers and topic aliases are available.

use super::connection::{Connection, Event, Peer};
use super::transcript::Recorder;
use crate::codec::{self, Connack, Connect, Packet, ProtocolVersion, Sender};
use crate::target::Endpoint;
use bytes::BytesMut;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Connects with a clean session as `client_id` (with `login` when given),
/// returns the CONNACK (of any reason code) and disconnects.
pub async fn connack(
    endpoint: &Endpoint,
    version: ProtocolVersion,
    client_id: &str,
    login: Option<&super::Login>,
    wait: Duration,
) -> Result<Connack, String> {
    let addr = endpoint
        .dial
        .as_deref()
        .ok_or("the target is not a broker")?;
    let stream = match timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => return Err(format!("cannot connect to {addr} within {wait:?}")),
    };
    let log = Recorder::new(Instant::now());
    let mut conn = Connection::start(
        "probe",
        stream,
        Peer {
            version,
            side: Sender::Server,
        },
        super::DEFAULT_MAX_PACKET_SIZE,
        log,
    );
    let connect = Packet::Connect(Connect {
        protocol_name: version.protocol_name().into(),
        protocol_level: version.level(),
        client_id: client_id.into(),
        username: login.map(|l| l.username.clone()),
        password: login.map(|l| l.password.as_str().into()),
        ..Default::default()
    });
    let mut buf = BytesMut::new();
    codec::encode(&connect, version, &mut buf).map_err(|e| e.to_string())?;
    conn.write(&buf, wait).await.map_err(|e| e.to_string())?;
    let answer = match conn.next(wait).await {
        Some(Event::Packet { packet, .. }) => match *packet {
            Packet::Connack(c) => Ok(c),
            other => Err(format!("the answer to CONNECT was {other}")),
        },
        Some(other) => Err(format!("the answer to CONNECT was {}", other.describe())),
        None => Err(format!("no CONNACK within {wait:?}")),
    };
    if matches!(&answer, Ok(c) if c.reason_code == 0) {
        let mut buf = BytesMut::new();
        if codec::encode(&Packet::Disconnect(Default::default()), version, &mut buf).is_ok() {
            let _ = conn.write(&buf, wait).await;
        }
    }
    conn.close().await;
    answer
}
