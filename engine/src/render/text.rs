//! The terminal rendering of a plan, in the shape Terraform users know:
//! a block per resource with `+ ~ - -/+` symbols and attribute changes,
//! values in the language's own syntax, multi-line text (user data) as a
//! line diff, then `Plan: N to add, N to change, N to replace, N to destroy.`

use std::fmt::Write as _;

use crate::plan::{Action, AttrChange, OutputChange, Plan, UpstreamChange};

/// `Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.`
#[must_use]
pub fn summary(plan: &Plan) -> String {
    let c = plan.counts();
    let refactored = &plan.refactored;
    let state_only = if refactored.is_empty() {
        String::new()
    } else {
        format!(" State only: {} moved, {} forgotten.", refactored.moved.len(), refactored.removed.len())
    };
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy.{state_only}",
        c.add, c.change, c.replace, c.destroy
    )
}

/// The whole plan as text; `color` adds ANSI colours to the symbols.
#[must_use]
pub fn plan_text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    if !plan.upstream.is_empty() {
        out.push_str("Outputs of the stacks this configuration reads, changed since the last apply:\n");
        for change in &plan.upstream {
            let _ = writeln!(out, "\n  # {}", upstream_line(change));
        }
        out.push('\n');
    }
    if !plan.drift.is_empty() {
        out.push_str("Changes outside k8sinfra since the last apply, found by refresh:\n");
        for drift in &plan.drift {
            if drift.deleted {
                let _ = writeln!(out, "\n  # {} has been deleted", drift.address);
                continue;
            }
            let _ = writeln!(out, "\n  # {} has changed", drift.address);
            let _ = writeln!(out, "  {} {} {{", paint("~", Action::Update, color), header(&drift.address));
            let width = drift.attrs.iter().map(|a| a.name.len()).max().unwrap_or(0);
            for attr in &drift.attrs {
                let _ = writeln!(out, "      {}", attr_line(attr, Action::Update, width, color));
            }
            let _ = writeln!(out, "    }}");
        }
        out.push('\n');
    }
    if plan.request.refresh_only {
        out.push_str(if plan.drift.is_empty() {
            "No changes. The state matches what exists.\n"
        } else {
            "Refresh only: nothing in the cloud changes. Applying this plan makes the state take what refresh \
             found above.\n"
        });
        return out;
    }
    if let Some(warning) = targeted_warning(plan) {
        out.push_str(&warning);
    }
    if !plan.refactored.is_empty() {
        out.push_str("The configuration's `moved` and `removed` blocks change only the state:\n");
        for (from, to) in &plan.refactored.moved {
            let _ = writeln!(out, "\n  # {from} has moved to {to}");
        }
        for address in &plan.refactored.removed {
            let _ = writeln!(out, "\n  # {address} will be forgotten: it leaves the state and stays in the cloud");
        }
        out.push('\n');
    }
    if !plan.has_changes() {
        out.push_str("No changes. The infrastructure matches the configuration.\n");
        return out;
    }
    if plan.changes.iter().any(|c| c.action != Action::NoOp) {
        out.push_str("k8sinfra will perform these actions:\n");
    }
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let paint = |s: &str| paint(s, change.action, color);
        let note = change.replacement_note(plan);
        let _ = writeln!(out, "\n  # {} will be {}{note}", change.address, change.action.verb());
        let _ = writeln!(out, "  {} {} {{", paint(change.action.symbol()), header(&change.address));
        let width = change.attrs.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for attr in &change.attrs {
            let _ = writeln!(out, "      {}", attr_line(attr, change.action, width, color));
        }
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "\n{}", summary(plan));
    if !plan.outputs.is_empty() {
        out.push_str("\nChanges to outputs:\n");
        let width = plan.outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
        for output in &plan.outputs {
            let _ = writeln!(out, "  {}", output_line(output, width, color));
        }
    }
    out
}

/// `+ tier = "gold"`, `~ cidr = "10.0.0.0/16" -> (known after apply)`,
/// `- old = 1`; a sensitive value is `(sensitive)`.
fn output_line(output: &OutputChange, width: usize, color: bool) -> String {
    let value = |v: &Option<serde_json::Value>| match v {
        Some(_) if output.sensitive => "(sensitive)".to_string(),
        Some(v) => dsl(v),
        None => "(known after apply)".to_string(),
    };
    let name = format!("{:width$}", output.name);
    let symbol = paint(output.action.symbol(), output.action, color);
    match output.action {
        Action::Create => format!("{symbol} {name} = {}", value(&output.after)),
        Action::Delete => format!("{symbol} {name} = {}", value(&output.before)),
        _ => format!("{symbol} {name} = {} -> {}", value(&output.before), value(&output.after)),
    }
}

/// `stack.network.vpc_id: "vpc-1" -> "vpc-2"`, `… (sensitive)`, `… added
/// "x"`, `… removed`.
#[must_use]
pub fn upstream_line(change: &UpstreamChange) -> String {
    let name = format!("stack.{}.{}", change.stack, change.output);
    let value = |v: &serde_json::Value| if change.sensitive { "(sensitive)".to_string() } else { dsl(v) };
    match (&change.before, &change.after) {
        (Some(_), Some(_)) if change.sensitive => format!("{name}: (sensitive) changed"),
        (Some(before), Some(after)) => format!("{name}: {} -> {}", value(before), value(after)),
        (None, Some(after)) => format!("{name}: added, {}", value(after)),
        (Some(_), None) => format!("{name}: removed"),
        (None, None) => name,
    }
}

/// For a plan cut to `--target`: what was planned, and that the rest was
/// left out (a later full plan shows it).
#[must_use]
pub fn targeted_warning(plan: &Plan) -> Option<String> {
    let targets = &plan.request.targets;
    if targets.is_empty() {
        return None;
    }
    Some(format!(
        "Warning: targeted plan: only {} and what {} on; the rest of the configuration was left out, and \
         any change it needs waits for a plan without --target.\n\n",
        targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
        if targets.len() == 1 { "it depends" } else { "they depend" },
    ))
}

/// One resource of the state, as `k8sinfra state show` prints it: the
/// language's syntax, names aligned, multi-line text as a heredoc.
#[must_use]
/// A resource as the state holds it, sensitive attributes (`sensitive`
/// names them) shown as `(sensitive)`.
pub fn resource_text(
    address: &str,
    attrs: &std::collections::BTreeMap<String, serde_json::Value>,
    sensitive: impl Fn(&str) -> bool,
) -> String {
    let mut out = format!("# {address}\n{} {{\n", header(address));
    let width = attrs.keys().map(String::len).max().unwrap_or(0);
    for (name, value) in attrs {
        if sensitive(name) && !value.is_null() {
            let _ = writeln!(out, "  {name:<width$} = (sensitive)");
            continue;
        }
        let shown = match value.as_str().filter(|s| s.contains('\n')) {
            Some(text) => heredoc(text, None),
            None => dsl(value),
        };
        let _ = writeln!(out, "  {name:<width$} = {shown}");
    }
    out.push_str("}\n");
    out
}

/// `TYPE NAME` of an address (`module.net.subnet.public["a"]` →
/// `subnet public["a"]`).
pub(super) fn header(address: &str) -> String {
    let (type_name, name) =
        address.rsplit_once('.').map_or(("", address), |(t, n)| (t.rsplit('.').next().unwrap_or(t), n));
    format!("{type_name} {name}")
}

pub(super) fn attr_line(attr: &AttrChange, action: Action, width: usize, color: bool) -> String {
    let name = format!("{:<width$}", attr.name);
    let note = if attr.forces_new { " # forces replacement" } else { "" };
    if attr.sensitive {
        let symbol = match action {
            Action::Create => "+",
            Action::Delete => "-",
            _ => "~",
        };
        return format!("{} {name} = (sensitive){note}", paint(symbol, action, color));
    }
    fn text(v: &Option<serde_json::Value>) -> Option<&str> {
        v.as_ref().and_then(serde_json::Value::as_str).filter(|s| s.contains('\n'))
    }
    match action {
        Action::Create | Action::Delete => {
            let (symbol, value) = if action == Action::Create { ("+", &attr.after) } else { ("-", &attr.before) };
            match text(value) {
                Some(s) => format!("{} {name} = {}", paint(symbol, action, color), heredoc(s, None)),
                None if action == Action::Create => {
                    format!("{} {name} = {}", paint(symbol, action, color), show_after(attr))
                }
                None => format!("{} {name} = {}", paint(symbol, action, color), show(value)),
            }
        }
        _ if text(&attr.before).is_some() || text(&attr.after).is_some() => {
            let before = attr.before.as_ref().and_then(serde_json::Value::as_str).unwrap_or_default();
            let after = attr.after.as_ref().and_then(serde_json::Value::as_str).unwrap_or_default();
            format!("{} {name} = {}{note}", paint("~", Action::Update, color), heredoc(after, Some(before)))
        }
        _ => format!(
            "{} {name} = {} -> {}{note}",
            paint("~", Action::Update, color),
            show(&attr.before),
            show_after(attr)
        ),
    }
}

/// A value in the language's own syntax, or `(known after apply)`.
fn show(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map_or_else(|| "(known after apply)".to_string(), dsl)
}

/// The value after, or what is known of it: a block with its known parts,
/// an unknown id with the resource it comes from.
fn show_after(attr: &AttrChange) -> String {
    match (&attr.after, &attr.after_known) {
        (None, Some(parts)) => dsl(parts),
        _ => show(&attr.after),
    }
}

fn dsl(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::String(s) => k8sinfra_lang::value::quote(s),
        J::Array(items) => format!("[{}]", items.iter().map(dsl).collect::<Vec<_>>().join(", ")),
        J::Object(map) if map.is_empty() => "{}".into(),
        // A part known only after apply (see `AttrChange::after_known`).
        J::Object(map) if map.get("unknown") == Some(&J::Bool(true)) => match map.get("from").and_then(J::as_str) {
            Some(from) => format!("{from} (known after apply)"),
            None => "(known after apply)".into(),
        },
        J::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    let key = if plain { k.clone() } else { k8sinfra_lang::value::quote(k) };
                    format!("{key} = {}", dsl(v))
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        other => other.to_string(),
    }
}

/// Multi-line text as a heredoc; with `before`, as a line diff of the two.
fn heredoc(after: &str, before: Option<&str>) -> String {
    let mut out = String::from("<<EOT\n");
    match before {
        None => {
            for line in after.lines() {
                let _ = writeln!(out, "            {line}");
            }
        }
        Some(before) => {
            for change in similar::TextDiff::from_lines(before, after).iter_all_changes() {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                let _ = writeln!(out, "          {sign} {}", change.value().trim_end_matches('\n'));
            }
        }
    }
    out.push_str("        EOT");
    out
}

fn paint(s: &str, action: Action, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match action {
        Action::Create => "32",
        Action::Delete => "31",
        Action::Update => "33",
        Action::Replace => "35",
        Action::NoOp => "0",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_like_the_language() {
        let text = plan_text(&super::super::sample::plan(), false);
        for secret in [super::super::sample::SECRET_BEFORE, super::super::sample::SECRET_AFTER] {
            assert!(!text.contains(secret), "{text}");
        }
        insta::assert_snapshot!(text);
    }
}
