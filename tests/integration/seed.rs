//! The seed chapter's whole infrastructure on moto, state in S3: init,
//! apply, a second plan with nothing to do, the outputs, drift in three
//! services found and repaired, and a destroy that leaves nothing of any
//! type behind.

use aws_sdk_ec2::types::{Filter, InstanceStateName};

use crate::apply::{example, k8sinfra, runtime};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

fn ours() -> Filter {
    Filter::builder().name("tag-key").values("k8sinfra:address").build()
}

#[test]
fn the_chapter_applies_converges_and_destroys_to_an_empty_account() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let rt = runtime();

    let init = k8sinfra(&moto, dir.path(), &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(stderr(&apply).contains("Resources: 22 added"), "{}", stderr(&apply));

    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "the second plan has nothing to do:\n{}", stdout(&plan));

    // The outputs, and the record pointing at the load balancer: a value
    // unknown at plan time, filled in at apply time.
    let elb_dns = stdout(&k8sinfra(&moto, dir.path(), &["output", "elb_dns"])).trim().to_string();
    assert!(!elb_dns.is_empty() && elb_dns != "null", "{elb_dns}");
    let servers = stdout(&k8sinfra(&moto, dir.path(), &["--json", "output"]));
    let outputs: serde_json::Value = serde_json::from_str(&servers).expect("outputs JSON");
    assert!(outputs["name_servers"]["value"].as_array().is_some_and(|a| !a.is_empty()), "{outputs}");
    assert!(outputs["public_host_ip"]["value"].as_str().is_some_and(|ip| !ip.is_empty()), "{outputs}");
    let zones = rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones");
    let zone = zones.hosted_zones().iter().find(|z| z.name() == "k8s-devops.net.").expect("the zone");
    let records =
        rt.block_on(moto.route53().list_resource_record_sets().hosted_zone_id(zone.id()).send()).expect("records");
    let cname = records
        .resource_record_sets()
        .iter()
        .find(|r| r.name() == "public.k8s-devops.net." && r.r#type().as_str() == "CNAME")
        .expect("the CNAME");
    assert_eq!(cname.resource_records()[0].value(), elb_dns);
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    let elb = &elbs.load_balancer_descriptions()[0];
    assert_eq!(elb.load_balancer_name(), Some("public-elb"));
    assert_eq!(elb.instances().len(), 1, "the public host is registered");
    let objects = rt.block_on(moto.s3().list_objects_v2().bucket("k8s-devops").send()).expect("objects");
    let mut keys: Vec<&str> = objects.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["add-record.json", "change-to-elb.json"]);

    // Behind k8sinfra's back, in three services: an object rewritten, the
    // host taken out of the load balancer, the record deleted.
    let s3 = moto.s3();
    rt.block_on(
        s3.put_object()
            .bucket("k8s-devops")
            .key("add-record.json")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
            .send(),
    )
    .expect("rewrite");
    let host = elb.instances()[0].clone();
    rt.block_on(
        moto.elb().deregister_instances_from_load_balancer().load_balancer_name("public-elb").instances(host).send(),
    )
    .expect("deregister");
    let delete = aws_sdk_route53::types::Change::builder()
        .action(aws_sdk_route53::types::ChangeAction::Delete)
        .resource_record_set(cname.clone())
        .build()
        .expect("change");
    let batch = aws_sdk_route53::types::ChangeBatch::builder().changes(delete).build().expect("batch");
    rt.block_on(moto.route53().change_resource_record_sets().hosted_zone_id(zone.id()).change_batch(batch).send())
        .expect("delete record");
    let drift = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(drift.status.code(), Some(2));
    let shown = stdout(&drift);
    for expected in [
        "# s3_object.add_record will be updated in place",
        "# load_balancer.public will be updated in place",
        "# dns_record.public will be created",
        "Plan: 1 to add, 2 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(shown.contains(expected), "{expected}:\n{shown}");
    }
    let repair = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(repair.status.success(), "{}", stderr(&repair));
    assert_eq!(k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]).status.code(), Some(0), "repaired");
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    assert_eq!(elbs.load_balancer_descriptions()[0].instances().len(), 1, "registered again");

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    let ec2 = moto.ec2();
    let instances = rt.block_on(ec2.describe_instances().filters(ours()).send()).expect("instances");
    assert!(instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .all(|i| i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Terminated)));
    assert!(rt.block_on(ec2.describe_vpcs().filters(ours()).send()).expect("vpcs").vpcs().is_empty());
    assert!(rt.block_on(ec2.describe_subnets().filters(ours()).send()).expect("subnets").subnets().is_empty());
    let groups = rt.block_on(ec2.describe_security_groups().filters(ours()).send()).expect("groups");
    assert!(groups.security_groups().is_empty());
    let tables = rt.block_on(ec2.describe_route_tables().filters(ours()).send()).expect("tables");
    assert!(tables.route_tables().is_empty());
    let gateways = rt.block_on(ec2.describe_internet_gateways().filters(ours()).send()).expect("igws");
    assert!(gateways.internet_gateways().is_empty());
    let addresses = rt.block_on(ec2.describe_addresses().filters(ours()).send()).expect("eips");
    assert!(addresses.addresses().is_empty());
    assert!(rt.block_on(ec2.describe_volumes().filters(ours()).send()).expect("volumes").volumes().is_empty());
    assert!(rt.block_on(ec2.describe_key_pairs().send()).expect("keys").key_pairs().is_empty());
    let zones = rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones");
    assert!(zones.hosted_zones().is_empty());
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    assert!(elbs.load_balancer_descriptions().is_empty());
    let buckets = rt.block_on(moto.s3().list_buckets().send()).expect("buckets");
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["k8s-devops-state"], "only the state bucket is left");
}

/// Replace `from` by `to` in one file of the example, once.
fn edit(dir: &std::path::Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{from} in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn every_service_changes_in_place_and_a_key_is_replaced() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let rt = runtime();
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());
    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    let p = dir.path();
    edit(p, "hosts.k8sinfra", "size = 40", "size = 50");
    edit(p, "web.k8sinfra", "name = input.domain", "name    = input.domain\n  comment = \"the chapter's zone\"");
    edit(p, "web.k8sinfra", "type    = \"CNAME\"", "type    = \"CNAME\"\n  ttl     = 60");
    edit(p, "web.k8sinfra", "name = \"k8s-devops\"", "name       = \"k8s-devops\"\n  versioning = true");
    edit(p, "web.k8sinfra", "Comment = \"CNAME to the ELB\"", "Comment = \"CNAME to the load balancer\"");
    edit(
        p,
        "web.k8sinfra",
        "    instance_port = 80\n  }",
        "    instance_port = 80\n  }\n\n  listener {\n    port          = 8080\n    protocol      = \"HTTP\"\n    instance_port = 80\n  }",
    );
    std::fs::write(
        p.join("internal_rsa.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILBkbd1IiVH7dWuMKCVY6RZKNXAzidStStXiy4DYYHt5 other@k8s-devops\n",
    )
    .expect("new key");

    let plan = k8sinfra(&moto, p, &["plan", "--detailed-exitcode"]);
    let shown = stdout(&plan);
    assert_eq!(plan.status.code(), Some(2), "{shown}");
    for expected in [
        "# ebs_volume.data will be updated in place",
        "# dns_zone.main will be updated in place",
        "# dns_record.public will be updated in place",
        "# s3_bucket.files will be updated in place",
        "# s3_object.change_to_elb will be updated in place",
        "# load_balancer.public will be updated in place",
        "# key_pair.internal will be replaced",
        "Plan: 0 to add, 6 to change, 1 to replace, 0 to destroy.",
    ] {
        assert!(shown.contains(expected), "{expected}:\n{shown}");
    }
    let change = k8sinfra(&moto, p, &["apply", "--auto-approve"]);
    assert!(change.status.success(), "{}{}", stdout(&change), stderr(&change));
    let again = k8sinfra(&moto, p, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "every change read back as made:\n{}", stdout(&again));

    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    assert_eq!(elbs.load_balancer_descriptions()[0].listener_descriptions().len(), 2);
    let volumes = rt.block_on(moto.ec2().describe_volumes().filters(ours()).send()).expect("volumes");
    assert!(volumes.volumes().iter().any(|v| v.size() == Some(50)));
    let keys = rt.block_on(moto.ec2().describe_key_pairs().include_public_key(true).send()).expect("keys");
    assert!(keys.key_pairs()[0].public_key().is_some_and(|k| k.contains("ILBkbd1I")), "the new key");
}
