//! Images: what an instance boots from. The root device's name belongs to
//! the image (Ubuntu's `/dev/sda1`, Amazon Linux's `/dev/xvda`), so the root
//! volume's size and encryption can only be asked for under that name. A
//! plan looks up every image it is about to launch: an image the region
//! does not have is an error before anything is made, not after the VPC and
//! its NAT gateways already exist.

use std::collections::BTreeMap;

use k8sinfra_engine::plan::{Action, Plan};
use k8sinfra_engine::provider::{Problem, ProviderError};

use super::super::errors::{api, code};

/// The image's root device name; `None` if the region has no such image.
pub async fn root_device(ec2: &aws_sdk_ec2::Client, image: &str) -> Result<Option<String>, ProviderError> {
    match ec2.describe_images().image_ids(image).send().await {
        Ok(out) => Ok(out.images().first().map(|i| i.root_device_name().unwrap_or(DEFAULT_ROOT).to_string())),
        // AWS answers an id it does not know with NotFound (Malformed for
        // one that cannot be an id), not with an empty list.
        Err(e) if code(&e).is_some_and(|c| c.starts_with("InvalidAMIID")) => Ok(None),
        Err(e) => Err(api("DescribeImages", e)),
    }
}

/// What an EBS-backed image without a recorded root device boots from.
const DEFAULT_ROOT: &str = "/dev/xvda";

/// Every image the plan launches (instances created or replaced) that the
/// region does not have, reported on each instance that names it.
pub async fn verify(ec2: &aws_sdk_ec2::Client, region: &str, plan: &Plan) -> Result<Vec<Problem>, ProviderError> {
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for change in &plan.changes {
        if change.type_name != "instance" || !matches!(change.action, Action::Create | Action::Replace) {
            continue;
        }
        if let Some(image) = change.config.get("image").and_then(k8sinfra_lang::Value::as_str) {
            users.entry(image).or_default().push(&change.address);
        }
    }
    let mut problems = Vec::new();
    for (image, addresses) in users {
        if root_device(ec2, image).await?.is_some() {
            continue;
        }
        problems.extend(addresses.into_iter().map(|address| Problem {
            address: address.to_string(),
            attribute: "image".into(),
            message: format!("image `{image}` does not exist in region {region}"),
            help: format!(
                "image ids differ from region to region: look up this image's id in {region} \
                 (`aws ec2 describe-images --region {region} --owners OWNER --filters Name=name,Values=NAME`)"
            ),
        }));
    }
    Ok(problems)
}
