//! The commands behind the command line. Each returns an [`Exit`] status;
//! `main` only parses and exits with it.

pub mod console;
pub mod hex;

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No failure (skips allowed); every decoded packet well-formed.
    Ok = 0,
    /// A scenario failed or errored; a decoded packet is malformed.
    Failed = 1,
    /// Bad command line, scenario file or profile.
    Usage = 2,
    /// The target could not be reached, or died during the run.
    Target = 3,
}
