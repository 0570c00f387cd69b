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
            AttrSchema::optional_computed("name", Type::String).forces_new().describe("Name; defaults to the resource name"),
        )
        .attr(AttrSchema::required("subnets", Type::list(reference("subnet"))).unordered().describe("Subnets to place it in"))
        .attr(
            AttrSchema::optional_computed("security_groups", Type::list(reference("security_group")))
                .unordered()
                .describe("Security groups of the load balancer; AWS assigns the VPC's default group if none are given"),
        )
        .attr(AttrSchema::optional("internal", Type::Bool).forces_new().default(Value::Bool(false)).describe("Internal (private addresses only) instead of internet-facing"))
        .attr(AttrSchema::optional_computed("instances", Type::list(reference("instance"))).unordered().describe(
            "The registered instances; when left out, registrations are left to the instances' own \
                     `load_balancers` (a rolling group's members register themselves)",
        ).describe("Instances to register; when unset, the registrations are left to the instances' own `load_balancers`"))
        .block(
            BlockSchema::new(
                "listener",
                vec![
                    AttrSchema::required("port", Type::Port).describe("Port the load balancer listens on"),
                    AttrSchema::required("protocol", Type::String).describe("Protocol: HTTP, HTTPS, TCP or SSL"),
                    AttrSchema::required("instance_port", Type::Port).describe("Port on the instances"),
                    AttrSchema::optional("instance_protocol", Type::String).describe("Protocol to the instances"),
                ],
            )
            .at_least(1),
        )
        .block(
            BlockSchema::new(
                "health_check",
                vec![
                    AttrSchema::required("target", Type::String).describe("What to check, e.g. HTTP:80/ or TCP:443"),
                    AttrSchema::optional("interval", Type::Number).default(Value::Number(30.0)).describe("Seconds between checks"),
                    AttrSchema::optional("timeout", Type::Number).default(Value::Number(5.0)).describe("Seconds before a check fails"),
                    AttrSchema::optional("healthy_threshold", Type::Number).default(Value::Number(2.0)).describe("Successful checks before an instance is healthy"),
                    AttrSchema::optional("unhealthy_threshold", Type::Number).default(Value::Number(2.0)).describe("Failed checks before an instance is unhealthy"),
                ],
            )
            .single(),
        )
        .attr(tags())
        .attr(id())
        .attr(AttrSchema::computed("dns_name", Type::String).describe("Its DNS name"))
        .attr(AttrSchema::computed("zone_id", Type::String).describe("Its hosted zone id"))]
}
