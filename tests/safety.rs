//! Run-level safety against real peers: a wrong setup is one clear line and
//! exit 3, never a list of failed statements; a broker that dies is not
//! blamed; signals stop the run in order; nothing is left running.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mqttspec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mqttspec"))
}

fn mosquitto() -> Option<&'static str> {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The pid a spawned command wrote to `file`, once it exists.
fn pid_in(file: &Path) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Whether any process of group `pgid` is alive (zombies count as gone).
fn group_alive(pgid: i32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[2] == pgid.to_string() && f[0] != "Z" {
            return true;
        }
    }
    false
}

fn no_fail_lines(out: &Output) {
    let stdout = text(&out.stdout);
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("FAIL") || l.starts_with("fail")),
        "{stdout}"
    );
}

/// A spawn command that records its shell's pid (the process group) in
/// `pidfile` and then becomes `cmd`.
fn recorded(pidfile: &Path, cmd: &str) -> String {
    format!("echo $$ > '{}'; exec {cmd}", pidfile.display())
}

#[test]
fn refused_credentials_are_one_line_and_exit_3() {
    let Some(bin) = mosquitto() else {
        eprintln!("mosquitto is not installed; nothing to check");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let conf = dir.path().join("m.conf");
    let spawn = format!(
        "printf 'listener {{port}} 127.0.0.1\\nallow_anonymous false\\n' > '{}'; {}",
        conf.display(),
        recorded(&pidfile, &format!("{bin} -c '{}'", conf.display()))
    );
    let out = mqttspec()
        .args(["run", "-q", "--protocol", "3.1.1", "--spawn", &spawn])
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("0x05 not authorized"), "{err}");
    assert!(err.contains("--profile"), "{err}");
    no_fail_lines(&out);
    assert!(!group_alive(pid_in(&pidfile).unwrap()));
}

#[test]
fn a_silent_peer_is_one_line_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let listener = "python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(64); time.sleep(60)' {port}";
    let started = Instant::now();
    let out = mqttspec()
        .args(["run", "-q", "--spawn", &recorded(&pidfile, listener)])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no CONNACK"), "{err}");
    assert!(err.contains("is it an MQTT broker?"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    no_fail_lines(&out);
    assert!(!group_alive(pid_in(&pidfile).unwrap()));
}

/// Scenario ids mosquitto 2.0.11 is known to fail (tests/expected).
fn known_mosquitto_failures() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expected/mosquitto-2.0.11.yaml");
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn a_broker_dying_mid_run_is_not_blamed() {
    let Some(bin) = mosquitto() else {
        eprintln!("mosquitto is not installed; nothing to check");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let reports = dir.path().join("r");
    let spawn = recorded(&pidfile, &format!("timeout 2 {bin} -p {{port}}"));
    let out = mqttspec()
        .args(["run", "--protocol", "3.1.1", "--spawn", &spawn])
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("the target died: the target process exited"));
    // The stderr tail is printed once, line by line.
    assert_eq!(stdout.matches("last stderr").count(), 1, "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let known = known_mosquitto_failures();
    let mut not_run = 0;
    for s in json["scenarios"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        match s["verdict"].as_str().unwrap() {
            "fail" => assert!(
                known.contains(&format!("\"3.1.1 {id}\"")),
                "{id} blamed: {}",
                s["message"]
            ),
            "not_run" => not_run += 1,
            _ => {}
        }
    }
    assert!(not_run > 0, "the run went on after the target died");
    assert!(json["target_died"].as_str().is_some());
    assert!(!group_alive(pid_in(&pidfile).unwrap()));
}

/// Starts a run against mosquitto, sends `signals` (one per pause), and
/// returns its output, the process group of the broker and the report dir.
fn interrupted_run(signals: &[i32]) -> Option<(Output, i32, tempfile::TempDir, Duration)> {
    let bin = mosquitto()?;
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let spawn = recorded(&pidfile, &format!("{bin} -p {{port}}"));
    let child = mqttspec()
        .args(["run", "--protocol", "3.1.1", "--spawn", &spawn])
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the broker runs and some scenarios have started.
    let t = Instant::now();
    while pid_in(&pidfile).is_none() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    let sent = Instant::now();
    for &sig in signals {
        // SAFETY: kill(2) with plain integers.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    Some((out, pid_in(&pidfile).unwrap(), dir, sent.elapsed()))
}

#[test]
fn sigint_stops_the_run_writes_reports_and_exits_130() {
    let Some((out, pgid, dir, _)) = interrupted_run(&[libc::SIGINT]) else {
        return;
    };
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("interrupted by SIGINT"), "{stdout}");
    assert!(stdout.contains("scenarios:"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("r/report.json")).expect("report written"),
    )
    .unwrap();
    assert_eq!(json["interrupted"], "SIGINT");
    assert!(!group_alive(pgid));
}

#[test]
fn sigterm_exits_143_and_stops_the_broker() {
    let Some((out, pgid, dir, _)) = interrupted_run(&[libc::SIGTERM]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(143), "{}", text(&out.stderr));
    assert!(dir.path().join("r/junit.xml").exists());
    assert!(!group_alive(pgid));
}

#[test]
fn a_second_sigint_exits_at_once_and_still_stops_the_broker() {
    let Some((out, pgid, _dir, took)) = interrupted_run(&[libc::SIGINT, libc::SIGINT]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // SIGKILL to the group: give the kernel a moment to reap.
    let t = Instant::now();
    while group_alive(pgid) && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!group_alive(pgid));
}

#[test]
fn a_closed_stdout_never_panics() {
    let mut child = mqttspec()
        .args(["run", "--protocol", "3.1.1", "3.12"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "{err}");
}

#[test]
fn an_unwritable_report_path_is_found_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let out = mqttspec()
        .args(["run", "-q", "--protocol", "3.1.1", "--junit"])
        .arg(file.join("junit.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("junit.xml"));
    // Nothing ran: no summary.
    assert!(!text(&out.stdout).contains("scenarios:"));
}

#[test]
fn reports_go_to_stdout_with_a_dash() {
    for (flag, check) in [
        ("--json", "\"scenarios\""),
        ("--junit", "<testsuites"),
        ("--markdown", "| "),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = mqttspec()
            .current_dir(dir.path())
            .args(["run", "--protocol", "3.1.1", "3.12.4", flag, "-"])
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert!(stdout.contains(check), "{flag}: {stdout}");
        assert!(
            !dir.path().join("-").exists(),
            "{flag} wrote a file named -"
        );
        // The summary went to stderr, so stdout is the report alone.
        assert!(!stdout.contains("scenarios:"), "{flag}: {stdout}");
        if flag == "--json" {
            serde_json::from_str::<serde_json::Value>(&stdout).expect("stdout is the JSON");
        }
    }
}
