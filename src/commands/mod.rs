//! One module per verb.

pub mod apply;
mod backend;
pub mod env;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod init;
mod modules;
pub mod output;
pub mod plan;
mod session;
pub mod show;
mod stacks;
pub mod state;
pub mod validate;

use k8sinfra_engine::config::{check_what_parsed, load_and_evaluate, Config, LoadOptions, ParseOutcome};
use k8sinfra_lang::{Diagnostics, SourceMap};

use crate::cli::ConfigArgs;

/// The folder a configuration argument names (a file's parent folder).
#[must_use]
pub fn config_folder(path: &std::path::Path) -> std::path::PathBuf {
    backend::config_dir(path)
}

/// Load, evaluate and check the configuration a verb names.
pub fn load(args: &ConfigArgs, require_inputs: bool, sources: &mut SourceMap) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let inputs = crate::vars::collect(args, sources, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    let providers = k8sinfra_providers::all();
    let options = LoadOptions { stdlib: crate::stdlib::FILES, inputs: &inputs, require_inputs, known: None };
    let (config, more) = load_and_evaluate(&args.dir, &options, &providers, sources);
    diags.extend(more);
    (config, diags)
}

/// What a plan keeps of its configuration to evaluate it again with what
/// the cloud reported, without reading or parsing it twice.
pub struct Loaded {
    pub parsed: k8sinfra_engine::config::Parsed,
    pub sources: SourceMap,
    pub inputs: k8sinfra_engine::Inputs,
}

impl Loaded {
    /// The configuration, with `known` filling in values the cloud chose.
    pub fn evaluate(
        &self,
        known: &dyn k8sinfra_engine::config::Known,
        providers: &k8sinfra_engine::Providers,
    ) -> Option<Config> {
        let options = LoadOptions {
            stdlib: crate::stdlib::FILES,
            inputs: &self.inputs,
            require_inputs: true,
            known: Some(known),
        };
        let mut sources = self.sources.clone();
        k8sinfra_engine::config::evaluate_parsed(&self.parsed, &options, providers, &mut sources).0
    }
}

/// `load`, keeping what `Loaded` needs. `known`, given the parsed
/// configuration, may supply what a state already knows, so that this
/// evaluation is the one a plan uses.
pub fn load_kept(
    args: &ConfigArgs,
    require_inputs: bool,
    sources: &mut SourceMap,
    known: impl FnOnce(&k8sinfra_engine::config::Parsed) -> Option<k8sinfra_engine::state::State>,
) -> (Option<(Config, Loaded, Option<k8sinfra_engine::state::State>)>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut inputs = crate::vars::collect(args, sources, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    let providers = k8sinfra_providers::all();
    let (outcome, more) = k8sinfra_engine::config::parse_outcome(&args.dir, crate::stdlib::FILES, sources);
    diags.extend(more);
    let parsed = match outcome {
        ParseOutcome::Whole(parsed) => parsed,
        ParseOutcome::Partial(parsed, broken) => {
            let options = LoadOptions { stdlib: crate::stdlib::FILES, inputs: &inputs, require_inputs, known: None };
            diags.extend(check_what_parsed(&parsed, &broken, &options, &providers, sources));
            return (None, diags);
        }
        ParseOutcome::Nothing => return (None, diags),
    };
    // The stacks' outputs, for a plan (a destroy needs none of them).
    if require_inputs {
        let dir = backend::config_dir(&args.dir);
        inputs.stacks = stacks::read(&parsed, &dir, crate::environment::current(), &mut diags);
        if diags.has_errors() {
            return (None, diags);
        }
    }
    let state = known(&parsed);
    let known = state.as_ref().map(|s| s as &dyn k8sinfra_engine::config::Known);
    let options = LoadOptions { stdlib: crate::stdlib::FILES, inputs: &inputs, require_inputs, known };
    let (config, more) = k8sinfra_engine::config::evaluate_parsed(&parsed, &options, &providers, sources);
    diags.extend(more);
    let kept = config.map(|c| (c, Loaded { parsed, sources: sources.clone(), inputs }, state));
    (kept, diags)
}
