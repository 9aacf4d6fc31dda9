use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// CONNACK. `reason_code` is the Connect Return Code in 3.1.1 and the
/// Connect Reason Code in 5.0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connack {
    pub session_present: bool,
    pub reason_code: u8,
    pub properties: Properties,
}
