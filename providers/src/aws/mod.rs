//! The AWS provider: VPC networking, EC2 instances and volumes, Route53,
//! classic ELBs and S3. Schemas live by service (`ec2`, `route53`, `elb`,
//! `s3`); static checks in `checks`.

pub mod checks;
mod ec2;
mod elb;
mod errors;
mod route53;
mod s3;
mod sdk;
pub mod state_s3;

use std::sync::OnceLock;

use k8sinfra_engine::config::{Config, ProviderSettings};
use k8sinfra_engine::provider::{Attrs, BoxFuture, ProviderError, Remote, Target};
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_engine::Provider;
use k8sinfra_lang::{Diagnostics, Type, Value};

pub struct Aws {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
    clients: OnceLock<Clients>,
}

/// SDK clients, made once per run from the provider block and the default
/// credential chain (profiles, environment, `AWS_ENDPOINT_URL`).
struct Clients {
    ec2: aws_sdk_ec2::Client,
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
        Aws { schemas, settings, clients: OnceLock::new() }
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

    fn can_apply(&self, type_name: &str) -> bool {
        ec2::APPLIES.contains(&type_name)
    }

    fn canonical(&self, type_name: &str, attr: &str, value: serde_json::Value) -> serde_json::Value {
        ec2::canonical(type_name, attr, value)
    }

    fn connect<'a>(&'a self, settings: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            if self.clients.get().is_some() {
                return Ok(());
            }
            let text = |name: &str| settings.values.get(name).and_then(Value::as_str).map(str::to_string);
            let Some(sdk) = sdk::load(text("region"), text("profile")).await else {
                return Err(ProviderError::Setup("no region: set `aws { region = \"…\" }` or AWS_REGION".into()));
            };
            let _ = self.clients.set(Clients { ec2: aws_sdk_ec2::Client::new(&sdk) });
            Ok(())
        })
    }

    fn read<'a>(&'a self, target: Target<'a>, id: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        match self.clients.get() {
            Some(c) => ec2::read(&c.ec2, target, id),
            None => Box::pin(async { Err(not_connected()) }),
        }
    }

    fn find<'a>(&'a self, target: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        match self.clients.get() {
            Some(c) => ec2::find(&c.ec2, target),
            None => Box::pin(async { Err(not_connected()) }),
        }
    }

    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        match self.clients.get() {
            Some(c) => ec2::create(&c.ec2, target, attrs),
            None => Box::pin(async { Err(not_connected()) }),
        }
    }

    fn update<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        before: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        match self.clients.get() {
            Some(c) => ec2::update(&c.ec2, target, id, before, after),
            None => Box::pin(async { Err(not_connected()) }),
        }
    }

    fn delete<'a>(&'a self, target: Target<'a>, id: &'a str) -> BoxFuture<'a, Result<(), ProviderError>> {
        match self.clients.get() {
            Some(c) => ec2::delete(&c.ec2, target, id),
            None => Box::pin(async { Err(not_connected()) }),
        }
    }
}

fn not_connected() -> ProviderError {
    ProviderError::Setup("the AWS provider was used before it connected".into())
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
