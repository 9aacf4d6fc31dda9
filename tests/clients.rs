//! The client scenarios (`role: server`, cases/*/client/) against every
//! client library whose adapter is installed: `ci/clients/<name>.sh version`
//! says which library and version, `ci/clients/<name>.sh command` how to
//! start the adapter.
//!
//! Each library runs the whole client suite once, as `mqttspec run --client`
//! does (each trial with its own listener and client process); then every
//! trial is one test that passes when its verdict is the one recorded in
//! `tests/expected/clients/<library>-<version>.yaml` (same format as
//! tests/expected/*.yaml: `"<protocol> <scenario id>"` to `{verdict,
//! violated, reason, flaky}`; unlisted trials are expected to pass). A trial
//! skipped for a capability the adapter lacks is reported as ignored.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mqttspec::outcome::{ScenarioResult, Verdict};
use mqttspec::run::{run, RunOptions};
use mqttspec::scenario::{load_dir, Role};
use mqttspec::spec::catalog::Catalogs;
use mqttspec::target::Target;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The adapters shipped in ci/clients/.
const ADAPTERS: &[&str] = &["paho-python", "mqttjs", "rumqttc", "paho-c"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    verdict: Want,
    #[serde(default)]
    violated: Option<String>,
    #[serde(default)]
    flaky: bool,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Want {
    Pass,
    Fail,
    Skip,
    Error,
}

fn want_of(v: Verdict) -> Want {
    match v {
        Verdict::Pass => Want::Pass,
        Verdict::Fail => Want::Fail,
        Verdict::Skip => Want::Skip,
        // A client trial is never judged flaky, inconclusive or not covered
        // on its own: those mean the run did not settle, like an error.
        Verdict::Error
        | Verdict::NotRun
        | Verdict::Flaky
        | Verdict::Inconclusive
        | Verdict::NotCovered => Want::Error,
    }
}

fn load_expectations(path: &Path) -> Result<BTreeMap<String, Expected>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let map: Option<BTreeMap<String, Expected>> =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let map = map.unwrap_or_default();
    for (k, e) in &map {
        if e.reason.trim().is_empty() || (e.verdict == Want::Fail && e.violated.is_none()) {
            return Err(format!(
                "{}: `{k}` needs a reason (and a violated statement when it fails)",
                path.display()
            ));
        }
    }
    Ok(map)
}

/// `(library-version, command)` of an installed adapter.
fn adapter(name: &str) -> Option<(String, String)> {
    let script = root().join("ci/clients").join(format!("{name}.sh"));
    let ask = |what: &str| {
        let out = Command::new(&script).arg(what).output().ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
    };
    let version = ask("version")?;
    let command = ask("command")?;
    let mut parts = version.split_whitespace();
    let (lib, ver) = (parts.next()?, parts.next()?);
    Some((format!("{lib}-{ver}"), command))
}

fn judge(r: &ScenarioResult, expected: Option<&Expected>) -> Result<Completion, Failed> {
    let got = want_of(r.verdict);
    let want = expected.map_or(Want::Pass, |e| e.verdict);
    if got == Want::Skip && (expected.is_none() || want == Want::Skip) {
        return Ok(Completion::ignored_with(
            r.message.clone().unwrap_or_default(),
        ));
    }
    if got == Want::Pass && expected.is_some_and(|e| e.flaky) {
        return Ok(Completion::Completed);
    }
    let violated_ok = match (expected.and_then(|e| e.violated.as_deref()), got) {
        (Some(w), Want::Fail) => r.violated.first().map(|v| v.id.as_str()) == Some(w),
        _ => true,
    };
    if got == want && violated_ok {
        return Ok(Completion::Completed);
    }
    let mut msg = format!("verdict changed: expected {want:?}");
    if let Some(e) = expected {
        if let Some(v) = &e.violated {
            msg.push_str(&format!(" violating {v}"));
        }
        msg.push_str(&format!(" ({})", e.reason));
    }
    msg.push_str(&format!(", got {got:?}"));
    for v in &r.violated {
        msg.push_str(&format!(" violating {}", v.id));
    }
    if let Some(m) = &r.message {
        msg.push_str(&format!("\n  {m}"));
    }
    for n in &r.notes {
        msg.push_str(&format!("\n  note: {}", n.message));
    }
    msg.push_str(&format!("\n  at {}\n{}", r.source, r.transcript.render()));
    Err(msg.into())
}

fn main() {
    let args = Arguments::from_args();
    let cases = root().join("cases");
    let scenarios = match Catalogs::for_cases_dir(&cases).and_then(|c| load_dir(&cases, &c)) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            libtest_mimic::run(
                &args,
                vec![Trial::test("load cases", move || Err(msg.into()))],
            )
            .exit();
        }
    };
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|s| s.role == Role::Server)
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mut trials = Vec::new();
    for name in ADAPTERS {
        let Some((library, command)) = adapter(name) else {
            continue;
        };
        let path = root()
            .join("tests/expected/clients")
            .join(format!("{library}.yaml"));
        let expected = match load_expectations(&path) {
            Ok(e) => e,
            Err(e) => {
                trials.push(Trial::test(
                    format!("{library}/expected-verdicts"),
                    move || Err(e.into()),
                ));
                continue;
            }
        };
        let options = RunOptions {
            target: Target::Client { command },
            jobs: 8,
            ..RunOptions::default()
        };
        let report = match runtime.block_on(run(&scenarios, &options)) {
            Ok(r) => r,
            Err(e) => {
                let e = e.to_string();
                trials.push(Trial::test(format!("{library}/start"), move || {
                    Err(e.into())
                }));
                continue;
            }
        };
        let known: std::collections::BTreeSet<String> = report
            .scenarios
            .iter()
            .map(|r| format!("{} {}", r.protocol, r.id))
            .collect();
        let stale: Vec<String> = expected
            .keys()
            .filter(|k| !known.contains(*k))
            .cloned()
            .collect();
        trials.push(Trial::test(
            format!("{library}/expected-verdicts"),
            move || {
                if stale.is_empty() {
                    Ok(())
                } else {
                    Err(format!("entries that name no trial: {stale:?}").into())
                }
            },
        ));
        for r in report.scenarios {
            let e = expected.get(&format!("{} {}", r.protocol, r.id)).cloned();
            trials.push(Trial::ignorable_test(
                format!("{library}/v{}/{}", r.protocol, r.id),
                move || judge(&r, e.as_ref()),
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
