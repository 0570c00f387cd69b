//! `security_group_rule`: one rule of a group, managed on its own, for
//! rules that would make two groups refer to each other (masters allow
//! nodes, nodes allow masters). The group keeps its other rules; it should
//! ignore its `ingress` (`lifecycle { ignore_changes = [ingress] }`) so the
//! two never fight over the same list.
//!
//! The id says what the rule is, in Terraform's import form
//! `GROUP_DIRECTION_PROTOCOL_FROM_TO_SOURCE[,SOURCE…]`: read looks for
//! exactly that in the group.

use std::collections::BTreeSet;

use k8sinfra_engine::provider::{Attrs, ProviderError, Remote};
use serde_json::{json, Value};

use super::security_group::{change_rules, group_rules, rules, Rule, Source};
use super::string;

/// The rules this resource stands for: one per source.
fn wanted(attrs: &Attrs, group: &str) -> BTreeSet<Rule> {
    let mut entry = serde_json::Map::new();
    for name in ["protocol", "port", "cidrs", "from", "self", "description"] {
        if let Some(v) = attrs.get(name) {
            entry.insert(name.into(), v.clone());
        }
    }
    rules(&Value::Array(vec![Value::Object(entry)]), Some(group))
}

fn ingress(attrs: &Attrs) -> Result<bool, ProviderError> {
    match attrs.get("direction").and_then(Value::as_str).unwrap_or("ingress") {
        "ingress" => Ok(true),
        "egress" => Ok(false),
        other => Err(ProviderError::Api {
            operation: "AuthorizeSecurityGroupIngress".into(),
            message: format!("`direction` is ingress or egress, not `{other}`"),
        }),
    }
}

fn id_of(group: &str, ingress: bool, rules: &BTreeSet<Rule>) -> String {
    let first = rules.iter().next();
    let protocol = first.map_or("all", |r| r.protocol.as_str());
    let (from, to) = first.and_then(|r| r.ports).unwrap_or((0, 65535));
    let sources: Vec<String> = rules
        .iter()
        .map(|r| match &r.source {
            Source::Cidr(c) => c.clone(),
            Source::Group(g) => g.clone(),
            Source::Myself => "self".into(),
        })
        .collect();
    let direction = if ingress { "ingress" } else { "egress" };
    format!("{group}_{direction}_{protocol}_{from}_{to}_{}", sources.join(","))
}

/// The group, direction and rules (without descriptions) an id names.
fn parse(id: &str) -> Option<(String, bool, BTreeSet<Rule>)> {
    let parts: Vec<&str> = id.splitn(6, '_').collect();
    let [group, direction, protocol, from, to, sources] = parts.as_slice() else { return None };
    let range: (i32, i32) = (from.parse().ok()?, to.parse().ok()?);
    let ports = (matches!(*protocol, "tcp" | "udp") && range != (0, 65535)).then_some(range);
    let rules = sources
        .split(',')
        .map(|s| Rule {
            protocol: (*protocol).to_string(),
            ports,
            source: match s {
                "self" => Source::Myself,
                g if g.starts_with("sg-") => Source::Group(g.to_string()),
                cidr => Source::Cidr(cidr.to_string()),
            },
            description: None,
        })
        .collect();
    Some(((*group).to_string(), *direction == "ingress", rules))
}

fn undescribed(rules: &BTreeSet<Rule>) -> BTreeSet<Rule> {
    rules.iter().map(undescribed_one).collect()
}

pub async fn create(ec2: &aws_sdk_ec2::Client, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let group = string(attrs, "group");
    let ingress = ingress(attrs)?;
    let want = wanted(attrs, &group);
    // Already there (an interrupted run made it): nothing to add.
    let have = group_rules(ec2, &group, ingress).await?.map(|r| undescribed(&r)).unwrap_or_default();
    let missing: BTreeSet<Rule> = want.iter().filter(|r| !have.contains(&undescribed_one(r))).cloned().collect();
    change_rules(ec2, &group, ingress, &BTreeSet::new(), &missing).await?;
    let id = id_of(&group, ingress, &want);
    let mut made = attrs.clone();
    made.insert("id".into(), json!(id));
    Ok(Remote { id, attrs: made })
}

fn undescribed_one(rule: &Rule) -> Rule {
    Rule { description: None, ..rule.clone() }
}

/// Present while every rule of the id is in the group.
pub async fn read(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<Remote>, ProviderError> {
    let Some((group, ingress, want)) = parse(id) else { return Ok(None) };
    let Some(have) = group_rules(ec2, &group, ingress).await? else { return Ok(None) };
    let have = undescribed(&have);
    Ok(want.is_subset(&have).then(|| Remote { id: id.into(), attrs: Attrs::new() }))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    let Some((group, ingress, want)) = parse(id) else { return Ok(()) };
    let Some(have) = group_rules(ec2, &group, ingress).await? else { return Ok(()) };
    // Revoked as AWS holds them, descriptions included.
    let revoke: BTreeSet<Rule> = have.into_iter().filter(|r| want.contains(&undescribed_one(r))).collect();
    match change_rules(ec2, &group, ingress, &revoke, &BTreeSet::new()).await {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().contains("InvalidPermission.NotFound") => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_its_rules_and_reads_back() {
        let attrs = Attrs::from([
            ("group".into(), json!("sg-1")),
            ("protocol".into(), json!("tcp")),
            ("port".into(), json!("1..2379")),
            ("from".into(), json!("sg-2")),
            ("description".into(), json!("node to master")),
        ]);
        let want = wanted(&attrs, "sg-1");
        let id = id_of("sg-1", true, &want);
        assert_eq!(id, "sg-1_ingress_tcp_1_2379_sg-2");
        let (group, ingress, rules) = parse(&id).expect("parses");
        assert_eq!((group.as_str(), ingress), ("sg-1", true));
        assert_eq!(rules, undescribed(&want));

        let all = Attrs::from([
            ("group".into(), json!("sg-1")),
            ("protocol".into(), json!("4")),
            ("cidrs".into(), json!(["10.0.0.0/16", "10.1.0.0/16"])),
        ]);
        let id = id_of("sg-1", false, &wanted(&all, "sg-1"));
        assert_eq!(id, "sg-1_egress_4_0_65535_10.0.0.0/16,10.1.0.0/16");
        assert_eq!(parse(&id).expect("parses").2, undescribed(&wanted(&all, "sg-1")));
    }
}
