//! Rendering the Kubernetes checks of a plan (and of `exai check`): text and Markdown.

use exai_model::checks::{EnvironmentChecks, Finding, Severity};
use exai_model::escape_shown;
use std::io::{self, Write};

/// Returns `n` and `noun`, pluralized.
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Returns the headline of one environment's checks:
/// `Kubernetes checks of perso (k8s/overlays/azure): 1 error, 1 warning`.
pub(crate) fn headline(checks: &EnvironmentChecks) -> String {
    let (errors, warnings) = (checks.count(Severity::Error), checks.count(Severity::Warning));
    let verdict = match (errors, warnings) {
        (0, 0) => "passed".to_owned(),
        (0, w) => format!("passed, {}", count(w, "warning")),
        (e, 0) => count(e, "error"),
        (e, w) => format!("{}, {}", count(e, "error"), count(w, "warning")),
    };
    format!("Kubernetes checks of {} ({}): {verdict}", escape_shown(&checks.environment), escape_shown(&checks.overlay))
}

/// Returns where a finding is, as shown: `file:line (Kind/name)`.
fn place(finding: &Finding) -> Option<String> {
    let object = finding.object.as_deref().map(escape_shown);
    match (finding.location(), object) {
        (Some(at), Some(object)) => Some(format!("{} ({object})", escape_shown(&at))),
        (Some(at), None) => Some(escape_shown(&at).into_owned()),
        (None, Some(object)) => Some(object.into_owned()),
        (None, None) => None,
    }
}

/// Writes `checks` as text: a headline per environment, then each finding with where it is
/// and what to do. `error` and `warning` are styled with `error_style` and `warning_style`.
pub(crate) fn write_text(
    out: &mut dyn Write,
    checks: &[EnvironmentChecks],
    error_style: anstyle::Style,
    warning_style: anstyle::Style,
) -> io::Result<()> {
    for environment in checks {
        let style = if environment.has_errors() {
            error_style
        } else if environment.findings.is_empty() {
            anstyle::Style::new()
        } else {
            warning_style
        };
        writeln!(out, "{style}{}{style:#}", headline(environment))?;
        for finding in &environment.findings {
            let style = if finding.severity == Severity::Error { error_style } else { warning_style };
            writeln!(
                out,
                "  {style}{}[{}]{style:#}: {}",
                finding.severity.as_str(),
                finding.code,
                escape_shown(&finding.message)
            )?;
            if let Some(place) = place(finding) {
                writeln!(out, "    --> {place}")?;
            }
            writeln!(out, "    hint: {}", escape_shown(&finding.hint))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Writes `checks` as `exai check` shows them, plain or coloured.
pub fn render_checks_text(checks: &[EnvironmentChecks], out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = |c: anstyle::AnsiColor| {
        if color { anstyle::Style::new().fg_color(Some(c.into())) } else { anstyle::Style::new() }
    };
    write_text(out, checks, paint(anstyle::AnsiColor::Red), paint(anstyle::AnsiColor::Yellow))
}

/// Returns the Markdown of `checks`: an alert per environment with errors, else a note, each
/// finding one list item. `code` turns text into a code span that its content cannot close.
/// Only the first `shown` findings are listed (in order across environments); a line says how
/// many more there are.
pub(crate) fn markdown(
    checks: &[EnvironmentChecks],
    shown: usize,
    code: impl Fn(&str) -> String,
    prose: impl Fn(&str) -> String,
) -> String {
    let mut blocks = vec!["### Kubernetes checks".to_owned()];
    let mut left = shown;
    for environment in checks {
        let kind = if environment.has_errors() {
            "CAUTION"
        } else if environment.findings.is_empty() {
            "NOTE"
        } else {
            "WARNING"
        };
        let mut lines = vec![format!("> [!{kind}]"), format!("> **{}**", prose(&headline(environment)))];
        let listed = left.min(environment.findings.len());
        left -= listed;
        for finding in &environment.findings[..listed] {
            let at = match (finding.location(), &finding.object) {
                (Some(at), Some(object)) => format!(" at {} ({})", code(&at), code(object)),
                (Some(at), None) => format!(" at {}", code(&at)),
                (None, Some(object)) => format!(" ({})", code(object)),
                (None, None) => String::new(),
            };
            lines.push(format!(
                "> - **{}** {}{at}: {}<br>hint: {}",
                finding.severity.as_str(),
                code(&finding.code),
                prose(&finding.message),
                prose(&finding.hint)
            ));
        }
        let hidden = environment.findings.len() - listed;
        if hidden > 0 {
            lines.push(format!(
                "> - … and {} more (left out to fit the comment: `exai check --env {}` lists every one)",
                count(hidden, "finding"),
                environment.environment
            ));
        }
        if environment.has_errors() {
            lines.push(">".to_owned());
            lines.push(format!(
                "> `exai apply` refuses this plan until the errors of `{}` are fixed.",
                environment.environment
            ));
        }
        blocks.push(lines.join("\n"));
    }
    blocks.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            severity,
            code: "secret-key-not-found".into(),
            message: "Secret `s` has no key `database_url`".into(),
            hint: "did you mean `database-url`?".into(),
            file: Some("k8s/base/deployment.yaml".into()),
            line: Some(27),
            object: Some("Deployment/api".into()),
        }
    }

    #[test]
    fn text_names_each_finding_where_it_is_and_what_to_do() {
        let checks = vec![
            EnvironmentChecks {
                environment: "perso".into(),
                overlay: "k8s/overlays/azure".into(),
                findings: vec![finding(Severity::Error), finding(Severity::Warning)],
            },
            EnvironmentChecks { environment: "prod".into(), overlay: "k8s/prod".into(), findings: Vec::new() },
        ];
        let mut out = Vec::new();
        render_checks_text(&checks, &mut out, false).expect("written");
        insta::assert_snapshot!(String::from_utf8(out).expect("UTF-8"), @r"
        Kubernetes checks of perso (k8s/overlays/azure): 1 error, 1 warning
          error[secret-key-not-found]: Secret `s` has no key `database_url`
            --> k8s/base/deployment.yaml:27 (Deployment/api)
            hint: did you mean `database-url`?
          warning[secret-key-not-found]: Secret `s` has no key `database_url`
            --> k8s/base/deployment.yaml:27 (Deployment/api)
            hint: did you mean `database-url`?

        Kubernetes checks of prod (k8s/prod): passed
        ");
    }
}
