//! The configuration's own outputs in a plan: which are new, changed or
//! gone against what the state recorded. An apply records them (other
//! stacks read them from the state), so a change to an output alone is a
//! change to apply, as in Terraform ("Changes to Outputs").

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::values::resolve_except;
use super::Action;
use crate::config::Config;
use crate::state::State;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    /// `create` (new), `update` or `delete` (gone from the configuration).
    pub action: Action,
    /// As recorded; `null` (present) when sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The value it will have; absent when known only after apply (or for
    /// a delete); `null` (present) when sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    #[serde(default)]
    pub sensitive: bool,
}

/// The outputs of `config` against those `recorded` in the state; `state`
/// (refreshed) resolves their references, and references to `remade`
/// resources (created or replaced by the plan) are known only after apply.
#[must_use]
pub fn changes(
    config: &Config,
    state: &State,
    recorded: &BTreeMap<String, serde_json::Value>,
    remade: &BTreeSet<String>,
) -> Vec<OutputChange> {
    let was = |name: &str| recorded.get(name).map(|r| r.get("value").cloned().unwrap_or(serde_json::Value::Null));
    let was_sensitive =
        |name: &str| recorded.get(name).and_then(|r| r.get("sensitive")).and_then(serde_json::Value::as_bool);
    let mut changes = Vec::new();
    for (name, output) in &config.outputs {
        let before = was(name);
        let after = resolve_except(&output.value, state, remade);
        let action = match (&before, &after) {
            (Some(b), Some(a)) if a == b => continue,
            // Recorded as unknown (an apply that stopped short) and still
            // unknown: nothing new to say.
            (Some(serde_json::Value::Null), None) => continue,
            (None, _) => Action::Create,
            _ => Action::Update,
        };
        let sensitive = output.sensitive || was_sensitive(name).unwrap_or(false);
        changes.push(OutputChange { name: name.clone(), action, before, after, sensitive }.redacted());
    }
    for name in recorded.keys().filter(|n| !config.outputs.contains_key(*n)) {
        let sensitive = was_sensitive(name).unwrap_or(false);
        let before = was(name);
        changes.push(
            OutputChange { name: name.clone(), action: Action::Delete, before, after: None, sensitive }.redacted(),
        );
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

impl OutputChange {
    fn redacted(mut self) -> Self {
        if self.sensitive {
            self.before = self.before.map(|_| serde_json::Value::Null);
            self.after = self.after.map(|_| serde_json::Value::Null);
        }
        self
    }
}
