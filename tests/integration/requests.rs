//! What a user asks of a plan beyond the configuration, on moto:
//! `--replace` (one resource made anew although unchanged), `--target`
//! (a part of the graph, for plan, apply and destroy) and
//! `--refresh-only` (the drift taken into the state, the cloud untouched).

use std::path::Path;

use crate::apply::{example, id, k8sinfra, runtime, state};
use crate::moto::Moto;
use crate::support::{stderr, stdout};

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join("main.k8sinfra");
    let text = std::fs::read_to_string(&path).expect("main.k8sinfra");
    assert!(text.contains(from), "{from} in {text}");
    std::fs::write(&path, text.replace(from, to)).expect("write");
}

#[test]
fn replace_target_and_refresh_only_do_what_they_ask_and_nothing_more() {
    let moto = Moto::start();
    let dir = example("vpc");
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));

    // --replace: an unchanged route table made anew, and nothing else.
    let before = id(&state(dir.path()), "route_table.private");
    let plan = run(&["plan", "--replace", "route_table.private"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("# route_table.private will be replaced, as requested"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."), "{}", stdout(&plan));
    let apply = run(&["apply", "--auto-approve", "--replace", "route_table.private"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_ne!(id(&state(dir.path()), "route_table.private"), before, "a new table");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // An address that names nothing: an error with the nearest one, and
    // nothing planned.
    let wrong = run(&["plan", "--replace", "route_table.privat"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stdout(&wrong));
    let said = stderr(&wrong);
    assert!(said.contains("plan::no_such_address") && said.contains("did you mean `route_table.private`?"), "{said}");
    assert!(!stdout(&wrong).contains("Plan:"), "{}", stdout(&wrong));

    // --target: two edits. A target brings what it depends on along (the
    // subnet needs its VPC), and nothing that depends on it.
    edit(dir.path(), "Project = \"k8s-devops\"", "Project = \"k8s-devops-2\"");
    edit(dir.path(), "  zone = \"us-east-1b\"\n}", "  zone = \"us-east-1b\"\n  tags = { Tier = \"private\" }\n}");
    let plan = run(&["plan", "--target", "subnet.private"]);
    let shown = stdout(&plan);
    assert!(shown.contains("Warning: targeted plan: only `subnet.private` and what it depends on"), "{shown}");
    assert!(
        shown.contains("# vpc.main will be updated") && shown.contains("# subnet.private will be updated"),
        "{shown}"
    );
    let plan = run(&["plan", "--target", "vpc.main"]);
    let shown = stdout(&plan);
    assert!(shown.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{shown}");
    assert!(!shown.contains("subnet.private"), "{shown}");
    let apply = run(&["apply", "--auto-approve", "--target", "vpc.main"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "the subnet's change waits: {}", stdout(&plan));
    assert!(stdout(&plan).contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("# subnet.private will be updated"), "{}", stdout(&plan));
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));

    // --refresh-only: a tag changed by hand is shown, taken into the
    // state on apply (after asking), and the cloud is left as it is.
    let rt = runtime();
    let ec2 = moto.ec2();
    let vpc = id(&state(dir.path()), "vpc.main");
    let tag = aws_sdk_ec2::types::Tag::builder().key("Project").value("by-hand").build();
    rt.block_on(ec2.create_tags().resources(&vpc).tags(tag).send()).expect("tag");
    let plan = run(&["plan", "--refresh-only"]);
    let shown = stdout(&plan);
    assert!(
        shown.contains("# vpc.main has changed") && shown.contains("Refresh only: nothing in the cloud changes"),
        "{shown}"
    );
    let unasked = run(&["apply", "--refresh-only"]);
    assert_eq!(unasked.status.code(), Some(1), "no terminal, no approval: {}", stderr(&unasked));
    assert_eq!(state(dir.path())["resources"]["vpc.main"]["attrs"]["tags"]["Project"], "k8s-devops-2");
    let apply = run(&["apply", "--refresh-only", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert_eq!(state(dir.path())["resources"]["vpc.main"]["attrs"]["tags"]["Project"], "by-hand");
    let tags = rt
        .block_on(
            ec2.describe_tags()
                .filters(aws_sdk_ec2::types::Filter::builder().name("resource-id").values(&vpc).build())
                .send(),
        )
        .expect("tags");
    assert!(tags.tags().iter().any(|t| t.key() == Some("Project") && t.value() == Some("by-hand")), "untouched");
    let plan = run(&["plan"]);
    assert!(stdout(&plan).contains("# vpc.main will be updated"), "back to the configuration: {}", stdout(&plan));
    let wrong = run(&["plan", "--refresh-only", "--refresh=false"]);
    assert!(stderr(&wrong).contains("plan::request"), "{}", stderr(&wrong));

    // destroy --target: the public subnet and what depends on it go; the
    // rest stays.
    let destroy = run(&["destroy", "--auto-approve", "--target", "subnet.public"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
    let left = state(dir.path());
    let addresses: Vec<&String> = left["resources"].as_object().expect("resources").keys().collect();
    for gone in ["subnet.public", "route_table.public", "nat_gateway.main", "route_table.private"] {
        assert!(!addresses.iter().any(|a| a.as_str() == gone), "{gone} destroyed: {addresses:?}");
    }
    for kept in ["vpc.main", "subnet.private", "internet_gateway.main", "elastic_ip.nat"] {
        assert!(addresses.iter().any(|a| a.as_str() == kept), "{kept} kept: {addresses:?}");
    }
    let destroy = run(&["destroy", "--auto-approve"]);
    assert!(destroy.status.success(), "{}{}", stdout(&destroy), stderr(&destroy));
}

/// `moved` renames without destroying: the plan says where each resource
/// went and changes nothing in the cloud, the apply writes the state, and
/// the block then does nothing. `removed` forgets a resource: out of the
/// state, still in the cloud.
#[test]
fn moved_and_removed_blocks_change_the_state_and_not_the_cloud() {
    let moto = Moto::start();
    let dir = example("vpc");
    let run = |args: &[&str]| k8sinfra(&moto, dir.path(), args);
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let subnet = id(&state(dir.path()), "subnet.private");
    let table = id(&state(dir.path()), "route_table.private");

    edit(dir.path(), "subnet private {", "subnet inner {");
    edit(dir.path(), "subnets = [subnet.private]", "subnets = [subnet.inner]");
    let path = dir.path().join("main.k8sinfra");
    let mut text = std::fs::read_to_string(&path).expect("config");
    text.push_str("\nmoved {\n  from = subnet.private\n  to   = subnet.inner\n}\n");
    std::fs::write(&path, text).expect("write");
    let plan = run(&["plan", "--detailed-exitcode"]);
    let shown = stdout(&plan);
    assert_eq!(plan.status.code(), Some(2), "a move is a change to apply: {shown}{}", stderr(&plan));
    assert!(shown.contains("# subnet.private has moved to subnet.inner"), "{shown}");
    assert!(
        shown.contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy. State only: 1 moved, 0 forgotten."),
        "{shown}"
    );

    let proxy = crate::proxy::CountingProxy::start(&moto.endpoint);
    let apply = crate::apply::k8sinfra_via(&moto, &proxy.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    let changing: Vec<String> = proxy
        .counts()
        .into_keys()
        .filter(|op| {
            ["Create", "Delete", "Modify", "Associate", "Disassociate"].iter().any(|verb| op.starts_with(verb))
        })
        .collect();
    assert!(changing.is_empty(), "the cloud untouched: {changing:?}");
    let after = state(dir.path());
    assert_eq!(id(&after, "subnet.inner"), subnet, "the same subnet, at its new address");
    assert!(after["resources"].get("subnet.private").is_none(), "{after}");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "settled; the block now does nothing: {}", stdout(&plan));

    // removed: the private route table leaves the configuration and the
    // state, and stays in the cloud.
    let text = std::fs::read_to_string(&path).expect("config");
    let start = text.find("route_table private {").expect("the table");
    let end = start + text[start..].find("\n}\n").expect("its end") + 3;
    let text = format!("{}{}\nremoved {{\n  from = route_table.private\n}}\n", &text[..start], &text[end..]);
    std::fs::write(&path, text).expect("write");
    let plan = run(&["plan"]);
    let shown = stdout(&plan);
    assert!(shown.contains("# route_table.private will be forgotten"), "{shown}");
    assert!(!shown.contains("will be destroyed"), "{shown}");
    let apply = run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}{}", stdout(&apply), stderr(&apply));
    assert!(state(dir.path())["resources"].get("route_table.private").is_none());
    let rt = runtime();
    let found = rt.block_on(moto.ec2().describe_route_tables().route_table_ids(&table).send()).expect("tables");
    assert_eq!(found.route_tables().len(), 1, "still in the cloud");
}
