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
//! An apply can be interrupted ([`Interrupt`], in [`ApplyOptions`]): nothing new starts, a
//! request in flight finishes its round trip, a long-running operation is reported with its
//! status URL rather than waited for, and the [`ApplyReport`] says what was done, in flight, or
//! not started. A resource Azure is still working on (a plan's `wait`) is read until the
//! operation ends, then planned again ([`Recheck`]) before anything that depends on it starts.
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
mod atomic;
mod observe;
mod prepare;
mod secret;
mod sender;
mod stale;

pub use apply::{
    ApplyEvent, ApplyInput, ApplyOptions, ApplyReport, ExecutorError, InputResult, Interrupt, Outcome, PrincipalRetry,
    Recheck, apply, refuse_unsafe,
};
pub use atomic::{Existing, write_atomically};
pub use observe::{ObserveError, observe, observe_with};
pub use prepare::{KeyToGenerate, PrepareError, PreparedKeys, prepare_secrets, prepare_ssh_keys};
pub use secret::{SecretError, check_secret_files};
pub use sender::{DryRun, Sender};
pub use stale::{StaleChange, stale_changes};
