//! One module per command.

pub mod apply;
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
    eprintln!("exai {command}: {} (environments: {})", loaded.file, environments.join(", "));
    eprintln!("target: {}", connection.target);
    eprintln!("credential: {}", connection.client.credential_description());
    let (live, mut plan) = observe_and_plan(&desired, &connection, &declared).await?;
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
        eprintln!("note: {note}");
    }
    let origin = exai_planner::SpecRef { file: loaded.file.clone(), digest: loaded.digest.clone() };
    let plan =
        plan.with_origin(env!("CARGO_PKG_VERSION"), origin, environments.iter().map(|e| (*e).to_owned()).collect());
    Ok(Planned { desired, live, base: base.to_path_buf(), connection, plan, keys: prepared.to_generate, declared })
}

/// Reads the live state of `desired` through `connection` and plans against it. A resource
/// Azure refuses to create (a taken registry name) is reported where the spec `declared` it.
pub async fn observe_and_plan(
    desired: &exai_model::DesiredState,
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
    let plan = exai_planner::plan(desired, &live).map_err(|e| CliError::new(e.to_string()))?;
    Ok((live, plan))
}
