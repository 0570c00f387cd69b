//! The chapter's hosts on moto: security groups (rules compared one by
//! one), the key pair, a public and a private instance, and the 40 GB
//! volume attached to the public one. Applied, re-planned to nothing,
//! drifted by hand and repaired, changed in place, destroyed.

use aws_sdk_ec2::types::{Filter, InstanceStateName, IpPermission, IpRange};

use crate::apply::{example, id, k8sinfra, runtime, state};
use crate::moto::Moto;
use crate::support::{self, stderr, stdout};

/// The VPC example plus the chapter's `hosts.k8sinfra` and its key.
fn hosts() -> tempfile::TempDir {
    let dir = example("vpc");
    let seed = support::root().join("examples/seed-chapter");
    for file in ["hosts.k8sinfra", "internal_rsa.pub"] {
        std::fs::copy(seed.join(file), dir.path().join(file)).expect("copy");
    }
    std::fs::write(
        dir.path().join("inputs.k8sinfra"),
        "input admin_cidr: cidr = 107.196.102.199/32\ninput image: string = \"ami-a4c7edb2\"\n",
    )
    .expect("inputs");
    dir
}

fn owned(address: &str) -> Filter {
    Filter::builder().name("tag:k8sinfra:address").values(address).build()
}

#[test]
fn hosts_apply_converge_repair_drift_change_in_place_and_destroy() {
    let moto = Moto::start();
    let dir = hosts();
    let rt = runtime();
    let ec2 = moto.ec2();

    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(stderr(&apply).contains("Resources: 15 added"), "{}", stderr(&apply));
    let st = state(dir.path());

    // Security groups: the chapter's table, rule by rule.
    let public_sg = id(&st, "security_group.public");
    let groups = rt.block_on(ec2.describe_security_groups().group_ids(&public_sg).send()).expect("describe");
    let group = &groups.security_groups()[0];
    assert_eq!(group.group_name(), Some("public"), "named after the resource");
    assert_eq!(group.description(), Some("public facing host"));
    let mut ingress: Vec<(Option<i32>, Vec<&str>)> = group
        .ip_permissions()
        .iter()
        .map(|p| (p.from_port(), p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).collect()))
        .collect();
    ingress.sort();
    assert_eq!(ingress, vec![(Some(22), vec!["107.196.102.199/32"]), (Some(80), vec!["0.0.0.0/0"])]);
    let private_sg = id(&st, "security_group.private");
    let private = rt.block_on(ec2.describe_security_groups().group_ids(&private_sg).send()).expect("describe");
    let sources: Vec<(Option<i32>, Option<&str>)> = private.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.user_id_group_pairs().iter().map(move |g| (p.from_port(), g.group_id())))
        .collect();
    assert!(
        sources.contains(&(Some(22), Some(public_sg.as_str())))
            && sources.contains(&(Some(80), Some(public_sg.as_str())))
    );

    // Hosts: the key pair, the subnet, user data; the volume attached.
    let public_host = id(&st, "instance.public");
    let out = rt.block_on(ec2.describe_instances().instance_ids(&public_host).send()).expect("describe");
    let host = &out.reservations()[0].instances()[0];
    assert_eq!(host.key_name(), Some("internal"));
    assert_eq!(host.subnet_id(), Some(id(&st, "subnet.public").as_str()));
    assert_eq!(host.state().and_then(|s| s.name()), Some(&InstanceStateName::Running));
    assert!(st["resources"]["instance.public"]["attrs"]["user_data"].as_str().is_some_and(|u| u.contains("nginx")));
    let volume = id(&st, "ebs_volume.data");
    let volumes = rt.block_on(ec2.describe_volumes().volume_ids(&volume).send()).expect("describe");
    let v = &volumes.volumes()[0];
    assert_eq!((v.size(), v.availability_zone()), (Some(40), Some("us-east-1a")));
    assert_eq!(v.attachments()[0].instance_id(), Some(public_host.as_str()));
    assert_eq!(v.attachments()[0].device(), Some("xvdh"));

    let again = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "rules, key and hosts read back as written:\n{}", stdout(&again));

    // A rule added by hand is shown and removed.
    let hand = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(3306)
        .to_port(3306)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    rt.block_on(ec2.authorize_security_group_ingress().group_id(&private_sg).ip_permissions(hand).send())
        .expect("drift");
    let drift = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(drift.status.code(), Some(2));
    let shown = stdout(&drift);
    assert!(shown.contains("# security_group.private will be updated in place") && shown.contains("3306"), "{shown}");
    let repair = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(repair.status.success(), "{}", stderr(&repair));
    let private = rt.block_on(ec2.describe_security_groups().group_ids(&private_sg).send()).expect("describe");
    assert!(private.security_groups()[0].ip_permissions().iter().all(|p| p.from_port() != Some(3306)), "removed");

    // A new instance type is changed in place: same instance.
    let path = dir.path().join("hosts.k8sinfra");
    let text = std::fs::read_to_string(&path).expect("read");
    let (head, tail) = text.split_once("instance private {").expect("private host");
    std::fs::write(&path, format!("{head}instance private {{{}", tail.replacen("t2.nano", "t2.micro", 1)))
        .expect("edit");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# instance.private will be updated in place"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{}", stdout(&plan));
    let change = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(change.status.success(), "{}", stderr(&change));
    let private_host = id(&st, "instance.private");
    assert_eq!(id(&state(dir.path()), "instance.private"), private_host, "not replaced");
    let out = rt.block_on(ec2.describe_instances().instance_ids(&private_host).send()).expect("describe");
    let host = &out.reservations()[0].instances()[0];
    assert_eq!(host.instance_type().map(|t| t.as_str()), Some("t2.micro"));
    assert_eq!(host.state().and_then(|s| s.name()), Some(&InstanceStateName::Running), "started again");
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0));

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}", stderr(&destroy));
    for address in ["instance.public", "instance.private"] {
        let out = rt.block_on(ec2.describe_instances().filters(owned(address)).send()).expect("describe");
        let states: Vec<_> =
            out.reservations().iter().flat_map(|r| r.instances()).filter_map(|i| i.state()?.name().cloned()).collect();
        assert!(states.iter().all(|s| *s == InstanceStateName::Terminated), "{address}: {states:?}");
    }
    let volumes = rt.block_on(ec2.describe_volumes().filters(owned("ebs_volume.data")).send()).expect("describe");
    assert!(volumes.volumes().is_empty(), "volume deleted");
    let groups = rt.block_on(ec2.describe_security_groups().filters(owned("security_group.public")).send());
    assert!(groups.expect("describe").security_groups().is_empty(), "groups deleted");
    let keys = rt.block_on(ec2.describe_key_pairs().send()).expect("describe");
    assert!(keys.key_pairs().is_empty(), "key pair deleted");
}

#[test]
fn an_elastic_ip_follows_its_instance_and_is_released() {
    let moto = Moto::start();
    let dir = hosts();
    let rt = runtime();
    let ec2 = moto.ec2();
    let eip = dir.path().join("eip.k8sinfra");
    std::fs::write(&eip, "elastic_ip web {\n  instance = instance.public\n}\n").expect("eip");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let associated = |address: &str| {
        let st = state(dir.path());
        let out =
            rt.block_on(ec2.describe_addresses().allocation_ids(id(&st, "elastic_ip.web")).send()).expect("address");
        let on = out.addresses().first().and_then(|a| a.instance_id()).map(str::to_string);
        assert_eq!(on, Some(id(&st, address)), "the address is on {address}");
    };
    associated("instance.public");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // Another instance: the address moves, in place.
    std::fs::write(&eip, "elastic_ip web {\n  instance = instance.private\n}\n").expect("eip");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# elastic_ip.web will be updated in place"), "{}", stdout(&plan));
    let allocation = id(&state(dir.path()), "elastic_ip.web");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    associated("instance.private");
    assert_eq!(id(&state(dir.path()), "elastic_ip.web"), allocation, "the same address");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // `instance` unset: the address is taken off the host, and kept.
    std::fs::write(&eip, "elastic_ip web {}\n").expect("eip");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# elastic_ip.web will be updated in place"), "{}", stdout(&plan));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let out = rt.block_on(ec2.describe_addresses().allocation_ids(&allocation).send()).expect("address");
    assert_eq!(out.addresses().len(), 1, "kept");
    let on = out.addresses()[0].instance_id().filter(|i| !i.is_empty());
    assert_eq!(on, None, "on no host: {:?}", out.addresses());
    assert_eq!(out.addresses()[0].association_id(), None, "{:?}", out.addresses());
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    let left = rt.block_on(ec2.describe_addresses().filters(owned("elastic_ip.web")).send()).expect("addresses");
    assert!(left.addresses().is_empty(), "released: {:?}", left.addresses());
}

/// One instance with a 30 GB encrypted root volume, from `image`.
fn one_host(image: &str) -> tempfile::TempDir {
    let dir = example("vpc");
    std::fs::write(
        dir.path().join("host.k8sinfra"),
        format!(
            "instance host {{\n  image  = \"{image}\"\n  type   = \"t2.nano\"\n  subnet = subnet.private\n  \
             root_volume {{ size = 30 }}\n}}\n"
        ),
    )
    .expect("host");
    dir
}

#[test]
fn the_root_volume_is_sized_on_the_images_own_root_device() {
    let moto = Moto::start();
    let rt = runtime();
    // Amazon Linux boots from /dev/xvda, Ubuntu from /dev/sda1: the
    // mapping must name the image's device, or AWS adds a second volume.
    for (image, device) in [("ami-a4c7edb2", "/dev/xvda"), ("ami-785db401", "/dev/sda1")] {
        let dir = one_host(image);
        let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
        assert!(apply.status.success(), "{image}: {}{}", stdout(&apply), stderr(&apply));
        let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{image} settles:\n{}", stdout(&plan));
        let host = id(&state(dir.path()), "instance.host");
        let found = rt.block_on(moto.ec2().describe_instances().instance_ids(&host).send()).expect("describe");
        let instance = &found.reservations()[0].instances()[0];
        let devices: Vec<&str> = instance.block_device_mappings().iter().filter_map(|m| m.device_name()).collect();
        assert_eq!(devices, [device], "{image}: one volume, at the image's root device");
        let volume = instance.block_device_mappings()[0].ebs().and_then(|e| e.volume_id()).expect("volume");
        let volumes = rt.block_on(moto.ec2().describe_volumes().volume_ids(volume).send()).expect("volumes");
        assert_eq!(volumes.volumes()[0].size(), Some(30), "{image}: the root volume was resized");
        // Tagged in RunInstances itself, as the instance is: no volume of
        // this configuration is ever untagged.
        let tags: Vec<(&str, &str)> =
            volumes.volumes()[0].tags().iter().map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))).collect();
        assert!(tags.contains(&("k8sinfra:address", "instance.host")), "{image}: the root volume's tags: {tags:?}");
        let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "{}", stderr(&destroy));
    }
}

#[test]
fn an_image_the_region_lacks_is_a_plan_error_before_anything_is_made() {
    let moto = Moto::start();
    let rt = runtime();
    let dir = one_host("ami-0123456789abcdef0");
    for verb in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = k8sinfra(&moto, dir.path(), verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}: {}{}", stdout(&out), stderr(&out));
        let shown = support::flat(&stderr(&out));
        assert!(
            shown.contains("`instance.host`: image `ami-0123456789abcdef0` does not exist in region us-east-1"),
            "{verb:?}: {shown}"
        );
        assert!(shown.contains("plan::cloud") && shown.contains("host.k8sinfra"), "{shown}");
    }
    let vpcs = rt.block_on(moto.ec2().describe_vpcs().filters(owned("vpc.main")).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "nothing was made: {vpcs:?}");
}

/// A subnet moved from one route table to another: the table it joins
/// moves its association (ReplaceRouteTableAssociation) before the table it
/// leaves lets go (forced by `depends_on`). AWS refuses AssociateRouteTable
/// for a subnet another table holds; moto answers it with the old
/// association and leaves the subnet where it was.
#[test]
fn a_subnet_moves_between_route_tables() {
    let moto = Moto::start();
    let rt = runtime();
    let dir = example("vpc");
    assert!(k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]).status.success());
    let main = dir.path().join("main.k8sinfra");
    let text = std::fs::read_to_string(&main).expect("read");
    let moved = text
        .replace("  subnets = [subnet.public]\n", "  subnets = [subnet.public, subnet.private]\n")
        .replace("  subnets = [subnet.private]\n", "  subnets    = []\n  depends_on = [route_table.public]\n");
    assert_ne!(moved, text);
    std::fs::write(&main, moved).expect("write");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "moved for good:\n{}", stdout(&plan));
    let st = state(dir.path());
    let (subnet, public) = (id(&st, "subnet.private"), id(&st, "route_table.public"));
    let filter = Filter::builder().name("association.subnet-id").values(&subnet).build();
    let tables = rt.block_on(moto.ec2().describe_route_tables().filters(filter).send()).expect("tables");
    let holders: Vec<&str> = tables.route_tables().iter().filter_map(|t| t.route_table_id()).collect();
    assert_eq!(holders, [public.as_str()], "the private subnet is the public table's now");
}

/// An instance's security groups and its metadata options change in
/// place: the same instance, with the new groups and IMDSv1 allowed, and
/// the next plan empty.
#[test]
fn an_instances_groups_and_metadata_options_change_in_place() {
    let moto = Moto::start();
    let rt = runtime();
    let dir = one_host("ami-a4c7edb2");
    std::fs::write(
        dir.path().join("groups.k8sinfra"),
        "security_group a {\n  vpc = vpc.main\n}\n\nsecurity_group b {\n  vpc = vpc.main\n}\n",
    )
    .expect("groups");
    let host = dir.path().join("host.k8sinfra");
    let text = std::fs::read_to_string(&host).expect("read");
    std::fs::write(&host, text.replace("  root_volume", "  security_groups = [security_group.a]\n  root_volume"))
        .expect("write");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let before = state(dir.path());
    let instance = id(&before, "instance.host");

    let edited = std::fs::read_to_string(&host).expect("read").replace(
        "security_groups = [security_group.a]",
        "security_groups = [security_group.b]\n  require_imdsv2 = false",
    );
    std::fs::write(&host, edited).expect("write");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# instance.host will be updated in place"), "{}", stdout(&plan));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let after = state(dir.path());
    assert_eq!(id(&after, "instance.host"), instance, "the same instance");
    let found = rt.block_on(moto.ec2().describe_instances().instance_ids(&instance).send()).expect("describe");
    let described = &found.reservations()[0].instances()[0];
    let groups: Vec<&str> = described.security_groups().iter().filter_map(|g| g.group_id()).collect();
    assert_eq!(groups, [id(&after, "security_group.b").as_str()]);
    let tokens = described.metadata_options().and_then(|m| m.http_tokens()).map(|t| t.as_str().to_string());
    assert_eq!(tokens.as_deref(), Some("optional"), "IMDSv1 allowed: {described:?}");
    let again = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // Tags change in place too; the same instance carries the new one.
    let tagged = std::fs::read_to_string(&host)
        .expect("read")
        .replace("  root_volume", "  tags = { Role = \"web\" }\n  root_volume");
    std::fs::write(&host, &tagged).expect("write");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(stdout(&plan).contains("# instance.host will be updated in place"), "{}", stdout(&plan));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(id(&state(dir.path()), "instance.host"), instance, "the same instance");
    let found = rt.block_on(moto.ec2().describe_instances().instance_ids(&instance).send()).expect("describe");
    let tags: Vec<(&str, &str)> = found.reservations()[0].instances()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")))
        .collect();
    assert!(tags.contains(&("Role", "web")) && tags.contains(&("k8sinfra:address", "instance.host")), "{tags:?}");
    let again = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // Another subnet cannot be given to a running instance: replaced.
    std::fs::write(&host, tagged.replace("subnet = subnet.private", "subnet = subnet.public")).expect("write");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    let shown = stdout(&plan);
    assert!(shown.contains("# instance.host will be replaced") && shown.contains("1 to replace"), "{shown}");
}

/// An image found by owner and name: the newest match, kept. A newer one
/// published later shows in the plan as `latest` changing and moves no
/// host; the lookup replaced on purpose (`state rm`, apply) moves it. A
/// pattern that matches nothing is a plan error before anything is made.
/// (The team's own images, baked on the server under the caller's
/// account, 123456789012.)
#[test]
fn an_image_looked_up_is_kept_until_replaced_on_purpose() {
    let moto = Moto::start();
    let rt = runtime();
    let ec2 = moto.ec2();
    // Images are baked from a builder instance (CreateImage), as a team
    // publishes its own.
    let vpc = rt.block_on(ec2.create_vpc().cidr_block("10.9.0.0/16").send()).expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("id").to_string();
    let subnet = rt.block_on(ec2.create_subnet().vpc_id(&vpc).cidr_block("10.9.1.0/24").send()).expect("subnet");
    let subnet = subnet.subnet().and_then(|s| s.subnet_id()).expect("id").to_string();
    let builder =
        rt.block_on(ec2.run_instances().image_id("ami-785db401").min_count(1).max_count(1).subnet_id(&subnet).send());
    let builder = builder.expect("builder").instances()[0].instance_id().expect("id").to_string();
    let publish = |name: &str| {
        let made = rt.block_on(ec2.create_image().instance_id(&builder).name(name).send());
        made.expect("baked").image_id().expect("id").to_string()
    };
    let first = publish("team/base-20260101");
    let dir = one_host("${image.base.id}");
    std::fs::write(
        dir.path().join("image.k8sinfra"),
        "image base {\n  owner = \"123456789012\"\n  name  = \"team/base-*\"\n}\n",
    )
    .expect("image");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(id(&state(dir.path()), "image.base"), first);
    let host = id(&state(dir.path()), "instance.host");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settles:\n{}{}", stdout(&plan), stderr(&plan));

    // A newer build is published: shown, and nothing moves.
    let newer = publish("team/base-20260201");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    let shown = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(shown.contains(&format!("latest = \"{first}\" -> \"{newer}\"")), "the newer match is shown:\n{shown}");
    assert_ne!(plan.status.code(), Some(2), "no host moves by itself:\n{shown}");
    assert_eq!(id(&state(dir.path()), "image.base"), first, "kept");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert_eq!(id(&state(dir.path()), "instance.host"), host, "an apply moves nothing either");

    // Replaced on purpose: looked up again, and the host follows.
    let forget = k8sinfra(&moto, dir.path(), &["state", "rm", "image.base"]);
    assert!(forget.status.success(), "{}", stderr(&forget));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(id(&state(dir.path()), "image.base"), newer);
    assert_ne!(id(&state(dir.path()), "instance.host"), host, "the host moved to it:\n{}", stdout(&apply));

    // A pattern nothing matches: refused at plan, nothing made.
    let nothing = one_host("${image.nothing.id}");
    std::fs::write(
        nothing.path().join("image.k8sinfra"),
        "image nothing {\n  owner = \"099720109477\"\n  name  = \"no-such-image-*\"\n}\n",
    )
    .expect("image");
    let plan = k8sinfra(&moto, nothing.path(), &["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}{}", stdout(&plan), stderr(&plan));
    let shown = support::flat(&stderr(&plan));
    assert!(shown.contains("no x86_64 image of owner 099720109477 named `no-such-image-*` in us-east-1"), "{shown}");
}

/// An internet gateway moved to another VPC: changed in place, detached
/// from the one and attached to the other, through the AWS-behaviour layer
/// (the new attachment names a VPC made moments before).
#[test]
fn an_internet_gateway_moves_to_another_vpc_in_place() {
    let moto = Moto::start();
    let rt = runtime();
    let relay = crate::proxy::CountingProxy::like_aws(
        &moto.endpoint,
        crate::aws_behaviour::Behaviours::all(),
        crate::proxy::Faults::default(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |vpc: &str, second: bool| {
        let other = if second { "vpc b {\n  cidr = 10.2.0.0/16\n}\n\n" } else { "" };
        let text = format!(
            "aws {{ region = \"us-east-1\" }}\n\nvpc a {{\n  cidr = 10.1.0.0/16\n}}\n\n{other}internet_gateway main {{\n  vpc = {vpc}\n}}\n"
        );
        std::fs::write(dir.path().join("main.k8sinfra"), text).expect("written");
    };
    let run = |args: &[&str]| crate::apply::k8sinfra_via(&moto, &relay.endpoint, dir.path(), args);
    config("vpc.a", false);
    assert!(run(&["apply", "--auto-approve"]).status.success());
    let gateway = id(&state(dir.path()), "internet_gateway.main");

    config("vpc.b", true);
    let moved = run(&["apply", "--auto-approve"]);
    assert!(moved.status.success(), "{}{}", stdout(&moved), stderr(&moved));
    assert!(stderr(&moved).contains("1 added, 1 changed, 0 replaced, 0 destroyed"), "{}", stderr(&moved));
    let b = id(&state(dir.path()), "vpc.b");
    assert_eq!(id(&state(dir.path()), "internet_gateway.main"), gateway, "the same gateway");
    let out = rt.block_on(moto.ec2().describe_internet_gateways().internet_gateway_ids(&gateway).send()).expect("igw");
    let attached: Vec<&str> = out.internet_gateways()[0].attachments().iter().filter_map(|a| a.vpc_id()).collect();
    assert_eq!(attached, [b.as_str()], "attached to the new VPC alone");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    assert!(run(&["destroy", "--auto-approve"]).status.success());
}

/// A rolling group of four with `max_surge = 2`, its instance type
/// changed: the members are replaced two at a time. Counting the hosts as
/// the relay sees RunInstances and TerminateInstances go by, the group
/// never holds more than 4 + 2 and does reach it (batches of two, not one
/// and not all four); it ends with four, and the plan after has nothing
/// to do.
#[test]
fn a_rolling_group_replaces_its_members_two_at_a_time() {
    let moto = Moto::start();
    let dir = example("vpc");
    let group = |instance_type: &str| {
        let text = format!(
            "instance node {{\n  count  = 4\n  image  = \"ami-a4c7edb2\"\n  type   = \"{instance_type}\"\n  \
             subnet = subnet.private\n\n  lifecycle {{\n    rolling_update {{\n      max_surge       = 2\n      \
             max_unavailable = 0\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nodes.k8sinfra"), text).expect("nodes");
    };
    group("t2.nano");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));

    group("t2.micro");
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    let shown = stdout(&plan);
    assert!(shown.contains("instance.node[3] will be replaced, rolling 4 of 4"), "{shown}");
    assert!(shown.contains("2 at a time"), "{shown}");
    let proxy = crate::proxy::CountingProxy::start(&moto.endpoint);
    let apply = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let (mut hosts, mut most) = (4_usize, 4_usize);
    for request in proxy.requests() {
        if request.contains("Action=RunInstances") {
            hosts += 1;
        } else if request.contains("Action=TerminateInstances") {
            hosts -= request.matches("InstanceId.").count();
        }
        most = most.max(hosts);
    }
    assert_eq!(most, 6, "four members and two more at most, and two at a time: {:?}", proxy.counts());
    assert_eq!(hosts, 4, "{:?}", proxy.counts());
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // One bad node, replaced on request under the group's policy (kops's
    // `rolling-update --force` for one member); the others stay.
    let before: Vec<String> = (0..4).map(|i| id(&state(dir.path()), &format!("instance.node[{i}]"))).collect();
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--replace", "instance.node[1]"]);
    let shown = stdout(&plan);
    assert!(
        shown.contains("# instance.node[1] will be replaced, as requested, rolling 1 of 1 (a new one up before an old one goes, 2 at a time)"),
        "{shown}"
    );
    assert!(shown.contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."), "{shown}");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve", "--replace", "instance.node[1]"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let after: Vec<String> = (0..4).map(|i| id(&state(dir.path()), &format!("instance.node[{i}]"))).collect();
    for i in [0, 2, 3] {
        assert_eq!(after[i], before[i], "node[{i}] stays");
    }
    assert_ne!(after[1], before[1], "node[1] is a new host");
}

/// A group whose ingress is managed apart (`ignore_changes = [ingress]`),
/// owned by `owner`, and with `with_rule` a `security_group_rule` for
/// HTTPS from inside.
fn managed_apart(owner: &str, with_rule: bool) -> String {
    let rule = "security_group_rule https {\n  group       = security_group.web\n  protocol    = \"tcp\"\n  \
                port        = 443\n  cidrs       = [10.0.0.0/8]\n  description = \"https from inside\"\n}\n";
    format!(
        "aws {{ region = \"us-east-1\" }}\n\nvpc main {{\n  cidr = 10.0.0.0/16\n}}\n\nsecurity_group web {{\n  \
         vpc  = vpc.main\n  tags = {{ Owner = \"{owner}\" }}\n  lifecycle {{\n    ignore_changes = [ingress]\n  }}\n}}\n\n{}",
        if with_rule { rule } else { "" }
    )
}

fn https_from_inside(description: Option<&str>) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(443)
        .to_port(443)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").set_description(description.map(str::to_string)).build())
        .build()
}

/// resources.md, security_group_rule: a rule already on its group (added
/// by hand, or by a run whose answer was lost) is not added twice — AWS
/// would refuse with InvalidPermission.Duplicate — whatever its
/// description: the create records it, and the plan after settles.
#[test]
fn a_rule_already_on_its_group_is_recorded_not_added_twice() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |text: String| std::fs::write(dir.path().join("main.k8sinfra"), text).expect("config");
    let rt = runtime();
    let ec2 = moto.ec2();
    write(managed_apart("alice", false));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let group = id(&state(dir.path()), "security_group.web");
    let by_hand =
        ec2.authorize_security_group_ingress().group_id(&group).ip_permissions(https_from_inside(Some("by hand")));
    rt.block_on(by_hand.send()).expect("added by hand");

    write(managed_apart("alice", true));
    let relay = crate::proxy::CountingProxy::start(&moto.endpoint);
    let apply = crate::apply::k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(relay.counts().get("AuthorizeSecurityGroupIngress"), None, "{:?}", relay.counts());
    assert!(state(dir.path())["resources"].get("security_group_rule.https").is_some());
    let groups = rt.block_on(ec2.describe_security_groups().group_ids(&group).send()).expect("describe");
    let https: Vec<_> =
        groups.security_groups()[0].ip_permissions().iter().filter(|p| p.from_port() == Some(443)).collect();
    assert_eq!(https.len(), 1, "{https:?}");
    assert_eq!(https[0].ip_ranges().len(), 1, "one rule: {https:?}");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}

/// resources.md, security_group and security_group_rule: a group whose
/// rules are managed apart (`ignore_changes = [ingress]`) keeps them
/// through an update of its own; a rule revoked by hand is found gone
/// and made again; destroying the rule revokes it and leaves the group.
#[test]
fn a_rule_managed_apart_survives_its_groups_update_comes_back_when_revoked_and_goes_on_destroy() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = managed_apart;
    let write = |text: String| std::fs::write(dir.path().join("main.k8sinfra"), text).expect("config");
    let rt = runtime();
    let ec2 = moto.ec2();
    let has_443 = |group: &str| {
        let groups = rt.block_on(ec2.describe_security_groups().group_ids(group).send()).expect("describe");
        groups.security_groups()[0].ip_permissions().iter().any(|p| p.from_port() == Some(443))
    };

    write(config("alice", true));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let group = id(&state(dir.path()), "security_group.web");
    assert!(has_443(&group));

    // The group's own update leaves the rule alone, and the plan settles.
    write(config("bob", true));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success() && stderr(&apply).contains("1 changed"), "{}", stderr(&apply));
    assert!(has_443(&group), "kept through the update");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // Revoked by hand: the rule is gone, and made again.
    let revoke = https_from_inside(None);
    rt.block_on(ec2.revoke_security_group_ingress().group_id(&group).ip_permissions(revoke).send()).expect("revoke");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("security_group_rule.https will be created"), "{}", stdout(&plan));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert!(has_443(&group), "made again");

    // Destroyed with the configuration: revoked, the group stays.
    write(config("bob", false));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success() && stderr(&apply).contains("1 destroyed"), "{}", stderr(&apply));
    assert!(!has_443(&group), "revoked");
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
}

/// resources.md, instance: refresh keeps `user_data` as the state holds
/// it, and the single read of an import asks for it (AWS shows it one
/// instance per call): an instance made by hand with a boot script is
/// imported with that script. `import --call-stats` counts the calls.
#[test]
fn an_imported_instance_comes_with_its_user_data_and_import_counts_its_calls() {
    use base64::Engine as _;
    let moto = Moto::start();
    let rt = runtime();
    let dir = example("vpc");
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    let script = "#!/bin/sh\necho made by hand\n";
    let run = moto
        .ec2()
        .run_instances()
        .image_id("ami-a4c7edb2")
        .instance_type(aws_sdk_ec2::types::InstanceType::T2Nano)
        .subnet_id(id(&state(dir.path()), "subnet.private"))
        .user_data(base64::engine::general_purpose::STANDARD.encode(script))
        .min_count(1)
        .max_count(1)
        .send();
    let made = rt.block_on(run).expect("made by hand");
    let instance = made.instances()[0].instance_id().expect("id").to_string();
    std::fs::write(
        dir.path().join("host.k8sinfra"),
        "instance host {\n  image     = \"ami-a4c7edb2\"\n  type      = \"t2.nano\"\n  subnet    = subnet.private\n  \
         user_data = \"#!/bin/sh\\necho made by hand\\n\"\n}\n",
    )
    .expect("host");

    let import = k8sinfra(&moto, dir.path(), &["import", "--call-stats", "instance.host", &instance]);
    assert!(import.status.success(), "{}{}", stdout(&import), stderr(&import));
    let printed = stderr(&import);
    assert!(printed.contains("AWS calls (type, operation, calls, attempts, time)"), "{printed}");
    let attribute_reads = printed
        .lines()
        .find(|l| l.contains("DescribeInstanceAttribute"))
        .and_then(|l| l.split_whitespace().find_map(|w| w.parse::<usize>().ok()));
    assert_eq!(attribute_reads, Some(1), "{printed}");
    assert_eq!(state(dir.path())["resources"]["instance.host"]["attrs"]["user_data"], script);

    let relay = crate::proxy::CountingProxy::start(&moto.endpoint);
    let plan = crate::apply::k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["plan"]);
    assert!(plan.status.success(), "{}{}", stdout(&plan), stderr(&plan));
    assert!(!stdout(&plan).contains("user_data"), "the script as imported: {}", stdout(&plan));
    assert_eq!(relay.counts().get("DescribeInstanceAttribute"), None, "refresh keeps it: {:?}", relay.counts());
}
