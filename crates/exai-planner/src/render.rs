//! Text rendering of a [`Plan`].

use crate::{Action, Change, Plan};
use serde_json::Value;
use std::io::{self, Write};

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no changes",
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
    }
}

fn render_change(out: &mut dyn Write, change: &Change) -> io::Result<()> {
    let marker = change.action.marker();
    writeln!(out, "{marker:>3} {} ({}) {}", change.address, change.resource_type, verb(change.action))?;
    if change.action == Action::NoOp {
        return render_observed(out, change);
    }
    match (&change.id, &change.id_note) {
        (Some(id), _) => writeln!(out, "      id: {id}")?,
        (None, Some(note)) => writeln!(out, "      id: ({note})")?,
        (None, None) => {}
    }
    let width = change.diffs.iter().map(|d| d.path.len()).max().unwrap_or(0);
    for d in &change.diffs {
        let line = match (&d.before, change.action) {
            (before, Action::Delete) => format!("      - {:width$} = {}", d.path, show(before.as_ref())),
            (None, _) | (_, Action::Create) => {
                format!("      + {:width$} = {}", d.path, show(d.after.as_ref()))
            }
            (Some(_), _) => {
                format!("      ~ {:width$} = {} → {}", d.path, show(d.before.as_ref()), show(d.after.as_ref()))
            }
        };
        match &d.forces_replacement {
            Some(_) => writeln!(out, "{line}   # forces replacement")?,
            None => writeln!(out, "{line}")?,
        }
    }
    if let Some(reason) = &change.reason {
        writeln!(out, "      why: {reason}")?;
    }
    for (path, note) in &change.after_unknown {
        writeln!(out, "      + {path} = ({note})")?;
    }
    if let Some(warning) = &change.warning {
        writeln!(out, "      warning: {warning}")?;
    }
    if let Some(blocked) = &change.blocked {
        writeln!(out, "      blocked: {blocked}")?;
    }
    if change.protect && matches!(change.action, Action::Replace | Action::Delete) {
        writeln!(out, "      protected: the spec sets `protect: true`, so apply will refuse this")?;
    } else if matches!(change.action, Action::Replace | Action::Delete) {
        writeln!(out, "      apply deletes only with `--allow-delete`")?;
    }
    render_observed(out, change)
}

fn render_observed(out: &mut dyn Write, change: &Change) -> io::Result<()> {
    if change.observed.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> =
        change.observed.iter().map(|(path, value)| format!("{path} = {}", show(Some(value)))).collect();
    writeln!(out, "      observed, not managed by exai: {}", fields.join(", "))
}

/// Writes `plan` as text: one block per resource (no-ops as one line, so every declared
/// resource is listed), then the summary line.
pub fn render_text(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let quiet = |a: Action| a == Action::NoOp;
    for (i, change) in plan.resource_changes.iter().enumerate() {
        // Changes get a blank line around them; runs of one-line entries stay compact.
        let previous = i.checked_sub(1).map(|p| plan.resource_changes[p].action);
        if previous.is_some_and(|p| !quiet(p) || !quiet(change.action) || p != change.action) {
            writeln!(out)?;
        }
        render_change(out, change)?;
    }
    let s = plan.summary;
    writeln!(out)?;
    if s.is_empty() {
        let n = plan.resource_changes.len();
        writeln!(out, "No changes. Azure matches the spec ({n} resource{} checked).", if n == 1 { "" } else { "s" })?;
    } else {
        writeln!(
            out,
            "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
            s.add, s.change, s.replace, s.destroy
        )?;
    }
    Ok(())
}
