//! `vpc`: CreateVpc (tagged in the call), DNS attributes, DescribeVpcs.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored, Target};
use serde_json::json;

use super::super::consistency::read_back;
use super::super::errors::{api, code, create_once_answered, visible, Once};
use super::{delete_idempotent, flag, found, once, retag, sent_tags, string, tag_spec, tags_attr};

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let (id, answer) = create_once_answered(
        "CreateVpc",
        Once::Find(|| found(ec2, &target)),
        || {
            let spec = tag_spec(ResourceType::Vpc, &target, attrs);
            ec2.create_vpc()
                .cidr_block(string(attrs, "cidr"))
                .tag_specifications(spec)
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string(),
    )
    .await?;
    set_dns(ec2, &id, attrs, &Attrs::new()).await?;
    // The answer and what was set are all a read would say.
    if let Some(vpc) = answer.as_ref().and_then(|a| a.vpc()) {
        let mut attrs_read = Attrs::new();
        attrs_read.insert("id".into(), json!(id));
        attrs_read.insert("cidr".into(), json!(vpc.cidr_block().unwrap_or_default()));
        attrs_read.insert("tags".into(), sent_tags(&target, attrs));
        attrs_read.insert("enable_dns_support".into(), json!(flag(attrs, "enable_dns_support").unwrap_or(true)));
        attrs_read.insert("enable_dns_hostnames".into(), json!(flag(attrs, "enable_dns_hostnames").unwrap_or(false)));
        return Ok(Remote { id, attrs: attrs_read });
    }
    read_back("CreateVpc", &id, || read(ec2, target.clone(), &id)).await
}

/// Each DNS attribute takes a call of its own; only changed ones are sent.
async fn set_dns(ec2: &aws_sdk_ec2::Client, id: &str, after: &Attrs, before: &Attrs) -> Result<(), ProviderError> {
    for (name, support) in [("enable_dns_support", true), ("enable_dns_hostnames", false)] {
        let (Some(want), had) = (flag(after, name), flag(before, name)) else { continue };
        if had == Some(want) || (had.is_none() && want == support) {
            continue; // AWS's default for a new VPC, or unchanged
        }
        let call = || {
            let value = AttributeBooleanValue::builder().value(want).build();
            let call = ec2.modify_vpc_attribute().vpc_id(id);
            let call = if support { call.enable_dns_support(value) } else { call.enable_dns_hostnames(value) };
            call.send()
        };
        visible(call).await.map_err(|e| api("ModifyVpcAttribute", e))?;
    }
    Ok(())
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_vpcs().vpc_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("InvalidVpcID.NotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeVpcs", e)),
    };
    let Some(vpc) = out.vpcs().first() else { return Ok(None) };
    let mut remote = remote(&target, vpc);
    with_dns(ec2, &mut remote, Dns::BOTH).await?;
    Ok(Some(remote))
}

/// A VPC as a describe shows it, without its DNS attributes (`with_dns`).
pub fn remote(target: &Target<'_>, vpc: &aws_sdk_ec2::types::Vpc) -> Remote {
    let id = vpc.vpc_id().unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("cidr".into(), json!(vpc.cidr_block().unwrap_or_default()));
    attrs.insert("tags".into(), tags_attr(target, vpc.tags()));
    Remote { id: id.into(), attrs }
}

/// Which of a VPC's two DNS attributes to read.
#[derive(Debug, Clone, Copy)]
pub struct Dns {
    pub support: bool,
    pub hostnames: bool,
}

impl Dns {
    pub const BOTH: Dns = Dns { support: true, hostnames: true };

    /// The ones a refresh must read: those the configuration writes.
    pub fn wanted(stored: &Stored<'_>) -> Dns {
        Dns { support: stored.wants("enable_dns_support"), hostnames: stored.wants("enable_dns_hostnames") }
    }

    pub fn any(self) -> bool {
        self.support || self.hostnames
    }
}

/// `remote` with the DNS attributes asked for (`with_dns`), for reads side
/// by side.
pub async fn dns_of(ec2: &aws_sdk_ec2::Client, mut remote: Remote, dns: Dns) -> Result<Remote, ProviderError> {
    with_dns(ec2, &mut remote, dns).await?;
    Ok(remote)
}

/// The VPC's DNS attributes, which AWS shows one per call and one VPC at a
/// time (DescribeVpcAttribute has no bulk form): those asked, at once. An
/// attribute not asked is left out, for the state's value to stand.
pub async fn with_dns(ec2: &aws_sdk_ec2::Client, remote: &mut Remote, dns: Dns) -> Result<(), ProviderError> {
    let id = remote.id.as_str();
    let ask = |wanted: bool, attribute: VpcAttributeName| async move {
        if !wanted {
            return Ok(None);
        }
        let out = ec2.describe_vpc_attribute().vpc_id(id).attribute(attribute).send().await;
        out.map(Some).map_err(|e| api("DescribeVpcAttribute", e))
    };
    let (support, hostnames) = tokio::join!(
        ask(dns.support, VpcAttributeName::EnableDnsSupport),
        ask(dns.hostnames, VpcAttributeName::EnableDnsHostnames)
    );
    let flag = |v: Option<&AttributeBooleanValue>| json!(v.and_then(AttributeBooleanValue::value).unwrap_or(false));
    if let Some(support) = support? {
        remote.attrs.insert("enable_dns_support".into(), flag(support.enable_dns_support()));
    }
    if let Some(hostnames) = hostnames? {
        remote.attrs.insert("enable_dns_hostnames".into(), flag(hostnames.enable_dns_hostnames()));
    }
    Ok(())
}

pub async fn update(
    ec2: &aws_sdk_ec2::Client,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    set_dns(ec2, id, after, before).await?;
    retag(ec2, id, &target, before, after).await?;
    read(ec2, target, id).await?.ok_or_else(|| gone("ModifyVpcAttribute", id))
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    delete_idempotent("DeleteVpc", &["InvalidVpcID.NotFound"], || ec2.delete_vpc().vpc_id(id).send()).await
}

pub(super) fn gone(operation: &str, id: &str) -> ProviderError {
    ProviderError::Api { operation: operation.into(), message: format!("{id} disappeared while it was being changed") }
}
