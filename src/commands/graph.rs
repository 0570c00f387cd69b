//! `k8sinfra graph`: the resource dependency graph as Graphviz DOT. Edges
//! point from a resource to what it depends on, as in Terraform's graph.

use std::fmt::Write as _;

use k8sinfra_engine::Config;
use k8sinfra_lang::SourceMap;

use crate::cli::GraphArgs;
use crate::report::Output;

pub fn run(args: &GraphArgs, out: &Output) -> bool {
    let mut sources = SourceMap::new();
    let (config, diags) = super::load(&args.config, false, &mut sources);
    let ok = out.diagnostics(diags, &sources);
    if let (true, Some(config)) = (ok, config) {
        out.stdout(&dot(&config));
    }
    ok
}

/// The graph in DOT, nodes and edges in address order.
pub fn dot(config: &Config) -> String {
    let mut s =
        String::from("digraph k8sinfra {\n  rankdir = \"RL\";\n  node [shape = box, fontname = \"Helvetica\"];\n");
    for node in config.graph.nodes() {
        let _ = writeln!(s, "  {};", quote(&node.to_string()));
    }
    for (from, to, ()) in config.graph.edges() {
        let _ = writeln!(s, "  {} -> {};", quote(&from.to_string()), quote(&to.to_string()));
    }
    s.push('}');
    s
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
