//! `plan(desired, live) -> Plan`: what would change, and why, as a value.
//!
//! The planner compares each declared resource's owned fields with the same fields of the live
//! object (both projected by `exai-model`), decides an [`Action`], lists field-level
//! [`FieldDiff`]s, and attaches the requests that would carry the change out. Renderers turn the
//! resulting [`Plan`] into text ([`render_text`], coloured or not) and into a Markdown
//! pull-request comment ([`render_markdown`]); JSON is the plan itself, serialized. Human output
//! is always rendered *from* the plan, never computed beside it, so the two cannot disagree.
//! Whether to colour is the caller's decision (a terminal, `NO_COLOR`), not the renderer's.
//!
//! # Boundaries
//!
//! A pure function over values: no tokio, no HTTP, no clock, no environment, no filesystem.
//! The text renderer writes to any [`std::io::Write`], so tests render into a `Vec<u8>`; the
//! Markdown renderer returns a `String`, as it must measure what it writes against a size budget.
//!
//! # Key design decision: never omit
//!
//! Every declared resource gets a [`Change`] — `no-op` included — and a resource that was not
//! read is an error ([`PlanError::NotObserved`]), never an assumed no-op. A reviewer can count
//! the resources in a plan and know nothing was skipped. A Markdown comment has a size limit a
//! large plan exceeds: it then leaves out the least important parts first and says, in the
//! comment, what it left out and where the full plan is.

mod checks;
mod markdown;
mod permissions;
mod plan;
mod render;

pub use checks::render_checks_text;
pub use markdown::{GITHUB_COMMENT_LIMIT, MarkdownOptions, render_markdown};
pub use permissions::{PermissionCheck, PermissionFinding, UncheckedScope};
pub use plan::{
    Action, Change, FORMAT_VERSION, FieldDiff, InProgress, MissingReference, Operation, OwnershipConflict, Plan,
    PlanError, SpecRef, Summary, plan,
};
pub use render::{TextOptions, render_text, render_text_with};
