//! An AWS-behaviour layer for the test relay (`proxy`): what AWS does and
//! moto does not, reproduced on the requests and answers passing through,
//! so the code written for real accounts runs in the suite. Each behaviour
//! is a switch in `Behaviours`, with the AWS documentation it follows. The
//! windows are seconds where AWS takes up to minutes; the code under test
//! keeps its real budgets, shortened only by `K8SINFRA_AWS_TIME_SCALE`.
//!
//! Emulated here:
//! - eventual consistency of new ids (`consistency`);
//! - `ClientToken` idempotency, and a load balancer's create repeated
//!   with the same tags answered with it (`idempotency`);
//! - a classic load balancer's interfaces outliving it (`elb_interfaces_linger`);
//! - `DetachInternetGateway` refused while public addresses are mapped
//!   (`detach_refused_while_mapped`);
//! - NAT gateways `pending`, `deleting`, and `failed` when made before the
//!   VPC's internet gateway is attached (`nat_pending`, `nat_deleting`,
//!   `nat_fails_unattached`), holding their address a moment after
//!   they are gone (under `nat_deleting`);
//! - Route53's limits on a change batch (`route53_batch_limits`);
//! - S3's redirect to a bucket's own region (`s3_regions`);
//! - an instance profile unknown to EC2 for a while (`iam_propagation`);
//! - a volume detached from a running host staying busy (`mounted_volumes`).
//!
//! Not emulated (see docs/aws-behaviour.md): small pages, IAM reads right after
//! a write, `IdempotentParameterMismatch`, Route53 and S3 consistency.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::proxy::{error_answer_with, Service};

/// Which behaviours are on, and their windows.
#[derive(Debug, Clone, Copy)]
pub struct Behaviours {
    /// For this long after a create's answer, a call naming the new id
    /// answers `Invalid…ID.NotFound` and a filtered describe leaves it out.
    /// "Eventual consistency in the Amazon EC2 API" (EC2 API reference):
    /// "a resource might not be immediately available … after you create
    /// it"; describes "might not include" it yet.
    pub consistency: Duration,
    /// A create repeated with the `ClientToken` of an earlier one gets the
    /// earlier answer, and nothing new is made. "Ensuring idempotency in
    /// Amazon EC2 API requests" (EC2 API reference). moto ignores the token.
    /// Also: CreateLoadBalancer repeated with the same tags is answered with
    /// the balancer (`existing_load_balancer`).
    pub idempotency: bool,
    /// A classic load balancer has network interfaces (described "ELB
    /// NAME", requested by `amazon-elb`; moto makes none), and for this
    /// long after `DeleteLoadBalancer` they are still there, and deleting
    /// one of its subnets or security groups answers `DependencyViolation`:
    /// the interfaces go "a few minutes" after it (Classic Load Balancers
    /// guide); Terraform's aws_elb, aws_subnet and aws_security_group
    /// deal with them.
    pub elb_interfaces_linger: Duration,
    /// `DetachInternetGateway` answers `DependencyViolation: Network vpc-…
    /// has some mapped public address(es)` while a NAT gateway or an
    /// internet-facing load balancer of the VPC still holds one (EC2 API
    /// reference, DetachInternetGateway; the message AWS sends).
    pub detach_refused_while_mapped: bool,
    /// A new NAT gateway is `pending` this long, then `available`
    /// (NatGateway.State: pending | failed | available | deleting | deleted).
    pub nat_pending: Duration,
    /// A deleted NAT gateway is `deleting` this long, then `deleted`; its
    /// elastic IP cannot be released (AuthFailure) until a third of that
    /// again after.
    pub nat_deleting: Duration,
    /// A NAT gateway created in a VPC with no internet gateway attached goes
    /// to `failed` with `Gateway.NotAttached` (VPC user guide, "Troubleshoot
    /// NAT gateways": "NAT gateway goes to a status of failed").
    pub nat_fails_unattached: bool,
    /// A Route53 change batch over 1,000 `ResourceRecord` elements or
    /// 32,000 characters of values is refused with `InvalidChangeBatch`
    /// ("Quotas on API requests", Route53 developer guide). moto takes any.
    pub route53_batch_limits: bool,
    /// A request for a bucket signed for another region than the bucket's
    /// answers 301 `PermanentRedirect` with the bucket's region in
    /// `x-amz-bucket-region` (S3 API reference, "Error responses"; the
    /// header: HeadBucket). moto serves every bucket in every region.
    pub s3_regions: bool,
    /// For this long after `CreateInstanceProfile`, EC2 refuses the
    /// profile: "Value (…) for parameter iamInstanceProfile.name is
    /// invalid" (IAM user guide, "Troubleshooting IAM roles": a new
    /// profile may take time to propagate). moto knows it at once.
    pub iam_propagation: Duration,
    /// A volume detached (without `Force`) from an instance that runs
    /// stays attached, `busy`, until the instance is terminated: the host
    /// has it mounted ("DetachVolume": "the volume might remain in the busy
    /// state"; EC2 user guide, "Detach an Amazon EBS volume"). Deleting or
    /// attaching it meanwhile answers `VolumeInUse`. moto detaches at once.
    pub mounted_volumes: bool,
}

impl Behaviours {
    /// Nothing on: moto as it is.
    pub fn none() -> Self {
        Behaviours {
            consistency: Duration::ZERO,
            idempotency: false,
            elb_interfaces_linger: Duration::ZERO,
            detach_refused_while_mapped: false,
            nat_pending: Duration::ZERO,
            nat_deleting: Duration::ZERO,
            nat_fails_unattached: false,
            route53_batch_limits: false,
            s3_regions: false,
            iam_propagation: Duration::ZERO,
            mounted_volumes: false,
        }
    }

    /// Everything on, with windows of about a second.
    pub fn all() -> Self {
        Behaviours {
            consistency: Duration::from_millis(1000),
            idempotency: true,
            elb_interfaces_linger: Duration::from_millis(2000),
            detach_refused_while_mapped: true,
            nat_pending: Duration::from_millis(1500),
            nat_deleting: Duration::from_millis(1500),
            nat_fails_unattached: true,
            route53_batch_limits: true,
            s3_regions: true,
            iam_propagation: Duration::from_millis(1500),
            mounted_volumes: true,
        }
    }
}

/// A classic load balancer as the layer saw it made and deleted.
#[derive(Default)]
struct Elb {
    subnets: BTreeSet<String>,
    groups: BTreeSet<String>,
    internet_facing: bool,
    deleted: Option<Instant>,
    /// The tags it was made with: a create repeated with the same ones is
    /// answered with it (see `existing_load_balancer`).
    tags: BTreeSet<(String, String)>,
}

/// What the layer learned from the traffic.
#[derive(Default)]
struct Seen {
    /// New ids (and key names), until when AWS would not show them.
    hidden_until: BTreeMap<String, Instant>,
    /// `(Action, ClientToken)` → the first answer.
    answers: BTreeMap<(String, String), Vec<u8>>,
    subnet_vpc: BTreeMap<String, String>,
    /// VPCs with an internet gateway attached.
    attached: BTreeSet<String>,
    nat_vpc: BTreeMap<String, String>,
    nat_created: BTreeMap<String, Instant>,
    nat_deleted: BTreeMap<String, Instant>,
    nat_failed: BTreeSet<String>,
    /// NAT gateway → the elastic IP allocation it holds.
    nat_allocation: BTreeMap<String, String>,
    elbs: BTreeMap<String, Elb>,
    /// Buckets made through the layer, and their regions.
    bucket_region: BTreeMap<String, String>,
    /// Volumes detached from a running instance that has them mounted:
    /// volume → (instance, device).
    busy: BTreeMap<String, (String, String)>,
    /// How often each behaviour changed an exchange.
    acted: BTreeMap<&'static str, usize>,
}

pub struct AwsBehaviour {
    on: Behaviours,
    seen: Mutex<Seen>,
}

/// For each create: the element holding its new id in the answer, the
/// id's prefix, and the code AWS answers while a call naming that id comes
/// too early. (Key pairs are named, not prefixed: see `hidden_key`.)
const CREATES: &[(&str, &str, &str, &str)] = &[
    ("CreateVpc", "vpcId", "vpc-", "InvalidVpcID.NotFound"),
    ("CreateSubnet", "subnetId", "subnet-", "InvalidSubnetID.NotFound"),
    ("CreateSecurityGroup", "groupId", "sg-", "InvalidGroup.NotFound"),
    ("CreateInternetGateway", "internetGatewayId", "igw-", "InvalidInternetGatewayID.NotFound"),
    ("CreateRouteTable", "routeTableId", "rtb-", "InvalidRouteTableID.NotFound"),
    ("AllocateAddress", "allocationId", "eipalloc-", "InvalidAllocationID.NotFound"),
    ("CreateNatGateway", "natGatewayId", "nat-", "NatGatewayNotFound"),
    ("RunInstances", "instanceId", "i-", "InvalidInstanceID.NotFound"),
    ("CreateVolume", "volumeId", "vol-", "InvalidVolume.NotFound"),
    ("ImportKeyPair", "keyName", "", "InvalidKeyPair.NotFound"),
];

/// The element naming each item's own id in a describe's answer.
const DESCRIBES: &[(&str, &str)] = &[
    ("DescribeVpcs", "vpcId"),
    ("DescribeSubnets", "subnetId"),
    ("DescribeSecurityGroups", "groupId"),
    ("DescribeInternetGateways", "internetGatewayId"),
    ("DescribeRouteTables", "routeTableId"),
    ("DescribeAddresses", "allocationId"),
    ("DescribeNatGateways", "natGatewayId"),
    ("DescribeInstances", "instanceId"),
    ("DescribeVolumes", "volumeId"),
    ("DescribeKeyPairs", "keyName"),
];

/// The code EC2 (or ELB, for its own calls) answers for an id not visible.
fn not_found_code(service: Service, id: &str, key_name: bool) -> &'static str {
    if key_name {
        return "InvalidKeyPair.NotFound";
    }
    if matches!(service, Service::Elb) {
        return match id.split('-').next() {
            Some("subnet") => "SubnetNotFound",
            Some("sg") => "InvalidSecurityGroup",
            _ => "InvalidInstance",
        };
    }
    CREATES
        .iter()
        .find(|(_, _, prefix, _)| !prefix.is_empty() && id.starts_with(prefix))
        .map_or("InvalidParameterValue", |(_, _, _, code)| code)
}

/// The form's parameters, decoded.
fn params(body: &str) -> Vec<(String, String)> {
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Values of a list parameter (`Subnets.member.1`, `Subnets.member.2`, …).
fn members(params: &[(String, String)], prefix: &str) -> BTreeSet<String> {
    params.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v.clone()).collect()
}

/// The text of the first `<element>` in `xml`.
pub fn first(xml: &str, element: &str) -> Option<String> {
    let open = format!("<{element}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find('<')? + start;
    Some(xml[start..end].to_string())
}

/// An HTTP answer split into head and body.
fn split(answer: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(answer);
    let at = text.find("\r\n\r\n")?;
    Some((text[..at].to_string(), text[at + 4..].to_string()))
}

/// The answer with a new body, its length set to match.
fn rebuild(head: &str, body: &str) -> Vec<u8> {
    let head: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// The top-level `<item>`s of a describe's answer, as byte ranges.
pub fn items(xml: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let (mut depth, mut start, mut at) = (0usize, 0usize, 0usize);
    loop {
        let open = xml[at..].find("<item>").map(|p| p + at);
        let close = xml[at..].find("</item>").map(|p| p + at);
        match (open, close) {
            (Some(o), Some(c)) if o < c => {
                if depth == 0 {
                    start = o;
                }
                depth += 1;
                at = o + "<item>".len();
            }
            (_, Some(c)) => {
                depth = depth.saturating_sub(1);
                at = c + "</item>".len();
                if depth == 0 {
                    found.push((start, at));
                }
            }
            _ => return found,
        }
    }
}

impl AwsBehaviour {
    pub fn new(on: Behaviours) -> Self {
        AwsBehaviour { on, seen: Mutex::new(Seen::default()) }
    }

    /// How often each behaviour changed an exchange so far.
    pub fn acted(&self) -> BTreeMap<&'static str, usize> {
        self.seen.lock().expect("seen").acted.clone()
    }

    /// An answer AWS would give instead of passing the request on, if any.
    pub fn before(&self, service: Service, action: &str, head: &str, body: &str) -> Option<Vec<u8>> {
        if matches!(service, Service::Route53) && self.on.route53_batch_limits {
            return self.route53_batch(action, body);
        }
        if matches!(service, Service::S3) && self.on.s3_regions {
            return self.s3_redirect(action, head);
        }
        if !matches!(service, Service::Ec2 | Service::Elb) {
            return None;
        }
        let params = params(body);
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("seen");
        // An instance profile IAM made moments ago is unknown to EC2 for a
        // while ("Invalid IAM Instance Profile name"; kops retries it).
        if let Some(profile) = param(&params, "IamInstanceProfile.Name") {
            if seen.hidden_until.get(&format!("profile:{profile}")).is_some_and(|until| now < *until) {
                *seen.acted.entry("instance profile not visible yet").or_default() += 1;
                let message = format!(
                    "Value ({profile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance \
                     Profile name"
                );
                return Some(error_answer_with(service, "400 Bad Request", "InvalidParameterValue", &message));
            }
        }
        if self.on.idempotency {
            if let Some(token) = param(&params, "ClientToken") {
                if let Some(first) = seen.answers.get(&(action.to_string(), token.to_string())).cloned() {
                    *seen.acted.entry("idempotent repeat").or_default() += 1;
                    return Some(first);
                }
            }
        }
        // A call naming an id made moments ago. A filtered describe is
        // answered, and the new resources left out of it in `after`.
        // (A key pair imported again under its name is refused as a
        // duplicate by moto, as by AWS: names are checked at once.)
        let filtered = params.iter().any(|(k, _)| k.starts_with("Filter."));
        if !filtered && action != "ImportKeyPair" {
            let early = params.iter().find_map(|(k, v)| {
                let key_name = k == "KeyName";
                let hidden = seen.hidden_until.get(&hidden_key(k, v)).is_some_and(|until| now < *until);
                hidden.then(|| (v.clone(), key_name))
            });
            if let Some((id, key_name)) = early {
                *seen.acted.entry("not visible yet").or_default() += 1;
                let code = not_found_code(service, &id, key_name);
                let message = format!("The ID '{id}' does not exist");
                return Some(error_answer_with(service, "400 Bad Request", code, &message));
            }
        }
        if self.on.mounted_volumes && matches!(action, "DeleteVolume" | "AttachVolume") {
            let volume = param(&params, "VolumeId").unwrap_or_default();
            if let Some((instance, _)) = seen.busy.get(volume).cloned() {
                *seen.acted.entry("volume busy").or_default() += 1;
                let message = format!("Volume {volume} is currently attached to {instance}");
                return Some(error_answer_with(service, "400 Bad Request", "VolumeInUse", &message));
            }
        }
        match action {
            "DeleteSubnet" | "DeleteSecurityGroup" => {
                let id = param(&params, "SubnetId").or_else(|| param(&params, "GroupId")).unwrap_or_default();
                let linger = self.on.elb_interfaces_linger;
                let held = seen.elbs.values().any(|elb| {
                    (elb.subnets.contains(id) || elb.groups.contains(id))
                        && elb.deleted.is_none_or(|at| now < at + linger)
                });
                if held && !linger.is_zero() {
                    *seen.acted.entry("load balancer interfaces linger").or_default() += 1;
                    let message = format!("The {} '{id}' has dependencies and cannot be deleted.", action_noun(action));
                    return Some(error_answer_with(service, "400 Bad Request", "DependencyViolation", &message));
                }
            }
            // A NAT gateway holds its address until it is gone, and a
            // moment after: ReleaseAddress answers AuthFailure (kops#938,
            // eformat/sno-for-100#5 and #9: still refused right after the
            // gateway shows `deleted`).
            "ReleaseAddress" if !self.on.nat_deleting.is_zero() => {
                let allocation = param(&params, "AllocationId").unwrap_or_default();
                let lag = self.on.nat_deleting / 3;
                let held = seen.nat_allocation.iter().any(|(nat, a)| {
                    a == allocation && seen.nat_deleted.get(nat).is_none_or(|at| now < *at + self.on.nat_deleting + lag)
                });
                if held {
                    *seen.acted.entry("address held by a NAT gateway").or_default() += 1;
                    let message = "You do not have permission to access the specified resource.";
                    return Some(error_answer_with(service, "400 Bad Request", "AuthFailure", message));
                }
            }
            "DetachInternetGateway" if self.on.detach_refused_while_mapped => {
                let vpc = param(&params, "VpcId").unwrap_or_default().to_string();
                let nat_holds = seen.nat_vpc.iter().any(|(nat, v)| {
                    *v == vpc
                        && !seen.nat_failed.contains(nat)
                        && seen.nat_deleted.get(nat).is_none_or(|at| now < *at + self.on.nat_deleting)
                });
                let elb_holds = seen.elbs.values().any(|elb| {
                    elb.internet_facing
                        && elb.subnets.iter().any(|s| seen.subnet_vpc.get(s) == Some(&vpc))
                        && elb.deleted.is_none_or(|at| now < at + self.on.elb_interfaces_linger)
                });
                if nat_holds || elb_holds {
                    *seen.acted.entry("detach refused while mapped").or_default() += 1;
                    let message = format!(
                        "Network {vpc} has some mapped public address(es). Please unmap those public address(es) \
                         before detaching the gateway."
                    );
                    return Some(error_answer_with(service, "400 Bad Request", "DependencyViolation", &message));
                }
            }
            _ => {}
        }
        None
    }

    /// A `DescribeNetworkInterfaces` by description, with the interfaces of
    /// the load balancers it names that exist or linger, as AWS shows them.
    fn with_load_balancer_interfaces(
        &self,
        seen: &mut Seen,
        params: &[(String, String)],
        head: &str,
        xml: &str,
    ) -> Option<Vec<u8>> {
        let filter =
            params.iter().find(|(k, v)| k.starts_with("Filter.") && k.ends_with(".Name") && v == "description")?;
        let values = format!("{}.Value.", filter.0.trim_end_matches(".Name"));
        let now = Instant::now();
        let mut items = String::new();
        for (_, described) in params.iter().filter(|(k, _)| k.starts_with(&values)) {
            let Some(name) = described.strip_prefix("ELB ") else { continue };
            let Some(elb) = seen.elbs.get(name) else { continue };
            if elb.deleted.is_some_and(|at| now >= at + self.on.elb_interfaces_linger) {
                continue;
            }
            for subnet in &elb.subnets {
                items.push_str(&format!(
                    "<item><networkInterfaceId>eni-elb{}</networkInterfaceId><subnetId>{subnet}</subnetId>\
                     <description>{described}</description><requesterId>amazon-elb</requesterId>\
                     <requesterManaged>true</requesterManaged><status>in-use</status></item>",
                    subnet.trim_start_matches("subnet-")
                ));
            }
        }
        if items.is_empty() {
            return None;
        }
        *seen.acted.entry("load balancer interfaces shown").or_default() += 1;
        let xml = if xml.contains("<networkInterfaceSet/>") {
            xml.replacen("<networkInterfaceSet/>", &format!("<networkInterfaceSet>{items}</networkInterfaceSet>"), 1)
        } else {
            xml.replacen("<networkInterfaceSet>", &format!("<networkInterfaceSet>{items}"), 1)
        };
        Some(rebuild(head, &xml))
    }

    /// A request for a bucket of another region, redirected.
    fn s3_redirect(&self, request_line: &str, head: &str) -> Option<Vec<u8>> {
        let bucket = bucket_of(request_line)?;
        let signed_for = head.split("Credential=").nth(1)?.split('/').nth(2)?.to_string();
        let mut seen = self.seen.lock().expect("seen");
        let region = seen.bucket_region.get(&bucket)?.clone();
        if region == signed_for {
            return None;
        }
        *seen.acted.entry("s3 redirect").or_default() += 1;
        let body = if request_line.starts_with("HEAD ") {
            String::new()
        } else {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The \
                 bucket you are attempting to access must be addressed using the specified endpoint.</Message>\
                 <Bucket>{bucket}</Bucket><Endpoint>{bucket}.s3.{region}.amazonaws.com</Endpoint>\
                 <RequestId>layer</RequestId></Error>"
            )
        };
        Some(
            format!(
                "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: {region}\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    /// A change batch over Route53's limits, refused.
    fn route53_batch(&self, request_line: &str, body: &str) -> Option<Vec<u8>> {
        if !(request_line.starts_with("POST ") && request_line.contains("/rrset")) {
            return None;
        }
        let records = body.matches("<ResourceRecord>").count() + body.matches("<AliasTarget>").count();
        let characters: usize =
            body.split("<Value>").skip(1).map(|rest| rest.split("</Value>").next().unwrap_or_default().len()).sum();
        if records <= 1000 && characters <= 32_000 {
            return None;
        }
        *self.seen.lock().expect("seen").acted.entry("route53 batch refused").or_default() += 1;
        let message =
            format!("The request has {records} ResourceRecord elements and {characters} characters of values");
        Some(error_answer_with(Service::Route53, "400 Bad Request", "InvalidChangeBatch", &message))
    }

    /// The answer as AWS would give it, after moto gave `answer`.
    pub fn after(&self, service: Service, action: &str, body: &str, answer: Vec<u8>) -> Vec<u8> {
        let ok = answer.starts_with(b"HTTP/1.1 200") || answer.starts_with(b"HTTP/1.0 200");
        if matches!(service, Service::S3) && ok {
            // CreateBucket: `PUT /bucket` (path-style), its region in the body.
            let path = action.split(' ').nth(1).unwrap_or_default();
            if action.starts_with("PUT ") && !path.trim_start_matches('/').trim_end_matches('/').contains(['/', '?']) {
                let region = first(body, "LocationConstraint").unwrap_or_else(|| "us-east-1".into());
                if let Some(bucket) = bucket_of(action) {
                    self.seen.lock().expect("seen").bucket_region.entry(bucket).or_insert(region);
                }
            }
        }
        if matches!(service, Service::Iam) && ok && action == "CreateInstanceProfile" {
            if let Some(name) = param(&params(body), "InstanceProfileName") {
                let until = Instant::now() + self.on.iam_propagation;
                self.seen.lock().expect("seen").hidden_until.insert(format!("profile:{name}"), until);
            }
        }
        if !matches!(service, Service::Ec2 | Service::Elb) {
            return answer;
        }
        let Some((head, xml)) = split(&answer) else { return answer };
        let params = params(body);
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("seen");
        if !ok {
            let name = param(&params, "LoadBalancerName").unwrap_or_default();
            let same = seen.elbs.get(name).is_some_and(|elb| elb.deleted.is_none() && elb.tags == tag_params(&params));
            if self.on.idempotency
                && action == "CreateLoadBalancer"
                && xml.contains("DuplicateLoadBalancerName")
                && same
            {
                *seen.acted.entry("load balancer create answered with the existing one").or_default() += 1;
                return existing_load_balancer(name);
            }
            return answer;
        }
        if self.on.idempotency {
            if let Some(token) = param(&params, "ClientToken") {
                seen.answers.entry((action.to_string(), token.to_string())).or_insert_with(|| answer.clone());
            }
        }
        if let Some((_, element, _, _)) = CREATES.iter().find(|(create, _, _, _)| *create == action) {
            if let Some(id) = first(&xml, element) {
                let name = if *element == "keyName" { "KeyName" } else { "Id" };
                seen.hidden_until.insert(hidden_key(name, &id), now + self.on.consistency);
            }
        }
        match action {
            "CreateSubnet" => {
                if let (Some(subnet), Some(vpc)) = (first(&xml, "subnetId"), param(&params, "VpcId")) {
                    seen.subnet_vpc.insert(subnet, vpc.to_string());
                }
            }
            "AttachInternetGateway" => {
                seen.attached.insert(param(&params, "VpcId").unwrap_or_default().to_string());
            }
            "DetachInternetGateway" => {
                seen.attached.remove(param(&params, "VpcId").unwrap_or_default());
            }
            "CreateNatGateway" => {
                if let Some(nat) = first(&xml, "natGatewayId") {
                    let vpc = seen.subnet_vpc.get(param(&params, "SubnetId").unwrap_or_default()).cloned();
                    // Only what the layer saw made: a VPC it does not know
                    // is not judged.
                    if let Some(vpc) = vpc {
                        if self.on.nat_fails_unattached && !seen.attached.contains(&vpc) {
                            seen.nat_failed.insert(nat.clone());
                        }
                        seen.nat_vpc.insert(nat.clone(), vpc);
                    }
                    if let Some(allocation) = param(&params, "AllocationId") {
                        seen.nat_allocation.insert(nat.clone(), allocation.to_string());
                    }
                    seen.nat_created.insert(nat, now);
                }
            }
            "DeleteNatGateway" => {
                if let Some(nat) = param(&params, "NatGatewayId") {
                    seen.nat_deleted.insert(nat.to_string(), now);
                }
            }
            "DetachVolume" if self.on.mounted_volumes => {
                let volume = param(&params, "VolumeId").unwrap_or_default().to_string();
                if param(&params, "Force") == Some("true") {
                    seen.busy.remove(&volume);
                } else if let (Some(instance), Some(device)) = (first(&xml, "instanceId"), first(&xml, "device")) {
                    seen.busy.insert(volume, (instance, device));
                }
            }
            "TerminateInstances" => {
                let ending = members(&params, "InstanceId.");
                seen.busy.retain(|_, (instance, _)| !ending.contains(instance));
            }
            "CreateLoadBalancer" | "AttachLoadBalancerToSubnets" | "ApplySecurityGroupsToLoadBalancer" => {
                let name = param(&params, "LoadBalancerName").unwrap_or_default().to_string();
                let internet_facing = action == "CreateLoadBalancer" && param(&params, "Scheme") != Some("internal");
                let elb = seen.elbs.entry(name).or_default();
                elb.subnets.extend(members(&params, "Subnets.member."));
                elb.groups.extend(members(&params, "SecurityGroups.member."));
                elb.internet_facing |= internet_facing;
                elb.deleted = None;
                if action == "CreateLoadBalancer" {
                    elb.tags = tag_params(&params);
                }
            }
            "DeleteLoadBalancer" => {
                if let Some(elb) = seen.elbs.get_mut(param(&params, "LoadBalancerName").unwrap_or_default()) {
                    elb.deleted = Some(now);
                }
            }
            _ => {}
        }
        if action == "DescribeNetworkInterfaces" && !self.on.elb_interfaces_linger.is_zero() {
            return self.with_load_balancer_interfaces(&mut seen, &params, &head, &xml).unwrap_or(answer);
        }
        let Some((_, element)) = DESCRIBES.iter().find(|(describe, _)| *describe == action) else {
            return answer;
        };
        let mut xml = xml;
        let mut changed = false;
        let seen = &mut *seen;
        if params.iter().any(|(k, _)| k.starts_with("Filter.")) {
            let name = if *element == "keyName" { "KeyName" } else { "Id" };
            let (hidden_until, acted) = (&seen.hidden_until, &mut seen.acted);
            let kept = rewrite_items(&xml, |item| {
                let own = first(item, element).unwrap_or_default();
                let hidden = hidden_until.get(&hidden_key(name, &own)).is_some_and(|until| now < *until);
                hidden.then(|| {
                    *acted.entry("left out of a describe").or_default() += 1;
                    String::new()
                })
            });
            if let Some(kept) = kept {
                xml = kept;
                changed = true;
            }
        }
        if action == "DescribeVolumes" && !seen.busy.is_empty() {
            let (busy, acted) = (&seen.busy, &mut seen.acted);
            let shown = rewrite_items(&xml, |item| {
                let volume = first(item, "volumeId").unwrap_or_default();
                let (instance, device) = busy.get(&volume)?;
                if !item.contains("<attachmentSet/>") {
                    return None;
                }
                *acted.entry("volume busy").or_default() += 1;
                let attachment = format!(
                    "<attachmentSet><item><volumeId>{volume}</volumeId><instanceId>{instance}</instanceId>\
                     <device>{device}</device><status>busy</status></item></attachmentSet>"
                );
                Some(item.replacen("<status>available</status>", "<status>in-use</status>", 1).replacen(
                    "<attachmentSet/>",
                    &attachment,
                    1,
                ))
            });
            if let Some(shown) = shown {
                xml = shown;
                changed = true;
            }
        }
        if action == "DescribeNatGateways" {
            let (failed, deleted, created, acted) =
                (&seen.nat_failed, &seen.nat_deleted, &seen.nat_created, &mut seen.acted);
            let (pending, deleting) = (self.on.nat_pending, self.on.nat_deleting);
            let shown = rewrite_items(&xml, |item| {
                let nat = first(item, "natGatewayId").unwrap_or_default();
                let state = first(item, "state").unwrap_or_default();
                let (shown, extra, what) = if failed.contains(&nat) && state != "deleted" {
                    let failure = "<failureCode>Gateway.NotAttached</failureCode><failureMessage>Network vpc \
                                   has no Internet gateway attached</failureMessage>";
                    ("failed", failure, "nat failed unattached")
                } else if state == "deleted" && deleted.get(&nat).is_some_and(|at| now < *at + deleting) {
                    ("deleting", "", "nat deleting")
                } else if state == "available" && created.get(&nat).is_some_and(|at| now < *at + pending) {
                    ("pending", "", "nat pending")
                } else {
                    return None;
                };
                *acted.entry(what).or_default() += 1;
                Some(item.replacen(&format!("<state>{state}</state>"), &format!("<state>{shown}</state>{extra}"), 1))
            });
            if let Some(shown) = shown {
                xml = shown;
                changed = true;
            }
        }
        if changed {
            rebuild(&head, &xml)
        } else {
            answer
        }
    }
}

/// `xml` with each top-level item that `change` has a new text for (an
/// empty one leaves it out) replaced; `None` when nothing changed.
fn rewrite_items(xml: &str, mut change: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    for (start, end) in items(xml) {
        if let Some(new) = change(&xml[start..end]) {
            out.push_str(&xml[last..start]);
            out.push_str(&new);
            last = end;
        }
    }
    (last > 0).then(|| {
        out.push_str(&xml[last..]);
        out
    })
}

/// The bucket a path-style S3 request is for (`GET /bucket/key HTTP/1.1`).
fn bucket_of(request_line: &str) -> Option<String> {
    let path = request_line.split(' ').nth(1)?;
    let bucket = path.trim_start_matches('/').split(['/', '?']).next()?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

/// How a hidden id is filed: key pairs by name (`key:NAME`, named only by
/// a `KeyName` parameter), everything else by its id (`vpc-0abc…`).
/// CreateLoadBalancer's answer for a name that exists, made with the same
/// configuration: AWS answers with that balancer (undocumented; reported
/// in aws/aws-sdk-java#469), and refuses another configuration with
/// DuplicateLoadBalancerName ("… configured with different tags"). moto
/// refuses every repeat. The layer compares the tags only, which carry
/// the ownership: the case that matters is a create whose answer was lost.
fn existing_load_balancer(name: &str) -> Vec<u8> {
    let body = format!(
        "<CreateLoadBalancerResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/\">\
         <CreateLoadBalancerResult><DNSName>{name}-1.us-east-1.elb.amazonaws.com</DNSName>\
         </CreateLoadBalancerResult><ResponseMetadata><RequestId>existing</RequestId></ResponseMetadata>\
         </CreateLoadBalancerResponse>"
    );
    format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// A query request's `Tags.member.N.Key`/`.Value` pairs.
fn tag_params(params: &[(String, String)]) -> BTreeSet<(String, String)> {
    let value = |n: &str| param(params, &format!("Tags.member.{n}.Value")).unwrap_or_default().to_string();
    params
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("Tags.member.")?.strip_suffix(".Key")?;
            Some((v.clone(), value(n)))
        })
        .collect()
}

fn hidden_key(parameter: &str, value: &str) -> String {
    if parameter == "KeyName" {
        format!("key:{value}")
    } else {
        value.to_string()
    }
}

fn action_noun(action: &str) -> &'static str {
    if action == "DeleteSubnet" {
        "subnet"
    } else {
        "security group"
    }
}
