use super::SpecArgs;
use crate::connect::{Connection, TargetArgs};
use crate::error::CliError;
use crate::exit::ExitStatus;
use crate::load::Loaded;
use exai_executor::{ApplyEvent, ApplyReport, DryRun, Interrupt, Outcome};
use exai_model::{DesiredSpec, DesiredState, LiveState, Observation};
use exai_planner::{Action, Plan};
use exai_session::{ApplyRequest, Planned, Prepared, Refusal, SavedSelection};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a command stopped by SIGINT or SIGTERM: 128 + SIGINT's number, as shells
/// report a process Ctrl-C ended.
pub const INTERRUPTED: u8 = ExitStatus::Interrupted.code();

/// Returns once the process receives SIGINT (Ctrl-C) or SIGTERM (what CI runners send when a
/// job is cancelled). From the first call on, those signals no longer end the process by
/// themselves: the caller decides.
pub async fn signal_received() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            // Not registered: the signals keep their default effect, ending the process.
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Handles SIGINT and SIGTERM for `apply`: before the first write (`armed` unset) a signal
/// ends the process at once, nothing having been changed; while writing, the first triggers
/// `interrupt` (nothing new starts, what is in flight finishes its round trip) and the second
/// ends the process at once.
fn handle_signals(interrupt: Interrupt, armed: Arc<AtomicBool>) {
    tokio::spawn(async move {
        loop {
            signal_received().await;
            if !armed.load(Ordering::SeqCst) {
                eprintln!(
                    "
interrupted: nothing was changed"
                );
                std::process::exit(i32::from(INTERRUPTED));
            }
            if interrupt.is_triggered() {
                eprintln!(
                    "
interrupted again: exiting now; requests in flight may or may not have reached Azure, `exai plan` shows where things stand"
                );
                std::process::exit(i32::from(INTERRUPTED));
            }
            interrupt.trigger();
            eprintln!(
                "
interrupted: no new change starts; waiting for the requests in flight to be answered (interrupt again to exit at once)"
            );
        }
    });
}

/// Prints what an interrupted apply did, resource by resource: done, in flight (with what to
/// follow in Azure), not started.
fn print_interrupted(report: &ApplyReport) {
    let mut done = Vec::new();
    let mut in_flight = Vec::new();
    let mut not_started = Vec::new();
    let mut failed = Vec::new();
    for (address, outcome) in &report.outcomes {
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Done(action) => done.push(format!("{address}: {}", past(*action))),
            Outcome::Interrupted { operation: Some(url) } => {
                in_flight.push(format!("{address}: Azure is still carrying it out; follow {url}"))
            }
            Outcome::Interrupted { operation: None } => {
                in_flight.push(format!("{address}: interrupted between its requests"))
            }
            Outcome::NotStarted => not_started.push(address.to_string()),
            Outcome::Failed { .. } => failed.push(format!("{address}: failed (see above)")),
            Outcome::Skipped { because } => {
                failed.push(format!("{address}: skipped, because `{because}` did not succeed"))
            }
        }
    }
    println!(
        "
Apply interrupted: {} done, {} in flight, {} not started{}.",
        done.len(),
        in_flight.len(),
        not_started.len(),
        if failed.is_empty() { String::new() } else { format!(", {} failed or skipped", failed.len()) }
    );
    let sections = [
        ("done", done),
        (
            "in flight (Azure goes on with these: `exai plan` shows where each stands, `exai apply` waits for it)",
            in_flight,
        ),
        ("not started", not_started),
        ("failed or skipped", failed),
    ];
    for (title, lines) in sections {
        if lines.is_empty() {
            continue;
        }
        println!("  {title}:");
        for line in lines {
            println!("    {line}");
        }
    }
}

/// Make Azure match the spec: plan, confirm, then create, update or replace what differs.
///
/// Resources are changed in dependency order, independent ones in parallel. A failure stops
/// what depends on it and lets the rest finish; running apply again converges. Deletes and
/// replacements need `--allow-delete`, and exai only deletes what it created. With a plan saved
/// by `exai plan --out plan.json`, `exai apply plan.json` applies exactly that plan.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan saved by `exai plan --out`: apply exactly what it shows, or refuse (before any
    /// write) if Azure or the spec changed since. A saved plan was reviewed: no question asked.
    #[arg(value_name = "PLAN.json")]
    saved: Option<PathBuf>,

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

    /// How many requests to have in flight at once (a resource whose long-running operation is
    /// being followed holds none).
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
        Action::Wait => "finished in Azure",
        Action::Read => "read",
    }
}

fn progressive(action: Action) -> &'static str {
    match action {
        Action::NoOp => "checking",
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
        Action::Wait => "waiting for Azure",
        Action::Read => "reading",
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

/// Prints, for each deployer, what GitHub Actions needs to log in as it: the values to store as
/// repository variables (never a secret).
fn print_deployers(desired: &DesiredState, live: &LiveState, report: Option<&exai_executor::ApplyReport>) {
    let mut environments: Vec<&str> = desired.resources.iter().map(|r| r.address.environment()).collect();
    environments.dedup();
    for environment in environments {
        // The deployer logs in as AZURE_CLIENT_ID, the read-only planner (pull requests) as
        // AZURE_PLANNER_CLIENT_ID.
        let mut lines = Vec::new();
        for (path, variable) in [("deployer.app", "AZURE_CLIENT_ID"), ("planner.app", "AZURE_PLANNER_CLIENT_ID")] {
            let address = exai_model::Address::new(environment, path);
            let Some(resource) = desired.resources.iter().find(|r| r.address == address) else { continue };
            if !matches!(resource.spec, DesiredSpec::Application(_)) {
                continue;
            }
            let written = report.and_then(|r| r.documents.get(&address));
            let read = match live.get(&address) {
                Some(Observation::Present(live)) => Some(&live.document),
                _ => None,
            };
            if let Some(app_id) = written.or(read).and_then(|d| d.get("appId")).and_then(|v| v.as_str()) {
                lines.push(format!("  {variable}={}", exai_model::escape_shown(app_id)));
            }
        }
        if lines.is_empty() {
            continue;
        }
        let subscription = desired
            .resources
            .iter()
            .filter(|r| r.address.environment() == environment)
            .find_map(|r| r.spec.id().and_then(|id| id.segment_after("subscriptions").map(str::to_owned)));
        println!(
            "\nGitHub Actions ({environment}): store these as repository variables; no secret is needed with OIDC:"
        );
        for line in lines {
            println!("{line}");
        }
        println!("  AZURE_TENANT_ID={}", desired.tenant);
        if let Some(subscription) = subscription {
            println!("  AZURE_SUBSCRIPTION_ID={subscription}");
        }
    }
}

/// Prints, for each cluster created with a key pair this apply generated, where the pair is:
/// the nodes accept only that key.
fn print_generated_keys(keys: &[exai_executor::KeyToGenerate], report: &exai_executor::ApplyReport) {
    for key in keys {
        let created = report.outcomes.iter().any(|(address, outcome)| {
            address == &key.address && matches!(outcome, Outcome::Done(Action::Create | Action::Replace))
        });
        if created {
            let private = key.private_key_file();
            println!(
                "{}: created with the SSH key pair exai generated for it: `{}` (private, mode 0600) and `{}.pub`; keep them, the nodes accept only this key",
                key.address,
                private.display(),
                private.display()
            );
        }
    }
}

pub async fn run(args: ApplyArgs, target: &TargetArgs) -> Result<ExitStatus, CliError> {
    let interrupt = Interrupt::default();
    let armed = Arc::new(AtomicBool::new(false));
    handle_signals(interrupt.clone(), armed.clone());
    let saved = args.saved.as_deref().map(exai_session::read_saved).transpose()?;
    // Without `-f` or `--env`: the spec the plan was made from, and the environment it planned.
    let selected = saved.as_ref().map(SavedSelection::of).unwrap_or_default();
    let spec = SpecArgs {
        file: args.spec.file.clone().or(selected.file),
        env: args.spec.env.clone().or(selected.environment),
    };
    let (loaded, prepared, connection) = super::open(&spec, target).await?;
    let run = Run { args: &args, loaded: &loaded, connection: &connection, only: spec.env.as_deref(), armed };
    let outcome = run.exec(prepared, saved.as_ref(), interrupt).await;
    let outcome = super::close(connection, outcome).await?;
    Ok(ExitStatus::of(&outcome, false))
}

/// An apply, between connecting and closing the connection.
struct Run<'a> {
    args: &'a ApplyArgs,
    loaded: &'a Loaded,
    connection: &'a Connection,
    /// The environment selected, if one is.
    only: Option<&'a str>,
    /// Set once writing starts: a signal then interrupts rather than exits.
    armed: Arc<AtomicBool>,
}

impl Run<'_> {
    /// Plans, checks the saved or reviewed plan, applies, and prints each step.
    async fn exec(
        &self,
        prepared: Prepared,
        saved: Option<&Plan>,
        interrupt: Interrupt,
    ) -> Result<exai_session::Outcome, CliError> {
        let args = self.args;
        let command = if args.dry_run { "apply --dry-run" } else { "apply" };
        let planned = super::plan(self.loaded, prepared, self.connection, self.only, command).await?;
        if let Some(refusal) = saved.and_then(|saved| planned.check_saved(saved).err()) {
            return Ok(refused(refusal));
        }
        println!();
        let mut stdout = std::io::stdout().lock();
        exai_planner::render_text_with(&planned.plan, &mut stdout, crate::color::text_options())
            .map_err(|e| CliError::new(format!("cannot write the plan: {e}")))?;
        drop(stdout);
        // Before "nothing to apply": the deploy that follows would fail all the same.
        if let Err(refusal) = planned.check_kubernetes() {
            return Ok(refused(refusal));
        }
        if planned.plan.summary.is_empty() {
            println!("Nothing to apply.");
            print_deployers(&planned.desired, &planned.live, None);
            return Ok(exai_session::Outcome::NoChanges);
        }
        if let Err(refusal) = planned.check_unsafe(args.allow_delete) {
            return Ok(refused(refusal));
        }
        if !args.dry_run && !args.auto_approve && saved.is_none() {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::new("apply needs a confirmation, and standard input is not a terminal")
                    .hint("review the plan above, then run again with `--auto-approve`; nothing was changed"));
            }
            if !confirm()? {
                println!("Apply cancelled; nothing was changed.");
                return Ok(exai_session::Outcome::Cancelled);
            }
            // Time passed while the plan was read: check Azure still is what was reviewed.
            if let Err(refusal) = planned.recheck(&self.connection.client).await? {
                return Ok(refused(refusal));
            }
        }
        Ok(self.apply(&planned, interrupt).await)
    }

    /// Applies `planned` (or shows its requests) and prints what was done.
    async fn apply(&self, planned: &Planned, interrupt: Interrupt) -> exai_session::Outcome {
        let dry_run = self.args.dry_run;
        let request = ApplyRequest {
            parallelism: usize::from(self.args.parallelism),
            allow_delete: self.args.allow_delete,
            dry_run,
            interrupt,
        };
        let print = |event: ApplyEvent| print_event(event, dry_run);
        let run = if dry_run {
            println!("\nDry run: these requests would be sent; nothing is written.");
            planned.apply(&DryRun::new(&self.connection.client), request, &print).await
        } else {
            println!();
            self.armed.store(true, Ordering::SeqCst);
            planned.apply(&self.connection.client, request, &print).await
        };
        print_report(planned, &run.report, &run.outcome, dry_run);
        run.outcome
    }
}

/// Prints why the apply refuses, and returns the outcome that says so.
fn refused(refusal: Refusal) -> exai_session::Outcome {
    crate::error::report(&CliError::from(&refusal));
    exai_session::Outcome::Refused(refusal)
}

/// Prints one step of an apply: progress, or with `dry_run` the requests it would send.
fn print_event(event: ApplyEvent, dry_run: bool) {
    match event {
        // A wait is announced by its `Waiting`, which says what Azure is doing.
        ApplyEvent::Started { action: Action::Wait, .. } => {}
        ApplyEvent::Started { address, action } if !dry_run => {
            println!("{address}: {}…", progressive(action))
        }
        ApplyEvent::Started { .. } => {}
        ApplyEvent::Request { method, url, body, secret_file, .. } if dry_run => {
            println!("\nwould send: {method} {}", exai_model::escape_shown(&exai_model::describe_path(&url)));
            if let Some(body) = body {
                let pretty =
                    serde_json::to_string_pretty(&exai_model::describe_placeholders(&body)).unwrap_or_default();
                // JSON escapes control characters but not invisible ones (a bidi override).
                for line in pretty.lines() {
                    println!("  {}", exai_model::escape_shown(line));
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
        ApplyEvent::Finished { address, action, elapsed } if !dry_run => {
            println!("{address}: {} in {:.1}s", past(action), elapsed.as_secs_f64())
        }
        ApplyEvent::Finished { .. } => {}
        ApplyEvent::StillRunning { address, action, elapsed } => {
            println!("{address}: still {}… ({}s)", progressive(action), elapsed.as_secs())
        }
        // Azure's error codes and messages echo names and values: escaped, so none can write
        // an escape sequence or forge a line ("Apply complete").
        ApplyEvent::Failed { address, error, hint } => {
            println!("{address}: failed: {}", exai_model::escape_shown(&error));
            if let Some(h) = hint {
                println!("  hint: {}", exai_model::escape_shown(&h));
            }
        }
        ApplyEvent::SecretWritten { address, path } => {
            println!(
                "{address}: client secret written to `{}` (mode 0600, azure/login `creds` shape); store it as a GitHub secret, then delete the file: it is shown nowhere else (a plan that finds no file takes the secret as handed over; one that finds a file not holding it rotates it)",
                path.display()
            )
        }
        ApplyEvent::Adopted { address, note } => println!("{address}: already exists: adopted ({note})"),
        ApplyEvent::Skipped { address, because } => {
            println!("{address}: skipped, because `{because}` did not succeed")
        }
        ApplyEvent::Waiting { address, in_progress, url } if dry_run => {
            println!(
                "\nwould wait: `{address}` is {} (provisioningState `{}`): apply reads {} until it finishes, then checks its fields again",
                in_progress.operation.phrase(),
                in_progress.provisioning_state,
                exai_model::describe_path(&url)
            )
        }
        ApplyEvent::Waiting { address, in_progress, .. } => {
            println!(
                "{address}: {} (provisioningState `{}`); waiting for it to finish…",
                in_progress.operation.phrase(),
                in_progress.provisioning_state
            )
        }
    }
}

/// Prints how the apply that produced `report` ended.
fn print_report(planned: &Planned, report: &ApplyReport, outcome: &exai_session::Outcome, dry_run: bool) {
    if let exai_session::Outcome::Interrupted = outcome {
        print_interrupted(report);
        return;
    }
    let added = report.count(Action::Create);
    let changed = report.count(Action::Update);
    let replaced = report.count(Action::Replace);
    let destroyed = report.count(Action::Delete);
    let waits = report.count(Action::Wait);
    if dry_run {
        let waits = if waits == 0 { String::new() } else { format!(", {waits} to wait for") };
        println!(
            "\nDry run complete: {added} to add, {changed} to change, {replaced} to replace, {destroyed} to destroy{waits}; nothing was written."
        );
        return;
    }
    print_generated_keys(&planned.keys, report);
    let waited = if waits == 0 { String::new() } else { format!(", {waits} finished in Azure") };
    match outcome {
        exai_session::Outcome::Failed { failed, skipped } => crate::error::report(
            &CliError::new(format!(
                "apply did not finish: {failed} failed, {skipped} skipped; {added} added, {changed} changed, {replaced} replaced, {destroyed} destroyed"
            ))
            .hint("fix the cause printed above and run `exai apply` again: it plans from what now exists and converges"),
        ),
        _ => {
            println!(
                "\nApply complete: {added} added, {changed} changed, {replaced} replaced, {destroyed} destroyed{waited}."
            );
            print_deployers(&planned.desired, &planned.live, Some(report));
        }
    }
}
