//! `cargo bench --bench apply_latency`: the seed chapter applied through
//! the test relay, which holds each AWS operation as long as AWS takes to
//! make its resource usable (a table of typical timings, scaled down:
//! moto answers at once), against the critical-path lower bound — the
//! longest chain of dependent resources, each costing the latencies of the
//! calls it cannot do without — and against the boto3 script, which makes
//! its 35 calls one after another.
//!
//! Needs the moto server the test script installs in `.venv/`.
//! `K8SINFRA_BENCH_RUNS` sets the runs (default 3); `K8SINFRA_BENCH_SCALE`
//! divides the AWS timings (default 20: a NAT gateway's 90 s is 4.5 s).
//! Under `cargo test` it runs once at 1/100, to show it still works.

#[path = "../tests/integration/proxy.rs"]
#[allow(dead_code)]
mod proxy;

#[path = "../tests/integration/aws_behaviour.rs"]
#[allow(dead_code)]
mod aws_behaviour;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proxy::CountingProxy;

/// Typical AWS time, in milliseconds, from the call to a usable resource
/// (for the creates AWS finishes in the background — a NAT gateway, an
/// instance, a volume, a DNS change — what their waiters wait for).
/// Operations not listed: describes and other reads, 150 ms.
const AWS_MS: &[(&str, u64)] = &[
    ("CreateVpc", 1_000),
    ("ModifyVpcAttribute", 300),
    ("CreateSubnet", 1_000),
    ("ModifySubnetAttribute", 300),
    ("CreateInternetGateway", 500),
    ("AttachInternetGateway", 1_000),
    ("AllocateAddress", 500),
    ("CreateNatGateway", 90_000),
    ("CreateRouteTable", 500),
    ("CreateRoute", 500),
    ("AssociateRouteTable", 500),
    ("CreateSecurityGroup", 500),
    ("AuthorizeSecurityGroupIngress", 500),
    ("ImportKeyPair", 300),
    ("RunInstances", 30_000),
    ("CreateVolume", 5_000),
    ("AttachVolume", 5_000),
    ("CreateLoadBalancer", 3_000),
    ("RegisterInstancesWithLoadBalancer", 1_000),
    ("CreateHostedZone", 2_000),
    // Until the change is INSYNC on Route53's servers.
    ("ChangeResourceRecordSets", 30_000),
    ("CreateBucket", 500),
    ("PutObject", 100),
];
const READ_MS: u64 = 150;

/// The calls a resource of each type cannot do without, one after another.
fn essential(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "vpc" => &["CreateVpc", "ModifyVpcAttribute"],
        "subnet" => &["CreateSubnet", "ModifySubnetAttribute"],
        "internet_gateway" => &["CreateInternetGateway", "AttachInternetGateway"],
        "elastic_ip" => &["AllocateAddress"],
        "nat_gateway" => &["CreateNatGateway"],
        "route_table" => &["CreateRouteTable", "CreateRoute", "AssociateRouteTable"],
        "security_group" => &["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"],
        "key_pair" => &["ImportKeyPair"],
        "instance" => &["RunInstances"],
        "ebs_volume" => &["CreateVolume"],
        "volume_attachment" => &["AttachVolume"],
        "load_balancer" => &["CreateLoadBalancer", "RegisterInstancesWithLoadBalancer"],
        "dns_zone" => &["CreateHostedZone"],
        "dns_record" => &["ChangeResourceRecordSets"],
        "s3_bucket" => &["CreateBucket"],
        "s3_object" => &["PutObject"],
        _ => &[],
    }
}

/// The AWS operation a relayed request is: the query protocols' `Action`,
/// or, for Route53 and S3, what the request line says.
fn operation_of(request: &str) -> &str {
    let mut words = request.split(' ');
    let (Some(method), Some(path)) = (words.next(), words.next()) else { return request };
    match (method, path) {
        ("POST", "/2013-04-01/hostedzone") => "CreateHostedZone",
        ("POST", p) if p.starts_with("/2013-04-01/hostedzone/") && p.ends_with("/rrset") => "ChangeResourceRecordSets",
        ("PUT", p) if p.trim_start_matches('/').contains('/') => "PutObject",
        ("PUT", p) if !p.contains('?') => "CreateBucket",
        _ => request,
    }
}

fn aws_ms(operation: &str) -> u64 {
    AWS_MS.iter().find(|(op, _)| *op == operation).map_or(READ_MS, |(_, ms)| *ms)
}

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let child = Command::new(root().join(".venv/bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_AMIS_PATH", root().join("tests/moto/amis.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server in .venv (run ./scripts/test once)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { child, endpoint }
}

fn env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "bench".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("NO_COLOR", "1".into()),
    ]
}

fn run(program: &Path, args: &[&str], endpoint: &str) -> std::process::Output {
    let out = Command::new(program).args(args).envs(env(endpoint)).output().expect("runs");
    assert!(out.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Reset moto and load its backends (the first EC2 call takes ~0.8 s).
fn fresh(moto: &Moto) {
    let python = root().join(".venv/bin/python");
    let warm = "import urllib.request as u, boto3\n\
                u.urlopen(u.Request(u.os.environ['AWS_ENDPOINT_URL'] + '/moto-api/reset', method='POST'))\n\
                boto3.client('ec2').describe_vpcs(); boto3.client('s3').list_buckets()\n\
                boto3.client('route53').list_hosted_zones(); boto3.client('elb').describe_load_balancers()\n";
    run(&python, &["-c", warm], &moto.endpoint);
}

/// The seed chapter copied to a fresh folder, its state bucket made.
fn seed(k8sinfra: &Path, moto: &Moto) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in std::fs::read_dir(root().join("examples/seed-chapter")).expect("example") {
        let file = file.expect("file").path();
        std::fs::copy(&file, dir.path().join(file.file_name().expect("name"))).expect("copy");
    }
    run(k8sinfra, &["init", &dir.path().to_string_lossy()], &moto.endpoint);
    dir
}

/// The longest chain of dependent resources in the plan, each costing
/// its essential calls' latencies: no apply can be faster.
fn critical_path(plan_json: &str, scale: u64) -> (Duration, Vec<String>) {
    let plan: serde_json::Value = serde_json::from_str(plan_json).expect("plan JSON");
    let changes = plan["changes"].as_array().expect("changes");
    let mut cost: BTreeMap<String, u64> = BTreeMap::new();
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for change in changes {
        let address = change["address"].as_str().unwrap_or_default().to_string();
        let type_name = change["type"].as_str().unwrap_or_default();
        cost.insert(address.clone(), essential(type_name).iter().map(|op| aws_ms(op)).sum());
        let on = change["depends_on"]
            .as_array()
            .map_or_else(Vec::new, |d| d.iter().filter_map(|a| a.as_str().map(str::to_string)).collect::<Vec<_>>());
        deps.insert(address, on);
    }
    fn longest(
        address: &str,
        cost: &BTreeMap<String, u64>,
        deps: &BTreeMap<String, Vec<String>>,
        memo: &mut BTreeMap<String, (u64, Vec<String>)>,
    ) -> (u64, Vec<String>) {
        if let Some(known) = memo.get(address) {
            return known.clone();
        }
        let before = deps
            .get(address)
            .into_iter()
            .flatten()
            .filter(|d| cost.contains_key(*d))
            .map(|d| longest(d, cost, deps, memo))
            .max_by_key(|(ms, _)| *ms)
            .unwrap_or_default();
        let (ms, mut chain) = before;
        chain.push(address.to_string());
        let result = (ms + cost.get(address).copied().unwrap_or(0), chain);
        memo.insert(address.to_string(), result.clone());
        result
    }
    let mut memo = BTreeMap::new();
    let (ms, chain) =
        cost.keys().map(|a| longest(a, &cost, &deps, &mut memo)).max_by_key(|(ms, _)| *ms).unwrap_or_default();
    (Duration::from_millis(ms / scale), chain)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[allow(clippy::print_stdout)] // a benchmark reports on stdout
fn main() {
    // Under `cargo test` (no `--bench` argument) one quick run checks that
    // the benchmark works.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (runs, scale) = if benchmarking { (3, 20) } else { (1, 100) };
    let runs: usize = std::env::var("K8SINFRA_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(runs);
    let scale: u64 = std::env::var("K8SINFRA_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(scale);
    let k8sinfra = PathBuf::from(env!("CARGO_BIN_EXE_k8sinfra"));
    let moto = start_moto();
    let relay = CountingProxy::timed(
        &moto.endpoint,
        Arc::new(move |request: &str| Duration::from_millis(aws_ms(operation_of(request)) / scale)),
    );

    fresh(&moto);
    let dir = seed(&k8sinfra, &moto);
    let saved = dir.path().join("plan.json");
    run(&k8sinfra, &["plan", "--out", &saved.to_string_lossy(), &dir.path().to_string_lossy()], &moto.endpoint);
    let (bound, chain) = critical_path(&std::fs::read_to_string(&saved).expect("saved plan"), scale);
    println!("critical path ({} resources): {}", chain.len(), chain.join(" → "));
    println!("lower bound at 1/{scale} of AWS's timings: {} ms", bound.as_millis());

    let mut applies = Vec::new();
    let mut scripts = Vec::new();
    for _ in 0..runs {
        fresh(&moto);
        let dir = seed(&k8sinfra, &moto);
        let started = Instant::now();
        run(&k8sinfra, &["apply", "--auto-approve", &dir.path().to_string_lossy()], &relay.endpoint);
        applies.push(started.elapsed());

        fresh(&moto);
        let started = Instant::now();
        let script = root().join("bench/seed_boto3.py");
        run(&root().join(".venv/bin/python"), &[&script.to_string_lossy()], &relay.endpoint);
        scripts.push(started.elapsed());
    }
    let (apply, script) = (median(applies.clone()), median(scripts.clone()));
    println!("k8sinfra apply through the relay: median {} ms of {runs} ({applies:?})", apply.as_millis());
    println!("boto3 script through the relay: median {} ms of {runs} ({scripts:?})", script.as_millis());
    println!(
        "apply / bound = {:.2}   apply / boto3 = {:.2}",
        apply.as_secs_f64() / bound.as_secs_f64(),
        apply.as_secs_f64() / script.as_secs_f64()
    );
}
