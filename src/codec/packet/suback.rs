use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// SUBACK: one return code (3.1.1) or reason code (5.0) per filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Suback {
    pub packet_id: u16,
    pub properties: Properties,
    pub reason_codes: Vec<u8>,
}
