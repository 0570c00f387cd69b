//! The AWS provider: VPC networking, EC2 instances and volumes, Route53,
//! classic ELBs and S3. Schemas live by service (`ec2`, `route53`, `elb`,
//! `s3`); static checks in `checks`.

mod attrs;
pub mod calls;
pub mod checks;
mod consistency;
mod ec2;
mod elb;
mod errors;
mod iam;
mod lookups;
mod ordering;
mod route53;
mod s3;
mod sdk;
pub mod state_s3;
mod tags;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use attrs::sorted_strings;

use k8sinfra_engine::config::{Config, ProviderSettings};
use k8sinfra_engine::plan::{Action, Plan};
use k8sinfra_engine::provider::{read_each, Attrs, BoxFuture, Problem, ProviderError, Remote, Stored, Target};
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_engine::Provider;
use k8sinfra_lang::{Diagnostics, Type, Value};

pub struct Aws {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
    /// The clients of each configuration connected, by alias ("" for the
    /// `aws` block): one region (and profile) each.
    clients: Mutex<BTreeMap<String, Arc<Clients>>>,
}

/// SDK clients, made once per run from the provider block and the default
/// credential chain (profiles, environment, `AWS_ENDPOINT_URL`).
struct Clients {
    ec2: aws_sdk_ec2::Client,
    s3: aws_sdk_s3::Client,
    route53: aws_sdk_route53::Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    region: String,
}

impl Aws {
    #[must_use]
    pub fn new() -> Self {
        let mut schemas = ec2::schemas();
        schemas.extend(route53::schemas());
        schemas.extend(elb::schemas());
        schemas.extend(s3::schemas());
        schemas.extend(iam::schemas());
        schemas.extend(lookups::schemas());
        let settings = BlockSchema::new(
            "aws",
            vec![
                AttrSchema::optional("region", Type::String)
                    .describe("Region, e.g. us-east-1; defaults to the AWS_REGION environment variable"),
                AttrSchema::optional("profile", Type::String).describe("Named profile from ~/.aws/config"),
            ],
        );
        Aws { schemas, settings, clients: Mutex::new(BTreeMap::new()) }
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

    fn implicit_dependencies(
        &self,
        config: &Config,
    ) -> Vec<(k8sinfra_engine::ResourceAddr, k8sinfra_engine::ResourceAddr)> {
        ordering::implicit_dependencies(config)
    }

    /// A volume attachment ends when its instance is terminated.
    fn released_with(&self, type_name: &str) -> Option<&'static str> {
        (type_name == "volume_attachment").then_some("instance")
    }

    fn can_apply(&self, type_name: &str) -> bool {
        self.schemas.iter().any(|s| s.type_name == type_name)
    }

    fn canonical(&self, type_name: &str, attr: &str, value: serde_json::Value) -> serde_json::Value {
        match service(type_name) {
            Service::Ec2 => ec2::canonical(type_name, attr, value),
            Service::Elb => elb::canonical(attr, value),
            Service::Iam => iam::canonical(type_name, attr, value),
            Service::S3 | Service::Route53 => value,
        }
    }

    fn connect<'a>(&'a self, settings: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let alias = settings.alias.as_str();
            if self.clients.lock().map_err(|_| not_connected(alias))?.contains_key(alias) {
                return Ok(());
            }
            let text = |name: &str| settings.values.get(name).and_then(Value::as_str).map(str::to_string);
            let Some(sdk) = sdk::load(text("region"), text("profile")).await else {
                let block = if alias.is_empty() { "aws".to_string() } else { format!("aws {alias}") };
                return Err(ProviderError::Setup(format!(
                    "no region: set `{block} {{ region = \"…\" }}` or AWS_REGION"
                )));
            };
            let clients = Arc::new(Clients {
                ec2: sdk::ec2(&sdk),
                s3: sdk::s3(&sdk),
                route53: sdk::route53(&sdk),
                elb: sdk::elb(&sdk),
                iam: sdk::iam(&sdk),
                sts: sdk::sts(&sdk),
                region: sdk.region().map(ToString::to_string).unwrap_or_default(),
            });
            self.clients.lock().map_err(|_| not_connected(alias))?.insert(alias.to_string(), clients);
            Ok(())
        })
    }

    fn verify<'a>(&'a self, plan: &'a Plan) -> BoxFuture<'a, Result<Vec<Problem>, ProviderError>> {
        Box::pin(calls::for_type("instance", async move {
            // Nothing to look up (no instance or image made): no call, and
            // no connection needed (a configuration of local resources).
            let launches = plan.changes.iter().any(|c| {
                matches!(c.type_name.as_str(), "instance" | "image")
                    && matches!(c.action, Action::Create | Action::Replace)
            });
            if !launches {
                return Ok(Vec::new());
            }
            // Each configuration (region) verifies what it launches.
            let mut aliases: Vec<&str> = plan.changes.iter().map(|c| c.provider.as_str()).collect();
            aliases.sort_unstable();
            aliases.dedup();
            let mut problems = Vec::new();
            for alias in aliases {
                let c = self.clients(alias)?;
                let own = Plan {
                    changes: plan.changes.iter().filter(|c| c.provider == alias).cloned().collect(),
                    ..plan.clone()
                };
                problems.extend(ec2::verify(&c.ec2, &c.region, &own).await?);
            }
            Ok(problems)
        }))
    }

    fn look_up<'a>(
        &'a self,
        type_name: &'a str,
        alias: &'a str,
        query: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(calls::for_type(type_name, async move {
            let c = self.clients(alias)?;
            lookups::look_up(&c.ec2, &c.route53, &c.sts, &c.region, type_name, query).await
        }))
    }

    fn read<'a>(&'a self, target: Target<'a>, id: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(calls::for_type(target.type_name, async move {
            let c = self.clients(target.alias)?;
            if lookups::TYPES.contains(&target.type_name) {
                return Err(ProviderError::Unsupported(
                    target.type_name.into(),
                    "resources: a lookup is read from its query at plan time".into(),
                ));
            }
            match service(target.type_name) {
                Service::Ec2 => ec2::read(&c.ec2, target, id).await,
                Service::S3 => s3::read(&c.s3, target, id).await,
                Service::Route53 => route53::read(&c.route53, target, id).await,
                Service::Elb => elb::read(&c.elb, target, id).await,
                Service::Iam => iam::read(&c.iam, target, id).await,
            }
        }))
    }

    fn read_many<'a>(
        &'a self,
        type_name: &'a str,
        stored: &'a [Stored<'a>],
    ) -> BoxFuture<'a, Result<Vec<Option<Remote>>, ProviderError>> {
        Box::pin(calls::for_type(type_name, async move {
            let c = self.clients(stored.first().map_or("", |s| s.target.alias))?;
            let bulk = match service(type_name) {
                Service::Ec2 => ec2::read_many(&c.ec2, type_name, stored).await?,
                Service::Route53 => route53::read_many(&c.route53, type_name, stored).await?,
                Service::S3 => s3::read_many(&c.s3, type_name, stored).await?,
                _ => None,
            };
            let mut read = match bulk {
                Some(read) => read,
                None => read_each(self, stored).await?,
            };
            consistency::confirm_gone(stored, &mut read, |i| self.read(stored[i].target.clone(), stored[i].id)).await?;
            Ok(read)
        }))
    }

    fn find<'a>(&'a self, target: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(calls::for_type(target.type_name, async move {
            // A lookup's create made nothing to find: the next plan looks again.
            if lookups::TYPES.contains(&target.type_name) {
                return Ok(None);
            }
            let c = self.clients(target.alias)?;
            // A create with an idempotency key needs no patience: made
            // again, it gets what the first one made.
            let since = if ec2::KEYED.contains(&target.type_name) { None } else { target.since };
            match service(target.type_name) {
                Service::Ec2 => consistency::find_patiently(since, || ec2::find(&c.ec2, target.clone())).await,
                Service::Route53 => {
                    consistency::find_patiently(since, || route53::find(&c.route53, target.clone())).await
                }
                Service::S3 => consistency::find_patiently(since, || s3::find(&c.s3, target.clone())).await,
                Service::Iam => consistency::find_patiently(since, || iam::find(&c.iam, target.clone())).await,
                // Found by name, its natural identity: an interrupted
                // create is adopted by the create that follows, when its
                // ownership tags say it is this resource's.
                Service::Elb => Ok(None),
            }
        }))
    }

    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(calls::for_type(target.type_name, async move {
            let c = self.clients(target.alias)?;
            // A lookup planned without refresh: looked up now.
            if lookups::TYPES.contains(&target.type_name) {
                return lookups::look_up(&c.ec2, &c.route53, &c.sts, &c.region, target.type_name, attrs).await;
            }
            match service(target.type_name) {
                Service::Ec2 if target.type_name == "instance" => {
                    let made = ec2::create(&c.ec2, target, attrs).await?;
                    elb::follow(&c.elb, &made.id, &[], &sorted_strings(attrs, "load_balancers")).await?;
                    Ok(made)
                }
                Service::Ec2 => ec2::create(&c.ec2, target, attrs).await,
                Service::S3 => s3::create(&c.s3, target, attrs).await,
                Service::Route53 => route53::create(&c.route53, &c.elb, target, attrs).await,
                Service::Elb => elb::create(&c.elb, target, attrs).await,
                Service::Iam => iam::create(&c.iam, target, attrs).await,
            }
        }))
    }

    fn update<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        before: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(calls::for_type(target.type_name, async move {
            let c = self.clients(target.alias)?;
            if lookups::TYPES.contains(&target.type_name) {
                let _ = (id, before);
                return lookups::look_up(&c.ec2, &c.route53, &c.sts, &c.region, target.type_name, after).await;
            }
            match service(target.type_name) {
                Service::Ec2 if target.type_name == "instance" => {
                    let (old, new) =
                        (sorted_strings(before, "load_balancers"), sorted_strings(after, "load_balancers"));
                    elb::follow(&c.elb, id, &old, &new).await?;
                    ec2::update(&c.ec2, target, id, before, after).await
                }
                Service::Ec2 => ec2::update(&c.ec2, target, id, before, after).await,
                Service::S3 => s3::update(&c.s3, target, id, before, after).await,
                Service::Route53 => route53::update(&c.route53, &c.elb, target, id, before, after).await,
                Service::Elb => elb::update(&c.elb, target, id, before, after).await,
                Service::Iam => iam::update(&c.iam, target, id, before, after).await,
            }
        }))
    }

    fn delete<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        attrs: &'a Attrs,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(calls::for_type(target.type_name, async move {
            // A lookup is forgotten, never deleted: it was never ours.
            if lookups::TYPES.contains(&target.type_name) {
                return Ok(());
            }
            let c = self.clients(target.alias)?;
            match service(target.type_name) {
                // Out of its load balancers before it goes, so no
                // request is sent to an instance shutting down.
                Service::Ec2 if target.type_name == "instance" => {
                    elb::follow(&c.elb, id, &sorted_strings(attrs, "load_balancers"), &[]).await?;
                    ec2::delete(&c.ec2, target, id, attrs).await
                }
                Service::Ec2 => ec2::delete(&c.ec2, target, id, attrs).await,
                Service::S3 => s3::delete(&c.s3, target, id, attrs).await,
                Service::Route53 => route53::delete(&c.route53, target, id, attrs).await,
                Service::Elb => {
                    elb::delete(&c.elb, id).await?;
                    ec2::released_by_load_balancer(&c.ec2, id).await
                }
                Service::Iam => iam::delete(&c.iam, target, id).await,
            }
        }))
    }
}

/// The AWS service behind each resource type.
enum Service {
    Ec2,
    S3,
    Route53,
    Elb,
    Iam,
}

fn service(type_name: &str) -> Service {
    match type_name {
        "s3_bucket" | "s3_object" => Service::S3,
        "dns_zone" | "dns_record" => Service::Route53,
        "load_balancer" => Service::Elb,
        "iam_role" | "iam_role_policy" | "iam_instance_profile" => Service::Iam,
        _ => Service::Ec2,
    }
}

impl Aws {
    /// The clients of the configuration `alias` ("" for the `aws` block).
    fn clients(&self, alias: &str) -> Result<Arc<Clients>, ProviderError> {
        self.clients.lock().ok().and_then(|c| c.get(alias).cloned()).ok_or_else(|| not_connected(alias))
    }
}

fn not_connected(alias: &str) -> ProviderError {
    let block = if alias.is_empty() { "aws".to_string() } else { format!("aws.{alias}") };
    ProviderError::Setup(format!("the AWS provider's configuration `{block}` was used before it connected"))
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
