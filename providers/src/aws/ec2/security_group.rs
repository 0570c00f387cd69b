//! `security_group`: CreateSecurityGroup (tagged in the call) and its
//! rules, diffed one by one.
//!
//! A rule as written may name several CIDR blocks and a source group; AWS
//! groups rules by protocol and ports instead. Both are brought to one
//! canonical form — one rule per source, ports spelled one way — which is
//! what the plan compares and shows, and what updates revoke and
//! authorize. A group with no `egress` block keeps AWS's default rule (all
//! traffic out to anywhere), as a group made with the AWS CLI does.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, SecurityGroup, UserIdGroupPair};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once, not_yet_visible, retry_while, visible, Once};
use super::vpc::gone;
use super::{default_name, delete_idempotent, found, once, retag, string, tag_spec, tags_attr};

const NOT_FOUND: &str = "InvalidGroup.NotFound";

/// One rule for one source: the unit of comparison and of change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rule {
    pub protocol: String,
    /// `None`: every port (or not a port-based protocol).
    pub ports: Option<(i32, i32)>,
    pub source: Source,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Source {
    Cidr(String),
    Group(String),
    Myself,
}

/// `tcp`, `udp`, `icmp`, `all`, or a protocol number, as AWS would return
/// it: lower case, with the numbers of named protocols replaced by names.
fn protocol(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        other => other.into(),
    }
}

fn ports(protocol: &str, value: Option<&Value>) -> Option<(i32, i32)> {
    if !matches!(protocol, "tcp" | "udp") {
        return None;
    }
    let text = value.and_then(Value::as_str)?;
    let (from, to) = text.split_once("..").unwrap_or((text, text));
    let range = (from.parse().ok()?, to.parse().ok()?);
    (range != (0, 65535)).then_some(range)
}

/// The rules of an `ingress` or `egress` list, as written or as read.
pub(super) fn rules(value: &Value, own_id: Option<&str>) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for entry in value.as_array().into_iter().flatten().filter_map(Value::as_object) {
        let protocol = protocol(entry.get("protocol").and_then(Value::as_str).unwrap_or("all"));
        let ports = ports(&protocol, entry.get("port"));
        let description = entry.get("description").and_then(Value::as_str).map(str::to_string);
        let mut add = |source| {
            out.insert(Rule { protocol: protocol.clone(), ports, source, description: description.clone() });
        };
        for cidr in entry.get("cidrs").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            add(Source::Cidr(cidr.to_string()));
        }
        match entry.get("from").and_then(Value::as_str) {
            Some(group) if Some(group) == own_id => add(Source::Myself),
            Some(group) => add(Source::Group(group.to_string())),
            None => {}
        }
        if entry.get("self").and_then(Value::as_bool) == Some(true) {
            add(Source::Myself);
        }
    }
    out
}

/// AWS's rule for a new group: everything out, anywhere.
fn default_egress() -> BTreeSet<Rule> {
    [Rule { protocol: "all".into(), ports: None, source: Source::Cidr("0.0.0.0/0".into()), description: None }].into()
}

fn egress_rules(value: &Value, own_id: Option<&str>) -> BTreeSet<Rule> {
    let rules = rules(value, own_id);
    if rules.is_empty() {
        default_egress()
    } else {
        rules
    }
}

fn to_json(rules: &BTreeSet<Rule>) -> Value {
    Value::Array(
        rules
            .iter()
            .map(|r| {
                json!({
                    "protocol": r.protocol,
                    "port": r.ports.map(|(a, b)| if a == b { a.to_string() } else { format!("{a}..{b}") }),
                    "cidrs": match &r.source { Source::Cidr(c) => vec![c.clone()], _ => Vec::new() },
                    "from": match &r.source { Source::Group(g) => Some(g.clone()), _ => None },
                    "self": r.source == Source::Myself,
                    "description": r.description,
                })
            })
            .collect(),
    )
}

/// The comparison form of `ingress` and `egress` (see the module doc).
pub fn canonical(attr: &str, value: Value) -> Value {
    match attr {
        "ingress" => to_json(&rules(&value, None)),
        "egress" => to_json(&egress_rules(&value, None)),
        _ => value,
    }
}

fn permission(rule: &Rule, own_id: &str) -> IpPermission {
    let protocol = if rule.protocol == "all" { "-1".to_string() } else { rule.protocol.clone() };
    let (from, to) = match (rule.protocol.as_str(), rule.ports) {
        (_, Some(range)) => range,
        ("tcp" | "udp", None) => (0, 65535),
        _ => (-1, -1),
    };
    let mut builder = IpPermission::builder().ip_protocol(protocol).from_port(from).to_port(to);
    builder = match &rule.source {
        Source::Cidr(cidr) => {
            builder.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(rule.description.clone()).build())
        }
        Source::Group(group) => builder.user_id_group_pairs(
            UserIdGroupPair::builder().group_id(group).set_description(rule.description.clone()).build(),
        ),
        Source::Myself => builder.user_id_group_pairs(
            UserIdGroupPair::builder().group_id(own_id).set_description(rule.description.clone()).build(),
        ),
    };
    builder.build()
}

fn read_rules(permissions: &[IpPermission], own_id: &str) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for p in permissions {
        let protocol = protocol(p.ip_protocol().unwrap_or("-1"));
        let ports = match (protocol.as_str(), p.from_port(), p.to_port()) {
            ("tcp" | "udp", Some(from), Some(to)) if (from, to) != (0, 65535) => Some((from, to)),
            _ => None,
        };
        let rule = |source, description: Option<&str>| Rule {
            protocol: protocol.clone(),
            ports,
            source,
            description: description.filter(|d| !d.is_empty()).map(str::to_string),
        };
        for range in p.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                out.insert(rule(Source::Cidr(cidr.to_string()), range.description()));
            }
        }
        for pair in p.user_id_group_pairs() {
            let Some(group) = pair.group_id() else { continue };
            let source = if group == own_id { Source::Myself } else { Source::Group(group.to_string()) };
            out.insert(rule(source, pair.description()));
        }
    }
    out
}

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let name = attrs.get("name").and_then(Value::as_str).map_or_else(|| default_name(&target), str::to_string);
    let id = create_once(
        "CreateSecurityGroup",
        Once::Find(|| found(ec2, &target)),
        || {
            ec2.create_security_group()
                .group_name(&name)
                .description(string(attrs, "description"))
                .vpc_id(string(attrs, "vpc"))
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &target, attrs))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.group_id().unwrap_or_default().to_string(),
    )
    .await?;
    let none = Value::Array(Vec::new());
    let ingress = rules(attrs.get("ingress").unwrap_or(&none), Some(&id));
    let egress = egress_rules(attrs.get("egress").unwrap_or(&none), Some(&id));
    change_rules(ec2, &id, true, &BTreeSet::new(), &ingress).await?;
    change_rules(ec2, &id, false, &default_egress(), &egress).await?;
    read_back("CreateSecurityGroup", &id, || read(ec2, target.clone(), &id)).await
}

/// Revoke what is no longer wanted, then authorize what is new (in that
/// order: a rule whose description changed is the same rule to AWS).
pub(super) async fn change_rules(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    ingress: bool,
    had: &BTreeSet<Rule>,
    want: &BTreeSet<Rule>,
) -> Result<(), ProviderError> {
    let revoke: Vec<IpPermission> = had.difference(want).map(|r| permission(r, id)).collect();
    let authorize: Vec<IpPermission> = want.difference(had).map(|r| permission(r, id)).collect();
    if !revoke.is_empty() {
        let revoke = Some(revoke);
        // `InvalidPermission.NotFound`: revoked already, by a lost answer's
        // first call.
        let gone = |e: &Option<String>| e.as_deref() == Some("InvalidPermission.NotFound");
        if ingress {
            let call = || ec2.revoke_security_group_ingress().group_id(id).set_ip_permissions(revoke.clone()).send();
            match visible(call).await {
                Err(e) if !gone(&code(&e)) => return Err(api("RevokeSecurityGroupIngress", e)),
                _ => {}
            }
        } else {
            // The default egress rule of a group made moments ago.
            let call = || ec2.revoke_security_group_egress().group_id(id).set_ip_permissions(revoke.clone()).send();
            match visible(call).await {
                Err(e) if !gone(&code(&e)) => return Err(api("RevokeSecurityGroupEgress", e)),
                _ => {}
            }
        }
    }
    if authorize.is_empty() {
        return Ok(());
    }
    let operation = if ingress { "AuthorizeSecurityGroupIngress" } else { "AuthorizeSecurityGroupEgress" };
    // A group just created (this one, or a source group) may not be
    // visible to the rules API yet.
    // `InvalidPermission.Duplicate`: the rules are there already, as the
    // call was just given the rules missing; a lost answer's retry.
    let duplicate = |c: &Option<String>| c.as_deref() == Some("InvalidPermission.Duplicate");
    retry_while(operation, not_yet_visible, || async {
        let perms = Some(authorize.clone());
        let result = if ingress {
            let call = ec2.authorize_security_group_ingress().group_id(id).set_ip_permissions(perms);
            call.send().await.map(|_| ()).map_err(|e| (code(&e), api(operation, e)))
        } else {
            let call = ec2.authorize_security_group_egress().group_id(id).set_ip_permissions(perms);
            call.send().await.map(|_| ()).map_err(|e| (code(&e), api(operation, e)))
        };
        match result {
            Err((c, _)) if duplicate(&c) => Ok(()),
            other => other,
        }
    })
    .await
}

/// A group's ingress (or egress) rules as AWS holds them; `None` if the
/// group is gone.
pub(super) async fn group_rules(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    ingress: bool,
) -> Result<Option<BTreeSet<Rule>>, ProviderError> {
    let out = match ec2.describe_security_groups().group_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeSecurityGroups", e)),
    };
    Ok(out.security_groups().first().map(|group| {
        let permissions = if ingress { group.ip_permissions() } else { group.ip_permissions_egress() };
        read_rules(permissions, id)
    }))
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_security_groups().group_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeSecurityGroups", e)),
    };
    Ok(out.security_groups().first().map(|group| remote(&target, group)))
}

/// A group as the state keeps it, its rules in canonical form.
pub fn remote(target: &Target<'_>, group: &SecurityGroup) -> Remote {
    let id = group.group_id().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("vpc".into(), json!(group.vpc_id().unwrap_or_default()));
    attrs.insert("name".into(), json!(group.group_name().unwrap_or_default()));
    attrs.insert("description".into(), json!(group.description().unwrap_or_default()));
    attrs.insert("ingress".into(), to_json(&read_rules(group.ip_permissions(), id)));
    attrs.insert("egress".into(), to_json(&read_rules(group.ip_permissions_egress(), id)));
    attrs.insert("tags".into(), tags_attr(target, group.tags()));
    Remote { id: id.into(), attrs }
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    // What AWS has now, not what the state last saw: rules added by hand
    // since the refresh are removed too.
    let current = read(ec2, target.clone(), id).await?.ok_or_else(|| gone("DescribeSecurityGroups", id))?;
    let none = Value::Array(Vec::new());
    let had_in = rules(current.attrs.get("ingress").unwrap_or(&none), Some(id));
    let had_out = rules(current.attrs.get("egress").unwrap_or(&none), Some(id));
    let want_in = rules(after.get("ingress").unwrap_or(&none), Some(id));
    let want_out = egress_rules(after.get("egress").unwrap_or(&none), Some(id));
    change_rules(ec2, id, true, &had_in, &want_in).await?;
    change_rules(ec2, id, false, &had_out, &want_out).await?;
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("AuthorizeSecurityGroupIngress", id))
}

/// Instances and load balancers using the group let go of it only as they
/// terminate: `DependencyViolation` is retried.
pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    delete_idempotent("DeleteSecurityGroup", &[NOT_FOUND], || ec2.delete_security_group().group_id(id).send()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_as_written_and_as_aws_groups_them_compare_equal() {
        let written = json!([
            { "protocol": "tcp", "port": "22..22", "cidrs": ["10.0.0.0/8", "1.2.3.4/32"], "from": "sg-1",
              "self": false, "description": "ssh" },
            { "protocol": "TCP", "port": "0..65535", "cidrs": [], "from": null, "self": true, "description": null },
            { "protocol": "all", "port": null, "cidrs": ["0.0.0.0/0"], "from": null, "self": false, "description": null },
        ]);
        let aws = [
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("1.2.3.4/32").description("ssh").build())
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").description("ssh").build())
                .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").description("ssh").build())
                .build(),
            IpPermission::builder()
                .ip_protocol("6")
                .from_port(0)
                .to_port(65535)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-own").build())
                .build(),
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        ];
        let read = to_json(&read_rules(&aws, "sg-own"));
        assert_eq!(canonical("ingress", written.clone()), canonical("ingress", read.clone()));
        assert_eq!(read.as_array().map(Vec::len), Some(5), "one rule per source: {read}");
        assert!(read.to_string().contains(r#""port":"22""#), "a single port reads as one number: {read}");
    }

    #[test]
    fn no_egress_block_means_aws_default_rule() {
        let default = to_json(&default_egress());
        assert_eq!(canonical("egress", json!([])), default);
        let narrowed = json!([{ "protocol": "tcp", "port": "443", "cidrs": ["0.0.0.0/0"] }]);
        assert_ne!(canonical("egress", narrowed), default);
    }

    #[test]
    fn permissions_name_every_port_for_tcp_and_none_for_all() {
        let all = permission(&default_egress().into_iter().next().expect("rule"), "sg-x");
        assert_eq!((all.ip_protocol(), all.from_port(), all.to_port()), (Some("-1"), Some(-1), Some(-1)));
        let tcp = Rule { protocol: "tcp".into(), ports: None, source: Source::Myself, description: None };
        let tcp = permission(&tcp, "sg-x");
        assert_eq!((tcp.from_port(), tcp.to_port()), (Some(0), Some(65535)));
        assert_eq!(tcp.user_id_group_pairs()[0].group_id(), Some("sg-x"));
    }
}
