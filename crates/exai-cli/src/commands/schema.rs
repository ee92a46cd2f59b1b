use crate::error::CliError;
use crate::exit::ExitStatus;

/// Print the JSON Schema of exai.yaml.
///
/// Editors use it to complete and check specs: start a spec with
/// `# yaml-language-server: $schema=<path or URL of exai.schema.json>`. The repository keeps a
/// copy in `specs/exai.schema.json`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

pub fn run(_args: SchemaArgs) -> Result<ExitStatus, CliError> {
    let text = serde_json::to_string_pretty(&exai_spec::schema())
        .map_err(|e| CliError::new(format!("cannot encode the schema: {e}")))?;
    println!("{text}");
    Ok(ExitStatus::Success)
}
