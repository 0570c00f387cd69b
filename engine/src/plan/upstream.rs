//! Upstream stacks: which outputs of the stacks a configuration reads
//! (`stack NAME { … }`) changed since its last apply recorded them. Their
//! consequences show as changes to what uses them; this says why, in the
//! plan a reviewer reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The outputs each stack's state holds now: stack → output → (value,
/// sensitive), as `Inputs::stacks` has them.
pub type StackOutputs = BTreeMap<String, BTreeMap<String, (serde_json::Value, bool)>>;

/// What a state records of the stacks it read: stack → output →
/// `{"value": …, "sensitive": …}` (the form of its own outputs).
pub type Recorded = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// An output of another stack that changed since the last apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamChange {
    pub stack: String,
    pub output: String,
    /// The value the last apply saw; absent for an output new since.
    /// `null` (present) for a sensitive one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The value now; absent for an output gone since, `null` when
    /// sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    #[serde(default)]
    pub sensitive: bool,
}

/// What to record of `current` at an apply.
#[must_use]
pub fn recorded(current: &StackOutputs) -> Recorded {
    current
        .iter()
        .map(|(stack, outputs)| {
            let outputs = outputs
                .iter()
                .map(|(name, (value, sensitive))| {
                    (name.clone(), serde_json::json!({ "value": value, "sensitive": sensitive }))
                })
                .collect();
            (stack.clone(), outputs)
        })
        .collect()
}

/// The outputs that differ between what the last apply recorded and
/// `current`, by stack and output. A stack never recorded (read for the
/// first time) has no news; a sensitive value is never copied out.
#[must_use]
pub fn changes(last: &Recorded, current: &StackOutputs) -> Vec<UpstreamChange> {
    let mut changes = Vec::new();
    for (stack, now) in current {
        let Some(then) = last.get(stack) else { continue };
        let names: std::collections::BTreeSet<&String> = then.keys().chain(now.keys()).collect();
        for name in names {
            let before = then.get(name);
            let after = now.get(name);
            let before_value = before.map(|r| r.get("value").cloned().unwrap_or(serde_json::Value::Null));
            let after_value = after.map(|(value, _)| value.clone());
            if before_value == after_value {
                continue;
            }
            let sensitive = after.is_some_and(|(_, s)| *s)
                || before.is_some_and(|r| r.get("sensitive").and_then(serde_json::Value::as_bool).unwrap_or(false));
            let hide = |v: Option<serde_json::Value>| if sensitive { v.map(|_| serde_json::Value::Null) } else { v };
            changes.push(UpstreamChange {
                stack: stack.clone(),
                output: name.clone(),
                before: hide(before_value),
                after: hide(after_value),
                sensitive,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn outputs(pairs: &[(&str, serde_json::Value, bool)]) -> StackOutputs {
        let map = pairs.iter().map(|(n, v, s)| ((*n).to_string(), (v.clone(), *s))).collect();
        BTreeMap::from([("network".to_string(), map)])
    }

    #[test]
    fn changed_added_and_removed_outputs_are_news_and_secrets_stay_hidden() {
        let then = outputs(&[("vpc_id", json!("vpc-1"), false), ("old", json!(1), false), ("key", json!("s1"), true)]);
        let last = recorded(&then);
        assert!(changes(&last, &then).is_empty(), "nothing moved");
        let now = outputs(&[("vpc_id", json!("vpc-2"), false), ("new", json!([1]), false), ("key", json!("s2"), true)]);
        let found = changes(&last, &now);
        let summary: Vec<(&str, Option<&serde_json::Value>, Option<&serde_json::Value>, bool)> =
            found.iter().map(|c| (c.output.as_str(), c.before.as_ref(), c.after.as_ref(), c.sensitive)).collect();
        assert_eq!(
            summary,
            [
                ("key", Some(&json!(null)), Some(&json!(null)), true),
                ("new", None, Some(&json!([1])), false),
                ("old", Some(&json!(1)), None, false),
                ("vpc_id", Some(&json!("vpc-1")), Some(&json!("vpc-2")), false),
            ]
        );
        assert!(found.iter().all(|c| c.stack == "network"));
        let text = serde_json::to_string(&found).expect("json");
        assert!(!text.contains("s1") && !text.contains("s2"), "{text}");
    }

    #[test]
    fn a_stack_read_for_the_first_time_has_no_news() {
        let now = outputs(&[("vpc_id", json!("vpc-2"), false)]);
        assert!(changes(&Recorded::new(), &now).is_empty());
    }
}
