use serde::{Deserialize, Serialize};

/// The body of packets that carry nothing (PINGREQ, PINGRESP); written
/// `pingreq: {}` in YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

impl Empty {
    pub(crate) fn read(
        r: &mut crate::codec::primitives::Reader<'_, '_>,
    ) -> Result<Empty, crate::codec::DecodeError> {
        r.finish("packet", None)?;
        Ok(Empty {})
    }
}
