use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tag exai writes on everything it creates, with the resource's ownership mark as its value
/// ([`crate::Mark::tag_value`]: the spec, the address and whether it is protected).
///
/// It is how exai knows a resource is its own (only owned resources are ever deleted, and only
/// by the spec that owns them) and how a person looking at the portal finds the spec entry
/// behind a resource.
pub const OWNER_TAG: &str = "exai-owner";

/// Azure resource tags.
///
/// exai manages tags by key: only the keys the spec names (plus [`OWNER_TAG`]) are compared and
/// written, so tags that Azure Policy or a colleague added are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tags(BTreeMap<String, String>);

/// A tag Azure would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// More tags than Azure allows on one resource.
    #[error("{count} tags; Azure allows at most {max} on a resource")]
    TooMany {
        /// How many tags there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A key longer than Azure allows.
    #[error("tag key `{key}` is {len} characters long; Azure allows at most {max}")]
    KeyTooLong {
        /// The key.
        key: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value longer than Azure allows.
    #[error("the value of tag `{key}` is {len} characters long; Azure allows at most {max}")]
    ValueTooLong {
        /// The key.
        key: String,
        /// The value's length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A key with a character Azure forbids, or an empty key.
    #[error("tag key `{key}` is not allowed: keys must be non-empty and must not contain any of < > % & \\ ? /")]
    BadKey {
        /// The key.
        key: String,
    },
}

impl Tags {
    /// Azure's limit on tags per resource.
    ///
    /// Source: <https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations>
    /// ("Each resource, resource group, and subscription can have a maximum of 50 tag name-value
    /// pairs"; names up to 512 characters, values up to 256; names can't contain `<>%&\?/`).
    pub const MAX_TAGS: usize = 50;
    /// Azure's limit on a tag key's length.
    pub const MAX_KEY_LEN: usize = 512;
    /// Azure's limit on a tag value's length.
    pub const MAX_VALUE_LEN: usize = 256;

    /// Returns an empty set of tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// Returns the value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Iterates over the tags in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Returns the number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks one key and value against Azure's rules.
    pub fn check_pair(key: &str, value: &str) -> Result<(), TagError> {
        if key.is_empty() || key.chars().any(|c| "<>%&\\?/".contains(c)) {
            return Err(TagError::BadKey { key: key.to_owned() });
        }
        let len = key.chars().count();
        if len > Self::MAX_KEY_LEN {
            return Err(TagError::KeyTooLong { key: key.to_owned(), len, max: Self::MAX_KEY_LEN });
        }
        let len = value.chars().count();
        if len > Self::MAX_VALUE_LEN {
            return Err(TagError::ValueTooLong { key: key.to_owned(), len, max: Self::MAX_VALUE_LEN });
        }
        Ok(())
    }

    /// Returns the tags Azure should hold after exai writes `managed` over `self`: every
    /// existing tag kept, every managed key set to its desired value. Tag keys are
    /// case-insensitive in Azure, so a managed key replaces an existing key of any casing.
    pub fn merged_with(&self, managed: &Tags) -> Tags {
        let mut out = self.clone();
        for (key, value) in managed.iter() {
            out.0.retain(|k, _| !k.eq_ignore_ascii_case(key));
            out.insert(key, value);
        }
        out
    }

    /// Returns the value of `key`, matching the key case-insensitively as Azure does.
    pub fn get_ignore_case(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

impl FromIterator<(String, String)> for Tags {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_foreign_tags_and_replaces_managed_ones_in_any_casing() {
        let live: Tags = [("Project".into(), "old".into()), ("costCenter".into(), "42".into())].into_iter().collect();
        let managed: Tags = [("project".into(), "exai".into())].into_iter().collect();
        let merged = live.merged_with(&managed);
        assert_eq!(merged.get("project"), Some("exai"));
        assert_eq!(merged.get("Project"), None);
        assert_eq!(merged.get("costCenter"), Some("42"));
    }

    #[test]
    fn azure_tag_rules() {
        assert!(Tags::check_pair("project", "exai").is_ok());
        assert!(matches!(Tags::check_pair("a/b", "x"), Err(TagError::BadKey { .. })));
        assert!(matches!(Tags::check_pair("", "x"), Err(TagError::BadKey { .. })));
        assert!(matches!(Tags::check_pair("k", &"v".repeat(257)), Err(TagError::ValueTooLong { .. })));
        assert!(matches!(Tags::check_pair(&"k".repeat(513), "v"), Err(TagError::KeyTooLong { .. })));
    }
}
