//! The commands behind the command line. Each returns an [`Exit`] status;
//! `main` only parses and exits with it.

pub mod baseline;
pub mod console;
pub mod decode;
pub mod explain;
pub mod fuzz;
pub mod hex;
pub mod matrix;
pub mod replay;
pub mod run;
pub mod signals;
pub mod suite;

use crate::cli::{Cli, Command, RunArgs};

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No failure (skips allowed); every decoded packet well-formed.
    Ok = 0,
    /// A scenario failed or errored; a decoded packet is malformed.
    Failed = 1,
    /// Bad command line, scenario file or profile.
    Usage = 2,
    /// The target could not be reached, failed the preflight, or died
    /// during the run.
    Target = 3,
    /// SIGINT stopped the run (128 + 2).
    Interrupted = 130,
    /// SIGTERM stopped the run (128 + 15).
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Runs the parsed command line.
pub fn main(cli: Cli) -> Exit {
    match cli.command {
        None => run::run(&RunArgs::default()),
        Some(Command::Run(a)) => run::run(&a),
        Some(Command::List(a)) => suite::list(&a),
        Some(Command::Coverage(a)) => suite::coverage(&a),
        Some(Command::Decode(a)) => decode::decode(&a),
        Some(Command::Fuzz(a)) => fuzz::fuzz(&a),
        Some(Command::Matrix(a)) => matrix::matrix(&a),
        Some(Command::Explain(a)) => explain::explain(&a),
        Some(Command::Replay(a)) => replay::replay(&a),
    }
}
