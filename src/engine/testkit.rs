//! Test support: a scripted peer for engine tests. The engine dials it as
//! it would a broker; the test plays the broker's side packet by packet.

use super::{run_scenario, EngineConfig};
use crate::codec::{self, Framer, Packet, ProtocolVersion};
use crate::outcome::ScenarioResult;
use crate::scenario::{load_str, Scenario};
use crate::spec::Catalogs;
use crate::target::Endpoint;
use bytes::BytesMut;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The one scenario in `yaml` (a whole scenario file).
pub fn scenario(yaml: &str) -> Scenario {
    static C: OnceLock<Catalogs> = OnceLock::new();
    let catalogs = C.get_or_init(|| Catalogs::embedded().expect("embedded catalogs"));
    let mut all = load_str("t.yaml", yaml, catalogs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// A scripted broker: hands each connection the engine opens to the test.
pub struct FakeBroker {
    pub endpoint: Endpoint,
    accepted: mpsc::Receiver<TcpStream>,
}

impl FakeBroker {
    pub async fn start() -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address").to_string();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                if tx.send(s).await.is_err() {
                    break;
                }
            }
        });
        FakeBroker {
            endpoint: Endpoint {
                dial: Some(addr),
                ..Endpoint::default()
            },
            accepted: rx,
        }
    }

    /// The next connection, after reading its CONNECT and answering CONNACK 0.
    pub async fn connected(&mut self, version: ProtocolVersion) -> PeerSide {
        let stream = tokio::time::timeout(Duration::from_secs(5), self.accepted.recv())
            .await
            .expect("the engine connects")
            .expect("listener alive");
        let mut p = PeerSide {
            stream,
            buf: BytesMut::new(),
            framer: Framer::new(1 << 20),
            version,
        };
        let connect = p.read().await.expect("CONNECT");
        assert!(matches!(connect, Packet::Connect(_)), "{connect:?}");
        p.send(&Packet::Connack(codec::Connack::default())).await;
        p
    }
}

/// The broker's end of one connection.
pub struct PeerSide {
    stream: TcpStream,
    buf: BytesMut,
    framer: Framer,
    version: ProtocolVersion,
}

impl PeerSide {
    pub async fn send(&mut self, packet: &Packet) {
        let mut out = BytesMut::new();
        codec::encode(packet, self.version, &mut out).expect("encodable");
        self.send_raw(&out).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next packet the engine sent, or `None` at its close.
    pub async fn read(&mut self) -> Option<Packet> {
        loop {
            if let Some(frame) = self.framer.next_frame(&mut self.buf).expect("framing") {
                return Some(codec::decode(&frame, self.version).expect("valid").packet);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

/// Runs `s` on `version` against `endpoint` (a fake broker's).
pub async fn run(s: &Scenario, version: ProtocolVersion, endpoint: &Endpoint) -> ScenarioResult {
    let config = EngineConfig {
        step_timeout: Duration::from_secs(2),
        ..EngineConfig::default()
    };
    run_scenario(s, version, "ns", endpoint, &config).await
}

/// A PUBLISH of `topic` with QoS 0.
pub fn publish(topic: &str) -> Packet {
    Packet::Publish(codec::Publish {
        topic: topic.into(),
        ..codec::Publish::default()
    })
}
