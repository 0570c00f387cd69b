//! The security lint as a user meets it: each rule on a resource made to
//! break it, with its id, severity and the matching trivy/checkov ids; an
//! accepted finding gone; an unknown rule named in `accept` refused with a
//! suggestion; `--deny-warnings` failing `validate` and `plan`.

use crate::support::{flat, run, stderr, stdout};

const CONFIG: &str = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

subnet public {
  vpc                 = vpc.main
  cidr                = 10.0.1.0/24
  zone                = "us-east-1a"
  public_ip_on_launch = true
}

security_group wide {
  vpc = vpc.main
  ingress { protocol = "tcp", port = 22, cidrs = [0.0.0.0/0], description = "ssh" }
  ingress { protocol = "tcp", port = 3389, cidrs = [0.0.0.0/0], description = "rdp" }
  ingress { protocol = "all", cidrs = [0.0.0.0/0], description = "everything" }
  ingress { protocol = "tcp", port = 443, cidrs = [0.0.0.0/0] }
}

security_group web {
  vpc = vpc.main
  ingress { protocol = "tcp", port = 80, cidrs = [0.0.0.0/0], description = "http" }

  lifecycle {
    accept = { public_ingress = "the web tier is public by design" }
  }
}

instance web {
  image          = "ami-12c6146b"
  type           = "t3.micro"
  subnet         = subnet.public
  require_imdsv2 = false
  user_data      = "export AWS_SECRET_ACCESS_KEY=abc"
  root_volume { encrypted = false }
}

ebs_volume data {
  zone      = "us-east-1a"
  size      = 10
  encrypted = false
}

s3_bucket files {
  name                = "lint-example-files"
  block_public_access = false
}

load_balancer front {
  subnets = [subnet.public]
  listener { port = 80, protocol = "HTTP", instance_port = 80 }
}

iam_role admin {
  name               = "lint-admin"
  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }] })
}

iam_role_policy everything {
  role   = iam_role.admin
  name   = "everything"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "ec2:*", Resource = "*" }] })
}

iam_role_policy pass {
  role   = iam_role.admin
  name   = "pass"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["iam:PassRole", "ec2:RunInstances"], Resource = ["*"] }] })
}

iam_role_policy scoped {
  role   = iam_role.admin
  name   = "scoped"
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = "ec2:Describe*", Resource = "*" },
    { Effect = "Allow", Action = "iam:PassRole", Resource = "arn:aws:iam::123456789012:role/nodes" },
  ] })
}
"#;

fn codes(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("JSON diagnostics");
    let mut codes: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect();
    codes.sort();
    codes
}

#[test]
fn every_rule_fires_once_an_accepted_finding_is_quiet_and_deny_warnings_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.k8sinfra"), CONFIG).expect("written");

    let checked = run(dir.path(), &["--json", "validate"]);
    assert_eq!(checked.status.code(), Some(0), "warnings alone pass: {}", stdout(&checked));
    let expected = [
        "lint::bucket_public_access",
        "lint::bucket_versioning",
        "lint::iam_pass_role_any",
        "lint::iam_wildcard",
        "lint::imdsv1",
        "lint::open_all_ports",
        "lint::open_rdp",
        "lint::open_ssh",
        "lint::plain_http_elb",
        "lint::public_ingress",
        "lint::public_ip_subnet",
        "lint::rule_without_description",
        "lint::secret_in_user_data",
        "lint::unencrypted_root_volume",
        "lint::unencrypted_volume",
    ];
    assert_eq!(codes(&stdout(&checked)), expected, "one finding per rule; web's accepted one is not among them");

    let shown = run(dir.path(), &["validate"]);
    let text = flat(&stderr(&shown));
    assert!(
        text.contains("open_ssh (high): SSH (port 22) open to the whole internet in `security_group.wide`"),
        "{text}"
    );
    assert!(text.contains("trivy AVD-AWS-0107, checkov CKV_AWS_24"), "{text}");
    assert!(text.contains("lifecycle { accept = { open_ssh = \"…\" } }"), "{text}");

    for verb in ["validate", "plan"] {
        let denied = run(dir.path(), &[verb, "--deny-warnings"]);
        assert_eq!(denied.status.code(), Some(1), "{verb}: {}", stderr(&denied));
        assert!(
            stderr(&denied).contains("15 warnings and --deny-warnings; nothing was changed."),
            "{}",
            stderr(&denied)
        );
    }

    // A rule that does not exist, and a reason left out.
    let wrong = CONFIG.replace(
        "accept = { public_ingress = \"the web tier is public by design\" }",
        "accept = { public_ingres = \"typo\", open_ssh = \"\" }",
    );
    std::fs::write(dir.path().join("main.k8sinfra"), wrong).expect("written");
    let refused = run(dir.path(), &["validate"]);
    assert_eq!(refused.status.code(), Some(1));
    let text = flat(&stderr(&refused));
    assert!(
        text.contains("no lint rule `public_ingres` to accept") && text.contains("did you mean `public_ingress`?"),
        "{text}"
    );
    assert!(text.contains("an accepted finding needs its reason, written out"), "{text}");
}

/// resources.md, Security lint: `open_ssh` also on a rule managed apart
/// (`security_group_rule`), and `open_all_ports` for TCP or UDP with no
/// `port` (every port), not only `protocol = "all"`.
#[test]
fn a_separate_rule_and_a_portless_rule_are_linted_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = r#"aws { region = "us-east-1" }

vpc main {
  cidr = 10.0.0.0/16
}

security_group masters {
  vpc = vpc.main
  lifecycle {
    ignore_changes = [ingress]
  }
}

security_group_rule ssh {
  group       = security_group.masters
  protocol    = "tcp"
  port        = 22
  cidrs       = [0.0.0.0/0]
  description = "ssh from anywhere"
}

security_group portless {
  vpc = vpc.main
  ingress { protocol = "udp", cidrs = [0.0.0.0/0], description = "every udp port" }
}
"#;
    std::fs::write(dir.path().join("main.k8sinfra"), config).expect("write");
    let out = run(dir.path(), &["--json", "validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let found: Vec<(String, u64)> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["labels"][0]["start"]["line"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(found, [("lint::open_ssh".to_string(), 18), ("lint::open_all_ports".to_string(), 24)], "{doc}");
}
