//! Finding and parsing modules: the root folder (or file), local modules
//! named by path, and stdlib modules embedded in the binary. Produces the
//! static module tree; evaluation happens elsewhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8sinfra_lang::syntax::ast::{File, ItemKind};
use k8sinfra_lang::syntax::{parse_bytes, parse_recovering};
use k8sinfra_lang::{Diag, Diagnostics, SourceMap, Span};

use super::errors::CheckError;
use super::git;

/// The extension of configuration files.
pub const EXTENSION: &str = "k8sinfra";

/// Largest file read (bytes); larger ones are refused with a diagnostic.
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Files shipped inside the binary: path under `stdlib/` and contents.
pub type Embedded = &'static [(&'static str, &'static str)];

/// Where a module's files live, for `file()` and nested module sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleDir {
    Fs(PathBuf),
    /// A folder inside the embedded stdlib ("" for its top).
    Stdlib(String),
}

/// One module definition: its parsed files.
#[derive(Debug)]
pub struct Module {
    pub dir: ModuleDir,
    pub files: Vec<File>,
}

/// The static tree of module calls below one module.
#[derive(Debug, Clone)]
pub struct ModuleTree {
    pub module: Arc<Module>,
    pub children: BTreeMap<String, ModuleTree>,
}

pub struct Loader<'a> {
    /// Set when a file did not parse: its declarations are missing, so
    /// evaluating the rest would report names that do exist as unknown.
    pub parse_failed: bool,
    /// Whether a file lost declarations to a syntax error (not only a
    /// malformed value): names may then resolve to nothing.
    pub incomplete: bool,
    pub sources: &'a mut SourceMap,
    pub stdlib: Embedded,
    pub diags: &'a mut Diagnostics,
    /// The root configuration's folder: where the git lock and checkouts
    /// are.
    root: PathBuf,
    /// The git lock, read at the first git source.
    lock: Option<Result<git::Lock, String>>,
    /// Git sources met, by lock key; those not pinned or not fetched.
    pub git_used: BTreeMap<String, git::GitSource>,
    pub git_missing: BTreeMap<String, git::GitSource>,
}

impl<'a> Loader<'a> {
    pub fn new(sources: &'a mut SourceMap, stdlib: Embedded, diags: &'a mut Diagnostics) -> Self {
        Loader {
            parse_failed: false,
            incomplete: false,
            sources,
            stdlib,
            diags,
            root: PathBuf::from("."),
            lock: None,
            git_used: BTreeMap::new(),
            git_missing: BTreeMap::new(),
        }
    }
}

impl Loader<'_> {
    /// Load the root module from a folder (every `*.k8sinfra` in it) or a
    /// single file, then every module it calls.
    pub fn load_root(&mut self, path: &Path) -> Option<ModuleTree> {
        let (dir, files) = if path.is_dir() {
            let files = self.read_dir(path)?;
            if files.is_empty() {
                self.diags.push(Diag::global(CheckError::Load {
                    message: format!("no .{EXTENSION} files in {}", path.display()),
                    help: Some(format!("point at a folder of .{EXTENSION} files, or at one file")),
                }));
                return None;
            }
            (path.to_path_buf(), files)
        } else if path.is_file() {
            let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (dir, vec![self.read_file(path)?])
        } else {
            self.diags.push(Diag::global(CheckError::Load {
                message: format!("{} does not exist", path.display()),
                help: None,
            }));
            return None;
        };
        self.root = dir.clone();
        let module = Arc::new(Module { dir: ModuleDir::Fs(dir), files });
        Some(self.tree(module, &mut vec![path.display().to_string()]))
    }

    fn tree(&mut self, module: Arc<Module>, chain: &mut Vec<String>) -> ModuleTree {
        let mut children = BTreeMap::new();
        let mut calls: Vec<(String, String, Span)> = Vec::new();
        for item in module.files.iter().flat_map(|f| &f.items) {
            let ItemKind::Module { name, source, source_span, .. } = &item.kind else { continue };
            match source.as_literal() {
                Some(text) => calls.push((name.name.clone(), text, *source_span)),
                None => self.error(
                    *source_span,
                    CheckError::ModuleSource {
                        source_text: source.raw.trim_matches('"').to_string(),
                        reason: "a module source must be a plain string".into(),
                        span: (*source_span).into(),
                        help: Some(
                            "modules are found before anything is evaluated, so the source cannot interpolate".into(),
                        ),
                    },
                ),
            }
        }
        for (name, source, span) in calls {
            if children.contains_key(&name) {
                continue; // reported as a duplicate declaration
            }
            let Some((dir, key)) = self.resolve(&module.dir, &source, span) else { continue };
            if chain.contains(&key) {
                self.error(
                    span,
                    CheckError::ModuleSource {
                        source_text: source.clone(),
                        reason: "the module calls itself".into(),
                        span: span.into(),
                        help: Some(format!("call chain: {} → {key}", chain.join(" → "))),
                    },
                );
                continue;
            }
            let Some(files) = self.read_module(&dir, &source, span) else { continue };
            let child = Arc::new(Module { dir, files });
            chain.push(key);
            children.insert(name, self.tree(child, chain));
            chain.pop();
        }
        ModuleTree { module, children }
    }

    /// Report `error` at `span`, once: a module called several times is
    /// loaded for each call, and a mistake in its files is one mistake.
    /// (Each call reads the module's files again, under new file ids: the
    /// same place is the same file name and range.)
    fn error(&mut self, span: Span, error: CheckError) {
        let diag = Diag::new(span.file, error);
        let place = |d: &Diag| (d.file.and_then(|f| self.sources.get(f)).map(|f| f.name.clone()), d.label_ranges());
        let here = place(&diag);
        let repeated = self.diags.iter().any(|d| place(d) == here && d.message() == diag.message());
        if !repeated {
            self.diags.push(diag);
        }
    }

    /// The folder a module source names, and a key identifying it.
    fn resolve(&mut self, from: &ModuleDir, source: &str, span: Span) -> Option<(ModuleDir, String)> {
        if let Some(parsed) = git::GitSource::parse(source) {
            return self.resolve_git(source, parsed, span);
        }
        if let Some(name) = source.strip_prefix("stdlib/") {
            let name = name.trim_end_matches(&format!(".{EXTENSION}")).trim_end_matches('/');
            let exists = self
                .stdlib
                .iter()
                .any(|(path, _)| *path == format!("{name}.{EXTENSION}") || path.starts_with(&format!("{name}/")));
            if !exists {
                let known = self.stdlib_modules();
                self.error(
                    span,
                    CheckError::ModuleSource {
                        source_text: source.into(),
                        reason: "no such stdlib module".into(),
                        span: span.into(),
                        help: k8sinfra_lang::suggest::did_you_mean(name, known.iter().map(String::as_str))
                            .map(|s| format!("did you mean `stdlib/{s}`?"))
                            .or_else(|| Some(format!("the stdlib has: {}", known.join(", ")))),
                    },
                );
                return None;
            }
            return Some((ModuleDir::Stdlib(name.to_string()), format!("stdlib/{name}")));
        }
        if !(source.starts_with("./") || source.starts_with("../") || source.starts_with('/')) {
            self.error(
                span,
                CheckError::ModuleSource {
                    source_text: source.into(),
                    reason: "not a module source".into(),
                    span: span.into(),
                    help: Some(
                        "name a stdlib module (\"stdlib/network\"), a folder (\"./modules/web\") or a git \
                         repository (\"git::https://…//FOLDER?ref=TAG\")"
                            .into(),
                    ),
                },
            );
            return None;
        }
        match from {
            ModuleDir::Fs(base) => {
                let path = clean(&base.join(source));
                if !path.exists() {
                    self.error(
                        span,
                        CheckError::ModuleSource {
                            source_text: source.into(),
                            reason: format!("{} does not exist", path.display()),
                            span: span.into(),
                            help: None,
                        },
                    );
                    return None;
                }
                let key = path.canonicalize().unwrap_or_else(|_| path.clone()).display().to_string();
                Some((ModuleDir::Fs(path), key))
            }
            ModuleDir::Stdlib(base) => {
                // Relative paths inside the stdlib stay inside it.
                let joined = normalize(&format!("{base}/{source}"));
                Some((ModuleDir::Stdlib(joined.clone()), format!("stdlib/{joined}")))
            }
        }
    }

    /// A git source: its checkout, as the lock pins it and `init` fetched
    /// it. Nothing is fetched here.
    fn resolve_git(
        &mut self,
        source: &str,
        parsed: Result<git::GitSource, String>,
        span: Span,
    ) -> Option<(ModuleDir, String)> {
        let fail = |loader: &mut Self, reason: String, help: Option<String>| {
            loader
                .error(span, CheckError::ModuleSource { source_text: source.into(), reason, span: span.into(), help });
            None
        };
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => return fail(self, reason, Some("write `git::URL//FOLDER?ref=TAG`".into())),
        };
        let key = parsed.lock_key();
        self.git_used.insert(key.clone(), parsed.clone());
        let root = self.root.clone();
        let lock = self.lock.get_or_insert_with(|| git::Lock::read(&root)).clone();
        let lock = match lock {
            Ok(lock) => lock,
            Err(reason) => return fail(self, format!("the module lock cannot be read: {reason}"), None),
        };
        let install = Some("run `k8sinfra init` to fetch it and pin its commit in k8sinfra.lock.json".to_string());
        let Some(pinned) = lock.modules.get(&key) else {
            self.git_missing.insert(key, parsed);
            return fail(self, "not fetched: k8sinfra.lock.json does not pin it".into(), install);
        };
        let checkout = git::checkout_dir(&self.root, &pinned.commit);
        if !checkout.is_dir() {
            self.git_missing.insert(key, parsed);
            let reason = format!("commit {} is pinned but not fetched here", pinned.commit);
            return fail(self, reason, install);
        }
        let dir = match &parsed.subdir {
            Some(subdir) => checkout.join(subdir),
            None => checkout,
        };
        if !dir.exists() {
            let folder = parsed.subdir.unwrap_or_default();
            return fail(self, format!("the repository has no folder `{folder}` at commit {}", pinned.commit), None);
        }
        Some((ModuleDir::Fs(dir), format!("{key}//{}", parsed.subdir.as_deref().unwrap_or(""))))
    }

    /// The stdlib's module names: top-level files and folders.
    fn stdlib_modules(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .stdlib
            .iter()
            .filter_map(|(path, _)| {
                let first = path.split('/').next()?;
                Some(first.trim_end_matches(&format!(".{EXTENSION}")).to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn read_module(&mut self, dir: &ModuleDir, source: &str, span: Span) -> Option<Vec<File>> {
        match dir {
            ModuleDir::Fs(path) if path.is_file() => Some(vec![self.read_file(path)?]),
            ModuleDir::Fs(path) => {
                let files = self.read_dir(path)?;
                if files.is_empty() {
                    self.error(
                        span,
                        CheckError::ModuleSource {
                            source_text: source.into(),
                            reason: format!("no .{EXTENSION} files in {}", path.display()),
                            span: span.into(),
                            help: None,
                        },
                    );
                    return None;
                }
                Some(files)
            }
            ModuleDir::Stdlib(name) => {
                let single = format!("{name}.{EXTENSION}");
                let prefix = format!("{name}/");
                let mut files = Vec::new();
                for (path, text) in self.stdlib {
                    let direct_child = path.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/'));
                    if *path == single || (direct_child && path.ends_with(&format!(".{EXTENSION}"))) {
                        if let Some(file) = self.parse(&format!("stdlib/{path}"), text.as_bytes()) {
                            files.push(file);
                        }
                    }
                }
                Some(files)
            }
        }
    }

    /// The files of a folder that parse; `None` if it cannot be read, or
    /// if it has files and none of them parses.
    fn read_dir(&mut self, dir: &Path) -> Option<Vec<File>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.diags.push(Diag::global(CheckError::Load {
                    message: format!("cannot read {}: {e}", dir.display()),
                    help: None,
                }));
                return None;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == EXTENSION))
            .collect();
        paths.sort();
        let files: Vec<File> = paths.iter().filter_map(|p| self.read_file(p)).collect();
        // Files there, none readable: each has said why already, and "no
        // files" would be wrong.
        if files.is_empty() && !paths.is_empty() {
            return None;
        }
        Some(files)
    }

    fn read_file(&mut self, path: &Path) -> Option<File> {
        let too_big = std::fs::metadata(path).map(|m| m.len() > MAX_FILE_SIZE).unwrap_or(false);
        if too_big {
            self.diags.push(Diag::global(CheckError::Load {
                message: format!("{} is larger than {} MiB", path.display(), MAX_FILE_SIZE / (1024 * 1024)),
                help: Some("split the configuration into several files".into()),
            }));
            return None;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.diags.push(Diag::global(CheckError::Load {
                    message: format!("cannot read {}: {e}", path.display()),
                    help: None,
                }));
                return None;
            }
        };
        self.parse(&path.display().to_string(), &bytes)
    }

    /// Parse one file, keeping what parsed when something did not: it is
    /// checked, never planned (`parse_failed`).
    fn parse(&mut self, name: &str, bytes: &[u8]) -> Option<File> {
        let text = match parse_bytes(bytes) {
            Ok(text) => text,
            Err(e) => {
                // Keep what is readable so the diagnostic shows the context.
                let id = self.sources.add(name, String::from_utf8_lossy(bytes).replace('\0', "\u{FFFD}"));
                self.parse_failed = true;
                self.incomplete = true;
                self.diags.push(Diag::new(id, e));
                return None;
            }
        };
        let id = self.sources.add(name, text);
        let recovered = parse_recovering(id, text);
        if !recovered.errors.is_empty() {
            self.parse_failed = true;
            self.incomplete |= !recovered.whole;
            recovered.errors.into_iter().for_each(|e| self.diags.push(Diag::new(id, e)));
        }
        Some(recovered.file)
    }
}

/// Read a file a module names with `file()` or `templatefile()`.
pub fn read_module_file(dir: &ModuleDir, stdlib: Embedded, path: &str) -> Result<String, String> {
    match dir {
        ModuleDir::Fs(base) => {
            let full = if base.is_file() { base.parent().unwrap_or(base).join(path) } else { base.join(path) };
            std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
        }
        ModuleDir::Stdlib(base) => {
            let wanted = normalize(&format!("{base}/{path}"));
            stdlib
                .iter()
                .find(|(p, _)| *p == wanted || *p == path)
                .map(|(_, text)| (*text).to_string())
                .ok_or_else(|| format!("no file {path} in the stdlib module {base}"))
        }
    }
}

/// `a/./b/../c` → `a/c`, for paths inside the embedded stdlib.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// `a/./b/../c` → `a/c` without touching the file system, so diagnostics
/// name module files the way a person would.
fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
