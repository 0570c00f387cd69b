//! Fuzz target over the whole check `validate` runs: any bytes as a
//! one-file configuration are parsed, evaluated against the real schemas
//! and checked (network rules, security lint). It must never panic or
//! overflow the stack, and every error must point into a file.
//!
//!   cargo +nightly fuzz run check fuzz/corpus/check -- -max_total_time=300
//!
//! The corpus is seeded from examples/ and stdlib/ (see README.md here).

#![no_main]

use k8sinfra_engine::config::{load_and_evaluate, Inputs, LoadOptions};
use k8sinfra_lang::SourceMap;
use libfuzzer_sys::fuzz_target;

#[path = "../../src/stdlib.rs"]
mod stdlib;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("k8sinfra-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if std::fs::write(dir.join("main.k8sinfra"), data).is_err() {
        return;
    }
    let inputs = Inputs::default();
    let options = LoadOptions { stdlib: stdlib::FILES, inputs: &inputs, require_inputs: false, known: None };
    let mut sources = SourceMap::new();
    let (_, diags) = load_and_evaluate(&dir, &options, &k8sinfra_providers::all(), &mut sources);
    for diag in diags.iter().filter(|d| d.is_error()) {
        let file = diag.file.and_then(|f| sources.get(f));
        let ranges = diag.label_ranges();
        match file {
            Some(file) => {
                assert!(!ranges.is_empty(), "an error without a span: {}", diag.message());
                for (start, end) in ranges {
                    assert!(start <= end && end <= file.text.len() + 1, "a span outside its file");
                }
            }
            // Reading the file failed (not UTF-8, too large): said without a span.
            None => assert!(diag.code().is_some_and(|c| c.starts_with("syntax::") || c == "check::load")),
        }
    }
});
