//! Writing reports to disk atomically: a reader (a CI step, a browser)
//! sees either the previous file or the whole new one, never half of it.

use crate::outcome::RunReport;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A report format and the file name it takes in `--report-dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Junit,
    Json,
    Markdown,
    Html,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Junit, Format::Json, Format::Markdown, Format::Html];

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Junit => "junit.xml",
            Format::Json => "report.json",
            Format::Markdown => "report.md",
            Format::Html => "report.html",
        }
    }

    pub fn render(self, report: &RunReport) -> String {
        match self {
            Format::Junit => super::junit::render(report),
            Format::Json => super::json::render(report),
            Format::Markdown => super::markdown::render(report),
            Format::Html => super::html::render(report),
        }
    }
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory (so the rename cannot cross file systems), synced before the
/// rename and the directory synced after it.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable; not every platform can open a
    // directory, and the file is already in place, so this is best effort.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where each requested report goes.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// Every format, under its standard name (see [`Format::file_name`]).
    pub dir: Option<PathBuf>,
    /// Known failures from a baseline (`"<protocol> <id>"` -> reason): the
    /// JUnit report shows them as skipped with the reason.
    pub known_failures: std::collections::BTreeMap<String, String>,
}

impl Destinations {
    /// Every (format, path) pair to write, `dir` first; duplicates removed.
    pub fn targets(&self) -> Vec<(Format, PathBuf)> {
        let mut out = Vec::new();
        if let Some(dir) = &self.dir {
            for f in Format::ALL {
                out.push((f, dir.join(f.file_name())));
            }
        }
        for (f, p) in [
            (Format::Junit, &self.junit),
            (Format::Json, &self.json),
            (Format::Markdown, &self.markdown),
            (Format::Html, &self.html),
        ] {
            if let Some(p) = p {
                if !out.iter().any(|(g, q)| *g == f && q == p) {
                    out.push((f, p.clone()));
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.targets().is_empty()
    }

    /// Whether a report goes to standard output (path `-`).
    pub fn uses_stdout(&self) -> bool {
        self.targets().iter().any(|(_, p)| is_stdout(p))
    }

    /// Checks, before a run, that every report can be written: at most one
    /// on standard output, the report folder can be created, and each file's
    /// folder takes a new file. The error names the path.
    pub fn check_writable(&self) -> io::Result<()> {
        let to_stdout = self.targets().iter().filter(|(_, p)| is_stdout(p)).count();
        if to_stdout > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "only one report can go to standard output (-)",
            ));
        }
        if let Some(dir) = &self.dir {
            fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
        }
        for (_, path) in self.targets() {
            if is_stdout(&path) {
                continue;
            }
            if path.is_dir() {
                return Err(with_path(
                    io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
                    &path,
                ));
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let probe = dir.join(format!(".mqttspec-write-check.{}", std::process::id()));
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .map_err(|e| with_path(e, &path))?;
            let _ = fs::remove_file(&probe);
        }
        Ok(())
    }
}

/// `-` stands for standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes every requested report (creating `dir` if needed) and returns
/// the paths written. Stops at the first error, naming the path.
pub fn write_reports(report: &RunReport, to: &Destinations) -> io::Result<Vec<PathBuf>> {
    if let Some(dir) = &to.dir {
        fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
    }
    let mut written = Vec::new();
    let render = |format: Format| match format {
        Format::Junit if !to.known_failures.is_empty() => {
            super::junit::render_known(report, &to.known_failures)
        }
        _ => format.render(report),
    };
    for (format, path) in to.targets() {
        if is_stdout(&path) {
            // A closed pipe is the reader's choice, not an error of the run.
            let mut out = io::stdout().lock();
            let _ = out
                .write_all(render(format).as_bytes())
                .and_then(|()| out.flush());
            continue;
        }
        write_atomic(&path, render(format).as_bytes()).map_err(|e| with_path(e, &path))?;
        written.push(path);
    }
    Ok(written)
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        write_atomic(&p, b"first version, longer").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
    }

    #[test]
    fn failure_names_the_path_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename must fail.
        let p = dir.path().join("taken");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("x"), b"x").unwrap();
        assert!(write_atomic(&p, b"data").is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }

    #[test]
    fn writability_is_checked_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let ok = Destinations {
            dir: Some(dir.path().join("new/sub")),
            json: Some(PathBuf::from("-")),
            ..Default::default()
        };
        ok.check_writable().unwrap();
        assert!(ok.uses_stdout());
        // No probe file is left behind.
        assert_eq!(fs::read_dir(dir.path().join("new/sub")).unwrap().count(), 0);
        let two = Destinations {
            junit: Some(PathBuf::from("-")),
            json: Some(PathBuf::from("-")),
            ..Default::default()
        };
        assert!(two.check_writable().is_err());
        let missing = Destinations {
            junit: Some(dir.path().join("no/such/dir/junit.xml")),
            ..Default::default()
        };
        let e = missing.check_writable().unwrap_err().to_string();
        assert!(e.contains("junit.xml"), "{e}");
        let is_dir = Destinations {
            json: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        assert!(is_dir.check_writable().is_err());
    }

    #[test]
    fn report_dir_gets_all_four() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        let extra = dir.path().join("extra.json");
        let to = Destinations {
            dir: Some(sub.clone()),
            json: Some(extra.clone()),
            ..Default::default()
        };
        let written = write_reports(&sample::run(), &to).unwrap();
        assert_eq!(written.len(), 5);
        for name in ["junit.xml", "report.json", "report.md", "report.html"] {
            assert!(fs::metadata(sub.join(name)).unwrap().len() > 100, "{name}");
        }
        let a = fs::read(sub.join("report.json")).unwrap();
        assert_eq!(a, fs::read(extra).unwrap());
    }
}
