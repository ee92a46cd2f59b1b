//! `exai`: the command line. Nothing but argument handling and printing.
//!
//! Each command lives in its own module under [`commands`] with an `*Args` struct (its doc
//! comment is the help) and a `run` function. Everything a command does beyond parsing and
//! printing belongs to a library crate, so it is tested there without a process.
//!
//! Exit codes (README.md and docs/architecture.md, "Exit codes") come from one mapping,
//! [`exit::ExitStatus`]: 0 success (with `plan --detailed-exitcode`: no changes), 1 any error,
//! usage errors included, 2 changes present (only with `plan --detailed-exitcode`), 130
//! interrupted. Errors are printed once, at the top, by [`error::report`], with every string
//! from outside escaped for the terminal.

mod color;
mod commands;
mod connect;
mod diagnostics;
mod error;
mod exit;
mod load;

use clap::{Parser, Subcommand};
use exit::ExitStatus;
use std::process::ExitCode;

/// A declarative desired-state reconciler for Azure.
///
/// exai reads exai.yaml, compares it with live Azure and shows (plan) or makes (apply) the
/// changes. Try it without an Azure account: `exai plan --emulator -f specs/exai.yaml`.
#[derive(Debug, Parser)]
#[command(name = "exai", version = exai_session::VERSION, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    target: connect::TargetArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(commands::init::InitArgs),
    Validate(commands::validate::ValidateArgs),
    Schema(commands::schema::SchemaArgs),
    Check(commands::check::CheckArgs),
    Plan(commands::plan::PlanArgs),
    Apply(commands::apply::ApplyArgs),
    Output(commands::output::OutputArgs),
    Emulator(commands::emulator::EmulatorArgs),
    Completions(commands::completions::CompletionsArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout, usage errors to stderr; only the exit code is ours.
            let _ = e.print();
            return ExitStatus::of_clap(&e).into();
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("EXAI_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Failure.into();
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => commands::init::run(args, &cli.target).await,
            Command::Validate(args) => commands::validate::run(args, &cli.target),
            Command::Schema(args) => commands::schema::run(args),
            Command::Check(args) => commands::check::run(args),
            Command::Plan(args) => commands::plan::run(args, &cli.target).await,
            Command::Apply(args) => commands::apply::run(args, &cli.target).await,
            Command::Output(args) => commands::output::run(args, &cli.target).await,
            Command::Emulator(args) => commands::emulator::run(args).await,
            Command::Completions(args) => commands::completions::run(args),
        }
    });
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            error::report(&e);
            ExitStatus::Failure.into()
        }
    }
}
