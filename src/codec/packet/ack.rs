use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. In 3.1.1 only
/// `packet_id` is on the wire; `reason_code` and `properties` are 5.0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ack {
    pub packet_id: u16,
    pub reason_code: u8,
    pub properties: Properties,
}
