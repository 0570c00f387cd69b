//! What `plan`, `apply` and `destroy` share: load and check the
//! configuration, refuse what this build cannot apply, open the state,
//! connect the providers, refresh, and plan. Nothing here changes the cloud.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8sinfra_engine::config::{Backend, Config};
use k8sinfra_engine::plan::{
    address_matches, carry_out, drift, plan_with, refresh_only, targeted, Action, Plan, Refactored, Request,
};
use k8sinfra_engine::provider::{ProviderError, Providers};
use k8sinfra_engine::state::{Backend as StateBackend, LocalBackend, State};
use k8sinfra_lang::{Diag, Diagnostics, SourceMap};
use miette::Diagnostic;
use thiserror::Error;

use super::backend::{self, Locking};
use crate::cli::ConfigArgs;
use crate::report::Output;

#[derive(Debug, Error, Diagnostic)]
pub enum SessionError {
    #[error("`{address}` is a `{type_name}`, which this build cannot apply yet")]
    #[diagnostic(
        code(provider::unsupported),
        help("apply supports: {supported}; `validate` and `graph` check every type")
    )]
    Unsupported {
        address: String,
        type_name: String,
        supported: String,
        #[label("not applicable yet")]
        span: miette::SourceSpan,
    },

    #[error("`{address}` has `prevent_destroy = true`; this plan would {action} it")]
    #[diagnostic(
        code(plan::prevent_destroy),
        help("remove `prevent_destroy` from its lifecycle block first, if destroying it is really intended")
    )]
    PreventDestroy { address: String, action: &'static str },

    #[error("`--{flag} {pattern}` names no resource of the configuration or the state")]
    #[diagnostic(code(plan::no_such_address))]
    NoSuchAddress {
        flag: &'static str,
        pattern: String,
        #[help]
        help: String,
    },

    #[error("`--{0}` cannot be used with `{1}`")]
    #[diagnostic(
        code(plan::request),
        help("`--refresh-only` needs refresh; `destroy` takes `--target`, not `--replace` or `--refresh-only`")
    )]
    Conflict(&'static str, &'static str),

    #[error("`{address}`: {message}")]
    #[diagnostic(code(plan::cloud))]
    Cloud {
        address: String,
        message: String,
        #[help]
        help: String,
        #[label("{attribute}")]
        span: Option<miette::SourceSpan>,
        attribute: String,
    },
}

pub struct Session {
    pub config: Config,
    /// What `config` was evaluated with, if the state was read before.
    evaluated_against: Option<EvaluatedAgainst>,
    /// To evaluate the configuration again with what the state knows.
    pub loaded: super::Loaded,
    pub providers: Arc<Providers>,
    pub backend: Box<dyn StateBackend>,
    pub runtime: tokio::runtime::Runtime,
}

/// What the first evaluation knew of the state, when it was read before it.
enum EvaluatedAgainst {
    /// This state (lineage, serial).
    State(String, u64),
    /// No state (none yet, or unreadable unlocked): nothing known, as
    /// with any state that holds no resources.
    Nothing,
}

/// Load and check; print the diagnostics and return `None` on error.
pub fn open(args: &ConfigArgs, out: &Output, destroying: bool) -> Option<Session> {
    let mut sources = SourceMap::new();
    let dir = backend::config_dir(&args.dir);
    // A local state is read (unlocked: only a hint) before evaluating, so
    // that this evaluation already knows what the cloud chose and a plan
    // need not evaluate again (see `plan_known`).
    // No state to read is a hint too: the evaluation knew nothing, which
    // is right for any state that holds no resources.
    let no_state = std::cell::Cell::new(false);
    let hint = |parsed: &k8sinfra_engine::config::Parsed| {
        let local = match parsed.static_local_backend(crate::environment::current())? {
            Backend::LocalDefault => LocalBackend::beside(&dir),
            Backend::Local { path } => LocalBackend::at(dir.join(path)),
            Backend::S3 { .. } => return None,
        };
        let state = local.read_hint();
        no_state.set(state.is_none());
        state
    };
    let (loaded, mut diags) = super::load_kept(args, !destroying, &mut sources, hint);
    let Some((config, loaded, hinted)) = loaded else {
        out.diagnostics(diags, &sources);
        return None;
    };
    let evaluated_against = match hinted {
        Some(state) => Some(EvaluatedAgainst::State(state.lineage, state.serial)),
        None if no_state.get() => Some(EvaluatedAgainst::Nothing),
        None => None,
    };
    let providers = k8sinfra_providers::all();
    if !destroying {
        unsupported(&config, &providers, &mut diags);
    }
    if !out.diagnostics(diags, &sources) {
        return None;
    }
    let runtime = runtime(out)?;
    let backend = match runtime.block_on(backend::open(&config, &backend::config_dir(&args.dir))) {
        Ok(b) => b,
        Err(e) => {
            backend::report(e, out);
            return None;
        }
    };
    Some(Session { config, evaluated_against, loaded, providers: Arc::new(providers), backend, runtime })
}

/// What the verbs that only touch the state (`init`, `force-unlock`,
/// `output`) need: the configuration's backend, and a runtime to reach it.
pub struct StateAccess {
    pub backend: Box<dyn StateBackend>,
    pub runtime: tokio::runtime::Runtime,
    /// The configuration's resource addresses, with their types.
    pub declared: BTreeMap<String, String>,
}

/// Open the backend the configuration in `dir` names. Inputs need not be
/// set: only the `backend` and `aws` blocks matter here.
pub fn open_state(dir: &std::path::Path, out: &Output) -> Option<StateAccess> {
    let args = ConfigArgs { dir: dir.to_path_buf(), dir_flag: None, vars: Vec::new(), var_files: Vec::new() };
    let mut sources = SourceMap::new();
    let (config, diags) = super::load(&args, false, &mut sources);
    // Only errors matter here: warnings belong to validate and plan, and
    // `output --json` must print nothing but the outputs.
    if diags.has_errors() {
        out.diagnostics(diags, &sources);
        return None;
    }
    let config = config?;
    let runtime = runtime(out)?;
    let declared = config.resources.iter().map(|r| (r.addr.to_string(), r.addr.type_name.clone())).collect();
    match runtime.block_on(backend::open(&config, &backend::config_dir(dir))) {
        Ok(backend) => Some(StateAccess { backend, runtime, declared }),
        Err(e) => {
            backend::report(e, out);
            None
        }
    }
}

fn runtime(out: &Output) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => Some(r),
        Err(e) => {
            out.error(Diag::global(crate::refusal::Refusal::Runtime { reason: e.to_string() }));
            None
        }
    }
}

/// Every resource whose type the provider cannot apply yet, reported
/// before anything is read or changed.
fn unsupported(config: &Config, providers: &Providers, diags: &mut Diagnostics) {
    for r in &config.resources {
        let Some(provider) = providers.for_type(&r.addr.type_name) else { continue };
        if provider.can_apply(&r.addr.type_name) {
            continue;
        }
        let supported: Vec<&str> = providers
            .type_names()
            .into_iter()
            .filter(|t| providers.for_type(t).is_some_and(|p| p.can_apply(t)))
            .collect();
        diags.push(Diag::new(
            r.spans.decl.file,
            SessionError::Unsupported {
                address: r.addr.to_string(),
                type_name: r.addr.type_name.clone(),
                supported: supported.join(", "),
                span: r.spans.decl.into(),
            },
        ));
    }
}

impl Session {
    /// Connect every provider the configuration or the state uses.
    pub async fn connect(&self, state: &State) -> Result<(), ProviderError> {
        let mut names: Vec<&str> = Vec::new();
        let types = self
            .config
            .resources
            .iter()
            .map(|r| r.addr.type_name.as_str())
            .chain(state.resources.values().map(|r| r.type_name.as_str()));
        for t in types {
            if let Some(p) = self.providers.for_type(t) {
                if !names.contains(&p.name()) {
                    names.push(p.name());
                }
            }
        }
        // Each configuration of each provider in use: its own block (even
        // unwritten: the environment's region), and the named ones
        // (`aws west { … }`) the configuration or the state uses.
        let used = self
            .config
            .resources
            .iter()
            .map(|r| (r.addr.type_name.as_str(), r.provider.as_str()))
            .chain(state.resources.values().map(|r| (r.type_name.as_str(), r.provider.as_str())))
            .chain(state.pending.values().map(|p| (p.type_name.as_str(), p.provider.as_str())));
        let mut aliases: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (type_name, alias) in used {
            if let Some(p) = self.providers.for_type(type_name) {
                aliases.insert((p.name(), alias));
            }
        }
        for name in names {
            let Some(p) = self.providers.provider(name) else { continue };
            let own = aliases.iter().filter(|(n, _)| *n == name).map(|(_, a)| *a);
            for alias in std::iter::once("").chain(own.filter(|a| !a.is_empty())) {
                let key = if alias.is_empty() { name.to_string() } else { format!("{name}.{alias}") };
                let settings = match self.config.providers.get(&key) {
                    Some(settings) => settings.clone(),
                    None if alias.is_empty() => Default::default(),
                    // A named block gone from the configuration while the
                    // state still has what it made: its resources cannot be
                    // reached (their region is unknown).
                    None => {
                        return Err(ProviderError::Setup(format!(
                            "the state has resources made with `{key}`, which the configuration no longer \
                             declares: put its block back (`{name} {alias} {{ region = \"…\" }}`) to destroy \
                             them, or forget them with `k8sinfra state rm`"
                        )))
                    }
                };
                p.connect(&settings).await?;
            }
        }
        Ok(())
    }

    /// Whether `request` makes sense here: each `--replace` and `--target`
    /// address names something in the configuration or the state (else an
    /// error with the nearest address), `--refresh-only` has a refresh to
    /// show, and `destroy` is asked only for targets. Reports and returns
    /// false if not.
    pub fn check_request(
        &self,
        request: &Request,
        state: &State,
        refresh: bool,
        verb: &'static str,
        out: &Output,
    ) -> bool {
        let mut ok = true;
        let mut refuse = |error: SessionError| {
            out.error(Diag::global(error));
            ok = false;
        };
        if request.refresh_only && !refresh {
            refuse(SessionError::Conflict("refresh-only", "--refresh=false"));
        }
        if verb == "destroy" && request.refresh_only {
            refuse(SessionError::Conflict("refresh-only", "destroy"));
        }
        if verb == "destroy" && !request.replace.is_empty() {
            refuse(SessionError::Conflict("replace", "destroy"));
        }
        let known: BTreeSet<String> =
            self.config.resources.iter().map(|r| r.addr.to_string()).chain(state.resources.keys().cloned()).collect();
        for (flag, patterns) in [("replace", &request.replace), ("target", &request.targets)] {
            for pattern in patterns {
                if known.iter().any(|address| address_matches(pattern, address)) {
                    continue;
                }
                let help = k8sinfra_lang::suggest::help(pattern, known.iter().map(String::as_str))
                    .unwrap_or_else(|| "`k8sinfra state list` and `k8sinfra graph` show the addresses".into());
                refuse(SessionError::NoSuchAddress { flag, pattern: pattern.clone(), help });
            }
        }
        ok
    }

    /// Refresh (unless told not to) and plan against the result, under
    /// `request`: replacements asked for, then cut to its targets or to the
    /// drift alone.
    pub async fn plan(
        &self,
        stored: &State,
        refresh: bool,
        destroying: bool,
        request: &Request,
    ) -> Result<(State, Plan), ProviderError> {
        self.connect(stored).await?;
        // `moved` and `removed` first: refresh then reads each resource at
        // its new address, and drift compares like with like.
        let moved_state;
        let (stored, refactored) = if destroying || self.config.refactors.is_empty() {
            (stored, Refactored::default())
        } else {
            let mut state = stored.clone();
            let refactored = carry_out(&mut state, &self.config.refactors);
            moved_state = state;
            (&moved_state, refactored)
        };
        let none = Config::default();
        let config = if destroying { &none } else { &self.config };
        let mut state = if refresh {
            k8sinfra_engine::apply::refresh(&self.providers, stored, Some(config)).await?
        } else {
            stored.clone()
        };
        // Lookups are read at every plan that reads the cloud: what refers
        // to them plans with what they find, and a changed result is drift.
        if refresh && !destroying {
            self.look_up(&mut state).await?;
        }
        // The configuration was evaluated with this very state already: no
        // need to evaluate it again unless refresh learnt something.
        let current = match &self.evaluated_against {
            Some(EvaluatedAgainst::State(lineage, serial)) => *lineage == stored.lineage && *serial == stored.serial,
            Some(EvaluatedAgainst::Nothing) => stored.resources.is_empty() && stored.pending.is_empty(),
            None => false,
        } && state.resources == stored.resources
            && refactored.is_empty();
        let mut planned = if destroying {
            plan_with(&Config::default(), &state, &self.providers, request)
        } else {
            self.plan_known(&state, current, request, &stored.outputs)
        };
        if refresh {
            planned.drift = drift(stored, &state, &self.providers, config);
        }
        if !destroying {
            planned.upstream = k8sinfra_engine::plan::upstream_changes(&stored.upstream, &self.loaded.inputs.stacks);
        }
        planned.refactored = refactored;
        if request.refresh_only {
            planned = refresh_only(planned);
        }
        Ok((state, targeted(planned, destroying)))
    }

    /// Every lookup, in rounds: those whose query is known, then, with
    /// what they found, the configuration evaluated again for those that
    /// name another lookup (a subnet in a VPC looked up).
    async fn look_up(&self, state: &mut State) -> Result<(), ProviderError> {
        let mut evaluated = None;
        let mut waiting: Vec<String> = Vec::new();
        loop {
            let config = evaluated.as_ref().unwrap_or(&self.config);
            let still = k8sinfra_engine::apply::look_up_all(&self.providers, config, state).await?;
            if still.is_empty() {
                return Ok(());
            }
            if still == waiting {
                return Err(k8sinfra_engine::apply::unknowable(&still));
            }
            waiting = still;
            let known = LeftOut { state, left_out: BTreeSet::new() };
            match self.loaded.evaluate(&known, &self.providers) {
                Some(config) => evaluated = Some(config),
                None => return Err(k8sinfra_engine::apply::unknowable(&waiting)),
            }
        }
    }

    /// The plan, with what the state knows of existing resources filled in:
    /// a record naming a load balancer's DNS name compares with that name,
    /// not as "known after apply". A resource the plan replaces gets new
    /// values, so it is left out and the configuration evaluated again
    /// (dependents then wait for it; see `apply::Refine`).
    /// The configuration's own outputs go into the plan from the same
    /// evaluation (see `with_outputs`).
    fn plan_known(
        &self,
        state: &State,
        current: bool,
        request: &Request,
        recorded_outputs: &BTreeMap<String, serde_json::Value>,
    ) -> Plan {
        let with_outputs =
            |planned: Plan, config: &Config| with_outputs(planned, config, state, recorded_outputs, request);
        let mut known = LeftOut { state, left_out: BTreeSet::new() };
        // Each round leaves out at least one more resource; three is plenty
        // for chains of replacements in practice.
        for round in 0..3 {
            let evaluated;
            let config = if round == 0 && current {
                &self.config
            } else {
                match self.loaded.evaluate(&known, &self.providers) {
                    Some(config) => {
                        evaluated = config;
                        &evaluated
                    }
                    None => break,
                }
            };
            let planned = plan_with(config, state, &self.providers, request);
            let replaced: Vec<String> = planned
                .changes
                .iter()
                .filter(|c| c.action == Action::Replace && !known.left_out.contains(&c.address))
                .map(|c| c.address.clone())
                .collect();
            if replaced.is_empty() {
                return with_outputs(planned, config);
            }
            known.left_out.extend(replaced);
        }
        // With nothing filled in, the plan is never wrong, only less
        // precise: what the cloud chose shows as known after apply.
        with_outputs(plan_with(&self.config, state, &self.providers, request), &self.config)
    }

    /// Ask each provider whether the cloud can carry out the plan (the images
    /// it launches exist, say); report what it cannot. True if nothing is
    /// in the way.
    pub fn verified(&self, plan: &Plan, out: &Output) -> bool {
        let mut diags = Diagnostics::default();
        for provider in self.providers.iter() {
            let problems = match self.runtime.block_on(provider.verify(plan)) {
                Ok(problems) => problems,
                Err(e) => {
                    report(e, out);
                    return false;
                }
            };
            for problem in problems {
                let span = self.config.by_address(&problem.address).and_then(|r| r.spans.attrs.get(&problem.attribute));
                let error = SessionError::Cloud {
                    address: problem.address,
                    message: problem.message,
                    help: problem.help,
                    span: span.map(|s| (*s).into()),
                    attribute: problem.attribute,
                };
                diags.push(match span {
                    Some(s) => Diag::new(s.file, error),
                    None => Diag::global(error),
                });
            }
        }
        diags.is_empty() || out.diagnostics(diags, &self.loaded.sources)
    }

    /// Report every change that would destroy a protected resource;
    /// true if there is none.
    pub fn allowed(&self, plan: &Plan, out: &Output) -> bool {
        let protected = plan.protected_destroys(&self.config);
        for change in &protected {
            let action = if change.action == k8sinfra_engine::plan::Action::Replace { "replace" } else { "destroy" };
            let error = SessionError::PreventDestroy { address: change.address.clone(), action };
            out.error(Diag::global(error));
        }
        protected.is_empty()
    }

    /// The stored state; `None` after reporting why it could not be read.
    pub fn load_state(&self, out: &Output) -> Option<State> {
        match self.runtime.block_on(self.backend.load()) {
            Ok(state) => Some(state),
            Err(e) => {
                backend::report(e, out);
                None
            }
        }
    }

    /// Run `work` holding the state lock (unless `--lock=false`), and
    /// release it afterwards whatever `work` returned.
    pub fn locked<T>(&self, operation: &str, locking: Locking, out: &Output, work: impl FnOnce() -> T) -> Option<T> {
        let lock = self.runtime.block_on(backend::lock(self.backend.as_ref(), operation, locking, out)).ok()?;
        let result = work();
        self.runtime.block_on(backend::unlock(self.backend.as_ref(), lock, out));
        Some(result)
    }
}

/// A provider error as a diagnostic on stderr.
pub fn report(error: ProviderError, out: &Output) {
    out.error(Diag::global(error));
}

/// What the state knows, but for the resources a plan replaces.
struct LeftOut<'s> {
    state: &'s State,
    left_out: BTreeSet<String>,
}

impl k8sinfra_engine::config::Known for LeftOut<'_> {
    fn reported(&self, address: &str) -> Option<&BTreeMap<String, serde_json::Value>> {
        if self.left_out.contains(address) {
            None
        } else {
            self.state.resources.get(address).map(|r| &r.attrs)
        }
    }
}

/// `planned` with the outputs of `config` (the evaluation it was planned
/// from) that differ from those the state `recorded`: references to what
/// the plan creates or replaces are known only after apply. A refresh-only
/// plan changes no output.
fn with_outputs(
    mut planned: Plan,
    config: &Config,
    state: &State,
    recorded: &BTreeMap<String, serde_json::Value>,
    request: &Request,
) -> Plan {
    if request.refresh_only {
        return planned;
    }
    let remade: BTreeSet<String> = planned
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Replace))
        .map(|c| c.address.clone())
        .collect();
    planned.outputs = k8sinfra_engine::plan::output_changes(config, state, recorded, &remade);
    planned
}
