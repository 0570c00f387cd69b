//! Route53 hosted zones and record sets: schemas, and the calls by type.

mod record;
mod zone;

use k8sinfra_engine::provider::{Attrs, ProviderError, Remote, Stored, Target};
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("dns_zone", "A Route53 hosted zone")
            .attr(AttrSchema::required("name", Type::String).forces_new().describe("Domain, e.g. k8s-devops.net"))
            .attr(
                AttrSchema::optional("comment", Type::String)
                    .default(Value::String("Managed by k8sinfra".into()))
                    .describe("Comment on the zone"),
            )
            .attr(
                AttrSchema::optional("vpc", reference("vpc"))
                    .forces_new()
                    .describe("Makes the zone private to this VPC"),
            )
            .attr(AttrSchema::optional("force_destroy", Type::Bool).default(Value::Bool(false)).describe(
                "Delete record sets k8sinfra does not manage (made by hand, by external-dns) with the zone; \
                 without it, destroy refuses a zone that holds any",
            ))
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("name_servers", Type::list(Type::String)).describe("The zone's name servers")),
        ResourceSchema::new("dns_record", "A record set in a hosted zone")
            .attr(AttrSchema::required("zone", reference("dns_zone")).forces_new().describe("The hosted zone"))
            .attr(
                AttrSchema::required("name", Type::String)
                    .forces_new()
                    .describe("Full name, e.g. public.k8s-devops.net"),
            )
            .attr(
                AttrSchema::required("type", Type::String).forces_new().describe("Record type: A, AAAA, CNAME or TXT"),
            )
            .attr(
                AttrSchema::optional("ttl", Type::Number)
                    .default(Value::Number(300.0))
                    .describe("Time to live, in seconds"),
            )
            .attr(AttrSchema::optional("allow_overwrite", Type::Bool).default(Value::Bool(false)).describe(
                "Take over a record set that exists already (UPSERT); without it, creating over one is an error",
            ))
            .attr(
                AttrSchema::optional("records", Type::list(Type::String))
                    .default(Value::List(Vec::new()))
                    .unordered()
                    .describe("Values of the record"),
            )
            .block(
                BlockSchema::new(
                    "alias",
                    vec![
                        AttrSchema::required("load_balancer", reference("load_balancer"))
                            .describe("The load balancer the name points to"),
                        AttrSchema::optional("evaluate_health", Type::Bool)
                            .default(Value::Bool(false))
                            .describe("Evaluate the load balancer's health"),
                    ],
                )
                .single()
                .describe("Alias to a load balancer instead of records"),
            )
            .attr(AttrSchema::computed("fqdn", Type::String).describe("Fully qualified name of the record")),
    ]
}

type Route53 = aws_sdk_route53::Client;
type Elb = aws_sdk_elasticloadbalancing::Client;

pub async fn read(r53: &Route53, target: Target<'_>, id: &str) -> Result<Option<Remote>, ProviderError> {
    match target.type_name {
        "dns_zone" => zone::read(r53, target, id).await,
        _ => record::read(r53, target, id).await,
    }
}

/// Records in bulk, a zone listing at a time; `None` for zones (one
/// GetHostedZone each: a configuration has few).
pub async fn read_many(
    r53: &Route53,
    type_name: &str,
    stored: &[Stored<'_>],
) -> Result<Option<Vec<Option<Remote>>>, ProviderError> {
    match type_name {
        "dns_record" => {
            let ids: Vec<&str> = stored.iter().map(|s| s.id).collect();
            Ok(Some(record::read_many(r53, &ids).await?))
        }
        _ => Ok(None),
    }
}

/// Zones are found by the caller reference they were created with;
/// records by name, their natural identity (an UPSERT adopts them).
pub async fn find(r53: &Route53, target: Target<'_>) -> Result<Option<Remote>, ProviderError> {
    match target.type_name {
        "dns_zone" => zone::find(r53, target).await,
        _ => Ok(None),
    }
}

pub async fn create(r53: &Route53, elb: &Elb, target: Target<'_>, attrs: &Attrs) -> Result<Remote, ProviderError> {
    match target.type_name {
        "dns_zone" => zone::create(r53, target, attrs).await,
        _ => record::create(r53, elb, target, attrs).await,
    }
}

pub async fn update(
    r53: &Route53,
    elb: &Elb,
    target: Target<'_>,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<Remote, ProviderError> {
    match target.type_name {
        "dns_zone" => zone::update(r53, target, id, before, after).await,
        _ => record::update(r53, elb, target, id, before, after).await,
    }
}

pub async fn delete(r53: &Route53, target: Target<'_>, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    match target.type_name {
        "dns_zone" => {
            let force = attrs.get("force_destroy").and_then(serde_json::Value::as_bool).unwrap_or(false);
            zone::delete(r53, id, force).await
        }
        _ => record::delete(r53, id).await,
    }
}
