//! The local backend: `.k8sinfra/state.json` beside the configuration.
//! Writes go to a temporary file that is flushed to disk and renamed over
//! the old one (the previous version is kept as `state.json.backup`), so a
//! crash leaves the old state or the new one, never half of either. A lock
//! file created exclusively keeps a second process out.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;

use super::{decode, encode, State, StateFileError};

#[derive(Debug, Error, Diagnostic)]
pub enum LocalStateError {
    #[error("cannot {action} {path}: {reason}")]
    #[diagnostic(code(state::io))]
    Io { action: &'static str, path: String, reason: String },

    #[error("the state at {path} is locked by {holder}")]
    #[diagnostic(
        code(state::locked),
        help("wait for the other run to finish; if it died, remove {lock} after checking no k8sinfra runs")
    )]
    Locked { path: String, holder: String, lock: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] StateFileError),

    #[error("refusing to write state: {reason}")]
    #[diagnostic(code(state::stale), help("another run changed the state since it was read; plan again"))]
    Stale { reason: String },
}

pub struct LocalBackend {
    path: PathBuf,
}

/// Held while a run may write the state; removes the lock file on drop.
pub struct LocalLock {
    path: PathBuf,
    /// Set when the lock was taken over from a dead process on this host.
    pub reclaimed_from: Option<String>,
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io(action: &'static str, path: &Path, e: &std::io::Error) -> LocalStateError {
    LocalStateError::Io { action, path: path.display().to_string(), reason: e.to_string() }
}

impl LocalBackend {
    /// The default place: `DIR/.k8sinfra/state.json`.
    #[must_use]
    pub fn beside(config_dir: &Path) -> Self {
        LocalBackend { path: config_dir.join(".k8sinfra").join("state.json") }
    }

    #[must_use]
    pub fn at(path: PathBuf) -> Self {
        LocalBackend { path }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored state, or a new empty one if there is none yet.
    pub fn load(&self) -> Result<State, LocalStateError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(decode(&bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::new()),
            Err(e) => Err(io("read", &self.path, &e)),
        }
    }

    /// Take the lock, or say who holds it. A lock left by a process of this
    /// host that no longer runs (a crash, `kill -9`) is taken over.
    pub fn lock(&self, operation: &str) -> Result<LocalLock, LocalStateError> {
        let lock = self.path.with_extension("json.lock");
        if let Some(dir) = lock.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, &e))?;
        }
        let mut reclaimed_from = None;
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
                Ok(mut f) => {
                    let _ = writeln!(f, "pid {} on {} ({operation})", std::process::id(), host());
                    return Ok(LocalLock { path: lock, reclaimed_from });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&lock).unwrap_or_default().trim().to_string();
                    if reclaimed_from.is_none() && holder_is_dead(&holder) {
                        let _ = std::fs::remove_file(&lock);
                        reclaimed_from = Some(holder);
                        continue;
                    }
                    return Err(LocalStateError::Locked {
                        path: self.path.display().to_string(),
                        holder: if holder.is_empty() { "another run".into() } else { holder },
                        lock: lock.display().to_string(),
                    });
                }
                Err(e) => return Err(io("create", &lock, &e)),
            }
        }
    }

    /// Write `state` if the stored one is still the one it descends from:
    /// same lineage, and a serial one lower (or nothing stored yet).
    pub fn save(&self, state: &State, _lock: &LocalLock) -> Result<(), LocalStateError> {
        if let Ok(bytes) = std::fs::read(&self.path) {
            let stored = decode(&bytes)?;
            if stored.lineage != state.lineage {
                return Err(LocalStateError::Stale {
                    reason: format!("the stored state has lineage {}, not {}", stored.lineage, state.lineage),
                });
            }
            if stored.serial >= state.serial {
                return Err(LocalStateError::Stale {
                    reason: format!("the stored serial {} is not older than {}", stored.serial, state.serial),
                });
            }
            let backup = self.path.with_extension("json.backup");
            std::fs::write(&backup, &bytes).map_err(|e| io("write", &backup, &e))?;
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, &e))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| io("create", &tmp, &e))?;
        file.write_all(&encode(state)).map_err(|e| io("write", &tmp, &e))?;
        file.sync_all().map_err(|e| io("flush", &tmp, &e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io("replace", &self.path, &e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// `pid N on HOST (…)` naming this host and a process that is gone.
fn holder_is_dead(holder: &str) -> bool {
    let mut words = holder.split_whitespace();
    let (Some("pid"), Some(pid), Some("on"), Some(on_host)) = (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    on_host == host() && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_lock_and_refuse_stale_writes() {
        let dir = std::env::temp_dir().join(format!("k8sinfra-state-test-{}", std::process::id()));
        let backend = LocalBackend::beside(&dir);
        let mut state = backend.load().expect("empty state");
        assert_eq!(state.serial, 0);
        let lock = backend.lock("test").expect("lock");
        assert!(matches!(backend.lock("second"), Err(LocalStateError::Locked { .. })));
        state.serial = 1;
        backend.save(&state, &lock).expect("first write");
        assert_eq!(backend.load().expect("load"), state);
        assert!(matches!(backend.save(&state, &lock), Err(LocalStateError::Stale { .. })), "same serial");
        let mut other = State::new();
        other.serial = 5;
        assert!(matches!(backend.save(&other, &lock), Err(LocalStateError::Stale { .. })), "other lineage");
        state.serial = 2;
        backend.save(&state, &lock).expect("second write");
        assert!(backend.path().with_extension("json.backup").exists());
        drop(lock);
        assert!(backend.lock("again").is_ok());
        // A lock whose process is gone from this host is taken over.
        let lock_file = backend.path().with_extension("json.lock");
        std::fs::write(&lock_file, format!("pid 999999999 on {} (apply)", host())).expect("stale lock");
        let taken = backend.lock("after a crash").expect("reclaimed");
        assert!(taken.reclaimed_from.as_deref().is_some_and(|h| h.contains("999999999")));
        drop(taken);
        std::fs::write(&lock_file, "pid 999999999 on another-host (apply)").expect("foreign lock");
        assert!(matches!(backend.lock("x"), Err(LocalStateError::Locked { .. })), "another host's lock stays");
        let _ = std::fs::remove_file(&lock_file);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
