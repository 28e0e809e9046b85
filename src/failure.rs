//! What a command reports when it fails: a message that names the cause and the fix, and the
//! exit code it deserves (DESIGN §7: 1 runtime failure, 2 usage or configuration error).

use std::fmt;

/// A failed command, ready to print. Library errors convert into it with their exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit_code: u8,
    pub message: String,
}

impl Failure {
    /// A usage or configuration error: exit code 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            exit_code: 2,
            message: message.into(),
        }
    }

    /// A runtime failure (network, Graph, store): exit code 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        Failure {
            exit_code: 1,
            message: message.into(),
        }
    }

    /// Writing a command's output (`what`: "the results", "the export") failed. A reader that
    /// closed stdout early (`mailtrail search … | head -1`) is no failure: that error stops the
    /// command like any other, and the binary then ends quietly with exit 0
    /// ([`Failure::is_output_closed`]). Every command maps its stdout errors through here so
    /// that they all behave the same.
    pub fn output(what: &str, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure {
                exit_code: 0,
                message: String::new(),
            }
        } else {
            Failure::runtime(format!("cannot write {what}: {e}"))
        }
    }

    /// The reader of stdout went away ([`Failure::output`]): end quietly, with success.
    pub fn is_output_closed(&self) -> bool {
        self.exit_code == 0
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_closed_pipe_is_a_quiet_success_and_other_write_errors_fail() {
        let closed = Failure::output("the results", Error::from(ErrorKind::BrokenPipe));
        assert!(closed.is_output_closed());
        let full = Failure::output("the results", Error::other("disk full"));
        assert!(!full.is_output_closed());
        assert_eq!(full.exit_code, 1);
        assert_eq!(full.message, "cannot write the results: disk full");
    }
}
