//! A credential that never prints: the client secret and access tokens live in [`Secret`].

use std::fmt;

/// A string that must never reach a log, an error message, the store or the terminal.
/// `Debug` and `Display` print `**REDACTED**`; the value is reachable only through
/// [`Secret::expose`], which makes every use of it easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself: only for the token request and the Authorization header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters, which `doctor` may show to help spot a truncated paste.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2-value");
        assert_eq!(format!("{s}"), "**REDACTED**");
        assert_eq!(format!("{s:?}"), "**REDACTED**");
        assert_eq!(format!("{:?}", Some(&s)), "Some(**REDACTED**)");
        assert_eq!(s.expose(), "hunter2-value");
    }
}
