//! What a run prints: progress while it runs (a bar on a terminal, one
//! plain line per finished scenario otherwise) and a short summary at the end.

use crate::outcome::{RunReport, ScenarioResult, Verdict};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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

/// The end-of-run summary: counts, each failure and error with its
/// statement and message, the dead target if any, the reports written.
pub fn summary(report: &RunReport, written: &[PathBuf]) -> String {
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
                "FAIL  {} {} ({}): {}\n",
                r.charged_statement().unwrap_or("?"),
                r.id,
                r.protocol,
                one_line(why)
            )),
            Verdict::Error => s.push_str(&format!(
                "ERROR {} ({}): {}\n",
                r.id,
                r.protocol,
                one_line(why)
            )),
            Verdict::Pass | Verdict::Skip | Verdict::NotRun => {}
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
    if !written.is_empty() {
        let paths: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        s.push_str(&format!("reports: {}\n", paths.join(", ")));
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
             reports: out/junit.xml, out/report.json\n"
        );
    }

    #[test]
    fn plain_line() {
        assert_eq!(
            line(&sample::run().scenarios[1]),
            "fail  publish/qos-3-closes 3.1.1 12ms"
        );
    }
}
