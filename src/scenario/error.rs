//! The error every loader in mqttspec returns: which file, where in it, and
//! what was expected.

use crate::scenario::yaml::{DeError, Loc};
use std::fmt;

/// A file that cannot be loaded. Displayed as `file:line:column: message`
/// (or `file: message` when no position applies, e.g. an unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl LoadError {
    pub fn new(file: impl Into<String>, loc: Loc, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.into(),
            line: loc.line as usize,
            column: loc.column as usize,
            message: message.into(),
        }
    }

    /// An error about a whole file (cannot read it, too many files...).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError::new(file, Loc::default(), message)
    }

    pub(crate) fn from_de(file: &str, e: DeError) -> LoadError {
        LoadError::new(file, e.loc, e.message)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}
