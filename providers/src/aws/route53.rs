//! Schemas of the Route53 resources: hosted zones and record sets.

use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("dns_zone", "A Route53 hosted zone")
            .attr(AttrSchema::required("name", Type::String).forces_new().describe("Domain, e.g. k8s-devops.net"))
            .attr(AttrSchema::optional("comment", Type::String).default(Value::String("Managed by k8sinfra".into())))
            .attr(
                AttrSchema::optional("vpc", reference("vpc"))
                    .forces_new()
                    .describe("Makes the zone private to this VPC"),
            )
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("name_servers", Type::list(Type::String))),
        ResourceSchema::new("dns_record", "A record set in a hosted zone, written with UPSERT")
            .attr(AttrSchema::required("zone", reference("dns_zone")).forces_new())
            .attr(
                AttrSchema::required("name", Type::String)
                    .forces_new()
                    .describe("Full name, e.g. public.k8s-devops.net"),
            )
            .attr(AttrSchema::required("type", Type::String).forces_new().describe("A, AAAA, CNAME or TXT"))
            .attr(AttrSchema::optional("ttl", Type::Number).default(Value::Number(300.0)))
            .attr(AttrSchema::optional("records", Type::list(Type::String)).default(Value::List(Vec::new())))
            .block(
                BlockSchema::new(
                    "alias",
                    vec![
                        AttrSchema::required("load_balancer", reference("load_balancer")),
                        AttrSchema::optional("evaluate_health", Type::Bool).default(Value::Bool(false)),
                    ],
                )
                .single()
                .describe("Alias to a load balancer instead of records"),
            )
            .attr(AttrSchema::computed("fqdn", Type::String)),
    ]
}
