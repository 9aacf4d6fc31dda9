//! `mqttspec run`: select, run against the target, print, write reports,
//! and turn the outcome into an exit status.

use super::console::{self, Progress};
use super::suite::select;
use super::Exit;
use crate::cli::RunArgs;
use crate::engine::EngineConfig;
use crate::outcome::RunReport;
use crate::report::write::{write_reports, Destinations};
use crate::run::{self, RunOptions};
use crate::scenario::{Profile, Role};
use crate::target::Target;
use std::sync::Arc;

pub fn run(args: &RunArgs) -> Exit {
    let (_, mut scenarios, _) = match select(&args.selection) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A client under test is given only the scenarios written for clients.
    if args.client.is_some() {
        scenarios.retain(|s| s.role == Role::Server);
    }
    if scenarios.is_empty() {
        eprintln!("mqttspec: no scenario matches the selection");
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
    let destinations = Destinations {
        junit: args.junit.clone(),
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        html: args.html.clone(),
        dir: args.report_dir.clone(),
    };
    // An unwritable report folder is found now, not after the whole run.
    if let Some(dir) = &destinations.dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("mqttspec: {}: {e}", dir.display());
            return Exit::Usage;
        }
    }

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
    let progress = Arc::new(Progress::new(total, args.quiet));
    let on_result = progress.clone();
    let options = RunOptions {
        target,
        websocket: args.websocket.clone(),
        jobs: args.jobs,
        protocols: args.selection.protocol.versions(),
        engine: EngineConfig {
            scenario_timeout: args.timeout,
            ..EngineConfig::default()
        },
        profile,
        progress: Some(Arc::new(move |p: &run::Progress<'_>| {
            on_result.finished(p.result)
        })),
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
    let outcome = runtime.block_on(run::run(&scenarios, &options));
    progress.done();
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Target;
        }
    };

    let written = match write_reports(&report, &destinations) {
        Ok(w) => w,
        Err(e) => {
            print!("{}", console::summary(&report, &[]));
            eprintln!("mqttspec: cannot write a report: {e}");
            return Exit::Usage;
        }
    };
    print!("{}", console::summary(&report, &written));
    exit_status(&report)
}

/// 3 when the target died, 1 on any failure or error, else 0.
pub fn exit_status(report: &RunReport) -> Exit {
    if report.target_died.is_some() {
        Exit::Target
    } else if report.is_success() {
        Exit::Ok
    } else {
        Exit::Failed
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
        run.scenarios.clear();
        run.target_died = None;
        assert_eq!(exit_status(&run), Exit::Ok);
    }
}
