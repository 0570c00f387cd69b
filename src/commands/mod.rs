//! One module per verb.

pub mod apply;
mod backend;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod init;
pub mod output;
pub mod plan;
mod session;
pub mod show;
pub mod state;
pub mod validate;

use k8sinfra_engine::config::{load_and_evaluate, Config, LoadOptions};
use k8sinfra_lang::{Diagnostics, SourceMap};

use crate::cli::ConfigArgs;

/// Load, evaluate and check the configuration a verb names.
pub fn load(args: &ConfigArgs, require_inputs: bool, sources: &mut SourceMap) -> (Option<Config>, Diagnostics) {
    load_known(args, require_inputs, None, sources)
}

/// The same, with attributes the cloud reported filling in values that are
/// otherwise known only after apply.
pub fn load_known(
    args: &ConfigArgs,
    require_inputs: bool,
    known: Option<&std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>>>,
    sources: &mut SourceMap,
) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let inputs = crate::vars::collect(args, sources, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    let providers = k8sinfra_providers::all();
    let options = LoadOptions { stdlib: crate::stdlib::FILES, inputs: &inputs, require_inputs, known };
    let (config, more) = load_and_evaluate(&args.dir, &options, &providers, sources);
    diags.extend(more);
    (config, diags)
}
