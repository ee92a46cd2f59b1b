//! Renders spec diagnostics with the source line and a caret under the span (miette).

use exai_spec::SpecError;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt;
use std::io::IsTerminal;

struct Rendered<'a> {
    diagnostic: &'a exai_spec::Diagnostic,
    source: NamedSource<String>,
    warning: bool,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.warning { miette::Severity::Warning } else { miette::Severity::Error })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.hint.as_ref().map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.diagnostic.span.map(|_| &self.source as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.diagnostic.span?;
        let label = LabeledSpan::new(self.diagnostic.label.clone(), span.offset, span.len.max(1));
        Some(Box::new(std::iter::once(label)))
    }
}

/// Renders every diagnostic of `error` against `source`, then a count.
pub fn render(error: &SpecError, source: &str) -> String {
    let mut out = render_each(error, source, "error");
    let n = error.diagnostics.len();
    out.push_str(&format!(
        "{n} problem{} in {}; nothing was sent to Azure\n",
        if n == 1 { "" } else { "s" },
        error.file
    ));
    out
}

/// Renders warnings (diagnostics that do not stop exai) against `source`.
pub fn render_warnings(warnings: &SpecError, source: &str) -> String {
    render_each(warnings, source, "warning")
}

fn render_each(error: &SpecError, source: &str, severity: &str) -> String {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diagnostic in &error.diagnostics {
        // The first line names file:line:column in plain text, so it can be clicked in an
        // editor's terminal and grepped in CI logs whatever the renderer draws below.
        match diagnostic.span {
            Some(s) => {
                out.push_str(&format!("{severity}: {}:{}:{}: {}\n", error.file, s.line, s.column, diagnostic.message))
            }
            None => out.push_str(&format!("{severity}: {}: {}\n", error.file, diagnostic.message)),
        }
        let rendered = Rendered {
            diagnostic,
            source: NamedSource::new(&error.file, source.to_owned()),
            warning: severity == "warning",
        };
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&format!("{error}\n"));
        }
    }
    out
}
