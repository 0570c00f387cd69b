//! Plans: what `apply` would do, as actions on resource instances with the
//! attribute-level changes behind each. `diff` computes a plan from the
//! configuration and the (refreshed) state; rendering lives elsewhere and
//! only reads plans.

mod diff;
mod values;

use std::collections::BTreeMap;

use k8sinfra_lang::Value;

pub use diff::{configured, plan};
pub use values::resolve;

/// What happens to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Destroy, then create (the order flips with `create_before_destroy`).
    Replace,
    Delete,
}

impl Action {
    /// The symbol plans show, as in Terraform.
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    #[must_use]
    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "left unchanged",
            Action::Create => "created",
            Action::Update => "updated in place",
            Action::Replace => "replaced",
            Action::Delete => "destroyed",
        }
    }
}

/// One attribute's value before and after. `None` before: it had no value;
/// `None` after: known only after apply.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrChange {
    pub name: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// Changing it is what forces the replacement.
    pub forces_new: bool,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub address: String,
    pub type_name: String,
    pub action: Action,
    /// The cloud id, for changes to something that exists.
    pub id: Option<String>,
    /// Every attribute the plan shows: all of them for a create or a
    /// delete, the differing ones for an update or a replace.
    pub attrs: Vec<AttrChange>,
    /// The configured values, resolved again at apply time once the
    /// resources they refer to exist.
    pub config: BTreeMap<String, Value>,
    /// Addresses of resources this one depends on.
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// In a stable order: by address.
    pub changes: Vec<Change>,
    /// The state the plan was made against.
    pub lineage: String,
    pub serial: u64,
}

/// How many of each action a plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
}

impl Plan {
    /// Changes that would destroy (or replace) a resource the
    /// configuration protects with `prevent_destroy`.
    #[must_use]
    pub fn protected_destroys(&self, config: &crate::config::Config) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
            .filter(|c| config.by_address(&c.address).is_some_and(|r| r.lifecycle.prevent_destroy))
            .collect()
    }

    #[must_use]
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for change in &self.changes {
            match change.action {
                Action::Create => c.add += 1,
                Action::Update => c.change += 1,
                Action::Replace => c.replace += 1,
                Action::Delete => c.destroy += 1,
                Action::NoOp => {}
            }
        }
        c
    }

    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }
}
