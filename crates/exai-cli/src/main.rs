//! `exai`: the command line. Nothing but argument handling and printing.
//!
//! Each command lives in its own module under [`commands`] with an `*Args` struct (its doc
//! comment is the help) and a `run` function. Everything a command does beyond parsing and
//! printing belongs to a library crate, so it is tested there without a process.
//!
//! Exit codes (DESIGN §5): 0 success with no changes, 1 error, 2 changes present (only with
//! `plan --detailed-exitcode`). Errors are printed once, at the top, by [`error::report`].

mod color;
mod commands;
mod connect;
mod diagnostics;
mod error;
mod load;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// A declarative desired-state reconciler for Azure.
///
/// exai reads exai.yaml, compares it with live Azure and shows (plan) or makes (apply) the
/// changes. Try it without an Azure account: `exai plan --emulator -f specs/exai.yaml`.
#[derive(Debug, Parser)]
#[command(name = "exai", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    target: connect::TargetArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(commands::validate::ValidateArgs),
    Schema(commands::schema::SchemaArgs),
    Plan(commands::plan::PlanArgs),
    Apply(commands::apply::ApplyArgs),
    Emulator(commands::emulator::EmulatorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("EXAI_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Validate(args) => commands::validate::run(args, &cli.target),
            Command::Schema(args) => commands::schema::run(args),
            Command::Plan(args) => commands::plan::run(args, &cli.target).await,
            Command::Apply(args) => commands::apply::run(args, &cli.target).await,
            Command::Emulator(args) => commands::emulator::run(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            error::report(&e);
            ExitCode::from(1)
        }
    }
}
