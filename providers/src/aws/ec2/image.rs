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
    // Lookups that would find nothing: refused now, not halfway through.
    for change in plan.changes.iter().filter(|c| c.type_name == "image" && c.action == Action::Create) {
        let text = |name: &str| change.config.get(name).and_then(k8sinfra_lang::Value::as_str).unwrap_or_default();
        let (owner, name) = (text("owner"), text("name"));
        let architecture = if text("architecture").is_empty() { "x86_64" } else { text("architecture") };
        if lookup::newest(ec2, owner, name, architecture).await?.is_none() {
            problems.push(Problem {
                address: change.address.clone(),
                attribute: "name".into(),
                message: lookup::no_match(owner, name, architecture, region),
                help: format!(
                    "check the owner and the name pattern: `aws ec2 describe-images --region {region} --owners {owner} \
                     --filters Name=name,Values='{name}'`"
                ),
            });
        }
    }
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

/// `image`: a lookup, not a resource — its create finds the newest image
/// of an owner whose name matches a pattern, and the state keeps that id,
/// so an image published tomorrow does not silently replace every host
/// launched from it. Each refresh looks again and records the newest
/// match as `latest`: the plan shows it changing (among the changes found
/// outside k8sinfra), and the user moves to it on purpose by replacing the
/// lookup (`k8sinfra state rm` it, then apply). Nothing is deleted.
pub mod lookup {
    use aws_sdk_ec2::types::{Filter, Image};
    use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored};
    use serde_json::json;

    use super::super::super::attrs::string;
    use super::super::super::errors::{api, code};
    use super::DEFAULT_ROOT;

    /// The newest image of `owner` whose name matches `pattern` (ties: the
    /// greater name, as dated names sort), for `architecture`.
    pub async fn newest(
        ec2: &aws_sdk_ec2::Client,
        owner: &str,
        pattern: &str,
        architecture: &str,
    ) -> Result<Option<Image>, ProviderError> {
        let filters = vec![
            Filter::builder().name("name").values(pattern).build(),
            Filter::builder().name("architecture").values(architecture).build(),
            Filter::builder().name("state").values("available").build(),
        ];
        let out = ec2
            .describe_images()
            .owners(owner)
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(|e| api("DescribeImages", e))?;
        let mut images: Vec<Image> = out.images().to_vec();
        images.sort_by(|a, b| (a.creation_date(), a.name()).cmp(&(b.creation_date(), b.name())));
        Ok(images.pop())
    }

    fn wanted(attrs: &Attrs) -> (String, String, String) {
        let architecture = string(attrs, "architecture");
        let architecture = if architecture.is_empty() { "x86_64".to_string() } else { architecture };
        (string(attrs, "owner"), string(attrs, "name"), architecture)
    }

    fn remote(image: &Image, asked: &Attrs, latest: Option<&str>) -> Remote {
        let id = image.image_id().unwrap_or_default();
        let (owner, name, architecture) = wanted(asked);
        let mut attrs = Attrs::new();
        attrs.insert("id".into(), json!(id));
        attrs.insert("owner".into(), json!(owner));
        attrs.insert("name".into(), json!(name));
        attrs.insert("architecture".into(), json!(architecture));
        attrs.insert("image_name".into(), json!(image.name().unwrap_or_default()));
        attrs.insert("root_device".into(), json!(image.root_device_name().unwrap_or(DEFAULT_ROOT)));
        attrs.insert("latest".into(), json!(latest.unwrap_or(id)));
        Remote { id: id.to_string(), attrs }
    }

    /// The newest match, or a clear error naming what matched nothing.
    pub async fn create(ec2: &aws_sdk_ec2::Client, region: &str, attrs: &Attrs) -> Result<Remote, ProviderError> {
        let (owner, name, architecture) = wanted(attrs);
        match newest(ec2, &owner, &name, &architecture).await? {
            Some(image) => Ok(remote(&image, attrs, None)),
            None => Err(ProviderError::Api {
                operation: "DescribeImages".into(),
                message: no_match(&owner, &name, &architecture, region),
            }),
        }
    }

    pub fn no_match(owner: &str, name: &str, architecture: &str, region: &str) -> String {
        format!("no {architecture} image of owner {owner} named `{name}` in {region}")
    }

    /// The image the state pinned, if it still exists, with the newest
    /// match now (`latest`).
    pub async fn read(ec2: &aws_sdk_ec2::Client, stored: &Stored<'_>) -> Result<Option<Remote>, ProviderError> {
        let pinned = match ec2.describe_images().image_ids(stored.id).send().await {
            Ok(out) => out.images().first().cloned(),
            Err(e) if code(&e).is_some_and(|c| c.starts_with("InvalidAMIID")) => None,
            Err(e) => return Err(api("DescribeImages", e)),
        };
        let Some(pinned) = pinned else { return Ok(None) };
        let (owner, name, architecture) = wanted(stored.attrs);
        let latest = if name.is_empty() { None } else { newest(ec2, &owner, &name, &architecture).await? };
        Ok(Some(remote(&pinned, stored.attrs, latest.as_ref().and_then(Image::image_id))))
    }
}
