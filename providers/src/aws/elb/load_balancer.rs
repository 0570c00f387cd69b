//! `load_balancer`: a classic Elastic Load Balancer, named by its `name`
//! (the id). CreateLoadBalancer (tagged in the call), its health check and
//! registered instances; updates change subnets, security groups,
//! instances, listeners, the health check and tags in place. Listeners are
//! compared in one canonical form (upper-case protocols, the instance
//! protocol spelled out, sorted by port) so configuration and read-back
//! agree.

use std::collections::BTreeSet;

use aws_sdk_elasticloadbalancing::types::{HealthCheck, Instance, Listener as SdkListener, Tag, TagKeyOnly};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::{json, Value};

use super::super::attrs::sorted_strings;
use super::super::errors::{api, code, retry_while};
use super::super::tags::{owned_by, owned_tags, removed_tag_keys, tags_json};

const NOT_FOUND: &str = "LoadBalancerNotFound";
/// An instance AWS does not know (yet, right after launch; or any more).
const INVALID_INSTANCE: &str = "InvalidInstance";
/// The type's name, the part of an address before the resource's name.
const TYPE_PREFIX: &str = "load_balancer.";
/// ELB names are at most 32 characters.
const NAME_MAX: usize = 32;

/// One listener in its comparison form. The field order is the sort
/// order: by load balancer port, then protocol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listener {
    port: i32,
    protocol: String,
    instance_port: i32,
    instance_protocol: String,
}

impl Listener {
    /// A listener as configured or as read back: AWS upper-cases
    /// protocols and, when no instance protocol is given, uses the
    /// front-end one, so both are spelled out here.
    fn from_json(value: &Value) -> Option<Self> {
        let m = value.as_object()?;
        let protocol = m.get("protocol")?.as_str()?.to_uppercase();
        let instance_protocol =
            m.get("instance_protocol").and_then(Value::as_str).map_or_else(|| protocol.clone(), str::to_uppercase);
        Some(Listener {
            port: int(m.get("port")?)?,
            protocol,
            instance_port: int(m.get("instance_port")?)?,
            instance_protocol,
        })
    }

    fn from_sdk(l: &SdkListener) -> Self {
        Listener {
            port: l.load_balancer_port(),
            protocol: l.protocol().to_uppercase(),
            instance_port: l.instance_port(),
            instance_protocol: l.instance_protocol().unwrap_or(l.protocol()).to_uppercase(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "port": self.port,
            "protocol": self.protocol,
            "instance_port": self.instance_port,
            "instance_protocol": self.instance_protocol,
        })
    }

    fn to_sdk(&self, operation: &str) -> Result<SdkListener, ProviderError> {
        SdkListener::builder()
            .load_balancer_port(self.port)
            .protocol(&self.protocol)
            .instance_port(self.instance_port)
            .instance_protocol(&self.instance_protocol)
            .build()
            .map_err(|e| invalid(operation, e))
    }
}

/// Every listener of a `listener` value, sorted; `None` when one of them
/// lacks a port or protocol (or the value is not a list).
fn listeners_from(value: &Value) -> Option<Vec<Listener>> {
    let mut out = value.as_array()?.iter().map(Listener::from_json).collect::<Option<Vec<_>>>()?;
    out.sort();
    Some(out)
}

/// The configured listeners, which a create or update must be able to
/// send: a malformed one is an error rather than silently dropped.
fn wanted_listeners(attrs: &Attrs, operation: &str) -> Result<Vec<Listener>, ProviderError> {
    attrs.get("listener").and_then(listeners_from).ok_or_else(|| ProviderError::Api {
        operation: operation.into(),
        message: "every listener needs a port, a protocol and an instance_port".into(),
    })
}

/// The comparison form of attributes (see the module doc).
pub fn canonical(attr: &str, value: Value) -> Value {
    match attr {
        "listener" => match listeners_from(&value) {
            Some(listeners) => Value::Array(listeners.iter().map(Listener::to_json).collect()),
            None => value,
        },
        _ => value,
    }
}

/// The health check as its five settings, with the schema's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Health {
    target: String,
    interval: i32,
    timeout: i32,
    healthy_threshold: i32,
    unhealthy_threshold: i32,
}

impl Health {
    /// `None` for a null (unconfigured) health check.
    fn from_json(value: Option<&Value>) -> Option<Self> {
        let m = value?.as_object()?;
        let number = |k: &str, default: i32| m.get(k).and_then(int).unwrap_or(default);
        Some(Health {
            target: m.get("target").and_then(Value::as_str).unwrap_or_default().to_string(),
            interval: number("interval", 30),
            timeout: number("timeout", 5),
            healthy_threshold: number("healthy_threshold", 2),
            unhealthy_threshold: number("unhealthy_threshold", 2),
        })
    }

    fn to_sdk(&self, operation: &str) -> Result<HealthCheck, ProviderError> {
        HealthCheck::builder()
            .target(&self.target)
            .interval(self.interval)
            .timeout(self.timeout)
            .healthy_threshold(self.healthy_threshold)
            .unhealthy_threshold(self.unhealthy_threshold)
            .build()
            .map_err(|e| invalid(operation, e))
    }
}

/// A whole number from JSON: the engine writes ports as integers, but a
/// float with no fraction or a numeric string means the same.
fn int(value: &Value) -> Option<i32> {
    let n = match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    i32::try_from(n).ok()
}

/// The name of a load balancer whose configuration names none: the
/// resource's own name, the part of the address after `load_balancer.`
/// (`module.app.load_balancer.front["eu"]` → `front--eu`). ELB names allow
/// only ASCII letters, digits and hyphens, at most 32, and no hyphen at
/// either end, so everything else becomes a hyphen and the ends are
/// trimmed.
fn default_name(address: &str) -> String {
    let local = resource_name(address);
    let spelled: String = local.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let cut: String = spelled.trim_matches('-').chars().take(NAME_MAX).collect();
    cut.trim_end_matches('-').to_string()
}

/// The part of an address after the `load_balancer.` segment. Only a
/// segment start outside brackets counts, and not a module's name (a
/// module may be called `load_balancer` too, and a key may contain it).
fn resource_name(address: &str) -> &str {
    let mut depth = 0usize;
    let mut segment_start = true;
    for (i, c) in address.char_indices() {
        let before = &address[..i];
        let module_name = before == "module." || before.ends_with(".module.");
        if segment_start && depth == 0 && !module_name && address[i..].starts_with(TYPE_PREFIX) {
            return &address[i + TYPE_PREFIX.len()..];
        }
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        segment_start = c == '.' && depth == 0;
    }
    address
}

/// An SDK builder's complaint (a required field missing) as a provider
/// error.
fn invalid(operation: &str, err: impl std::fmt::Display) -> ProviderError {
    ProviderError::Api { operation: operation.into(), message: err.to_string() }
}

fn gone(operation: &str, name: &str) -> ProviderError {
    let message = format!("{name} disappeared while it was being changed");
    ProviderError::Api { operation: operation.into(), message }
}

fn sdk_tags(operation: &str, pairs: Vec<(String, String)>) -> Result<Vec<Tag>, ProviderError> {
    pairs.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e))).collect()
}

fn instance(id: &str) -> Instance {
    Instance::builder().instance_id(id).build()
}

pub async fn create(
    elb: &aws_sdk_elasticloadbalancing::Client,
    target: Target<'_>,
    attrs: &Attrs,
) -> Result<Remote, ProviderError> {
    const OPERATION: &str = "CreateLoadBalancer";
    let name = match attrs.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(name) => name.to_string(),
        None => default_name(target.address),
    };
    let listeners =
        wanted_listeners(attrs, OPERATION)?.iter().map(|l| l.to_sdk(OPERATION)).collect::<Result<Vec<_>, _>>()?;
    let subnets = sorted_strings(attrs, "subnets");
    let groups = sorted_strings(attrs, "security_groups");
    // No groups: AWS gives the load balancer its VPC's default group.
    let groups = if groups.is_empty() { None } else { Some(groups) };
    let scheme = if attrs.get("internal").and_then(Value::as_bool).unwrap_or(false) {
        Some("internal".to_string())
    } else {
        None
    };
    let tags = sdk_tags(OPERATION, owned_tags(&target, attrs))?;
    // The ELB API has no search by tag, so a create interrupted after AWS
    // made the load balancer cannot be found by its ownership tags. It does
    // not need to be: CreateLoadBalancer with the same name and the same
    // configuration, tags included, succeeds again and returns the existing
    // load balancer (undocumented, reported in aws/aws-sdk-java#469), which
    // is how a retried create adopts what a crashed one made. Any other
    // balancer of that name, someone else's, fails with
    // DuplicateLoadBalancerName ("… configured with different tags").
    retry_while(
        OPERATION,
        // The ids come from the state, so a subnet or group AWS does not
        // know is one just created that it does not show yet.
        |c| c == "SubnetNotFound" || c == "InvalidSecurityGroup",
        || async {
            let created = elb
                .create_load_balancer()
                .load_balancer_name(&name)
                .set_listeners(Some(listeners.clone()))
                .set_subnets(Some(subnets.clone()))
                .set_security_groups(groups.clone())
                .set_scheme(scheme.clone())
                .set_tags(Some(tags.clone()))
                .send()
                .await;
            match created {
                Ok(_) => Ok(()),
                // AWS refuses a repeat with another configuration (moto
                // refuses every repeat): the balancer is this resource's if
                // its ownership tags say so (a crashed run's, made from an
                // older configuration: adopted, and the next plan brings it
                // in line); anyone else's is refused.
                Err(e) if code(&e).as_deref() == Some("DuplicateLoadBalancerName") => {
                    if owned(elb, &name, &target).await {
                        return Ok(());
                    }
                    let message = format!(
                        "load balancer `{name}` already exists and was not made by this configuration; \
                         to manage it here: `k8sinfra import {} {name}`",
                        target.address
                    );
                    Err((None, ProviderError::Api { operation: OPERATION.into(), message }))
                }
                Err(e) => Err((code(&e), api(OPERATION, e))),
            }
        },
    )
    .await?;
    if let Some(health) = Health::from_json(attrs.get("health_check")) {
        configure_health_check(elb, &name, &health).await?;
    }
    register(elb, &name, &sorted_strings(attrs, "instances")).await?;
    read(elb, target, &name).await?.ok_or_else(|| gone(OPERATION, &name))
}

async fn configure_health_check(
    elb: &aws_sdk_elasticloadbalancing::Client,
    name: &str,
    health: &Health,
) -> Result<(), ProviderError> {
    const OPERATION: &str = "ConfigureHealthCheck";
    elb.configure_health_check()
        .load_balancer_name(name)
        .health_check(health.to_sdk(OPERATION)?)
        .send()
        .await
        .map_err(|e| api(OPERATION, e))?;
    Ok(())
}

/// Register instances. One launched moments ago may not be visible to the
/// ELB API yet, which answers InvalidInstance: that is retried.
/// Whether the load balancer `name` carries `target`'s ownership tags.
async fn owned(elb: &aws_sdk_elasticloadbalancing::Client, name: &str, target: &Target<'_>) -> bool {
    let Ok(described) = elb.describe_tags().load_balancer_names(name).send().await else { return false };
    let tags: Vec<(&str, &str)> = described
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .map(|t| (t.key(), t.value().unwrap_or_default()))
        .collect();
    owned_by(&tags, target)
}

/// An instance's own registrations (its `load_balancers`): out of those
/// it left, into those it joined.
pub async fn follow(
    elb: &aws_sdk_elasticloadbalancing::Client,
    instance_id: &str,
    before: &[String],
    after: &[String],
) -> Result<(), ProviderError> {
    let one = [instance_id.to_string()];
    for name in before.iter().filter(|n| !after.contains(n)) {
        deregister(elb, name, &one).await?;
    }
    for name in after.iter().filter(|n| !before.contains(n)) {
        register(elb, name, &one).await?;
    }
    Ok(())
}

async fn register(elb: &aws_sdk_elasticloadbalancing::Client, name: &str, ids: &[String]) -> Result<(), ProviderError> {
    const OPERATION: &str = "RegisterInstancesWithLoadBalancer";
    if ids.is_empty() {
        return Ok(());
    }
    retry_while(
        OPERATION,
        |c| c == INVALID_INSTANCE,
        || async {
            elb.register_instances_with_load_balancer()
                .load_balancer_name(name)
                .set_instances(Some(ids.iter().map(|id| instance(id)).collect()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (code(&e), api(OPERATION, e)))
        },
    )
    .await
}

/// Deregister instances one at a time: an instance already terminated
/// (replaced, say) answers InvalidInstance, and is not registered any more,
/// which is what was asked; doing them together would let it fail the rest.
async fn deregister(
    elb: &aws_sdk_elasticloadbalancing::Client,
    name: &str,
    ids: &[String],
) -> Result<(), ProviderError> {
    for id in ids {
        let result =
            elb.deregister_instances_from_load_balancer().load_balancer_name(name).instances(instance(id)).send().await;
        match result {
            Ok(_) => {}
            Err(e) if code(&e).as_deref() == Some(INVALID_INSTANCE) => {}
            Err(e) => return Err(api("DeregisterInstancesFromLoadBalancer", e)),
        }
    }
    Ok(())
}

pub async fn read(
    elb: &aws_sdk_elasticloadbalancing::Client,
    target: Target<'_>,
    id: &str,
) -> Result<Option<Remote>, ProviderError> {
    let out = match elb.describe_load_balancers().load_balancer_names(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeLoadBalancers", e)),
    };
    let Some(lb) = out.load_balancer_descriptions().first() else { return Ok(None) };
    let described = match elb.describe_tags().load_balancer_names(id).send().await {
        Ok(out) => out,
        // Deleted between the two calls.
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => return Ok(None),
        Err(e) => return Err(api("DescribeTags", e)),
    };
    let tags = tags_json(
        &target,
        described.tag_descriptions().iter().flat_map(|d| d.tags()).map(|t| (t.key(), t.value().unwrap_or_default())),
    );
    let mut subnets: Vec<&str> = lb.subnets().iter().map(String::as_str).collect();
    subnets.sort_unstable();
    let mut groups: Vec<&str> = lb.security_groups().iter().map(String::as_str).collect();
    groups.sort_unstable();
    let mut instances: Vec<&str> = lb.instances().iter().filter_map(Instance::instance_id).collect();
    instances.sort_unstable();
    // AWS lists an instance once; moto twice if a registration was sent
    // twice (a retry after a lost answer).
    instances.dedup();
    let mut listeners: Vec<Listener> =
        lb.listener_descriptions().iter().filter_map(|d| d.listener()).map(Listener::from_sdk).collect();
    listeners.sort();
    let health = lb.health_check().map_or(Value::Null, |h| {
        json!({
            "target": h.target(),
            "interval": h.interval(),
            "timeout": h.timeout(),
            "healthy_threshold": h.healthy_threshold(),
            "unhealthy_threshold": h.unhealthy_threshold(),
        })
    });
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("name".into(), json!(lb.load_balancer_name().unwrap_or(id)));
    attrs.insert("subnets".into(), json!(subnets));
    attrs.insert("security_groups".into(), json!(groups));
    attrs.insert("internal".into(), json!(lb.scheme() == Some("internal")));
    attrs.insert("instances".into(), json!(instances));
    attrs.insert("listener".into(), Value::Array(listeners.iter().map(Listener::to_json).collect()));
    attrs.insert("health_check".into(), health);
    attrs.insert("tags".into(), tags);
    attrs.insert("dns_name".into(), json!(lb.dns_name().unwrap_or_default()));
    attrs.insert("zone_id".into(), json!(lb.canonical_hosted_zone_name_id().unwrap_or_default()));
    Ok(Some(Remote { id: id.into(), attrs }))
}

pub async fn update(
    elb: &aws_sdk_elasticloadbalancing::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    update_subnets(elb, id, &sorted_strings(before, "subnets"), &sorted_strings(after, "subnets")).await?;

    let groups = sorted_strings(after, "security_groups");
    // An empty list cannot be applied (a load balancer in a VPC always has
    // a group; AWS chose the default one when none was given).
    if groups != sorted_strings(before, "security_groups") && !groups.is_empty() {
        elb.apply_security_groups_to_load_balancer()
            .load_balancer_name(id)
            .set_security_groups(Some(groups))
            .send()
            .await
            .map_err(|e| api("ApplySecurityGroupsToLoadBalancer", e))?;
    }

    // Left out, the registrations are the instances' to make.
    if after.contains_key("instances") {
        let (old, new) = (sorted_strings(before, "instances"), sorted_strings(after, "instances"));
        let gone_instances: Vec<String> = old.iter().filter(|i| !new.contains(i)).cloned().collect();
        let added_instances: Vec<String> = new.iter().filter(|i| !old.contains(i)).cloned().collect();
        deregister(elb, id, &gone_instances).await?;
        register(elb, id, &added_instances).await?;
    }

    update_listeners(elb, id, before, after).await?;

    if let Some(health) = Health::from_json(after.get("health_check")) {
        if Health::from_json(before.get("health_check")).as_ref() != Some(&health) {
            configure_health_check(elb, id, &health).await?;
        }
    }

    retag(elb, id, &target, before, after).await?;
    read(elb, target, id).await?.ok_or_else(|| gone("ModifyLoadBalancer", id))
}

/// A load balancer needs a subnet at all times, and takes at most one per
/// availability zone. When some subnet stays, the old ones are detached
/// first, so a subnet can be swapped for another in its zone; when all are
/// replaced, the new ones are attached first.
async fn update_subnets(
    elb: &aws_sdk_elasticloadbalancing::Client,
    id: &str,
    old: &[String],
    new: &[String],
) -> Result<(), ProviderError> {
    let added: Vec<String> = new.iter().filter(|s| !old.contains(s)).cloned().collect();
    let removed: Vec<String> = old.iter().filter(|s| !new.contains(s)).cloned().collect();
    if old.iter().any(|s| new.contains(s)) {
        detach(elb, id, &removed).await?;
        attach(elb, id, &added).await
    } else {
        attach(elb, id, &added).await?;
        detach(elb, id, &removed).await
    }
}

async fn attach(elb: &aws_sdk_elasticloadbalancing::Client, id: &str, subnets: &[String]) -> Result<(), ProviderError> {
    const OPERATION: &str = "AttachLoadBalancerToSubnets";
    if subnets.is_empty() {
        return Ok(());
    }
    retry_while(
        OPERATION,
        // A subnet just created may not be visible yet.
        |c| c == "SubnetNotFound",
        || async {
            elb.attach_load_balancer_to_subnets()
                .load_balancer_name(id)
                .set_subnets(Some(subnets.to_vec()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (code(&e), api(OPERATION, e)))
        },
    )
    .await
}

async fn detach(elb: &aws_sdk_elasticloadbalancing::Client, id: &str, subnets: &[String]) -> Result<(), ProviderError> {
    if subnets.is_empty() {
        return Ok(());
    }
    elb.detach_load_balancer_from_subnets()
        .load_balancer_name(id)
        .set_subnets(Some(subnets.to_vec()))
        .send()
        .await
        .map_err(|e| api("DetachLoadBalancerFromSubnets", e))?;
    Ok(())
}

/// Listeners cannot be modified, only deleted and created, and a port
/// holds one listener: a port whose listener went away or changed is
/// deleted, then every listener not already there is created.
async fn update_listeners(
    elb: &aws_sdk_elasticloadbalancing::Client,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    const CREATE: &str = "CreateLoadBalancerListeners";
    // The state's listeners are the read-back form; one that does not parse
    // is simply not compared (and so not deleted by port).
    let old = before.get("listener").and_then(listeners_from).unwrap_or_default();
    let new = wanted_listeners(after, CREATE)?;
    let removed_ports: BTreeSet<i32> = old.iter().filter(|l| !new.contains(l)).map(|l| l.port).collect();
    if !removed_ports.is_empty() {
        elb.delete_load_balancer_listeners()
            .load_balancer_name(id)
            .set_load_balancer_ports(Some(removed_ports.iter().copied().collect()))
            .send()
            .await
            .map_err(|e| api("DeleteLoadBalancerListeners", e))?;
    }
    let added = new
        .iter()
        .filter(|l| !old.contains(l) || removed_ports.contains(&l.port))
        .map(|l| l.to_sdk(CREATE))
        .collect::<Result<Vec<_>, _>>()?;
    if !added.is_empty() {
        elb.create_load_balancer_listeners()
            .load_balancer_name(id)
            .set_listeners(Some(added))
            .send()
            .await
            .map_err(|e| api(CREATE, e))?;
    }
    Ok(())
}

/// Remove the user's tags that went away (keeping any the ownership set
/// writes again), then write the whole owned set.
async fn retag(
    elb: &aws_sdk_elasticloadbalancing::Client,
    id: &str,
    target: &Target<'_>,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let owned = owned_tags(target, after);
    if owned_tags(target, before) == owned {
        return Ok(());
    }
    let removed: Vec<TagKeyOnly> =
        removed_tag_keys(target, before, after).into_iter().map(|k| TagKeyOnly::builder().key(k).build()).collect();
    if !removed.is_empty() {
        elb.remove_tags()
            .load_balancer_names(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(|e| api("RemoveTags", e))?;
    }
    elb.add_tags()
        .load_balancer_names(id)
        .set_tags(Some(sdk_tags("AddTags", owned)?))
        .send()
        .await
        .map_err(|e| api("AddTags", e))?;
    Ok(())
}

pub async fn delete(elb: &aws_sdk_elasticloadbalancing::Client, id: &str) -> Result<(), ProviderError> {
    // DeleteLoadBalancer succeeds for a name that does not exist; the
    // NotFound arm is for endpoints (emulators) that answer otherwise.
    match elb.delete_load_balancer().load_balancer_name(id).send().await {
        Ok(_) => {}
        Err(e) if code(&e).as_deref() == Some(NOT_FOUND) => {}
        Err(e) => return Err(api("DeleteLoadBalancer", e)),
    }
    // The security groups and subnets it used are released only once its
    // network interfaces are gone, a little after this returns: the
    // provider waits for them (`ec2::released_by_load_balancer`).
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_as_written_and_as_read_compare_equal() {
        let written = json!([
            { "port": 443, "protocol": "tcp", "instance_port": 8443, "instance_protocol": null },
            { "port": 80.0, "protocol": "http", "instance_port": 8080 },
        ]);
        let read = json!([
            { "port": 80, "protocol": "HTTP", "instance_port": 8080, "instance_protocol": "HTTP" },
            { "port": 443, "protocol": "TCP", "instance_port": 8443, "instance_protocol": "TCP" },
        ]);
        assert_eq!(canonical("listener", written), canonical("listener", read.clone()));
        assert_eq!(canonical("listener", read.clone()), read, "the read form is already canonical");
        let other = json!(["subnet-b", "subnet-a"]);
        assert_eq!(canonical("subnets", other.clone()), other, "other attributes pass through");
    }

    #[test]
    fn default_name_is_the_resource_name_spelled_for_elb() {
        assert_eq!(default_name("load_balancer.web"), "web");
        assert_eq!(default_name("load_balancer.web_front"), "web-front");
        assert_eq!(default_name(r#"module.app.load_balancer.front["eu"]"#), "front--eu");
        assert_eq!(default_name("module.load_balancer.load_balancer.api"), "api", "a module may share the name");
        let long = default_name("load_balancer.a_very_long_load_balancer_name_indeed_yes");
        assert!(long.len() <= NAME_MAX, "{long}");
        assert!(!long.ends_with('-') && !long.starts_with('-'), "{long}");
        assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{long}");
    }
}
