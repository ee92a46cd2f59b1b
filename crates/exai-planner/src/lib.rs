//! `plan(desired, live) -> Plan`: what would change, and why, as a value.
//!
//! The planner compares each declared resource's owned fields with the same fields of the live
//! object (both projected by `exai-model`), decides an [`Action`], lists field-level
//! [`FieldDiff`]s, and attaches the requests that would carry the change out. Renderers turn the
//! resulting [`Plan`] into text (and, later, Markdown); JSON is the plan itself, serialized. Human
//! output is always rendered *from* the plan, never computed beside it, so the two cannot
//! disagree.
//!
//! # Boundaries
//!
//! A pure function over values: no tokio, no HTTP, no clock, no environment, no filesystem.
//! Renderers write to any [`std::io::Write`], so tests render into a `Vec<u8>`.
//!
//! # Key design decision: never omit
//!
//! Every declared resource gets a [`Change`] — `no-op` included — and a resource that was not
//! read is an error ([`PlanError::NotObserved`]), never an assumed no-op. A reviewer can count
//! the resources in a plan and know nothing was skipped.

mod plan;
mod render;

pub use plan::{Action, Change, FORMAT_VERSION, FieldDiff, Plan, PlanError, SpecRef, Summary, plan};
pub use render::render_text;
