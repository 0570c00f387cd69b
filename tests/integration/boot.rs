//! The cluster's boot scripts, run. No test here can boot an instance, so
//! each rendered script — the first master's and a node's, as the state
//! of an applied `examples/kops-cluster` holds them — runs under bash in a
//! sandbox (`tests/boot/sandbox.sh`: user, mount and network namespaces
//! from util-linux's `unshare`; its own /etc, /var and /dev; recording
//! stubs for apt-get, systemctl, kubeadm, kubectl, curl, mount, mkfs …).
//! A joining master and a first master rebuilt (the API answering) run
//! too. What it fetches, the files it writes and their modes, the kubeadm
//! configuration it generates (parsed as YAML), and that no secret reaches
//! its output or its log are checked here.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;

use crate::apply::{example, k8sinfra};
use crate::moto::Moto;
use crate::support::{root, stderr};

const NAME: &str = "my-cluster.k8s-devops.net";

/// A rendered script run in a fresh sandbox, and what it left.
struct Booted {
    dir: tempfile::TempDir,
    output: String,
}

impl Booted {
    fn path(&self, inside: &str) -> PathBuf {
        self.dir.path().join(inside.trim_start_matches('/'))
    }
    fn read(&self, inside: &str) -> String {
        std::fs::read_to_string(self.path(inside)).unwrap_or_else(|e| panic!("{inside}: {e}"))
    }
    fn mode(&self, inside: &str) -> u32 {
        std::fs::metadata(self.path(inside)).unwrap_or_else(|e| panic!("{inside}: {e}")).permissions().mode() & 0o777
    }
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Run `script` with the state bucket's objects (`objects`, by key) behind
/// the stubbed S3, the API up or not.
fn boot(script: &str, objects: &BTreeMap<String, String>, api_up: bool) -> Booted {
    let dir = tempfile::tempdir().expect("sandbox");
    let sbx = dir.path();
    for folder in ["var/log", "var/lib", "dev", "objects"] {
        std::fs::create_dir_all(sbx.join(folder)).expect("folder");
    }
    let copied = Command::new("cp").args(["-a", "/etc/.", &format!("{}/etc", sbx.display())]).status();
    assert!(copied.is_ok_and(|s| s.success()), "copying /etc into the sandbox");
    for (key, content) in objects {
        let file = sbx.join("objects").join(key);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("folder");
        std::fs::write(file, content).expect("object");
    }
    if api_up {
        std::fs::write(sbx.join("api-up"), "").expect("api-up");
    }
    std::fs::write(sbx.join("script.sh"), script).expect("script");
    let out = Command::new("unshare")
        .args(["-r", "-m", "-n", "--fork", "bash"])
        .arg(root().join("tests/boot/sandbox.sh"))
        .arg(sbx)
        .arg(sbx.join("script.sh"))
        .output()
        .expect("unshare runs (util-linux)");
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the script failed in its sandbox:\n{output}");
    Booted { dir, output }
}

/// Every YAML document of a file, as JSON (parsed by PyYAML, which the
/// test environment's `.venv` has with moto).
fn yaml(text: &str) -> Vec<serde_json::Value> {
    let python = root().join(".venv/bin/python");
    let mut child = Command::new(python)
        .args(["-c", "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python with PyYAML, from .venv");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), text.as_bytes()).expect("written");
    let out = child.wait_with_output().expect("parsed");
    assert!(out.status.success(), "not YAML:\n{text}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn attr(state: &serde_json::Value, address: &str, name: &str) -> String {
    state["resources"][address]["attrs"][name].as_str().unwrap_or_else(|| panic!("{address}.{name}")).to_string()
}

/// The kops example applied, and the state's hosts' scripts and secrets.
fn applied() -> (Moto, tempfile::TempDir, serde_json::Value) {
    let moto = Moto::start();
    let dir = example("kops-cluster");
    for args in [&["init"][..], &["apply", "--auto-approve"]] {
        let out = k8sinfra(&moto, dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let stored = crate::faults::state_of(&moto, "kops-cluster");
    (moto, dir, stored)
}

#[test]
fn the_boot_scripts_fetch_their_secrets_write_them_for_root_and_print_none() {
    let (_moto, _dir, state) = applied();
    let key = |address: &str, name: &str| attr(&state, &format!("module.cluster.{address}"), name);
    let token = key("bootstrap_token.join", "token");
    let ca_key = key("tls_ca.kubernetes", "key_pem");
    let pki: BTreeMap<&str, String> = [
        ("ca.crt", key("tls_ca.kubernetes", "cert_pem")),
        ("ca.key", ca_key.clone()),
        ("etcd/ca.crt", key("tls_ca.etcd", "cert_pem")),
        ("etcd/ca.key", key("tls_ca.etcd", "key_pem")),
        ("front-proxy-ca.crt", key("tls_ca.front_proxy", "cert_pem")),
        ("front-proxy-ca.key", key("tls_ca.front_proxy", "key_pem")),
        ("sa.key", key("tls_ca.service_accounts", "key_pem")),
    ]
    .into();
    let mut objects: BTreeMap<String, String> =
        pki.iter().map(|(file, content)| (format!("{NAME}/pki/{file}"), content.clone())).collect();
    objects.insert(format!("{NAME}/nodes/bootstrap-token"), token.clone());
    let secrets: Vec<String> = pki
        .iter()
        .filter(|(file, _)| file.ends_with(".key"))
        .map(|(_, pem)| pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .chain([token.clone(), "sandbox-secret-access-key".to_string(), "sandbox-session-token".to_string()])
        .collect();
    let no_secret_in = |what: &str, text: &str| {
        for secret in &secrets {
            let flat: String = text.lines().collect();
            assert!(!flat.contains(secret.as_str()), "{what} shows a secret");
        }
    };

    // ---- the first master: fetches, writes 0600, kubeadm init
    let master = boot(&key("instance.master[0]", "user_data"), &objects, false);
    for (file, content) in &pki {
        let inside = format!("/etc/kubernetes/pki/{file}");
        assert_eq!(&master.read(&inside), content, "{inside}");
        let want = if file.ends_with(".key") { 0o600 } else { 0o644 };
        assert_eq!(master.mode(&inside), want, "{inside}");
    }
    assert!(master.read("/etc/kubernetes/pki/sa.pub").contains("PUBLIC KEY"), "sa.pub derived");
    assert_eq!(master.mode("/etc/kubernetes/kubeadm.yaml"), 0o600);
    assert_eq!(master.mode("/etc/kubernetes/bootstrap-token"), 0o600);
    assert_eq!(master.mode("/var/log/k8sinfra-bootstrap.log"), 0o600);
    let docs = yaml(&master.read("/etc/kubernetes/kubeadm.yaml"));
    let kind = |k: &str| docs.iter().find(|d| d["kind"] == k).unwrap_or_else(|| panic!("no {k}")).clone();
    let init = kind("InitConfiguration");
    assert_eq!(init["bootstrapTokens"][0]["token"], token.as_str());
    assert_eq!(init["bootstrapTokens"][0]["ttl"], "0s");
    assert_eq!(
        init["nodeRegistration"]["kubeletExtraArgs"][0],
        serde_json::json!({"name": "cloud-provider", "value": "external"})
    );
    let cluster = kind("ClusterConfiguration");
    assert_eq!(cluster["controlPlaneEndpoint"], format!("api.internal.{NAME}:443"));
    let sans: Vec<&str> =
        cluster["apiServer"]["certSANs"].as_array().expect("SANs").iter().filter_map(|s| s.as_str()).collect();
    assert!(
        sans.contains(&format!("api.internal.{NAME}").as_str()) && sans.contains(&format!("api.{NAME}").as_str()),
        "{sans:?}"
    );
    assert_eq!(
        kind("JoinConfiguration")["discovery"]["bootstrapToken"]["apiServerEndpoint"],
        format!("api.internal.{NAME}:443")
    );
    assert!(master.read("/etc/hosts").contains(&format!("127.0.0.1 api.internal.{NAME}")), "serves its own API");
    let calls = master.calls();
    assert!(
        calls.iter().any(|c| c.starts_with("kubeadm init --config /etc/kubernetes/kubeadm.yaml --skip-token-print")),
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("kubeadm join")));
    assert!(calls.iter().any(|c| c.starts_with("mkfs.ext4 -L etcd-main /dev/xvdu")), "{calls:?}");
    // Every fetch from the state bucket, and the credentials never on a
    // command line: they went to curl on its standard input.
    let fetched: Vec<&String> =
        calls.iter().filter(|c| c.starts_with("curl") && c.contains(".s3.us-east-1.amazonaws.com/")).collect();
    assert_eq!(fetched.len(), pki.len() + 1, "{fetched:?}");
    no_secret_in("a command line", &calls.join("\n"));
    assert!(master.read("curl-config").contains("sandbox-secret-access-key"), "credentials on stdin");
    no_secret_in("the master's output", &master.output);
    no_secret_in("the master's log", &master.read("/var/log/k8sinfra-bootstrap.log"));

    // ---- a joining master (the second of three; its script differs from
    // the first's only in its index and its volumes): the API already
    // answers, so it joins the control plane, then serves its own API name
    let script = key("instance.master[0]", "user_data");
    assert!(script.contains("\nindex=0\n"), "the script carries its index");
    let joining = boot(&script.replace("\nindex=0\n", "\nindex=1\n"), &objects, true);
    let calls = joining.calls();
    assert!(calls.iter().any(|c| c.starts_with("kubeadm join --config /etc/kubernetes/kubeadm.yaml")), "{calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("kubeadm init")), "a second cluster is never started: {calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("kubectl")), "the addons are the first master's: {calls:?}");
    assert_eq!(joining.read("/etc/kubernetes/pki/ca.key"), ca_key, "the same CA on every master");
    assert!(joining.read("/etc/hosts").contains(&format!("127.0.0.1 api.internal.{NAME}")));
    no_secret_in("the joining master's output", &joining.output);
    no_secret_in("a command line", &calls.join("\n"));

    // A first master rebuilt while the others serve (the API answers):
    // it joins too.
    let rebuilt = boot(&script, &objects, true);
    assert!(!rebuilt.calls().iter().any(|c| c.starts_with("kubeadm init")), "{:?}", rebuilt.calls());

    // ---- a node: the token only, kubeadm join at api.internal
    let node = boot(&key("instance.node[0]", "user_data"), &objects, true);
    assert_eq!(node.mode("/etc/kubernetes/kubeadm-join.yaml"), 0o600);
    let join = yaml(&node.read("/etc/kubernetes/kubeadm-join.yaml"));
    let join = &join[0];
    assert_eq!(join["discovery"]["bootstrapToken"]["apiServerEndpoint"], format!("api.internal.{NAME}:443"));
    assert_eq!(join["discovery"]["bootstrapToken"]["token"], token.as_str());
    assert_eq!(
        join["discovery"]["bootstrapToken"]["caCertHashes"][0],
        key("tls_ca.kubernetes", "public_key_hash").as_str()
    );
    let calls = node.calls();
    assert!(calls.iter().any(|c| c == "kubeadm join --config /etc/kubernetes/kubeadm-join.yaml"), "{calls:?}");
    assert!(!calls.iter().any(|c| c.contains("/pki/")), "a node fetches no key: {calls:?}");
    assert!(!node.path("/etc/kubernetes/pki").exists());
    no_secret_in("a command line", &calls.join("\n"));
    no_secret_in("the node's output", &node.output);
    no_secret_in("the node's log", &node.read("/var/log/k8sinfra-bootstrap.log"));
}
