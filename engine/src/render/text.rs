//! The terminal rendering of a plan, in the shape Terraform users know:
//! a block per resource with `+ ~ - -/+` symbols and attribute changes,
//! then `Plan: N to add, N to change, N to replace, N to destroy.`

use std::fmt::Write as _;

use crate::plan::{Action, AttrChange, Plan};

/// `Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.`
#[must_use]
pub fn summary(plan: &Plan) -> String {
    let c = plan.counts();
    format!("Plan: {} to add, {} to change, {} to replace, {} to destroy.", c.add, c.change, c.replace, c.destroy)
}

/// The whole plan as text; `color` adds ANSI colours to the symbols.
#[must_use]
pub fn plan_text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    if !plan.has_changes() {
        out.push_str("No changes. The infrastructure matches the configuration.\n");
        return out;
    }
    out.push_str("k8sinfra will perform these actions:\n");
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let paint = |s: &str| paint(s, change.action, color);
        let _ = writeln!(out, "\n  # {} will be {}", change.address, change.action.verb());
        let (type_name, name) = change
            .address
            .rsplit_once('.')
            .map_or(("", change.address.as_str()), |(t, n)| (t.rsplit('.').next().unwrap_or(t), n));
        let _ = writeln!(out, "  {} {type_name} {name} {{", paint(change.action.symbol()));
        let width = change.attrs.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for attr in &change.attrs {
            let _ = writeln!(out, "      {}", attr_line(attr, change.action, width, color));
        }
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "\n{}", summary(plan));
    out
}

fn attr_line(attr: &AttrChange, action: Action, width: usize, color: bool) -> String {
    let show = |v: &Option<serde_json::Value>| {
        v.as_ref().map_or_else(|| "(known after apply)".to_string(), ToString::to_string)
    };
    let name = format!("{:<width$}", attr.name);
    match action {
        Action::Create => format!("{} {name} = {}", paint("+", action, color), show(&attr.after)),
        Action::Delete => format!("{} {name} = {}", paint("-", action, color), show(&attr.before)),
        _ => {
            let note = if attr.forces_new { " # forces replacement" } else { "" };
            format!(
                "{} {name} = {} -> {}{note}",
                paint("~", Action::Update, color),
                show(&attr.before),
                show(&attr.after)
            )
        }
    }
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
