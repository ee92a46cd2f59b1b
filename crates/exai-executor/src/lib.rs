//! Reading live state and applying plans, over the Azure client.
//!
//! [`observe`] reads every declared resource (concurrently) into a
//! [`LiveState`](exai_model::LiveState) for the planner. [`apply`] walks a
//! [`Plan`](exai_planner::Plan) in dependency order, independent resources in parallel, sending
//! each change's requests through a [`Sender`]. A failure stops the resources that depend on the
//! failed one, lets independent ones finish, and is reported with what was done and what was
//! skipped; because requests are idempotent PUTs/PATCHes computed from live state, running
//! `apply` again converges.
//!
//! # Boundaries
//!
//! No Azure knowledge beyond the [`Sender`] trait: what to send comes from the plan, how to
//! send it from `exai-azure`.
//!
//! # Key design decision: dry-run is the same walk
//!
//! `--dry-run` is not a printer beside the executor: it is [`apply`] with a [`DryRun`] sender
//! that records each write instead of sending it. What a dry run shows is, by construction,
//! what a real run sends.

mod apply;
mod observe;
mod prepare;
mod secret;
mod sender;
mod stale;

pub use apply::{ApplyEvent, ApplyOptions, ApplyReport, ExecutorError, Outcome, PrincipalRetry, apply, refuse_unsafe};
pub use observe::{ObserveError, observe};
pub use prepare::{KeyGeneration, PrepareError, prepare_secrets, prepare_ssh_keys};
pub use secret::{SecretError, check_secret_files};
pub use sender::{DryRun, Sender};
pub use stale::{StaleChange, stale_changes};
