//! `k8sinfra graph`: the resource dependency graph as Graphviz DOT. Edges
//! point from a resource to what it depends on, as in Terraform's graph.
//! With `--plan FILE`, each resource is coloured by what that saved plan
//! does to it, and the resources it destroys (no longer configured) are
//! drawn dashed with their old dependencies.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use k8sinfra_engine::plan::{Action, Plan};
use k8sinfra_engine::Config;
use k8sinfra_lang::SourceMap;

use crate::cli::GraphArgs;
use crate::report::Output;

pub fn run(args: &GraphArgs, out: &Output) -> bool {
    let plan = match &args.plan {
        Some(file) => match super::show::read(file, out) {
            Some(plan) => Some(plan),
            None => return false,
        },
        None => None,
    };
    let mut sources = SourceMap::new();
    let (config, diags) = super::load(&args.config, false, &mut sources);
    let ok = out.diagnostics(diags, &sources);
    if let (true, Some(config)) = (ok, config) {
        out.stdout(&dot(&config, plan.as_ref()));
    }
    ok
}

/// The graph in DOT, nodes and edges in address order.
pub fn dot(config: &Config, plan: Option<&Plan>) -> String {
    let mut s =
        String::from("digraph k8sinfra {\n  rankdir = \"RL\";\n  node [shape = box, fontname = \"Helvetica\"];\n");
    let actions: BTreeMap<&str, Action> =
        plan.map(|p| p.changes.iter().map(|c| (c.address.as_str(), c.action)).collect()).unwrap_or_default();
    for node in config.graph.nodes() {
        let address = node.to_string();
        match actions.get(address.as_str()) {
            Some(action) => {
                let _ = writeln!(s, "  {} [{}];", quote(&address), style(&address, *action));
            }
            None => {
                let _ = writeln!(s, "  {};", quote(&address));
            }
        }
    }
    for (from, to, ()) in config.graph.edges() {
        let _ = writeln!(s, "  {} -> {};", quote(&from.to_string()), quote(&to.to_string()));
    }
    for change in plan.iter().flat_map(|p| &p.changes).filter(|c| c.action == Action::Delete) {
        let _ = writeln!(
            s,
            "  {} [{}, style = \"dashed,filled\"];",
            quote(&change.address),
            style(&change.address, Action::Delete)
        );
        for dependency in &change.depends_on {
            let _ = writeln!(s, "  {} -> {} [style = dashed];", quote(&change.address), quote(dependency));
        }
    }
    s.push('}');
    s
}

/// A node's label and colour for the action planned for it.
fn style(address: &str, action: Action) -> String {
    let colour = match action {
        Action::Create => "palegreen",
        Action::Update => "lightgoldenrod",
        Action::Replace => "plum",
        Action::Delete => "lightpink",
        Action::NoOp => "white",
    };
    // The quoted address, its closing quote moved after a `\n` (DOT's
    // line break inside a label) and the action.
    let quoted = quote(address);
    let open = &quoted[..quoted.len() - 1];
    let label = format!("{open}\\n{} {}\"", action.symbol(), action.verb());
    format!("label = {label}, style = filled, fillcolor = {colour}")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
