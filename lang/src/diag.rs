//! Diagnostics: every error or warning of every phase, collected and
//! reported together. Each phase defines its own error enum (thiserror +
//! miette derive, with a code, a labelled span and help); a [`Diag`] adds the
//! file it points into, so one renderer can attach the right source text.

use std::fmt;

use miette::{Diagnostic, NamedSource, Report, Severity};

use crate::source::{FileId, SourceMap};

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
        let report = Report::new_boxed(self.error);
        match self.file.and_then(|f| sources.get(f)) {
            Some(file) => report.with_source_code(NamedSource::new(file.name.clone(), file.text.clone())),
            None => report,
        }
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
