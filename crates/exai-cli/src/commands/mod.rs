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
}

/// How many reads run at once.
pub const READ_PARALLELISM: usize = 8;

/// Reads the spec, connects, observes every declared resource and plans. Shared by `plan` and
/// `apply`, so what `apply` does is exactly what `plan` shows.
pub async fn plan_spec(
    spec: &SpecArgs,
    target: &TargetArgs,
    command: &str,
    keys: exai_executor::KeyGeneration,
) -> Result<Planned, CliError> {
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
    let notes = exai_executor::prepare_ssh_keys(&mut desired, base, keys).map_err(|e| {
        let hint = e.hint();
        CliError::new(e.to_string()).hint(hint)
    })?;
    exai_executor::prepare_secrets(&mut desired, std::time::SystemTime::now());
    let connection = connect(target, &loaded.spec.tenant).await?;
    eprintln!("exai {command}: {} (environments: {})", loaded.file, environments.join(", "));
    eprintln!("target: {}", connection.target);
    eprintln!("credential: {}", connection.client.credential_description());
    for note in notes {
        eprintln!("note: {note}");
    }
    let (live, plan) = observe_and_plan(&desired, &connection).await?;
    let origin = exai_planner::SpecRef { file: loaded.file.clone(), digest: loaded.digest.clone() };
    let plan =
        plan.with_origin(env!("CARGO_PKG_VERSION"), origin, environments.iter().map(|e| (*e).to_owned()).collect());
    Ok(Planned { desired, live, base: base.to_path_buf(), connection, plan })
}

/// Reads the live state of `desired` through `connection` and plans against it.
pub async fn observe_and_plan(
    desired: &exai_model::DesiredState,
    connection: &Connection,
) -> Result<(exai_model::LiveState, exai_planner::Plan), CliError> {
    let live = exai_executor::observe(desired, &connection.client, READ_PARALLELISM).await.map_err(|e| {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        if let Some(id) = e.request_id() {
            err = err.details(vec![format!("Azure request id: {id}")]);
        }
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    })?;
    let plan = exai_planner::plan(desired, &live).map_err(|e| CliError::new(e.to_string()).hint(e.hint()))?;
    Ok((live, plan))
}
