use crate::codec::Properties;
use serde::{Deserialize, Serialize};

/// AUTH (5.0 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    pub reason_code: u8,
    pub properties: Properties,
}
