//! `k8sinfra`: the command line. Parses arguments, runs one verb, renders
//! its diagnostics, and turns the outcome into an exit code: 0 on success,
//! 1 when anything is wrong.

mod cli;
mod commands;
mod environment;
mod progress;
mod refusal;
mod report;
mod stdlib;
mod vars;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc: a configuration of thousands of resources is tens of
/// thousands of small maps and strings; the system allocator spent a
/// tenth of `validate` in malloc/free on the 10,000-resource benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse().normalized();
    // Configurations are checked on a thread with a generous stack: the
    // parser bounds nesting, but an evaluator walking a deep (legal) tree
    // should never meet the main thread's small default stack.
    let worker =
        std::thread::Builder::new().name("k8sinfra".into()).stack_size(256 * 1024 * 1024).spawn(move || run(&cli));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        _ => ExitCode::from(1),
    }
}

fn run(cli: &cli::Cli) -> ExitCode {
    let mut out = report::Output::new(cli.color, cli.json);
    if let Err(message) = environment::set(cli.env.as_deref()) {
        out.stderr(&format!("{message}\n"));
        out.finish(false);
        return ExitCode::from(1);
    }
    let (lint, stats) = cli.run_flags();
    out.deny_warnings = lint.deny_warnings;
    let code = match &cli.command {
        cli::Command::Validate(args) => u8::from(!commands::validate::run(args, &out)),
        cli::Command::Fmt(args) => u8::from(!commands::fmt::run(args, &out)),
        cli::Command::Graph(args) => u8::from(!commands::graph::run(args, &out)),
        cli::Command::Plan(args) => commands::plan::run(args, &out),
        cli::Command::Apply(args) => u8::from(!commands::apply::run(args, &out, false)),
        cli::Command::Destroy(args) => u8::from(!commands::apply::run(args, &out, true)),
        cli::Command::Output(args) => u8::from(!commands::output::run(args, &out)),
        cli::Command::Show(args) => u8::from(!commands::show::run(args, &out)),
        cli::Command::Init(args) => u8::from(!commands::init::run(args, &out)),
        cli::Command::ForceUnlock(args) => u8::from(!commands::init::force_unlock(args, &out)),
        cli::Command::State(args) => u8::from(!commands::state::run(args, &out)),
        cli::Command::Import(args) => u8::from(!commands::import::run(args, &out)),
        cli::Command::Env(args) => u8::from(!commands::env::run(args, &out)),
    };
    out.finish(code != 1);
    if stats.call_stats {
        out.stderr(&k8sinfra_providers::aws::calls::render(&k8sinfra_providers::aws::calls::table()));
    }
    ExitCode::from(code)
}
