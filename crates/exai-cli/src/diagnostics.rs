//! Renders spec diagnostics with the source line and a caret under the span (miette).
//!
//! A diagnostic echoes what the spec holds (an invalid name, an unknown key), and the source
//! line is shown as it is: both are escaped for the terminal ([`exai_model::escape_shown`]), so
//! a spec cannot write an escape sequence or a line of its own through exai's errors.

use exai_model::escape_shown;
use exai_spec::{SourceText, SpecError};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SpanContents,
};
use std::borrow::Cow;
use std::fmt;
use std::io::IsTerminal;

struct Rendered<'a> {
    diagnostic: &'a exai_spec::Diagnostic,
    source: &'a IndexedSource<'a>,
    /// The diagnostic's span in the escaped source.
    span: Option<(usize, usize)>,
    warning: bool,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_shown(&self.diagnostic.message))
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_shown(&self.diagnostic.message))
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.warning { miette::Severity::Warning } else { miette::Severity::Error })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.hint.as_ref().map(|h| Box::new(escape_shown(h).into_owned()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.map(|_| self.source as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.span?;
        let text = self.diagnostic.label.as_deref().map(|l| escape_shown(l).into_owned());
        let label = LabeledSpan::new(text, offset, len.max(1));
        Some(Box::new(std::iter::once(label)))
    }
}

/// The spec's text as the source lines of diagnostics show it: every character
/// [`escape_shown`] escapes is escaped, except the line structure (line feeds, a carriage
/// return before one) and tabs, which miette lays out itself.
struct ShownSource {
    text: String,
    /// `(offset in the spec, bytes added there)`, in order, one per escaped character.
    added: Vec<(usize, usize)>,
}

impl ShownSource {
    fn new(source: &str) -> Self {
        let mut text = String::with_capacity(source.len());
        let mut added = Vec::new();
        let mut chars = source.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            let structure = c == '\n' || c == '\t' || c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n');
            let mut buffer = [0; 4];
            match escape_shown(c.encode_utf8(&mut buffer)) {
                Cow::Owned(escaped) if !structure => {
                    added.push((offset, escaped.len() - c.len_utf8()));
                    text.push_str(&escaped);
                }
                _ => text.push(c),
            }
        }
        Self { text, added }
    }

    /// Returns where `offset` of the spec is in the escaped text.
    fn offset(&self, offset: usize) -> usize {
        offset + self.added.iter().take_while(|(at, _)| *at < offset).map(|(_, n)| n).sum::<usize>()
    }

    /// Returns `(offset, len)` of `span` in the escaped text.
    fn span(&self, span: exai_spec::SourceSpan) -> (usize, usize) {
        let start = self.offset(span.offset);
        (start, self.offset(span.offset + span.len) - start)
    }
}

/// A named source whose lines are indexed, so each diagnostic costs the lines it shows.
///
/// miette's own `SourceCode` for text finds a span's line by reading the text from its first
/// byte: one warning per environment made `exai validate` of 800 environments spend 2 s (75%
/// of it there) where 200 took 0.11 s. This one hands miette only the lines around the span
/// (miette's reading of them, unchanged), then puts the line numbers and offsets back.
/// Lines end at a line feed; a carriage return only comes before one ([`ShownSource`]), as
/// [`SourceText`] indexes them.
struct IndexedSource<'a> {
    name: String,
    source: SourceText<'a>,
}

impl<'a> IndexedSource<'a> {
    fn new(name: &str, text: &'a str) -> Self {
        Self { name: name.to_owned(), source: SourceText::new(text) }
    }
}

impl SourceCode for IndexedSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let text = self.source.text();
        let first = self.source.line_of(span.offset()).saturating_sub(context_lines_before);
        let last = self.source.line_of(span.offset() + span.len()) + context_lines_after + 1;
        let start = self.source.line_start(first).unwrap_or_default();
        let end = self.source.line_start(last + 1).unwrap_or(text.len());
        let window = &text.as_bytes()[start..end];
        let shifted = miette::SourceSpan::new((span.offset() - start).into(), span.len());
        let contents = window.read_span(&shifted, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            miette::SourceSpan::new((contents.span().offset() + start).into(), contents.span().len()),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

/// Renders every diagnostic of `error` against `source`, then a count.
pub fn render(error: &SpecError, source: &str) -> String {
    let mut out = render_each(error, source, "error");
    let n = error.diagnostics.len();
    out.push_str(&format!(
        "{n} problem{} in {}; nothing was sent to Azure\n",
        if n == 1 { "" } else { "s" },
        escape_shown(&error.file)
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
    let file = escape_shown(&error.file);
    let shown = ShownSource::new(source);
    let named = IndexedSource::new(&file, &shown.text);
    for diagnostic in &error.diagnostics {
        let message = escape_shown(&diagnostic.message);
        // The first line names file:line:column in plain text, so it can be clicked in an
        // editor's terminal and grepped in CI logs whatever the renderer draws below.
        match diagnostic.span {
            Some(s) => out.push_str(&format!("{severity}: {file}:{}:{}: {message}\n", s.line, s.column)),
            None => out.push_str(&format!("{severity}: {file}: {message}\n")),
        }
        let rendered = Rendered {
            diagnostic,
            source: &named,
            span: diagnostic.span.map(|s| shown.span(s)),
            warning: severity == "warning",
        };
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&format!("{}\n", escape_shown(&error.to_string())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indexed_source_shows_what_miette_would_from_the_whole_text() {
        let text = "version: 1\r\nenvironments:\n  a:\n    name: x\n\n  b:\n    name: y\nlast line";
        let indexed = IndexedSource::new("exai.yaml", text);
        for offset in 0..text.len() {
            // Labels are never empty (`Rendered::labels`).
            for len in [1, 5, 20] {
                for context in [0, 1, 2, 3] {
                    let span = miette::SourceSpan::new(offset.into(), len);
                    let whole = text.as_bytes().read_span(&span, context, context);
                    let ours = indexed.read_span(&span, context, context);
                    let at = format!("span {offset}+{len}, context {context}");
                    let (whole, ours) = match (whole, ours) {
                        (Ok(whole), Ok(ours)) => (whole, ours),
                        (Err(_), Err(_)) => continue, // past the end, for both
                        _ => panic!("{at}: only one failed"),
                    };
                    assert_eq!(ours.data(), whole.data(), "{at}");
                    assert_eq!(ours.span(), whole.span(), "{at}");
                    assert_eq!((ours.line(), ours.column()), (whole.line(), whole.column()), "{at}");
                    assert_eq!(ours.line_count(), whole.line_count(), "{at}");
                    assert_eq!(ours.name(), Some("exai.yaml"), "{at}");
                }
            }
        }
    }

    #[test]
    fn the_source_is_escaped_and_spans_follow_it() {
        let source = "a: 1\r\nname: x\u{1b}[2Jy\u{7}\tz # \u{202e}\n";
        let shown = ShownSource::new(source);
        assert_eq!(shown.text, "a: 1\r\nname: x\\u{1b}[2Jy\\u{7}\tz # \\u{202e}\n", "line structure and tabs kept");
        let value = source.find('x').unwrap_or_default();
        let len = source.find('z').unwrap_or_default() + 1 - value;
        let span = exai_spec::SourceSpan { offset: value, len, line: 2, column: 7 };
        let (offset, len) = shown.span(span);
        assert_eq!(&shown.text[offset..offset + len], "x\\u{1b}[2Jy\\u{7}\tz");
    }
}
