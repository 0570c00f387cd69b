//! A fresh moto server (a real AWS API server) per test, on a free port of
//! 127.0.0.1, from the `.venv` that `scripts/test` installs. Dropped, it is
//! killed.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// How the suite scales AWS's waits and retry budgets (see `Moto::env`).
pub const TIME_SCALE: &str = "0.02";

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's own image catalogue plus the images of `examples/`.
pub const AMIS: &str = "tests/moto/amis.json";

fn server() -> PathBuf {
    support::root().join(".venv/bin/moto_server")
}

impl Moto {
    pub fn start() -> Moto {
        let server = server();
        assert!(
            server.exists(),
            "{} is missing: run ./scripts/test, which installs moto[server] into .venv",
            server.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // The images our examples and tests launch, with their real
            // root device names: moto answers DescribeImages only for these.
            .env("MOTO_AMIS_PATH", support::root().join(AMIS))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !moto.ready(port) {
            assert!(Instant::now() < deadline, "moto did not answer on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn ready(&self, port: u16) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
    }

    /// Environment for the binary and the SDK: this endpoint, dummy keys,
    /// and AWS's waits at a fiftieth of real time
    /// (`K8SINFRA_AWS_TIME_SCALE`): two minutes of propagation are 2.4 s,
    /// a NAT gateway's ten-minute budget 12 s. moto answers at once; the
    /// behaviour layer's windows (`aws_behaviour`) are a second or two.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("K8SINFRA_AWS_TIME_SCALE", TIME_SCALE.into()),
        ]
    }

    /// An EC2 client on this server, for checking and for drift.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        self.ec2_via(&self.endpoint)
    }

    /// An EC2 client that reaches this server through `endpoint` (a relay).
    pub fn ec2_via(&self, endpoint: &str) -> aws_sdk_ec2::Client {
        self.ec2_at(endpoint, "us-east-1")
    }

    /// An EC2 client on this server for `region`.
    pub fn ec2_in(&self, region: &str) -> aws_sdk_ec2::Client {
        self.ec2_at(&self.endpoint, region)
    }

    fn ec2_at(&self, endpoint: &str, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "moto"))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// An S3 client on this server (path-style: there is no DNS for
    /// `bucket.127.0.0.1`).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_in(&self.endpoint, "us-east-1")
    }

    /// An S3 client for `region`, reaching this server through `endpoint`.
    pub fn s3_in(&self, endpoint: &str, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "moto"))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_iam::config::Credentials::new("test", "test", None, None, "moto"))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn route53(&self) -> aws_sdk_route53::Client {
        let conf = aws_sdk_route53::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_route53::config::Credentials::new("test", "test", None, None, "moto"))
            .build();
        aws_sdk_route53::Client::from_conf(conf)
    }

    pub fn elb(&self) -> aws_sdk_elasticloadbalancing::Client {
        self.elb_via(&self.endpoint)
    }

    /// An ELB client that reaches this server through `endpoint` (a relay).
    pub fn elb_via(&self, endpoint: &str) -> aws_sdk_elasticloadbalancing::Client {
        let conf = aws_sdk_elasticloadbalancing::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_elasticloadbalancing::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .build();
        aws_sdk_elasticloadbalancing::Client::from_conf(conf)
    }
}
