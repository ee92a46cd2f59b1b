//! One module per command.

pub mod apply;
pub mod completions;
pub mod emulator;
pub mod plan;
pub mod schema;
pub mod validate;

use crate::connect::{Connection, TargetArgs, connect};
use crate::error::CliError;
use crate::load::load;
use std::path::PathBuf;

/// Which spec, and which of its environments.
#[derive(Debug, clap::Args)]
pub struct SpecArgs {
    /// The spec to read [default: exai.yaml; with a saved plan, the spec the plan names].
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Only this environment (default: every environment in the spec).
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
}

impl SpecArgs {
    /// Returns the spec's path: `-f`, or `exai.yaml`.
    pub fn file(&self) -> PathBuf {
        self.file.clone().unwrap_or_else(|| PathBuf::from("exai.yaml"))
    }
}

/// A spec read, its live state observed, and the plan between them.
pub struct Planned {
    pub desired: exai_model::DesiredState,
    /// What was read.
    pub live: exai_model::LiveState,
    /// The spec's directory, where `.exai/` (SSH keys, secrets) lives.
    pub base: PathBuf,
    pub connection: Connection,
    pub plan: exai_planner::Plan,
    /// The SSH key pairs `apply` generates for the clusters the plan creates.
    pub keys: Vec<exai_executor::KeyToGenerate>,
    /// Where the spec writes the names Azure may refuse (`file:line:column`), by address.
    pub declared: Declared,
}

/// Where the spec writes the names Azure may refuse, as `file:line:column`, by address.
pub type Declared = std::collections::BTreeMap<exai_model::Address, String>;

/// How many reads run at once.
pub const READ_PARALLELISM: usize = 8;

/// Reads the spec, connects, observes every declared resource and plans. Shared by `plan` and
/// `apply`, so what `apply` does is exactly what `plan` shows.
pub async fn plan_spec(spec: &SpecArgs, target: &TargetArgs, command: &str) -> Result<Planned, CliError> {
    let file = spec.file();
    let loaded = load(&file, target.uses_emulator())?;
    let mut desired = loaded.spec.desired_state(spec.env.as_deref()).map_err(|e| {
        CliError::new(e.to_string())
            .hint("pass one of the declared names to `--env`, or leave it out to use every environment")
    })?;
    let environments: Vec<&str> =
        loaded.spec.select(spec.env.as_deref()).unwrap_or_default().iter().map(|e| e.name.as_str()).collect();
    // SSH keys live next to the spec (`.exai/ssh/`), whatever the current directory.
    let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    exai_executor::prepare_secrets(&mut desired, std::time::SystemTime::now());
    let declared: Declared = loaded
        .spec
        .name_positions()
        .into_iter()
        .map(|(address, span)| (address, format!("{}:{}:{}", loaded.file, span.line, span.column)))
        .collect();
    let connection = connect(target, &loaded.spec.tenant).await?;
    // Paths and environment values can hold anything: escaped like every outside string.
    let shown = |text: &str| exai_model::escape_shown(text).into_owned();
    eprintln!("exai {command}: {} (environments: {})", shown(&loaded.file), environments.join(", "));
    eprintln!("target: {}", shown(&connection.target.to_string()));
    eprintln!("credential: {}", shown(connection.client.credential_description()));
    let (mut live, mut plan) = observe_and_plan(&desired, base, &connection, &declared).await?;
    // What the secret files hand over is part of the desired state apply works from (a recheck
    // plans it again).
    exai_executor::check_secret_files(&mut desired, &mut live, &secrets_dir(base));
    // A cluster's SSH key is an input of its creation only: resolved for the clusters this
    // plan creates, and planned again with the keys found (generating one is apply's job).
    let creating: Vec<&exai_model::Address> = plan
        .resource_changes
        .iter()
        .filter(|c| matches!(c.action, exai_planner::Action::Create | exai_planner::Action::Replace))
        .map(|c| &c.address)
        .collect();
    let prepared = exai_executor::prepare_ssh_keys(&mut desired, &creating, base).map_err(|e| {
        let hint = e.hint();
        CliError::new(e.to_string()).hint(hint)
    })?;
    if !prepared.notes.is_empty() {
        plan = exai_planner::plan(&desired, &live).map_err(|e| CliError::new(e.to_string()))?;
    }
    for note in &prepared.notes {
        eprintln!("note: {}", shown(&note.to_string()));
    }
    loaded.print_warnings(&actionable_warnings(&loaded.spec, spec.env.as_deref(), &plan));
    let origin = exai_planner::SpecRef { file: loaded.file.clone(), digest: loaded.digest.clone() };
    let plan =
        plan.with_origin(env!("CARGO_PKG_VERSION"), origin, environments.iter().map(|e| (*e).to_owned()).collect());
    Ok(Planned { desired, live, base: base.to_path_buf(), connection, plan, keys: prepared.to_generate, declared })
}

/// Returns the warnings of the selected environments that `plan` makes actionable: those about
/// no particular write, and those about writes of a type the plan creates, changes or deletes
/// in their environment (the Contributor deployer's warning only when the plan writes a role
/// assignment: it then must be applied by an admin). A no-op plan has nothing to act on.
pub fn actionable_warnings<'s>(
    spec: &'s exai_spec::Spec,
    only: Option<&str>,
    plan: &exai_planner::Plan,
) -> Vec<&'s exai_spec::Warning> {
    let writes = |environment: &str, azure_type: &str| {
        plan.resource_changes.iter().any(|c| {
            c.action != exai_planner::Action::NoOp
                && c.address.environment() == environment
                && c.resource_type.eq_ignore_ascii_case(azure_type)
        })
    };
    spec.warnings_for(only)
        .into_iter()
        .filter(|w| w.writes_of.is_none_or(|azure_type| writes(&w.environment, azure_type)))
        .collect()
}

/// Where client secrets are written: `.exai/secrets/` next to the spec.
pub fn secrets_dir(base: &std::path::Path) -> std::path::PathBuf {
    base.join(".exai").join("secrets")
}

/// Reads the live state of `desired` through `connection` and plans against it, with what the
/// secret files under `base` hand over. A resource Azure refuses to create (a taken registry
/// name) is reported where the spec `declared` it.
pub async fn observe_and_plan(
    desired: &exai_model::DesiredState,
    base: &std::path::Path,
    connection: &Connection,
    declared: &Declared,
) -> Result<(exai_model::LiveState, exai_planner::Plan), CliError> {
    let live = exai_executor::observe(desired, &connection.client, READ_PARALLELISM).await.map_err(|e| {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        if let exai_executor::ObserveError::Refused { address, .. } = &e {
            let place = declared.get(address).map_or_else(|| format!("`{address}` in the spec"), Clone::clone);
            err = err.details(vec![format!("declared at {place}")]);
        }
        if let Some(id) = e.request_id() {
            err = err.details(vec![format!("Azure request id: {id}")]);
        }
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    })?;
    let mut desired = desired.clone();
    let mut live = live;
    exai_executor::check_secret_files(&mut desired, &mut live, &secrets_dir(base));
    let plan = exai_planner::plan(&desired, &live).map_err(|e| CliError::new(e.to_string()).hint(e.hint()))?;
    Ok((live, plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use exai_model::{LiveState, Observation};
    use exai_planner::Action;

    /// The example spec, and a plan of it where only the resources `writes` name change.
    fn example(writes: &[&str]) -> (exai_spec::Spec, exai_planner::Plan) {
        let text = include_str!("../../../../specs/exai.yaml");
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
}
