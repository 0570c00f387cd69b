//! Input values for the root module, from (lowest to highest precedence)
//! `K8SINFRA_VAR_name` environment variables, `--var-file` files and `--var`
//! flags.

use k8sinfra_engine::config::{InputValue, Inputs};
use k8sinfra_lang::syntax::parse_vars;
use k8sinfra_lang::{Diag, Diagnostics, SourceMap};
use miette::Diagnostic;
use thiserror::Error;

use crate::cli::ConfigArgs;

pub const ENV_PREFIX: &str = "K8SINFRA_VAR_";

#[derive(Debug, Error, Diagnostic)]
pub enum VarError {
    #[error("`--var {0}` is not of the form NAME=VALUE")]
    #[diagnostic(code(cli::var), help("for example `--var region=us-east-1` or `--var 'zones=[\"us-east-1a\"]'`"))]
    Malformed(String),

    #[error("cannot read the vars file {path}: {reason}")]
    #[diagnostic(code(cli::var_file))]
    Unreadable { path: String, reason: String },
}

pub fn collect(args: &ConfigArgs, sources: &mut SourceMap, diags: &mut Diagnostics) -> Inputs {
    let mut inputs = Inputs { environment: crate::environment::current().map(str::to_string), ..Inputs::default() };
    let mut env: Vec<(String, String)> =
        std::env::vars().filter_map(|(k, v)| k.strip_prefix(ENV_PREFIX).map(|n| (n.to_string(), v))).collect();
    env.sort();
    for (name, value) in env {
        let origin = format!("{ENV_PREFIX}{name}");
        inputs.values.insert(name, InputValue::Text(value, origin));
    }
    // `vars/NAME.vars` beside the configuration, for `--env NAME`: read
    // first, so the files and flags given win over it.
    let per_environment = crate::environment::current()
        .map(|name| crate::commands::config_folder(&args.dir).join("vars").join(format!("{name}.vars")))
        .filter(|path| path.is_file());
    for path in per_environment.iter().chain(&args.var_files) {
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                diags.push(Diag::global(VarError::Unreadable {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }));
                continue;
            }
        };
        let text = match k8sinfra_lang::syntax::parse_bytes(&text) {
            Ok(t) => t.to_string(),
            Err(e) => {
                let id = sources.add(path.display().to_string(), String::from_utf8_lossy(&text).to_string());
                diags.push(Diag::new(id, e));
                continue;
            }
        };
        let id = sources.add(path.display().to_string(), text.clone());
        match parse_vars(id, &text) {
            Ok(assignments) => {
                for (name, expr) in assignments {
                    inputs.values.insert(name.name, InputValue::Expr(expr));
                }
            }
            Err(errors) => errors.into_iter().for_each(|e| diags.push(Diag::new(id, e))),
        }
    }
    for var in &args.vars {
        match var.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                let name = name.trim().to_string();
                inputs.values.insert(name.clone(), InputValue::Text(value.to_string(), format!("--var {name}")));
            }
            _ => diags.push(Diag::global(VarError::Malformed(var.clone()))),
        }
    }
    inputs
}
