//! Reading the states of the stacks a configuration names (`stack NAME {
//! … }`): before it is evaluated, so `stack.NAME.OUTPUT` has the value
//! the other configuration's last apply recorded. Read only: no lock is
//! taken and nothing is written, so a plan here never waits for, or
//! disturbs, the team that owns the other state.

use std::collections::BTreeMap;
use std::path::Path;

use k8sinfra_engine::config::{Backend, Parsed};
use k8sinfra_engine::state::{Backend as _, LocalBackend};
use k8sinfra_lang::{Diag, Diagnostics};
use k8sinfra_providers::aws::state_s3::S3Backend;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum StackError {
    #[error("cannot read the state of stack `{name}` at {location}: {reason}")]
    #[diagnostic(
        code(stack::unreadable),
        help("check the stack's settings and your access to its state; nothing was changed")
    )]
    Unreadable { name: String, location: String, reason: String },
}

/// Each stack's outputs: value and whether it is sensitive.
pub type Outputs = BTreeMap<String, BTreeMap<String, (serde_json::Value, bool)>>;

/// The outputs of every stack `parsed` declares, its settings evaluated
/// for `environment`; a state that cannot be read is an error here.
pub fn read(parsed: &Parsed, dir: &Path, environment: Option<&str>, diags: &mut Diagnostics) -> Outputs {
    let stacks = parsed.stacks(environment);
    if stacks.is_empty() {
        return Outputs::new();
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return Outputs::new();
    };
    let mut read = Outputs::new();
    for stack in stacks {
        let (location, state) = runtime.block_on(async {
            match &stack.backend {
                Backend::LocalDefault => (String::new(), Err("no state named".to_string())),
                Backend::Local { path } => {
                    let backend = LocalBackend::at(dir.join(path));
                    (dir.join(path).display().to_string(), backend.load().await.map_err(|e| e.to_string()))
                }
                Backend::S3 { bucket, key, region } => {
                    let location = format!("s3://{bucket}/{key}");
                    match S3Backend::connect(bucket, key, region.clone(), None).await {
                        Ok(backend) => (location, backend.load().await.map_err(|e| e.to_string())),
                        Err(e) => (location, Err(e.to_string())),
                    }
                }
            }
        });
        match state {
            Ok(state) => {
                let outputs = state
                    .outputs
                    .iter()
                    .map(|(name, recorded)| {
                        let value = recorded.get("value").cloned().unwrap_or(serde_json::Value::Null);
                        let sensitive = recorded.get("sensitive").and_then(serde_json::Value::as_bool).unwrap_or(false);
                        (name.clone(), (value, sensitive))
                    })
                    .collect();
                read.insert(stack.name, outputs);
            }
            Err(reason) => diags.push(Diag::global(StackError::Unreadable { name: stack.name, location, reason })),
        }
    }
    read
}
