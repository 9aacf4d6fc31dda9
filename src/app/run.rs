//! `mqttspec run`: select, run against the target, print, write reports,
//! and turn the outcome into an exit status.

use super::console::{self, Progress, Stream};
use super::signals;
use super::suite::{select_explained, Selected};
use super::Exit;
use crate::cli::RunArgs;
use crate::engine::EngineConfig;
use crate::outcome::RunReport;
use crate::report::write::{write_reports, Destinations};
use crate::run::{self, Interrupt, RunOptions};
use crate::scenario::{Profile, Role};
use crate::spec::catalog::Side;
use crate::target::Target;
use std::sync::Arc;

pub fn run(args: &RunArgs) -> Exit {
    let Selected {
        mut scenarios,
        filter,
        empty,
        not_covered,
        ..
    } = match select_explained(&args.selection) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(why) = empty {
        eprintln!("mqttspec: {why}");
        return Exit::Usage;
    }
    // A client under test is given only the scenarios written for clients,
    // and a broker only those written for brokers: the others cannot run
    // there, and counting them as skips would blur both sides' results.
    let (role, side) = match args.client {
        Some(_) => (Role::Server, "client"),
        None => (Role::Client, "broker"),
    };
    scenarios.retain(|s| s.role == role);
    if scenarios.is_empty() {
        eprintln!("mqttspec: no {side} scenario matches the selection");
        return Exit::Usage;
    }
    let profile = match &args.profile {
        Some(path) => match Profile::load(path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("mqttspec: {e}");
                return Exit::Usage;
            }
        },
        None => Profile::default(),
    };
    let known = match super::baseline::load(args.baseline.as_deref()) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut destinations = Destinations {
        junit: args.junit.clone(),
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        html: args.html.clone(),
        dir: args.report_dir.clone(),
        known_failures: Default::default(),
    };
    // Report paths are checked now, not after the whole run.
    if let Err(e) = destinations.check_writable() {
        eprintln!("mqttspec: {e}");
        return Exit::Usage;
    }
    // A report on standard output keeps it clean: the rest goes to stderr.
    let console = if destinations.uses_stdout() {
        Stream::Stderr
    } else {
        Stream::Stdout
    };

    let target = match (&args.target, &args.spawn) {
        _ if args.client.is_some() => Target::Client {
            command: args.client.clone().unwrap_or_default(),
        },
        (Some(addr), _) => Target::Tcp(addr.clone()),
        (None, Some(command)) => Target::Spawn {
            command: command.clone(),
        },
        (None, None) => default_target(),
    };
    let total: usize = scenarios.iter().map(|s| s.protocols.len()).sum();
    let progress = Arc::new(Progress::new(total, args.quiet, console));
    let on_result = progress.clone();
    let interrupt = Arc::new(Interrupt::default());
    let options = RunOptions {
        target,
        websocket: args.websocket.clone(),
        jobs: args.jobs,
        retries: args.retries,
        protocols: args.selection.protocol.versions(),
        engine: EngineConfig {
            scenario_timeout: args.timeout,
            ..EngineConfig::default()
        },
        profile,
        progress: Some(Arc::new(move |p: &run::Progress<'_>| {
            on_result.finished(p.result)
        })),
        interrupt: Some(interrupt.clone()),
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqttspec: cannot start the async runtime: {e}");
            return Exit::Target;
        }
    };
    let outcome = runtime.block_on(async {
        let signals = signals::watch(interrupt.clone());
        let outcome = run::run(&scenarios, &options).await;
        if let Some(s) = signals {
            s.abort();
        }
        outcome
    });
    progress.done();
    let mut report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return match interrupt.reason().as_deref() {
                Some(sig) => signal_exit(sig),
                None => Exit::Target,
            };
        }
    };

    report.requirement_globs = filter.requirement_globs();
    // A broker is tested: the statements binding clients only are not its business.
    report.not_covered = not_covered
        .into_iter()
        .filter(|(v, _, side)| report.meta.protocols.contains(v) && *side != Side::Client)
        .map(|(v, id, _)| (v, id))
        .collect();
    let mut status = exit_status(&report);
    let comparison = known.map(|(name, b)| (name, crate::baseline::compare(&report, &b)));
    if let Some((_, c)) = &comparison {
        destinations.known_failures = c.known_reasons();
        status = super::baseline::status(status, c);
    }
    if let Some(path) = &args.save_baseline {
        if let Err(e) = super::baseline::save(&report, path) {
            eprintln!("mqttspec: cannot write the baseline: {e}");
            status = Exit::Usage;
        }
    }
    let written = match write_reports(&report, &destinations) {
        Ok(w) => w,
        Err(e) => {
            console.write(&console::summary(&report, &[]));
            eprintln!("mqttspec: cannot write a report: {e}");
            return if status == Exit::Ok {
                Exit::Usage
            } else {
                status
            };
        }
    };
    let style = console::Style::for_stream(args.verbose, console);
    console.write(&console::summary_styled(&report, &written, &style));
    if let Some((name, c)) = &comparison {
        console.write(&c.render(name));
    }
    status
}

/// 130 / 143 when a signal stopped the run, 3 when the target died, 1 on
/// any failure or error, else 0.
pub fn exit_status(report: &RunReport) -> Exit {
    if let Some(sig) = &report.interrupted {
        signal_exit(sig)
    } else if report.target_died.is_some() {
        Exit::Target
    } else if report.is_success() {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

fn signal_exit(sig: &str) -> Exit {
    if sig == "SIGTERM" {
        Exit::Terminated
    } else {
        Exit::Interrupted
    }
}

#[cfg(feature = "embedded-broker")]
fn default_target() -> Target {
    Target::Embedded
}

#[cfg(not(feature = "embedded-broker"))]
fn default_target() -> Target {
    Target::Tcp("127.0.0.1:1883".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Verdict;
    use crate::report::sample;

    #[test]
    fn exit_status_by_outcome() {
        let mut run = sample::run();
        assert_eq!(exit_status(&run), Exit::Failed);
        run.scenarios
            .retain(|s| matches!(s.verdict, Verdict::Pass | Verdict::Skip));
        assert_eq!(exit_status(&run), Exit::Ok);
        run.target_died = Some("exited with status 1".into());
        assert_eq!(exit_status(&run), Exit::Target);
        run.interrupted = Some("SIGTERM".into());
        assert_eq!(exit_status(&run), Exit::Terminated);
        run.interrupted = Some("SIGINT".into());
        assert_eq!(exit_status(&run), Exit::Interrupted);
        run.interrupted = None;
        run.scenarios.clear();
        run.target_died = None;
        assert_eq!(exit_status(&run), Exit::Ok);
    }
}
