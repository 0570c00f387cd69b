//! `k8sinfra plan`: read what exists, compare, and show what `apply`
//! would do. Changes nothing.

use k8sinfra_engine::render::plan_text;

use super::backend::Locking;
use super::session::{self, report, Session};
use crate::cli::PlanArgs;
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

/// The exit code: 0 fine (or no changes with --detailed-exitcode), 1 error,
/// 2 changes (with --detailed-exitcode).
pub fn run(args: &PlanArgs, out: &Output) -> u8 {
    let Some(session) = session::open(&args.config, out, false) else { return 1 };
    let locking = Locking { enabled: args.lock.enabled, timeout: args.lock.timeout };
    session.locked("plan", locking, out, || planned(&session, args, out)).unwrap_or(1)
}

fn planned(session: &Session, args: &PlanArgs, out: &Output) -> u8 {
    let Some(state) = session.load_state(out) else { return 1 };
    let request = args.request.to_request();
    if !session.check_request(&request, &state, args.refresh, "plan", out) {
        return 1;
    }
    let planned = session.runtime.block_on(session.plan(&state, args.refresh, false, &request));
    let (_, mut plan) = match planned {
        Ok(p) => p,
        Err(e) => {
            report(e, out);
            return 1;
        }
    };
    // `--refresh=false` reads nothing from the cloud, images included:
    // an offline plan must work offline. `apply` always checks.
    if args.refresh && !session.verified(&plan, out) {
        return 1;
    }
    if out.json {
        out.result(serde_json::json!({ "plan": plan_document(&plan), "has_changes": plan.has_changes() }));
    } else {
        out.stdout(plan_text(&plan, out.color).trim_end());
    }
    if !session.allowed(&plan, out) {
        return 1;
    }
    if let Some(file) = &args.out {
        let dir = super::backend::config_dir(&args.config.dir);
        plan.configuration = Some(std::fs::canonicalize(&dir).unwrap_or(dir).display().to_string());
        if let Err(e) = save(file, &plan.to_json()) {
            let (path, reason) = (file.display().to_string(), e.to_string());
            out.error(Diag::global(Refusal::PlanFile { action: "save", path, reason }));
            return 1;
        }
        out.stderr(&format!(
            "\nSaved the plan to {f}. `k8sinfra show {f}` shows it; `k8sinfra apply {f}` carries it out.\n",
            f = file.display()
        ));
    }
    if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    }
}

/// The plan as its saved file has it (docs/plan-json.md), for `--json`.
pub fn plan_document(plan: &k8sinfra_engine::plan::Plan) -> serde_json::Value {
    serde_json::from_str(&plan.to_json()).unwrap_or_default()
}

/// Written whole or not at all: a temporary file renamed over.
fn save(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
