use serde::{Deserialize, Serialize};
use std::fmt;

/// An Azure Resource Manager id, e.g. `/subscriptions/{sub}/resourceGroups/{name}`.
///
/// ARM treats ids case-insensitively and returns them in whatever casing the resource provider
/// prefers (`resourcegroups` in request paths, `resourceGroups` in bodies, lower-cased provider
/// namespaces in some responses). Equality and hashing here are therefore case-insensitive, while
/// the original spelling is kept for display.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(String);

/// Why a string is not an ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceIdError {
    /// The id does not start with `/subscriptions/` or `/providers/`.
    #[error("`{id}` is not an Azure resource id: it must start with `/subscriptions/` or `/providers/`")]
    NotAbsolute {
        /// The rejected text.
        id: String,
    },
    /// The id has an empty segment (`//`) or ends with `/`.
    #[error("`{id}` is not an Azure resource id: it has an empty segment")]
    EmptySegment {
        /// The rejected text.
        id: String,
    },
}

impl ResourceId {
    /// Parses an id, checking only its shape (absolute, no empty segment).
    pub fn parse(id: &str) -> Result<Self, ResourceIdError> {
        let lower = id.to_ascii_lowercase();
        if !(lower.starts_with("/subscriptions/") || lower.starts_with("/providers/")) {
            return Err(ResourceIdError::NotAbsolute { id: id.to_owned() });
        }
        if id[1..].split('/').any(str::is_empty) {
            return Err(ResourceIdError::EmptySegment { id: id.to_owned() });
        }
        Ok(Self(id.to_owned()))
    }

    /// Returns the id of resource group `name` in `subscription`.
    pub fn resource_group(subscription: &str, name: &str) -> Self {
        Self(format!("/subscriptions/{subscription}/resourceGroups/{name}"))
    }

    /// Returns the id of resource `name` of `azure_type` (`Namespace/type`) in a group.
    pub fn in_group(subscription: &str, resource_group: &str, azure_type: &str, name: &str) -> Self {
        Self(format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{azure_type}/{name}"))
    }

    /// Returns the id of an extension resource (`{self}/providers/{azure_type}/{name}`).
    pub fn child(&self, azure_type: &str, name: &str) -> Self {
        Self(format!("{}/providers/{azure_type}/{name}", self.0))
    }

    /// Returns the id of a Microsoft Graph object: its path below `/v1.0`, e.g.
    /// `/applications/{object id}`. Graph object ids are GUIDs, which compare case-insensitively
    /// like ARM ids, so one type serves both.
    pub fn graph(path: impl Into<String>) -> Self {
        Self(path.into())
    }

    /// Returns the id of subscription `subscription`.
    pub fn subscription(subscription: &str) -> Self {
        Self(format!("/subscriptions/{subscription}"))
    }

    /// Returns the id as text, in its original spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the value following `key` (compared case-insensitively), e.g. the subscription
    /// id after `subscriptions`.
    pub fn segment_after(&self, key: &str) -> Option<&str> {
        let mut parts = self.0.split('/');
        while let Some(part) = parts.next() {
            if part.eq_ignore_ascii_case(key) {
                return parts.next();
            }
        }
        None
    }

    /// Returns the last segment: the resource's own name.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for ResourceId {}

impl std::hash::Hash for ResourceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_case_insensitively() {
        let a = ResourceId::parse("/subscriptions/S/resourceGroups/rg").unwrap();
        let b = ResourceId::parse("/SUBSCRIPTIONS/s/resourcegroups/RG").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "/subscriptions/S/resourceGroups/rg");
    }

    #[test]
    fn segments_are_found_whatever_their_casing() {
        let a = ResourceId::parse("/subscriptions/S/resourcegroups/rg").unwrap();
        assert_eq!(a.segment_after("resourceGroups"), Some("rg"));
        assert_eq!(a.segment_after("subscriptions"), Some("S"));
        assert_eq!(a.name(), "rg");
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!(ResourceId::parse("subscriptions/x").is_err());
        assert!(ResourceId::parse("/subscriptions//resourceGroups/x").is_err());
        assert!(ResourceId::parse("/subscriptions/x/").is_err());
    }
}
