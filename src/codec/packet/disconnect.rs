use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// DISCONNECT. Empty in 3.1.1; in 5.0 a reason code and properties, both of
/// which may be left off the wire when they are 0 and empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Disconnect {
    pub reason_code: u8,
    pub properties: Properties,
}
