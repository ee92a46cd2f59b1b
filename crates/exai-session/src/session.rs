//! The stages of a run: [`Prepared`] (the desired state) and [`Planned`] (live state and plan).

use crate::outcome::{Outcome, Refusal};
use exai_azure::AzureClient;
use exai_executor::{
    ApplyEvent, ApplyOptions, ApplyReport, Interrupt, KeyToGenerate, ObserveError, PrepareError, Recheck, Sender,
};
use exai_model::{Address, DesiredState, LiveState};
use exai_planner::{Action, Plan, PlanError, SpecRef};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where the spec writes the names Azure may refuse, as `file:line:column`, by address.
pub type Declared = BTreeMap<Address, String>;

/// How many reads may be in flight at once: as many as one HTTP/2 connection carries (RFC 9113
/// §6.5.2 recommends servers allow at least 100 concurrent streams). What bounds reads in
/// practice is ARM's token buckets, which the client's pacing follows (see
/// docs/architecture.md, `PacingPolicy`), not this count.
pub const READ_PARALLELISM: usize = 100;

/// Why a run could not produce a plan.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// `--env` names no environment of the spec.
    #[error("{0}")]
    UnknownEnvironment(exai_spec::UnknownEnvironment),
    /// Live state could not be read.
    #[error("{error}")]
    Observe {
        /// What failed.
        error: ObserveError,
        /// Where the spec declares the resource Azure refused (`file:line:column`), when it
        /// refused one.
        declared_at: Option<String>,
    },
    /// The plan could not be made from what was read.
    #[error("{0}")]
    Plan(PlanError),
    /// The plan could not be made again with the SSH keys found.
    #[error("{0}")]
    Replan(PlanError),
    /// The SSH key of a cluster to create cannot be used.
    #[error("{0}")]
    Keys(PrepareError),
}

impl SessionError {
    /// Returns what to do next, where something can be said.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownEnvironment(_) => {
                Some("pass one of the declared names to `--env`, or leave it out to use every environment".to_owned())
            }
            Self::Observe { error, .. } => error.hint(),
            Self::Plan(e) => Some(e.hint()),
            Self::Replan(_) => None,
            Self::Keys(e) => Some(e.hint()),
        }
    }

    /// Returns the lines that detail the error: where the spec declares a refused name, and
    /// Azure's request id.
    pub fn details(&self) -> Vec<String> {
        let Self::Observe { error, declared_at } = self else { return Vec::new() };
        let mut details = Vec::new();
        if let Some(place) = declared_at {
            details.push(format!("declared at {place}"));
        }
        if let Some(id) = error.request_id() {
            details.push(format!("Azure request id: {id}"));
        }
        details
    }
}

/// Where client secrets are written: `.exai/secrets/` next to the spec.
pub fn secrets_dir(base: &Path) -> PathBuf {
    base.join(".exai").join("secrets")
}

/// Returns the warnings of the selected environments that `plan` makes actionable: those about
/// no particular write, and those about writes of a type the plan creates, changes or deletes
/// in their environment (the Contributor deployer's warning only when the plan writes a role
/// assignment: it then must be applied by an admin). A no-op plan has nothing to act on, and
/// a plan whose permission check covered those writes says it from Azure's answer instead.
pub fn actionable_warnings<'s>(
    spec: &'s exai_spec::Spec,
    only: Option<&str>,
    plan: &Plan,
) -> Vec<&'s exai_spec::Warning> {
    let writes = |environment: &str, azure_type: &str| {
        plan.resource_changes.iter().any(|c| {
            !c.action.changes_nothing()
                && c.address.environment() == environment
                && c.resource_type.eq_ignore_ascii_case(azure_type)
        })
    };
    // The plan's permission check answers from Azure what a warning about writes guesses from
    // the spec: once it checked every such write, the warning would say it a second time.
    let checked = |environment: &str, azure_type: &str| {
        plan.permissions.as_ref().is_some_and(|check| {
            plan.resource_changes
                .iter()
                .filter(|c| c.address.environment() == environment && c.resource_type.eq_ignore_ascii_case(azure_type))
                .all(|c| check.checked(&c.address))
        })
    };
    spec.warnings_for(only)
        .into_iter()
        .filter(|w| {
            w.writes_of
                .is_none_or(|azure_type| writes(&w.environment, azure_type) && !checked(&w.environment, azure_type))
        })
        .collect()
}

/// A spec turned into the desired state of the selected environments, before any request.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What the spec declares.
    pub desired: DesiredState,
    /// The selected environments, in the spec's order.
    pub environments: Vec<String>,
    /// The spec's directory, where `.exai/` (SSH keys, secrets) lives.
    pub base: PathBuf,
    /// Where the spec writes the names Azure may refuse.
    pub declared: Declared,
    origin: SpecRef,
    /// Read the caller's permissions and check the plan against them (the default).
    check_permissions: bool,
    /// The selected environments with `kubernetes:`, whose manifests the plan checks.
    kubernetes: Vec<exai_kube::Target>,
}

impl Prepared {
    /// Prepares the environments `only` selects (all without it) of `spec`, read from `file`
    /// whose bytes have `digest`; `now` dates the client secrets the spec asks for.
    pub fn new(
        spec: &exai_spec::Spec,
        file: &Path,
        digest: &str,
        only: Option<&str>,
        now: SystemTime,
    ) -> Result<Self, SessionError> {
        let mut desired = spec.desired_state(only).map_err(SessionError::UnknownEnvironment)?;
        let environments = spec.select(only).unwrap_or_default().iter().map(|e| e.name.clone()).collect();
        // SSH keys and secrets live next to the spec (`.exai/`), whatever the current directory.
        let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        exai_executor::prepare_secrets(&mut desired, now);
        let shown = file.display().to_string();
        let declared = spec
            .name_positions()
            .into_iter()
            .map(|(address, span)| (address, format!("{shown}:{}:{}", span.line, span.column)))
            .collect();
        let origin = SpecRef { file: shown, digest: digest.to_owned() };
        let kubernetes = exai_kube::targets(spec, only, file).map_err(SessionError::UnknownEnvironment)?;
        Ok(Self { desired, environments, base, declared, origin, check_permissions: true, kubernetes })
    }

    /// Returns the preparation of a plan that neither reads the caller's permissions nor checks
    /// them (`exai plan --skip-permission-check`): for an identity that plans what another one
    /// applies (the read-only planner of a pull request), whose own permissions say nothing of
    /// the apply.
    pub fn without_permission_check(mut self) -> Self {
        self.check_permissions = false;
        self
    }

    /// Reads the live state of every declared resource through `client` and plans. Shared by
    /// `plan` and `apply`, so what `apply` does is exactly what `plan` shows.
    pub async fn plan(self, client: &AzureClient) -> Result<Planned, SessionError> {
        // What the secret files hand over is part of the desired state apply works from (a
        // recheck plans it again).
        let (mut desired, live, mut plan) =
            observe_and_plan(self.desired, &self.base, client, &self.declared, self.check_permissions).await?;
        // A cluster's SSH key is an input of its creation only: resolved for the clusters this
        // plan creates, and planned again with the keys found (generating one is apply's job).
        let creating: Vec<&Address> = plan
            .resource_changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Replace))
            .map(|c| &c.address)
            .collect();
        let prepared =
            exai_executor::prepare_ssh_keys(&mut desired, &creating, &self.base).map_err(SessionError::Keys)?;
        if !prepared.notes.is_empty() {
            plan = exai_planner::plan(&desired, &live).map_err(SessionError::Replan)?;
        }
        let mut plan = plan.with_origin(env!("CARGO_PKG_VERSION"), crate::COMMIT, self.origin, self.environments);
        // The manifests are checked from the spec alone (kustomize and the files): what
        // `exai check` shows, in the plan a reviewer reads.
        plan.checks = exai_kube::check_all(&self.kubernetes);
        Ok(Planned {
            desired,
            live,
            base: self.base,
            plan,
            keys: prepared.to_generate,
            declared: self.declared,
            notes: prepared.notes,
        })
    }
}

/// Reads the live state of `desired` through `client` and plans against it, with what the
/// secret files under `base` hand over (recorded in the desired state it returns). A resource
/// Azure refuses to create (a taken registry name) is reported where the spec `declared` it.
async fn observe_and_plan(
    mut desired: DesiredState,
    base: &Path,
    client: &AzureClient,
    declared: &Declared,
    check_permissions: bool,
) -> Result<(DesiredState, LiveState, Plan), SessionError> {
    let observed = exai_executor::observe_with(&desired, client, READ_PARALLELISM, check_permissions).await;
    let mut live = observed.map_err(|error| {
        let declared_at = match &error {
            ObserveError::Refused { address, .. } => {
                Some(declared.get(address).map_or_else(|| format!("`{address}` in the spec"), Clone::clone))
            }
            _ => None,
        };
        SessionError::Observe { error, declared_at }
    })?;
    exai_executor::check_secret_files(&mut desired, &mut live, &secrets_dir(base));
    let plan = exai_planner::plan(&desired, &live).map_err(SessionError::Plan)?;
    Ok((desired, live, plan))
}

/// How to apply a [`Planned`].
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// At most this many resources are changed at once.
    pub parallelism: usize,
    /// Allow deletes and replacements.
    pub allow_delete: bool,
    /// Only show the requests: no key pair is generated.
    pub dry_run: bool,
    /// Stops the apply when triggered.
    pub interrupt: Interrupt,
}

/// What an apply did, and how the run ends.
#[derive(Debug)]
pub struct ApplyRun {
    /// What was done, resource by resource.
    pub report: ApplyReport,
    /// [`Outcome::Applied`], [`Outcome::Interrupted`] or [`Outcome::Failed`].
    pub outcome: Outcome,
}

/// A spec's live state read, and the plan between them.
#[derive(Debug)]
pub struct Planned {
    /// What the spec declares, with the SSH keys and secrets found.
    pub desired: DesiredState,
    /// What was read.
    pub live: LiveState,
    /// The spec's directory, where `.exai/` (SSH keys, secrets) lives.
    pub base: PathBuf,
    /// The plan, with its origin (exai version, spec, environments).
    pub plan: Plan,
    /// The SSH key pairs `apply` generates for the clusters the plan creates.
    pub keys: Vec<KeyToGenerate>,
    /// Where the spec writes the names Azure may refuse.
    pub declared: Declared,
    /// Where each SSH key found came from, one note each.
    pub notes: Vec<String>,
}

impl Planned {
    /// Returns how a `plan` run ends: with changes or without.
    pub fn outcome(&self) -> Outcome {
        if self.plan.summary.is_empty() { Outcome::NoChanges } else { Outcome::Changes }
    }

    /// Refuses a `saved` plan made from another spec, for other environments, or showing
    /// other changes than this plan (Azure or the spec changed since).
    pub fn check_saved(&self, saved: &Plan) -> Result<(), Refusal> {
        let (file, planned) = saved.spec.as_ref().map(|s| (s.file.as_str(), s.digest.as_str())).unwrap_or_default();
        let now = self.plan.spec.as_ref().map(|s| s.digest.as_str()).unwrap_or_default();
        if planned != now {
            return Err(Refusal::SpecChanged {
                file: file.to_owned(),
                planned: planned.to_owned(),
                now: now.to_owned(),
            });
        }
        if saved.environments != self.plan.environments {
            return Err(Refusal::Environments {
                planned: saved.environments.clone(),
                now: self.plan.environments.clone(),
            });
        }
        refuse_if_stale(saved, &self.plan, "the saved plan")
    }

    /// Refuses a plan whose Kubernetes checks found errors. An apply covers every planned
    /// environment at once, so it refuses them all, naming the ones that failed.
    pub fn check_kubernetes(&self) -> Result<(), Refusal> {
        let failed: Vec<String> = self.plan.failed_checks().iter().map(|c| c.environment.clone()).collect();
        if failed.is_empty() {
            return Ok(());
        }
        Err(Refusal::Checks {
            failed,
            planned: self.plan.environments.clone(),
            errors: self.plan.check_count(exai_model::checks::Severity::Error),
        })
    }

    /// Refuses a plan that deletes or replaces when that is not allowed, or that needs actions
    /// the caller's roles do not grant ([`Planned::check_permissions`]).
    pub fn check_unsafe(&self, allow_delete: bool) -> Result<(), Refusal> {
        self.check_kubernetes()?;
        exai_executor::refuse_unsafe(&self.plan, allow_delete).map_err(Refusal::Unsafe)?;
        self.check_permissions(false)
    }

    /// Refuses a plan whose permission check found actions the caller is not granted; with
    /// `require_checked` (`exai plan --require-permissions`), also one whose permissions could
    /// not be read at some scope. A plan made without reading permissions passes.
    pub fn check_permissions(&self, require_checked: bool) -> Result<(), Refusal> {
        let Some(check) = &self.plan.permissions else { return Ok(()) };
        if check.has_findings() || (require_checked && !check.unchecked.is_empty()) {
            return Err(Refusal::Permissions {
                findings: check.findings.clone(),
                unchecked: if require_checked { check.unchecked.clone() } else { Vec::new() },
            });
        }
        Ok(())
    }

    /// Reads live state again and refuses when the plan is no longer what it shows: time
    /// passed while a person reviewed it.
    pub async fn recheck(&self, client: &AzureClient) -> Result<Result<(), Refusal>, SessionError> {
        let (_, _, fresh) = observe_and_plan(self.desired.clone(), &self.base, client, &self.declared, true).await?;
        Ok(refuse_if_stale(&self.plan, &fresh, "the reviewed plan"))
    }

    /// Applies the plan through `sender` (the client, or a dry run), reporting each step to
    /// `on_event`. Call [`Planned::check_unsafe`] first.
    pub async fn apply<S: Sender>(
        &self,
        sender: &S,
        request: ApplyRequest,
        on_event: &(dyn Fn(ApplyEvent) + Sync),
    ) -> ApplyRun {
        let options = ApplyOptions {
            parallelism: request.parallelism,
            allow_delete: request.allow_delete,
            secrets_dir: Some(secrets_dir(&self.base)),
            // Key pairs are generated only by a real apply, on blocking threads, while the
            // cluster's dependencies are written; only the cluster's create waits for its key.
            inputs: if request.dry_run { Vec::new() } else { self.keys.iter().map(KeyToGenerate::start).collect() },
            interrupt: request.interrupt,
            recheck: Some(Recheck::new(self.desired.clone(), self.live.clone())),
            ..Default::default()
        };
        let dry_run = request.dry_run;
        let report = exai_executor::apply(&self.plan, sender, options, on_event).await;
        let outcome = outcome_of(&report, dry_run);
        ApplyRun { report, outcome }
    }
}

/// Returns how an apply that produced `report` ends. A dry run that was not interrupted has
/// done what it was asked, showing every request (what it could not show is among its events).
fn outcome_of(report: &ApplyReport, dry_run: bool) -> Outcome {
    if report.interrupted() {
        Outcome::Interrupted
    } else if dry_run || report.succeeded() {
        Outcome::Applied
    } else {
        let (failed, skipped) = report.failures();
        Outcome::Failed { failed, skipped }
    }
}

/// Refuses, naming every difference, when `fresh` is not what `reviewed` showed.
fn refuse_if_stale(reviewed: &Plan, fresh: &Plan, what: &'static str) -> Result<(), Refusal> {
    let changes = exai_executor::stale_changes(reviewed, fresh);
    if changes.is_empty() { Ok(()) } else { Err(Refusal::Stale { what, changes }) }
}
#[cfg(test)]
mod tests {
    use super::*;
    use exai_model::Observation;

    /// The example spec, and a plan of it where only the resources `writes` name change.
    fn example(writes: &[&str]) -> (exai_spec::Spec, Plan) {
        let text = include_str!("../../../specs/exai.yaml");
        let env = |_: &str| Some(exai_emulator::DEV_SUBSCRIPTION_ID.to_owned());
        let spec = exai_spec::parse("exai.yaml", text, &env).expect("the example is valid");
        let desired = spec.desired_state(None).expect("every environment");
        let mut live = LiveState::new();
        for resource in &desired.resources {
            live.insert(resource.address.clone(), Observation::Absent);
        }
        let mut plan = exai_planner::plan(&desired, &live).expect("a plan");
        for change in &mut plan.resource_changes {
            if !writes.contains(&change.address.as_str()) {
                change.action = Action::NoOp;
            }
        }
        (spec, plan)
    }

    fn environments(warnings: &[&exai_spec::Warning]) -> Vec<String> {
        warnings.iter().map(|w| w.environment.clone()).collect()
    }

    #[test]
    fn the_contributor_warning_shows_only_where_a_role_assignment_is_written() {
        let (spec, plan) = example(&[]);
        assert_eq!(spec.warnings.len(), 2, "the example's deployers are both Contributors");
        assert!(actionable_warnings(&spec, None, &plan).is_empty(), "a no-op plan has nothing to act on");

        let (spec, plan) = example(&["prod.registry", "perso.cluster"]);
        assert!(actionable_warnings(&spec, None, &plan).is_empty(), "no role assignment is written");

        let (spec, plan) = example(&["prod.cluster.acr-pull"]);
        assert_eq!(environments(&actionable_warnings(&spec, None, &plan)), ["prod"]);
        assert!(actionable_warnings(&spec, Some("perso"), &plan).is_empty(), "only the selected environments");

        let (spec, plan) = example(&["perso.deployer.role", "prod.planner.role"]);
        assert_eq!(environments(&actionable_warnings(&spec, None, &plan)), ["perso", "prod"], "once each");
        assert_eq!(environments(&spec.warnings_for(Some("prod"))), ["prod"]);
    }

    #[test]
    fn a_plan_whose_permission_check_covered_the_role_assignments_does_not_warn_from_the_spec_too() {
        let (spec, mut plan) = example(&["perso.cluster.acr-pull", "prod.cluster.acr-pull"]);
        let unchecked = |addresses: Vec<exai_model::Address>| exai_planner::UncheckedScope {
            scope: exai_model::ResourceId::subscription(exai_emulator::DEV_SUBSCRIPTION_ID),
            reason: "503".into(),
            addresses,
        };
        // Checked in `perso` (granted or found missing: the plan says which), not in `prod`.
        plan.permissions = Some(exai_planner::PermissionCheck {
            findings: Vec::new(),
            unchecked: vec![unchecked(vec![exai_model::Address::new("prod", "cluster.acr-pull")])],
        });
        assert_eq!(environments(&actionable_warnings(&spec, None, &plan)), ["prod"]);
        plan.permissions = Some(exai_planner::PermissionCheck::default());
        assert!(actionable_warnings(&spec, None, &plan).is_empty());
    }
}
