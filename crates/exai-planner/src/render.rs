//! Text rendering of a [`Plan`], plain or coloured.

use crate::{Action, Change, Plan};
use anstyle::{AnsiColor, Style};
use serde_json::Value;
use std::io::{self, Write};

/// How [`render_text_with`] renders a plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Colours markers and their lines with ANSI escapes. Whether to (a terminal, `NO_COLOR`)
    /// is the caller's decision.
    pub color: bool,
}

/// The styles of a text plan. Every style is plain when colour is off, and a plain style
/// writes nothing, so the coloured and the plain renderer are one code path.
struct Palette {
    create: Style,
    update: Style,
    delete: Style,
    replace: Style,
    read: Style,
    unchanged: Style,
    summary: Style,
    warning: Style,
    blocked: Style,
}

impl Palette {
    fn new(options: TextOptions) -> Self {
        let plain = Style::new();
        let color = |c: AnsiColor| if options.color { Style::new().fg_color(Some(c.into())) } else { plain };
        let effect = |s: Style| if options.color { s } else { plain };
        Self {
            create: color(AnsiColor::Green),
            update: color(AnsiColor::Yellow),
            delete: color(AnsiColor::Red),
            replace: color(AnsiColor::Magenta),
            read: color(AnsiColor::Cyan),
            unchanged: effect(Style::new().dimmed()),
            summary: effect(Style::new().bold()),
            warning: color(AnsiColor::Yellow),
            blocked: color(AnsiColor::Red),
        }
    }

    fn action(&self, action: Action) -> Style {
        match action {
            Action::NoOp => self.unchanged,
            Action::Create => self.create,
            Action::Update => self.update,
            Action::Replace => self.replace,
            Action::Delete => self.delete,
            Action::Wait => self.update,
            Action::Read => self.read,
        }
    }
}

/// Returns `value` as plans show it: strings quoted and escaped for a terminal
/// ([`exai_model::quote_shown`], the escaping every sink of outside text shares), anything else
/// as JSON (whose strings escape control characters themselves).
pub(crate) fn show(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(Value::String(s)) => exai_model::quote_shown(s),
        Some(other) => exai_model::escape_shown(&other.to_string()).into_owned(),
    }
}

/// Returns what happens to a resource under `action`, as plans word it.
pub(crate) fn verb(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no changes",
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
        Action::Wait => "in progress in Azure",
        Action::Read => "read: not managed by exai",
    }
}

/// Returns what happens to the resource of `change`, as its title line words it: the operation
/// Azure is carrying out (`creating in Azure`) for a `wait`, else [`verb`].
pub(crate) fn title_verb(change: &Change) -> &'static str {
    match (&change.in_progress, change.action) {
        (Some(in_progress), Action::Wait) => in_progress.operation.phrase(),
        (_, action) => verb(action),
    }
}

/// Returns the plan's one-line summary: the counts, or that nothing changes.
pub(crate) fn summary_line(plan: &Plan) -> String {
    let line = changes_line(plan);
    // The checks' errors belong in the one line every rendering keeps: apply refuses them.
    match plan.check_count(exai_model::checks::Severity::Error) {
        0 => line,
        1 => format!("{line} Kubernetes checks: 1 error, which apply refuses."),
        n => format!("{line} Kubernetes checks: {n} errors, which apply refuses."),
    }
}

fn changes_line(plan: &Plan) -> String {
    let s = plan.summary;
    // Objects exai reads and does not own are counted apart: they are never a change.
    let read = match s.read {
        0 => String::new(),
        n => format!(" {n} read, not managed by exai."),
    };
    if s.is_empty() {
        let n = plan.resource_changes.len();
        format!("No changes. Azure matches the spec ({n} resource{} checked).{read}", if n == 1 { "" } else { "s" })
    } else if s.wait > 0 {
        format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy, {} in progress in Azure.{read}",
            s.add, s.change, s.replace, s.destroy, s.wait
        )
    } else {
        format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy.{read}",
            s.add, s.change, s.replace, s.destroy
        )
    }
}

/// Field paths are padded so the `=` signs line up, up to this width: a very long path (a data
/// collection rule's `properties.dataSources.extensions[...]...`) must not push every value far
/// to the right.
pub(crate) const ALIGN_AT_MOST: usize = 40;

fn render_change(out: &mut dyn Write, change: &Change, palette: &Palette) -> io::Result<()> {
    let marker = change.action.marker();
    let style = palette.action(change.action);
    writeln!(out, "{style}{marker:>3} {} ({}) {}{style:#}", change.address, change.resource_type, title_verb(change))?;
    if change.action == Action::Read {
        // Its title says what it is; its id is what the environment uses.
        if let Some(id) = &change.id {
            writeln!(out, "      id: {id}")?;
        }
        return Ok(());
    }
    if change.action == Action::NoOp {
        // An owned object that left the spec but is kept by its mark says why it stays.
        if let Some(reason) = &change.reason {
            writeln!(out, "      why: {reason}")?;
        }
        return render_observed(out, change, palette);
    }
    match (&change.id, &change.id_note) {
        (Some(id), _) => writeln!(out, "      id: {id}")?,
        (None, Some(note)) => writeln!(out, "      id: ({note})")?,
        (None, None) => {}
    }
    let width = change.diffs.iter().map(|d| d.path.len()).max().unwrap_or(0).min(ALIGN_AT_MOST);
    for d in &change.diffs {
        let (style, line) = match (&d.before, change.action) {
            (before, Action::Delete) => (palette.delete, format!("- {:width$} = {}", d.path, show(before.as_ref()))),
            (None, _) | (_, Action::Create) => {
                (palette.create, format!("+ {:width$} = {}", d.path, show(d.after.as_ref())))
            }
            (Some(_), _) => (
                palette.update,
                format!("~ {:width$} = {} → {}", d.path, show(d.before.as_ref()), show(d.after.as_ref())),
            ),
        };
        match &d.forces_replacement {
            Some(_) => {
                let forces = palette.replace;
                writeln!(out, "      {style}{line}{style:#}{forces}   # forces replacement{forces:#}")?
            }
            None => writeln!(out, "      {style}{line}{style:#}")?,
        }
    }
    if let Some(reason) = &change.reason {
        writeln!(out, "      why: {reason}")?;
    }
    let create = palette.create;
    for (path, note) in &change.after_unknown {
        writeln!(out, "      {create}+ {path} = ({note}){create:#}")?;
    }
    if let Some(warning) = &change.warning {
        let style = palette.warning;
        writeln!(out, "      {style}warning: {warning}{style:#}")?;
    }
    if let Some(blocked) = &change.blocked {
        let style = palette.blocked;
        writeln!(out, "      {style}blocked: {blocked}{style:#}")?;
    }
    if change.protect && matches!(change.action, Action::Replace | Action::Delete) {
        writeln!(out, "      protected (`protect: true`, written on the object), so apply will refuse this")?;
    } else if matches!(change.action, Action::Replace | Action::Delete) {
        writeln!(out, "      apply deletes only with `--allow-delete`")?;
    }
    render_observed(out, change, palette)
}

fn render_observed(out: &mut dyn Write, change: &Change, palette: &Palette) -> io::Result<()> {
    if change.observed.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> =
        change.observed.iter().map(|(path, value)| format!("{path} = {}", show(Some(value)))).collect();
    // Not exai's business, so it recedes whatever the change.
    let style = palette.unchanged;
    writeln!(out, "      {style}observed, not managed by exai: {}{style:#}", fields.join(", "))
}

/// Writes `plan` as text: one block per resource (no-ops as one line, so every declared
/// resource is listed), then the summary line. Never coloured: see [`render_text_with`].
pub fn render_text(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    render_text_with(plan, out, TextOptions::default())
}

/// Writes `plan` as [`render_text`] does, coloured with ANSI escapes when `options.color` is
/// set: `+` green, `~` yellow, `-` red, `-/+` magenta, `<=` (a read) cyan, no-ops dimmed, the
/// summary bold. Without
/// colour the output is byte for byte [`render_text`]'s.
pub fn render_text_with(plan: &Plan, out: &mut dyn Write, options: TextOptions) -> io::Result<()> {
    let palette = Palette::new(options);
    let quiet = |a: Action| a == Action::NoOp;
    for (i, change) in plan.resource_changes.iter().enumerate() {
        // Changes get a blank line around them; runs of one-line entries stay compact.
        let previous = i.checked_sub(1).map(|p| plan.resource_changes[p].action);
        if previous.is_some_and(|p| !quiet(p) || !quiet(change.action) || p != change.action) {
            writeln!(out)?;
        }
        render_change(out, change, &palette)?;
    }
    writeln!(out)?;
    render_permissions(out, plan, &palette)?;
    crate::checks::write_text(out, &plan.checks, palette.blocked, palette.warning)?;
    let style = palette.summary;
    writeln!(out, "{style}{}{style:#}", summary_line(plan))
}

/// Writes what the permission check found, if it found anything: each action the caller is
/// not granted, with the hint, and each scope that could not be checked.
fn render_permissions(out: &mut dyn Write, plan: &Plan, palette: &Palette) -> io::Result<()> {
    let Some(check) = &plan.permissions else { return Ok(()) };
    if check.has_findings() {
        let style = palette.blocked;
        writeln!(out, "{style}{}{style:#}", permissions_headline(check))?;
        for finding in &check.findings {
            writeln!(out, "  {style}!{style:#} {}", finding.message())?;
            writeln!(out, "      hint: {}", finding.hint)?;
        }
        writeln!(out)?;
    }
    for unchecked in &check.unchecked {
        let style = palette.warning;
        writeln!(out, "{style}{}{style:#}", unchecked_line(unchecked))?;
        writeln!(out)?;
    }
    Ok(())
}

/// Returns the headline of a permission check with findings.
pub(crate) fn permissions_headline(check: &crate::PermissionCheck) -> String {
    let changes: std::collections::BTreeSet<&exai_model::Address> = check.findings.iter().map(|f| &f.address).collect();
    let n = changes.len();
    format!(
        "Permissions: {n} change{} need{} what the identity that made this plan is not granted: `exai apply` run as it refuses this plan before any write.",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" }
    )
}

/// Returns the line saying a scope's permissions could not be checked, and why.
pub(crate) fn unchecked_line(unchecked: &crate::UncheckedScope) -> String {
    let addresses: Vec<String> = unchecked.addresses.iter().map(|a| a.to_string()).collect();
    format!(
        "Permissions could not be checked at `{}` (for {}): {}",
        unchecked.scope,
        addresses.join(", "),
        exai_model::escape_shown(&unchecked.reason)
    )
}
