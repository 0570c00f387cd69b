//! `k8sinfra show FILE`: a saved plan as text, as a pull-request comment
//! (markdown, in parts that each fit in one comment), or as JSON.

use k8sinfra_engine::plan::Plan;
use k8sinfra_engine::render::{plan_markdown, plan_text};
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

use crate::cli::{ShowArgs, ShowFormat};
use crate::report::Output;

/// Read a plan file; `None` after saying why it could not be.
pub fn read(path: &std::path::Path, out: &Output) -> Option<Plan> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            let (path, reason) = (path.display().to_string(), e.to_string());
            out.error(Diag::global(Refusal::PlanFile { action: "read", path, reason }));
            return None;
        }
    };
    match Plan::from_json(&text) {
        Ok(plan) => Some(plan),
        Err(e) => {
            out.error(Diag::global(e));
            None
        }
    }
}

pub fn run(args: &ShowArgs, out: &Output) -> bool {
    let Some(plan) = read(&args.file, out) else { return false };
    if out.json {
        out.result(serde_json::json!({ "plan": super::plan::plan_document(&plan) }));
        return true;
    }
    match args.format {
        ShowFormat::Text => out.stdout(plan_text(&plan, out.color).trim_end()),
        ShowFormat::Json => out.stdout(plan.to_json().trim_end()),
        ShowFormat::Markdown => {
            let parts = plan_markdown(&plan);
            let n = parts.len();
            for (i, part) in parts.iter().enumerate() {
                if n > 1 {
                    // One comment each: split on these lines.
                    out.stdout(&format!("<!-- k8sinfra plan: part {} of {n} -->", i + 1));
                }
                out.stdout(part.trim_end());
            }
        }
    }
    true
}
