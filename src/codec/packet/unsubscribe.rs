use crate::codec::Properties;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Unsubscribe {
    /// Assigned by the engine when left out.
    pub packet_id: Option<u16>,
    pub properties: Properties,
    pub filters: Vec<String>,
}
