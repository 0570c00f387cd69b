//! The classic Elastic Load Balancer: schema, and its calls.

mod load_balancer;

pub use load_balancer::{canonical, create, delete, follow, read, update};

use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![ResourceSchema::new("load_balancer", "A classic Elastic Load Balancer")
        .id_is("name")
        .attr(
            AttrSchema::optional_computed("name", Type::String).forces_new().describe("Defaults to the resource name"),
        )
        .attr(AttrSchema::required("subnets", Type::list(reference("subnet"))).unordered())
        .attr(
            AttrSchema::optional_computed("security_groups", Type::list(reference("security_group")))
                .unordered()
                .describe("Security groups; AWS assigns the VPC's default group if none are given"),
        )
        .attr(AttrSchema::optional("internal", Type::Bool).forces_new().default(Value::Bool(false)))
        .attr(AttrSchema::optional_computed("instances", Type::list(reference("instance"))).unordered().describe(
            "The registered instances; when left out, registrations are left to the instances' own \
                     `load_balancers` (a rolling group's members register themselves)",
        ))
        .block(
            BlockSchema::new(
                "listener",
                vec![
                    AttrSchema::required("port", Type::Port),
                    AttrSchema::required("protocol", Type::String).describe("HTTP, HTTPS, TCP or SSL"),
                    AttrSchema::required("instance_port", Type::Port),
                    AttrSchema::optional("instance_protocol", Type::String),
                ],
            )
            .at_least(1),
        )
        .block(
            BlockSchema::new(
                "health_check",
                vec![
                    AttrSchema::required("target", Type::String).describe("e.g. HTTP:80/ or TCP:443"),
                    AttrSchema::optional("interval", Type::Number).default(Value::Number(30.0)),
                    AttrSchema::optional("timeout", Type::Number).default(Value::Number(5.0)),
                    AttrSchema::optional("healthy_threshold", Type::Number).default(Value::Number(2.0)),
                    AttrSchema::optional("unhealthy_threshold", Type::Number).default(Value::Number(2.0)),
                ],
            )
            .single(),
        )
        .attr(tags())
        .attr(id())
        .attr(AttrSchema::computed("dns_name", Type::String))
        .attr(AttrSchema::computed("zone_id", Type::String))]
}
