//! One run of exai, as a library: the spec's desired state → observe live Azure → plan →
//! check a saved or reviewed plan → apply, each step returning values or typed errors, and the
//! run ending in an [`Outcome`] the command line maps to an exit code.
//!
//! # Boundaries
//!
//! No argument parsing, no printing, no terminal: the binary (`exai-cli`) resolves variables,
//! connects, asks for confirmation and prints; everything it decides with is here, so it is
//! tested without a process. No Azure knowledge either: reads and writes go through
//! `exai-executor` over an [`AzureClient`](exai_azure::AzureClient) the caller connected.
//!
//! # Key design decision: staged, not one call
//!
//! A run is a sequence of values, [`SpecFile`] (read with [`read_spec`]), [`Prepared`] (the desired state, before any request) then
//! [`Planned`] (the live state and the plan), rather than one `run()` taking callbacks: the
//! caller prints the header between connecting and reading, shows the plan, asks for
//! confirmation, and every stage between is a plain call it can test. What `plan` shows and
//! what `apply` writes come from the same [`Prepared::plan`], so they cannot disagree.

pub mod from_azure;
mod outcome;
mod output;
mod saved;
mod session;
mod spec_file;

pub use outcome::{Outcome, Refusal};
pub use output::{DeployOutputs, OUTPUT_KEYS, OutputError, output_environment, outputs_from, read_outputs};
pub use saved::{MAX_SAVED_PLAN_BYTES, SavedPlanError, SavedSelection, read_saved};
pub use session::{
    ApplyRequest, ApplyRun, Declared, Planned, Prepared, READ_PARALLELISM, SessionError, actionable_warnings,
    secrets_dir,
};
pub use spec_file::{LoadError, SpecFile, read_spec};

/// The commit exai was built from, 7 hexadecimal digits, or `unknown` for a build outside a git
/// checkout without `EXAI_COMMIT` (see the crate's build script).
pub const COMMIT: &str = env!("EXAI_COMMIT_SHORT");

/// exai's version as `exai --version` shows it and a plan records it: the package version and
/// the commit, `0.1.0 (abc1234)`. Two builds of one package version differ by their commit, and
/// a saved plan is applied only by the build that made it.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("EXAI_COMMIT_SHORT"), ")");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_carries_a_short_commit_or_says_it_is_unknown() {
        assert!(
            COMMIT == "unknown" || (COMMIT.len() == 7 && COMMIT.bytes().all(|b| b.is_ascii_hexdigit())),
            "{COMMIT}"
        );
        assert_eq!(VERSION, format!("{} ({COMMIT})", env!("CARGO_PKG_VERSION")));
    }
}
