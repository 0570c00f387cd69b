//! State in S3 against moto: `init` prepares the bucket; the lock keeps a
//! second process out and names the holder; `--lock-timeout` waits;
//! `force-unlock` removes only the lock it names; every state write is a
//! compare-and-swap, so a stale writer is refused even without the lock.

use std::time::Duration;

use aws_sdk_s3::types::ServerSideEncryption;
use k8sinfra_engine::state::{Backend, BackendError, LockInfo, State};
use k8sinfra_providers::aws::state_s3::S3Backend;

use crate::apply::{example, k8sinfra, runtime};
use crate::moto::Moto;
use crate::support::{flat, stderr, stdout};

const BUCKET: &str = "k8sinfra-state";
const KEY: &str = "chapter/vpc.json";

/// The VPC example, with its state in S3.
fn vpc_in_s3() -> tempfile::TempDir {
    let dir = example("vpc");
    std::fs::write(
        dir.path().join("backend.k8sinfra"),
        format!("backend s3 {{\n  bucket = \"{BUCKET}\"\n  key    = \"{KEY}\"\n}}\n"),
    )
    .expect("backend file");
    dir
}

fn backend(moto: &Moto) -> S3Backend {
    S3Backend::with_client(moto.s3(), BUCKET, KEY, "us-east-1")
}

fn stale(result: Result<(), BackendError>) -> bool {
    matches!(result, Err(BackendError::Stale { .. }))
}

fn ok(out: &std::process::Output) -> bool {
    out.status.success()
}

#[test]
fn init_prepares_a_private_versioned_encrypted_bucket_and_apply_keeps_state_there() {
    let moto = Moto::start();
    let dir = vpc_in_s3();
    let rt = runtime();
    let s3 = moto.s3();

    let early = k8sinfra(&moto, dir.path(), &["plan"]);
    assert_eq!(early.status.code(), Some(1));
    assert!(stderr(&early).contains("k8sinfra init"), "a missing bucket says to run init:\n{}", stderr(&early));

    let init = k8sinfra(&moto, dir.path(), &["init"]);
    assert!(ok(&init), "{}", stderr(&init));
    assert!(stderr(&init).contains(&format!("created bucket {BUCKET}")), "{}", stderr(&init));
    let block = rt.block_on(s3.get_public_access_block().bucket(BUCKET).send()).expect("public access block");
    let block = block.public_access_block_configuration().expect("configuration");
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = rt.block_on(s3.get_bucket_encryption().bucket(BUCKET).send()).expect("encryption");
    assert!(encryption.server_side_encryption_configuration().is_some_and(|c| !c.rules().is_empty()));
    let again = k8sinfra(&moto, dir.path(), &["init"]);
    assert!(ok(&again) && stderr(&again).contains(&format!("bucket {BUCKET} exists")), "init twice is fine");

    let apply = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert!(ok(&apply), "{}{}", stdout(&apply), stderr(&apply));
    assert!(!dir.path().join(".k8sinfra/state.json").exists(), "no local state beside an s3 backend");
    let head = rt.block_on(s3.head_object().bucket(BUCKET).key(KEY).send()).expect("state object");
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::Aes256), "encryption asked on the write");
    let state = rt.block_on(backend(&moto).load()).expect("state from s3");
    assert_eq!(state.resources.len(), 8);
    // Versioning is on: every state written is kept. (Checked by listing
    // versions: moto 5.2.5 answers GetBucketVersioning with an XML root the
    // SDK rejects.)
    let versions = rt.block_on(s3.list_object_versions().bucket(BUCKET).prefix(KEY).send()).expect("versions");
    let kept = versions.versions().iter().filter(|v| v.key() == Some(KEY)).count();
    assert!(kept > 2, "{kept} versions of the state");
    let lock = rt.block_on(s3.head_object().bucket(BUCKET).key(format!("{KEY}.lock")).send());
    assert!(lock.is_err(), "the lock is released after the run");

    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));
    let output = k8sinfra(&moto, dir.path(), &["output", "vpc_id"]);
    assert_eq!(stdout(&output).trim(), state.resources["vpc.main"].id, "output reads the s3 state");

    let destroy = k8sinfra(&moto, dir.path(), &["destroy", "--auto-approve"]);
    assert!(ok(&destroy), "{}", stderr(&destroy));
    assert!(rt.block_on(backend(&moto).load()).expect("state").resources.is_empty());
}

#[test]
fn every_state_write_is_a_compare_and_swap() {
    let moto = Moto::start();
    let rt = runtime();
    rt.block_on(moto.s3().create_bucket().bucket(BUCKET).send()).expect("bucket");
    let (a, b) = (backend(&moto), backend(&moto));

    // Both find nothing; the first to write wins, the other is refused.
    let mut first = rt.block_on(a.load()).expect("empty");
    let mut second = rt.block_on(b.load()).expect("empty");
    first.serial = 1;
    rt.block_on(a.save(&first)).expect("first write");
    second.serial = 1;
    assert!(stale(rt.block_on(b.save(&second))), "a state appeared since b read none");

    // b reads again and writes; a, still on what it wrote, is now stale
    // even with a higher serial.
    let mut seen = rt.block_on(b.load()).expect("load");
    assert_eq!(seen, first);
    seen.serial = 2;
    rt.block_on(b.save(&seen)).expect("b writes over what it read");
    first.serial = 5;
    assert!(stale(rt.block_on(a.save(&first))), "a's ETag is old");

    // Lineage and serial are checked as well as the ETag.
    let c = backend(&moto);
    let current = rt.block_on(c.load()).expect("load");
    let mut foreign = State::new();
    foreign.serial = 99;
    assert!(stale(rt.block_on(c.save(&foreign))), "another lineage");
    assert!(stale(rt.block_on(c.save(&current))), "the same serial");
    let mut next = current.clone();
    next.serial += 1;
    rt.block_on(c.save(&next)).expect("a descendant");
    assert_eq!(rt.block_on(backend(&moto).load()).expect("load").serial, 3);
}

#[test]
fn the_lock_keeps_a_second_process_out_until_released_or_forced() {
    let moto = Moto::start();
    let dir = vpc_in_s3();
    let rt = runtime();
    assert!(ok(&k8sinfra(&moto, dir.path(), &["init"])));
    let holder = backend(&moto);

    // This test process holds the lock: alive, on this host.
    let held = LockInfo::new("apply");
    assert_eq!(rt.block_on(holder.try_lock(&held)).expect("lock"), None);
    let refused = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = flat(&stderr(&refused));
    assert!(message.contains("is locked") && message.contains(&held.id), "names the lock:\n{message}");
    assert!(message.contains(&format!("pid {}", held.pid)), "names the holder:\n{message}");
    assert!(rt.block_on(backend(&moto).load()).expect("state").resources.is_empty(), "nothing applied");

    // --lock-timeout waits for the holder to let go.
    std::thread::scope(|scope| {
        let waiting =
            scope.spawn(|| k8sinfra(&moto, dir.path(), &["apply", "--auto-approve", "--lock-timeout", "60s"]));
        std::thread::sleep(Duration::from_millis(1500));
        rt.block_on(holder.unlock(&held)).expect("unlock");
        let applied = waiting.join().expect("thread");
        assert!(ok(&applied), "{}", stderr(&applied));
    });
    assert_eq!(rt.block_on(backend(&moto).load()).expect("state").resources.len(), 8);

    // A lock from another machine is never taken over; force-unlock
    // removes it, but only given its id.
    let mut foreign = LockInfo::new("apply");
    foreign.host = "build-7".into();
    assert_eq!(rt.block_on(holder.try_lock(&foreign)).expect("lock"), None);
    let blocked = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(!ok(&blocked) && stderr(&blocked).contains("build-7"), "{}", stderr(&blocked));
    let wrong = k8sinfra(&moto, dir.path(), &["force-unlock", "not-the-id"]);
    assert!(!ok(&wrong) && stderr(&wrong).contains(&foreign.id), "{}", stderr(&wrong));
    let forced = k8sinfra(&moto, dir.path(), &["force-unlock", &foreign.id]);
    assert!(ok(&forced), "{}", stderr(&forced));
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));

    // A lock left on this host by a process that is gone is taken over.
    let mut dead = LockInfo::new("apply");
    dead.pid = 999_999_999;
    assert_eq!(rt.block_on(holder.try_lock(&dead)).expect("lock"), None);
    let plan = k8sinfra(&moto, dir.path(), &["plan"]);
    assert!(ok(&plan), "{}", stderr(&plan));
    assert!(stderr(&plan).contains("took over the lock") && stderr(&plan).contains("999999999"), "{}", stderr(&plan));

    // --lock=false skips the lock but not the conditional write.
    assert_eq!(rt.block_on(holder.try_lock(&LockInfo::new("apply"))).expect("lock"), None);
    let unlocked = k8sinfra(&moto, dir.path(), &["apply", "--auto-approve", "--lock=false"]);
    assert!(ok(&unlocked), "{}", stderr(&unlocked));
    assert!(stderr(&unlocked).contains("without the state lock"), "{}", stderr(&unlocked));
}

/// Ten `apply` processes at once (with `extra` flags), every call held
/// 40 ms so the runs overlap as they would against AWS; their outputs.
fn ten_applies(moto: &Moto, dir: &std::path::Path, extra: &[&str]) -> Vec<std::process::Output> {
    let proxy = crate::proxy::CountingProxy::slow(&moto.endpoint, Duration::from_millis(40));
    let runs: Vec<std::process::Child> = (0..10)
        .map(|_| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_k8sinfra"));
            command.args(["apply", "--auto-approve"]).args(extra).current_dir(dir).env("NO_COLOR", "1");
            for (k, v) in moto.env() {
                command.env(k, if k == "AWS_ENDPOINT_URL" { proxy.endpoint.clone() } else { v });
            }
            command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().expect("apply")
        })
        .collect();
    runs.into_iter().map(|c| c.wait_with_output().expect("exit")).collect()
}

/// The serial of every version of the state ever written, sorted (S3's
/// timestamps are too coarse to order them); each must be a whole state.
fn stored_serials(moto: &Moto) -> Vec<u64> {
    let rt = runtime();
    let s3 = moto.s3();
    let versions = rt.block_on(s3.list_object_versions().bucket(BUCKET).prefix(KEY).send()).expect("versions");
    let mut serials: Vec<u64> = versions
        .versions()
        .iter()
        .filter(|v| v.key() == Some(KEY))
        .filter_map(|v| v.version_id().map(str::to_string))
        .map(|version| {
            let object =
                rt.block_on(s3.get_object().bucket(BUCKET).key(KEY).version_id(version).send()).expect("version");
            let bytes = rt.block_on(object.body.collect()).expect("body").into_bytes();
            k8sinfra_engine::state::decode(&bytes).expect("a whole state").serial
        })
        .collect();
    serials.sort_unstable();
    serials
}

#[test]
fn ten_concurrent_applies_take_turns_and_the_serial_only_grows() {
    let moto = Moto::start();
    let dir = vpc_in_s3();
    assert!(ok(&k8sinfra(&moto, dir.path(), &["init"])));
    let outcomes = ten_applies(&moto, dir.path(), &[]);
    let applied = outcomes.iter().filter(|o| o.status.success()).count();
    assert!(applied >= 1, "one run held the lock");
    assert!(applied < outcomes.len(), "runs that started together met the lock: {applied} of 10 applied");
    for refused in outcomes.iter().filter(|o| !o.status.success()) {
        let message = flat(&stderr(refused));
        assert!(message.contains("is locked") && message.contains("lock id"), "refused, naming the holder: {message}");
    }

    let rt = runtime();
    let state = rt.block_on(backend(&moto).load()).expect("state");
    assert_eq!(state.resources.len(), 8);
    let vpcs = rt.block_on(moto.ec2().describe_vpcs().send()).expect("vpcs");
    assert_eq!(vpcs.vpcs().iter().filter(|v| v.is_default() != Some(true)).count(), 1, "no run created a second VPC");
    // Each write took the next serial, none was written twice or lost,
    // and the newest is the state read above.
    let serials = stored_serials(&moto);
    let expected: Vec<u64> = (1..=state.serial).collect();
    assert_eq!(serials, expected, "one write per serial, none clobbered");
}

#[test]
fn without_the_lock_conditional_writes_still_refuse_every_stale_write() {
    let moto = Moto::start();
    let dir = vpc_in_s3();
    assert!(ok(&k8sinfra(&moto, dir.path(), &["init"])));
    let outcomes = ten_applies(&moto, dir.path(), &["--lock=false"]);
    assert!(outcomes.iter().any(|o| o.status.success()), "some run applied");
    // Every other run stopped at a write over a state it had not read.
    for refused in outcomes.iter().filter(|o| !o.status.success()) {
        let message = flat(&stderr(refused));
        assert!(message.contains("refusing to write the state"), "refused as stale: {message}");
    }

    // No write was lost or overwritten: one version per serial, 1 to N,
    // each a whole state.
    let rt = runtime();
    let state = rt.block_on(backend(&moto).load()).expect("state");
    let serials = stored_serials(&moto);
    assert_eq!(serials, (1..=state.serial).collect::<Vec<u64>>(), "one write per serial, none clobbered");

    assert!(outcomes.iter().any(|o| !o.status.success()), "ten runs on one state without a lock: some were refused");

    // With the lock again, the next apply finishes whatever is left.
    assert!(ok(&k8sinfra(&moto, dir.path(), &["apply", "--auto-approve"])));
    let plan = k8sinfra(&moto, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    // A refused run stopped before its creates: nothing is in the cloud twice.
    let ec2 = moto.ec2();
    let vpcs = rt.block_on(ec2.describe_vpcs().send()).expect("vpcs");
    assert_eq!(vpcs.vpcs().iter().filter(|v| v.is_default() != Some(true)).count(), 1, "one VPC");
    let ours = aws_sdk_ec2::types::Filter::builder().name("tag-key").values("k8sinfra:address").build();
    let subnets = rt.block_on(ec2.describe_subnets().filters(ours.clone()).send()).expect("subnets");
    assert_eq!(subnets.subnets().len(), 2, "two subnets");
    let gateways = rt.block_on(ec2.describe_nat_gateways().filter(ours.clone()).send()).expect("nat gateways");
    assert_eq!(gateways.nat_gateways().len(), 1, "one NAT gateway");
    let addresses = rt.block_on(ec2.describe_addresses().filters(ours).send()).expect("addresses");
    assert_eq!(addresses.addresses().len(), 1, "one address");
}

/// The lock's ETag is kept from its own PutObject: releasing it is one
/// conditional DeleteObject, with no read first.
#[test]
fn an_unlock_is_one_conditional_delete() {
    let moto = Moto::start();
    let relay = crate::proxy::CountingProxy::start(&moto.endpoint);
    let rt = runtime();
    rt.block_on(moto.s3().create_bucket().bucket(BUCKET).send()).expect("bucket");
    let ours = S3Backend::with_client(moto.s3_in(&relay.endpoint, "us-east-1"), BUCKET, KEY, "us-east-1");
    let lock = LockInfo::new("apply");
    assert_eq!(rt.block_on(ours.try_lock(&lock)).expect("lock"), None);
    let before: usize = relay.counts().values().sum();
    rt.block_on(ours.unlock(&lock)).expect("unlock");
    let requests = relay.counts();
    assert_eq!(requests.values().sum::<usize>() - before, 1, "{requests:?}");
    assert!(requests.keys().any(|r| r.starts_with("DELETE ") && r.contains(".lock")), "{requests:?}");
    assert!(rt.block_on(moto.s3().head_object().bucket(BUCKET).key(format!("{KEY}.lock")).send()).is_err(), "released");

    // Force-unlocked and taken by another run meanwhile: not ours to delete.
    let mine = LockInfo::new("apply");
    assert_eq!(rt.block_on(ours.try_lock(&mine)).expect("lock"), None);
    let other = backend(&moto);
    rt.block_on(other.force_unlock(&mine.id)).expect("forced");
    let theirs = LockInfo::new("plan");
    assert_eq!(rt.block_on(other.try_lock(&theirs)).expect("lock"), None);
    rt.block_on(ours.unlock(&mine)).expect("nothing to release");
    assert!(
        rt.block_on(moto.s3().head_object().bucket(BUCKET).key(format!("{KEY}.lock")).send()).is_ok(),
        "theirs stays"
    );
}
