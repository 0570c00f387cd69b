//! Shared helpers: paths, loading a configuration, running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k8sinfra_engine::config::{load_and_evaluate, Config, Inputs, LoadOptions};
use k8sinfra_lang::{Diagnostics, SourceMap};

#[path = "../../src/stdlib.rs"]
mod stdlib;

pub use stdlib::FILES as STDLIB;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Evaluate and check the configuration at `path` (validate's rules).
pub fn load(path: &Path) -> (Option<Config>, Diagnostics, SourceMap) {
    let mut sources = SourceMap::new();
    let inputs = Inputs::default();
    let options = LoadOptions { stdlib: STDLIB, inputs: &inputs, require_inputs: false, known: None };
    let (config, diags) = load_and_evaluate(path, &options, &k8sinfra_providers::all(), &mut sources);
    (config, diags, sources)
}

/// Whether a diagnostic is not a security-lint finding: the fixtures and
/// snapshots of the checker leave the lint to its own tests.
pub fn not_lint(diag: &k8sinfra_lang::Diag) -> bool {
    !diag.code().is_some_and(|c| c.starts_with("lint::"))
}

/// Every `.k8sinfra` file below `dir`, sorted, skipping build output.
pub fn k8sinfra_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            out.extend(k8sinfra_files(&path));
        } else if path.extension().is_some_and(|e| e == "k8sinfra") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Run the `k8sinfra` binary with `args` in `dir`, with no region from
/// the environment.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_with(dir, args, &[])
}

/// `run`, with `env` set (a region included, if it is one of them).
pub fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("AWS_REGION").env_remove("AWS_DEFAULT_REGION");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the k8sinfra binary runs")
}

/// The binary run in `dir` on a terminal (util-linux `script` gives it a
/// pseudo-terminal), `input` typed into it: what the terminal showed is
/// the output's `stdout`. `env` is added to this process's environment.
pub fn on_a_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write as _;
    let line =
        std::iter::once(env!("CARGO_BIN_EXE_k8sinfra")).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]).current_dir(dir).env_remove("NO_COLOR");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("typed");
    child.wait_with_output().expect("script ends")
}

/// The run's one JSON document (`--json`) on standard output.
pub fn document(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

/// An endpoint for AWS that records whether anything connected to it:
/// what must make no call is pointed at it.
pub struct Silent(std::net::TcpListener);

impl Silent {
    #[must_use]
    pub fn new() -> Self {
        Silent(std::net::TcpListener::bind("127.0.0.1:0").expect("listen"))
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().expect("address"))
    }

    pub fn assert_untouched(&self) {
        self.0.set_nonblocking(true).expect("nonblocking");
        let call = self.0.accept();
        assert!(call.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock), "a call came: {call:?}");
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The run failed cleanly: exit code 1, no panic.
pub fn assert_clean_failure(out: &Output, expect_code: &str) {
    let err = stderr(out);
    let text = format!("{err}{}", stdout(out));
    assert_eq!(out.status.code(), Some(1), "expected exit 1:\n{text}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(text.contains(expect_code), "expected {expect_code} in:\n{text}");
}

/// Rendered diagnostics as one line: the renderer wraps at the terminal's
/// width and draws a margin, neither of which a test should depend on.
pub fn flat(text: &str) -> String {
    text.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}
