//! What a run prints: progress while it runs (a bar on a terminal, one
//! plain line per finished scenario otherwise) and a short summary at the end.

use crate::outcome::{Direction, RunReport, ScenarioResult, Verdict};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Where the console text of a run goes. Write errors (a closed pipe) are
/// ignored: the run goes on and its reports are still written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    /// When a report is written to standard output.
    Stderr,
}

impl Stream {
    pub fn write(self, text: &str) {
        let _ = match self {
            Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }
}

/// Reports each finished scenario. Shared by the tasks of a run, so every
/// method takes `&self`.
pub enum Progress {
    Bar(ProgressBar),
    Lines(Stream),
    Quiet,
}

impl Progress {
    /// A bar when both output streams are terminals, plain lines otherwise
    /// (CI logs), nothing with `quiet`.
    pub fn new(total: usize, quiet: bool, stream: Stream) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return Progress::Lines(stream);
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress::Bar(bar)
    }

    pub fn finished(&self, r: &ScenarioResult) {
        match self {
            Progress::Quiet => {}
            Progress::Lines(stream) => stream.write(&format!("{}\n", line(r))),
            Progress::Bar(bar) => {
                // Problems stay visible above the bar; passes only move it.
                if matches!(r.verdict, Verdict::Fail | Verdict::Error) {
                    bar.println(line(r));
                }
                bar.set_message(r.id.clone());
                bar.inc(1);
            }
        }
    }

    pub fn done(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// `fail  publish/qos-3-closes 3.1.1 12ms`.
pub fn line(r: &ScenarioResult) -> String {
    format!(
        "{:<5} {} {} {}ms",
        r.verdict,
        r.id,
        r.protocol,
        r.duration.as_millis()
    )
}

/// How the summary is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// 0: failures as one line each; 1 (`-v`): with the transcript of each
    /// failure and error; 2 (`-vv`): the transcript of every scenario.
    pub verbose: u8,
    /// ANSI colours (only on a terminal, and never with `NO_COLOR` set).
    pub color: bool,
}

impl Style {
    /// Colour when `stream` is a terminal and `NO_COLOR` is unset or
    /// empty (<https://no-color.org>).
    pub fn for_stream(verbose: u8, stream: Stream) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let terminal = match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        };
        Style {
            verbose,
            color: !no_color && terminal,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The end-of-run summary: counts, each failure and error with its
/// statement and message, the dead target if any, the reports written.
pub fn summary(report: &RunReport, written: &[PathBuf]) -> String {
    summary_styled(report, written, &Style::default())
}

/// [`summary`], with transcripts by verbosity and colours by `style`; it
/// ends with counts per section and the reasons scenarios were skipped
/// (each says how to enable what is missing).
pub fn summary_styled(report: &RunReport, written: &[PathBuf], style: &Style) -> String {
    let sum = report.summary();
    let meta = &report.meta;
    let mut s = format!("target: {}", meta.target);
    if let Some(b) = &meta.broker {
        s.push_str(&format!(" ({b})"));
    }
    let took = if meta.duration_ms < 1000 {
        format!("{}ms", meta.duration_ms)
    } else {
        format!("{:.1}s", meta.duration_ms as f64 / 1000.0)
    };
    s.push_str(&format!(
        ", {took}\nscenarios:    {}\nrequirements: {}\n",
        sum.scenarios, sum.requirements
    ));
    for r in &report.scenarios {
        let why = r.message.as_deref().unwrap_or("no detail");
        match r.verdict {
            Verdict::Fail => s.push_str(&format!(
                "{}  {} {} ({}): {}\n",
                style.paint("1;31", "FAIL"),
                r.charged_statement().unwrap_or("?"),
                r.id,
                r.protocol,
                one_line(why)
            )),
            Verdict::Error => s.push_str(&format!(
                "{} {} ({}): {}\n",
                style.paint("1;33", "ERROR"),
                r.id,
                r.protocol,
                one_line(why)
            )),
            Verdict::Pass | Verdict::Skip | Verdict::NotRun if style.verbose >= 2 => {
                s.push_str(&format!(
                    "{} {} ({})\n",
                    style.paint(
                        if r.verdict == Verdict::Pass {
                            "32"
                        } else {
                            "2"
                        },
                        &format!("{:<5}", r.verdict.as_str().to_uppercase())
                    ),
                    r.id,
                    r.protocol
                ))
            }
            Verdict::Pass | Verdict::Skip | Verdict::NotRun => {}
        }
        let problem = matches!(r.verdict, Verdict::Fail | Verdict::Error);
        if style.verbose >= 2 || (style.verbose == 1 && problem) {
            s.push_str(&transcript(r, style));
        }
    }
    if let Some(why) = &report.target_died {
        // The first line says what happened; the rest is the broker's
        // stderr tail, kept line by line (already at most 40 lines).
        let mut lines = why.lines();
        s.push_str(&format!(
            "the target died: {}\n",
            one_line(lines.next().unwrap_or(""))
        ));
        for l in lines.take(41) {
            s.push_str(&format!("  {}\n", one_line(l)));
        }
    }
    if let Some(sig) = &report.interrupted {
        s.push_str(&format!(
            "interrupted by {sig}: the scenarios not finished are marked not run\n"
        ));
    }
    if !report.scenarios.is_empty() {
        s.push_str(&by_section(report));
        s.push_str(&skipped(report));
    }
    if !written.is_empty() {
        let paths: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        s.push_str(&format!("reports: {}\n", paths.join(", ")));
    }
    s
}

/// The wire transcript of one scenario, indented under its line: time,
/// connection, direction, decoded packet, bytes; the packet the failure
/// observed is marked with the statement it broke.
pub fn transcript(r: &ScenarioResult, style: &Style) -> String {
    let mut out = String::new();
    let marked = violating_entry(r);
    for (i, e) in r.transcript.entries.iter().enumerate() {
        let arrow = match e.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
            Direction::Event => "**",
        };
        let mut line = format!(
            "{:>9.1}ms {} {} {}",
            e.at_ms,
            e.connection,
            arrow,
            one_line(&e.text)
        );
        if !e.hex.is_empty() {
            line.push_str(&format!("  [{}]", e.hex));
        }
        if marked == Some(i) {
            let id = r.charged_statement().unwrap_or("the rule");
            out.push_str(&format!(
                "  {} {}\n",
                style.paint("1;31", ">>"),
                style.paint("1", &format!("{line}   <- violates {id}"))
            ));
        } else {
            out.push_str(&format!("     {line}\n"));
        }
    }
    if let Some(e) = &r.expected {
        out.push_str(&format!("     expected: {}\n", one_line(e)));
    }
    if let Some(o) = &r.observed {
        out.push_str(&format!("     observed: {}\n", one_line(o)));
    }
    for n in &r.notes {
        out.push_str(&format!("     note: {}\n", one_line(&n.message)));
    }
    out
}

/// The received packet a failure observed (the last one equal to
/// `observed`): the packet that broke the rule.
pub fn violating_entry(r: &ScenarioResult) -> Option<usize> {
    if r.verdict != Verdict::Fail {
        return None;
    }
    let observed = r.observed.as_deref()?;
    r.transcript
        .entries
        .iter()
        .rposition(|e| e.direction == Direction::Received && e.text == observed)
}

/// `by section: 3.1.1 3.3 12/1/0/2 ...`: scenario counts per protocol and
/// section, as pass/fail/error/skip.
fn by_section(report: &RunReport) -> String {
    let mut map: BTreeMap<
        (
            crate::codec::ProtocolVersion,
            crate::outcome::StatementKey,
            &str,
        ),
        crate::outcome::Counts,
    > = BTreeMap::new();
    for r in &report.scenarios {
        map.entry((
            r.protocol,
            crate::outcome::statement_key(&r.section),
            &r.section,
        ))
        .or_default()
        .add(r.verdict);
    }
    let mut s = String::from("by section (pass/fail/error/skip):\n");
    let mut current = None;
    for ((p, _, sec), c) in &map {
        if current != Some(*p) {
            if current.is_some() {
                s.push('\n');
            }
            s.push_str(&format!("  {p}:"));
            current = Some(*p);
        }
        s.push_str(&format!(
            " {sec} {}/{}/{}/{}",
            c.pass, c.fail, c.error, c.skip
        ));
    }
    s.push('\n');
    s
}

/// Each distinct reason for a skip (it says how to enable what is
/// missing), with how many scenarios it kept from running.
fn skipped(report: &RunReport) -> String {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in report
        .scenarios
        .iter()
        .filter(|r| r.verdict == Verdict::Skip)
    {
        *reasons
            .entry(r.message.as_deref().unwrap_or("no reason given"))
            .or_default() += 1;
    }
    let mut s = String::new();
    if !reasons.is_empty() {
        s.push_str("skipped:\n");
        for (why, n) in reasons {
            s.push_str(&format!("  {n:>4} {}\n", one_line(why)));
        }
    }
    s
}

/// Messages may carry a peer's bytes: keep each on one line, controls escaped.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_string(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn summary_lists_counts_failures_and_reports() {
        let mut run = sample::run();
        run.scenarios[3].message = Some("refused\nby peer \u{7}".into());
        let text = summary(
            &run,
            &[
                PathBuf::from("out/junit.xml"),
                PathBuf::from("out/report.json"),
            ],
        );
        assert_eq!(
            text,
            "target: tcp://127.0.0.1:1883 (mosquitto 2.0.18), 1.2s\n\
             scenarios:    2 passed, 1 failed, 1 errors, 1 skipped\n\
             requirements: 2 passed, 1 failed, 1 errors, 2 skipped\n\
             FAIL  MQTT-3.3.1-4 publish/qos-3-closes (3.1.1): the connection stayed open <after> & \"QoS 3\"\n\
             ERROR subscribe/wildcard (5.0): refused by peer \\u{7}\n\
             by section (pass/fail/error/skip):\n  \
             3.1.1: 3.1 1/0/0/0 3.3 0/1/0/0\n  \
             5.0: 3.3 1/0/0/1 3.8 0/0/1/0\n\
             skipped:\n     \
             1 needs retain: the broker does not offer it\n\
             reports: out/junit.xml, out/report.json\n"
        );
    }

    #[test]
    fn verbose_shows_transcripts_with_the_violating_packet_marked() {
        let run = sample::run();
        let quiet = summary(&run, &[]);
        assert!(!quiet.contains("PUBACK id=1"));
        let v = summary_styled(
            &run,
            &[],
            &Style {
                verbose: 1,
                color: false,
            },
        );
        // Under the failure: every entry, timestamped, decoded and in hex;
        // the PUBACK the failure observed is marked with the statement.
        assert!(v.contains(
            "FAIL  MQTT-3.3.1-4 publish/qos-3-closes (3.1.1): the connection stayed open <after> & \"QoS 3\"\n\
             \x20          0.4ms a -> PUBLISH qos=3 topic=\"x]]>y\" payload=<script>\\u{1}  [36070003612f620001]\n\
             \x20 >>       1.5ms a <- PUBACK id=1  [40020001]   <- violates MQTT-3.3.1-4\n\
             \x20    expected: close\n\
             \x20    observed: PUBACK id=1\n"
        ), "{v}");
        // Passes are not listed with -v, they are with -vv.
        assert!(!v.contains("PASS  connect/reserved-flag"));
        let vv = summary_styled(
            &run,
            &[],
            &Style {
                verbose: 2,
                color: false,
            },
        );
        assert!(vv.contains("PASS  connect/reserved-flag (3.1.1)\n"));
        assert!(
            vv.contains(
                "PASS  publish/qos-3-closes (5.0)\n     note: closed without DISCONNECT 0x81\n"
            ),
            "{vv}"
        );
        assert!(!vv.contains('\x1b'));
        let coloured = summary_styled(
            &run,
            &[],
            &Style {
                verbose: 1,
                color: true,
            },
        );
        assert!(coloured.contains("\x1b[1;31mFAIL\x1b[0m  MQTT-3.3.1-4"));
    }

    #[test]
    fn plain_line() {
        assert_eq!(
            line(&sample::run().scenarios[1]),
            "fail  publish/qos-3-closes 3.1.1 12ms"
        );
    }
}
