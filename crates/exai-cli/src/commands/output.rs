use super::SpecArgs;
use crate::connect::TargetArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use exai_session::{DeployOutputs, OutputError};
use std::io::Write;
use std::path::Path;

/// Print what a deploy needs, read from live Azure: registry login server, cluster name and
/// group, node resource group, kubelet identity, the deployer's client id, tenant and
/// subscription.
///
/// Reads one environment's objects as Azure holds them (not the spec) and writes nothing to
/// Azure. None of the values is a secret. `--format github` appends `key=value` lines to the
/// file `$GITHUB_OUTPUT` names, for the steps after it (`steps.<id>.outputs.registry_login_server`).
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    #[command(flatten)]
    spec: SpecArgs,

    /// Output format: `text` (an aligned table), `json` (an object), `github` (appended to
    /// `$GITHUB_OUTPUT` as `key=value` lines).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Github,
}

impl From<OutputError> for CliError {
    fn from(e: OutputError) -> Self {
        let mut details = Vec::new();
        if let Some(id) = e.request_id() {
            details.push(format!("Azure request id: {id}"));
        }
        let error = CliError::new(e.to_string()).details(details);
        match e.hint() {
            Some(hint) => error.hint(hint),
            None => error,
        }
    }
}

pub async fn run(args: OutputArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    let file = args.spec.file();
    let loaded = crate::load::load(&file, target.uses_emulator())?;
    // Before connecting: a missing `--env` or `$GITHUB_OUTPUT` costs no token.
    let environment = exai_session::output_environment(&loaded.spec, args.spec.env.as_deref())?.name.clone();
    let github_output = match args.format {
        Format::Github => Some(github_output_file()?),
        Format::Text | Format::Json => None,
    };
    let connection = crate::connect::connect(target, &loaded.spec.tenant).await?;
    let shown = |text: &str| exai_model::escape_shown(text).into_owned();
    eprintln!("exai output: {} (environment: {environment})", shown(&loaded.file));
    eprintln!("target: {}", shown(&connection.target));
    eprintln!("credential: {}", shown(connection.client.credential_description()));
    let read = exai_session::read_outputs(&loaded.spec, Some(&environment), &connection.client).await;
    let outputs = super::close(connection, read.map_err(CliError::from)).await?;
    match github_output {
        Some(path) => {
            append_github(&outputs, &path)?;
            let keys: Vec<&str> = outputs.values.iter().map(|(key, _)| *key).collect();
            eprintln!("wrote {} values to `{}`: {}", keys.len(), shown(&path.display().to_string()), keys.join(", "));
        }
        None => {
            let text = match args.format {
                Format::Json => json(&outputs),
                Format::Text | Format::Github => table(&outputs),
            };
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| CliError::new(format!("cannot write the output: {e}")))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// Returns the file `$GITHUB_OUTPUT` names.
fn github_output_file() -> Result<std::path::PathBuf, CliError> {
    match std::env::var_os("GITHUB_OUTPUT") {
        Some(path) if !path.is_empty() => Ok(path.into()),
        _ => Err(CliError::new("`--format github` needs `GITHUB_OUTPUT`, which is not set").hint(
            "run it in a GitHub Actions step (the runner sets `GITHUB_OUTPUT`), or set it to a file to append to; `--format json` or `text` print instead",
        )),
    }
}

/// Appends `key=value` lines to `path`, GitHub's format for a step's outputs
/// (docs.github.com, "Workflow commands for GitHub Actions", "Setting an output parameter").
/// Values are ids, names and host names, never multi-line; one that is would need GitHub's
/// delimiter form, so it is refused instead of written wrong.
fn append_github(outputs: &DeployOutputs, path: &Path) -> Result<(), CliError> {
    let mut lines = String::new();
    for (key, value) in &outputs.values {
        if value.contains(['\n', '\r']) {
            return Err(CliError::new(format!("the value of `{key}` spans several lines")).hint(
                "this is not a value Azure gives a name or an id; check what the object holds (`--format json`)",
            ));
        }
        lines.push_str(&format!("{key}={value}\n"));
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(lines.as_bytes()));
    written.map_err(|e| {
        CliError::new(format!("cannot append to `{}` (`GITHUB_OUTPUT`): {e}", path.display()))
            .hint("check that the file's directory exists and is writable")
    })
}

/// Returns the values as an aligned table, one `key  value` line each.
fn table(outputs: &DeployOutputs) -> String {
    let width = outputs.values.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    outputs.values.iter().map(|(key, value)| format!("{key:width$}  {}\n", exai_model::escape_shown(value))).collect()
}

/// Returns the values as a JSON object, in the keys' documented order.
fn json(outputs: &DeployOutputs) -> String {
    let members: Vec<String> = outputs
        .values
        .iter()
        .map(|(key, value)| format!("  {}: {}", serde_json::Value::from(*key), serde_json::Value::from(value.as_str())))
        .collect();
    if members.is_empty() {
        return "{}\n".to_owned();
    }
    format!("{{\n{}\n}}\n", members.join(",\n"))
}
