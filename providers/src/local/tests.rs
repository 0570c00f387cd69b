//! The authority, a certificate it signs and a token, checked with the
//! `openssl` command (as kubeadm and kubectl would read them), not with
//! the library that made them.

use std::io::Write as _;
use std::process::{Command, Stdio};

use k8sinfra_engine::provider::{Attrs, Remote, Target};
use k8sinfra_engine::Provider as _;
use serde_json::json;

use super::Local;

fn create(type_name: &str, attrs: Attrs) -> Remote {
    let target = Target {
        type_name,
        address: "test",
        lineage: "l",
        since: None,
        expected_id: None,
        not_id: None,
        token: None,
        alias: "",
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(Local::new().create(target, &attrs)).expect("created")
}

fn text(remote: &Remote, name: &str) -> String {
    remote.attrs[name].as_str().expect("a string").to_string()
}

/// Runs openssl with `input` on stdin; its stdout, or a panic with stderr.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().expect("stdin").write_all(input).expect("written");
    let out = child.wait_with_output().expect("openssl ends");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn a_certificate_chains_to_its_authority_and_the_hash_is_kubeadms() {
    let ca = create(
        "tls_ca",
        Attrs::from([("common_name".into(), json!("kubernetes")), ("validity_days".into(), json!(3650))]),
    );
    let admin = create(
        "tls_certificate",
        Attrs::from([
            ("ca_cert_pem".into(), ca.attrs["cert_pem"].clone()),
            ("ca_key_pem".into(), ca.attrs["key_pem"].clone()),
            ("common_name".into(), json!("kubernetes-admin")),
            ("organization".into(), json!("system:masters")),
            ("names".into(), json!(["api.my-cluster.k8s-devops.net", "10.96.0.1"])),
            ("usage".into(), json!("both")),
        ]),
    );
    assert_ne!(ca.id, admin.id, "serials differ");

    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, text(&ca, "cert_pem")).expect("written");
    let verified = openssl(
        &["verify", "-purpose", "sslclient", "-CAfile", ca_file.to_str().expect("utf-8")],
        text(&admin, "cert_pem").as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&verified).trim(), "stdin: OK");

    let shown = String::from_utf8(openssl(
        &["x509", "-noout", "-subject", "-ext", "subjectAltName"],
        text(&admin, "cert_pem").as_bytes(),
    ))
    .expect("utf-8");
    assert!(shown.contains("O = system:masters") && shown.contains("CN = kubernetes-admin"), "{shown}");
    assert!(shown.contains("DNS:api.my-cluster.k8s-devops.net") && shown.contains("IP Address:10.96.0.1"), "{shown}");

    // kubeadm's documented recipe for --discovery-token-ca-cert-hash.
    let public = openssl(&["x509", "-pubkey", "-noout"], text(&ca, "cert_pem").as_bytes());
    let der = openssl(&["pkey", "-pubin", "-outform", "der"], &public);
    let digest = openssl(&["dgst", "-sha256", "-hex"], &der);
    let hex = String::from_utf8_lossy(&digest).rsplit(' ').next().unwrap_or_default().trim().to_string();
    assert_eq!(text(&ca, "public_key_hash"), format!("sha256:{hex}"));

    // The key matches its certificate.
    let from_key = openssl(&["pkey", "-pubout"], text(&admin, "key_pem").as_bytes());
    let from_cert = openssl(&["x509", "-pubkey", "-noout"], text(&admin, "cert_pem").as_bytes());
    assert_eq!(from_key, from_cert);
}

#[test]
fn a_bad_authority_is_an_error_not_a_panic() {
    let target = Target {
        type_name: "tls_certificate",
        address: "tls_certificate.x",
        lineage: "l",
        since: None,
        expected_id: None,
        not_id: None,
        token: None,
        alias: "",
    };
    let attrs = Attrs::from([
        ("ca_cert_pem".into(), json!("not a certificate")),
        ("ca_key_pem".into(), json!("not a key")),
        ("common_name".into(), json!("x")),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let error = runtime.block_on(Local::new().create(target, &attrs)).expect_err("refused");
    assert!(error.to_string().contains("`ca_key_pem` is not a private key"), "{error}");
}

#[test]
fn tokens_have_kubeadms_shape_and_differ() {
    let shape = |t: &str| {
        let (id, secret) = t.split_once('.').expect("ID.SECRET");
        let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok(id, 6) && ok(secret, 16)
    };
    let a = create("bootstrap_token", Attrs::new());
    let b = create("bootstrap_token", Attrs::new());
    assert!(shape(&text(&a, "token")) && shape(&text(&b, "token")), "{a:?}");
    assert_eq!(text(&a, "token").split('.').next(), Some(a.id.as_str()));
    assert_ne!(text(&a, "token"), text(&b, "token"));
}
