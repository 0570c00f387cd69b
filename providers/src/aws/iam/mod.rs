//! IAM: roles, their inline policies, and instance profiles — what gives a
//! host AWS credentials of its own (a Kubernetes master's cloud controller
//! needs EC2 and ELB calls). IAM is global and eventually consistent: a
//! role or profile just made may be unknown to the next call for seconds,
//! so calls naming one retry `NoSuchEntity` (and EC2's "invalid
//! iamInstanceProfile") for up to `PROPAGATION`.
//!
//! Roles and profiles carry their name as their id and the ownership tags
//! every k8sinfra resource carries; a create that meets one of the same
//! name adopts it only when its tags say it is this resource's. Inline
//! policies have no tags: `PutRolePolicy` writes the whole document, so a
//! repeat is harmless.

mod instance_profile;
pub mod policy;
mod role;
mod role_policy;

use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Target};
use k8sinfra_engine::schema::{AttrSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("iam_role", "An IAM role, which hosts or services assume")
            .id_is("name")
            .attr(
                AttrSchema::required("name", Type::String)
                    .forces_new()
                    .describe("Name, unique in the account (IAM is global): letters, digits and +=,.@_-"),
            )
            .attr(AttrSchema::required("assume_role_policy", Type::String).describe(
                "Who may assume it: a policy document, usually `jsonencode({ Version = \"2012-10-17\", Statement = [...] })`",
            ))
            .attr(AttrSchema::optional("description", Type::String).default(Value::String(String::new())).describe("What the role is for"))
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("arn", Type::String).describe("The role's ARN"))
            .attr(AttrSchema::computed("unique_id", Type::String).describe("The id IAM assigns (AROA…)")),
        ResourceSchema::new("iam_role_policy", "A policy document written into a role (an inline policy)")
            .attr(AttrSchema::required("role", reference("iam_role")).forces_new().describe("The role"))
            .attr(AttrSchema::required("name", Type::String).forces_new().describe("The policy's name within the role"))
            .attr(AttrSchema::required("policy", Type::String).describe(
                "The policy document, usually `jsonencode({ Version = \"2012-10-17\", Statement = [...] })`",
            ))
            .attr(id()),
        ResourceSchema::new("iam_instance_profile", "What gives an instance a role's credentials")
            .id_is("name")
            .attr(
                AttrSchema::required("name", Type::String)
                    .forces_new()
                    .describe("Name, unique in the account: letters, digits and +=,.@_-"),
            )
            .attr(AttrSchema::required("role", reference("iam_role")).describe("The role instances get"))
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("arn", Type::String).describe("The profile's ARN")),
    ]
}

type Iam = aws_sdk_iam::Client;

/// Policy documents compared as what they grant (`policy::canonical`).
pub fn canonical(type_name: &str, attr: &str, value: serde_json::Value) -> serde_json::Value {
    match (type_name, attr, value.as_str()) {
        ("iam_role", "assume_role_policy", Some(text)) | ("iam_role_policy", "policy", Some(text)) => {
            serde_json::Value::String(policy::canonical(text))
        }
        _ => value,
    }
}

pub async fn read(iam: &Iam, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    match target.type_name {
        "iam_role" => role::read(iam, &target, id).await,
        "iam_role_policy" => role_policy::read(iam, id).await,
        _ => instance_profile::read(iam, &target, id).await,
    }
}

/// What an interrupted create made: the role or profile of the name it
/// asked for, when its ownership tags say it is this resource's. An inline
/// policy is written again.
pub async fn find(iam: &Iam, target: Target<'_>) -> Result<Option<Remote>, ProviderError> {
    let Some(name) = target.expected_id else { return Ok(None) };
    let found = match target.type_name {
        "iam_role" => role::get(iam, &target, name).await?,
        "iam_instance_profile" => instance_profile::get(iam, &target, name).await?,
        _ => return Ok(None),
    };
    Ok(found.filter(|(_, owned)| *owned).map(|(remote, _)| remote))
}

pub async fn create(iam: &Iam, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    match target.type_name {
        "iam_role" => role::create(iam, target, attrs).await,
        "iam_role_policy" => role_policy::put(iam, attrs).await,
        _ => instance_profile::create(iam, target, attrs).await,
    }
}

pub async fn update(
    iam: &Iam,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    match target.type_name {
        "iam_role" => role::update(iam, target, id, before, after).await,
        "iam_role_policy" => role_policy::put(iam, after).await,
        _ => instance_profile::update(iam, target, id, before, after).await,
    }
}

pub async fn delete(iam: &Iam, target: Target<'_>, id: &str) -> Result<(), ProviderError> {
    match target.type_name {
        "iam_role" => role::delete(iam, id).await,
        "iam_role_policy" => role_policy::delete(iam, id).await,
        _ => instance_profile::delete(iam, id).await,
    }
}

/// The tags a role or profile is created (or retagged) with, as IAM takes them.
fn sdk_tags(
    operation: &str,
    target: &Target<'_>,
    attrs: &Attrs,
) -> Result<Vec<aws_sdk_iam::types::Tag>, ProviderError> {
    super::tags::owned_tags(target, attrs)
        .into_iter()
        .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::Api { operation: operation.into(), message: e.to_string() })
}

/// Whether IAM tags mark a role or profile as `target`'s.
fn owned_by<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, target: &Target<'_>) -> bool {
    let tags: Vec<(&str, &str)> = tags.into_iter().collect();
    super::tags::owned_by(&tags, target)
}

/// The error IAM answers while a role or profile made moments ago is not
/// visible yet, or is gone.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";
