//! One module per command.

pub mod apply;
pub mod check;
pub mod completions;
pub mod emulator;
pub mod init;
pub mod output;
pub mod plan;
pub mod schema;
pub mod validate;

use crate::connect::{Connection, TargetArgs, connect};
use crate::error::CliError;
use crate::load::{Loaded, load, print_warnings};
use exai_session::{Planned, Prepared, actionable_warnings};
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

/// Reads the spec and prepares the environments `spec` selects, then connects. The
/// connection is the caller's to close, once, with [`close`].
pub async fn open(spec: &SpecArgs, target: &TargetArgs) -> Result<(Loaded, Prepared, Connection), CliError> {
    let file = spec.file();
    let loaded = load(&file, target.uses_emulator())?;
    let prepared =
        Prepared::new(&loaded.spec, &file, &loaded.digest, spec.env.as_deref(), std::time::SystemTime::now())?;
    let connection = connect(target, &loaded.spec.tenant).await?;
    Ok((loaded, prepared, connection))
}

/// Prints where `command` reads from, observes every declared resource and plans (the
/// library's [`Prepared::plan`]), then prints the notes and the warnings the plan makes
/// actionable. Shared by `plan` and `apply`, so what `apply` does is exactly what `plan` shows.
pub async fn plan(
    loaded: &Loaded,
    prepared: Prepared,
    connection: &Connection,
    only: Option<&str>,
    command: &str,
) -> Result<Planned, CliError> {
    // Paths and environment values can hold anything: escaped like every outside string.
    let shown = |text: &str| exai_model::escape_shown(text).into_owned();
    eprintln!("exai {command}: {} (environments: {})", shown(&loaded.file), prepared.environments.join(", "));
    eprintln!("target: {}", shown(&connection.target.to_string()));
    eprintln!("credential: {}", shown(connection.client.credential_description()));
    let planned = prepared.plan(&connection.client).await?;
    for note in &planned.notes {
        eprintln!("note: {}", shown(note));
    }
    print_warnings(loaded, &actionable_warnings(&loaded.spec, only, &planned.plan));
    Ok(planned)
}

/// Closes `connection` (saving the embedded emulator's state) and returns `result`: the one
/// place a command closes its connection, whatever happened while it was open.
pub async fn close<T>(connection: Connection, result: Result<T, CliError>) -> Result<T, CliError> {
    let closed = connection.close().await;
    let value = result?;
    closed?;
    Ok(value)
}
