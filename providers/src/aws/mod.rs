//! The AWS provider: VPC networking, EC2 instances and volumes, Route53,
//! classic ELBs and S3. Schemas live by service (`ec2`, `route53`, `elb`,
//! `s3`); static checks in `checks`.

pub mod checks;
mod ec2;
mod elb;
mod route53;
mod s3;

use k8sinfra_engine::config::Config;
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_engine::Provider;
use k8sinfra_lang::{Diagnostics, Type, Value};

pub struct Aws {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
}

impl Aws {
    #[must_use]
    pub fn new() -> Self {
        let mut schemas = ec2::schemas();
        schemas.extend(route53::schemas());
        schemas.extend(elb::schemas());
        schemas.extend(s3::schemas());
        let settings = BlockSchema::new(
            "aws",
            vec![
                AttrSchema::optional("region", Type::String)
                    .describe("Region, e.g. us-east-1; defaults to the AWS_REGION environment variable"),
                AttrSchema::optional("profile", Type::String).describe("Named profile from ~/.aws/config"),
            ],
        );
        Aws { schemas, settings }
    }
}

impl Default for Aws {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Aws {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }

    fn settings(&self) -> &BlockSchema {
        &self.settings
    }

    fn check(&self, config: &Config, diags: &mut Diagnostics) {
        checks::run(config, diags);
    }
}

/// `tags`, which every taggable resource takes; `Name` defaults to the address.
fn tags() -> AttrSchema {
    AttrSchema::optional("tags", Type::map(Type::String))
        .default(Value::Map(Default::default()))
        .describe("Tags; `Name` defaults to the resource's address, and k8sinfra adds its ownership tags")
}

/// The cloud id every resource exports.
fn id() -> AttrSchema {
    AttrSchema::computed("id", Type::String).describe("The id AWS assigns")
}

/// A reference to another resource of the given type.
fn reference(type_name: &str) -> Type {
    Type::Ref(type_name.to_string())
}
