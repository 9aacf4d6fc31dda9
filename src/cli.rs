//! Command-line definitions (clap). Parsing only: the commands themselves
//! live in [`crate::app`].

use crate::codec::ProtocolVersion;
use crate::target::WebSocketUrl;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "mqttspec",
    version,
    about = "MQTT 3.1.1 and 5.0 conformance tests with a verdict per normative statement",
    long_about = "MQTT 3.1.1 and 5.0 conformance tests with a verdict per normative statement.\n\n\
                  Without a subcommand, runs every scenario against the embedded broker.",
    after_help = "Exit status: 0 no failures (skips allowed), 1 a failure or error, \
                  2 usage or scenario-file error, 3 target unreachable or died."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a broker and write reports.
    Run(Box<RunArgs>),
    /// List the selected scenarios: one line per scenario and protocol.
    List(ListArgs),
    /// Show how many normative statements the scenarios check.
    Coverage(CoverageArgs),
    /// Decode MQTT packets given in hex and explain what is wrong with them.
    Decode(DecodeArgs),
    /// Fuzz a broker: mutated sessions judged for crashes, hangs, memory
    /// growth and spec violations; findings are written as scenarios.
    Fuzz(Box<FuzzArgs>),
    /// Build the cross-implementation site (index.html and a page per scenario) from JSON reports.
    Matrix(MatrixArgs),
    /// Explain a statement: our summary, the scenarios that check it, its verdict in a report.
    Explain(ExplainArgs),
    /// Run one scenario of a JSON report again, against the same target, with its transcript.
    Replay(ReplayArgs),
}

/// Which scenarios to run or list.
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    /// Scenario ids to select: substrings, or globs such as `publish/*`;
    /// a scenario matching any of them is selected.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Protocol versions to test.
    #[arg(long, value_name = "VERSION", default_value = "all", value_parser = parse_protocols)]
    pub protocol: Protocols,
    /// Only scenarios checking a statement matching this glob (e.g. `MQTT-3.3.*`); repeatable.
    #[arg(long = "requirement", value_name = "GLOB")]
    pub requirements: Vec<String>,
    /// Read scenarios from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// A running broker, `tcp://HOST:PORT` (default: the embedded broker).
    #[arg(long, value_name = "tcp://HOST:PORT", value_parser = parse_tcp_target, conflicts_with = "spawn")]
    pub target: Option<String>,
    /// Start the broker with this shell command; `{port}` is replaced by a free port
    /// (and `{ws_port}`, if present, by another one for MQTT over WebSocket).
    #[arg(long, value_name = "COMMAND", value_parser = parse_spawn)]
    pub spawn: Option<String>,
    /// Test a client library instead of a broker: per client scenario, this shell
    /// command is started with `{host}` and `{port}` replaced by a fresh listener
    /// of mqttspec, and driven over its stdin/stdout (docs/driver-protocol.md).
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["target", "spawn", "websocket"])]
    pub client: Option<String>,
    /// The broker's MQTT-over-WebSocket endpoint, `ws://HOST:PORT/PATH`; enables
    /// the WebSocket scenarios (capability `websocket`).
    #[arg(long, value_name = "ws://HOST:PORT/PATH", value_parser = WebSocketUrl::parse)]
    pub websocket: Option<WebSocketUrl>,
    /// Scenarios run at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = default_jobs(), value_parser = parse_jobs)]
    pub jobs: usize,
    /// Run a failed or errored scenario again, alone, after the others, this
    /// many times; a different outcome makes it flaky (0: never).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub retries: usize,
    /// Deadline of a scenario that sets none, e.g. `10s`, `500ms`, `1.5s`.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The broker's declared limits and optional features (YAML).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report (reports/schema/report.schema.json).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a Markdown report (per-requirement table).
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Write junit.xml, report.json, report.md and report.html into DIR.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// No progress: only the final summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the verdicts other than pass as a baseline (YAML, the format of
    /// tests/expected/), each failure with a reason to fill in.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,
    /// Compare with a baseline: exit 0 unless a scenario newly fails or
    /// errors, or fails on another statement; known failures are skipped in JUnit.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// `-v`: the wire transcript under each failure; `-vv`: under every scenario.
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Default for RunArgs {
    /// What `mqttspec` without a subcommand does.
    fn default() -> Self {
        RunArgs {
            selection: Selection::default(),
            target: None,
            spawn: None,
            client: None,
            websocket: None,
            jobs: default_jobs(),
            retries: 1,
            timeout: Duration::from_secs(10),
            profile: None,
            junit: None,
            json: None,
            markdown: None,
            html: None,
            report_dir: None,
            quiet: false,
            verbose: 0,
            save_baseline: None,
            baseline: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub selection: Selection,
}

#[derive(Debug, Clone, Args)]
pub struct CoverageArgs {
    /// Only this protocol version (default: both).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub protocol: Option<ProtocolVersion>,
    /// Print the coverage as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read scenarios from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// Version of the packets before any CONNECT; a CONNECT sets the
    /// version of what follows it [default: 3.1.1].
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub protocol: Option<ProtocolVersion>,
    /// Packet bytes in hex, spaces allowed (`10 0c 00 04 ...`); several packets
    /// may follow each other; `-` reads the hex from standard input.
    #[arg(value_name = "HEX", required = true)]
    pub hex: Vec<String>,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "Exit status: 0 no findings, 1 findings, 2 usage error, \
                        3 target unreachable at the start.")]
pub struct FuzzArgs {
    /// A running broker, `tcp://HOST:PORT` (default: the embedded broker).
    #[arg(long, value_name = "tcp://HOST:PORT", value_parser = parse_tcp_target, conflicts_with = "spawn")]
    pub target: Option<String>,
    /// Start the broker with this shell command (`{port}` is replaced by a
    /// free port); it is restarted after a crash or a hang.
    #[arg(long, value_name = "COMMAND", value_parser = parse_spawn)]
    pub spawn: Option<String>,
    /// Protocol versions to fuzz.
    #[arg(long, value_name = "VERSION", default_value = "all", value_parser = parse_protocols)]
    pub protocol: Protocols,
    /// How long to fuzz (default 60s unless --sessions is given).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many sessions.
    #[arg(long, value_name = "N")]
    pub sessions: Option<u64>,
    /// Seed of the input sequence (default: from the clock; printed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Sessions in flight at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 32, value_parser = parse_jobs)]
    pub jobs: usize,
    /// Run part I of N disjoint parts of the input space (`2/4`).
    #[arg(long, value_name = "I/N", default_value = "1/1", value_parser = parse_shard)]
    pub shard: (u64, u64),
    /// Write each finding as a scenario file into DIR.
    #[arg(long, value_name = "DIR")]
    pub findings: Option<PathBuf>,
    /// Write the summary as JSON (reports/schema/fuzz-summary.schema.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// More seed inputs: scenario files, and other files as raw bytes.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// A spawned broker whose processes together use more resident memory
    /// than this (MiB) is a finding.
    #[arg(long = "rss-limit", value_name = "MiB", value_parser = clap::value_parser!(u64).range(1..))]
    pub rss_limit: Option<u64>,
    /// How findings name the broker, e.g. "mosquitto 2.0.11".
    #[arg(long, value_name = "NAME")]
    pub broker: Option<String>,
    /// No status line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `I/N` with 1 <= I <= N.
fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("`{s}`: expected I/N with 1 <= I <= N, e.g. 2/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.parse::<u64>().map_err(|_| bad())?,
        n.parse::<u64>().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    /// JSON reports (`mqttspec run --json`), one or more per implementation;
    /// `<implementation>-<version>-<mqtt version>.json` names share a column.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// Folder to write `index.html` and the case pages into.
    #[arg(long, value_name = "DIR", default_value = "reports/site")]
    pub out: PathBuf,
    /// Show scenario YAML from this directory instead of the built-in cases.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Also rewrite the results table in this Markdown file, between
    /// `<!-- results:begin ... -->` and `<!-- results:end -->`.
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// A statement ID, e.g. `MQTT-3.1.2-3`.
    #[arg(value_name = "ID")]
    pub id: String,
    /// A JSON report to take the statement's last verdict from.
    #[arg(long, value_name = "REPORT.json")]
    pub report: Option<PathBuf>,
    /// Read scenarios from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The JSON report whose target and scenario to use.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// The scenario id, exactly as in the report.
    #[arg(value_name = "SCENARIO-ID")]
    pub scenario: String,
    /// Protocol version (default: every version the report ran it on).
    #[arg(long, value_name = "VERSION", default_value = "all", value_parser = parse_protocols)]
    pub protocol: Protocols,
    /// Read scenarios from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
}

/// `--protocol`: one version or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocols {
    #[default]
    All,
    Only(ProtocolVersion),
}

impl Protocols {
    pub fn includes(self, v: ProtocolVersion) -> bool {
        match self {
            Protocols::All => true,
            Protocols::Only(p) => p == v,
        }
    }

    /// The versions selected, in order.
    pub fn versions(self) -> Vec<ProtocolVersion> {
        match self {
            Protocols::All => vec![ProtocolVersion::V3_1_1, ProtocolVersion::V5],
            Protocols::Only(p) => vec![p],
        }
    }
}

/// Number of CPUs × 4: scenarios mostly wait on the network.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 4
}

fn parse_protocols(s: &str) -> Result<Protocols, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Protocols::All);
    }
    parse_version(s).map(Protocols::Only)
}

/// 3.1.1 or 5.0 (3.1 is only recognised when decoding, never tested).
fn parse_version(s: &str) -> Result<ProtocolVersion, String> {
    match s.parse::<ProtocolVersion>() {
        Ok(ProtocolVersion::V3_1) | Err(_) => Err(format!(
            "unknown MQTT version `{s}` (expected 3.1.1, 5.0 or all)"
        )),
        Ok(v) => Ok(v),
    }
}

/// `tcp://HOST:PORT` or `HOST:PORT` -> `HOST:PORT`.
pub fn parse_tcp_target(s: &str) -> Result<String, String> {
    let addr = s.strip_prefix("tcp://").unwrap_or(s);
    if addr.contains("://") {
        return Err(format!("`{s}`: only tcp:// targets are supported"));
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("`{s}`: expected tcp://HOST:PORT"))?;
    let host_ok = !host.is_empty() && !host.contains('/');
    match port.parse::<u16>() {
        Ok(p) if p != 0 && host_ok => Ok(addr.to_string()),
        _ => Err(format!(
            "`{s}`: expected tcp://HOST:PORT with a port from 1 to 65535"
        )),
    }
}

fn parse_spawn(s: &str) -> Result<String, String> {
    if !s.contains("{port}") {
        return Err("the command must contain `{port}`, where the broker's port goes".into());
    }
    Ok(s.to_string())
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}`: expected a number of at least 1")),
    }
}

/// `500ms`, `10s`, `1.5s`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}`: expected a duration such as 500ms, 10s or 1.5s");
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        return Err(bad());
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    let secs = num.parse::<f64>().map_err(|_| bad())? * unit;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!(
            "`{s}`: expected a duration above 0 and at most 24h"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_defaults_and_options() {
        let cli = Cli::try_parse_from(["mqttspec", "run"]).unwrap();
        let Some(Command::Run(r)) = cli.command else {
            panic!()
        };
        assert_eq!(r.timeout, Duration::from_secs(10));
        assert_eq!(r.jobs, default_jobs());
        assert_eq!(r.selection.protocol, Protocols::All);

        let cli = Cli::try_parse_from([
            "mqttspec",
            "run",
            "publish/*",
            "connect/*",
            "--target",
            "tcp://localhost:1883",
            "--protocol",
            "5.0",
            "--requirement",
            "MQTT-3.3.*",
            "--requirement",
            "MQTT-4.*",
            "--jobs",
            "3",
            "--timeout",
            "1.5s",
            "--report-dir",
            "out",
            "-q",
        ])
        .unwrap();
        let Some(Command::Run(r)) = cli.command else {
            panic!()
        };
        assert_eq!(r.selection.filters, ["publish/*", "connect/*"]);
        assert_eq!(r.target.as_deref(), Some("localhost:1883"));
        assert_eq!(r.selection.protocol, Protocols::Only(ProtocolVersion::V5));
        assert_eq!(r.selection.requirements, ["MQTT-3.3.*", "MQTT-4.*"]);
        assert_eq!((r.jobs, r.timeout), (3, Duration::from_millis(1500)));
        assert!(r.quiet);
    }

    #[test]
    fn no_subcommand_means_a_default_run() {
        let cli = Cli::try_parse_from(["mqttspec"]).unwrap();
        assert!(cli.command.is_none());
        let d = RunArgs::default();
        assert_eq!((d.target, d.spawn, d.quiet), (None, None, false));
        assert_eq!(
            (d.jobs, d.timeout),
            (default_jobs(), Duration::from_secs(10))
        );
    }

    #[test]
    fn usage_errors() {
        for args in [
            &[
                "mqttspec",
                "run",
                "--target",
                "tcp://h:1",
                "--spawn",
                "b {port}",
            ][..],
            &["mqttspec", "run", "--spawn", "broker -p 1883"],
            &["mqttspec", "run", "--target", "http://h:1"],
            &["mqttspec", "run", "--target", "host"],
            &["mqttspec", "run", "--target", "host:0"],
            &["mqttspec", "run", "--protocol", "3.1"],
            &["mqttspec", "run", "--jobs", "0"],
            &["mqttspec", "run", "--timeout", "10"],
            &["mqttspec", "decode"],
            &["mqttspec", "coverage", "--protocol", "all"],
            &["mqttspec", "frobnicate"],
        ] {
            let e = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn fuzz_options() {
        let cli = Cli::try_parse_from([
            "mqttspec",
            "fuzz",
            "--spawn",
            "b -p {port}",
            "--shard",
            "2/4",
            "--sessions",
            "10",
            "--seed",
            "7",
            "--rss-limit",
            "512",
        ])
        .unwrap();
        let Some(Command::Fuzz(f)) = cli.command else {
            panic!()
        };
        assert_eq!(
            (f.shard, f.sessions, f.seed, f.rss_limit),
            ((2, 4), Some(10), Some(7), Some(512))
        );
        for bad in [
            &["mqttspec", "fuzz", "--shard", "0/4"][..],
            &["mqttspec", "fuzz", "--shard", "5/4"],
            &["mqttspec", "fuzz", "--shard", "x"],
            &["mqttspec", "fuzz", "--rss-limit", "0"],
            &[
                "mqttspec",
                "fuzz",
                "--target",
                "tcp://h:1",
                "--spawn",
                "b {port}",
            ],
        ] {
            assert_eq!(
                Cli::try_parse_from(bad).unwrap_err().exit_code(),
                2,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "s", "-1s", "1e3s", "0s", "1h", "1.5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
