//! What a user asks of one plan beyond the configuration: resources to
//! replace although nothing changed (`--replace`), a part of the graph to
//! work on (`--target`), or only the drift refresh found, taken into the
//! state (`--refresh-only`). The request travels with the plan, so a
//! saved plan is applied under the same request, and rendering can say
//! what was asked.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Action, Plan};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Addresses replaced although the configuration did not change them:
    /// an instance (`instance.node[1]`) or every instance of a resource
    /// (`instance.node`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
    /// Only these (resource or module addresses) and what they depend on;
    /// for a destroy, these and what depends on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// No change to the cloud: the state takes what refresh found.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_only: bool,
}

impl Request {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Request::default()
    }

    /// Whether the user asked for `address` to be replaced.
    #[must_use]
    pub fn replaces(&self, address: &str) -> bool {
        self.replace.iter().any(|pattern| matches(pattern, address))
    }
}

/// Whether `pattern`, as a user writes an address, names `address`: the
/// instance itself, every instance of a resource (`instance.node` names
/// `instance.node[2]`), or everything in a module call
/// (`module.net` names `module.net.vpc.main` and `module.net["a"].vpc.main`).
#[must_use]
pub fn matches(pattern: &str, address: &str) -> bool {
    match address.strip_prefix(pattern) {
        Some(rest) => rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'),
        None => false,
    }
}

/// The plan cut down to its targets: each targeted change and every
/// change it depends on (through `depends_on`, transitively), or for a
/// destroy, every change that depends on it, since a resource cannot go
/// while something still uses it.
#[must_use]
pub fn targeted(mut plan: Plan, destroying: bool) -> Plan {
    let targets = &plan.request.targets;
    if targets.is_empty() {
        return plan;
    }
    let mut keep: BTreeSet<String> = plan
        .changes
        .iter()
        .filter(|c| targets.iter().any(|t| matches(t, &c.address)))
        .map(|c| c.address.clone())
        .collect();
    loop {
        let before = keep.len();
        for change in &plan.changes {
            if destroying {
                if change.depends_on.iter().any(|d| keep.contains(d)) {
                    keep.insert(change.address.clone());
                }
            } else if keep.contains(&change.address) {
                keep.extend(change.depends_on.iter().cloned());
            }
        }
        if keep.len() == before {
            break;
        }
    }
    plan.changes.retain(|c| keep.contains(&c.address));
    plan
}

/// A refresh-only plan: the drift stays, every change goes.
#[must_use]
pub fn refresh_only(mut plan: Plan) -> Plan {
    plan.changes.retain(|c| c.action == Action::NoOp);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, action: Action, depends_on: &[&str]) -> super::super::Change {
        super::super::Change {
            address: address.into(),
            type_name: "box".into(),
            action,
            id: None,
            attrs: Vec::new(),
            config: std::collections::BTreeMap::new(),
            depends_on: depends_on.iter().map(ToString::to_string).collect(),
            sensitive: Vec::new(),
            ignore_changes: Vec::new(),
            create_before_destroy: false,
            provider: String::new(),
            rolling: None,
        }
    }

    /// a <- b <- c, and d alone.
    fn chain(targets: &[&str]) -> Plan {
        Plan {
            changes: vec![
                change("box.a", Action::Create, &[]),
                change("box.b", Action::Update, &["box.a"]),
                change("box.c", Action::NoOp, &["box.b"]),
                change("box.d", Action::Delete, &[]),
            ],
            request: Request { targets: targets.iter().map(ToString::to_string).collect(), ..Request::default() },
            ..Plan::default()
        }
    }

    fn addresses(plan: &Plan) -> Vec<&str> {
        plan.changes.iter().map(|c| c.address.as_str()).collect()
    }

    #[test]
    fn a_target_keeps_what_it_needs_and_a_destroy_target_what_needs_it() {
        assert_eq!(addresses(&targeted(chain(&["box.b"]), false)), ["box.a", "box.b"]);
        assert_eq!(addresses(&targeted(chain(&["box.c"]), false)), ["box.a", "box.b", "box.c"], "transitively");
        assert_eq!(addresses(&targeted(chain(&["box.b"]), true)), ["box.b", "box.c"]);
        assert_eq!(addresses(&targeted(chain(&["box.a"]), true)), ["box.a", "box.b", "box.c"], "transitively");
        assert_eq!(addresses(&targeted(chain(&[]), false)).len(), 4, "no target: everything");
        assert_eq!(addresses(&refresh_only(chain(&[]))), ["box.c"], "no change but the drift");
        let asked = Request { replace: vec!["box.a".into()], ..Request::default() };
        assert!(asked.replaces("box.a") && !asked.replaces("box.b") && !asked.is_empty());
        assert!(Request::default().is_empty());
    }

    #[test]
    fn a_pattern_names_an_instance_a_resource_or_a_module() {
        assert!(matches("vpc.main", "vpc.main"));
        assert!(matches("instance.node", "instance.node[2]"));
        assert!(matches("instance.node[2]", "instance.node[2]"));
        assert!(!matches("instance.node[2]", "instance.node[20]"));
        assert!(!matches("instance.node", "instance.nodes"));
        assert!(matches("module.net", "module.net.vpc.main"));
        assert!(matches("module.net", "module.net[\"a\"].vpc.main"));
        assert!(!matches("module.net", "module.network.vpc.main"));
    }
}
