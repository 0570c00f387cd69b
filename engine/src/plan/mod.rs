//! Plans: what `apply` would do, as actions on resource instances with the
//! attribute-level changes behind each. `diff` computes a plan from the
//! configuration and the (refreshed) state; rendering lives elsewhere and
//! only reads plans.

mod diff;
mod drift;
mod outputs;
mod refactor;
mod request;
mod saved;
mod upstream;
mod values;

use std::collections::BTreeMap;

use k8sinfra_lang::Value;

use crate::config::Rolling;
use serde::{Deserialize, Serialize};

pub use diff::{configured, plan, plan_with};
pub use drift::{drift, Drift};
pub use outputs::{changes as output_changes, OutputChange};
pub use refactor::{carry_out, Refactored};
pub use request::{matches as address_matches, refresh_only, targeted, Request};
pub use saved::{SavedPlanError, FORMAT_VERSION};
pub use upstream::{changes as upstream_changes, recorded as upstream_recorded, StackOutputs, UpstreamChange};
pub use values::resolve;

/// What happens to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
/// `None` after: known only after apply. A sensitive attribute's values
/// never enter a plan: they are null, and shown as `(sensitive)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrChange {
    pub name: String,
    /// Absent from JSON when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub before: Option<serde_json::Value>,
    /// Absent from JSON when known only after apply.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub after: Option<serde_json::Value>,
    /// Changing it is what forces the replacement.
    #[serde(rename = "forces_replacement")]
    pub forces_new: bool,
    #[serde(default)]
    pub sensitive: bool,
    /// When `after` is known only after apply: what is known of it already,
    /// for the reader (a block with one unknown part; the resource an
    /// unknown id comes from). Unknown parts are `{"unknown": true}`, with
    /// `"from": ADDRESS` when they are a resource's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_known: Option<serde_json::Value>,
}

/// A field that is there holds a value, even `null` (a sensitive one).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

impl AttrChange {
    /// Values blanked out if the attribute is sensitive; `None` (unknown)
    /// stays `None`.
    #[must_use]
    pub fn redacted(mut self) -> Self {
        if self.sensitive {
            self.before = self.before.map(|_| serde_json::Value::Null);
            self.after = self.after.map(|_| serde_json::Value::Null);
            self.after_known = None;
        }
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub action: Action,
    /// The cloud id, for changes to something that exists.
    pub id: Option<String>,
    /// Every attribute the plan shows: all of them for a create or a
    /// delete, the differing ones for an update or a replace.
    #[serde(rename = "attributes")]
    pub attrs: Vec<AttrChange>,
    /// The configured values, resolved again at apply time once the
    /// resources they refer to exist. Not saved with a plan: `apply FILE`
    /// plans again and requires the same changes.
    #[serde(skip)]
    pub config: BTreeMap<String, Value>,
    /// Addresses of resources this one depends on.
    pub depends_on: Vec<String>,
    /// Attributes that hold secrets: shown as `(sensitive)`, kept in the
    /// state as such.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Attributes under `lifecycle { ignore_changes }`: an update sends
    /// what the state holds for them, not the configuration (as Terraform
    /// does), so whatever else manages them is left alone.
    #[serde(skip)]
    pub ignore_changes: Vec<String>,
    /// For a replacement: create the new one before destroying the old
    /// (`lifecycle { create_before_destroy = true }`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// For a member of a group under `rolling_update`: the group, and how
    /// many of its members are replaced at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling: Option<RollingGroup>,
    /// The alias of the provider configuration that acts ("" for the
    /// provider's own block; absent from the JSON then).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
}

/// The group a replacement rolls with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollingGroup {
    /// The resource's address without its key (`instance.nodes`).
    pub group: String,
    #[serde(flatten)]
    pub settings: Rolling,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    /// In a stable order: by address.
    pub changes: Vec<Change>,
    /// What refresh found changed outside k8sinfra, by address.
    #[serde(default)]
    pub drift: Vec<Drift>,
    /// The state the plan was made against.
    pub lineage: String,
    pub serial: u64,
    /// Where the configuration is, for `apply FILE` (set when saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// What the user asked beyond the configuration (`--replace`,
    /// `--target`, `--refresh-only`).
    #[serde(default)]
    pub request: Request,
    /// What the configuration's `moved` and `removed` blocks did to the
    /// state before planning; applying the plan writes it.
    #[serde(default)]
    pub refactored: Refactored,
    /// Outputs of the stacks the configuration reads that changed since
    /// the last apply (news: what they change shows in `changes`).
    #[serde(default)]
    pub upstream: Vec<UpstreamChange>,
    /// The configuration's outputs that are new, changed or gone: an apply
    /// records them, so they alone make a plan worth applying.
    #[serde(default)]
    pub outputs: Vec<OutputChange>,
}

/// How many of each action a plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
}

impl Change {
    /// How the plan words a replacement's order: the new one first, and
    /// for a member of a rolling group, its turn (`turn` of `of`).
    #[must_use]
    pub fn replacement_note(&self, plan: &Plan) -> String {
        if self.action != Action::Replace {
            return String::new();
        }
        let asked = if plan.request.replaces(&self.address) { ", as requested" } else { "" };
        let Some(rolling) = &self.rolling else {
            let order = if self.create_before_destroy { ", the new one created first" } else { "" };
            return format!("{asked}{order}");
        };
        let mut members: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Replace && c.rolling.as_ref().is_some_and(|r| r.group == rolling.group))
            .map(|c| c.address.as_str())
            .collect();
        members.sort_by_key(|a| natural_order(a));
        let turn = members.iter().position(|a| *a == self.address).map_or(0, |i| i + 1);
        let Rolling { max_surge, max_unavailable } = rolling.settings;
        let how = if max_surge > 0 {
            format!("a new one up before an old one goes, {max_surge} at a time")
        } else {
            format!("at most {max_unavailable} down at a time")
        };
        format!("{asked}, rolling {turn} of {} ({how})", members.len())
    }
}

/// An address in the order people count, `nodes[2]` before `nodes[10]`:
/// the order rolling groups are replaced in.
#[must_use]
pub fn natural_order(address: &str) -> (usize, &str) {
    let index = address.rsplit_once('[').and_then(|(_, key)| key.trim_end_matches(']').parse::<usize>().ok());
    (index.unwrap_or(usize::MAX), address)
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
        self.changes.iter().any(|c| c.action != Action::NoOp) || !self.refactored.is_empty() || !self.outputs.is_empty()
    }

    /// Whether `other` would do exactly what this plan does: the same
    /// actions on the same addresses, with the same attribute changes.
    #[must_use]
    pub fn same_changes(&self, other: &Plan) -> bool {
        let acting = |p: &Plan| -> Vec<(String, Action, Vec<AttrChange>)> {
            p.changes
                .iter()
                .filter(|c| c.action != Action::NoOp)
                .map(|c| (c.address.clone(), c.action, c.attrs.clone()))
                .collect()
        };
        acting(self) == acting(other) && self.refactored == other.refactored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensitive_change_shows_no_value_and_no_known_part() {
        let change = AttrChange {
            name: "password".into(),
            before: Some(serde_json::json!("old secret")),
            after: None,
            forces_new: false,
            sensitive: true,
            after_known: Some(serde_json::json!({ "prefix": "new secret", "rest": { "unknown": true } })),
        }
        .redacted();
        assert_eq!((change.before, change.after, change.after_known), (Some(serde_json::Value::Null), None, None));
    }

    #[test]
    fn a_plan_survives_its_json_and_keeps_no_secret() {
        let plan = crate::render::sample_plan();
        let json = plan.to_json();
        for secret in [crate::render::sample::SECRET_BEFORE, crate::render::sample::SECRET_AFTER] {
            assert!(!json.contains(secret), "the saved plan holds a secret:\n{json}");
        }
        insta::assert_snapshot!(json);
        let back = Plan::from_json(&json).expect("reads back");
        assert!(back.same_changes(&plan));
        assert_eq!((back.lineage.as_str(), back.serial, back.drift.len()), (plan.lineage.as_str(), 3, 2));
        assert!(matches!(Plan::from_json("{}"), Err(SavedPlanError::NotAPlan(_))));
        let newer = json.replacen("\"format_version\": 1", "\"format_version\": 9", 1);
        assert!(matches!(Plan::from_json(&newer), Err(SavedPlanError::Unsupported { found: 9 })));
    }
}
