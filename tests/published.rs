//! The published results agree with each other: the README's results
//! table is the one `mqttspec matrix --readme` computes from the JSON
//! reports in `reports/results/` (regenerate both with
//! `ci/publish-results.sh`).

use mqttspec::report::matrix::{results_table, README_BEGIN, README_END};
use mqttspec::report::read;
use std::path::Path;

#[test]
fn readme_tables_agree_with_reports_results() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("reports/results"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    // The order ci/publish-results.sh passes them in: the shell's sorted glob.
    files.sort();
    let reports: Vec<_> = files.iter().map(|f| read::load(f).unwrap()).collect();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let begin = readme
        .find(README_BEGIN)
        .expect("README.md has the results markers")
        + README_BEGIN.len();
    let end = begin + readme[begin..].find(README_END).unwrap();
    let section = readme[begin..end].trim_start_matches('\n');
    assert_eq!(
        section,
        results_table(&reports),
        "README.md's results table is out of date: run ci/publish-results.sh"
    );
    if !files.is_empty() {
        // Every report is one row or more of the table.
        for r in &reports {
            let name = Path::new(&r.file).file_stem().unwrap().to_string_lossy();
            let column = name.rsplit_once('-').unwrap().0;
            assert!(section.contains(&format!("| {column} |")), "{column}");
        }
    }
}
