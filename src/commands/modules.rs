//! `k8sinfra init`'s module step: each git source (`git::URL//FOLDER?ref=
//! TAG`) cloned once per repository and reference into
//! `.k8sinfra/modules/git/COMMIT`, its commit pinned in `k8sinfra.lock.json`
//! beside the configuration. A pinned commit is kept — the lock is what
//! the team reviewed — until `init --upgrade` resolves the references
//! again. The other verbs read the lock and the checkouts, never git.

use std::path::Path;
use std::process::Command;

use k8sinfra_engine::config::git::{checkout_dir, GitSource, Lock, Pinned, LOCK_FILE};
use k8sinfra_lang::Diag;

use super::backend::config_dir;
use crate::refusal::Refusal;
use crate::report::Output;

/// Fetch what the configuration's git sources need and pin it; true if
/// every source is available (or there is none).
pub fn install(dir: &Path, upgrade: bool, out: &Output) -> bool {
    let root = config_dir(dir);
    let mut lock = match Lock::read(&root) {
        Ok(lock) => lock,
        Err(reason) => return refuse(out, "the lock", &reason),
    };
    lock.format_version = 1;
    let before = lock.clone();
    if upgrade {
        lock.modules.clear();
    }
    // A module fetched may call git modules of its own: rounds, until the
    // tree holds none missing (a module tree is finite; ten is plenty).
    for _ in 0..10 {
        if lock != before && !write(&root, &lock, out) {
            return false;
        }
        let found = k8sinfra_engine::config::git_modules(dir, crate::stdlib::FILES);
        if found.missing.is_empty() {
            lock.modules.retain(|key, _| found.used.contains_key(key));
            return lock == before || write(&root, &lock, out);
        }
        for (key, source) in found.missing {
            let pinned = lock.modules.get(&key).map(|p| p.commit.clone());
            match fetch(&root, &source, pinned.as_deref()) {
                Ok(commit) => {
                    let how = if pinned.is_some() { "pinned" } else { "resolved" };
                    out.stderr(&format!("  {key}: {how} to {commit}\n"));
                    lock.modules.insert(key, Pinned { commit });
                }
                Err(reason) => return refuse(out, &key, &reason),
            }
        }
    }
    refuse(out, "the module tree", "git modules kept calling new ones after ten rounds")
}

fn refuse(out: &Output, source: &str, reason: &str) -> bool {
    out.error(Diag::global(Refusal::ModuleFetch { what: source.into(), reason: reason.into() }));
    false
}

fn write(root: &Path, lock: &Lock, out: &Output) -> bool {
    let path = root.join(LOCK_FILE);
    let tmp = path.with_extension("json.tmp");
    match std::fs::write(&tmp, lock.to_text()).and_then(|()| std::fs::rename(&tmp, &path)) {
        Ok(()) => true,
        Err(e) => refuse(out, LOCK_FILE, &e.to_string()),
    }
}

/// Clone `source` and check out `pinned`, or what its reference names now;
/// the commit checked out, in its folder under `.k8sinfra/modules/git`.
fn fetch(root: &Path, source: &GitSource, pinned: Option<&str>) -> Result<String, String> {
    let parent = root.join(".k8sinfra").join("modules").join("git");
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let tmp = parent.join(format!(".fetching-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let fetched = (|| {
        git(None, &["clone", "--quiet", "--no-checkout", &source.url, &path_text(&tmp)?])?;
        let commit = match pinned {
            Some(commit) => verify(&tmp, commit).map_err(|_| {
                format!("the pinned commit {commit} is not in the repository any more; `k8sinfra init --upgrade` pins another")
            })?,
            None => resolve(&tmp, source.reference.as_deref())?,
        };
        git(Some(&tmp), &["checkout", "--quiet", "--detach", &commit])?;
        Ok::<_, String>(commit)
    })();
    let commit = match fetched {
        Ok(commit) => commit,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let dir = checkout_dir(root, &commit);
    if dir.is_dir() {
        let _ = std::fs::remove_dir_all(&tmp);
    } else {
        std::fs::rename(&tmp, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(commit)
}

/// The commit a reference names: a tag, a branch of the remote, or a
/// commit; the remote's default branch without one.
fn resolve(clone: &Path, reference: Option<&str>) -> Result<String, String> {
    let Some(reference) = reference else { return verify(clone, "HEAD") };
    for candidate in [format!("refs/tags/{reference}"), format!("refs/remotes/origin/{reference}"), reference.into()] {
        if let Ok(commit) = verify(clone, &candidate) {
            return Ok(commit);
        }
    }
    Err(format!("no tag, branch or commit `{reference}` in the repository"))
}

fn verify(clone: &Path, name: &str) -> Result<String, String> {
    git(Some(clone), &["rev-parse", "--verify", "--quiet", &format!("{name}^{{commit}}")])
}

/// Run git (in `dir`), never prompting; its output, trimmed.
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    let done = command
        .args(["-c", "advice.detachedHead=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("git could not be run: {e}"))?;
    if done.status.success() {
        Ok(String::from_utf8_lossy(&done.stdout).trim().to_string())
    } else {
        let said = String::from_utf8_lossy(&done.stderr).trim().to_string();
        Err(if said.is_empty() { format!("git {} failed", args.join(" ")) } else { said })
    }
}

fn path_text(path: &Path) -> Result<String, String> {
    path.to_str().map(str::to_string).ok_or_else(|| format!("{} is not valid UTF-8", path.display()))
}
