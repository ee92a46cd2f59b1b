//! Markdown rendering of a [`Plan`], for a pull-request comment.
//!
//! A comment has a hard size limit ([`GITHUB_COMMENT_LIMIT`]) and a reader who decides from it
//! whether to merge. So it says what matters most first: the counts, then every blocked change,
//! delete and replace with its reason and warning, in alerts that need no expanding; then one
//! collapsed `<details>` per change, then the unchanged resources. When the whole plan does not
//! fit, the comment is shortened in steps, least important first, and says what it left out and
//! where the full plan is: a silent cut would read as "nothing else changes".
//!
//! Everything taken from a plan goes into a code span or block whose fence no value can close,
//! or is HTML-escaped, so no value can turn into markup.

use crate::render::{show, summary_line, title_verb};
use crate::{Action, Change, Plan};

/// GitHub's maximum comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// How [`render_markdown`] renders a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// The most characters (`char`s, marker included) the comment may hold.
    pub budget: usize,
    /// A sentence, in Markdown, saying where the full plan is (e.g. "The full plan is in the
    /// workflow run's summary."), shown when something was left out. HTML in it is escaped,
    /// outside code spans, like the plan's own text.
    pub full_plan: Option<String>,
    /// A line that ends the comment (e.g. `<!-- exai:plan -->`), so a later run can find the
    /// comment and update it.
    pub marker: Option<String>,
}

impl Default for MarkdownOptions {
    /// Returns a GitHub comment's budget, with no pointer to a full plan and no marker.
    fn default() -> Self {
        Self { budget: GITHUB_COMMENT_LIMIT, full_plan: None, marker: None }
    }
}

/// Returns `plan` as a Markdown pull-request comment of at most `options.budget` characters.
///
/// The first line is the plan's summary line, as [`crate::render_text`] ends with. When the
/// whole plan does not fit, the comment is shortened in steps until it does: the field diffs of
/// creates and updates go first, from the end of the plan (their title lines stay), then the
/// names of unchanged resources, then the field diffs of blocked changes, deletes and replaces
/// (their reasons and warnings stay in the alerts), then the title lines of creates and updates
/// from the end, then alert entries from the end. The comment says what was left out. If not
/// even that fits, it holds the summary line and what else fits, the marker first; a budget too
/// small for the summary line gets as much of it as fits.
pub fn render_markdown(plan: &Plan, options: &MarkdownOptions) -> String {
    let comment = Comment::new(plan, options);
    let fits = |text: &str| text.chars().count() <= options.budget;
    let full = Layout {
        ordinary_bodies: comment.ordinary,
        unchanged_listed: true,
        attention_bodies: true,
        ordinary_shown: comment.ordinary,
        attention_shown: comment.attention_len(),
        findings_shown: comment.findings_len(),
    };
    let text = comment.render(full);
    if fits(&text) {
        return text;
    }
    let with_bodies = |k| comment.render(Layout { ordinary_bodies: k, ..full });
    if let Some(text) = largest_fitting(comment.ordinary, with_bodies, fits) {
        return text;
    }
    let counted = Layout { ordinary_bodies: 0, unchanged_listed: false, ..full };
    let lines = Layout { attention_bodies: false, ..counted };
    for layout in [counted, lines] {
        let text = comment.render(layout);
        if fits(&text) {
            return text;
        }
    }
    let listed = |k| comment.render(Layout { ordinary_shown: k, ..lines });
    if let Some(text) = largest_fitting(comment.ordinary, listed, fits) {
        return text;
    }
    let alerts_only = Layout { ordinary_shown: 0, ..lines };
    let findings = |k| comment.render(Layout { findings_shown: k, ..alerts_only });
    if let Some(text) = largest_fitting(comment.findings_len(), findings, fits) {
        return text;
    }
    let alerts_only = Layout { findings_shown: 0, ..alerts_only };
    let alerts = |k| comment.render(Layout { attention_shown: k, ..alerts_only });
    if let Some(text) = largest_fitting(comment.attention_len(), alerts, fits) {
        return text;
    }
    comment.minimal(fits)
}

/// Returns the rendering with the most items, fewer than `total`, that fits; `None` when not
/// even the one with none fits.
fn largest_fitting(total: usize, render: impl Fn(usize) -> String, fits: impl Fn(&str) -> bool) -> Option<String> {
    if total == 0 {
        return None;
    }
    let mut best = render(0);
    if !fits(&best) {
        return None;
    }
    // An item adds a line of dozens of characters and takes at most a digit off a count, so the
    // length grows with the number of items and a binary search finds the most that fit.
    let (mut low, mut high) = (0, total);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        let text = render(middle);
        if fits(&text) {
            low = middle;
            best = text;
        } else {
            high = middle;
        }
    }
    Some(best)
}

/// What a comment shows of a plan: each step of shortening is one more field turned off.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// How many creates and updates, from the start of the plan, get a `<details>` with their
    /// diffs; the others get their title line.
    ordinary_bodies: usize,
    /// Unchanged resources are named, not just counted.
    unchanged_listed: bool,
    /// Blocked changes, deletes and replaces also get a `<details>` with their diffs.
    attention_bodies: bool,
    /// How many creates and updates are listed, from the start of the plan.
    ordinary_shown: usize,
    /// How many alert entries are listed: blocked changes first, then deletes and replaces.
    attention_shown: usize,
    /// How many findings of the Kubernetes checks are listed (each environment's headline
    /// always is).
    findings_shown: usize,
}

/// A plan sorted by what a reviewer must see.
struct Comment<'a> {
    plan: &'a Plan,
    options: &'a MarkdownOptions,
    /// Blocked changes, in plan order: apply refuses the plan.
    blocked: Vec<&'a Change>,
    /// Deletes and replaces, in plan order: apply takes something away.
    removals: Vec<&'a Change>,
    /// The number of creates and updates that are not blocked.
    ordinary: usize,
    /// Resources already as declared.
    unchanged: Vec<&'a Change>,
    /// Each change's `<details>`, by index in the plan (empty for no-ops): rendered once, as a
    /// comment is rendered many times over while it is shortened.
    details: Vec<String>,
}

impl<'a> Comment<'a> {
    fn new(plan: &'a Plan, options: &'a MarkdownOptions) -> Self {
        let changes = &plan.resource_changes;
        Self {
            plan,
            options,
            blocked: changes.iter().filter(|c| c.blocked.is_some()).collect(),
            removals: changes.iter().filter(|c| is_removal(c)).collect(),
            ordinary: changes.iter().filter(|c| !c.action.changes_nothing() && !needs_attention(c)).count(),
            // A referenced object is read, not changed: listed with the unchanged, saying so.
            unchanged: changes.iter().filter(|c| c.action.changes_nothing()).collect(),
            details: changes
                .iter()
                .map(|c| if c.action.changes_nothing() { String::new() } else { details(c) })
                .collect(),
        }
    }

    fn attention_len(&self) -> usize {
        self.blocked.len() + self.removals.len()
    }

    fn findings_len(&self) -> usize {
        self.plan.checks.iter().map(|c| c.findings.len()).sum()
    }

    /// Returns the section of the Kubernetes checks, listing the first `shown` findings, if
    /// the plan has checks.
    fn checks_section(&self, shown: usize) -> Option<String> {
        let checks = &self.plan.checks;
        (!checks.is_empty()).then(|| crate::checks::markdown(checks, shown, code_span, prose))
    }

    fn render(&self, layout: Layout) -> String {
        let mut blocks = vec![self.head()];
        blocks.extend(self.left_out(layout));
        let blocked_shown = layout.attention_shown.min(self.blocked.len());
        blocks.extend(self.blocked_alert(blocked_shown));
        blocks.extend(self.permissions_alert());
        blocks.extend(self.checks_section(layout.findings_shown));
        blocks.extend(self.removal_alert(layout.attention_shown - blocked_shown));
        blocks.extend(self.changes(layout));
        blocks.extend(self.unchanged_section(layout.unchanged_listed));
        blocks.extend(self.options.marker.clone());
        let mut text = blocks.join("\n\n");
        text.push('\n');
        text
    }

    /// Returns the summary line, with the environments on a second line.
    fn head(&self) -> String {
        let mut head = summary_line(self.plan);
        if let Some(environments) = self.environments() {
            head.push('\n');
            head.push_str(&environments);
        }
        head
    }

    fn environments(&self) -> Option<String> {
        let names = &self.plan.environments;
        if names.is_empty() {
            return None;
        }
        let label = if names.len() == 1 { "Environment" } else { "Environments" };
        let names: Vec<String> = names.iter().map(|n| code_span(n)).collect();
        Some(format!("{label}: {}.", names.join(", ")))
    }

    /// Returns the note saying what `layout` leaves out and where the full plan is, if anything
    /// is left out.
    fn left_out(&self, layout: Layout) -> Option<String> {
        let blocked_shown = layout.attention_shown.min(self.blocked.len());
        let removals_shown = layout.attention_shown - blocked_shown;
        let changed = self.plan.resource_changes.len() - self.unchanged.len();
        let diffs = if !layout.attention_bodies {
            match changed {
                0 => None,
                1 => Some("the field diffs of the 1 change".to_owned()),
                n => Some(format!("the field diffs of all {n} changes")),
            }
        } else {
            let hidden = self.ordinary - layout.ordinary_bodies;
            unlisted(hidden, self.ordinary, "resource to create or update")
                .map(|what| format!("the field diffs of {what}"))
        };
        let unchanged = (!layout.unchanged_listed && !self.unchanged.is_empty()).then(|| {
            let n = self.unchanged.len();
            format!(
                "the name{} of the {n} {}",
                plural(n, "", "s"),
                plural(n, "unchanged resource", "unchanged resources")
            )
        });
        let items: Vec<String> = [
            diffs,
            unchanged,
            unlisted(self.ordinary - layout.ordinary_shown, self.ordinary, "resource to create or update"),
            unlisted(self.removals.len() - removals_shown, self.removals.len(), "resource to delete or replace"),
            unlisted(self.blocked.len() - blocked_shown, self.blocked.len(), "blocked change"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if items.is_empty() {
            return None;
        }
        Some(self.note(&items.join("; ")))
    }

    fn note(&self, what: &str) -> String {
        let budget = self.options.budget;
        let full_plan = match &self.options.full_plan {
            Some(sentence) => prose(sentence.trim()),
            None => "Run `exai plan` to see the full plan.".to_owned(),
        };
        format!("> [!NOTE]\n> Left out to keep this comment within {budget} characters: {what}. {full_plan}")
    }

    /// Returns the caution listing the first `shown` blocked changes, if any change is blocked.
    fn blocked_alert(&self, shown: usize) -> Option<String> {
        let n = self.blocked.len();
        if n == 0 {
            return None;
        }
        let mut lines = vec![
            "[!CAUTION]".to_owned(),
            format!(
                "**{n} {} blocked: `exai apply` refuses this plan before any write.**",
                plural(n, "change is", "changes are")
            ),
            String::new(),
        ];
        for change in &self.blocked[..shown] {
            lines.push(format!("- {}", title_markdown(change)));
            lines.extend(change.blocked.iter().map(|b| format!("  - blocked: {}", prose(b))));
        }
        lines.extend(more(n - shown));
        Some(quote(&lines))
    }

    /// Returns the caution listing what the caller is not granted, and the note on each scope
    /// whose permissions could not be read, if any.
    fn permissions_alert(&self) -> Option<String> {
        let check = self.plan.permissions.as_ref()?;
        let mut blocks = Vec::new();
        if check.has_findings() {
            let mut lines = vec![
                "[!CAUTION]".to_owned(),
                format!("**{}**", prose(&crate::render::permissions_headline(check))),
                String::new(),
            ];
            for f in &check.findings {
                lines.push(format!(
                    "- `{}` needs {} on {}",
                    f.address,
                    code_span(&f.action),
                    code_span(f.scope.as_str())
                ));
                lines.push(format!("  - hint: {}", prose(&f.hint)));
            }
            blocks.push(quote(&lines));
        }
        for unchecked in &check.unchecked {
            let lines = vec!["[!WARNING]".to_owned(), prose(&crate::render::unchecked_line(unchecked))];
            blocks.push(quote(&lines));
        }
        (!blocks.is_empty()).then(|| blocks.join("\n\n"))
    }

    /// Returns the warning listing the first `shown` deletes and replaces, if there are any.
    fn removal_alert(&self, shown: usize) -> Option<String> {
        if self.removals.is_empty() {
            return None;
        }
        let count = |action| self.removals.iter().filter(|c| c.action == action).count();
        let (deleted, replaced) = (count(Action::Delete), count(Action::Replace));
        let what = match (deleted, replaced) {
            (d, 0) => format!("{d} {} will be deleted.", plural(d, "resource", "resources")),
            (0, r) => {
                format!("{r} {} will be replaced (deleted, then created again).", plural(r, "resource", "resources"))
            }
            (d, r) => format!(
                "{d} {} will be deleted and {r} replaced (deleted, then created again).",
                plural(d, "resource", "resources")
            ),
        };
        let mut lines = vec![
            "[!WARNING]".to_owned(),
            format!("**{what}** `exai apply` needs `--allow-delete` to delete anything."),
            String::new(),
        ];
        for change in &self.removals[..shown] {
            lines.push(format!("- {}", title_markdown(change)));
            let notes = [("why", &change.reason), ("warning", &change.warning)];
            lines.extend(
                notes
                    .iter()
                    .filter_map(|(label, text)| text.as_ref().map(|text| format!("  - {label}: {}", prose(text)))),
            );
            if change.protect {
                lines.push(format!("  - {}", PROTECTED));
            }
        }
        lines.extend(more(self.removals.len() - shown));
        Some(quote(&lines))
    }

    /// Returns the changes in plan order: a `<details>` each, or a title line when its details
    /// are left out; blocked changes, deletes and replaces only with their details (their title
    /// is in an alert).
    fn changes(&self, layout: Layout) -> Vec<String> {
        let mut blocks = Vec::new();
        let mut titles: Vec<String> = Vec::new();
        let mut ordinary = 0;
        for (change, details) in self.plan.resource_changes.iter().zip(&self.details) {
            if change.action.changes_nothing() {
                continue;
            }
            let with_body = if needs_attention(change) {
                layout.attention_bodies
            } else {
                ordinary += 1;
                if ordinary > layout.ordinary_shown {
                    continue;
                }
                if ordinary > layout.ordinary_bodies {
                    titles.push(format!("- {}", title_markdown(change)));
                    continue;
                }
                true
            };
            if with_body {
                if !titles.is_empty() {
                    blocks.push(titles.join("\n"));
                    titles.clear();
                }
                blocks.push(details.clone());
            }
        }
        if !titles.is_empty() {
            blocks.push(titles.join("\n"));
        }
        let hidden = self.ordinary - layout.ordinary_shown;
        if hidden > 0 {
            blocks.push(format!("… and {hidden} more {} not shown.", plural(hidden, "change", "changes")));
        }
        blocks
    }

    /// Returns the unchanged resources: named in a `<details>` with what exai observed of them,
    /// or counted.
    fn unchanged_section(&self, listed: bool) -> Option<String> {
        let n = self.unchanged.len();
        if n == 0 {
            return None;
        }
        let what = format!("{n} {}", plural(n, "unchanged resource", "unchanged resources"));
        if !listed {
            return Some(format!("`=` {what}, not listed."));
        }
        let lines: Vec<String> = self
            .unchanged
            .iter()
            .map(|change| {
                let mut line =
                    format!("- {} ({})", code_span(change.address.as_str()), escape_html(&change.resource_type));
                // Why an unchanged resource is listed at all (an owned object kept by its mark).
                if let Some(reason) = &change.reason {
                    line.push_str(" — ");
                    line.push_str(&prose(reason));
                }
                if let Some(observed) = observed(change) {
                    line.push_str(" — ");
                    line.push_str(&observed);
                }
                line
            })
            .collect();
        Some(format!("<details><summary><code>=</code> {what}</summary>\n\n{}\n\n</details>", lines.join("\n")))
    }

    /// Returns the summary line and what else fits of the environments, a note and the marker
    /// (the marker first: it is how the comment is found again).
    fn minimal(&self, fits: impl Fn(&str) -> bool) -> String {
        let first = summary_line(self.plan);
        let n = self.plan.resource_changes.len();
        let note = self.note(&format!("the list of the {n} {}", plural(n, "resource", "resources")));
        let environments = self.environments();
        let marker = self.options.marker.clone();
        let attempts = [(true, true, true), (false, true, true), (false, false, true), (false, false, false)];
        for (with_environments, with_note, with_marker) in attempts {
            let mut head = first.clone();
            if let Some(environments) = environments.as_ref().filter(|_| with_environments) {
                head.push('\n');
                head.push_str(environments);
            }
            let mut blocks = vec![head];
            blocks.extend(Some(note.clone()).filter(|_| with_note));
            blocks.extend(marker.clone().filter(|_| with_marker));
            let mut text = blocks.join("\n\n");
            text.push('\n');
            if fits(&text) {
                return text;
            }
        }
        let mut text = String::new();
        for c in first.chars() {
            text.push(c);
            if !fits(&text) {
                text.pop();
                break;
            }
        }
        text
    }
}

const PROTECTED: &str = "protected (`protect: true`, written on the object), so apply will refuse this";

fn is_removal(change: &Change) -> bool {
    matches!(change.action, Action::Replace | Action::Delete)
}

/// Returns true for the changes the alerts list: blocked ones, deletes and replaces.
fn needs_attention(change: &Change) -> bool {
    is_removal(change) || change.blocked.is_some()
}

/// Returns, in words, that the last `hidden` of `total` items are not listed; `None` when all
/// are. `noun` is the singular: the plural adds "s" to its first word.
fn unlisted(hidden: usize, total: usize, noun: &str) -> Option<String> {
    let noun = match noun.split_once(' ') {
        _ if total == 1 => noun.to_owned(),
        Some((first, rest)) => format!("{first}s {rest}"),
        None => format!("{noun}s"),
    };
    match hidden {
        0 => None,
        h if h == total => Some(format!("the {total} {noun}")),
        h => Some(format!("the last {h} of the {total} {noun}")),
    }
}

fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// Returns the line saying `hidden` alert entries are not shown, if any are not.
fn more(hidden: usize) -> Option<String> {
    (hidden > 0).then(|| format!("- … and {hidden} more not shown"))
}

/// Returns `lines` as a blockquote (an alert when the first line is `[!KIND]`).
fn quote(lines: &[String]) -> String {
    let quoted: Vec<String> =
        lines.iter().map(|line| if line.is_empty() { ">".to_owned() } else { format!("> {line}") }).collect();
    quoted.join("\n")
}

/// Returns the marker, address, type and verb of `change` as Markdown.
fn title_markdown(change: &Change) -> String {
    format!(
        "{} {} ({}) {}",
        code_span(change.action.marker()),
        code_span(change.address.as_str()),
        escape_html(&change.resource_type),
        title_verb(change)
    )
}

/// Returns `change` as a `<details>` whose summary is its title and whose body holds its id,
/// field diffs and notes.
fn details(change: &Change) -> String {
    let summary = format!(
        "<code>{}</code> <code>{}</code> ({}) {}",
        escape_html(change.action.marker()),
        escape_html(change.address.as_str()),
        escape_html(&change.resource_type),
        title_verb(change)
    );
    let mut body = Vec::new();
    match (&change.id, &change.id_note) {
        (Some(id), _) => body.push(format!("id: {}", code_span(id.as_str()))),
        (None, Some(note)) => body.push(format!("id: ({})", prose(note))),
        (None, None) => {}
    }
    body.extend(diff_block(change));
    let mut notes = Vec::new();
    let labelled = [("why", &change.reason), ("warning", &change.warning), ("blocked", &change.blocked)];
    for (label, text) in labelled {
        if let Some(text) = text {
            notes.push(format!("- {label}: {}", prose(text)));
        }
    }
    if is_removal(change) {
        notes
            .push(format!("- {}", if change.protect { PROTECTED } else { "apply deletes only with `--allow-delete`" }));
    }
    if let Some(observed) = observed(change) {
        notes.push(format!("- {observed}"));
    }
    if !notes.is_empty() {
        body.push(notes.join("\n"));
    }
    format!("<details><summary>{summary}</summary>\n\n{}\n\n</details>", body.join("\n\n"))
}

/// Returns the field diffs and the values known after apply as a `diff` code block: `+` for a
/// new value, `-` for an old one, both for a change.
fn diff_block(change: &Change) -> Option<String> {
    let paths = change.diffs.iter().map(|d| d.path.as_str()).chain(change.after_unknown.keys().map(String::as_str));
    let width = paths.map(|p| p.chars().count()).max()?.min(crate::render::ALIGN_AT_MOST);
    let mut lines = Vec::new();
    for d in &change.diffs {
        let forces = if d.forces_replacement.is_some() { "   # forces replacement" } else { "" };
        if let Some(before) = &d.before {
            let suffix = if change.action == Action::Delete || d.after.is_none() { forces } else { "" };
            lines.push(format!("- {:width$} = {}{suffix}", d.path, show(Some(before))));
        }
        if change.action != Action::Delete
            && let Some(after) = &d.after
        {
            lines.push(format!("+ {:width$} = {}{forces}", d.path, show(Some(after))));
        }
    }
    for (path, note) in &change.after_unknown {
        lines.push(format!("+ {path:width$} = ({note})"));
    }
    let content = lines.join("\n");
    let fence = "`".repeat(longest_backtick_run(&content).max(2) + 1);
    Some(format!("{fence}diff\n{content}\n{fence}"))
}

/// Returns what exai observed of `change` and does not manage, as Markdown, if anything.
fn observed(change: &Change) -> Option<String> {
    if change.observed.is_empty() {
        return None;
    }
    let fields: Vec<String> =
        change.observed.iter().map(|(path, value)| code_span(&format!("{path} = {}", show(Some(value))))).collect();
    Some(format!("observed, not managed by exai: {}", fields.join(", ")))
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Returns `text` as a code span on one line: fenced with more backticks than it holds, so
/// nothing in it can end the span.
fn code_span(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Returns exai's own wording (a reason, a warning) as Markdown on one line: its code spans
/// kept, as they are literal, and the rest HTML-escaped.
fn prose(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('`') {
        let run = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + run..];
        match closing_run(after, run) {
            Some(end) => {
                out.push_str(&escape_html(&rest[..start]));
                out.push_str(&rest[start..start + run + end + run]);
                rest = &after[end + run..];
            }
            None => {
                // An opening run with no closing run of the same length is literal text.
                out.push_str(&escape_html(&rest[..start + run]));
                rest = after;
            }
        }
    }
    out.push_str(&escape_html(rest));
    out
}

/// Returns where in `text` the first run of exactly `run` backticks starts, if there is one.
fn closing_run(text: &str, run: usize) -> Option<usize> {
    let mut i = 0;
    while let Some(offset) = text[i..].find('`') {
        let start = i + offset;
        let length = text[start..].chars().take_while(|&c| c == '`').count();
        if length == run {
            return Some(start);
        }
        i = start + length;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_findings_are_shortened_last_to_fit_the_budget_and_their_errors_stay_in_the_summary() {
        use exai_model::checks::{EnvironmentChecks, Finding, Severity};
        let finding = |i: usize| Finding {
            severity: Severity::Error,
            code: "secret-key-not-found".into(),
            message: format!("Secret `gateway-secrets` has no key `database_url_{i}` {}", "x".repeat(200)),
            hint: "did you mean `database-url`?".into(),
            file: Some(format!("k8s/base/app-{i}/deployment.yaml")),
            line: Some(i + 1),
            object: Some(format!("Deployment/app-{i}")),
        };
        let checks = EnvironmentChecks {
            environment: "perso".into(),
            overlay: "k8s/overlays/azure".into(),
            findings: (0..1000).map(finding).collect(),
        };
        let plan = Plan { environments: vec!["perso".into()], checks: vec![checks], ..Plan::new(Vec::new()) };
        let text = render_markdown(&plan, &MarkdownOptions::default());
        assert!(text.chars().count() <= GITHUB_COMMENT_LIMIT, "{}", text.chars().count());
        assert!(text.starts_with("No changes. Azure matches the spec (0 resources checked). Kubernetes checks: 1000 errors, which apply refuses.\n"), "{text}");
        assert!(text.contains("**Kubernetes checks of perso (k8s/overlays/azure): 1000 errors**"));
        assert!(
            text.contains("`database_url_0`") && !text.contains("`database_url_999`"),
            "the first findings, in order"
        );
        assert!(text.contains("more (left out to fit the comment: `exai check --env perso` lists every one)"));
        assert!(text.contains("`exai apply` refuses this plan until the errors of `perso` are fixed."));

        let small =
            Plan { checks: vec![EnvironmentChecks { findings: vec![finding(0)], ..plan.checks[0].clone() }], ..plan };
        let whole = render_markdown(&small, &MarkdownOptions::default());
        assert!(whole.contains("`database_url_0`") && !whole.contains("more (left out"), "{whole}");
    }

    #[test]
    fn a_code_span_cannot_be_closed_by_its_content() {
        assert_eq!(code_span("a"), "`a`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a"), "`` `a ``");
        assert_eq!(code_span("x\ny"), "`x y`");
    }

    #[test]
    fn prose_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(prose("`a<b` & <c>"), "`a<b` &amp; &lt;c&gt;");
        assert_eq!(prose("an ` alone <"), "an ` alone &lt;");
        assert_eq!(prose("``x`y`` <"), "``x`y`` &lt;");
        assert_eq!(prose("line\nbreak"), "line break");
    }

    #[test]
    fn the_smallest_budgets_get_what_fits_of_the_first_line() {
        let plan = Plan { environments: vec!["perso".into()], ..Plan::new(Vec::new()) };
        let first = "No changes. Azure matches the spec (0 resources checked).";
        for budget in 0..120 {
            let options = MarkdownOptions { budget, marker: Some("<!-- exai:plan -->".into()), ..Default::default() };
            let text = render_markdown(&plan, &options);
            assert!(text.chars().count() <= budget, "{budget}: {text:?}");
            if budget <= first.len() {
                assert_eq!(text, first[..budget], "as much of the first line as fits");
            } else {
                assert!(text.starts_with(&format!("{first}\n")), "{budget}: {text:?}");
            }
        }
    }
}
