//! A whole run: select scenarios, run them concurrently, collect the report.
