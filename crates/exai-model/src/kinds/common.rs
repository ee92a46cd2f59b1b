//! Projections every tracked kind shares: tags managed by key, regions, enum casing.

use crate::{Location, OwnedFields, Tags};
use serde_json::Value;

/// Returns the tags `document` holds (string values only).
pub(super) fn live_tags(document: &Value) -> Tags {
    document
        .get("tags")
        .and_then(Value::as_object)
        .map(|tags| tags.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default()
}

/// Inserts `tags.<key>` for every managed tag.
pub(super) fn insert_desired_tags(fields: &mut OwnedFields, managed: &Tags) {
    for (key, value) in managed.iter() {
        fields.insert(format!("tags.{key}"), Value::from(value));
    }
}

/// Inserts `tags.<key>` for every managed key `document` holds, matched case-insensitively and
/// named as the spec spells it.
pub(super) fn insert_live_tags(fields: &mut OwnedFields, managed: &Tags, document: &Value) {
    let tags = live_tags(document);
    for (key, _) in managed.iter() {
        if let Some(value) = tags.get_ignore_case(key) {
            fields.insert(format!("tags.{key}"), Value::from(value));
        }
    }
}

/// Inserts `location`, normalized with [`Location::from_azure`].
pub(super) fn insert_live_location(fields: &mut OwnedFields, document: &Value) {
    if let Some(location) = document.get("location").and_then(Value::as_str) {
        fields.insert("location".into(), Value::from(Location::from_azure(location).as_str()));
    }
}

/// Returns true when some managed tag is missing from `document` or has another value.
pub(super) fn tags_differ(managed: &Tags, document: &Value) -> bool {
    let tags = live_tags(document);
    managed.iter().any(|(key, value)| tags.get_ignore_case(key) != Some(value))
}

/// Returns the tags `document` holds that the spec does not manage, as `tags.<key>`.
pub(super) fn foreign_tags(managed: &Tags, document: &Value) -> OwnedFields {
    live_tags(document)
        .iter()
        .filter(|(key, _)| managed.get_ignore_case(key).is_none())
        .map(|(key, value)| (format!("tags.{key}"), Value::from(value)))
        .collect()
}

/// Returns `value` in the casing of the known enum member it equals case-insensitively, or
/// unchanged when it is none of them (a value newer than exai is still a value, shown as is).
pub(super) fn canonical_enum(value: &str, known: &[&'static str]) -> String {
    known.iter().find(|k| k.eq_ignore_ascii_case(value)).map_or_else(|| value.to_owned(), |k| (*k).to_owned())
}
