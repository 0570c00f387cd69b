//! Diagnostics: every error or warning of every phase, collected and
//! reported together. Each phase defines its own error enum (thiserror +
//! miette derive, with a code, a labelled span and help); a [`Diag`] adds the
//! file it points into, so one renderer can attach the right source text.

use std::fmt;

use miette::{
    Diagnostic, MietteError, MietteSpanContents, NamedSource, Report, Severity, SourceCode, SourceSpan, SpanContents,
};

use crate::source::{FileId, SourceFile, SourceMap};

/// One reportable problem: a phase's error plus the file its spans point into.
pub struct Diag {
    pub file: Option<FileId>,
    error: Box<dyn Diagnostic + Send + Sync + 'static>,
}

impl Diag {
    pub fn new<E>(file: FileId, error: E) -> Self
    where
        E: Diagnostic + Send + Sync + 'static,
    {
        Diag { file: Some(file), error: Box::new(error) }
    }

    /// A problem that belongs to no file (a missing folder, an unreadable file).
    pub fn global<E>(error: E) -> Self
    where
        E: Diagnostic + Send + Sync + 'static,
    {
        Diag { file: None, error: Box::new(error) }
    }

    #[must_use]
    pub fn code(&self) -> Option<String> {
        self.error.code().map(|c| c.to_string())
    }

    #[must_use]
    pub fn message(&self) -> String {
        self.error.to_string()
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        !matches!(self.error.severity(), Some(Severity::Warning | Severity::Advice))
    }

    /// The error itself, for inspection.
    #[must_use]
    pub fn inner(&self) -> &(dyn Diagnostic + Send + Sync + 'static) {
        self.error.as_ref()
    }

    /// Byte offsets of the labels, for tests and JSON output.
    #[must_use]
    pub fn label_ranges(&self) -> Vec<(usize, usize)> {
        self.error
            .labels()
            .map(|labels| labels.map(|l| (l.offset(), l.offset() + l.len())).collect())
            .unwrap_or_default()
    }

    /// The diagnostic as text, the way the command line prints it. `width`
    /// fixes the layout (tests and snapshots use it); `None` means 100.
    #[must_use]
    pub fn render(self, sources: &SourceMap, color: bool, width: Option<usize>) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme};
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1).with_width(width.unwrap_or(100));
        let report = self.into_report(sources);
        let mut out = String::new();
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out = format!("{report}\n");
        }
        out
    }

    /// A miette report carrying the source text of this diagnostic's file.
    #[must_use]
    pub fn into_report(self, sources: &SourceMap) -> Report {
        let ranges = self.label_ranges();
        let report = Report::new_boxed(self.error);
        let Some(file) = self.file.and_then(|f| sources.get(f)) else { return report };
        match Window::around(file, &ranges) {
            Some(window) => report.with_source_code(window),
            None => report.with_source_code(NamedSource::new(file.name.clone(), file.text.clone())),
        }
    }
}

/// The lines of a file around a diagnostic's labels, knowing where in the
/// file they are. miette finds a span's line by reading its source from
/// the top; given the whole of a large file, a run with many findings
/// spends most of its time doing that. Used for large files only: labels
/// far apart are then drawn as separate snippets rather than one, a
/// difference not worth having in ordinary files.
struct Window {
    name: String,
    text: std::sync::Arc<str>,
    start: usize,
    end: usize,
    /// Zero-based line of `start`.
    first_line: usize,
}

impl Window {
    /// Lines enough around the labels for any context miette asks for.
    fn around(file: &SourceFile, ranges: &[(usize, usize)]) -> Option<Window> {
        const MARGIN: usize = 3;
        const LARGE: usize = 256 * 1024;
        if file.text.len() < LARGE {
            return None;
        }
        let low = ranges.iter().map(|r| r.0).min()?;
        let high = ranges.iter().map(|r| r.1).max()?.min(file.text.len());
        let starts = file.line_starts();
        let first_line = file.line_of(low).saturating_sub(MARGIN);
        let end = starts.get(file.line_of(high) + MARGIN + 1).copied().unwrap_or(file.text.len());
        Some(Window { name: file.name.clone(), text: file.text.clone(), start: starts[first_line], end, first_line })
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span.offset().checked_sub(self.start).ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new(offset.into(), span.len());
        let inner = self.text[self.start..self.end].read_span(&local, before, after)?;
        let at = SourceSpan::new((inner.span().offset() + self.start).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            at,
            inner.line() + self.first_line,
            inner.column(),
            inner.line_count(),
        )))
    }
}

impl fmt::Debug for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code().unwrap_or_default(), self.message())
    }
}

/// All problems of one run, in the order they were found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diag>,
}

impl Diagnostics {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diag: Diag) {
        self.items.push(diag);
    }

    pub fn error<E>(&mut self, file: FileId, error: E)
    where
        E: Diagnostic + Send + Sync + 'static,
    {
        self.items.push(Diag::new(file, error));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diag::is_error)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diag> {
        self.items.iter()
    }

    /// Sorted by file and position so output never depends on check order.
    #[must_use]
    pub fn into_sorted(mut self) -> Vec<Diag> {
        self.items.sort_by_key(|d| {
            let first = d.label_ranges().first().map_or(0, |r| r.0);
            (d.file.map_or(u32::MAX, |f| f.0), first)
        });
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diag;
    type IntoIter = std::vec::IntoIter<Diag>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}
