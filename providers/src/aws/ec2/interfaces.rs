//! A classic load balancer's network interfaces, which outlive it: AWS
//! deletes them a few minutes after `DeleteLoadBalancer` returns, and until
//! then its subnets and security groups cannot be deleted, and its VPC's
//! internet gateway cannot be detached (its public addresses are mapped).
//! Terraform's `aws_elb` deals with them in its delete; so does k8sinfra,
//! by waiting for them to go, so that what the load balancer used is
//! released when its delete ends.

use aws_sdk_ec2::types::Filter;
use k8sinfra_engine::provider::ProviderError;

use super::super::errors::{api, wait_for, Poll, DEPENDENTS_BUDGET};

/// Wait until the interfaces of the load balancer `name` are gone. AWS
/// describes each as "ELB NAME", requested by `amazon-elb`.
pub async fn released_by_load_balancer(ec2: &aws_sdk_ec2::Client, name: &str) -> Result<(), ProviderError> {
    let description = format!("ELB {name}");
    wait_for("DeleteLoadBalancer", DEPENDENTS_BUDGET, || async {
        let filter = Filter::builder().name("description").values(&description).build();
        let out = ec2
            .describe_network_interfaces()
            .filters(filter)
            .send()
            .await
            .map_err(|e| api("DescribeNetworkInterfaces", e))?;
        // Only AWS's own: an interface of the user's that happens to carry
        // the same description is not the load balancer's.
        let left = out.network_interfaces().iter().filter(|i| i.requester_id() == Some("amazon-elb")).count();
        Ok(if left == 0 {
            Poll::Ready(())
        } else {
            Poll::Waiting(format!("{left} of its network interfaces still there"))
        })
    })
    .await
}
