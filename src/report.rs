//! Rendering diagnostics for people (miette's graphical reports, with or
//! without colour) and for tools (`--json`).
//!
//! With `--json`, standard output carries exactly one JSON document per
//! run, written by `finish`: the verb's result (`result`) with the run's
//! diagnostics in it, or, when the verb gave none, the diagnostics alone.
//! Text meant for people goes to standard error. docs/json.md has the
//! schemas.

use std::io::{IsTerminal, Write};

use k8sinfra_lang::{Diag, Diagnostics, SourceMap};
use serde_json::json;

use crate::cli::Color;

pub struct Output {
    pub color: bool,
    pub json: bool,
    /// `--deny-warnings`: a warning (a lint finding) fails the run too.
    pub deny_warnings: bool,
    /// With `--json`: what the one document will hold.
    document: std::sync::Mutex<Document>,
}

#[derive(Default)]
struct Document {
    diagnostics: Vec<serde_json::Value>,
    errors: usize,
    warnings: usize,
    denied: bool,
    result: Option<Result>,
}

/// What a verb gives for the document.
enum Result {
    /// An object: the diagnostics are added to it.
    Object(serde_json::Map<String, serde_json::Value>),
    /// A value printed as it is (`output`, as Terraform's `output -json`).
    Bare(serde_json::Value),
}

impl Output {
    pub fn new(color: Color, json: bool) -> Self {
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal(),
        };
        Output { color, json, deny_warnings: false, document: std::sync::Mutex::default() }
    }

    fn doc(&self) -> std::sync::MutexGuard<'_, Document> {
        self.document.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// With `--json`, the verb's result object (diagnostics are added).
    pub fn result(&self, fields: serde_json::Value) {
        if let serde_json::Value::Object(map) = fields {
            self.doc().result = Some(Result::Object(map));
        }
    }

    /// With `--json`, a result printed alone, as it is.
    pub fn bare_result(&self, value: serde_json::Value) {
        self.doc().result = Some(Result::Bare(value));
    }

    /// With `--json`, print the run's one document, with whether the run
    /// succeeded (exit code 0, or 2 for a plan with changes); nothing
    /// otherwise.
    pub fn finish(&self, success: bool) {
        if !self.json {
            return;
        }
        let doc = std::mem::take(&mut *self.doc());
        let ok = doc.errors == 0 && !doc.denied;
        let printed = match doc.result {
            Some(Result::Bare(value)) => value,
            Some(Result::Object(mut map)) => {
                map.insert("success".into(), json!(success));
                map.insert("error_count".into(), json!(doc.errors));
                map.insert("warning_count".into(), json!(doc.warnings));
                map.insert("diagnostics".into(), serde_json::Value::Array(doc.diagnostics));
                serde_json::Value::Object(map)
            }
            None => json!({
                "success": success,
                "valid": ok,
                "error_count": doc.errors,
                "warning_count": doc.warnings,
                "diagnostics": doc.diagnostics,
            }),
        };
        #[allow(clippy::print_stdout)]
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&printed).unwrap_or_default());
        }
    }

    /// Print every diagnostic; returns whether there was no error (nor,
    /// with `--deny-warnings`, a warning).
    pub fn diagnostics(&self, diags: Diagnostics, sources: &SourceMap) -> bool {
        let sorted = dedup(diags.into_sorted());
        let warnings = sorted.iter().filter(|d| !d.is_error()).count();
        let denied = self.deny_warnings && warnings > 0;
        let ok = !sorted.iter().any(Diag::is_error) && !denied;
        if self.json {
            let mut doc = self.doc();
            let errors = sorted.iter().filter(|d| d.is_error()).count();
            doc.errors += errors;
            doc.warnings += sorted.len() - errors;
            doc.denied |= denied;
            doc.diagnostics.extend(sorted.iter().map(|d| to_json(d, sources)));
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

    /// One error that has no place in a file (the cloud's, the state's):
    /// rendered on standard error, or into the document with `--json`.
    pub fn error(&self, diag: Diag) {
        if self.json {
            let mut doc = self.doc();
            doc.errors += 1;
            doc.diagnostics.push(to_json(&diag, &SourceMap::new()));
            return;
        }
        self.stderr(&diag.render(&SourceMap::new(), self.color, None));
    }

    /// The verb's text for people: on standard output, or on standard
    /// error with `--json` (where standard output is the document's).
    #[allow(clippy::print_stdout)]
    pub fn stdout(&self, text: &str) {
        if self.json {
            self.stderr(&format!("{text}\n"));
            return;
        }
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
