//! Reading a plan saved by `exai plan --out`.

use exai_planner::{FORMAT_VERSION, Plan};
use std::path::{Path, PathBuf};

/// The largest saved plan exai reads: a plan of hundreds of resources is a few megabytes.
pub const MAX_SAVED_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// Why a saved plan cannot be applied, before anything is read from Azure.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// The file cannot be read.
    #[error("cannot read the saved plan `{path}`: {source}")]
    Unreadable {
        /// The file, as shown.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than any plan exai writes.
    #[error("`{path}` is {size} bytes, too large for a plan exai saved")]
    TooLarge {
        /// The file, as shown.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The file is not JSON with a `format_version`.
    #[error("`{path}` is not a plan exai saved (no `format_version`)")]
    NotAPlan {
        /// The file, as shown.
        path: String,
    },
    /// The plan is of another format version.
    #[error("`{path}` is a plan of format {found}; this exai reads format {FORMAT_VERSION}")]
    Format {
        /// The file, as shown.
        path: String,
        /// Its `format_version`.
        found: u64,
    },
    /// The plan's format is ours, and its document does not hold.
    #[error("`{path}` is not a valid exai plan: {source}")]
    Invalid {
        /// The file, as shown.
        path: String,
        /// What does not hold.
        source: serde_json::Error,
    },
    /// The plan was made by another build of exai: another version, or the same version built
    /// from another commit.
    #[error("`{path}` was made by exai {made_by}; this is exai {}", crate::VERSION)]
    Version {
        /// The file, as shown.
        path: String,
        /// The version and commit that made it, as [`crate::VERSION`] shows them.
        made_by: String,
    },
}

impl SavedPlanError {
    /// Returns what to do next, where something can be said.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Unreadable { .. } => return None,
            Self::TooLarge { .. } => "pass the file `exai plan --out` wrote",
            Self::NotAPlan { .. } => "pass the file `exai plan --out plan.json` wrote",
            Self::Format { .. } => "run `exai plan --out` again with this exai; nothing was changed",
            Self::Invalid { .. } => "pass the file `exai plan --out` wrote, unedited",
            Self::Version { .. } => {
                "plan and apply with the same exai build (version and commit): run `exai plan --out` again \
                 with this exai, or apply with the exai that planned; nothing was changed"
            }
        };
        Some(hint.to_owned())
    }
}

/// What a saved plan selects when the command line does not: the spec it was made from, and
/// the environment it planned when it planned one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedSelection {
    /// The spec file the plan names.
    pub file: Option<PathBuf>,
    /// The plan's environment, when it covers exactly one.
    pub environment: Option<String>,
}

impl SavedSelection {
    /// Returns what `saved` selects.
    pub fn of(saved: &Plan) -> Self {
        let file = saved.spec.as_ref().map(|s| PathBuf::from(&s.file));
        let environment = match saved.environments.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        };
        Self { file, environment }
    }
}

/// Reads a saved plan and checks it was made by this exai, in this format.
pub fn read_saved(path: &Path) -> Result<Plan, SavedPlanError> {
    let shown = path.display().to_string();
    let unreadable = |source| SavedPlanError::Unreadable { path: shown.clone(), source };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_SAVED_PLAN_BYTES {
        return Err(SavedPlanError::TooLarge { path: shown, size });
    }
    let text = std::fs::read(path).map_err(unreadable)?;
    // Parsed once: the format is checked first, so a plan of another format is named as such
    // rather than as a malformed one.
    let document: Option<serde_json::Value> = serde_json::from_slice(&text).ok();
    let version = document.as_ref().and_then(|v| v.get("format_version")).and_then(serde_json::Value::as_u64);
    match version {
        None => return Err(SavedPlanError::NotAPlan { path: shown }),
        Some(found) if found != u64::from(FORMAT_VERSION) => return Err(SavedPlanError::Format { path: shown, found }),
        Some(_) => {}
    }
    let plan: Plan = serde_json::from_value(document.unwrap_or_default())
        .map_err(|source| SavedPlanError::Invalid { path: shown.clone(), source })?;
    // The commit as well as the version: two builds of one version can plan differently.
    if plan.exai_version != env!("CARGO_PKG_VERSION") || plan.exai_commit != crate::COMMIT {
        let made_by = format!("{} ({})", plan.exai_version, plan.exai_commit);
        return Err(SavedPlanError::Version { path: shown, made_by });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Plan, SavedPlanError> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("plan.json");
        std::fs::write(&path, text).expect("write the plan");
        read_saved(&path)
    }

    #[test]
    fn a_saved_plan_of_another_format_or_version_or_none_is_refused_by_name() {
        let error =
            |text: &str| read(text).map(|_| ()).map_err(|e| e.to_string().replace(env!("CARGO_PKG_VERSION"), "X"));
        assert!(matches!(read("{}"), Err(SavedPlanError::NotAPlan { .. })));
        assert!(matches!(read("not json"), Err(SavedPlanError::NotAPlan { .. })));
        assert!(matches!(read(r#"{"format_version": 999}"#), Err(SavedPlanError::Format { found: 999, .. })));
        let ours = format!(r#"{{"format_version": {FORMAT_VERSION}}}"#);
        assert!(matches!(read(&ours), Err(SavedPlanError::Invalid { .. })));
        assert!(
            error(r#"{"format_version": 999}"#)
                .unwrap_err()
                .ends_with(&format!("is a plan of format 999; this exai reads format {FORMAT_VERSION}"))
        );
        let missing = read_saved(Path::new("/nonexistent/plan.json")).map(|_| ());
        assert!(matches!(&missing, Err(SavedPlanError::Unreadable { .. })));
        assert_eq!(missing.unwrap_err().hint(), None);
    }
}
