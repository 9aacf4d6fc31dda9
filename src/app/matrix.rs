//! `mqttspec matrix`: JSON reports in, the cross-implementation site out.

use super::Exit;
use crate::cli::MatrixArgs;
use crate::report::matrix::{
    build, replace_between_markers, results_table, write_site, YamlSource, README_BEGIN, README_END,
};
use crate::report::read;
use crate::report::write::write_atomic;
use crate::spec::catalog::Catalogs;
use std::path::Path;

pub fn matrix(args: &MatrixArgs) -> Exit {
    let mut reports = Vec::new();
    for path in &args.reports {
        match read::load(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("mqttspec: {e}");
                return Exit::Usage;
            }
        }
    }
    let catalogs = match Catalogs::embedded() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    };
    let yaml = YamlSource {
        cases_dir: args.cases.clone(),
    };
    let site = build(&reports, &catalogs, &yaml);
    if let Some(readme) = &args.readme {
        if let Err(e) = update_readme(readme, &results_table(&reports)) {
            eprintln!("mqttspec: {e}");
            return Exit::Usage;
        }
    }
    match write_site(&site, &args.out) {
        Ok(n) => {
            println!(
                "{}: {} reports, {n} pages",
                args.out.join("index.html").display(),
                reports.len()
            );
            Exit::Ok
        }
        Err(e) => {
            eprintln!("mqttspec: cannot write the site: {e}");
            Exit::Usage
        }
    }
}

/// Replaces the results table between the markers of `path`.
fn update_readme(path: &Path, table: &str) -> Result<(), String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let new = replace_between_markers(&text, table)
        .ok_or_else(|| format!("{name}: no `{README_BEGIN}` ... `{README_END}` markers"))?;
    write_atomic(path, new.as_bytes()).map_err(|e| format!("{name}: {e}"))
}
