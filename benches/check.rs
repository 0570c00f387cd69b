//! `cargo bench --bench check`: parse, evaluate and check a generated
//! configuration of 10,000 resources (`bench/generate.py`); plan it against
//! a state holding all of it (refresh off); and measure what saving the
//! state after every change costs an apply of 1,000 resources. In process;
//! each phase reported. The method and results are in BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k8sinfra_engine::config::{load_and_evaluate, Inputs, LoadOptions};
use k8sinfra_engine::plan::{configured, plan, resolve};
use k8sinfra_engine::state::{decode, encode, ResourceState, State};
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
        // Valid; the security lint may warn (its findings are part of the work timed).
        assert!(!diags.has_errors(), "the generated configuration is valid");
        count = config.expect("valid").resources.len();
    }
    println!("configuration: {resources} requested, {count} resources, {} bytes", text.len());
    println!("parse (text → syntax tree)                    median {:>8.1?} of {runs}", median(parse));
    println!("format (syntax tree → text)                   median {:>8.1?} of {runs}", median(format));
    println!("validate (read + parse + evaluate + check)    median {:>8.1?} of {runs}", median(check));

    plan_against_full_state(&file, &options, &providers, runs);
    let (creates, runs) = if benchmarking { (1_000, 5) } else { (50, 1) };
    persistence::measure(creates, runs);
    println!("peak memory of this process (all phases)      {} MB", peak_rss_mb());
}

/// A state holding every resource of the configuration, as if applied:
/// settable attributes resolved, and made-up values for what the cloud
/// would have chosen (ids, addresses, DNS names). Like apply, it evaluates
/// again with what the state knows until everything resolves.
fn applied_state(file: &std::path::Path, options: &LoadOptions<'_>, providers: &k8sinfra_engine::Providers) -> State {
    let mut state = State::new();
    loop {
        let snapshot = state.clone();
        let options = LoadOptions { known: Some(&snapshot), ..*options };
        let mut sources = SourceMap::new();
        let (config, _) = load_and_evaluate(file, &options, providers, &mut sources);
        let configured = configured(&config.expect("valid"), providers);
        let before = state.resources.len();
        for (address, attrs) in &configured {
            if state.resources.contains_key(address) {
                continue;
            }
            let resolved: Option<BTreeMap<String, serde_json::Value>> =
                attrs.iter().map(|(k, v)| resolve(v, &state).map(|j| (k.clone(), j))).collect();
            let Some(mut resolved) = resolved else { continue };
            let type_name = address.split('.').next().unwrap_or_default().to_string();
            let id = format!("id-{}", state.resources.len());
            if let Some(schema) = providers.schema(&type_name) {
                for computed in schema.attrs.iter().filter(|a| !a.settable()) {
                    resolved.entry(computed.name.to_string()).or_insert_with(|| made_up(&computed.ty, &id));
                }
            }
            resolved.insert("id".into(), serde_json::Value::String(id.clone()));
            state.resources.insert(
                address.clone(),
                ResourceState {
                    type_name,
                    id,
                    attrs: resolved,
                    dependencies: vec![],
                    sensitive: Default::default(),
                    created: None,
                    provider: String::new(),
                },
            );
        }
        if state.resources.len() == configured.len() {
            break;
        }
        assert!(state.resources.len() > before, "every value resolves once what it names is in the state");
    }
    state.serial = 1;
    state
}

/// A value the cloud might have chosen.
fn made_up(ty: &k8sinfra_lang::Type, id: &str) -> serde_json::Value {
    use k8sinfra_lang::Type as T;
    match ty {
        T::Bool => serde_json::Value::Bool(false),
        T::Number | T::Port => serde_json::json!(0),
        T::Ip => serde_json::json!("10.200.0.1"),
        T::Cidr => serde_json::json!("10.200.0.0/24"),
        T::List(_) => serde_json::json!([]),
        T::Map(_) => serde_json::json!({}),
        _ => serde_json::Value::String(format!("{id}.example")),
    }
}

/// What `k8sinfra plan --refresh=false` does after loading the
/// configuration: read the state, evaluate again with what it knows, diff.
#[allow(clippy::print_stdout)]
fn plan_against_full_state(
    file: &std::path::Path,
    options: &LoadOptions<'_>,
    providers: &k8sinfra_engine::Providers,
    runs: usize,
) {
    let state = applied_state(file, options, providers);
    let bytes = encode(&state);
    // Left beside the configuration for bench/plan-process.
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir.join(".k8sinfra"));
        let _ = std::fs::write(dir.join(".k8sinfra/state.json"), &bytes);
    }
    let mut samples = Vec::new();
    let mut changes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let state = decode(&bytes).expect("decodes");
        let options = LoadOptions { known: Some(&state), ..*options };
        let mut sources = SourceMap::new();
        let (config, _) = load_and_evaluate(file, &options, providers, &mut sources);
        let planned = plan(&config.expect("valid"), &state, providers);
        samples.push(t.elapsed());
        changes = planned.changes.iter().filter(|c| c.action != k8sinfra_engine::plan::Action::NoOp).count();
    }
    println!(
        "plan against a state of {} (read state + evaluate + diff) median {:>8.1?} of {runs}; {changes} changes, state {} KB",
        state.resources.len(),
        median(samples),
        bytes.len() / 1024
    );
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

#[path = "check/persistence.rs"]
mod persistence;
