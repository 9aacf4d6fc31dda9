//! The `drive` and `expect_event` steps: commands to and events from the
//! adapter of a client under test (see crate::driver).

use super::steps::Runner;
use super::verdict::Stop;
use crate::driver::match_fields;
use crate::scenario::{Drive, ExpectEvent};
use serde_json::Value;
use tokio::time::Instant;

impl Runner<'_> {
    pub(super) async fn drive(&mut self, d: &Drive) -> Result<(), Stop> {
        let Some(driver) = self.endpoint.driver.clone() else {
            return Err(self.error("`drive` needs a client under test (run with --client)"));
        };
        let mut command = self
            .vars
            .substitute(&d.command)
            .map_err(|e| self.error(e))?;
        // The adapter learns the trial's MQTT version from `connect`.
        if command.get("cmd").and_then(Value::as_str) == Some("connect") {
            if let Value::Object(m) = &mut command {
                m.insert("protocol".into(), Value::String(self.version.to_string()));
            }
        }
        driver.send(&command).await.map_err(|e| self.error(e))
    }

    pub(super) async fn expect_event(&mut self, e: &ExpectEvent) -> Result<(), Stop> {
        let Some(driver) = self.endpoint.driver.clone() else {
            return Err(self.error("`expect_event` needs a client under test (run with --client)"));
        };
        let within = self.within(e.within);
        let until = Instant::now() + within;
        let expected = self.vars.substitute_lenient(&e.fields);
        let want = format!("a `{}` event with {expected}", e.event);
        // Errors the library reported while we waited explain a missing event.
        let mut errors = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let Some(event) = driver.next_event(left).await else {
                let mut observed = format!("no `{}` event within {within:?}", e.event);
                if !errors.is_empty() {
                    observed.push_str(&format!(" (the adapter reported: {})", errors.join("; ")));
                }
                return self.event_missed(e, want, observed);
            };
            let kind = event.get("event").and_then(Value::as_str).unwrap_or("");
            if kind != e.event {
                if kind == "error" {
                    errors.push(
                        event
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_string(),
                    );
                }
                continue;
            }
            return match match_fields(&expected, &event) {
                Ok(()) => Ok(()),
                Err(diff) => self.event_missed(e, want, format!("{event} ({diff})")),
            };
        }
    }

    /// A failure when the step names the statement it checks, else a tool
    /// error: the adapter or the library did not do what was asked.
    fn event_missed(
        &mut self,
        e: &ExpectEvent,
        expected: String,
        observed: String,
    ) -> Result<(), Stop> {
        if e.judged {
            return self.fail(
                &e.check,
                format!("expected {expected}, observed {observed}"),
                Some(expected),
                Some(observed),
            );
        }
        Err(self.error(format!(
            "the client adapter did not report {expected}: {observed}"
        )))
    }
}
