//! `k8sinfra env list`: the environments that have a state, found where
//! the backend keeps each one (`.k8sinfra/env/NAME/state.json` by default;
//! the `path` or `key` with `env.name` in it otherwise), the current one
//! marked.

use std::path::Path;

use k8sinfra_engine::config::{parse, ENV_MARK};
use k8sinfra_lang::SourceMap;
use k8sinfra_providers::aws::state_s3::S3Backend;

use crate::cli::{EnvArgs, EnvCommand};
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

pub fn run(args: &EnvArgs, out: &Output) -> bool {
    let EnvCommand::List { dir } = &args.command;
    let mut sources = SourceMap::new();
    let (parsed, diags) = parse(dir, crate::stdlib::FILES, &mut sources);
    let Some(parsed) = parsed else {
        out.diagnostics(diags, &sources);
        return false;
    };
    let folder = super::backend::config_dir(dir);
    let Some((kind, pattern)) = parsed.environment_pattern() else {
        out.error(Diag::global(Refusal::SharedBackend));
        return false;
    };
    let Some((prefix, suffix)) = pattern.split_once(ENV_MARK) else { return false };
    let mut names = match kind.as_str() {
        "local" => local(&folder, prefix, suffix),
        _ => match s3(&parsed, prefix, suffix) {
            Ok(names) => names,
            Err(e) => {
                out.error(Diag::global(Refusal::EnvironmentList { reason: e.to_string() }));
                return false;
            }
        },
    };
    // A configuration without a backend block keeps the default
    // environment's state where it always did.
    if kind == "local" && pattern.starts_with(".k8sinfra/env/") && folder.join(".k8sinfra/state.json").is_file() {
        names.push("default".into());
    }
    names.sort();
    names.dedup();
    let current = crate::environment::current().unwrap_or("default");
    for name in names {
        let mark = if name == current { "*" } else { " " };
        out.stdout(&format!("{mark} {name}"));
    }
    true
}

/// Environments with a state file: each name that, put in place of
/// `{env}`, names an existing file.
fn local(folder: &Path, prefix: &str, suffix: &str) -> Vec<String> {
    let joined = folder.join(prefix);
    let (parent, start) = if prefix.ends_with('/') || prefix.is_empty() {
        (joined, String::new())
    } else {
        let start = joined.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        (joined.parent().map(Path::to_path_buf).unwrap_or_default(), start)
    };
    let Ok(entries) = std::fs::read_dir(&parent) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&start)?;
            if let Some(below) = suffix.strip_prefix('/') {
                parent.join(&name).join(below).is_file().then(|| rest.to_string())
            } else {
                let env = rest.strip_suffix(suffix)?;
                entry.path().is_file().then(|| env.to_string())
            }
        })
        .filter(|env| !env.is_empty())
        .collect()
}

/// Environments with a state object: the keys under the pattern's prefix
/// that end with its suffix.
fn s3(parsed: &k8sinfra_engine::config::Parsed, prefix: &str, suffix: &str) -> Result<Vec<String>, String> {
    let (bucket, region) = parsed.s3_bucket().ok_or("the backend's bucket is not a literal")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let keys = runtime
        .block_on(async { S3Backend::connect(&bucket, prefix, region, None).await?.keys_under(prefix).await })
        .map_err(|e| e.to_string())?;
    Ok(keys
        .iter()
        .filter_map(|key| key.strip_prefix(prefix)?.strip_suffix(suffix))
        .filter(|env| !env.is_empty() && !env.contains('/'))
        .map(str::to_string)
        .collect())
}
