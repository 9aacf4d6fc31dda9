//! `expect_one_of` and `expect_count`: packets matching one matcher,
//! counted across several connections, then quiet on all of them.

use super::connection::Event;
use super::matcher::{match_packet, show, MatchError};
use super::steps::Runner;
use super::transcript::describe;
use crate::scenario::ExpectCount;
use std::collections::BTreeMap;
use std::future::poll_fn;
use std::task::Poll;
use tokio::time::Instant;

type StepResult = Result<(), super::verdict::Stop>;

impl Runner<'_> {
    pub(super) async fn expect_count(&mut self, c: &ExpectCount) -> StepResult {
        for name in &c.on {
            self.conn(name)?;
        }
        let within = self.within(c.within);
        let until = Instant::now() + within;
        let mut got: BTreeMap<String, usize> = c.on.iter().map(|n| (n.clone(), 0)).collect();
        let mut total = 0;
        while total < c.count {
            let Some((on, event)) = self.next_across(&c.on, until).await else {
                return self.too_few(c, &got, within);
            };
            self.count_one(c, &on, event)?;
            *got.entry(on).or_default() += 1;
            total += 1;
        }
        let quiet_until = Instant::now() + c.quiet;
        match self.next_across(&c.on, quiet_until).await {
            None => Ok(()),
            Some((on, event)) => {
                let extra = match &event {
                    Event::Packet { packet, .. }
                        if match_packet(&c.packet, packet, &self.vars).is_ok() =>
                    {
                        format!(
                            "one more matching packet on {on} within {:?} after the last expected one",
                            c.quiet
                        )
                    }
                    other => format!("{} on {on} within {:?}", other.describe(), c.quiet),
                };
                let expected = self.expected_text(c);
                let check = self.check_for(&c.check, &event);
                self.fail(
                    &check,
                    format!("expected {expected}, then quiet; {extra} ({})", tally(&got)),
                    Some(expected),
                    Some(extra),
                )
            }
        }
    }

    /// One arrival while counting: it must match.
    fn count_one(&mut self, c: &ExpectCount, on: &str, event: Event) -> StepResult {
        let expected = self.expected_text(c);
        match event {
            Event::Packet { packet, notes, .. } => {
                self.take_notes(on, notes);
                match match_packet(&c.packet, &packet, &self.vars) {
                    Ok(caps) => {
                        self.capture(caps);
                        Ok(())
                    }
                    Err(MatchError::Mismatch(m)) => self.fail(
                        &c.check,
                        format!("{m} (received on {on}: {})", describe(&packet)),
                        Some(expected),
                        Some(format!("{} on {on}", describe(&packet))),
                    ),
                    Err(MatchError::Tool(t)) => Err(self.error(t)),
                }
            }
            other => {
                let observed = other.describe();
                let check = self.check_for(&c.check, &other);
                self.fail(
                    &check,
                    format!("expected {expected}, observed {observed} on {on}"),
                    Some(expected),
                    Some(format!("{observed} on {on}")),
                )
            }
        }
    }

    fn too_few(
        &mut self,
        c: &ExpectCount,
        got: &BTreeMap<String, usize>,
        within: std::time::Duration,
    ) -> StepResult {
        let expected = self.expected_text(c);
        let total: usize = got.values().sum();
        let observed = format!("{total} within {within:?} ({})", tally(got));
        self.fail(
            &c.check,
            format!("expected {expected}; {observed}"),
            Some(expected),
            Some(observed),
        )
    }

    fn expected_text(&self, c: &ExpectCount) -> String {
        let m = show(&self.vars.substitute_lenient(&c.packet));
        if c.one_of {
            format!("{m} on exactly one of {}", c.on.join(", "))
        } else {
            format!("{} x {m} in total on {}", c.count, c.on.join(", "))
        }
    }

    /// The next event on any of the open connections `names` before
    /// `until`; `None` when the time is up. Closed connections are left out.
    pub(super) async fn next_across(
        &mut self,
        names: &[String],
        until: Instant,
    ) -> Option<(String, Event)> {
        let conns = &mut self.conns;
        let next = tokio::time::timeout_at(
            until,
            poll_fn(|cx| {
                for (name, c) in conns.iter_mut() {
                    if c.closed.is_none() && names.contains(name) {
                        if let Poll::Ready(ev) = c.poll_event(cx) {
                            return Poll::Ready((name.clone(), ev));
                        }
                    }
                }
                Poll::Pending
            }),
        )
        .await;
        next.ok()
    }
}

/// "a: 1, b: 0".
fn tally(got: &BTreeMap<String, usize>) -> String {
    got.iter()
        .map(|(n, k)| format!("{n}: {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::codec::ProtocolVersion::V5;
    use crate::engine::testkit::{publish, run, scenario, FakeBroker};
    use crate::outcome::Verdict;

    fn file(step: &str) -> String {
        format!(
            "protocol: \"5.0\"\nscenarios:\n  - id: s\n    title: t\n    requirements: [MQTT-4.8.2-2]\n    steps:\n      - open: a\n      - open: b\n      - open: c\n      - {step}\n"
        )
    }

    /// Runs `step` while the broker sends `sends[i]` topics on connection i.
    async fn outcome(step: &str, sends: [&[&str]; 3]) -> crate::outcome::ScenarioResult {
        let s = scenario(&file(step));
        let mut broker = FakeBroker::start().await;
        let ep = broker.endpoint.clone();
        let script = async {
            let mut peers = Vec::new();
            for _ in 0..3 {
                peers.push(broker.connected(V5).await);
            }
            for (p, topics) in peers.iter_mut().zip(sends) {
                for t in topics {
                    p.send(&publish(t)).await;
                }
            }
            peers
        };
        let (result, _peers) = tokio::join!(run(&s, V5, &ep), script);
        result
    }

    const ONE_OF: &str =
        "expect_one_of: {on: [a, b, c], packet: {publish: {topic: t}}, within: 1s, quiet: 200ms}";

    #[tokio::test]
    async fn one_of_passes_when_exactly_one_receives() {
        let r = outcome(ONE_OF, [&[], &["t"], &[]]).await;
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
    }

    #[tokio::test]
    async fn one_of_fails_when_two_receive_or_none() {
        let r = outcome(ONE_OF, [&["t"], &[], &["t"]]).await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.violated.as_deref(), Some("MQTT-4.8.2-2"));
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("one more matching packet"),
            "{:?}",
            r.message
        );
        let r = outcome(ONE_OF, [&[], &[], &[]]).await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.message.as_deref().unwrap().contains("0 within"),
            "{:?}",
            r.message
        );
    }

    #[tokio::test]
    async fn one_of_fails_on_a_packet_that_does_not_match() {
        let r = outcome(ONE_OF, [&["u"], &[], &[]]).await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.message.as_deref().unwrap().contains("received on a"),
            "{:?}",
            r.message
        );
    }

    #[tokio::test]
    async fn count_adds_up_deliveries_across_connections() {
        let step = "expect_count: {on: [a, b, c], packet: {publish: {}}, count: 4, within: 1s, quiet: 200ms}";
        let r = outcome(step, [&["t", "t"], &["t"], &["t"]]).await;
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.message);
        let r = outcome(step, [&["t", "t"], &["t"], &[]]).await;
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(
            r.message.as_deref().unwrap().contains("a: 2, b: 1, c: 0"),
            "{:?}",
            r.message
        );
        let r = outcome(step, [&["t", "t"], &["t", "t"], &["t"]]).await;
        assert_eq!(r.verdict, Verdict::Fail);
    }
}
