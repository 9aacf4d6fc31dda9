//! `expect_one_of` and `expect_count`: one matcher, several connections.

use super::{duration, list, Fields, StepContext};
use crate::scenario::model::ExpectCount;
use crate::scenario::yaml::{from_node, DeError, Node};
use std::time::Duration;

/// Default of `quiet`: how long the connections must stay silent after the
/// last expected packet.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(500);
/// Largest `count`.
pub const MAX_COUNT: usize = 10_000;

impl StepContext<'_> {
    /// `one_of`: `expect_one_of` (exactly one packet); else `expect_count`.
    pub(super) fn expect_across(
        &mut self,
        body: &Node,
        one_of: bool,
    ) -> Result<ExpectCount, DeError> {
        let keys: &[&str] = if one_of {
            &["on", "packet", "within", "quiet", "checks", "level"]
        } else {
            &[
                "on", "packet", "count", "within", "quiet", "checks", "level",
            ]
        };
        let what = if one_of {
            "{on: [a, b, ...], packet: ...}"
        } else {
            "{on: [a, b, ...], packet: ..., count: N}"
        };
        let f = Fields::new(body, what, keys)?;
        let on_node = f.req("on")?;
        let mut on: Vec<String> = Vec::new();
        for n in list(on_node, "connection names")? {
            let name = self.on(n)?;
            if on.contains(&name) {
                return Err(DeError::at(n.loc, format!("`{name}` is listed twice")));
            }
            on.push(name);
        }
        if on.is_empty() {
            return Err(DeError::at(on_node.loc, "list at least one connection"));
        }
        let count = match f.get("count") {
            None if one_of => 1,
            None => return Err(DeError::at(body.loc, "missing field `count`")),
            Some(n) => {
                let c = from_node::<usize>(n)?;
                if c == 0 || c > MAX_COUNT {
                    return Err(DeError::at(
                        n.loc,
                        format!("`count` is 1 to {MAX_COUNT}; use expect_nothing for none"),
                    ));
                }
                c
            }
        };
        let (packet, captures) = self.matcher(f.req("packet")?, &[])?;
        let within = f.get("within").map(duration).transpose()?;
        let quiet = f
            .get("quiet")
            .map(duration)
            .transpose()?
            .unwrap_or(DEFAULT_QUIET);
        let check = self.check(&f)?;
        self.captured.extend(captures);
        Ok(ExpectCount {
            on,
            packet,
            count,
            one_of,
            within,
            quiet,
            check,
        })
    }
}
