//! `k8sinfra output`: the outputs recorded by the last apply. Sensitive
//! values are hidden in the listing and shown only when asked for by name.

use super::backend::report;
use super::session::open_state;

use crate::cli::OutputArgs;
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

pub fn run(args: &OutputArgs, out: &Output) -> bool {
    let Some(access) = open_state(&args.dir, out) else { return false };
    let state = match access.runtime.block_on(access.backend.load()) {
        Ok(s) => s,
        Err(e) => {
            report(e, out);
            return false;
        }
    };
    let value = |entry: &serde_json::Value| entry.get("value").cloned().unwrap_or(serde_json::Value::Null);
    let sensitive =
        |entry: &serde_json::Value| entry.get("sensitive").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if let Some(name) = &args.name {
        let Some(entry) = state.outputs.get(name) else {
            let known: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
            let hint = k8sinfra_lang::suggest::help(name, known.iter().copied()).unwrap_or_else(|| {
                if known.is_empty() {
                    "no outputs are recorded: run `k8sinfra apply` first".into()
                } else {
                    format!("outputs: {}", known.join(", "))
                }
            });
            out.error(Diag::global(Refusal::UnknownOutput { name: name.clone(), hint }));
            return false;
        };
        let v = value(entry);
        match (&v, out.json) {
            (_, true) => out.bare_result(v),
            (serde_json::Value::String(s), false) => out.stdout(s),
            _ => out.stdout(&v.to_string()),
        }
        return true;
    }
    if out.json {
        let shown: serde_json::Map<String, serde_json::Value> = state
            .outputs
            .iter()
            .map(|(k, e)| (k.clone(), serde_json::json!({ "value": if sensitive(e) { serde_json::Value::Null } else { value(e) }, "sensitive": sensitive(e) })))
            .collect();
        out.bare_result(serde_json::Value::Object(shown));
        return true;
    }
    for (name, entry) in &state.outputs {
        let shown = if sensitive(entry) { "(sensitive)".to_string() } else { value(entry).to_string() };
        out.stdout(&format!("{name} = {shown}"));
    }
    true
}
