//! `k8sinfra validate`: every check that needs no cloud.

use k8sinfra_lang::SourceMap;

use crate::cli::ValidateArgs;
use crate::report::Output;

pub fn run(args: &ValidateArgs, out: &Output) -> bool {
    let mut sources = SourceMap::new();
    let (config, diags) = super::load(&args.config, false, &mut sources);
    let ok = out.diagnostics(diags, &sources);
    if let (true, Some(config)) = (ok, config) {
        let resources = config.resources.len();
        let outputs = config.outputs.len();
        out.success(&format!(
            "{} is valid: {resources} resource{}, {outputs} output{}.",
            args.config.dir.display(),
            if resources == 1 { "" } else { "s" },
            if outputs == 1 { "" } else { "s" }
        ));
        // The process ends next: freeing tens of thousands of small values
        // one by one would only delay the exit.
        std::mem::forget(config);
    }
    std::mem::forget(sources);
    ok
}
