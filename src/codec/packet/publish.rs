use crate::codec::{Binary, Properties};
use serde::{Deserialize, Serialize};

/// PUBLISH. `packet_id` is present exactly when `qos` > 0 on the wire; when
/// sending a QoS > 0 PUBLISH without one, the engine assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Publish {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: String,
    pub packet_id: Option<u16>,
    pub properties: Properties,
    pub payload: Binary,
}
