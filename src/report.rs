//! Rendering diagnostics for people (miette's graphical reports, with or
//! without colour) and for tools (`--json`, one stable object).

use std::io::{IsTerminal, Write};

use k8sinfra_lang::{Diag, Diagnostics, SourceMap};
use serde_json::json;

use crate::cli::Color;

pub struct Output {
    pub color: bool,
    pub json: bool,
    /// `--deny-warnings`: a warning (a lint finding) fails the run too.
    pub deny_warnings: bool,
}

impl Output {
    pub fn new(color: Color, json: bool) -> Self {
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal(),
        };
        Output { color, json, deny_warnings: false }
    }

    /// Print every diagnostic; returns whether there was no error (nor,
    /// with `--deny-warnings`, a warning).
    pub fn diagnostics(&self, diags: Diagnostics, sources: &SourceMap) -> bool {
        let sorted = dedup(diags.into_sorted());
        let warnings = sorted.iter().filter(|d| !d.is_error()).count();
        let denied = self.deny_warnings && warnings > 0;
        let ok = !sorted.iter().any(Diag::is_error) && !denied;
        if self.json {
            let items: Vec<_> = sorted.iter().map(|d| to_json(d, sources)).collect();
            let errors = sorted.iter().filter(|d| d.is_error()).count();
            self.stdout(
                &serde_json::to_string_pretty(&json!({
                    "valid": ok,
                    "error_count": errors,
                    "warning_count": sorted.len() - errors,
                    "diagnostics": items,
                }))
                .unwrap_or_default(),
            );
            return ok;
        }
        let count = sorted.iter().filter(|d| d.is_error()).count();
        for diag in sorted {
            self.stderr(&diag.render(sources, self.color, terminal_width()));
        }
        if count > 0 {
            self.stderr(&format!("{count} error{} found; nothing was changed.\n", if count == 1 { "" } else { "s" }));
        } else if warnings > 0 && self.deny_warnings {
            self.stderr(&format!(
                "{warnings} warning{} and --deny-warnings; nothing was changed.\n",
                if warnings == 1 { "" } else { "s" }
            ));
        }
        ok
    }

    #[allow(clippy::print_stdout)]
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    #[allow(clippy::print_stderr)]
    pub fn stderr(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{text}");
    }

    /// A green (or plain) success line on stderr.
    pub fn success(&self, text: &str) {
        if self.json {
            return;
        }
        if self.color {
            self.stderr(&format!("\x1b[32m✓\x1b[0m {text}\n"));
        } else {
            self.stderr(&format!("✓ {text}\n"));
        }
    }
}

/// The same problem found for several instances of one declaration is
/// reported once.
fn dedup(diags: Vec<Diag>) -> Vec<Diag> {
    let mut seen = std::collections::BTreeSet::new();
    diags.into_iter().filter(|d| seen.insert((d.file, d.label_ranges(), d.message()))).collect()
}

fn to_json(d: &Diag, sources: &SourceMap) -> serde_json::Value {
    let file = d.file.and_then(|f| sources.get(f)).map(|f| f.name.clone());
    let inner = d.inner();
    let labels: Vec<_> = inner
        .labels()
        .map(|ls| {
            ls.map(|l| {
                let (start, end) = (l.offset(), l.offset() + l.len());
                let pos = |o: usize| {
                    d.file.map(|f| {
                        let (line, column) = sources.line_col(f, u32::try_from(o).unwrap_or(u32::MAX));
                        json!({ "line": line, "column": column, "offset": o })
                    })
                };
                json!({ "label": l.label(), "start": pos(start), "end": pos(end) })
            })
            .collect()
        })
        .unwrap_or_default();
    json!({
        "severity": if d.is_error() { "error" } else { "warning" },
        "code": d.code(),
        "message": d.message(),
        "file": file,
        "labels": labels,
        "help": inner.help().map(|h| h.to_string()),
    })
}

/// The width diagnostics wrap at: `COLUMNS` if set, otherwise the default.
fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 40)
}
