//! `stack NAME { … }`: another configuration's state, read for its
//! outputs — the network a team applies, the cluster another one builds on
//! it. `stack.network.vpc_id` is that state's output `vpc_id`. The state
//! is read (never locked, never written) before evaluation; a sensitive
//! output stays sensitive here. The settings are a backend's: `path` for a
//! local file, or `bucket`, `key` and `region` for S3, and may use
//! `env.name`.
//!
//! ```text
//! stack network {
//!   bucket = "team-states"
//!   key    = "network/${env.name}/state.json"
//! }
//! ```

use std::collections::BTreeMap;

use k8sinfra_lang::syntax::ast::{Block, Ident};
use k8sinfra_lang::{Diagnostics, Type, Value};

use super::backend::{self, Backend};

/// A stack and where its state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub name: String,
    pub backend: Backend,
}

/// The stack's settings, checked: a local state when it names a `path`,
/// an S3 one otherwise.
pub fn check(name: &Ident, body: &Block, environment: Option<&str>, diags: &mut Diagnostics) -> Option<Stack> {
    let kind = if body.attribute("path").is_some() { "local" } else { "s3" };
    let kind = Ident { name: kind.into(), span: name.span };
    let backend = backend::settings(&kind, body, environment, diags)?;
    Some(Stack { name: name.name.clone(), backend })
}

/// What `stack.NAME` gives for each declared stack: its outputs as a map,
/// sensitive ones marked; all unknown for a stack not read.
#[must_use]
pub fn values<'a>(
    declared: impl Iterator<Item = &'a String>,
    read: &BTreeMap<String, BTreeMap<String, (serde_json::Value, bool)>>,
) -> BTreeMap<String, Value> {
    declared
        .map(|name| {
            let value = match read.get(name) {
                Some(outputs) => Value::Map(
                    outputs
                        .iter()
                        .map(|(output, (json, sensitive))| {
                            (output.clone(), super::evaluate::from_json(json).sensitive_if(*sensitive))
                        })
                        .collect(),
                ),
                None => Value::Unknown(Type::Any),
            };
            (name.clone(), value)
        })
        .collect()
}
