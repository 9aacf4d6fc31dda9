use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// UNSUBACK. 3.1.1 carries only the packet identifier; 5.0 adds properties
/// and one reason code per filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Unsuback {
    pub packet_id: u16,
    pub properties: Properties,
    pub reason_codes: Vec<u8>,
}
