//! The local backend: `.k8sinfra/state.json` beside the configuration.
//! Writes go to a temporary file that is flushed to disk and renamed over
//! the old one (the previous version is kept as `state.json.backup`), so a
//! crash leaves the old state or the new one, never half of either. A lock
//! file created exclusively keeps a second process out.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::backend::{check_descends, Backend, BackendError, LockInfo};
use super::{decode, encode, State};
use crate::provider::BoxFuture;

pub struct LocalBackend {
    path: PathBuf,
    /// Lineage and serial of what was last read or written here; `None`
    /// before a load, or when nothing was stored.
    base: Mutex<Option<(String, u64)>>,
    /// The lock this process holds, removed on drop if never released (an
    /// early return must not leave a lock behind).
    held: Mutex<Option<LockInfo>>,
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        if let Ok(held) = self.held.get_mut() {
            if held.take().is_some() {
                let _ = std::fs::remove_file(self.lock_path());
            }
        }
    }
}

fn io(action: &'static str, path: &Path, e: &std::io::Error) -> BackendError {
    BackendError::Io { action, location: path.display().to_string(), reason: e.to_string() }
}

impl LocalBackend {
    /// The default place: `DIR/.k8sinfra/state.json`.
    #[must_use]
    pub fn beside(config_dir: &Path) -> Self {
        Self::at(config_dir.join(".k8sinfra").join("state.json"))
    }

    #[must_use]
    pub fn at(path: PathBuf) -> Self {
        LocalBackend { path, base: Mutex::new(None), held: Mutex::new(None) }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        self.path.with_extension("json.lock")
    }

    fn read(&self) -> Result<Option<(Vec<u8>, State)>, BackendError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let state = decode(&bytes)?;
                Ok(Some((bytes, state)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &self.path, &e)),
        }
    }

    /// The stored state, read without the lock and without becoming the
    /// base of a save: a hint, to be checked against what is read later.
    #[must_use]
    pub fn read_hint(&self) -> Option<State> {
        self.read().ok().flatten().map(|(_, state)| state)
    }

    fn set_base(&self, base: Option<(String, u64)>) {
        if let Ok(mut b) = self.base.lock() {
            *b = base;
        }
    }

    fn base(&self) -> Option<(String, u64)> {
        self.base.lock().ok().and_then(|b| b.clone())
    }

    fn load_now(&self) -> Result<State, BackendError> {
        let state = self.read()?.map_or_else(State::new, |(_, s)| s);
        let stored = self.path.exists().then(|| (state.lineage.clone(), state.serial));
        self.set_base(stored);
        Ok(state)
    }

    /// The write: the stored file must still be the base; the old one is
    /// kept as `state.json.backup`; the new one goes to a temporary file,
    /// flushed, and renamed over. (Checking and renaming are two steps: the
    /// lock, not this check, is what keeps two writers of one folder apart.)
    fn save_now(&self, state: &State) -> Result<(), BackendError> {
        let location = self.location();
        let base = self.base();
        let stored = self.read()?;
        let stored_id = stored.as_ref().map(|(_, s)| (s.lineage.clone(), s.serial));
        if stored_id != base {
            let reason = match (&stored_id, &base) {
                (Some((l, s)), _) => format!("the stored state is now lineage {l} serial {s}"),
                (None, _) => "the stored state was removed".into(),
            };
            return Err(BackendError::Stale { location, reason });
        }
        check_descends(&location, base.as_ref().map(|(l, s)| (l.as_str(), *s)), state)?;
        if let Some((bytes, _)) = stored {
            let backup = self.path.with_extension("json.backup");
            let mut file = private_file(&backup).map_err(|e| io("create", &backup, &e))?;
            file.write_all(&bytes).map_err(|e| io("write", &backup, &e))?;
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        private_dir(dir).map_err(|e| io("create", dir, &e))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = private_file(&tmp).map_err(|e| io("create", &tmp, &e))?;
        file.write_all(&encode(state)).map_err(|e| io("write", &tmp, &e))?;
        file.sync_all().map_err(|e| io("flush", &tmp, &e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io("replace", &self.path, &e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        self.set_base(Some((state.lineage.clone(), state.serial)));
        Ok(())
    }

    fn read_lock(&self) -> Result<Option<LockInfo>, BackendError> {
        let path = self.lock_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| LockInfo::unreadable(&bytes)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path, &e)),
        }
    }

    fn try_lock_now(&self, lock: &LockInfo) -> Result<Option<LockInfo>, BackendError> {
        let path = self.lock_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create", dir, &e))?;
        }
        let mut reclaimed = None;
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let body = serde_json::to_vec_pretty(lock).unwrap_or_default();
                    f.write_all(&body).and_then(|()| f.sync_all()).map_err(|e| io("write", &path, &e))?;
                    if let Ok(mut held) = self.held.lock() {
                        *held = Some(lock.clone());
                    }
                    return Ok(reclaimed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = self.read_lock()?;
                    match holder {
                        // Gone between the two calls: try again.
                        None => {}
                        Some(h) if reclaimed.is_none() && h.holder_is_gone() => {
                            let _ = std::fs::remove_file(&path);
                            reclaimed = Some(h);
                        }
                        Some(h) => {
                            return Err(BackendError::Locked {
                                location: self.location(),
                                holder: h.describe(),
                                id: h.id,
                            });
                        }
                    }
                }
                Err(e) => return Err(io("create", &path, &e)),
            }
        }
    }

    fn unlock_now(&self, lock: &LockInfo) -> Result<(), BackendError> {
        if let Ok(mut held) = self.held.lock() {
            held.take();
        }
        match self.read_lock()? {
            Some(current) if current.id == lock.id => {
                std::fs::remove_file(self.lock_path()).map_err(|e| io("remove", &self.lock_path(), &e))
            }
            // Someone force-unlocked it, maybe locked it again: not ours.
            _ => Ok(()),
        }
    }

    fn force_unlock_now(&self, id: &str) -> Result<LockInfo, BackendError> {
        let location = self.location();
        let Some(current) = self.read_lock()? else { return Err(BackendError::NotLocked { location }) };
        if current.id != id {
            return Err(BackendError::WrongLockId {
                location,
                held: current.id.clone(),
                asked: id.to_string(),
                holder: current.describe(),
            });
        }
        std::fs::remove_file(self.lock_path()).map_err(|e| io("remove", &self.lock_path(), &e))?;
        Ok(current)
    }
}

impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn init(&self) -> BoxFuture<'_, Result<Vec<String>, BackendError>> {
        Box::pin(async move {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            if dir.is_dir() {
                return Ok(vec![format!("{} is ready", dir.display())]);
            }
            private_dir(dir).map_err(|e| io("create", dir, &e))?;
            Ok(vec![format!("created {}", dir.display())])
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<State, BackendError>> {
        Box::pin(async move { self.load_now() })
    }

    fn save<'a>(&'a self, state: &'a State) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move { self.save_now(state) })
    }

    fn try_lock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<Option<LockInfo>, BackendError>> {
        Box::pin(async move { self.try_lock_now(lock) })
    }

    fn unlock<'a>(&'a self, lock: &'a LockInfo) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move { self.unlock_now(lock) })
    }

    fn force_unlock<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<LockInfo, BackendError>> {
        Box::pin(async move { self.force_unlock_now(id) })
    }
}

/// A state file, readable by its owner alone (0600): it holds private
/// keys and tokens. Truncated if it exists, with its mode set anew.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// The state's folder: made 0700 when this creates it (a folder the user
/// named and made is left as it is).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stale(r: Result<(), BackendError>) -> bool {
        matches!(r, Err(BackendError::Stale { .. }))
    }

    #[test]
    fn save_load_and_refuse_stale_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        let mut state = backend.load_now().expect("empty state");
        assert_eq!(state.serial, 0);
        assert_eq!(backend.read_hint(), None, "no state yet: no hint");
        state.serial = 1;
        backend.save_now(&state).expect("first write");
        assert_eq!(backend.load_now().expect("load"), state);
        assert_eq!(backend.read_hint(), Some(state.clone()), "the hint is the state as saved");
        assert!(stale(backend.save_now(&state)), "same serial");
        let mut other = State::new();
        other.serial = 5;
        assert!(stale(backend.save_now(&other)), "other lineage");
        state.serial = 2;
        backend.save_now(&state).expect("second write");
        assert!(backend.path().with_extension("json.backup").exists());
        // It holds private keys: the owner's alone, in a folder of theirs.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(backend.path()), 0o600, "the state");
            assert_eq!(mode(&backend.path().with_extension("json.backup")), 0o600, "its backup");
            assert_eq!(mode(backend.path().parent().expect("folder")), 0o700, "its folder");
        }

        // A second reader that saw serial 2 cannot write once the first
        // has moved on to 3, even though its serial 3 is "higher".
        let second = LocalBackend::beside(dir.path());
        let mut seen = second.load_now().expect("load");
        state.serial = 3;
        backend.save_now(&state).expect("third write");
        seen.serial = 3;
        assert!(stale(second.save_now(&seen)), "written over a state it never read");
    }

    /// A save never rewrites the file in place: the new state is written
    /// beside it, flushed and renamed over, so a reader or a crash sees the
    /// old state or the new one, whole. A hard link to the old file keeps
    /// the old text; no temporary file is left.
    #[test]
    fn a_save_replaces_the_file_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        let mut state = backend.load_now().expect("empty state");
        state.serial = 1;
        backend.save_now(&state).expect("first write");
        let linked = dir.path().join("linked");
        std::fs::hard_link(backend.path(), &linked).expect("link");
        let before = std::fs::read(&linked).expect("read");
        state.serial = 2;
        backend.save_now(&state).expect("second write");
        assert_eq!(std::fs::read(&linked).expect("read"), before, "the old file untouched");
        assert_eq!(backend.load_now().expect("load").serial, 2);
        let folder = backend.path().parent().expect("folder");
        let left: Vec<String> = std::fs::read_dir(folder)
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn the_lock_names_its_holder_and_is_taken_over_only_from_the_dead() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        let first = LockInfo::new("apply");
        assert_eq!(backend.try_lock_now(&first).expect("lock"), None);
        let other = LocalBackend::beside(dir.path());
        match other.try_lock_now(&LockInfo::new("plan")) {
            Err(BackendError::Locked { id, holder, .. }) => {
                assert_eq!(id, first.id);
                assert!(holder.starts_with("apply by "), "{holder}");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        backend.unlock_now(&first).expect("unlock");
        let second = LockInfo::new("plan");
        assert_eq!(other.try_lock_now(&second).expect("free again"), None);
        // Unlocking with a lock that is not the one held leaves it alone.
        backend.unlock_now(&first).expect("not ours: nothing to do");
        assert!(backend.lock_path().exists());
        match backend.force_unlock_now("nope") {
            Err(BackendError::WrongLockId { held, .. }) => assert_eq!(held, second.id),
            other => panic!("expected WrongLockId, got {other:?}"),
        }
        assert_eq!(backend.force_unlock_now(&second.id).expect("forced").id, second.id);
        assert!(matches!(backend.force_unlock_now(&second.id), Err(BackendError::NotLocked { .. })));

        // A lock whose process is gone from this host is taken over.
        let mut dead = LockInfo::new("apply");
        dead.pid = 999_999_999;
        std::fs::write(backend.lock_path(), serde_json::to_vec(&dead).expect("json")).expect("stale lock");
        let taken = backend.try_lock_now(&LockInfo::new("apply")).expect("reclaimed");
        assert_eq!(taken.map(|t| t.pid), Some(999_999_999));
        drop(backend);
        assert!(!dir.path().join(".k8sinfra/state.json.lock").exists(), "dropped with the lock held: released");

        // Another host's lock stays, whatever its pid.
        dead.host = "another-host".into();
        std::fs::write(other.lock_path(), serde_json::to_vec(&dead).expect("json")).expect("foreign lock");
        assert!(matches!(other.try_lock_now(&LockInfo::new("x")), Err(BackendError::Locked { .. })));
    }

    #[test]
    fn a_state_or_lock_that_cannot_be_read_is_an_error_not_an_absence() {
        // Taken for "no state yet", an unreadable state would start a new
        // lineage over the old one; taken for "not locked", a lock would
        // be ignored.
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        std::fs::create_dir_all(backend.path()).expect("a folder where the state should be");
        assert!(matches!(backend.load_now(), Err(BackendError::Io { action: "read", .. })));
        std::fs::create_dir_all(backend.lock_path()).expect("a folder where the lock should be");
        assert!(matches!(backend.read_lock(), Err(BackendError::Io { action: "read", .. })));
    }

    #[test]
    fn a_lock_that_cannot_be_made_is_an_error_not_a_holder() {
        // A 255-byte state file name leaves no room for `.lock`.
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::at(dir.path().join(format!("{}.json", "s".repeat(250))));
        match backend.try_lock_now(&LockInfo::new("apply")) {
            Err(BackendError::Io { action, .. }) => assert_eq!(action, "create"),
            other => panic!("expected an error creating the lock, got {other:?}"),
        }
    }

    #[test]
    fn a_held_lock_names_the_state_it_guards() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        backend.try_lock_now(&LockInfo::new("apply")).expect("lock");
        let error = LocalBackend::beside(dir.path()).try_lock_now(&LockInfo::new("plan")).expect_err("held");
        let path = dir.path().join(".k8sinfra").join("state.json");
        assert_eq!(backend.location(), path.display().to_string());
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_the_user_made_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let theirs = dir.path().join("states");
        std::fs::create_dir(&theirs).expect("their folder");
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o750)).expect("their mode");
        let backend = LocalBackend::at(theirs.join("state.json"));
        backend.save_now(&State::new()).expect("write");
        let mode = std::fs::metadata(&theirs).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
    }
}
