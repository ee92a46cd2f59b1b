use serde::{Deserialize, Serialize};
use std::fmt;

/// The stable name of one declared resource: `<environment>.<path>`, e.g. `perso.resourceGroup`.
///
/// Addresses are what a person reads in a plan and what exai uses to match a desired resource
/// with the live object it observed. They never contain Azure ids, which may be unknown until
/// apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    /// Returns the address of `path` (dot-separated) inside `environment`.
    pub fn new(environment: &str, path: &str) -> Self {
        Self(format!("{environment}.{path}"))
    }

    /// Returns the address written in `text` (`<environment>.<path>`, as an ownership mark holds
    /// it), or `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (environment, path) = text.split_once('.')?;
        let valid = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        (valid(environment) && valid(path)).then(|| Self(text.to_owned()))
    }

    /// Returns the environment part of the address.
    pub fn environment(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    /// Returns the address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_the_first_segment() {
        let a = Address::new("perso", "resourceGroup");
        assert_eq!(a.as_str(), "perso.resourceGroup");
        assert_eq!(a.environment(), "perso");
    }
}
