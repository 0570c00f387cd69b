//! Schemas of the EC2 resources: VPC networking, security groups, key
//! pairs, instances and EBS volumes.

use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_lang::{Type, Value};

use super::super::{id, reference, tags};

pub fn schemas() -> Vec<ResourceSchema> {
    vec![
        ResourceSchema::new("vpc", "A virtual private cloud: an isolated network with one IPv4 CIDR block")
            .attr(
                AttrSchema::required("cidr", Type::Cidr).forces_new().describe("The VPC's range, between /16 and /28"),
            )
            .attr(
                AttrSchema::optional("enable_dns_support", Type::Bool)
                    .default(Value::Bool(true))
                    .describe("Resolve DNS names through the Amazon DNS server"),
            )
            .attr(
                AttrSchema::optional("enable_dns_hostnames", Type::Bool)
                    .default(Value::Bool(false))
                    .describe("Give instances public DNS names"),
            )
            .attr(tags())
            .attr(id())
            .attr(
                AttrSchema::computed("default_security_group", Type::String)
                    .describe("Id of the VPC's default security group"),
            )
            .attr(AttrSchema::computed("main_route_table", Type::String).describe("Id of the VPC's main route table")),
        ResourceSchema::new("subnet", "A range of a VPC in one availability zone")
            .attr(AttrSchema::required("vpc", reference("vpc")).forces_new().describe("The VPC the subnet is part of"))
            .attr(
                AttrSchema::required("cidr", Type::Cidr)
                    .forces_new()
                    .describe("Inside the VPC's range, not overlapping its other subnets"),
            )
            .attr(
                AttrSchema::required("zone", Type::String).forces_new().describe("Availability zone, e.g. us-east-1a"),
            )
            .attr(
                AttrSchema::optional("public_ip_on_launch", Type::Bool)
                    .default(Value::Bool(false))
                    .describe("Give instances launched here a public IP"),
            )
            .attr(tags())
            .attr(id()),
        ResourceSchema::new("internet_gateway", "An internet gateway, attached to a VPC")
            .attr(AttrSchema::required("vpc", reference("vpc")).describe("The VPC to attach the gateway to"))
            .attr(tags())
            .attr(id()),
        ResourceSchema::new("route_table", "A route table and the subnets associated with it")
            .attr(AttrSchema::required("vpc", reference("vpc")).forces_new().describe("The VPC of the table"))
            .attr(
                AttrSchema::optional("subnets", Type::list(reference("subnet")))
                    .default(Value::List(Vec::new()))
                    .unordered()
                    .describe("Subnets that use this table"),
            )
            .block(
                BlockSchema::new(
                    "route",
                    vec![
                        AttrSchema::required("cidr", Type::Cidr).describe("Destination, e.g. 0.0.0.0/0"),
                        AttrSchema::optional("internet_gateway", reference("internet_gateway")).describe("Target: an internet gateway"),
                        AttrSchema::optional("nat_gateway", reference("nat_gateway")).describe("Target: a NAT gateway"),
                        AttrSchema::optional("instance", reference("instance")).describe("Target: an instance"),
                    ],
                )
                .unordered()
                .describe("A route; exactly one target"),
            )
            .attr(tags())
            .attr(id()),
        ResourceSchema::new("elastic_ip", "A static public IPv4 address")
            .attr(
                AttrSchema::optional("instance", reference("instance"))
                    .cleared_when_unset()
                    .describe("Instance to associate it with; taken out of the configuration, the address is taken off"),
            )
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("public_ip", Type::Ip).describe("The address AWS allocates")),
        ResourceSchema::new("nat_gateway", "A NAT gateway giving private subnets outbound internet access")
            .attr(
                AttrSchema::required("subnet", reference("subnet"))
                    .forces_new()
                    .describe("A public subnet (one routed to an internet gateway)"),
            )
            .attr(AttrSchema::required("elastic_ip", reference("elastic_ip")).forces_new().describe("The address the gateway uses"))
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("public_ip", Type::Ip).describe("Its public address"))
            .attr(AttrSchema::computed("private_ip", Type::Ip).describe("Its address in the subnet")),
        ResourceSchema::new("security_group", "A stateful firewall for instances and load balancers")
            .attr(AttrSchema::required("vpc", reference("vpc")).forces_new().describe("The VPC of the group"))
            .attr(
                AttrSchema::optional_computed("name", Type::String)
                    .forces_new()
                    .describe("Group name; defaults to the resource name"),
            )
            .attr(
                AttrSchema::optional("description", Type::String)
                    .forces_new()
                    .default(Value::String("Managed by k8sinfra".into())).describe("Group description"),
            )
            .block(rule_block("ingress"))
            .block(rule_block("egress"))
            .attr(tags())
            .attr(id()),
        security_group_rule(),
        ResourceSchema::new("key_pair", "An SSH public key registered with EC2")
            .id_is("name")
            .attr(
                AttrSchema::optional_computed("name", Type::String)
                    .forces_new()
                    .describe("Key name; defaults to the resource name"),
            )
            .attr(
                AttrSchema::required("public_key", Type::String)
                    .forces_new()
                    .describe("OpenSSH public key text, e.g. `file(\"id_rsa.pub\")`"),
            )
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("fingerprint", Type::String).describe("Fingerprint of the key")),
        ResourceSchema::new("image", "A machine image found by its owner and name: a lookup, nothing is made")
            .attr(AttrSchema::required("owner", Type::String).forces_new().describe("The account that publishes it, e.g. 099720109477 (Canonical)"))
            .attr(AttrSchema::required("name", Type::String).forces_new().describe("Its name, with `*` and `?` as wildcards: the newest match is taken"))
            .attr(AttrSchema::optional("architecture", Type::String).default(Value::String("x86_64".into())).forces_new().describe("x86_64 or arm64"))
            .attr(AttrSchema::computed("id", Type::String).describe("The image found when first looked up (ami-…), kept until the lookup is replaced"))
            .attr(AttrSchema::computed("image_name", Type::String).describe("The image's full name"))
            .attr(AttrSchema::computed("root_device", Type::String).describe("The image's root device"))
            .attr(AttrSchema::computed("latest", Type::String).reported().describe("The newest match at the last refresh: another id than `id` when a newer image was published since (a plan reports the change)")),
        ResourceSchema::new("instance", "An EC2 instance")
            .attr(AttrSchema::required("image", Type::String).forces_new().describe("AMI id. A plan that launches an instance looks the image up (DescribeImages): an image the region lacks is an error (`plan::cloud`) before anything is made"))
            .attr(
                AttrSchema::required("type", Type::String)
                    .describe("Instance type, e.g. t2.nano; changed in place by stop/modify/start"),
            )
            .attr(AttrSchema::optional("key_pair", reference("key_pair")).forces_new().describe("SSH key pair for the instance"))
            .attr(AttrSchema::required("subnet", reference("subnet")).forces_new().describe("Subnet to launch in"))
            .attr(
                AttrSchema::optional_computed("security_groups", Type::list(reference("security_group")))
                    .unordered()
                    .describe("Security groups of the instance; AWS assigns the VPC's default group if none are given"),
            )
            .attr(
                AttrSchema::optional("user_data", Type::String)
                    .forces_new()
                    .sensitive()
                    .describe("Cloud-init script or data; sensitive: plans show `(sensitive)`, as it often carries keys"),
            )
            .attr(
                AttrSchema::optional("load_balancers", Type::list(reference("load_balancer")))
                    .default(Value::List(Vec::new()))
                    .unordered()
                    .describe("Classic ELBs the instance registers with once running, and leaves before it is terminated"),
            )
            .attr(AttrSchema::optional_computed("private_ip", Type::Ip).forces_new().describe("Private address in the subnet; AWS picks one if unset"))
            .attr(
                AttrSchema::optional("iam_instance_profile", reference("iam_instance_profile"))
                    .cleared_when_unset()
                    .describe(
                        "Instance profile whose role's credentials the instance gets from the metadata service; \
                         changed in place, and taken off when unset",
                    ),
            )
            .attr(
                AttrSchema::optional("require_imdsv2", Type::Bool)
                    .default(Value::Bool(true))
                    .describe("Require session tokens for the metadata service"),
            )
            .attr(AttrSchema::optional("metadata_hop_limit", Type::Number).default(Value::Number(1.0)).describe(
                "How many network hops a metadata token may travel: 1 keeps it on the host, out of containers' reach (the instance role's credentials with it); AWS's default is 2 for some images",
            ))
            .block(
                BlockSchema::new(
                    "root_volume",
                    vec![
                        AttrSchema::optional("size", Type::Number).describe("Size in GiB"),
                        AttrSchema::optional("type", Type::String).default(Value::String("gp3".into())).describe("Volume type"),
                        AttrSchema::optional("encrypted", Type::Bool).default(Value::Bool(true)).describe("Encrypt the volume"),
                    ],
                )
                .single(),
            )
            .attr(tags())
            .attr(id())
            .attr(AttrSchema::computed("public_ip", Type::Ip).describe("Public address, if it has one"))
            .attr(AttrSchema::computed("private_dns", Type::String).describe("Private DNS name"))
            .attr(AttrSchema::computed("public_dns", Type::String).describe("Public DNS name"))
            .attr(AttrSchema::computed("zone", Type::String).describe("Availability zone it runs in")),
        ResourceSchema::new("ebs_volume", "An EBS block storage volume")
            .attr(
                AttrSchema::required("zone", Type::String)
                    .forces_new()
                    .describe("Availability zone; must be the zone of the instance it attaches to"),
            )
            .attr(AttrSchema::required("size", Type::Number).describe("Size in GiB"))
            .attr(
                AttrSchema::optional("type", Type::String)
                    .default(Value::String("gp3".into()))
                    .describe("Volume type: standard, gp2, gp3, io1, io2, st1 or sc1"),
            )
            .attr(AttrSchema::optional("encrypted", Type::Bool).forces_new().default(Value::Bool(true)).describe("Encrypt the volume"))
            .attr(tags())
            .attr(id()),
        ResourceSchema::new("volume_attachment", "An EBS volume attached to an instance")
            .attr(AttrSchema::required("volume", reference("ebs_volume")).forces_new().describe("The volume to attach"))
            .attr(AttrSchema::required("instance", reference("instance")).forces_new().describe("The instance to attach it to"))
            .attr(
                AttrSchema::required("device", Type::String)
                    .forces_new()
                    .describe("Device name, e.g. xvdh or /dev/sdh"),
            )
            .attr(AttrSchema::optional("force_detach", Type::Bool).default(Value::Bool(false)).describe(
                "Detach even while the host uses the volume (unwritten data may be lost); without it a detach waits up to 10 minutes for the volume to be released. Not needed when the instance goes in the same run: the attachment ends with it",
            ))
            .attr(id()),
    ]
}

/// One rule of a group, managed apart from it: every attribute of a rule
/// block, plus the group and the direction; any change makes a new rule.
fn security_group_rule() -> ResourceSchema {
    let mut schema =
        ResourceSchema::new("security_group_rule", "One rule of a security group, for groups that refer to each other")
            .attr(
                AttrSchema::required("group", reference("security_group"))
                    .forces_new()
                    .describe("The group the rule belongs to"),
            )
            .attr(
                AttrSchema::optional("direction", Type::String)
                    .forces_new()
                    .default(Value::String("ingress".into()))
                    .describe("ingress or egress"),
            );
    for attr in rule_block("ingress").attrs {
        schema = schema.attr(attr.forces_new());
    }
    schema.attr(
        AttrSchema::computed("id", Type::String)
            .describe("`GROUP_DIRECTION_PROTOCOL_FROM_TO_SOURCES`, Terraform's import form"),
    )
}

/// An `ingress` or `egress` rule of a security group.
fn rule_block(name: &'static str) -> BlockSchema {
    BlockSchema::new(
        name,
        vec![
            AttrSchema::required("protocol", Type::String)
                .describe("Protocol: tcp, udp, icmp, all, or an IP protocol number"),
            AttrSchema::optional("port", Type::PortRange)
                .describe("A port (22) or a range (30000..32767); all ports when absent"),
            AttrSchema::optional("cidrs", Type::list(Type::Cidr))
                .default(Value::List(Vec::new()))
                .describe("Networks: the sources of an ingress rule, the destinations of an egress rule"),
            AttrSchema::optional("from", Type::Ref("security_group".into()))
                .describe("Another security group as the source (or destination)"),
            AttrSchema::optional("self", Type::Bool)
                .default(Value::Bool(false))
                .describe("The group itself as the source"),
            AttrSchema::optional("description", Type::String).describe("Rule description"),
        ],
    )
    .unordered()
}
