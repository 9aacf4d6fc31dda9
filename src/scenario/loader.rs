//! Loading scenario files: from the copy of `cases/` compiled into the
//! binary, from a folder (`--cases DIR`), or from text.
//!
//! Every file is parsed within [`Limits`], validated against the statement
//! catalogs, and scenario IDs are checked to be unique across all files.

use crate::scenario::model::Scenario;
use crate::scenario::yaml::{self, Limits};
use crate::scenario::{embedded, parse, LoadError};
use crate::spec::catalog::{read_capped, Catalogs};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// At most this many scenario files in one load.
pub const MAX_FILES: usize = 10_000;
/// At most this many scenarios in one load.
pub const MAX_SCENARIOS: usize = 20_000;
/// Folders deeper than this under the scenario root are not searched.
pub const MAX_DIR_DEPTH: usize = 16;

/// Loads one file's text. `name` is what errors and [`Scenario::source`]
/// call it. Never panics, whatever the text.
pub fn load_str(name: &str, text: &str, catalogs: &Catalogs) -> Result<Vec<Scenario>, LoadError> {
    let root = yaml::parse(text, &Limits::default()).map_err(|e| LoadError::from_de(name, e))?;
    parse::parse_file(name, &root, catalogs).map_err(|e| LoadError::from_de(name, e))
}

/// Loads several files as (name, text) and checks that scenario IDs are
/// unique across them.
pub fn load_files<N, T>(
    files: impl IntoIterator<Item = (N, T)>,
    catalogs: &Catalogs,
) -> Result<Vec<Scenario>, LoadError>
where
    N: AsRef<str>,
    T: AsRef<str>,
{
    let mut all: Vec<Scenario> = Vec::new();
    let mut first: HashMap<String, usize> = HashMap::new();
    for (count, (name, text)) in files.into_iter().enumerate() {
        let name = name.as_ref();
        if count >= MAX_FILES {
            return Err(LoadError::file(
                name,
                format!("more than {MAX_FILES} scenario files"),
            ));
        }
        for s in load_str(name, text.as_ref(), catalogs)? {
            if let Some(&i) = first.get(&s.id) {
                let other = &all[i].source;
                return Err(LoadError {
                    file: name.to_owned(),
                    line: s.source.line,
                    column: s.source.column,
                    message: format!(
                        "duplicate scenario id `{}` (first in {}:{}:{})",
                        s.id,
                        other.file.display(),
                        other.line,
                        other.column
                    ),
                });
            }
            if all.len() >= MAX_SCENARIOS {
                return Err(LoadError::file(
                    name,
                    format!("more than {MAX_SCENARIOS} scenarios"),
                ));
            }
            first.insert(s.id.clone(), all.len());
            all.push(s);
        }
    }
    Ok(all)
}

/// The catalogs and scenarios a command works on: those under `cases`
/// (with the catalog of `cases/spec/` when it has one, else the built-in
/// catalog), or the built-in suite.
pub fn load_suite(cases: Option<&Path>) -> Result<(Catalogs, Vec<Scenario>), LoadError> {
    match cases {
        Some(dir) => {
            let catalogs = Catalogs::for_cases_dir(dir)?;
            let scenarios = load_dir(dir, &catalogs)?;
            Ok((catalogs, scenarios))
        }
        None => {
            let catalogs = Catalogs::embedded()?;
            let scenarios = load_embedded(&catalogs)?;
            Ok((catalogs, scenarios))
        }
    }
}

/// Loads the scenarios compiled into the binary (`cases/` minus the catalog).
pub fn load_embedded(catalogs: &Catalogs) -> Result<Vec<Scenario>, LoadError> {
    let mut files = Vec::new();
    for (rel, text) in embedded::yaml_files() {
        if is_catalog(Path::new(rel)) {
            continue;
        }
        let name = format!("{}/{rel}", embedded::ROOT);
        let text = text.ok_or_else(|| LoadError::file(&name, "not UTF-8 text"))?;
        files.push((name, text));
    }
    load_files(files, catalogs)
}

/// Loads every `*.yaml`/`*.yml` under `path` (except its `spec/` folder, the
/// catalog), in path order; `path` may also be a single file.
pub fn load_dir(path: &Path, catalogs: &Catalogs) -> Result<Vec<Scenario>, LoadError> {
    let max = Limits::default().max_bytes;
    let paths = scenario_paths(path)?;
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let text = read_capped(&p, max)?;
        files.push((p.display().to_string(), text));
    }
    load_files(files, catalogs)
}

/// The scenario files under `root`, sorted.
pub fn scenario_paths(root: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let name = root.display().to_string();
    let meta = std::fs::metadata(root).map_err(|e| LoadError::file(&name, e.to_string()))?;
    if meta.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(root, root, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let name = dir.display().to_string();
    if depth > MAX_DIR_DEPTH {
        return Err(LoadError::file(
            name,
            format!("folders nested deeper than {MAX_DIR_DEPTH}"),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError::file(&name, e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| LoadError::file(&name, e.to_string()))?;
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if is_catalog(rel) {
            continue;
        }
        // Symbolic links to folders are not followed (no cycles).
        let kind = entry
            .file_type()
            .map_err(|e| LoadError::file(path.display().to_string(), e.to_string()))?;
        if kind.is_dir() {
            walk(root, &path, depth + 1, out)?;
        } else if path.to_str().is_some_and(embedded::is_yaml)
            && (kind.is_file() || kind.is_symlink() && path.is_file())
        {
            if out.len() >= MAX_FILES {
                return Err(LoadError::file(
                    name,
                    format!("more than {MAX_FILES} scenario files"),
                ));
            }
            out.push(path);
        }
    }
    Ok(())
}

/// `spec/...` right under the scenario root holds the catalog.
fn is_catalog(rel: &Path) -> bool {
    rel.components()
        .next()
        .is_some_and(|c| c.as_os_str() == "spec")
}
