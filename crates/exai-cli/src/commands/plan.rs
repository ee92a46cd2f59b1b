use super::SpecArgs;
use crate::connect::TargetArgs;
use crate::error::CliError;
use crate::exit::ExitStatus;
use exai_planner::{GITHUB_COMMENT_LIMIT, MarkdownOptions, Plan};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest Markdown plan `--summary-file` writes: GitHub keeps a job summary of at most
/// 1 MiB.
const SUMMARY_LIMIT: usize = 1024 * 1024 - 1024;

/// Show what apply would change: the spec against live Azure, resource by resource.
///
/// Reads every declared resource (one GET each) and writes nothing to Azure. Every declared
/// resource appears in the plan, unchanged ones included, and so does everything exai created
/// that the spec no longer declares.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    spec: SpecArgs,

    /// Exit 2 when there are changes, 0 when there are none, 1 on any error, usage errors
    /// included (for CI).
    #[arg(long)]
    detailed_exitcode: bool,

    /// Exit 1 when the identity running the plan could not apply it: a change needs an action
    /// its roles do not grant, or its permissions could not be read (the plan names each).
    /// Otherwise the exit code is as without it.
    #[arg(long, conflicts_with = "skip_permission_check")]
    require_permissions: bool,

    /// Neither read the caller's permissions nor check the plan against them: for an identity
    /// that plans what another one applies (the read-only planner of a pull request), whose own
    /// permissions say nothing of the apply. `exai apply` always checks.
    #[arg(long)]
    skip_permission_check: bool,

    /// Output format: `text` for people, `markdown` for a pull-request comment (always under
    /// GitHub's 65,536 characters), `json` for programs (the plan document).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,

    /// Also save the plan document here, for `exai apply PLAN.json`.
    #[arg(long, value_name = "PLAN.json")]
    out: Option<PathBuf>,

    /// Also write the whole plan as Markdown here (e.g. `$GITHUB_STEP_SUMMARY`; appended to, as
    /// GitHub expects; at most 1 MiB).
    #[arg(long, value_name = "FILE")]
    summary_file: Option<PathBuf>,

    /// With `--format markdown`: end the comment with this line (a hidden marker such as
    /// `<!-- exai:plan -->`, by which a workflow finds and updates its comment).
    #[arg(long, value_name = "TEXT")]
    marker: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

fn write_error(what: &str, path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("cannot write {what} `{}`: {e}", path.display()))
        .hint("check that the directory exists and is writable")
}

/// Writes the plan document to `path` in one step ([`exai_executor::write_atomically`]: a
/// temporary file renamed into place), so a reader never sees half a plan.
fn save(plan: &Plan, path: &Path) -> Result<(), CliError> {
    let mut text = serde_json::to_vec_pretty(plan).map_err(|e| write_error("the plan", path, e))?;
    text.push(b'\n');
    exai_executor::write_atomically(path, &text, 0o666, exai_executor::Existing::Replace)
        .map_err(|e| write_error("the plan", path, e))
}

pub async fn run(args: PlanArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    // Interrupted, a plan stops at once: it has written nothing to Azure, and its files are
    // written after its last read, each in one step (`--out` renamed into place), so the
    // signal, noticed only between reads, never leaves one half-written.
    tokio::select! {
        biased;
        result = plan(args, target) => result,
        () = super::apply::signal_received() => {
            eprintln!("\ninterrupted: nothing was written");
            Ok(ExitStatus::of(&exai_session::Outcome::Interrupted, false))
        }
    }
}

async fn plan(args: PlanArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    // A plan has no side effects: an SSH key not generated yet is left to `apply`.
    let (loaded, prepared, connection) = super::open(&args.spec, target).await?;
    let prepared = if args.skip_permission_check { prepared.without_permission_check() } else { prepared };
    let planned = super::plan(&loaded, prepared, &connection, args.spec.env.as_deref(), "plan").await;
    let planned = super::close(connection, planned).await?;
    let plan = &planned.plan;
    if let Some(path) = &args.out {
        save(plan, path)?;
        eprintln!("plan saved to `{}`: apply exactly this plan with `exai apply {}`", path.display(), path.display());
    }
    let full_plan = match (&args.out, &args.summary_file) {
        (Some(out), Some(_)) => Some(format!("The full plan is in the run's summary and in `{}`.", out.display())),
        (Some(out), None) => Some(format!("The full plan is in `{}`.", out.display())),
        (None, Some(_)) => Some("The full plan is in the run's summary.".to_owned()),
        (None, None) => None,
    };
    if let Some(path) = &args.summary_file {
        let options = MarkdownOptions { budget: SUMMARY_LIMIT, full_plan: None, marker: None };
        let markdown = exai_planner::render_markdown(plan, &options);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| write_error("the summary", path, e))?;
        writeln!(file, "{markdown}").map_err(|e| write_error("the summary", path, e))?;
    }
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Text => {
            let _ = writeln!(stdout);
            exai_planner::render_text_with(plan, &mut stdout, crate::color::text_options())
        }
        Format::Markdown => {
            let options = MarkdownOptions { budget: GITHUB_COMMENT_LIMIT, full_plan, marker: args.marker.clone() };
            writeln!(stdout, "{}", exai_planner::render_markdown(plan, &options))
        }
        Format::Json => serde_json::to_writer_pretty(&mut stdout, plan)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(stdout)),
    };
    written.map_err(|e| CliError::new(format!("cannot write the plan: {e}")))?;
    // Errors of the Kubernetes checks fail the plan (exit 1, never 2): apply would refuse it.
    if let Err(refusal) = planned.check_kubernetes() {
        crate::error::report(&CliError::from(&refusal));
        return Ok(ExitStatus::of(&exai_session::Outcome::Refused(refusal), args.detailed_exitcode));
    }
    if args.require_permissions
        && let Err(refusal) = planned.check_permissions(true)
    {
        crate::error::report(&CliError::from(&refusal));
        return Ok(ExitStatus::of(&exai_session::Outcome::Refused(refusal), args.detailed_exitcode));
    }
    Ok(ExitStatus::of(&planned.outcome(), args.detailed_exitcode))
}
