//! The one interface every place that keeps state implements (a local
//! file, an S3 object), the lock record they share, and their errors.
//!
//! The contract, whatever the storage:
//! - `load` remembers what it read; `save` writes only over exactly that
//!   (or over what this backend itself wrote last), and only a state of the
//!   same lineage with a higher serial. A write that would clobber a newer
//!   state is refused, with or without a lock.
//! - `try_lock` takes the lock or says who holds it. A lock left by a
//!   process of this host that is gone is taken over; any other needs
//!   `force-unlock`.

use std::time::Duration;

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{State, StateFileError};
use crate::provider::BoxFuture;

/// Who holds a lock, stored as JSON in the lock object or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random enough to name this lock in `force-unlock`.
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub created: u64,
}

impl LockInfo {
    /// A lock for `operation` by this process.
    #[must_use]
    pub fn new(operation: &str) -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        LockInfo {
            id: format!("{:08x}-{:x}", now.subsec_nanos() ^ std::process::id().rotate_left(16), now.as_secs()),
            operation: operation.to_string(),
            who: std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into()),
            host: this_host(),
            pid: std::process::id(),
            created: now.as_secs(),
        }
    }

    /// A lock record this build cannot parse (hand-made, or an older
    /// format) still locks. It is never taken over; `force-unlock
    /// unreadable` removes it.
    #[must_use]
    pub fn unreadable(bytes: &[u8]) -> Self {
        LockInfo {
            id: "unreadable".into(),
            operation: String::from_utf8_lossy(bytes).lines().next().unwrap_or("").trim().to_string(),
            who: "unknown".into(),
            host: "unknown".into(),
            pid: 0,
            created: 0,
        }
    }

    /// True when the holder ran on this host and its process is gone (a
    /// crash or `kill -9`): the one case a lock may be taken over unasked.
    /// A lock from another host is never judged dead from here.
    #[must_use]
    pub fn holder_is_gone(&self) -> bool {
        self.host == this_host()
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    /// `apply by alice on build-7 (pid 4242), 35s ago, lock id …`
    #[must_use]
    pub fn describe(&self) -> String {
        if self.pid == 0 {
            return format!("a lock record this build cannot read (\"{}\"), lock id {}", self.operation, self.id);
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        format!(
            "{} by {} on {} (pid {}), {} ago, lock id {}",
            self.operation,
            self.who,
            self.host,
            self.pid,
            humantime::format_duration(Duration::from_secs(now.saturating_sub(self.created))),
            self.id
        )
    }
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

#[derive(Debug, Error, Diagnostic)]
pub enum BackendError {
    #[error("the state at {location} is locked: {holder}")]
    #[diagnostic(
        code(state::locked),
        help(
            "wait for that run to finish, or pass --lock-timeout 5m to wait here; if it died on another machine, \
             run `k8sinfra force-unlock {id}` after checking it is really gone"
        )
    )]
    Locked { location: String, holder: String, id: String },

    #[error("refusing to write the state at {location}: {reason}")]
    #[diagnostic(
        code(state::stale),
        help("another run changed the state since this one read it; nothing was overwritten. Plan again.")
    )]
    Stale { location: String, reason: String },

    #[error("the state bucket `{bucket}` does not exist")]
    #[diagnostic(code(state::not_initialised), help("run `k8sinfra init` to create it"))]
    NotInitialised { bucket: String },

    #[error("the lock on {location} has id {held}, not {asked}")]
    #[diagnostic(code(state::lock_id), help("`k8sinfra force-unlock` takes the id of the lock it removes: {holder}"))]
    WrongLockId { location: String, held: String, asked: String, holder: String },

    #[error("the state at {location} is not locked")]
    #[diagnostic(code(state::not_locked))]
    NotLocked { location: String },

    #[error("cannot {action} {location}: {reason}")]
    #[diagnostic(code(state::io))]
    Io { action: &'static str, location: String, reason: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] StateFileError),
}

/// Where state is kept.
pub trait Backend: Send + Sync {
    /// `.k8sinfra/state.json`, `s3://bucket/key`: for messages.
    fn location(&self) -> String;

    /// Make the place ready (create the bucket…); says what it did.
    fn init(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>>;

    /// The stored state, or a new empty one; remembered as the base the
    /// next `save` must replace.
    fn load(&self) -> BoxFuture<'_, Result<State, BackendError>>;

    /// Write `state` over the base (see the module doc); it becomes the
    /// new base.
    fn save<'a>(&'a self, state: &'a State) -> BoxFuture<'a, Result<(), BackendError>>;

    /// Take the lock once. `Ok(Some(old))` when a dead holder's lock was
    /// taken over.
    fn try_lock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<Option<LockInfo>, BackendError>>;

    /// Release the lock if it is still `lock` (never someone else's).
    fn unlock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<(), BackendError>>;

    /// Remove the lock with this id, whoever holds it; returns it.
    fn force_unlock<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<LockInfo, BackendError>>;
}

/// Take the lock, waiting up to `timeout` for a holder to let go. The
/// wait polls once a second (less near the deadline).
pub async fn lock(
    backend: &dyn Backend,
    operation: &str,
    timeout: Duration,
) -> Result<(LockInfo, Option<LockInfo>), BackendError> {
    let info = LockInfo::new(operation);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match backend.try_lock(&info).await {
            Ok(reclaimed) => return Ok((info, reclaimed)),
            Err(BackendError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                tokio::time::sleep(left.min(Duration::from_secs(1))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The checks every backend makes before a write, against the state it
/// last read or wrote (`None`: nothing stored yet).
pub fn check_descends(location: &str, base: Option<(&str, u64)>, state: &State) -> Result<(), BackendError> {
    let Some((lineage, serial)) = base else { return Ok(()) };
    let stale = |reason: String| Err(BackendError::Stale { location: location.to_string(), reason });
    if lineage != state.lineage {
        return stale(format!("the stored state has lineage {lineage}, not {}", state.lineage));
    }
    if serial >= state.serial {
        return stale(format!("the stored serial {serial} is not older than {}", state.serial));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LocalBackend;

    #[test]
    fn a_lock_left_by_a_dead_process_of_this_machine_is_known_for_gone() {
        // The machine as the kernel names it; a pid above Linux's highest.
        let Ok(hostname) = std::fs::read_to_string("/proc/sys/kernel/hostname") else { return };
        let mut left = LockInfo::new("apply");
        left.host = hostname.trim().to_string();
        left.pid = 4_194_400;
        assert!(left.holder_is_gone());
        left.host = "another-machine".into();
        assert!(!left.holder_is_gone(), "another machine's process cannot be seen from here");
    }

    /// `lock` against a lock held by this (live) process: how long the
    /// wait took, on tokio's paused clock, and whether it got the lock.
    async fn wait_for(timeout: Duration, released_after: Option<Duration>) -> (Duration, bool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let holder = std::sync::Arc::new(LocalBackend::beside(dir.path()));
        let held = LockInfo::new("apply");
        holder.try_lock(&held).await.expect("first lock");
        if let Some(after) = released_after {
            let holder = std::sync::Arc::clone(&holder);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                holder.unlock(&held).await.expect("unlock");
            });
        }
        let waiter = LocalBackend::beside(dir.path());
        let started = tokio::time::Instant::now();
        let got = lock(&waiter, "plan", timeout).await;
        (started.elapsed(), got.is_ok())
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_is_waited_for_until_the_timeout_and_no_longer() {
        let (waited, got) = wait_for(Duration::from_secs(5), None).await;
        assert!(!got);
        assert_eq!(waited, Duration::from_secs(5));
        let (waited, got) = wait_for(Duration::ZERO, None).await;
        assert_eq!((waited, got), (Duration::ZERO, false), "no timeout: no wait");
        let (waited, got) = wait_for(Duration::from_secs(60), Some(Duration::from_millis(2500))).await;
        assert!(got, "released within the timeout");
        assert_eq!(waited, Duration::from_secs(3), "seen at the next poll");
    }
}
