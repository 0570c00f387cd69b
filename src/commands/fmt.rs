//! `k8sinfra fmt`: rewrite files in the canonical style. A file is only
//! written if its formatted text parses again and formats to itself, so a
//! formatter bug can never damage a configuration.

use std::path::{Path, PathBuf};

use k8sinfra_lang::fmt::format_file;
use k8sinfra_lang::syntax::{parse_file, parse_str};
use k8sinfra_lang::{Diag, Diagnostics, FileId, SourceMap};
use miette::Diagnostic;
use thiserror::Error;

use crate::cli::FmtArgs;
use crate::report::Output;

#[derive(Debug, Error, Diagnostic)]
pub enum FmtError {
    #[error("cannot read {path}: {reason}")]
    #[diagnostic(code(fmt::io))]
    Io { path: String, reason: String },

    #[error("formatting {path} would not round-trip; the file was left unchanged")]
    #[diagnostic(code(fmt::internal), help("this is a bug in k8sinfra fmt; please report it with the file"))]
    NotIdempotent { path: String },
}

pub fn run(args: &FmtArgs, out: &Output) -> bool {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let mut files = Vec::new();
    for path in &args.paths {
        collect(path, args.recursive, &mut files, &mut diags);
    }
    let mut unformatted = Vec::new();
    for path in &files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                diags.push(Diag::global(FmtError::Io { path: path.display().to_string(), reason: e.to_string() }));
                continue;
            }
        };
        let (id, parsed) = parse_file(&mut sources, &path.display().to_string(), &bytes);
        let file = match parsed {
            Ok(f) => f,
            Err(errors) => {
                errors.into_iter().for_each(|e| diags.push(Diag::new(id, e)));
                continue;
            }
        };
        let original = String::from_utf8_lossy(&bytes).to_string();
        let formatted = format_file(&file);
        if !round_trips(&formatted) {
            diags.push(Diag::global(FmtError::NotIdempotent { path: path.display().to_string() }));
            continue;
        }
        if formatted == original {
            continue;
        }
        unformatted.push(path.clone());
        if args.diff {
            let name = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&original, &formatted);
            out.stdout(&diff.unified_diff().header(&name, &name).to_string());
        }
        if !args.check {
            if let Err(e) = write_atomically(path, &formatted) {
                diags.push(Diag::global(FmtError::Io { path: path.display().to_string(), reason: e.to_string() }));
                continue;
            }
            if !args.diff {
                out.stdout(&path.display().to_string());
            }
        }
    }
    let ok = out.diagnostics(diags, &sources);
    if args.check && !unformatted.is_empty() {
        if !args.diff {
            for path in &unformatted {
                out.stdout(&path.display().to_string());
            }
        }
        out.stderr(&format!(
            "{} file{} not formatted; run `k8sinfra fmt` to fix.\n",
            unformatted.len(),
            if unformatted.len() == 1 { " is" } else { "s are" }
        ));
        return false;
    }
    ok
}

/// The formatted text parses and formats to itself.
fn round_trips(formatted: &str) -> bool {
    parse_str(FileId(0), formatted).is_ok_and(|again| format_file(&again) == formatted)
}

fn collect(path: &Path, recursive: bool, files: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    if path.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            diags.push(Diag::global(FmtError::Io { path: path.display().to_string(), reason: e.to_string() }));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let hidden_or_build =
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n == "target");
        if p.is_dir() && recursive && !hidden_or_build {
            collect(&p, recursive, files, diags);
        } else if p.is_file() && p.extension().is_some_and(|e| e == k8sinfra_engine::config::EXTENSION) {
            files.push(p);
        }
    }
}

/// Write through a temporary file in the same folder and rename it over
/// the original, so an interrupted run leaves the old or the new file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.k8sinfra-fmt.tmp"));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path)
}
