//! `run --baseline FILE` and `--save-baseline FILE`: the glue between a
//! run and [`crate::baseline`].

use super::Exit;
use crate::baseline::{self, Baseline, Comparison};
use crate::outcome::RunReport;
use crate::report::write::write_atomic;
use std::path::Path;

/// Reads the baseline before the run, so a bad file fails at once.
pub fn load(path: Option<&Path>) -> Result<Option<(String, Baseline)>, Exit> {
    let Some(path) = path else {
        return Ok(None);
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("mqttspec: {name}: {e}");
        Exit::Usage
    })?;
    match baseline::parse(&name, &text) {
        Ok(b) => Ok(Some((name, b))),
        Err(e) => {
            eprintln!("mqttspec: {e}");
            Err(Exit::Usage)
        }
    }
}

/// The exit status with a baseline: a dead target or a signal keeps its
/// own status; otherwise 1 only when something regressed.
pub fn status(report_status: Exit, comparison: &Comparison) -> Exit {
    match report_status {
        Exit::Ok | Exit::Failed if comparison.regressed() => Exit::Failed,
        Exit::Ok | Exit::Failed => Exit::Ok,
        other => other,
    }
}

/// Writes `--save-baseline`; the error is one line naming the file.
pub fn save(report: &RunReport, path: &Path) -> Result<(), String> {
    write_atomic(path, baseline::save(report).as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}
