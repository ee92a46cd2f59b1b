//! How a run ends, and why a run refuses to write.

use exai_executor::{ExecutorError, StaleChange};
use exai_planner::{PermissionFinding, UncheckedScope};

/// How a `plan` or `apply` run ended; the command line maps each to one exit code.
#[derive(Debug)]
pub enum Outcome {
    /// The plan has no changes (for `apply`: nothing to apply).
    NoChanges,
    /// `plan`: the plan has changes.
    Changes,
    /// `apply`: every change was made (or, with `--dry-run`, every request shown).
    Applied,
    /// `apply`: the person asked declined; nothing was changed.
    Cancelled,
    /// `apply`: refused before any write.
    Refused(Refusal),
    /// Stopped by a signal: before any write, or with what was done reported.
    Interrupted,
    /// `apply`: some changes failed or were skipped.
    Failed {
        /// How many resources failed.
        failed: usize,
        /// How many were skipped because something they depend on failed.
        skipped: usize,
    },
}

/// Why an apply refuses to write anything.
#[derive(Debug)]
pub enum Refusal {
    /// A saved plan was made from another version of the spec.
    SpecChanged {
        /// The spec file the saved plan names.
        file: String,
        /// The digest the saved plan records.
        planned: String,
        /// The digest of the spec now.
        now: String,
    },
    /// A saved plan covers other environments than this apply would.
    Environments {
        /// The saved plan's environments.
        planned: Vec<String>,
        /// This apply's environments.
        now: Vec<String>,
    },
    /// Azure or the spec changed since the plan that was reviewed.
    Stale {
        /// Which plan: `the saved plan`, `the reviewed plan`.
        what: &'static str,
        /// Each difference.
        changes: Vec<StaleChange>,
    },
    /// The plan deletes or replaces, and that was not allowed.
    Unsafe(ExecutorError),
    /// The plan needs actions the caller's roles do not grant (or could not be checked, with
    /// `exai plan --require-permissions`): Azure would refuse them part-way through.
    Permissions {
        /// Each action not granted, with the roles that would grant it.
        findings: Vec<PermissionFinding>,
        /// Each scope whose permissions could not be read (only refused by
        /// `--require-permissions`).
        unchecked: Vec<UncheckedScope>,
    },
    /// The Kubernetes checks of planned environments found errors: their deploy would fail.
    /// An apply covers every planned environment at once, so the whole apply is refused.
    Checks {
        /// The environments whose checks found errors.
        failed: Vec<String>,
        /// Every planned environment.
        planned: Vec<String>,
        /// How many errors, in all.
        errors: usize,
    },
}

impl Refusal {
    /// Returns the refusal's message: what is refused and why.
    pub fn message(&self) -> String {
        match self {
            Self::SpecChanged { file, .. } => format!("the spec changed since the plan was made from `{file}`"),
            Self::Environments { planned, now } => format!(
                "the plan covers the environments {}, and this apply would cover {}",
                planned.join(", "),
                now.join(", ")
            ),
            Self::Stale { what, .. } => format!("{what} is stale: Azure or the spec changed since it was made"),
            Self::Unsafe(e) => e.to_string(),
            Self::Permissions { findings, unchecked } if findings.is_empty() => format!(
                "the identity's permissions could not be checked at {}",
                unchecked.iter().map(|u| format!("`{}`", u.scope)).collect::<Vec<_>>().join(", ")
            ),
            Self::Permissions { findings, .. } => {
                let changes: std::collections::BTreeSet<&exai_model::Address> =
                    findings.iter().map(|f| &f.address).collect();
                match changes.len() {
                    1 => "1 change needs actions this identity is not granted: Azure would refuse it".to_owned(),
                    n => format!("{n} changes need actions this identity is not granted: Azure would refuse them"),
                }
            }
            Self::Checks { failed, errors, .. } => format!(
                "the Kubernetes checks of {} found {}: the deploy would fail",
                backticked(failed),
                if *errors == 1 { "1 error".to_owned() } else { format!("{errors} errors") }
            ),
        }
    }

    /// Returns the lines that detail the refusal.
    pub fn details(&self) -> Vec<String> {
        match self {
            Self::SpecChanged { planned, now, .. } => {
                vec![format!("the plan's spec: {planned}"), format!("the spec now:   {now}")]
            }
            Self::Stale { changes, .. } => changes.iter().map(|s| format!("{}: {}", s.address, s.what)).collect(),
            Self::Permissions { findings, unchecked } => findings
                .iter()
                .map(|f| format!("{}: {}", f.message(), f.hint))
                .chain(unchecked.iter().map(|u| format!("`{}`: {}", u.scope, u.reason)))
                .collect(),
            Self::Environments { .. } | Self::Unsafe(_) => Vec::new(),
            // The findings are in the plan shown above the refusal.
            Self::Checks { .. } => Vec::new(),
        }
    }

    /// Returns what to do next.
    pub fn hint(&self) -> String {
        match self {
            Self::SpecChanged { .. } => {
                "run `exai plan --out` again from this spec and review it; nothing was changed".to_owned()
            }
            Self::Environments { .. } => {
                "leave out `--env` to apply the saved plan as it was made; nothing was changed".to_owned()
            }
            Self::Stale { .. } => "run `exai plan` again and review the new plan; nothing was changed".to_owned(),
            Self::Unsafe(e) => e.hint(),
            Self::Permissions { findings, .. } if findings.is_empty() => {
                "plan again if the error is passing; a 403 means the identity has no role granting `Microsoft.Authorization/permissions/read` there (every role with `*/read` does); or plan without `--require-permissions`, which then only says what it could not check".to_owned()
            }
            Self::Checks { failed, planned, .. } => {
                let others: Vec<&String> = planned.iter().filter(|e| !failed.contains(e)).collect();
                let alone = match others.as_slice() {
                    [] => String::new(),
                    [one] => format!(", or apply `{one}` alone (`--env {one}`)"),
                    _ => ", or apply the other environments alone (`--env NAME`)".to_owned(),
                };
                format!("fix each error at the file and line the plan shows (`exai check` lists them){alone}; an apply covers every planned environment, so nothing was changed")
            }
            Self::Permissions { .. } => {
                "have an administrator grant the identity one of the roles named at each scope (or apply these changes as an identity that has them), then plan again; nothing was changed".to_owned()
            }
        }
    }
}

fn backticked(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
