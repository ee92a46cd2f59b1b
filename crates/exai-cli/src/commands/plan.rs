use super::{SpecArgs, plan_spec};
use crate::connect::TargetArgs;
use crate::error::CliError;
use std::io::Write;

/// Show what apply would change: the spec against live Azure, resource by resource.
///
/// Reads every declared resource (one GET each) and writes nothing. Every declared resource
/// appears in the plan, unchanged ones included.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    spec: SpecArgs,

    /// Exit 2 when there are changes, 0 when there are none, 1 on error (for CI).
    #[arg(long)]
    detailed_exitcode: bool,

    /// Output format: `text` for people, `json` for programs (the plan document).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub async fn run(args: PlanArgs, target: &TargetArgs) -> Result<u8, CliError> {
    // A plan has no side effects: an SSH key not generated yet is left to `apply`.
    let planned = plan_spec(&args.spec, target, "plan", exai_executor::KeyGeneration::Forbidden).await?;
    let plan = &planned.plan;
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Text => {
            let _ = writeln!(stdout);
            exai_planner::render_text(plan, &mut stdout)
        }
        Format::Json => serde_json::to_writer_pretty(&mut stdout, plan)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(stdout)),
    };
    written.map_err(|e| CliError::new(format!("cannot write the plan: {e}")))?;
    drop(stdout);
    planned.connection.close().await?;
    Ok(if args.detailed_exitcode && !plan.summary.is_empty() { 2 } else { 0 })
}
