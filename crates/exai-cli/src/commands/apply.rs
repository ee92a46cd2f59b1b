use super::{SpecArgs, observe_and_plan, plan_spec};
use crate::connect::TargetArgs;
use crate::error::CliError;
use exai_executor::{ApplyEvent, ApplyOptions, DryRun, apply, refuse_unsafe};
use exai_planner::{Action, Plan};
use std::io::{BufRead, IsTerminal, Write};

/// Make Azure match the spec: plan, confirm, then create, update or replace what differs.
///
/// Resources are changed in dependency order, independent ones in parallel. A failure stops
/// what depends on it and lets the rest finish; running apply again converges. Deletes and
/// replacements need `--allow-delete`, and exai only deletes what it created.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    spec: SpecArgs,

    /// Print every request apply would send (method, URL, body) and send no write.
    #[arg(long)]
    dry_run: bool,

    /// Apply without asking for confirmation (required when not run from a terminal).
    #[arg(long)]
    auto_approve: bool,

    /// Let the plan delete or replace resources exai owns.
    #[arg(long)]
    allow_delete: bool,

    /// How many resources to change at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
}

fn past(action: Action) -> &'static str {
    match action {
        Action::NoOp => "unchanged",
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
    }
}

fn progressive(action: Action) -> &'static str {
    match action {
        Action::NoOp => "checking",
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
    }
}

fn confirm() -> Result<bool, CliError> {
    print!("\nApply these changes? Only `yes` is accepted: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}

/// Returns the resources whose planned action or live fingerprint differ between two plans.
fn drifted(reviewed: &Plan, fresh: &Plan) -> Vec<String> {
    reviewed
        .resource_changes
        .iter()
        .filter(|r| {
            !fresh
                .resource_changes
                .iter()
                .any(|f| f.address == r.address && f.action == r.action && f.fingerprint == r.fingerprint)
        })
        .map(|r| r.address.to_string())
        .collect()
}

pub async fn run(args: ApplyArgs, target: &TargetArgs) -> Result<u8, CliError> {
    let (command, keys) = if args.dry_run {
        ("apply --dry-run", exai_executor::KeyGeneration::Forbidden)
    } else {
        ("apply", exai_executor::KeyGeneration::Allowed)
    };
    let planned = plan_spec(&args.spec, target, command, keys).await?;
    let plan = &planned.plan;
    println!();
    let mut stdout = std::io::stdout().lock();
    exai_planner::render_text(plan, &mut stdout).map_err(|e| CliError::new(format!("cannot write the plan: {e}")))?;
    drop(stdout);
    if plan.summary.is_empty() {
        println!("Nothing to apply.");
        planned.connection.close().await?;
        return Ok(0);
    }
    refuse_unsafe(plan, args.allow_delete).map_err(|e| {
        let hint = e.hint();
        CliError::new(e.to_string()).hint(hint)
    })?;

    if !args.dry_run && !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::new("apply needs a confirmation, and standard input is not a terminal")
                .hint("review the plan above, then run again with `--auto-approve`; nothing was changed"));
        }
        if !confirm()? {
            println!("Apply cancelled; nothing was changed.");
            planned.connection.close().await?;
            return Ok(1);
        }
        // Time passed while the plan was read: check Azure still is what was reviewed.
        let fresh = observe_and_plan(&planned.desired, &planned.connection).await?;
        let changed = drifted(plan, &fresh);
        if !changed.is_empty() {
            planned.connection.close().await?;
            return Err(CliError::new("Azure changed while the plan was being reviewed; the reviewed plan is stale")
                .details(changed.into_iter().map(|a| format!("changed: {a}")).collect())
                .hint("run `exai apply` again to review the current plan; nothing was changed"));
        }
    }

    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        allow_delete: args.allow_delete,
        secrets_dir: Some(planned.base.join(".exai").join("secrets")),
        ..Default::default()
    };
    let print = |event: ApplyEvent| match event {
        ApplyEvent::Started { address, action } if !args.dry_run => {
            println!("{address}: {}…", progressive(action))
        }
        ApplyEvent::Started { .. } => {}
        ApplyEvent::Request { method, url, body, secret_file, .. } if args.dry_run => {
            println!("\nwould send: {method} {}", exai_model::describe_path(&url));
            if let Some(body) = body {
                let pretty =
                    serde_json::to_string_pretty(&exai_model::describe_placeholders(&body)).unwrap_or_default();
                for line in pretty.lines() {
                    println!("  {line}");
                }
            }
            if let Some(file) = secret_file {
                println!(
                    "  (the answer holds a secret: it would be written to `{}`, mode 0600, and shown nowhere)",
                    file.display()
                );
            }
        }
        ApplyEvent::Request { .. } => {}
        ApplyEvent::Finished { address, action, elapsed } if !args.dry_run => {
            println!("{address}: {} in {:.1}s", past(action), elapsed.as_secs_f64())
        }
        ApplyEvent::Finished { .. } => {}
        ApplyEvent::StillRunning { address, action, elapsed } => {
            println!("{address}: still {}… ({}s)", progressive(action), elapsed.as_secs())
        }
        ApplyEvent::Failed { address, error, hint } => {
            println!("{address}: failed: {error}");
            if let Some(h) = hint {
                println!("  hint: {h}");
            }
        }
        ApplyEvent::SecretWritten { address, path } => {
            println!(
                "{address}: client secret written to `{}` (mode 0600, azure/login `creds` shape); store it as a GitHub secret, then delete the file: it is shown nowhere else",
                path.display()
            )
        }
        ApplyEvent::Skipped { address, because } => {
            println!("{address}: skipped, because `{because}` did not succeed")
        }
    };

    let report = if args.dry_run {
        println!("\nDry run: these requests would be sent; nothing is written.");
        let sender = DryRun::new(&planned.connection.client);
        apply(plan, &sender, options, &print).await
    } else {
        println!();
        apply(plan, &planned.connection.client, options, &print).await
    };
    planned.connection.close().await?;

    let added = report.count(Action::Create);
    let changed = report.count(Action::Update);
    let replaced = report.count(Action::Replace);
    let destroyed = report.count(Action::Delete);
    if args.dry_run {
        println!(
            "\nDry run complete: {added} to add, {changed} to change, {replaced} to replace, {destroyed} to destroy; nothing was written."
        );
        return Ok(0);
    }
    if report.succeeded() {
        println!("\nApply complete: {added} added, {changed} changed, {replaced} replaced, {destroyed} destroyed.");
        Ok(0)
    } else {
        let (failed, skipped) = report.failures();
        Err(CliError::new(format!(
            "apply did not finish: {failed} failed, {skipped} skipped; {added} added, {changed} changed, {replaced} replaced, {destroyed} destroyed"
        ))
        .hint("fix the cause printed above and run `exai apply` again: it plans from what now exists and converges"))
    }
}
