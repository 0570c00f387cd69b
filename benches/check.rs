//! `cargo bench --bench check`: parse, evaluate and check a generated
//! configuration of 10,000 resources (`bench/generate.py`), in process,
//! and report each phase. The method and results are in BENCHMARKS.md.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k8sinfra_engine::config::{load_and_evaluate, Inputs, LoadOptions};
use k8sinfra_lang::fmt::format_file;
use k8sinfra_lang::syntax::parse_str;
use k8sinfra_lang::{FileId, SourceMap};

#[path = "../src/stdlib.rs"]
mod stdlib;

/// Runs per phase under `cargo bench`. Under `cargo test` (no `--bench`
/// argument) the benchmark only checks that it works: one run, a small
/// configuration.
const RUNS: usize = 15;

/// The allocator the `k8sinfra` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[allow(clippy::print_stdout)]
fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (default_resources, runs) = if benchmarking { (10_000, RUNS) } else { (200, 1) };
    let resources: usize =
        std::env::var("K8SINFRA_BENCH_RESOURCES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_resources);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("k8sinfra-bench-{resources}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("main.k8sinfra");
    let generated = Command::new("python3")
        .arg(root.join("bench/generate.py"))
        .arg(resources.to_string())
        .output()
        .expect("python3 runs bench/generate.py");
    assert!(generated.status.success(), "generate.py failed");
    std::fs::write(&file, &generated.stdout).expect("write the configuration");
    let text = String::from_utf8(generated.stdout).expect("UTF-8");

    let providers = k8sinfra_providers::all();
    let inputs = Inputs::default();
    let options = LoadOptions { stdlib: stdlib::FILES, inputs: &inputs, require_inputs: false, known: None };

    let mut parse = Vec::new();
    let mut format = Vec::new();
    let mut check = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let parsed = parse_str(FileId(0), &text).expect("parses");
        parse.push(t.elapsed());

        let t = Instant::now();
        let formatted = format_file(&parsed);
        format.push(t.elapsed());
        assert!(!formatted.is_empty());

        let mut sources = SourceMap::new();
        let t = Instant::now();
        let (config, diags) = load_and_evaluate(&file, &options, &providers, &mut sources);
        check.push(t.elapsed());
        assert!(diags.is_empty(), "the generated configuration is valid");
        count = config.expect("valid").resources.len();
    }
    println!("configuration: {resources} requested, {count} resources, {} bytes", text.len());
    println!("parse (text → syntax tree)                    median {:>8.1?} of {runs}", median(parse));
    println!("format (syntax tree → text)                   median {:>8.1?} of {runs}", median(format));
    println!("validate (read + parse + evaluate + check)    median {:>8.1?} of {runs}", median(check));
}
