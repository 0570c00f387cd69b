//! Annotated fixtures. An annotation is a comment line whose carets mark
//! columns of the nearest line above that is not an annotation:
//!
//! ```text
//!   vpc  = vpc.mian
//! #        ^^^^^^^^ check::unknown_reference: did you mean `vpc.main`?
//! ```
//!
//! The carets give the primary label's exact span, then the diagnostic
//! code, then (optionally) text the message, a label or the help contains.
//! Every annotation must be matched by a diagnostic and every diagnostic
//! by an annotation. A folder is one fixture (a module with its files).

use std::path::{Path, PathBuf};

use k8sinfra_lang::{Diag, SourceMap};

use crate::support;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    file: String,
    line: usize,
    start: usize,
    end: usize,
    code: String,
    text: String,
}

#[derive(Debug)]
struct Found {
    file: String,
    line: usize,
    start: usize,
    end: usize,
    code: String,
    text: String,
}

fn annotations(path: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(path).expect("fixture is text");
    let lines: Vec<&str> = text.lines().collect();
    let is_annotation = |l: &str| {
        let t = l.trim_start();
        t.starts_with('#') && t[1..].trim_start().starts_with('^')
    };
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !is_annotation(line) {
            continue;
        }
        let target = (0..i).rev().find(|&j| !is_annotation(lines[j])).expect("an annotation follows a line");
        let start = line.find('^').expect("carets");
        let end = start + line[start..].chars().take_while(|c| *c == '^').count();
        let rest = line[end..].trim();
        // The code is the first word (it contains `::` itself); text follows `: `.
        let (code, text) = rest.split_once(' ').map_or((rest, ""), |(c, t)| (c, t.trim()));
        let code = code.trim_end_matches(':');
        out.push(Expected {
            file: path.display().to_string(),
            line: target + 1,
            start,
            end,
            code: code.to_string(),
            text: text.to_string(),
        });
    }
    out
}

fn found(diag: &Diag, sources: &SourceMap) -> Found {
    let file = diag.file.and_then(|f| sources.get(f)).map(|f| f.name.clone()).unwrap_or_default();
    let (start, end) = diag.label_ranges().first().copied().unwrap_or((0, 0));
    let (line, col) = diag.file.map_or((0, 0), |f| sources.line_col(f, u32::try_from(start).unwrap_or(0)));
    let inner = diag.inner();
    let mut text = diag.message();
    if let Some(help) = inner.help() {
        text.push_str(&format!("\n{help}"));
    }
    if let Some(labels) = inner.labels() {
        for l in labels {
            text.push_str(&format!("\n{}", l.label().unwrap_or_default()));
        }
    }
    Found { file, line, start: col - 1, end: col - 1 + (end - start), code: diag.code().unwrap_or_default(), text }
}

fn check_fixture(path: &Path) -> Result<(), String> {
    let files: Vec<PathBuf> = if path.is_dir() { support::k8sinfra_files(path) } else { vec![path.to_path_buf()] };
    let mut expected: Vec<Expected> = files.iter().flat_map(|f| annotations(f)).collect();
    let (_, diags, sources) = support::load(path);
    let mut problems = Vec::new();
    for diag in diags.into_sorted().into_iter().filter(support::not_lint) {
        let f = found(&diag, &sources);
        let position = expected.iter().position(|e| {
            e.file == f.file && e.line == f.line && e.start == f.start && e.end == f.end && e.code == f.code
        });
        match position {
            Some(i) => {
                let e = expected.remove(i);
                if !f.text.contains(&e.text) {
                    problems.push(format!(
                        "{}:{}: {} says\n    {}\n  which lacks `{}`",
                        f.file,
                        f.line,
                        f.code,
                        f.text.replace('\n', "\n    "),
                        e.text
                    ));
                }
            }
            None => problems.push(format!(
                "{}:{}:{}-{}: unexpected {} — {}",
                f.file,
                f.line,
                f.start,
                f.end,
                f.code,
                f.text.replace('\n', " | ")
            )),
        }
    }
    for e in expected {
        problems.push(format!(
            "{}:{}:{}-{}: expected {} ({}) was not reported",
            e.file, e.line, e.start, e.end, e.code, e.text
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_planted_error_is_reported_with_its_span_and_code() {
    let dir = support::root().join("tests/fixtures/errors");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fixtures").flatten().map(|e| e.path()).collect();
    entries.sort();
    assert!(entries.len() >= 10, "fixtures are missing");
    let failures: Vec<String> =
        entries.iter().filter_map(|p| check_fixture(p).err().map(|e| format!("== {}\n{e}", p.display()))).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn annotations_are_read_as_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("a.k8sinfra");
    std::fs::write(&path, "vpc main {\n  cidr = x\n#        ^ check::unknown_reference: not defined\n}\n")
        .expect("write");
    let found = annotations(&path);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].start, found[0].end), (2, 9, 10));
    assert_eq!(found[0].code, "check::unknown_reference");
    assert_eq!(found[0].text, "not defined");
    check_fixture(&path).expect("the annotation matches the diagnostic");
}
