use crate::codec::{Binary, Properties};
use serde::{Deserialize, Serialize};

/// CONNECT. `protocol_level` 0 means "the level of the scenario's version"
/// when encoding; a decoded CONNECT always carries the level it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connect {
    pub protocol_name: String,
    pub protocol_level: u8,
    /// CleanSession in 3.1.1, Clean Start in 5.0 (the same bit).
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Binary>,
    pub properties: Properties,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            protocol_name: "MQTT".into(),
            protocol_level: 0,
            clean_session: true,
            keep_alive: 60,
            client_id: String::new(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Will {
    pub topic: String,
    pub payload: Binary,
    pub qos: u8,
    pub retain: bool,
    /// Will properties (5.0).
    pub properties: Properties,
}
