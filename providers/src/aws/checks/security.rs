//! The security lint: configurations that work but expose or weaken what
//! they build — SSH or RDP open to the internet, unencrypted disks, public
//! buckets, the instance metadata service without tokens, secrets in user
//! data. Each finding is a warning with a stable id, a severity, the span,
//! a fix and the matching trivy and checkov checks. A resource accepts a
//! finding on purpose, with a written reason:
//!
//! ```text
//! lifecycle {
//!   accept = { public_ingress = "the chapter's web host serves HTTP to everyone" }
//! }
//! ```
//!
//! `--deny-warnings` turns the findings left into a failure, for CI.

use std::fmt;

use k8sinfra_engine::config::{Config, ResourceInstance};
use k8sinfra_lang::{suggest, Diag, Diagnostics, Span, Value};
use miette::{Diagnostic, LabeledSpan, Severity};

use super::attr_span;
use super::errors::AwsCheckError;

/// One check of the lint.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: &'static str,
    pub title: &'static str,
    pub fix: &'static str,
    /// The matching checks of trivy (AVD ids) and checkov (CKV ids).
    pub trivy: &'static str,
    pub checkov: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "open_ssh",
        severity: "high",
        title: "SSH (port 22) open to the whole internet",
        fix: "allow SSH from your own addresses (a /32), or through a bastion's security group",
        trivy: "AVD-AWS-0107",
        checkov: "CKV_AWS_24",
    },
    Rule {
        id: "open_rdp",
        severity: "high",
        title: "RDP (port 3389) open to the whole internet",
        fix: "allow RDP from your own addresses only",
        trivy: "AVD-AWS-0107",
        checkov: "CKV_AWS_25",
    },
    Rule {
        id: "open_all_ports",
        severity: "high",
        title: "every port open to the whole internet",
        fix: "name the protocol and ports the service needs",
        trivy: "AVD-AWS-0107",
        checkov: "CKV_AWS_277",
    },
    Rule {
        id: "public_ingress",
        severity: "medium",
        title: "ingress from the whole internet",
        fix: "narrow the source to the networks that need it, or put a load balancer in front",
        trivy: "AVD-AWS-0107",
        checkov: "CKV_AWS_260",
    },
    Rule {
        id: "rule_without_description",
        severity: "low",
        title: "a security-group rule without a description",
        fix: "say why the rule exists: `description = \"…\"`",
        trivy: "AVD-AWS-0124",
        checkov: "CKV_AWS_23",
    },
    Rule {
        id: "unencrypted_volume",
        severity: "high",
        title: "an EBS volume without encryption",
        fix: "set `encrypted = true` (it forces a new volume: copy the data first)",
        trivy: "AVD-AWS-0026",
        checkov: "CKV_AWS_3",
    },
    Rule {
        id: "unencrypted_root_volume",
        severity: "high",
        title: "an instance's root volume without encryption",
        fix: "set `root_volume { encrypted = true }`",
        trivy: "AVD-AWS-0131",
        checkov: "CKV_AWS_8",
    },
    Rule {
        id: "imdsv1",
        severity: "high",
        title: "the instance metadata service answers without a session token (IMDSv1)",
        fix: "leave `require_imdsv2` at its default, true",
        trivy: "AVD-AWS-0028",
        checkov: "CKV_AWS_79",
    },
    Rule {
        id: "secret_in_user_data",
        severity: "critical",
        title: "a secret in user data, which anyone who can describe the instance reads",
        fix: "fetch the secret at boot (from SSM Parameter Store or Secrets Manager, with an instance role)",
        trivy: "AVD-AWS-0029",
        checkov: "CKV_AWS_46",
    },
    Rule {
        id: "bucket_public_access",
        severity: "high",
        title: "a bucket without the public-access block",
        fix: "leave `block_public_access` at its default, true",
        trivy: "AVD-AWS-0094",
        checkov: "CKV2_AWS_6",
    },
    Rule {
        id: "bucket_versioning",
        severity: "medium",
        title: "a bucket without versioning: an overwritten or deleted object is gone",
        fix: "set `versioning = true`",
        trivy: "AVD-AWS-0090",
        checkov: "CKV_AWS_21",
    },
    Rule {
        id: "public_ip_subnet",
        severity: "low",
        title: "a subnet that gives every instance a public address",
        fix: "launch instances in private subnets behind NAT; keep public addresses for load balancers",
        trivy: "AVD-AWS-0164",
        checkov: "CKV_AWS_130",
    },
    Rule {
        id: "plain_http_elb",
        severity: "medium",
        title: "an internet-facing load balancer listening on plain HTTP",
        fix: "listen on HTTPS (or SSL) with a certificate, and redirect HTTP to it",
        trivy: "AVD-AWS-0054",
        checkov: "CKV_AWS_2",
    },
    Rule {
        id: "iam_wildcard",
        severity: "high",
        title: "a policy that allows every action, or every action of a service on every resource",
        fix: "name the actions the role needs, and the resources (ARNs, or a tag condition) they apply to",
        trivy: "AVD-AWS-0057",
        checkov: "CKV_AWS_63",
    },
    Rule {
        id: "iam_pass_role_any",
        severity: "high",
        title: "a policy that allows iam:PassRole on every role: whoever holds it can act as any role",
        fix: "allow iam:PassRole only on the ARNs of the roles it must pass",
        trivy: "AVD-AWS-0057",
        checkov: "CKV_AWS_286",
    },
];

fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("a rule of the table")
}

/// A finding: a rule broken by a resource, at a span.
#[derive(Debug)]
pub struct Finding {
    rule: &'static Rule,
    resource: String,
    label: String,
    span: Span,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {} in `{}`", self.rule.id, self.rule.severity, self.rule.title, self.resource)
    }
}

impl std::error::Error for Finding {}

impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("lint::{}", self.rule.id)))
    }

    fn severity(&self) -> Option<Severity> {
        Some(Severity::Warning)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "{}; trivy {}, checkov {}; to accept it, say why: `lifecycle {{ accept = {{ {} = \"…\" }} }}`",
            self.rule.fix, self.rule.trivy, self.rule.checkov, self.rule.id
        )))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span: miette::SourceSpan = self.span.into();
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(self.label.clone()), span))))
    }
}

pub fn check(config: &Config, diags: &mut Diagnostics) {
    for r in &config.resources {
        for accepted in &r.lifecycle.accepted {
            if !RULES.iter().any(|rule| rule.id == accepted.rule) {
                diags.push(Diag::new(
                    accepted.span.file,
                    AwsCheckError::UnknownLintRule {
                        rule: accepted.rule.clone(),
                        span: accepted.span.into(),
                        help: suggest::help(&accepted.rule, RULES.iter().map(|r| r.id)),
                    },
                ));
            }
        }
        let mut found = Vec::new();
        findings(r, &mut found);
        for (id, span, label) in found {
            if r.lifecycle.accepted.iter().any(|a| a.rule == id) {
                continue;
            }
            let finding = Finding { rule: rule(id), resource: r.addr.to_string(), label, span };
            diags.push(Diag::new(span.file, finding));
        }
    }
}

type Found = Vec<(&'static str, Span, String)>;

fn findings(r: &ResourceInstance, found: &mut Found) {
    let attr = |name: &str| r.attrs.get(name);
    let is = |name: &str, want: bool| matches!(attr(name), Some(Value::Bool(b)) if *b == want);
    match r.addr.type_name.as_str() {
        "security_group" => {
            for block in ["ingress", "egress"] {
                let Some(Value::List(rules)) = attr(block) else { continue };
                for (i, entry) in rules.iter().enumerate() {
                    let Value::Map(entry) = entry else { continue };
                    let span_of = |name: &str| {
                        r.spans
                            .blocks
                            .get(block)
                            .and_then(|b| b.get(i))
                            .and_then(|s| s.get(name).or_else(|| s.get("protocol")))
                            .copied()
                            .unwrap_or(r.spans.decl)
                    };
                    if block == "ingress" {
                        ingress(entry, span_of("cidrs"), found);
                    }
                    if matches!(entry.get("description"), None | Some(Value::Null)) {
                        found.push(("rule_without_description", span_of("protocol"), "no description".into()));
                    }
                }
            }
        }
        "security_group_rule" => {
            let direction = attr("direction").and_then(Value::as_str).unwrap_or("ingress");
            if direction == "ingress" {
                ingress(&r.attrs, attr_span(r, "cidrs"), found);
            }
            if matches!(attr("description"), None | Some(Value::Null)) {
                found.push(("rule_without_description", attr_span(r, "protocol"), "no description".into()));
            }
        }
        "ebs_volume" if is("encrypted", false) => {
            found.push(("unencrypted_volume", attr_span(r, "encrypted"), "not encrypted".into()));
        }
        "instance" => {
            if let Some(Value::Map(root)) = attr("root_volume") {
                if matches!(root.get("encrypted"), Some(Value::Bool(false))) {
                    found.push(("unencrypted_root_volume", attr_span(r, "root_volume"), "not encrypted".into()));
                }
            }
            if is("require_imdsv2", false) {
                found.push(("imdsv1", attr_span(r, "require_imdsv2"), "tokens not required".into()));
            }
            if let Some(Value::String(text)) = attr("user_data") {
                if let Some(what) = secret_in(text) {
                    found.push(("secret_in_user_data", attr_span(r, "user_data"), format!("holds {what}")));
                }
            }
        }
        "s3_bucket" => {
            if is("block_public_access", false) {
                found.push(("bucket_public_access", attr_span(r, "block_public_access"), "not blocked".into()));
            }
            if !is("versioning", true) {
                found.push(("bucket_versioning", attr_span(r, "versioning"), "not versioned".into()));
            }
        }
        "iam_role_policy" => {
            let Some(Value::String(document)) = attr("policy") else { return };
            for (actions, resources) in crate::aws::iam::policy::allowed(document) {
                let every_resource = resources.iter().any(|r| r == "*");
                let span = attr_span(r, "policy");
                if let Some(action) = actions.iter().find(|a| *a == "*" || (every_resource && a.ends_with(":*"))) {
                    found.push(("iam_wildcard", span, format!("allows `{action}` on every resource")));
                }
                let pass = |a: &String| a.eq_ignore_ascii_case("iam:PassRole") || a == "iam:*" || a == "*";
                if every_resource && actions.iter().any(pass) {
                    found.push(("iam_pass_role_any", span, "iam:PassRole on every role".into()));
                }
            }
        }
        "subnet" if is("public_ip_on_launch", true) => {
            found.push(("public_ip_subnet", attr_span(r, "public_ip_on_launch"), "public addresses for all".into()));
        }
        "load_balancer" if !is("internal", true) => {
            let Some(Value::List(listeners)) = attr("listener") else { return };
            let http = listeners.iter().any(|l| {
                matches!(l, Value::Map(m) if m.get("protocol").and_then(Value::as_str).is_some_and(|p| p.eq_ignore_ascii_case("http")))
            });
            if http {
                found.push(("plain_http_elb", attr_span(r, "listener"), "HTTP to the internet".into()));
            }
        }
        _ => {}
    }
}

/// Findings of one ingress rule: from anywhere, on which ports.
fn ingress(rule: &std::collections::BTreeMap<String, Value>, span: Span, found: &mut Found) {
    let anywhere = matches!(rule.get("cidrs"), Some(Value::List(cidrs))
        if cidrs.iter().any(|c| matches!(c, Value::Cidr(net) if net.prefix_len() == 0)));
    if !anywhere {
        return;
    }
    let protocol = rule.get("protocol").and_then(Value::as_str).unwrap_or("all").to_ascii_lowercase();
    let ports = match rule.get("port") {
        Some(Value::PortRange(a, b)) => Some((*a, *b)),
        Some(Value::Number(n)) => Some((*n as u16, *n as u16)),
        _ => None,
    };
    let covers = |port: u16| ports.is_none_or(|(a, b)| a <= port && port <= b);
    let ported = matches!(protocol.as_str(), "tcp" | "udp" | "6" | "17");
    if !ported && matches!(protocol.as_str(), "all" | "-1") || (ported && ports.is_none()) {
        found.push(("open_all_ports", span, "every port, from anywhere".into()));
    } else if ported && covers(22) {
        found.push(("open_ssh", span, "port 22 from anywhere".into()));
    } else if ported && covers(3389) {
        found.push(("open_rdp", span, "port 3389 from anywhere".into()));
    } else {
        found.push(("public_ingress", span, "from anywhere".into()));
    }
}

/// What looks like a secret in user data: a private key, an AWS access
/// key id, or a secret access key setting.
fn secret_in(text: &str) -> Option<&'static str> {
    if text.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    if text.to_ascii_lowercase().contains("aws_secret_access_key") {
        return Some("an AWS secret access key");
    }
    let bytes = text.as_bytes();
    let access_key = bytes.windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    if access_key {
        return Some("an AWS access key id");
    }
    bootstrap_token(bytes).then_some("a kubeadm bootstrap token")
}

/// A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`, standing alone
/// (not inside a longer word): whoever has it joins the cluster.
fn bootstrap_token(bytes: &[u8]) -> bool {
    let part = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_';
    bytes.windows(23).enumerate().any(|(at, w)| {
        w[..6].iter().all(part)
            && w[6] == b'.'
            && w[7..].iter().all(part)
            && (at == 0 || !word(bytes[at - 1]))
            && bytes.get(at + 23).is_none_or(|c| !word(*c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_and_ordinary_text_is_not() {
        assert_eq!(secret_in("-----BEGIN PRIVATE KEY-----\nMIG"), Some("a private key"));
        assert_eq!(secret_in("export AWS_SECRET_ACCESS_KEY=x"), Some("an AWS secret access key"));
        assert_eq!(secret_in("key AKIAIOSFODNN7EXAMPLE here"), Some("an AWS access key id"));
        assert_eq!(secret_in("#!/bin/bash\napt-get install -y nginx\n"), None);
        assert_eq!(secret_in("AKIA-not-a-key"), None);
        assert_eq!(secret_in("token: \"abcdef.0123456789abcdef\""), Some("a kubeadm bootstrap token"));
        assert_eq!(secret_in("kubeadm join --token 7c2r1s.u1vwq0gk2j3h4k5l x"), Some("a kubeadm bootstrap token"));
        assert_eq!(secret_in("image registry.k8s.io/pause:3.10 and abcdef.0123456789abcdefg"), None);
        assert_eq!(secret_in("host abcdef.0123456789abcdef.example.com"), None, "a DNS name is not a token");
    }

    #[test]
    fn every_rule_has_an_id_a_severity_and_the_matching_checks() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "ids are unique");
        for r in RULES {
            assert!(["critical", "high", "medium", "low"].contains(&r.severity), "{}", r.id);
            assert!(r.trivy.starts_with("AVD-AWS-") && r.checkov.starts_with("CKV"), "{}", r.id);
        }
    }
}
