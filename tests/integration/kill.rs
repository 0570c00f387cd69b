//! Kill and resume: `apply` of the seed chapter is killed with SIGKILL at
//! moments spread over its timeline (through a relay that gives every call
//! AWS-like latency, so there is a timeline to spread over), and run again.
//! After every re-run the account holds exactly the declared resources —
//! none orphaned, none twice — the state matches it, and a plan has nothing
//! to do. Then destroy, for the next round to have work again.
//!
//! CI runs a few kills; `K8SINFRA_KILLS=20` runs the full twenty.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::apply::{example, k8sinfra, k8sinfra_via};
use crate::faults::{assert_account_matches_state, inventory, state};
use crate::moto::Moto;
use crate::proxy::CountingProxy;
use crate::support::{stderr, stdout};

fn kills() -> u32 {
    std::env::var("K8SINFRA_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(4)
}

#[test]
fn an_apply_killed_at_any_moment_is_finished_by_the_next_with_nothing_twice() {
    let moto = Moto::start();
    let dir = example("seed-chapter");
    let relay = CountingProxy::slow(&moto.endpoint, Duration::from_millis(20));
    assert!(k8sinfra(&moto, dir.path(), &["init"]).status.success());

    // The timeline: one whole apply through the relay.
    let started = Instant::now();
    let whole = k8sinfra_via(&moto, &relay.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let span = started.elapsed();
    assert!(k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]).status.success());

    let n = kills();
    for i in 0..n {
        // Midpoints of n equal slices of the timeline.
        let at = span * (2 * i + 1) / (2 * n);
        let mut apply = Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
        apply.args(["apply", "--auto-approve"]).current_dir(dir.path()).env("NO_COLOR", "1");
        for (k, v) in moto.env() {
            apply.env(k, if k == "AWS_ENDPOINT_URL" { relay.endpoint.clone() } else { v });
        }
        let mut child = apply.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("apply starts");
        std::thread::sleep(at);
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");

        let resumed = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
        assert!(resumed.status.success(), "kill {i} at {at:?}: {}{}", stdout(&resumed), stderr(&resumed));
        let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "kill {i} at {at:?}: {}", stdout(&plan));
        assert_account_matches_state(&moto, &state(&moto));
        assert_eq!(inventory(&moto).len(), 17, "kill {i} at {at:?}: {:?}", inventory(&moto));

        let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
        assert!(destroy.status.success(), "kill {i}: {}", stderr(&destroy));
        assert!(inventory(&moto).is_empty(), "kill {i}: {:?}", inventory(&moto));
    }
}
