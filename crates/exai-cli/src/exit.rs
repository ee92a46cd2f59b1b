//! The exit codes of `exai`, from one mapping (uv's `ExitStatus`, jj's `CommandErrorKind`).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success; with `plan --detailed-exitcode`, success and no changes; `--help`, `--version` |
//! | 1 | any error: a usage error (as Terraform's), the spec, credentials, Azure, a refused, cancelled or failed apply |
//! | 2 | only with `plan --detailed-exitcode`: success, and the plan has changes |
//! | 130 | interrupted (SIGINT or SIGTERM), as shells report a process ended by Ctrl-C |
//!
//! 2 never means anything else, so a workflow can read it as "changes present": clap's own
//! usage errors (which exit 2 by default) are mapped to 1 here.

use exai_session::Outcome;
use std::process::ExitCode;

/// How `exai` ends. Commands return it; `main` turns it into the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command did what was asked (with `--detailed-exitcode`: and the plan has no changes).
    Success,
    /// The command failed, or was given arguments it cannot run with.
    Failure,
    /// `plan --detailed-exitcode` only: the plan has changes.
    Changes,
    /// Stopped by SIGINT (Ctrl-C) or SIGTERM: 128 + 2, as a shell reports it.
    Interrupted,
}

impl ExitStatus {
    /// Returns the process exit code of this status.
    pub const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Changes => 2,
            Self::Interrupted => 130,
        }
    }

    /// Returns the status of a `plan` or `apply` run that ended with `outcome`; `detailed`
    /// (`plan --detailed-exitcode`) makes a plan with changes exit 2.
    pub fn of(outcome: &Outcome, detailed: bool) -> Self {
        match outcome {
            Outcome::NoChanges | Outcome::Applied => Self::Success,
            Outcome::Changes if detailed => Self::Changes,
            Outcome::Changes => Self::Success,
            Outcome::Cancelled | Outcome::Refused(_) | Outcome::Failed { .. } => Self::Failure,
            Outcome::Interrupted => Self::Interrupted,
        }
    }

    /// Returns the status of a command line clap refused or answered itself: `--help` and
    /// `--version` succeed; everything else is a usage error.
    pub fn of_clap(error: &clap::Error) -> Self {
        if error.use_stderr() { Self::Failure } else { Self::Success }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use exai_session::Refusal;

    #[test]
    fn each_outcome_has_one_exit_code_and_only_detailed_plans_exit_2() {
        let refused =
            Outcome::Refused(Refusal::Environments { planned: vec!["prod".into()], now: vec!["perso".into()] });
        let outcomes = [
            Outcome::NoChanges,
            Outcome::Changes,
            Outcome::Applied,
            Outcome::Cancelled,
            refused,
            Outcome::Interrupted,
            Outcome::Failed { failed: 1, skipped: 2 },
        ];
        let codes = |detailed: bool| outcomes.iter().map(|o| ExitStatus::of(o, detailed).code()).collect::<Vec<_>>();
        assert_eq!(codes(false), [0, 0, 0, 1, 1, 130, 1]);
        assert_eq!(codes(true), [0, 2, 0, 1, 1, 130, 1]);
    }

    #[derive(Debug, Parser)]
    #[command(name = "t", version)]
    struct Args {
        #[arg(long)]
        n: Option<u8>,
    }

    #[test]
    fn usage_errors_fail_with_1_and_help_and_version_succeed() {
        let status = |args: &[&str]| ExitStatus::of_clap(&Args::try_parse_from(args).unwrap_err()).code();
        assert_eq!(status(&["t", "--formt"]), 1);
        assert_eq!(status(&["t", "--n", "x"]), 1);
        assert_eq!(status(&["t", "--help"]), 0);
        assert_eq!(status(&["t", "--version"]), 0);
        assert_eq!(
            [ExitStatus::Success, ExitStatus::Failure, ExitStatus::Changes, ExitStatus::Interrupted]
                .map(ExitStatus::code),
            [0, 1, 2, 130]
        );
    }
}
