//! `nat_gateway`: CreateNatGateway (tagged in the call) in a public subnet
//! with an elastic IP, then waits until it is available; DeleteNatGateway
//! waits until it is gone, so its elastic IP and subnet can follow.

use aws_sdk_ec2::types::{NatGateway, NatGatewayState, ResourceType};
use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use serde_json::json;

use super::super::errors::{api, code, create_once, keyed, wait_for, Poll};
use super::vpc::gone;
use super::{found, once, string, tag_spec, tags_attr};

/// How long a NAT gateway may take to become available, and to go:
/// Terraform's defaults, 10 and 30 minutes.
const CREATE_BUDGET: std::time::Duration = std::time::Duration::from_secs(10 * 60);
const DELETE_BUDGET: std::time::Duration = std::time::Duration::from_secs(30 * 60);

pub async fn create(ec2: &aws_sdk_ec2::Client, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    let id = create_once(
        "CreateNatGateway",
        keyed(target.token, || found(ec2, &target)),
        || {
            ec2.create_nat_gateway()
                .subnet_id(string(attrs, "subnet"))
                .allocation_id(string(attrs, "elastic_ip"))
                .tag_specifications(tag_spec(ResourceType::Natgateway, &target, attrs))
                .set_client_token(target.token.map(str::to_string))
                .customize()
                .config_override(once())
                .send()
        },
        |out| out.nat_gateway().and_then(|g| g.nat_gateway_id()).unwrap_or_default().to_string(),
    )
    .await?;
    // What the wait saw last is as fresh as a read.
    let gateway = wait_for("CreateNatGateway", CREATE_BUDGET, || async {
        let gateway = described(ec2, &id).await?;
        Ok(match gateway.as_ref().and_then(|g| g.state().cloned()) {
            Some(NatGatewayState::Available) => Poll::Ready(gateway),
            Some(NatGatewayState::Failed) => Poll::Failed(failure(&id, gateway.as_ref())),
            Some(other) => Poll::Waiting(other.as_str().to_string()),
            None => Poll::Waiting("not visible yet".into()),
        })
    })
    .await?;
    gateway.and_then(|g| remote(&target, &g)).ok_or_else(|| gone("CreateNatGateway", &id))
}

/// The gateway's state; `None` while AWS does not show it yet.
async fn state(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<NatGatewayState>, ProviderError> {
    Ok(described(ec2, id).await?.and_then(|g| g.state().cloned()))
}

/// The gateway as described; `None` while AWS does not show it.
async fn described(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<NatGateway>, ProviderError> {
    match ec2.describe_nat_gateways().nat_gateway_ids(id).send().await {
        Ok(out) => Ok(out.nat_gateways().first().cloned()),
        Err(e) if code(&e).as_deref() == Some("NatGatewayNotFound") => Ok(None),
        Err(e) => Err(api("DescribeNatGateways", e)),
    }
}

pub async fn read(ec2: &aws_sdk_ec2::Client, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    let out = match ec2.describe_nat_gateways().nat_gateway_ids(id).send().await {
        Ok(out) => out,
        Err(e) if code(&e).as_deref() == Some("NatGatewayNotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeNatGateways", e)),
    };
    Ok(out.nat_gateways().first().and_then(|gateway| remote(&target, gateway)))
}

/// Why a gateway failed, as AWS says it (`Gateway.NotAttached`: made
/// before its VPC's internet gateway was attached).
fn failure(id: &str, gateway: Option<&NatGateway>) -> String {
    let code = gateway.and_then(NatGateway::failure_code).unwrap_or("no failure code");
    let message = gateway.and_then(NatGateway::failure_message).unwrap_or("");
    format!("{id} failed to become available: {code}: {message}").trim_end_matches([':', ' ']).to_string()
}

/// Whether a gateway still counts: not deleted or being deleted, and not
/// failed (AWS shows a failed one for about an hour; it never carries
/// traffic, so the next plan makes a new one).
pub fn live(gateway: &NatGateway) -> bool {
    !matches!(gateway.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed))
}

/// A gateway as the state keeps it; `None` once it is gone or failed.
pub fn remote(target: &Target<'_>, gateway: &NatGateway) -> Option<Remote> {
    if !live(gateway) {
        return None;
    }
    let id = gateway.nat_gateway_id().unwrap_or_default();
    let address = gateway.nat_gateway_addresses().first();
    let mut attrs = Attrs::new();
    attrs.insert("id".into(), json!(id));
    attrs.insert("subnet".into(), json!(gateway.subnet_id().unwrap_or_default()));
    attrs.insert("elastic_ip".into(), json!(address.and_then(|a| a.allocation_id()).unwrap_or_default()));
    attrs.insert("public_ip".into(), json!(address.and_then(|a| a.public_ip()).unwrap_or_default()));
    attrs.insert("private_ip".into(), json!(address.and_then(|a| a.private_ip()).unwrap_or_default()));
    attrs.insert("tags".into(), tags_attr(target, gateway.tags()));
    Some(Remote { id: id.into(), attrs })
}

pub async fn delete(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<(), ProviderError> {
    match ec2.delete_nat_gateway().nat_gateway_id(id).send().await {
        Ok(_) => {}
        Err(e) if code(&e).as_deref() == Some("NatGatewayNotFound") => return Ok(()),
        Err(e) => return Err(api("DeleteNatGateway", e)),
    }
    wait_for("DeleteNatGateway", DELETE_BUDGET, || async {
        Ok(match state(ec2, id).await? {
            None | Some(NatGatewayState::Deleted) => Poll::Ready(()),
            Some(other) => Poll::Waiting(other.as_str().to_string()),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{NatGateway, NatGatewayState};
    use k8sinfra_engine::provider::Target;

    #[test]
    fn a_failed_gateway_counts_as_gone_and_says_why() {
        let target = Target {
            type_name: "nat_gateway",
            address: "nat_gateway.main",
            lineage: "l",
            since: None,
            expected_id: None,
            not_id: None,
            token: None,
            alias: "",
        };
        let gateway = |state| NatGateway::builder().nat_gateway_id("nat-1").state(state).build();
        assert!(super::remote(&target, &gateway(NatGatewayState::Available)).is_some());
        assert!(super::remote(&target, &gateway(NatGatewayState::Pending)).is_some());
        for gone in [NatGatewayState::Failed, NatGatewayState::Deleting, NatGatewayState::Deleted] {
            assert!(super::remote(&target, &gateway(gone.clone())).is_none(), "{gone:?}");
        }
        let failed = NatGateway::builder()
            .state(NatGatewayState::Failed)
            .failure_code("Gateway.NotAttached")
            .failure_message("Network vpc-1 has no Internet gateway attached")
            .build();
        assert_eq!(
            super::failure("nat-1", Some(&failed)),
            "nat-1 failed to become available: Gateway.NotAttached: Network vpc-1 has no Internet gateway attached"
        );
    }
}
