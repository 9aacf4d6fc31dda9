//! `mqttspec fuzz`: runs the network fuzzer with a live status line and
//! prints (and optionally writes as JSON) the summary.

use super::Exit;
use crate::cli::FuzzArgs;
use crate::fuzz::{self, FuzzConfig, FuzzError, Progress, Summary};
use crate::target::Target;
use std::io::{IsTerminal, Write};
use std::time::Duration;

pub fn fuzz(a: &FuzzArgs) -> Exit {
    let target = match (&a.target, &a.spawn) {
        (Some(t), _) => Target::Tcp(t.clone()),
        (None, Some(cmd)) => Target::Spawn {
            command: cmd.clone(),
        },
        #[cfg(feature = "embedded-broker")]
        (None, None) => Target::Embedded,
        #[cfg(not(feature = "embedded-broker"))]
        (None, None) => {
            eprintln!("mqttspec fuzz: give --target or --spawn (no embedded broker in this build)");
            return Exit::Usage;
        }
    };
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let cfg = FuzzConfig {
        target,
        versions: a.protocol.versions(),
        duration: match (a.duration, a.sessions) {
            (Some(d), _) => Some(d),
            (None, Some(_)) => None,
            (None, None) => Some(Duration::from_secs(60)),
        },
        sessions: a.sessions,
        seed,
        jobs: a.jobs,
        shard: a.shard,
        findings: a.findings.clone(),
        corpus: a.corpus.clone(),
        rss_limit: a.rss_limit.map(|m| m << 20),
        broker: a.broker.clone(),
        ..FuzzConfig::default()
    };
    let live = !a.quiet && std::io::stderr().is_terminal();
    eprintln!(
        "mqttspec fuzz: seed {seed}, shard {}/{}",
        a.shard.0, a.shard.1
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mqttspec fuzz: cannot start the runtime: {e}");
            return Exit::Target;
        }
    };
    let mut status = move |p: &Progress| {
        if live {
            eprint!("\r\x1b[K{}", status_line(p));
            let _ = std::io::stderr().flush();
        }
    };
    let result = runtime.block_on(fuzz::run(&cfg, &mut status));
    if live {
        eprintln!();
    }
    match result {
        Ok(summary) => {
            print_summary(&summary);
            if let Some(path) = &a.json {
                let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
                if let Err(e) = std::fs::write(path, text + "\n") {
                    eprintln!("mqttspec fuzz: cannot write {}: {e}", path.display());
                    return Exit::Usage;
                }
            }
            if summary.findings.is_empty() {
                Exit::Ok
            } else {
                Exit::Failed
            }
        }
        Err(FuzzError::Usage(e)) => {
            eprintln!("mqttspec fuzz: {e}");
            Exit::Usage
        }
        Err(FuzzError::Target(e)) => {
            eprintln!("mqttspec fuzz: target unreachable: {e}");
            Exit::Target
        }
    }
}

fn status_line(p: &Progress) -> String {
    let [c, h, m, v] = p.findings;
    let mut top: Vec<(usize, u64)> = p.mutators.iter().copied().enumerate().collect();
    top.sort_by_key(|x| std::cmp::Reverse(x.1));
    let muts: Vec<String> = top
        .iter()
        .take(4)
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| format!("{} {n}", fuzz::mutate::MUTATORS[*i]))
        .collect();
    format!(
        "{:>6.1}s {:>7.0}/s {:>9} sessions | crash {c} hang {h} memory {m} violation {v} | types {}/15 | {}",
        p.elapsed.as_secs_f64(),
        p.rate(),
        p.sessions,
        p.types.count_ones(),
        muts.join(", ")
    )
}

fn print_summary(s: &Summary) {
    println!(
        "fuzzed {} for {:.1}s: {} sessions ({:.0}/s), seed {}, shard {}",
        s.broker, s.duration_s, s.sessions, s.sessions_per_s, s.seed, s.shard
    );
    println!("packet types written: {}", s.packet_types.join(" "));
    if s.unconfirmed > 0 {
        println!(
            "{} candidate finding(s) did not reproduce and were dropped",
            s.unconfirmed
        );
    }
    if s.findings.is_empty() {
        println!("no findings");
    }
    for f in &s.findings {
        println!(
            "FINDING {} {}: {}",
            f.oracle,
            f.statement.as_deref().unwrap_or("-"),
            f.description.lines().next().unwrap_or("")
        );
        if let Some(p) = &f.scenario {
            println!("  scenario: {p}");
        }
    }
}
