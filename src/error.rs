//! Errors a user can act on.

use std::fmt;

/// Something splitbrain was asked to do that it cannot do as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Bad input: unknown model, variant or property, a bound out of range, a bad flag.
    /// The text says what was wrong and what is accepted. Exit code 2.
    BadInput(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {}
