//! One plan with every kind of change, for the renderers' snapshots.

use std::collections::BTreeMap;

use serde_json::json;

use crate::plan::{Action, AttrChange, Change, Drift, Plan};

/// The secret values the sample's sensitive change had before redaction:
/// nothing rendered from the sample may contain them.
pub const SECRET_BEFORE: &str = "token-before-s3cr3t";
pub const SECRET_AFTER: &str = "token-after-s3cr3t";

fn change(address: &str, action: Action, attrs: Vec<AttrChange>) -> Change {
    Change {
        address: address.into(),
        type_name: address.split('.').next().unwrap_or_default().into(),
        action,
        id: (action != Action::Create).then(|| format!("id-of-{address}")),
        attrs,
        config: Default::default(),
        depends_on: vec![],
        sensitive: Vec::new(),
        create_before_destroy: false,
        provider: String::new(),
        rolling: None,
        ignore_changes: Vec::new(),
    }
}

fn attr(
    name: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    forces_new: bool,
) -> AttrChange {
    AttrChange { name: name.into(), before, after, forces_new, sensitive: false, after_known: None }
}

pub fn plan() -> Plan {
    Plan {
        changes: vec![
            change(
                "vpc.main",
                Action::Create,
                vec![
                    attr("cidr", None, Some(json!("10.0.0.0/16")), false),
                    attr("id", None, None, false),
                    attr("tags", None, Some(json!({"Project": "k8s", "kubernetes.io/role/elb": "1"})), false),
                ],
            ),
            change(
                "route_table.private",
                Action::Create,
                vec![
                    AttrChange {
                        after_known: Some(json!([{ "cidr": "0.0.0.0/0", "nat_gateway": { "unknown": true } }])),
                        ..attr("route", None, None, false)
                    },
                    AttrChange {
                        after_known: Some(json!({ "unknown": true, "from": "vpc.main" })),
                        ..attr("vpc", None, None, false)
                    },
                ],
            ),
            change(
                "subnet.a",
                Action::Replace,
                vec![attr("cidr", Some(json!("10.0.1.0/24")), Some(json!("10.0.9.0/24")), true)],
            ),
            change(
                "instance.web",
                Action::Update,
                vec![
                    attr("type", Some(json!("t2.nano")), Some(json!("t2.small")), false),
                    attr(
                        "user_data",
                        Some(json!("#!/bin/sh\necho one\nexit 0\n")),
                        Some(json!("#!/bin/sh\necho two\nexit 0\n")),
                        false,
                    ),
                ],
            ),
            change(
                "s3_object.token",
                Action::Update,
                // As the planner makes it: real values, then redacted.
                vec![AttrChange {
                    name: "content".into(),
                    before: Some(json!(SECRET_BEFORE)),
                    after: Some(json!(SECRET_AFTER)),
                    forces_new: false,
                    sensitive: true,
                    after_known: None,
                }
                .redacted()],
            ),
            change("subnet.old", Action::Delete, vec![attr("zone", Some(json!("us-east-1a")), None, false)]),
            change("vpc.same", Action::NoOp, vec![]),
        ],
        drift: vec![
            Drift {
                address: "security_group.web".into(),
                type_name: "security_group".into(),
                deleted: false,
                attrs: vec![attr("description", Some(json!("web")), Some(json!("edited by hand")), false)],
            },
            Drift { address: "dns_record.www".into(), type_name: "dns_record".into(), deleted: true, attrs: vec![] },
        ],
        lineage: "18eb6bd8ec5fd292-4cac".into(),
        serial: 3,
        configuration: None,
        request: crate::plan::Request::default(),
        refactored: crate::plan::Refactored::default(),
        upstream: upstream(),
        outputs: vec![
            output("elb_dns", Action::Update, Some(json!("old-elb.example.com")), None, false),
            output("join_token", Action::Update, Some(json!(null)), Some(json!(null)), true),
            output("legacy_ip", Action::Delete, Some(json!("10.0.1.7")), None, false),
            output("zone", Action::Create, None, Some(json!("us-east-1a")), false),
        ],
    }
}

fn output(
    name: &str,
    action: Action,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    sensitive: bool,
) -> crate::plan::OutputChange {
    crate::plan::OutputChange { name: name.into(), action, before, after, sensitive }
}

/// The network stack moved on since the last apply: its VPC id, a new
/// output, one gone, and its (sensitive) join token, whose values are
/// the secrets above.
fn upstream() -> Vec<crate::plan::UpstreamChange> {
    let then = BTreeMap::from([
        ("vpc_id".to_string(), (json!("vpc-0a1b"), false)),
        ("legacy".to_string(), (json!(true), false)),
        ("join_token".to_string(), (json!(SECRET_BEFORE), true)),
    ]);
    let now = BTreeMap::from([
        ("vpc_id".to_string(), (json!("vpc-9f8e"), false)),
        ("cidr".to_string(), (json!("10.1.0.0/16"), false)),
        ("join_token".to_string(), (json!(SECRET_AFTER), true)),
    ]);
    let last = crate::plan::upstream_recorded(&BTreeMap::from([("network".to_string(), then)]));
    crate::plan::upstream_changes(&last, &BTreeMap::from([("network".to_string(), now)]))
}
