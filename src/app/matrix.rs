//! `mqttspec matrix`: JSON reports in, the cross-implementation site out.

use super::Exit;
use crate::cli::MatrixArgs;
use crate::report::matrix::{build, write_site, YamlSource};
use crate::report::read;
use crate::spec::catalog::Catalogs;

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
