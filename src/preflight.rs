//! Before any scenario: can we talk MQTT to this target at all?
//!
//! Per protocol version, one CONNECT with the profile's credentials must get
//! a successful CONNACK, and a SUBSCRIBE plus a PUBLISH must come back round.
//! A wrong setup (credentials refused, a peer that is not an MQTT broker, a
//! broker that delivers nothing) is one clear line and no scenario runs, so
//! no statement is blamed for it. A version the broker does not speak is
//! skipped with the reason while the other versions run.
//!
//! Also here: [`alive`], the check made before a failure is recorded, so a
//! target that died is never charged with the scenario it died in.

use crate::codec::{
    self, Connack, Connect, Packet, ProtocolVersion, Publish, Sender, Subscribe, Subscription,
};
use crate::engine::connection::{Connection, Event, Peer};
use crate::engine::transcript::Recorder;
use crate::scenario::profile::Credentials;
use bytes::{Bytes, BytesMut};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long the broker has for each answer of the preflight.
pub const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// What the preflight found for one version.
#[derive(Debug, Clone)]
pub enum Ready {
    /// The broker speaks this version; its CONNACK.
    Yes(Box<Connack>),
    /// The broker does not speak this version: the reason.
    Unsupported(String),
}

/// Why the run cannot start: one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Fatal for the whole run.
    Fatal(String),
    /// The peer said nothing MQTT to this version. Fatal when no other
    /// version works; else the version is skipped with this reason.
    Silent(String),
}

/// Checks `version` at `addr` as client `client_id`, with `topic` for the
/// round trip.
pub async fn check(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    topic: &str,
    credentials: Option<&Credentials>,
    wait: Duration,
) -> Result<Ready, Refused> {
    let stream = match timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Refused::Fatal(format!("cannot reach {addr}: {e}"))),
        Err(_) => {
            return Err(Refused::Fatal(format!(
                "cannot reach {addr}: no answer within {}",
                secs(wait)
            )))
        }
    };
    let mut conn = Connection::start(
        "preflight",
        stream,
        Peer {
            version,
            side: Sender::Server,
        },
        crate::engine::DEFAULT_MAX_PACKET_SIZE,
        Recorder::new(Instant::now()),
    );
    let result = session(
        &mut conn,
        addr,
        version,
        client_id,
        topic,
        credentials,
        wait,
    )
    .await;
    conn.close().await;
    result
}

async fn session(
    conn: &mut Connection,
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    topic: &str,
    credentials: Option<&Credentials>,
    wait: Duration,
) -> Result<Ready, Refused> {
    let connect = Packet::Connect(Connect {
        protocol_name: version.protocol_name().into(),
        protocol_level: version.level(),
        clean_session: true,
        keep_alive: 60,
        client_id: client_id.into(),
        username: credentials.map(|c| c.username.clone()),
        password: credentials.map(|c| codec::Binary(Bytes::from(c.password.clone().into_bytes()))),
        ..Default::default()
    });
    send(conn, &connect, version, wait).await?;
    let connack = match conn.next(wait).await {
        Some(Event::Packet { packet, .. }) => match *packet {
            Packet::Connack(c) => c,
            other => {
                return Err(Refused::Fatal(format!(
                    "{addr} answered an MQTT {version} CONNECT with {other}, not a CONNACK"
                )))
            }
        },
        // A 3.1.1-only broker answers a 5.0 CONNECT with a 3.1.1 CONNACK
        // (code 0x01), which does not decode as 5.0.
        Some(Event::Malformed { raw, .. }) if raw.len() == 4 && raw[0] == 0x20 && raw[3] == 1 => {
            return Ok(Ready::Unsupported(format!(
                "the broker does not speak MQTT {version} (CONNACK 0x01)"
            )))
        }
        Some(Event::Closed(c)) => {
            return Err(Refused::Silent(format!(
                "{addr} closed the connection without a CONNACK to an MQTT {version} CONNECT ({c})"
            )))
        }
        Some(other) => {
            return Err(Refused::Silent(format!(
                "{addr} answered an MQTT {version} CONNECT with {}",
                other.describe()
            )))
        }
        None => {
            return Err(Refused::Silent(format!(
                "{addr} accepted TCP but sent no CONNACK within {}: is it an MQTT broker?",
                secs(wait)
            )))
        }
    };
    if let Some(ready) = refusal(&connack, version)? {
        return Ok(ready);
    }

    // The round trip: what every scenario relies on.
    let subscribe = Packet::Subscribe(Subscribe {
        packet_id: Some(1),
        filters: vec![Subscription {
            filter: topic.into(),
            qos: 0,
            ..Default::default()
        }],
        ..Default::default()
    });
    send(conn, &subscribe, version, wait).await?;
    let granted = wait_for(conn, wait, |p| match p {
        Packet::Suback(s) if s.packet_id == 1 => Some(s.reason_codes.first().copied()),
        _ => None,
    })
    .await
    .map_err(|why| Refused::Fatal(format!("{addr}: a SUBSCRIBE got no SUBACK: {why}")))?;
    if granted.is_none_or(|c| c >= 0x80) {
        return Err(Refused::Fatal(format!(
            "{addr} refused a SUBSCRIBE to {topic} (code {}); the test user must be allowed to use any topic",
            granted.map_or("none".into(), |c| format!("0x{c:02x}"))
        )));
    }
    let publish = Packet::Publish(Publish {
        topic: topic.into(),
        payload: codec::Binary(Bytes::from_static(b"preflight")),
        ..Default::default()
    });
    send(conn, &publish, version, wait).await?;
    wait_for(conn, wait, |p| match p {
        Packet::Publish(p) if p.topic == topic => Some(()),
        _ => None,
    })
    .await
    .map_err(|why| {
        Refused::Fatal(format!(
            "{addr} did not deliver a PUBLISH to its own subscriber: {why}"
        ))
    })?;
    let _ = send(conn, &Packet::Disconnect(Default::default()), version, wait).await;
    Ok(Ready::Yes(Box::new(connack)))
}

/// What a CONNACK other than success means for the run.
fn refusal(c: &Connack, version: ProtocolVersion) -> Result<Option<Ready>, Refused> {
    let code = c.reason_code;
    let v5 = version == ProtocolVersion::V5;
    let unsupported = if v5 { code == 0x84 } else { code == 0x01 };
    if code == 0 {
        return Ok(None);
    }
    if unsupported {
        return Ok(Some(Ready::Unsupported(format!(
            "the broker does not speak MQTT {version} (CONNACK 0x{code:02x})"
        ))));
    }
    let meaning = crate::codec::reason_code::name(
        version,
        crate::codec::properties::PropertyContext::Connack,
        code,
    )
    .unwrap_or("refused");
    let credentials = if v5 {
        matches!(code, 0x86 | 0x87 | 0x8C)
    } else {
        matches!(code, 0x04 | 0x05)
    };
    let hint = if credentials {
        "; give credentials in --profile (credentials: {username, password})"
    } else {
        ""
    };
    Err(Refused::Fatal(format!(
        "broker refused CONNECT: 0x{code:02x} {meaning}{hint}"
    )))
}

async fn send(
    conn: &mut Connection,
    packet: &Packet,
    version: ProtocolVersion,
    wait: Duration,
) -> Result<(), Refused> {
    let mut buf = BytesMut::new();
    codec::encode(packet, version, &mut buf).map_err(|e| Refused::Fatal(e.to_string()))?;
    conn.write(&buf, wait)
        .await
        .map_err(|e| Refused::Fatal(format!("cannot send to the target: {e}")))
}

/// The first packet `pick` accepts, within `wait`; other packets are passed over.
async fn wait_for<T>(
    conn: &mut Connection,
    wait: Duration,
    mut pick: impl FnMut(&Packet) -> Option<T>,
) -> Result<T, String> {
    let end = tokio::time::Instant::now() + wait;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        match conn.next(left).await {
            Some(Event::Packet { packet, .. }) => {
                if let Some(t) = pick(&packet) {
                    return Ok(t);
                }
            }
            Some(other) => return Err(other.describe()),
            None => return Err(format!("nothing within {}", secs(wait))),
        }
    }
}

/// Whether the target still accepts connections and answers a CONNECT
/// with a CONNACK. `Err` says how it does not.
pub async fn alive(
    addr: &str,
    version: ProtocolVersion,
    client_id: &str,
    credentials: Option<&Credentials>,
    wait: Duration,
) -> Result<(), String> {
    let stream = match timeout(wait, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => return Err(format!("no TCP answer from {addr} within {}", secs(wait))),
    };
    let mut conn = Connection::start(
        "liveness",
        stream,
        Peer {
            version,
            side: Sender::Server,
        },
        crate::engine::DEFAULT_MAX_PACKET_SIZE,
        Recorder::new(Instant::now()),
    );
    let connect = Packet::Connect(Connect {
        protocol_name: version.protocol_name().into(),
        protocol_level: version.level(),
        clean_session: true,
        keep_alive: 60,
        client_id: client_id.into(),
        username: credentials.map(|c| c.username.clone()),
        password: credentials.map(|c| codec::Binary(Bytes::from(c.password.clone().into_bytes()))),
        ..Default::default()
    });
    let result = match send(&mut conn, &connect, version, wait).await {
        Err(Refused::Fatal(e) | Refused::Silent(e)) => Err(e),
        Ok(()) => match conn.next(wait).await {
            Some(Event::Packet { packet, .. }) if matches!(*packet, Packet::Connack(_)) => {
                let _ = send(
                    &mut conn,
                    &Packet::Disconnect(Default::default()),
                    version,
                    wait,
                )
                .await;
                Ok(())
            }
            Some(other) => Err(format!("a CONNECT got {}", other.describe())),
            None => Err(format!("a CONNECT got no CONNACK within {}", secs(wait))),
        },
    };
    conn.close().await;
    result
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:?}", d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connack(code: u8) -> Connack {
        Connack {
            reason_code: code,
            ..Default::default()
        }
    }

    #[test]
    fn refusals_name_the_code_and_hint_at_credentials() {
        use ProtocolVersion::{V3_1_1 as V3, V5};
        assert!(refusal(&connack(0), V3).unwrap().is_none());
        assert!(matches!(
            refusal(&connack(1), V3),
            Ok(Some(Ready::Unsupported(_)))
        ));
        assert!(matches!(
            refusal(&connack(0x84), V5),
            Ok(Some(Ready::Unsupported(_)))
        ));
        let Err(Refused::Fatal(m)) = refusal(&connack(5), V3) else {
            panic!("not fatal")
        };
        assert!(
            m.starts_with("broker refused CONNECT: 0x05 not authorized"),
            "{m}"
        );
        assert!(m.contains("--profile"), "{m}");
        let Err(Refused::Fatal(m)) = refusal(&connack(0x86), V5) else {
            panic!("not fatal")
        };
        assert!(m.contains("0x86") && m.contains("--profile"), "{m}");
        let Err(Refused::Fatal(m)) = refusal(&connack(3), V3) else {
            panic!("not fatal")
        };
        assert!(!m.contains("--profile"), "{m}");
    }
}
