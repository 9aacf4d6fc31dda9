//! rumqttd running inside mqttspec: the target when none is given, and the
//! broker the scenario suite is tested against. It serves 3.1.1 and 5.0 on
//! two listeners of 127.0.0.1, with limits high enough that a suite opening
//! hundreds of connections in seconds never meets them.

use super::port::{free_port, wait_accepting};
use super::TargetError;
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

pub const NAME: &str = "rumqttd 0.20.0";

pub struct Embedded {
    v3: SocketAddr,
    v5: SocketAddr,
    thread: JoinHandle<String>,
}

impl Embedded {
    pub async fn start(deadline: Duration) -> Result<Embedded, TargetError> {
        let port =
            |what| free_port().map_err(|e| TargetError(format!("no free port for {what}: {e}")));
        let v3 = SocketAddr::from(([127, 0, 0, 1], port("3.1.1")?));
        let v5 = SocketAddr::from(([127, 0, 0, 1], port("5.0")?));
        let config = config(v3, v5);
        let thread = std::thread::Builder::new()
            .name("embedded-broker".into())
            .spawn(move || {
                // Broker::start blocks while its listeners run.
                let mut broker = Broker::new(config);
                match broker.start() {
                    Ok(()) => "the embedded broker stopped".to_string(),
                    Err(e) => format!("the embedded broker failed: {e}"),
                }
            })
            .map_err(|e| TargetError(format!("cannot start the embedded broker: {e}")))?;
        let e = Embedded { v3, v5, thread };
        for addr in [v3, v5] {
            wait_accepting(&addr.to_string(), deadline, || e.died()).await?;
        }
        Ok(e)
    }

    pub fn v3_addr(&self) -> String {
        self.v3.to_string()
    }

    pub fn v5_addr(&self) -> String {
        self.v5.to_string()
    }

    pub fn died(&self) -> Option<String> {
        self.thread
            .is_finished()
            .then(|| "the embedded broker's thread ended".to_string())
    }
}

fn config(v3: SocketAddr, v5: SocketAddr) -> Config {
    let server = |name: &str, listen| ServerSettings {
        name: name.into(),
        listen,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            // A u16: 60 s is close to its ceiling and longer than any scenario.
            connection_timeout_ms: 60_000,
            // The MQTT maximum.
            max_payload_size: 268_435_455,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 104_857_600,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server("v4-1", v3))])),
        v5: Some(HashMap::from([("1".to_string(), server("v5-1", v5))])),
        ..Config::default()
    }
}
