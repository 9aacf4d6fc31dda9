//! `mqttspec list` and `mqttspec coverage`: what the loaded suite holds.

use super::Exit;
use crate::cli::{CoverageArgs, ListArgs, Protocols, Selection};
use crate::scenario::{load_suite, Filter, Scenario};
use crate::spec::catalog::Side;
use crate::spec::Catalogs;
use std::io::Write;

/// Loads the suite (built in, or `--cases`) and applies the selection.
/// Errors are printed; the caller exits with the returned status.
pub fn select(sel: &Selection) -> Result<(Catalogs, Vec<Scenario>, Filter), Exit> {
    select_explained(sel).map(|s| (s.catalogs, s.scenarios, s.filter))
}

/// What a selection gives `run` and `list`.
pub struct Selected {
    pub catalogs: Catalogs,
    pub scenarios: Vec<Scenario>,
    pub filter: Filter,
    /// Why nothing is selected, when nothing is.
    pub empty: Option<String>,
    /// Wire-testable statements (of the selected versions and `--requirement`
    /// globs) that no scenario of the whole suite checks, by side.
    pub not_covered: Vec<(crate::codec::ProtocolVersion, String, Side)>,
}

/// [`select`], with why the selection is empty and what the suite leaves uncovered.
pub fn select_explained(sel: &Selection) -> Result<Selected, Exit> {
    let protocol = match sel.protocol {
        Protocols::All => None,
        Protocols::Only(v) => Some(v),
    };
    let filter = Filter::new(&sel.filters, &sel.requirements, protocol).map_err(|e| {
        eprintln!("mqttspec: {e}");
        Exit::Usage
    })?;
    let (catalogs, scenarios) = load_suite(sel.cases.as_deref()).map_err(|e| {
        eprintln!("mqttspec: {e}");
        Exit::Usage
    })?;
    let why = filter.why_empty(&scenarios);
    // Coverage by the whole suite: a statement that unselected scenarios
    // check is not "not covered", only not selected.
    let whole = Filter::new(&[], &sel.requirements, protocol).map_err(|e| {
        eprintln!("mqttspec: {e}");
        Exit::Usage
    })?;
    let mut not_covered = Vec::new();
    for v in crate::spec::coverage::coverage(&catalogs, &scenarios, &whole).versions {
        for st in v.statements {
            if st.status == crate::spec::coverage::Status::NotCovered {
                not_covered.push((v.protocol, st.id, st.applies_to));
            }
        }
    }
    let selected = filter.apply(scenarios);
    let empty = selected.is_empty().then_some(why);
    Ok(Selected {
        catalogs,
        scenarios: selected,
        filter,
        empty,
        not_covered,
    })
}

/// One line per scenario and protocol: id, protocol, statements, title.
pub fn list(args: &ListArgs) -> Exit {
    let Selected {
        scenarios, empty, ..
    } = match select_explained(&args.selection) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The same status as `run` for the same selection.
    if let Some(why) = empty {
        eprintln!("mqttspec: {why}");
        return Exit::Usage;
    }
    let out = render_list(&scenarios);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    Exit::Ok
}

pub fn render_list(scenarios: &[Scenario]) -> String {
    let rows: Vec<[String; 4]> = scenarios
        .iter()
        .flat_map(|s| {
            s.protocols.iter().map(move |p| {
                [
                    s.id.clone(),
                    p.to_string(),
                    s.requirements.join(","),
                    s.title.clone(),
                ]
            })
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for [id, p, reqs, title] in &rows {
        out.push_str(&format!("{id:w0$}  {p:w1$}  {reqs:w2$}  {title}\n"));
    }
    out
}

pub fn coverage(args: &CoverageArgs) -> Exit {
    let sel = Selection {
        protocol: args.protocol.map_or(Protocols::All, Protocols::Only),
        cases: args.cases.clone(),
        ..Selection::default()
    };
    let (catalogs, scenarios, filter) = match select(&sel) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cov = crate::spec::coverage::coverage(&catalogs, &scenarios, &filter);
    let text = if args.json {
        cov.to_json()
    } else {
        cov.render_text()
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    Exit::Ok
}
