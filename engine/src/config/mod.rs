//! From files to a checked configuration. The stages, in order:
//!
//! 1. `loader` reads the root module and every module it calls;
//! 2. `decls` indexes each module's declarations;
//! 3. `refs` finds what every expression refers to; those references are
//!    the edges of one evaluation graph spanning all modules;
//! 4. `evaluate` walks that graph in dependency order, expanding `count`
//!    and `for_each`, and `resources` checks each resource body against its
//!    schema;
//! 5. providers run their own checks on the result.
//!
//! Every stage reports all the problems it finds; later stages run only on
//! what earlier ones accepted, so one mistake is reported once.

mod backend;
mod decls;
mod errors;
mod evaluate;
mod expansion;
pub mod git;
mod loader;
mod refactor;
mod refs;
mod resources;
mod scope;
mod stack;
mod validation;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8sinfra_lang::syntax::ast::Expr;
use k8sinfra_lang::{Diagnostics, SourceMap, Span, Value};

pub use backend::{Backend, ENV_MARK};
pub use errors::CheckError;
pub use loader::{Embedded, EXTENSION};
pub use refactor::Refactor;
pub use stack::Stack;

use crate::addr::ResourceAddr;
use crate::graph::Dag;
use crate::provider::Providers;

/// Values for the root module's inputs, from the command line, a vars file
/// or the environment (the caller resolves precedence).
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub values: BTreeMap<String, InputValue>,
    /// The environment the run is for (`--env NAME`); `None` is the one
    /// called `default`. Read as `env.name`; it picks the state.
    pub environment: Option<String>,
    /// The outputs of each stack the configuration reads, by stack name:
    /// value and whether it is sensitive. A stack not read (`validate`
    /// reads none) is missing: its outputs are unknown.
    pub stacks: BTreeMap<String, BTreeMap<String, (serde_json::Value, bool)>>,
}

impl Inputs {
    /// `env.name`: the environment, `default` when none was named.
    #[must_use]
    pub fn environment_name(&self) -> &str {
        self.environment.as_deref().unwrap_or("default")
    }
}

#[derive(Debug, Clone)]
pub enum InputValue {
    /// An expression, parsed from a vars file or a `--var` that is not a
    /// plain string; its span points into the source map.
    Expr(Expr),
    /// Text taken as is (a `--var` or environment value for a string input).
    Text(String, String),
}

pub struct LoadOptions<'a> {
    pub stdlib: Embedded,
    pub inputs: &'a Inputs,
    /// Whether root inputs without a value are an error (`plan`) or stand
    /// for unknown values (`validate`).
    pub require_inputs: bool,
    /// Attributes the cloud reported, by address, to fill in values that
    /// are otherwise known only after apply. A plan leaves out the
    /// resources it is about to replace (their values will change).
    pub known: Option<&'a dyn Known>,
}

/// Where evaluation finds what the cloud reported of a resource: a state
/// (borrowed, not copied: 10,000 resources are 10,000 maps), or a map.
pub trait Known: Sync {
    fn reported(&self, address: &str) -> Option<&BTreeMap<String, serde_json::Value>>;
}

impl Known for BTreeMap<String, BTreeMap<String, serde_json::Value>> {
    fn reported(&self, address: &str) -> Option<&BTreeMap<String, serde_json::Value>> {
        self.get(address)
    }
}

impl Known for crate::state::State {
    fn reported(&self, address: &str) -> Option<&BTreeMap<String, serde_json::Value>> {
        self.resources.get(address).map(|r| &r.attrs)
    }
}

/// Lifecycle settings of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    pub ignore_changes: Vec<String>,
    /// `rolling_update { … }`: the instances of the resource form a group
    /// whose members are replaced, never changed in place, a few at a time.
    pub rolling: Option<Rolling>,
    /// `accept = { open_ssh = "why" }`: findings of the security lint the
    /// resource accepts, each with its written reason and where it was.
    pub accepted: Vec<Accepted>,
}

/// A lint finding accepted on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub rule: String,
    pub reason: String,
    pub span: Span,
}

/// How a group's members are replaced (kops's `rollingUpdate`): with
/// `max_surge` above 0, up to that many new members are created before as
/// many old ones are destroyed; otherwise up to `max_unavailable` members
/// are destroyed, then re-created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rolling {
    pub max_surge: u32,
    pub max_unavailable: u32,
}

impl Rolling {
    /// Members replaced at once.
    #[must_use]
    pub fn batch(self) -> usize {
        (if self.max_surge > 0 { self.max_surge } else { self.max_unavailable }).max(1) as usize
    }
}

/// Where each attribute of a resource instance was written.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    /// The resource's name in its declaration.
    pub decl: Span,
    pub attrs: BTreeMap<String, Span>,
    /// For each nested block type, each block's attribute spans.
    pub blocks: BTreeMap<String, Vec<BTreeMap<String, Span>>>,
}

/// One resource instance, evaluated and checked.
#[derive(Debug, Clone)]
pub struct ResourceInstance {
    pub addr: ResourceAddr,
    /// Every settable attribute (set, defaulted or null) and every computed
    /// one (unknown until apply). Nested blocks are lists of maps, or a map.
    /// Shared with the value expressions see when they refer to it.
    pub attrs: std::sync::Arc<BTreeMap<String, Value>>,
    pub spans: Spans,
    pub lifecycle: Lifecycle,
    pub depends_on: BTreeSet<ResourceAddr>,
    /// The attributes holding secrets: sensitive by the schema, or set
    /// from a sensitive value. Their values in `attrs` carry no marks.
    pub sensitive: std::sync::Arc<BTreeSet<String>>,
    /// The alias of the provider configuration it is made with ("" for
    /// the provider's own block): its `provider`, else its module call's
    /// `providers`.
    pub provider: String,
}

#[derive(Debug, Clone)]
pub struct OutputValue {
    pub value: Value,
    pub sensitive: bool,
    pub span: Span,
}

/// Settings of a provider block, checked against the provider's schema.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    /// "" for the provider's own block, else the named block's alias
    /// (`aws west { … }`: `west`). `Config::providers` keys it as `aws`
    /// and `aws.west`.
    pub alias: String,
    pub values: BTreeMap<String, Value>,
    pub spans: BTreeMap<String, Span>,
}

/// A whole checked configuration.
#[derive(Debug, Default)]
pub struct Config {
    pub resources: Vec<ResourceInstance>,
    /// Position in `resources` of each address, as printed.
    pub(crate) index: BTreeMap<String, usize>,
    /// `a -> b`: resource `a` depends on resource `b`.
    pub graph: Dag<ResourceAddr, ()>,
    pub outputs: BTreeMap<String, OutputValue>,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub backend: Backend,
    /// The root module's `moved` and `removed` blocks, checked.
    pub refactors: Vec<Refactor>,
}

impl Config {
    #[must_use]
    pub fn resource(&self, addr: &ResourceAddr) -> Option<&ResourceInstance> {
        self.by_address(&addr.to_string())
    }

    #[must_use]
    pub fn by_address(&self, address: &str) -> Option<&ResourceInstance> {
        self.index.get(address).and_then(|&i| self.resources.get(i))
    }

    /// Rebuild the address index after `resources` changed.
    pub fn reindex(&mut self) {
        self.index = self.resources.iter().enumerate().map(|(i, r)| (r.addr.to_string(), i)).collect();
    }

    /// The instance a reference value points to, if it is a resource of this
    /// configuration.
    #[must_use]
    pub fn resolve(&self, value: &Value) -> Option<&ResourceInstance> {
        self.by_address(&value.as_resource()?.address)
    }
}

/// Load the configuration at `path` (a folder or a file), evaluate and check
/// it. Returns the configuration if no error was found.
pub fn load_and_evaluate(
    path: &Path,
    options: &LoadOptions<'_>,
    providers: &Providers,
    sources: &mut SourceMap,
) -> (Option<Config>, Diagnostics) {
    let (parsed, mut diags) = parse_outcome(path, options.stdlib, sources);
    match parsed {
        ParseOutcome::Whole(parsed) => {
            let (config, more) = evaluate_parsed(&parsed, options, providers, sources);
            diags.extend(more);
            (config, diags)
        }
        ParseOutcome::Partial(parsed, broken) => {
            diags.extend(check_what_parsed(&parsed, &broken, options, providers, sources));
            (None, diags)
        }
        ParseOutcome::Nothing => (None, diags),
    }
}

/// A configuration read and parsed, every module it calls included: what
/// evaluating it again (with what the cloud reported) starts from, so a
/// plan does not parse twice.
#[derive(Debug, Clone)]
pub struct Parsed {
    tree: loader::ModuleTree,
}

impl Parsed {
    /// The root module's `backend` blocks (one, in a valid configuration).
    fn backend_blocks(&self) -> Vec<(&k8sinfra_lang::syntax::ast::Ident, &k8sinfra_lang::syntax::ast::Block)> {
        self.tree
            .module
            .files
            .iter()
            .flat_map(|f| &f.items)
            .filter_map(|item| match &item.kind {
                k8sinfra_lang::syntax::ast::ItemKind::Backend { kind, body } => Some((kind, body)),
                _ => None,
            })
            .collect()
    }

    /// Where each environment's state is: the backend kind and its path or
    /// key with `env.name` as `{env}` (`ENV_MARK`); `None` when the
    /// location does not vary by environment, or cannot be known here.
    #[must_use]
    pub fn environment_pattern(&self) -> Option<(String, String)> {
        match self.backend_blocks().as_slice() {
            [] => Some(("local".into(), format!(".k8sinfra/env/{ENV_MARK}/state.json"))),
            [(kind, body)] => backend::pattern(kind, body).map(|p| (kind.name.clone(), p)),
            _ => None,
        }
    }

    /// The root module's `stack` declarations with their state's place,
    /// for the caller to read before evaluating (mistakes in them are
    /// reported by the evaluation).
    #[must_use]
    pub fn stacks(&self, environment: Option<&str>) -> Vec<Stack> {
        let items = self.tree.module.files.iter().flat_map(|f| &f.items);
        items
            .filter_map(|item| match &item.kind {
                k8sinfra_lang::syntax::ast::ItemKind::Resource { type_name, name, body }
                    if type_name.name == "stack" =>
                {
                    stack::check(name, body, environment, &mut Diagnostics::new())
                }
                _ => None,
            })
            .collect()
    }

    /// The S3 backend's bucket and region setting, when the backend block
    /// is an `s3` one with literal settings.
    #[must_use]
    pub fn s3_bucket(&self) -> Option<(String, Option<String>)> {
        let (kind, body) = *self.backend_blocks().first()?;
        match backend::check(kind, body, None, &mut Diagnostics::new())? {
            Backend::S3 { bucket, region, .. } => Some((bucket, region)),
            _ => None,
        }
    }

    /// The backend, when it can be told without evaluating anything: the
    /// root module declares none (the local default) or a `local` one with
    /// a literal path. Lets a plan read a local state before evaluating,
    /// and so evaluate once. `None` for anything else (S3 needs the
    /// provider's settings, which may use inputs).
    #[must_use]
    pub fn static_local_backend(&self, environment: Option<&str>) -> Option<Backend> {
        match self.backend_blocks().as_slice() {
            [] => Some(backend::local_default(environment)),
            [(kind, body)] if kind.name == "local" => {
                let mut diags = Diagnostics::new();
                backend::check(kind, body, environment, &mut diags).filter(|_| diags.is_empty())
            }
            _ => None,
        }
    }
}

/// Read and parse the configuration at `path` and the modules it calls;
/// `None` when something could not be read or parsed.
pub fn parse(path: &Path, stdlib: Embedded, sources: &mut SourceMap) -> (Option<Parsed>, Diagnostics) {
    match parse_outcome(path, stdlib, sources) {
        (ParseOutcome::Whole(parsed), diags) => (Some(parsed), diags),
        (_, diags) => (None, diags),
    }
}

/// What reading a configuration gave.
pub enum ParseOutcome {
    Whole(Parsed),
    /// Some files did not parse whole: what did, and where the errors are.
    /// Not to be planned, only checked (`check_what_parsed`).
    Partial(Parsed, Broken),
    Nothing,
}

/// Edges the cloud needs that references do not show, in the graph and in
/// each resource's `depends_on`. One that would close a cycle (the two
/// already depend on each other the other way) is left out: the
/// configuration's own order wins.
fn add_implicit(config: &mut Config, edges: Vec<(crate::addr::ResourceAddr, crate::addr::ResourceAddr)>) {
    for (from, to) in edges {
        if from == to || reaches(&config.graph, &to, &from) {
            continue;
        }
        let Some(&position) = config.index.get(&from.to_string()) else { continue };
        if !config.index.contains_key(&to.to_string()) {
            continue;
        }
        config.graph.add_edge(from.clone(), to.clone(), ());
        config.resources[position].depends_on.insert(to);
    }
}

/// Whether `from` depends on `to`, directly or through others.
fn reaches(
    graph: &Dag<crate::addr::ResourceAddr, ()>,
    from: &crate::addr::ResourceAddr,
    to: &crate::addr::ResourceAddr,
) -> bool {
    let mut stack = vec![from];
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node) {
            stack.extend(graph.dependencies(node));
        }
    }
    false
}

/// Where a configuration did not parse.
pub struct Broken {
    /// A declaration was lost (not only a malformed value).
    incomplete: bool,
    /// The syntax errors' places: what evaluation says there is their echo.
    places: Vec<ErrorPlace>,
}

/// A diagnostic's file and the byte ranges of its labels.
type ErrorPlace = (Option<k8sinfra_lang::FileId>, Vec<(usize, usize)>);

pub fn parse_outcome(path: &Path, stdlib: Embedded, sources: &mut SourceMap) -> (ParseOutcome, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut loader = loader::Loader::new(sources, stdlib, &mut diags);
    let tree = loader.load_root(path);
    // A module that failed to load is skipped (its call is unknown), but a
    // file that failed to parse may hide declarations: what parsed is only
    // checked, never planned.
    let (failed, incomplete) = (loader.parse_failed, loader.incomplete);
    let outcome = match (tree, failed) {
        (Some(tree), false) => ParseOutcome::Whole(Parsed { tree }),
        (Some(tree), true) => {
            let places = diags.iter().map(|d| (d.file, d.label_ranges())).collect();
            ParseOutcome::Partial(Parsed { tree }, Broken { incomplete, places })
        }
        (None, _) => ParseOutcome::Nothing,
    };
    (outcome, diags)
}

/// The git module sources of the configuration at `path` (its module tree,
/// as far as it can be loaded): every lock key it uses, and those the lock
/// does not pin or whose checkout is missing — what `k8sinfra init`
/// fetches.
#[must_use]
pub fn git_modules(path: &Path, stdlib: Embedded) -> GitModules {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let mut loader = loader::Loader::new(&mut sources, stdlib, &mut diags);
    loader.load_root(path);
    GitModules { used: loader.git_used.clone(), missing: loader.git_missing.clone() }
}

/// What `git_modules` found, by lock key, each with one of its sources.
#[derive(Debug, Default)]
pub struct GitModules {
    pub used: BTreeMap<String, git::GitSource>,
    pub missing: BTreeMap<String, git::GitSource>,
}

/// The problems of what parsed, when something did not, so that one run
/// reports the syntax errors and the type and reference errors together.
/// Left out: what evaluation says at a syntax error's place (a malformed
/// CIDR reads as null there), what a lost declaration could cause (a name
/// that resolves to nothing, an input not declared), and the providers'
/// checks (a NAT gateway's route may be in what did not parse).
pub fn check_what_parsed(
    partial: &Parsed,
    broken: &Broken,
    options: &LoadOptions<'_>,
    providers: &Providers,
    sources: &mut SourceMap,
) -> Diagnostics {
    const MAYBE_MISSING: &[&str] =
        &["check::unknown_reference", "check::unknown_input", "check::missing_input", "check::unknown_module"];
    let mut diags = Diagnostics::new();
    let _ = evaluate::evaluate(&partial.tree, options, providers, sources, &mut diags);
    let overlaps = |a: &(usize, usize), b: &(usize, usize)| a.0 < b.1.max(b.0 + 1) && b.0 < a.1.max(a.0 + 1);
    let mut kept = Diagnostics::new();
    for diag in diags.into_sorted() {
        let ranges = diag.label_ranges();
        let echo = broken
            .places
            .iter()
            .any(|(file, places)| *file == diag.file && places.iter().any(|p| ranges.iter().any(|r| overlaps(p, r))));
        let maybe_missing = broken.incomplete && diag.code().is_some_and(|c| MAYBE_MISSING.contains(&c.as_str()));
        if !echo && !maybe_missing {
            kept.push(diag);
        }
    }
    kept
}

/// Evaluate and check a parsed configuration (`sources` must be the map it
/// was parsed into, or a copy of it).
pub fn evaluate_parsed(
    parsed: &Parsed,
    options: &LoadOptions<'_>,
    providers: &Providers,
    sources: &mut SourceMap,
) -> (Option<Config>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut config = evaluate::evaluate(&parsed.tree, options, providers, sources, &mut diags);
    for provider in providers.iter() {
        let edges = provider.implicit_dependencies(&config);
        add_implicit(&mut config, edges);
    }
    // Provider checks run even after errors: they skip values that failed
    // (those are unknown), and reporting every problem at once saves a round.
    for provider in providers.iter() {
        provider.check(&config, &mut diags);
    }
    if diags.has_errors() {
        (None, diags)
    } else {
        (Some(config), diags)
    }
}

/// Where a module's files live (a folder, or the embedded stdlib).
pub use loader::ModuleDir;
