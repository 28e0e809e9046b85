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
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
