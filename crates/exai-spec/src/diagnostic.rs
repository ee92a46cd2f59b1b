use std::fmt;

/// Returns the candidate closest to `given` (case-insensitively, by Damerau-Levenshtein
/// distance), when it is within `max_distance` edits: the "did you mean" of every diagnostic.
pub fn suggest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>, max_distance: usize) -> Option<&'a str> {
    let given = given.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&c.to_lowercase(), &given), c))
        .filter(|(distance, _)| *distance <= max_distance)
        .min()
        .map(|(_, c)| c)
}

/// Where in the spec a diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpan {
    /// Byte offset of the first character.
    pub offset: usize,
    /// Length in bytes (at least 1 when the span is on a value).
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl SourceSpan {
    /// Returns the span at 1-based `line` and `column` of `text`, `len` bytes long (clamped to
    /// the text), or `None` when the position is outside the text.
    pub fn at(text: &str, line: usize, column: usize, len: usize) -> Option<Self> {
        SourceText::new(text).span(line, column, len)
    }

    /// Returns the span `len` bytes long, clamped to the text and widened to end on a character
    /// boundary (a span must never split a character).
    pub fn with_len(mut self, text: &str, len: usize) -> Self {
        let mut end = (self.offset + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        self.len = end - self.offset;
        self
    }
}

/// A spec's text with the offset of each line's start, so that turning a line and column into
/// a [`SourceSpan`] is a binary search rather than a scan from the top: converting a spec
/// records a span for every declared name, and a scan per name made validation quadratic in
/// the number of environments. Diagnostics are rendered over the same index (exai's CLI).
pub struct SourceText<'a> {
    text: &'a str,
    /// Byte offset of the start of each line (line 1 at index 0).
    line_starts: Vec<usize>,
}

impl<'a> SourceText<'a> {
    /// Indexes the lines of `text`.
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { text, line_starts }
    }

    /// Returns the text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Returns the line (from 0) holding byte `offset`; the last line past the text's end.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|start| *start <= offset).saturating_sub(1)
    }

    /// Returns the byte offset where line `index` (from 0) starts, `None` past the last line.
    pub fn line_start(&self, index: usize) -> Option<usize> {
        self.line_starts.get(index).copied()
    }

    /// Returns the span at 1-based `line` and `column`, `len` bytes long (clamped to the text),
    /// or `None` when the line is outside the text.
    pub(crate) fn span(&self, line: usize, column: usize, len: usize) -> Option<SourceSpan> {
        let line_start = *self.line_starts.get(line.max(1) - 1)?;
        let rest = &self.text[line_start..];
        let offset =
            line_start + rest.char_indices().nth(column.saturating_sub(1)).map(|(i, _)| i).unwrap_or(rest.len());
        Some(SourceSpan { offset, len: 0, line, column }.with_len(self.text, len))
    }
}

/// One problem found in a spec, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in lower case without a trailing period.
    pub message: String,
    /// Where, when the problem has a place in the file.
    pub span: Option<SourceSpan>,
    /// A short label shown under the caret (what was expected).
    pub label: Option<String>,
    /// What to do next.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Returns a diagnostic with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), span: None, label: None, hint: None }
    }

    /// Sets where the problem is.
    pub fn at(mut self, span: Option<SourceSpan>) -> Self {
        self.span = span;
        self
    }

    /// Sets the label shown under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A spec that cannot be used, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    /// The file name, as given to [`crate::parse`].
    pub file: String,
    /// The problems, in the order of the file.
    pub diagnostics: Vec<Diagnostic>,
}

impl SpecError {
    pub(crate) fn one(file: &str, diagnostic: Diagnostic) -> Self {
        Self { file: file.to_owned(), diagnostics: vec![diagnostic] }
    }
}

/// Plain rendering, in the shape compilers use:
///
/// ```text
/// error: unknown key `locaton` in `environments.*.resourceGroup`
///   --> exai.yaml:9:8: not a key exai knows here
///   hint: did you mean `location`? ...
/// ```
///
/// The command line renders the same diagnostics with the source line and a caret.
impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {}", d.message)?;
            match (d.span, &d.label) {
                (Some(s), Some(label)) => write!(f, "\n  --> {}:{}:{}: {label}", self.file, s.line, s.column)?,
                (Some(s), None) => write!(f, "\n  --> {}:{}:{}", self.file, s.line, s.column)?,
                (None, _) => write!(f, "\n  --> {}", self.file)?,
            }
            if let Some(hint) = &d.hint {
                write!(f, "\n  hint: {hint}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_found_by_line_and_column() {
        let text = "a: 1\nbé: xyz\n";
        let s = SourceSpan::at(text, 2, 5, 3).unwrap();
        assert_eq!(&text[s.offset..s.offset + s.len], "xyz");
        assert!(SourceSpan::at(text, 9, 1, 1).is_none());
    }
}
