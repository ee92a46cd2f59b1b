use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The dotted path of an owned field, e.g. `location` or `tags.project`.
pub type FieldPath = String;

/// The fields exai owns on one resource, flattened to `path → value` and normalized.
///
/// A desired resource and the live object it matches are both projected onto this shape; the
/// planner compares the two maps and nothing else. A path absent from the live projection means
/// Azure does not hold a value for it.
pub type OwnedFields = BTreeMap<FieldPath, Value>;

/// Returns a stable digest of owned fields: `sha256:` followed by 64 hex digits.
///
/// Plans record the fingerprint of each live object they were made against; `apply` recomputes
/// it from a fresh read and refuses to write when it changed. Only owned fields go in, so churn
/// in fields Azure manages (eTags, node image versions, power state) never makes a plan stale.
pub fn fingerprint(fields: &OwnedFields) -> String {
    // A BTreeMap serializes in key order, and serde_json writes objects it holds in insertion
    // order, so the bytes hashed here are canonical for a given map.
    let canonical = serde_json::to_vec(fields).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

/// Returns `sha256:` followed by the hex SHA-256 of `bytes` (a spec file's digest in a plan).
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_order_independent_and_value_sensitive() {
        let mut a = OwnedFields::new();
        a.insert("tags.b".into(), Value::from("2"));
        a.insert("location".into(), Value::from("francecentral"));
        let mut b = OwnedFields::new();
        b.insert("location".into(), Value::from("francecentral"));
        b.insert("tags.b".into(), Value::from("2"));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.insert("tags.b".into(), Value::from("3"));
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert!(fingerprint(&a).starts_with("sha256:"));
    }
}
