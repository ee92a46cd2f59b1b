//! Findings of the consistency checks between an environment and the Kubernetes manifests
//! deployed to it (`exai check`, and the `checks` of a plan).
//!
//! The checks themselves live in `exai-kube` (they run kustomize and read manifests); the
//! findings are values here so that the planner can carry them in the plan document and render
//! them without depending on anything that does I/O.

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The deploy would fail or the application would not work: `exai check` and `exai plan`
    /// exit 1, and `apply` refuses.
    Error,
    /// Works today but is fragile or surprising: shown, never blocking.
    Warning,
}

impl Severity {
    /// Returns how the renderers name it: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One problem found in an environment's manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, kebab-case identifier of the check (`secret-key-not-found`), for programs and
    /// for docs/kubernetes.md.
    pub code: String,
    /// What is wrong, naming the objects and keys in backticks.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The source file the finding is located in, relative to the spec's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The Kubernetes object it concerns, as `Kind/name` (`Deployment/api-gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

impl Finding {
    /// Returns where the finding is, as `file:line`, `file`, or `None`.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            (Some(file), None) => Some(file.clone()),
            (None, _) => None,
        }
    }
}

/// The checks of one environment's manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentChecks {
    /// The environment.
    pub environment: String,
    /// Its overlay, as the spec writes it (relative to the spec's directory).
    pub overlay: String,
    /// What was found, errors first, then in the order of the rendered manifests.
    pub findings: Vec<Finding>,
}

impl EnvironmentChecks {
    /// Returns how many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Returns true when a finding is an error: the environment must not be applied.
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}
