//! Module sources in git: `git::URL//SUBDIR?ref=REF`, as Terraform spells
//! them. `k8sinfra init` fetches each into `.k8sinfra/modules/git/COMMIT`
//! and pins the commit in `k8sinfra.lock.json` beside the configuration
//! (committed with it, so every run and every teammate gets the same
//! code); the other verbs only read the lock and the checkout, and refuse
//! a source the lock does not pin. This module parses and names; the
//! fetching is the binary's (`commands/modules.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The lock file's name, beside the root configuration.
pub const LOCK_FILE: &str = "k8sinfra.lock.json";

/// A parsed `git::` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// What `git clone` is given: `https://…`, `ssh://…`, `git@host:…`,
    /// `file:///…` or a path.
    pub url: String,
    /// The module's folder inside the repository, if not its top.
    pub subdir: Option<String>,
    /// A tag, branch or commit; the remote's default branch when absent.
    pub reference: Option<String>,
}

impl GitSource {
    /// `git::URL//SUBDIR?ref=REF`; `None` when `source` is not a git one,
    /// `Some(Err)` when it is, malformed.
    #[must_use]
    pub fn parse(source: &str) -> Option<Result<GitSource, String>> {
        let rest = source.strip_prefix("git::")?;
        let (location, query) = match rest.split_once('?') {
            Some((location, query)) => (location, Some(query)),
            None => (rest, None),
        };
        let mut reference = None;
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair.split_once('=') {
                Some(("ref", value)) if !value.is_empty() => reference = Some(value.to_string()),
                _ => return Some(Err(format!("`{pair}`: the only query a git source takes is `ref=TAG`"))),
            }
        }
        // `//` after the scheme's own `://` starts the folder inside.
        let scheme_end = location.find("://").map_or(0, |i| i + 3);
        let (url, subdir) = match location[scheme_end..].find("//") {
            Some(i) => {
                let (url, subdir) = location.split_at(scheme_end + i);
                (url, Some(subdir.trim_start_matches('/').trim_end_matches('/').to_string()))
            }
            None => (location, None),
        };
        if url.is_empty() {
            return Some(Err("no repository: write `git::URL//FOLDER?ref=TAG`".into()));
        }
        if subdir.as_ref().is_some_and(|s| s.split('/').any(|part| part == "..")) {
            return Some(Err("the folder must stay inside the repository".into()));
        }
        Some(Ok(GitSource { url: url.to_string(), subdir: subdir.filter(|s| !s.is_empty()), reference }))
    }

    /// How the lock names the repository at a reference (one checkout
    /// serves every folder of it).
    #[must_use]
    pub fn lock_key(&self) -> String {
        match &self.reference {
            Some(reference) => format!("git::{}?ref={reference}", self.url),
            None => format!("git::{}", self.url),
        }
    }
}

/// `k8sinfra.lock.json`: the commit each repository and reference is
/// pinned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub format_version: u32,
    #[serde(default)]
    pub modules: BTreeMap<String, Pinned>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub commit: String,
}

impl Lock {
    /// The lock beside the configuration in `root`; empty if there is
    /// none, an error if it cannot be read.
    pub fn read(root: &Path) -> Result<Lock, String> {
        let path = root.join(LOCK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock { format_version: 1, ..Lock::default() }),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The lock as written: sorted, pretty, one entry per line.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Where the checkout of `commit` lives for the configuration in `root`.
#[must_use]
pub fn checkout_dir(root: &Path, commit: &str) -> PathBuf {
    root.join(".k8sinfra").join("modules").join("git").join(commit)
}

#[cfg(test)]
mod tests {
    use super::GitSource;

    fn parsed(source: &str) -> GitSource {
        GitSource::parse(source).expect("a git source").expect("well formed")
    }

    #[test]
    fn a_source_names_a_repository_a_folder_and_a_reference() {
        let s = parsed("git::https://github.com/team/modules.git//network/vpc?ref=v1.2.0");
        assert_eq!(s.url, "https://github.com/team/modules.git");
        assert_eq!(s.subdir.as_deref(), Some("network/vpc"));
        assert_eq!(s.reference.as_deref(), Some("v1.2.0"));
        assert_eq!(s.lock_key(), "git::https://github.com/team/modules.git?ref=v1.2.0");
        let s = parsed("git::file:///srv/repo");
        assert_eq!((s.url.as_str(), s.subdir, s.reference), ("file:///srv/repo", None, None));
        let s = parsed("git::git@github.com:team/modules.git//web");
        assert_eq!((s.url.as_str(), s.subdir.as_deref()), ("git@github.com:team/modules.git", Some("web")));
        let s = parsed("git::/srv/repo//mod/?ref=main");
        assert_eq!(
            (s.url.as_str(), s.subdir.as_deref(), s.reference.as_deref()),
            ("/srv/repo", Some("mod"), Some("main"))
        );
    }

    #[test]
    fn what_is_not_git_or_is_malformed_is_said() {
        assert!(GitSource::parse("./modules/web").is_none());
        assert!(GitSource::parse("stdlib/network").is_none());
        for bad in ["git::", "git::https://x/r.git?branch=main", "git::https://x/r.git//../etc"] {
            assert!(GitSource::parse(bad).expect("git").is_err(), "{bad}");
        }
    }
}
