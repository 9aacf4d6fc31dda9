//! The cross-implementation site: `index.html`, a matrix of statements
//! (rows, grouped by spec section, one table per protocol version and
//! side) against implementations (columns), built from any number of JSON
//! reports, plus one page per scenario result (see [`super::case_page`]).
//!
//! Everything is data: the columns are whatever reports are given, the
//! verdicts are whatever strings they carry (a verdict this version does
//! not know still gets a cell), so results for new versions, sides and
//! implementations need no change here. Pages are self-contained (inline
//! style, no script, no fetch); the filters are form controls driven by
//! CSS `:has()`, and without it every row simply stays visible, with the
//! section index above the tables.

use super::case_page;
use super::html::esc;
use super::read::{LoadedReport, LoadedScenario};
use super::write::write_atomic;
use crate::outcome::{statement_key, StatementKey};
use crate::spec::catalog::{two_levels, Catalogs};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Verdicts this page knows by name, most severe first: a statement's
/// cell shows the most severe verdict among its scenarios. Others rank
/// between `flaky` and `pass`.
const SEVERITY: [&str; 7] = [
    "fail",
    "error",
    "flaky",
    "inconclusive",
    "pass",
    "skip",
    "not_run",
];

fn severity(v: &str) -> usize {
    match SEVERITY.iter().position(|s| *s == v) {
        Some(i) if i >= 4 => i + 1,
        Some(i) => i,
        None => 4,
    }
}

/// The glyph that makes a verdict readable without colour.
pub fn glyph(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "✓",
        "fail" => "✗",
        "error" => "!",
        "skip" => "–",
        "inconclusive" => "?",
        "flaky" => "≈",
        "not_run" => "○",
        _ => "•",
    }
}

/// A CSS class for a verdict string (only letters pass through).
pub fn verdict_class(verdict: &str) -> String {
    let c: String = verdict
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    if c.is_empty() {
        "unknown".into()
    } else {
        c.to_ascii_lowercase()
    }
}

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.15em .45em;text-align:left;vertical-align:top}\
th.impl{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}\
td.c{text-align:center;min-width:1.6em}td.c a{color:inherit;text-decoration:none;display:block}\
.pass{background:#c8e6c9}.fail{background:#ef9a9a}.error{background:#ffe082}.skip{background:#e0e0e0}\
.inconclusive{background:#b3e5fc}.notrun{background:#f5f5f5}.flaky{background:#e1bee7}.unknown{background:#fff}\
.sum{color:#555;font-size:.85em;max-width:48em}sup.n{color:#6a1b9a;font-weight:bold}\
tbody.sec th{background:#f3f3f3}fieldset{display:inline-block;vertical-align:top;margin:0 .5em .5em 0}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}tr.violating{outline:2px solid #c62828}\
.statements th{white-space:nowrap}td.hex{font-family:monospace;font-size:.85em;word-break:break-all;max-width:40em}td.pk{font-family:monospace}";

/// One column: an implementation (and version of it), from one or more
/// reports (e.g. one per MQTT version).
#[derive(Debug, Clone)]
struct Column {
    name: String,
    slug: String,
    reports: Vec<usize>,
}

/// One scenario result and the page it gets.
struct CaseRef<'a> {
    column: usize,
    report: &'a LoadedReport,
    scenario: &'a LoadedScenario,
    page: String,
}

#[derive(Debug, Clone)]
struct Cell {
    verdict: String,
    noted: bool,
    /// Page of the scenario that decided the verdict.
    link: String,
    scenarios: usize,
}

/// One table: a protocol version and a side.
#[derive(Default)]
struct Group {
    /// statement id -> column -> cell.
    rows: BTreeMap<String, BTreeMap<usize, Cell>>,
}

/// What `index.html` and the case pages are made from.
pub struct Site {
    /// (path relative to the output folder, contents).
    pub pages: Vec<(String, String)>,
}

/// Where case pages find the scenario's YAML: the embedded cases, or a
/// folder given with `--cases` (the only places read, whatever a report's
/// `source` says).
#[derive(Debug, Clone, Default)]
pub struct YamlSource {
    pub cases_dir: Option<PathBuf>,
}

impl YamlSource {
    /// The YAML of scenario `id` from `source` (`cases/v3.1.1/server/x.yaml:14`).
    pub fn scenario_yaml(&self, source: &str, id: &str) -> Option<String> {
        let (path, line) = match source.rsplit_once(':') {
            Some((p, l)) if l.chars().all(|c| c.is_ascii_digit()) => (p, l.parse().ok()),
            _ => (source, None),
        };
        let rel = path.strip_prefix("cases/")?;
        if rel.split('/').any(|part| part == ".." || part.is_empty()) {
            return None;
        }
        let text = match &self.cases_dir {
            Some(dir) => std::fs::read_to_string(dir.join(rel)).ok()?,
            None => crate::scenario::embedded::file(rel)?.to_string(),
        };
        extract_scenario(&text, id, line)
    }
}

/// The YAML block of the scenario with this id: its `- id:` line and
/// every more-indented line after it, dedented. `line` (1-based) is tried
/// first.
pub fn extract_scenario(text: &str, id: &str, line: Option<usize>) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let is_start = |l: &str| {
        let t = l.trim_start();
        t.strip_prefix("- id:")
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
            .unwrap_or(false)
    };
    let start = line
        .and_then(|n| n.checked_sub(1))
        .filter(|&i| lines.get(i).is_some_and(|l| is_start(l)))
        .or_else(|| lines.iter().position(|l| is_start(l)))?;
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut end = start + 1;
    while end < lines.len() {
        let l = lines[end];
        let ind = l.len() - l.trim_start().len();
        if !l.trim().is_empty() && ind <= indent {
            break;
        }
        end += 1;
    }
    while end > start + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    let mut out = String::new();
    for l in &lines[start..end] {
        out.push_str(l.get(indent..).unwrap_or(l.trim_start()));
        out.push('\n');
    }
    Some(out)
}

/// The column name of a report: the file name when it follows the
/// `<implementation>-<version>-<mqtt version>.json` convention of
/// published results (so one implementation's reports for several MQTT
/// versions share a column), else the broker the report names, else the
/// file name.
pub fn column_name(r: &LoadedReport) -> String {
    let stem = Path::new(&r.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    for v in ["-3.1.1", "-5.0", "-3.1"] {
        if let Some(base) = stem.strip_suffix(v) {
            if !base.is_empty() {
                return base.to_string();
            }
        }
    }
    r.broker.clone().unwrap_or(stem)
}

/// A file-name-safe form: letters, digits, `.`, `-`, `_`; the rest `_`.
fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let out = out.trim_start_matches('.').to_string();
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

/// A slug not in `taken` (adds `-2`, `-3`... on a clash), recorded there.
fn unique(base: String, taken: &mut HashSet<String>) -> String {
    let mut s = base.clone();
    let mut n = 2;
    while !taken.insert(s.clone()) {
        s = format!("{base}-{n}");
        n += 1;
    }
    s
}

/// Version order: by the numbers (`3.1.1` before `5.0`).
fn version_key(v: &str) -> Vec<u64> {
    v.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

/// Two-level section of a statement: from the catalog, else from the ID
/// (`MQTT-3.3.1-4` -> `3.3`).
fn section_of(catalogs: &Catalogs, protocol: &str, id: &str) -> String {
    if let Ok(v) = protocol.parse() {
        if let Some(s) = catalogs.get(v).and_then(|c| c.section(id)) {
            return two_levels(s);
        }
    }
    let nums = id.trim_start_matches("MQTT-");
    two_levels(nums.split('-').next().unwrap_or(nums))
}

pub fn summary_of<'c>(catalogs: &'c Catalogs, protocol: &str, id: &str) -> Option<&'c str> {
    let v = protocol.parse().ok()?;
    catalogs.get(v)?.summary(id)
}

/// Columns, case pages and the cells of every table, from the reports.
struct Model<'a> {
    columns: Vec<Column>,
    cases: Vec<CaseRef<'a>>,
    groups: Groups,
}

type Groups = BTreeMap<(Vec<u64>, String, String), Group>;

fn model(reports: &[LoadedReport]) -> Model<'_> {
    // Columns, in the order their reports were given.
    let mut columns: Vec<Column> = Vec::new();
    let mut col_slugs = HashSet::new();
    for (i, r) in reports.iter().enumerate() {
        let name = column_name(r);
        match columns.iter_mut().find(|c| c.name == name) {
            Some(c) => c.reports.push(i),
            None => columns.push(Column {
                slug: unique(slug(&name), &mut col_slugs),
                name,
                reports: vec![i],
            }),
        }
    }

    // One case page per scenario result.
    let mut cases: Vec<CaseRef> = Vec::new();
    let mut page_names: HashMap<(usize, String), HashSet<String>> = HashMap::new();
    for (ci, col) in columns.iter().enumerate() {
        for &ri in &col.reports {
            let r = &reports[ri];
            for s in &r.scenarios {
                let dir = format!("{}-{}", slug(&s.protocol), slug(&s.side));
                let taken = page_names.entry((ci, dir.clone())).or_default();
                let file = unique(slug(&s.id), taken);
                cases.push(CaseRef {
                    column: ci,
                    report: r,
                    scenario: s,
                    page: format!("case/{}/{dir}/{file}.html", col.slug),
                });
            }
        }
    }

    // (protocol, side) -> group; each cell from the scenarios of one column.
    let mut groups: BTreeMap<(Vec<u64>, String, String), Group> = BTreeMap::new();
    let mut members: HashMap<(usize, String, String, String), Vec<usize>> = HashMap::new();
    for (k, c) in cases.iter().enumerate() {
        let s = c.scenario;
        let mut ids: Vec<&str> = s.requirements.iter().map(String::as_str).collect();
        for v in s.charged() {
            if !ids.contains(&v) {
                ids.push(v);
            }
        }
        for id in ids {
            members
                .entry((c.column, s.protocol.clone(), s.side.clone(), id.to_string()))
                .or_default()
                .push(k);
        }
    }
    for ((col, protocol, side, id), ks) in members {
        let cell = decide(&cases, &ks, &id, &protocol, col, reports, &columns);
        groups
            .entry((version_key(&protocol), protocol.clone(), side))
            .or_default()
            .rows
            .entry(id)
            .or_default()
            .insert(col, cell);
    }

    Model {
        columns,
        cases,
        groups,
    }
}

/// Builds every page of the site from the reports.
pub fn build(reports: &[LoadedReport], catalogs: &Catalogs, yaml: &YamlSource) -> Site {
    let Model {
        columns,
        cases,
        groups,
    } = model(reports);
    let mut pages = vec![(
        "index.html".to_string(),
        index(reports, &columns, &groups, catalogs),
    )];
    for c in &cases {
        let depth = c.page.matches('/').count();
        pages.push((
            c.page.clone(),
            case_page::render(&case_page::Input {
                implementation: &columns[c.column].name,
                report: c.report,
                scenario: c.scenario,
                catalogs,
                yaml: yaml.scenario_yaml(&c.scenario.source, &c.scenario.id),
                root: "../".repeat(depth),
            }),
        ));
    }
    Site { pages }
}

/// The verdict of one statement for one column: the writer's aggregated
/// verdict when the report has one, else the most severe verdict of the
/// scenarios (a failure counts only for the statements it is charged to).
fn decide(
    cases: &[CaseRef],
    ks: &[usize],
    id: &str,
    protocol: &str,
    col: usize,
    reports: &[LoadedReport],
    columns: &[Column],
) -> Cell {
    let own = |k: usize| {
        let s = cases[k].scenario;
        if s.verdict == "fail" && !s.charged().contains(&id) {
            None
        } else {
            Some(s.verdict.as_str())
        }
    };
    let computed = ks
        .iter()
        .filter_map(|&k| own(k))
        .min_by_key(|v| severity(v))
        .unwrap_or("skip")
        .to_string();
    let written = columns[col].reports.iter().find_map(|&ri| {
        reports[ri]
            .requirements
            .iter()
            .find(|q| q.id == id && q.protocol == protocol && !q.verdict.is_empty())
            .map(|q| q.verdict.clone())
    });
    let verdict = written.unwrap_or(computed);
    let decider = ks
        .iter()
        .copied()
        .find(|&k| own(k) == Some(verdict.as_str()))
        .or_else(|| {
            ks.iter()
                .copied()
                .find(|&k| cases[k].scenario.verdict == verdict)
        })
        .unwrap_or(ks[0]);
    let noted = ks.iter().any(|&k| {
        cases[k]
            .scenario
            .notes
            .iter()
            .any(|n| !n.starts_with('[') || n.starts_with(&format!("[{id}]")))
    });
    Cell {
        verdict,
        noted,
        link: cases[decider].page.clone(),
        scenarios: ks.len(),
    }
}

fn index(
    reports: &[LoadedReport],
    columns: &[Column],
    groups: &BTreeMap<(Vec<u64>, String, String), Group>,
    catalogs: &Catalogs,
) -> String {
    let mut h = String::new();
    let versions: BTreeSet<(Vec<u64>, String)> = groups
        .keys()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let mut sections: BTreeSet<(StatementKey, String)> = BTreeSet::new();
    let mut verdicts: BTreeSet<(usize, String)> = BTreeSet::new();
    for ((_, protocol, _), g) in groups {
        for (id, cells) in &g.rows {
            let s = section_of(catalogs, protocol, id);
            sections.insert((statement_key(&s), s));
            for c in cells.values() {
                verdicts.insert((severity(&c.verdict), c.verdict.clone()));
            }
        }
    }

    // Filters: hide what is not selected; rules only apply where the
    // browser has `:has()`.
    let mut css = String::from(STYLE);
    for (_, v) in &versions {
        let _ = write!(
            css,
            "body:has(#ver-{0}:checked) section.grid:not(.ver-{0}){{display:none}}",
            slug(v).replace('.', "_")
        );
    }
    for (_, s) in &sections {
        let c = slug(s).replace('.', "_");
        let _ = write!(
            css,
            "body:has(#sec option[value=\"{c}\"]:checked) tbody.sec:not(.sec-{c}){{display:none}}"
        );
    }
    css.push_str("body:has(#only-diff:checked) tr.same{display:none}");
    for (_, v) in &verdicts {
        let c = verdict_class(v);
        let _ = write!(
            css,
            "body:has(#vf-{c}:checked) tbody.sec tr:not(.has-{c}){{display:none}}"
        );
    }

    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width\">\n\
         <title>mqttspec conformance matrix</title>\n<style>{css}</style>\n</head>\n<body>\n\
         <h1>mqttspec conformance matrix</h1>\n\
         <p>One row per normative statement, one column per implementation. \
         Each cell links to the scenario that decided it, with the wire transcript.</p>\n"
    );
    legend(&mut h, &verdicts);
    summary_table(&mut h, reports, columns, groups);

    // Filters.
    h.push_str("<h2 id=\"filters\">Filters</h2>\n<div class=\"filters\">\n<fieldset><legend>MQTT version</legend>\n");
    h.push_str("<label><input type=\"radio\" name=\"ver\" id=\"ver-all\" checked> all</label>\n");
    for (_, v) in &versions {
        let _ = writeln!(
            h,
            "<label><input type=\"radio\" name=\"ver\" id=\"ver-{}\"> {}</label>",
            slug(v).replace('.', "_"),
            esc(v)
        );
    }
    h.push_str("</fieldset>\n<fieldset><legend>Section</legend><select id=\"sec\" aria-label=\"section\">\n<option value=\"\" selected>all</option>\n");
    for (_, s) in &sections {
        let _ = writeln!(
            h,
            "<option value=\"{}\">{}</option>",
            slug(s).replace('.', "_"),
            esc(s)
        );
    }
    h.push_str("</select></fieldset>\n<fieldset><legend>Rows</legend><label><input type=\"checkbox\" id=\"only-diff\"> only where implementations differ</label></fieldset>\n");
    h.push_str("<fieldset><legend>Verdict</legend>\n<label><input type=\"radio\" name=\"vf\" id=\"vf-any\" checked> any</label>\n");
    for (_, v) in &verdicts {
        let _ = writeln!(
            h,
            "<label><input type=\"radio\" name=\"vf\" id=\"vf-{}\"> {} {}</label>",
            verdict_class(v),
            glyph(v),
            esc(v)
        );
    }
    h.push_str("</fieldset>\n</div>\n");

    // Index of the tables and their sections: navigation without script.
    h.push_str("<nav><ul>\n");
    for ((_, protocol, side), g) in groups {
        let gid = group_id(protocol, side);
        let _ = write!(
            h,
            "<li><a href=\"#{gid}\">MQTT {} {}</a>:",
            esc(protocol),
            esc(side)
        );
        let secs: BTreeSet<(StatementKey, String)> = g
            .rows
            .keys()
            .map(|id| {
                let s = section_of(catalogs, protocol, id);
                (statement_key(&s), s)
            })
            .collect();
        for (_, s) in secs {
            let _ = write!(h, " <a href=\"#{gid}-{}\">{}</a>", slug(&s), esc(&s));
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul></nav>\n");

    for ((_, protocol, side), g) in groups {
        grid(&mut h, protocol, side, g, columns, catalogs);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn group_id(protocol: &str, side: &str) -> String {
    format!("v{}-{}", slug(protocol).replace('.', "_"), slug(side))
}

fn legend(h: &mut String, verdicts: &BTreeSet<(usize, String)>) {
    h.push_str("<p class=\"legend\">");
    for (_, v) in verdicts {
        let _ = write!(
            h,
            "<span class=\"{}\">&nbsp;{}&nbsp;</span> {} &nbsp; ",
            verdict_class(v),
            glyph(v),
            esc(v)
        );
    }
    h.push_str("<sup class=\"n\">*</sup> has a note (e.g. late timing, a SHOULD) &nbsp; empty: no scenario checks it there</p>\n");
}

fn summary_table(
    h: &mut String,
    reports: &[LoadedReport],
    columns: &[Column],
    groups: &BTreeMap<(Vec<u64>, String, String), Group>,
) {
    h.push_str("<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\">\n<thead><tr><th>Implementation</th><th>MQTT</th><th>side</th>\
                <th>pass</th><th>fail</th><th>error</th><th>skip</th><th>other</th><th>statements passed</th><th></th><th>reports</th></tr></thead>\n<tbody>\n");
    for (ci, col) in columns.iter().enumerate() {
        for ((_, protocol, side), g) in groups {
            let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
            for cells in g.rows.values() {
                if let Some(c) = cells.get(&ci) {
                    *counts
                        .entry((severity(&c.verdict), c.verdict.clone()))
                        .or_default() += 1;
                }
            }
            let total: usize = counts.values().sum();
            if total == 0 {
                continue;
            }
            let n = |v: &str| {
                counts
                    .iter()
                    .filter(|((_, k), _)| k == v)
                    .map(|(_, n)| *n)
                    .sum::<usize>()
            };
            let other = total - n("pass") - n("fail") - n("error") - n("skip");
            let pct = 100.0 * n("pass") as f64 / total as f64;
            let files: Vec<String> = col
                .reports
                .iter()
                .filter(|&&ri| {
                    reports[ri]
                        .scenarios
                        .iter()
                        .any(|s| &s.protocol == protocol)
                })
                .map(|&ri| {
                    let r = &reports[ri];
                    Path::new(&r.file)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            let _ = write!(
                h,
                "<tr class=\"impl-row\" data-impl=\"{}\"><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>",
                esc(&col.name),
                esc(&col.name),
                esc(protocol),
                esc(side),
                n("pass"),
                n("fail"),
                n("error"),
                n("skip"),
                other,
                pct
            );
            bar(h, &counts, total);
            let _ = writeln!(
                h,
                "</td><td class=\"sum\">{}</td></tr>",
                esc(&files.join(", "))
            );
        }
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Statement verdict counts of one column in one table.
fn counts_of(g: &Group, column: usize) -> BTreeMap<(usize, String), usize> {
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for cells in g.rows.values() {
        if let Some(c) = cells.get(&column) {
            *counts
                .entry((severity(&c.verdict), c.verdict.clone()))
                .or_default() += 1;
        }
    }
    counts
}

fn count(counts: &BTreeMap<(usize, String), usize>, v: &str) -> usize {
    counts
        .iter()
        .filter(|((_, k), _)| k == v)
        .map(|(_, n)| *n)
        .sum()
}

/// The Markdown table of published results (the README's): per
/// implementation, MQTT version and side, scenario counts and the share
/// of statements passed.
pub fn results_table(reports: &[LoadedReport]) -> String {
    let m = model(reports);
    let mut s = String::from(
        "| implementation | MQTT | side | scenarios pass | fail | error | skip | statements passed |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (ci, col) in m.columns.iter().enumerate() {
        for ((_, protocol, side), g) in &m.groups {
            let counts = counts_of(g, ci);
            let total: usize = counts.values().sum();
            if total == 0 {
                continue;
            }
            let mut sc: BTreeMap<&str, usize> = BTreeMap::new();
            for c in m.cases.iter().filter(|c| {
                c.column == ci && &c.scenario.protocol == protocol && &c.scenario.side == side
            }) {
                *sc.entry(c.scenario.verdict.as_str()).or_default() += 1;
            }
            let n = |v: &str| sc.get(v).copied().unwrap_or(0);
            let passed = count(&counts, "pass");
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {}/{} ({:.0}%) |",
                col.name.replace('|', "\\|"),
                protocol,
                side,
                n("pass"),
                n("fail"),
                n("error"),
                n("skip"),
                passed,
                total,
                100.0 * passed as f64 / total as f64
            );
        }
    }
    s
}

/// The README's results section: the text between these markers.
pub const README_BEGIN: &str = "<!-- results:begin (ci/publish-results.sh) -->";
pub const README_END: &str = "<!-- results:end -->";

/// `readme` with the text between the markers replaced by `table`; `None`
/// when the markers are missing.
pub fn replace_between_markers(readme: &str, table: &str) -> Option<String> {
    let b = readme.find(README_BEGIN)? + README_BEGIN.len();
    let e = b + readme[b..].find(README_END)?;
    Some(format!("{}\n{table}{}", &readme[..b], &readme[e..]))
}

/// A stacked horizontal bar, one segment per verdict.
fn bar(h: &mut String, counts: &BTreeMap<(usize, String), usize>, total: usize) {
    const W: f64 = 200.0;
    let _ = write!(
        h,
        "<svg width=\"{W}\" height=\"14\" viewBox=\"0 0 {W} 14\" role=\"img\"><title>"
    );
    let parts: Vec<String> = counts
        .iter()
        .map(|((_, v), n)| format!("{n} {v}"))
        .collect();
    h.push_str(&esc(&parts.join(", ")));
    h.push_str("</title>");
    let mut x = 0.0;
    for ((_, v), n) in counts {
        let w = W * *n as f64 / total as f64;
        let _ = write!(
            h,
            "<rect class=\"{}\" x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"14\" fill=\"{}\"/>",
            verdict_class(v),
            fill(v)
        );
        x += w;
    }
    h.push_str("</svg>");
}

fn fill(v: &str) -> &'static str {
    match v {
        "pass" => "#66bb6a",
        "fail" => "#e53935",
        "error" => "#ffb300",
        "skip" => "#bdbdbd",
        "inconclusive" => "#29b6f6",
        "flaky" => "#ab47bc",
        _ => "#757575",
    }
}

fn grid(
    h: &mut String,
    protocol: &str,
    side: &str,
    g: &Group,
    columns: &[Column],
    catalogs: &Catalogs,
) {
    let gid = group_id(protocol, side);
    let cols: Vec<usize> = (0..columns.len())
        .filter(|ci| g.rows.values().any(|cells| cells.contains_key(ci)))
        .collect();
    let _ = writeln!(
        h,
        "<section class=\"grid ver-{}\" id=\"{gid}\" data-version=\"{}\" data-side=\"{}\">\n\
         <h2>MQTT {} — {} side</h2>\n<table class=\"matrix\">\n<thead><tr><th>statement</th>",
        slug(protocol).replace('.', "_"),
        esc(protocol),
        esc(side),
        esc(protocol),
        esc(side)
    );
    for &ci in &cols {
        let _ = write!(
            h,
            "<th class=\"impl\" scope=\"col\">{}</th>",
            esc(&columns[ci].name)
        );
    }
    h.push_str("</tr></thead>\n");

    let mut by_section: BTreeMap<(StatementKey, String), Vec<&String>> = BTreeMap::new();
    for id in g.rows.keys() {
        let s = section_of(catalogs, protocol, id);
        by_section
            .entry((statement_key(&s), s))
            .or_default()
            .push(id);
    }
    for ((_, sec), mut ids) in by_section {
        ids.sort_by_key(|id| statement_key(id));
        let _ = writeln!(
            h,
            "<tbody class=\"sec sec-{}\" id=\"{gid}-{}\"><tr><th colspan=\"{}\">Section {}</th></tr>",
            slug(&sec).replace('.', "_"),
            slug(&sec),
            cols.len() + 1,
            esc(&sec)
        );
        for id in ids {
            let cells = &g.rows[id];
            let seen: BTreeSet<&str> = cols
                .iter()
                .map(|ci| cells.get(ci).map_or("", |c| c.verdict.as_str()))
                .collect();
            let mut classes = vec![if seen.len() > 1 { "differ" } else { "same" }.to_string()];
            for v in seen.iter().filter(|v| !v.is_empty()) {
                classes.push(format!("has-{}", verdict_class(v)));
            }
            let summary = summary_of(catalogs, protocol, id).unwrap_or("");
            let _ = write!(
                h,
                "<tr class=\"{}\" data-statement=\"{}\"><td><b>{}</b><div class=\"sum\">{}</div></td>",
                classes.join(" "),
                esc(id),
                esc(id),
                esc(summary)
            );
            for &ci in &cols {
                match cells.get(&ci) {
                    None => h.push_str("<td class=\"c none\"></td>"),
                    Some(c) => {
                        let note = if c.noted {
                            "<sup class=\"n\" title=\"has a note\">*</sup>"
                        } else {
                            ""
                        };
                        let _ = write!(
                            h,
                            "<td class=\"c {cls}\" data-impl=\"{imp}\" data-verdict=\"{v}\"><a href=\"{href}\" title=\"{v}: {imp} ({n} scenario{s})\">{g}{note}</a></td>",
                            cls = verdict_class(&c.verdict),
                            imp = esc(&columns[ci].name),
                            v = esc(&c.verdict),
                            href = esc(&c.link),
                            n = c.scenarios,
                            s = if c.scenarios == 1 { "" } else { "s" },
                            g = glyph(&c.verdict),
                        );
                    }
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n");
    }
    h.push_str("</table>\n</section>\n");
}

/// Writes the site under `out` (each page atomically); returns the
/// number of pages written.
pub fn write_site(site: &Site, out: &Path) -> std::io::Result<usize> {
    for (rel, text) in &site.pages {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
        }
        write_atomic(&path, text.as_bytes()).map_err(|e| with_path(e, &path))?;
    }
    Ok(site.pages.len())
}

fn with_path(e: std::io::Error, p: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read::parse;
    use crate::report::{json, sample};

    fn reports() -> Vec<LoadedReport> {
        let a = parse(
            "results/mosquitto-2.0.18-3.1.1.json",
            &json::render(&sample::run()),
        )
        .unwrap();
        // A second implementation with other verdicts, written in a newer
        // shape: `violated` as a list of {id, role}, a verdict this version
        // does not know.
        let b = r#"{"meta": {"broker": "other 1.0"}, "scenarios": [
          {"id": "publish/qos-3-closes", "protocol": "3.1.1", "requirements": ["MQTT-3.3.1-4"],
           "verdict": "pass", "source": "cases/v3.1.1/server/3.3-publish.yaml:1", "transcript": []},
          {"id": "connect/reserved-flag", "protocol": "3.1.1", "requirements": ["MQTT-3.1.2-3"],
           "verdict": "fail", "violated": [{"id": "MQTT-3.1.2-3", "role": "duty"}],
           "notes": [{"statement": null, "message": "late by 1.2 s"}], "transcript": []},
          {"id": "client/x", "protocol": "5.0", "requirements": ["MQTT-3.1.0-1"],
           "verdict": "inconclusive", "source": "cases/v5.0/client/3.1.yaml:1", "transcript": []}
        ]}"#;
        vec![a, parse("other.json", b).unwrap()]
    }

    fn site() -> Site {
        build(
            &reports(),
            &Catalogs::embedded().unwrap(),
            &YamlSource::default(),
        )
    }

    fn page<'a>(s: &'a Site, name: &str) -> &'a str {
        &s.pages
            .iter()
            .find(|(p, _)| p == name)
            .unwrap_or_else(|| panic!("{name}"))
            .1
    }

    #[test]
    fn columns_rows_and_cells() {
        let s = site();
        let idx = page(&s, "index.html");
        // Column names: published file name convention, then the broker.
        assert!(idx.contains("<th class=\"impl\" scope=\"col\">mosquitto-2.0.18</th><th class=\"impl\" scope=\"col\">other 1.0</th>"), "{idx}");
        // The differing row, with both cells, verdict glyphs and links.
        let row = idx
            .split("<tr ")
            .find(|r| r.contains("data-statement=\"MQTT-3.3.1-4\""))
            .unwrap();
        assert!(
            row.starts_with("class=\"differ has-fail has-pass\""),
            "{row}"
        );
        assert!(row.contains("<td class=\"c fail\" data-impl=\"mosquitto-2.0.18\" data-verdict=\"fail\"><a href=\"case/mosquitto-2.0.18/3.1.1-server/publish_qos-3-closes.html\""), "{row}");
        assert!(row.contains(">✗</a>"));
        assert!(row.contains("<td class=\"c pass\" data-impl=\"other 1.0\""));
        // A failure given as [{id, role}], with a note.
        assert!(idx.contains("data-verdict=\"fail\"><a href=\"case/other_1.0/3.1.1-server/connect_reserved-flag.html\" title=\"fail: other 1.0 (1 scenario)\">✗<sup class=\"n\""));
        // The unknown verdict and the client side get their own table.
        assert!(idx.contains("<section class=\"grid ver-5_0\" id=\"v5_0-client\""));
        assert!(idx.contains("data-verdict=\"inconclusive\""));
        assert!(idx.contains("id=\"vf-inconclusive\""));
        // A statement only one implementation has: an empty cell for the other.
        let row = idx
            .split("<tr ")
            .find(|r| r.contains("data-statement=\"MQTT-3.8.3-1\""))
            .unwrap();
        assert!(row.contains("<td class=\"c none\"></td>") || !row.contains("other 1.0"));
        // Sections group rows; the catalog summary is shown.
        assert!(idx.contains("<tbody class=\"sec sec-3_3\" id=\"v3_1_1-server-3.3\">"));
        assert!(idx.contains("QoS"));
    }

    #[test]
    fn summary_counts_and_bars() {
        let s = site();
        let idx = page(&s, "index.html");
        let row = idx
            .split("<tr class=\"impl-row\"")
            .find(|r| {
                r.contains("data-impl=\"mosquitto-2.0.18\"><th>mosquitto-2.0.18</th><td>3.1.1</td>")
            })
            .unwrap();
        // 3.1.1: MQTT-3.1.2-3 pass, MQTT-3.3.1-4 fail.
        assert!(
            row.contains("<td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>50%</td>"),
            "{row}"
        );
        assert!(row.contains("<svg width=\"200\""));
        assert!(row.contains("<title>1 fail, 1 pass</title>"), "{row}");
    }

    #[test]
    fn filters_work_without_script_and_nothing_is_fetched() {
        let s = site();
        for (name, text) in &s.pages {
            assert!(!text.contains("<script"), "{name}");
            for external in ["src=", "http://", "https://", "<link", "@import", "url("] {
                assert!(!text.contains(external), "{name}: {external}");
            }
        }
        let idx = page(&s, "index.html");
        assert!(idx.contains("body:has(#only-diff:checked) tr.same{display:none}"));
        assert!(idx.contains("body:has(#ver-5_0:checked) section.grid:not(.ver-5_0){display:none}"));
        assert!(idx.contains(
            "body:has(#sec option[value=\"3_3\"]:checked) tbody.sec:not(.sec-3_3){display:none}"
        ));
        assert!(
            idx.contains("body:has(#vf-fail:checked) tbody.sec tr:not(.has-fail){display:none}")
        );
        // Every case link points at a page of the site.
        for href in idx
            .split("href=\"")
            .skip(1)
            .map(|r| &r[..r.find('"').unwrap()])
        {
            if href.starts_with('#') {
                continue;
            }
            assert!(s.pages.iter().any(|(p, _)| p == href), "{href}");
        }
    }

    #[test]
    fn yaml_extraction() {
        let text = "protocol: \"3.1.1\"\nscenarios:\n  - id: a/one\n    title: t\n    steps:\n      - open: a\n\n  - id: \"a/two\"\n    steps: []\n# end\n";
        assert_eq!(
            extract_scenario(text, "a/one", Some(3)).unwrap(),
            "- id: a/one\n  title: t\n  steps:\n    - open: a\n"
        );
        // A wrong line number falls back to searching.
        assert_eq!(
            extract_scenario(text, "a/two", Some(1)).unwrap(),
            "- id: \"a/two\"\n  steps: []\n"
        );
        assert_eq!(extract_scenario(text, "a/three", None), None);
        // Only the embedded cases are read, never a path a report names.
        let y = YamlSource::default();
        assert_eq!(y.scenario_yaml("/etc/passwd:1", "x"), None);
        assert_eq!(y.scenario_yaml("cases/../Cargo.toml:1", "x"), None);
        let file = crate::scenario::embedded::yaml_files()
            .into_iter()
            .find(|(p, _)| p.contains("server/3.3"))
            .unwrap();
        let text = file.1.unwrap();
        let id_line = text
            .lines()
            .position(|l| l.trim_start().starts_with("- id:"))
            .unwrap();
        let id = text.lines().nth(id_line).unwrap().trim_start()[5..]
            .trim()
            .trim_matches('"');
        let got = y
            .scenario_yaml(&format!("cases/{}:{}", file.0, id_line + 1), id)
            .unwrap();
        assert!(got.starts_with("- id:") && got.contains("steps:"), "{got}");
    }

    #[test]
    fn readme_table() {
        let t = results_table(&reports());
        assert_eq!(
            t,
            "| implementation | MQTT | side | scenarios pass | fail | error | skip | statements passed |\n\
             |---|---|---|---|---|---|---|---|\n\
             | mosquitto-2.0.18 | 3.1.1 | server | 1 | 1 | 0 | 0 | 1/2 (50%) |\n\
             | mosquitto-2.0.18 | 5.0 | server | 1 | 0 | 1 | 1 | 1/4 (25%) |\n\
             | other 1.0 | 3.1.1 | server | 1 | 1 | 0 | 0 | 1/2 (50%) |\n\
             | other 1.0 | 5.0 | client | 0 | 0 | 0 | 0 | 0/1 (0%) |\n"
        );
        let readme = format!("intro\n{README_BEGIN}\nold table\n{README_END}\nrest\n");
        assert_eq!(
            replace_between_markers(&readme, "new\n").unwrap(),
            format!("intro\n{README_BEGIN}\nnew\n{README_END}\nrest\n")
        );
        assert_eq!(replace_between_markers("no markers", "x"), None);
    }

    #[test]
    fn writes_every_page() {
        let dir = tempfile::tempdir().unwrap();
        let s = site();
        let n = write_site(&s, dir.path()).unwrap();
        assert_eq!(n, s.pages.len());
        assert_eq!(n, 1 + 5 + 3);
        assert!(dir
            .path()
            .join("case/mosquitto-2.0.18/3.1.1-server/publish_qos-3-closes.html")
            .is_file());
    }
}
