//! Executing a plan. Changes run on tokio as soon as the changes they
//! depend on are done, at most `parallelism` at a time; deletes run after,
//! each once everything that depended on it is gone. Every result goes
//! through one writer (this loop) that updates the state. Creates are
//! saved as pending before they start, so a crash cannot hide one (the next
//! refresh looks for it by its tags; what has no tags is created
//! idempotently). Results ride along with that write, or are saved within
//! `SAVE_RESULTS_WITHIN`, and at the end: one write per wave of creates,
//! not one per result. A failure stops its dependents, lets the others
//! finish, and is reported with the cloud's message.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::plan::{natural_order, resolve, Action, Change, Plan};
use crate::provider::{Attrs, BoxFuture, ProviderError, Providers, Remote, Stored, Target};
use crate::state::{create_token, unix_now, Backend, Pending, ResourceState, State};
use k8sinfra_lang::Value;

/// What the caller hears while the plan runs. `Still` is sent every
/// `STILL_EVERY` for each operation in flight, `elapsed` after it started
/// (a NAT gateway becoming available, a delete waiting out AWS's
/// `DependencyViolation`), so a log shows the run is alive.
#[derive(Debug, Clone)]
pub enum Event {
    Started { address: String, action: Action },
    Still { address: String, action: Action, elapsed: Duration },
    Finished { address: String, action: Action, elapsed: Duration },
    Failed { address: String, action: Action, error: ProviderError },
    Skipped { address: String, because: String },
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<(String, Action)>,
    pub failed: Vec<(String, ProviderError)>,
    pub skipped: Vec<String>,
    /// Saving the state failed: the run stopped there.
    pub state_error: Option<String>,
    /// Stopped by Ctrl-C: what was running finished and is in the state.
    pub interrupted: bool,
}

impl Outcome {
    #[must_use]
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.state_error.is_none() && !self.interrupted
    }
}

/// Where the walker saves the state after every change (a backend, or a
/// test's counter); an error stops the run.
pub trait Persist: Send {
    fn persist<'a>(&'a mut self, state: &'a State) -> BoxFuture<'a, Result<(), String>>;
}

impl Persist for &dyn Backend {
    fn persist<'a>(&'a mut self, state: &'a State) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.save(state).await.map_err(|e| e.to_string()) })
    }
}

/// An operation's address, action, result and duration, with the
/// attributes it sent.
type Finished = (String, Action, Ran, Duration, Attrs);

/// What one operation did: its result, and for a create-before-destroy
/// replacement whose old resource could not be deleted, why (the new one
/// exists then, and the old one must not be forgotten).
struct Ran {
    result: Result<Option<Remote>, ProviderError>,
    old_kept: Option<ProviderError>,
}

struct Task {
    change: Change,
    after: Attrs,
    before: Attrs,
    /// A create's idempotency key, from its pending record.
    token: Option<String>,
    /// A delete the delete of what it hangs on carries out: no call.
    released: bool,
    /// The provider configuration the state's resource at this address
    /// was made with: what deletes it (a replacement may move it to
    /// another, a region).
    old_alias: String,
}

/// Values that were unknown when the plan was made (an address, a DNS
/// name the cloud chose) are known once the resources they come from
/// exist. A change that needs one asks for the configuration evaluated
/// again with what the state now holds: by address, each resource's
/// attributes as the planner would send them.
pub trait Refine: Send {
    fn configured(&mut self, state: &State) -> Configured;
}

/// Settable attributes by resource address.
pub type Configured = BTreeMap<String, BTreeMap<String, Value>>;

/// For runs whose plans hold no such values (tests, destroy).
pub struct NoRefine;

impl Refine for NoRefine {
    fn configured(&mut self, _: &State) -> Configured {
        BTreeMap::new()
    }
}

/// The walker's fixed inputs.
struct Context<'r> {
    providers: Arc<Providers>,
    parallelism: usize,
    lineage: String,
    refine: &'r mut dyn Refine,
    /// The last re-evaluation and the revision of the state it saw.
    refined: Option<(u64, Configured)>,
    /// Bumped whenever results change the state (saved or not yet).
    revision: u64,
    /// Set by Ctrl-C: start nothing new, let what runs finish and be saved.
    interrupt: &'r AtomicBool,
    /// Deletes that the delete of what they hang on carries out
    /// (`Provider::released_with`): forgotten, not deleted.
    released: BTreeSet<String>,
}

/// How a plan is carried out, and who hears about it.
pub struct Run<'r> {
    /// Operations in flight at once, at most.
    pub parallelism: usize,
    pub save: &'r mut dyn Persist,
    pub refine: &'r mut dyn Refine,
    /// Set (by Ctrl-C) to start nothing new.
    pub interrupt: &'r AtomicBool,
    pub on_event: &'r mut (dyn FnMut(Event) + Send),
}

pub async fn apply(plan: &Plan, providers: Arc<Providers>, mut state: State, run: Run<'_>) -> (State, Outcome) {
    let Run { parallelism, save, refine, interrupt, on_event } = run;
    let mut context = Context {
        providers,
        parallelism,
        lineage: plan.lineage.clone(),
        refine,
        refined: None,
        revision: 0,
        interrupt,
        released: BTreeSet::new(),
    };
    context.released = released(plan, &state, &context.providers);
    let mut outcome = Outcome::default();
    let planned: BTreeMap<&str, &Change> = plan.changes.iter().map(|c| (c.address.as_str(), c)).collect();

    // Creates, updates and replacements, in dependency order.
    let forward: Vec<&Change> =
        plan.changes.iter().filter(|c| !matches!(c.action, Action::Delete | Action::NoOp)).collect();
    let deps = |c: &Change| -> BTreeSet<String> {
        c.depends_on
            .iter()
            .filter(|d| planned.get(d.as_str()).is_some_and(|p| p.action != Action::NoOp && p.action != Action::Delete))
            .cloned()
            .collect()
    };
    let mut forward_deps: BTreeMap<String, BTreeSet<String>> =
        forward.iter().map(|c| (c.address.clone(), deps(c))).collect();
    roll(&forward, &mut forward_deps);
    walk(&forward, forward_deps, &mut context, &mut state, save, on_event, &mut outcome).await;

    // Deletes, each after the deletes of everything that depended on it.
    let deletes: Vec<&Change> = plan.changes.iter().filter(|c| c.action == Action::Delete).collect();
    let deleting: BTreeSet<&str> = deletes.iter().map(|c| c.address.as_str()).collect();
    let mut delete_deps: BTreeMap<String, BTreeSet<String>> =
        deletes.iter().map(|c| (c.address.clone(), BTreeSet::new())).collect();
    for c in &deletes {
        for dep in &c.depends_on {
            if deleting.contains(dep.as_str()) {
                delete_deps.entry(dep.clone()).or_default().insert(c.address.clone());
            }
        }
    }
    // After a state error or Ctrl-C the walker starts none of them, and
    // reports them skipped.
    walk(&deletes, delete_deps, &mut context, &mut state, save, on_event, &mut outcome).await;
    outcome.interrupted = interrupt.load(Ordering::SeqCst);
    (state, outcome)
}

/// The deletes of this plan that another delete of it carries out: a
/// resource whose `released_with` attribute holds the id of a resource
/// deleted in the same plan.
fn released(plan: &Plan, state: &State, providers: &Providers) -> BTreeSet<String> {
    let deleted: BTreeSet<&str> =
        plan.changes.iter().filter(|c| c.action == Action::Delete).filter_map(|c| c.id.as_deref()).collect();
    plan.changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .filter(|c| {
            let attr = providers.for_type(&c.type_name).and_then(|p| p.released_with(&c.type_name));
            let holder = attr.and_then(|a| state.resources.get(&c.address)?.attrs.get(a)?.as_str());
            holder.is_some_and(|id| deleted.contains(id))
        })
        .map(|c| c.address.clone())
        .collect()
}

/// The replacements of a rolling group, a batch at a time: each member
/// waits for the member a batch before it (in key order) to be replaced,
/// new one up and old one gone, so no more than a batch is ever extra (or
/// missing). Members created or left alone are not held back.
fn roll(forward: &[&Change], deps: &mut BTreeMap<String, BTreeSet<String>>) {
    let mut groups: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for change in forward.iter().filter(|c| c.action == Action::Replace) {
        if let Some(rolling) = &change.rolling {
            groups.entry(rolling.group.as_str()).or_default().push(change);
        }
    }
    for members in groups.values_mut() {
        members.sort_by(|a, b| natural_order(&a.address).cmp(&natural_order(&b.address)));
        for (i, member) in members.iter().enumerate() {
            let batch = member.rolling.as_ref().map_or(1, |r| r.settings.batch());
            if let Some(before) = i.checked_sub(batch).map(|j| members[j]) {
                deps.entry(member.address.clone()).or_default().insert(before.address.clone());
            }
        }
    }
}

/// How often operations in flight are reported as still running.
pub const STILL_EVERY: Duration = Duration::from_secs(30);

/// How long a finished change may wait to be saved for a write that has
/// to happen anyway (the pending record of the next creates). A result
/// lost to a crash in that time is found again by the next refresh.
const SAVE_RESULTS_WITHIN: Duration = Duration::from_secs(1);

async fn walk(
    changes: &[&Change],
    mut waiting_on: BTreeMap<String, BTreeSet<String>>,
    context: &mut Context<'_>,
    state: &mut State,
    save: &mut dyn Persist,
    on_event: &mut (dyn FnMut(Event) + Send),
    outcome: &mut Outcome,
) {
    let parallelism = context.parallelism;
    let by_address: BTreeMap<&str, &Change> = changes.iter().map(|c| (c.address.as_str(), *c)).collect();
    let mut running: JoinSet<Finished> = JoinSet::new();
    let mut blocked: BTreeSet<String> = BTreeSet::new();
    // Results not saved yet, and when they must be at the latest.
    let mut unsaved: Option<tokio::time::Instant> = None;
    // What runs, since when; and when to say it still does.
    let mut in_flight: BTreeMap<String, (Action, tokio::time::Instant)> = BTreeMap::new();
    let mut next_still = tokio::time::Instant::now() + STILL_EVERY;
    loop {
        // Start everything ready, up to the parallelism. The creates among
        // them are recorded as pending first, in one write, so a crash
        // cannot hide a create.
        let ready: Vec<String> =
            waiting_on.iter().filter(|(_, deps)| deps.is_empty()).map(|(a, _)| a.clone()).collect();
        let mut starting = Vec::new();
        for address in ready {
            let stopping = outcome.state_error.is_some() || context.interrupt.load(Ordering::SeqCst);
            if running.len() + starting.len() >= parallelism.max(1) || stopping {
                break;
            }
            waiting_on.remove(&address);
            let change = by_address[address.as_str()];
            match prepare_task(change, state, context) {
                Ok(task) => starting.push(task),
                Err(error) => {
                    on_event(Event::Failed { address: address.clone(), action: change.action, error: error.clone() });
                    outcome.failed.push((address.clone(), error));
                    blocked.insert(address);
                }
            }
        }
        let creates = starting.iter().filter(|t| matches!(t.change.action, Action::Create | Action::Replace)).count();
        for task in starting.iter_mut().filter(|t| matches!(t.change.action, Action::Create | Action::Replace)) {
            let change = &task.change;
            // A create still in doubt from an earlier run (its answer lost,
            // the resource not found yet) is made again with the same key,
            // so the cloud answers with what that one made.
            let earlier = state.pending.get(&change.address).filter(|p| p.type_name == change.type_name);
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let token = earlier
                .and_then(|p| p.token.clone())
                .unwrap_or_else(|| create_token(&context.lineage, &change.address, now.as_nanos()));
            let since = earlier.and_then(|p| p.since).unwrap_or(now.as_secs());
            task.token = Some(token.clone());
            state.pending.insert(
                change.address.clone(),
                Pending {
                    type_name: change.type_name.clone(),
                    provider: change.provider.clone(),
                    dependencies: change.depends_on.clone(),
                    since: Some(since),
                    token: Some(token),
                    sensitive: change.sensitive.iter().cloned().collect(),
                    id: context
                        .providers
                        .schema(&change.type_name)
                        .and_then(|s| s.id_attr)
                        .and_then(|attr| change.config.get(attr))
                        .and_then(k8sinfra_lang::Value::as_str)
                        .map(str::to_string),
                },
            );
        }
        if creates > 0 {
            state.serial += 1;
            unsaved = None;
            if let Err(e) = save.persist(state).await {
                // Not started: nothing to hide. What runs still finishes.
                outcome.state_error = Some(e);
                for task in starting.drain(..) {
                    state.pending.remove(&task.change.address);
                    outcome.skipped.push(task.change.address);
                }
            }
        }
        for task in starting {
            on_event(Event::Started { address: task.change.address.clone(), action: task.change.action });
            in_flight.insert(task.change.address.clone(), (task.change.action, tokio::time::Instant::now()));
            let providers = Arc::clone(&context.providers);
            let lineage = context.lineage.clone();
            running.spawn(async move {
                let started = Instant::now();
                let ran = run(&providers, &lineage, &task).await;
                (task.change.address.clone(), task.change.action, ran, started.elapsed(), task.after)
            });
        }
        if running.is_empty() {
            break;
        }
        let deadline = unsaved.map_or(next_still, |save_by| save_by.min(next_still));
        let next = match tokio::time::timeout_at(deadline, running.join_next()).await {
            Ok(next) => next,
            Err(_) => {
                let now = tokio::time::Instant::now();
                if now >= next_still {
                    next_still = now + STILL_EVERY;
                    for (address, (action, since)) in &in_flight {
                        let elapsed = now - *since;
                        on_event(Event::Still { address: address.clone(), action: *action, elapsed });
                    }
                }
                if unsaved.is_some_and(|save_by| now >= save_by) {
                    unsaved = None;
                    state.serial += 1;
                    if let Err(e) = save.persist(state).await {
                        outcome.state_error = Some(e);
                    }
                }
                continue;
            }
        };
        let Some(first) = next else {
            break;
        };
        // Everything else that finished meanwhile is recorded with it and
        // saved in one write, so persisting does not serialise the run.
        let mut batch = vec![first];
        while let Some(more) = running.try_join_next() {
            batch.push(more);
        }
        let mut finished = Vec::new();
        let mut changed = false;
        for joined in batch {
            let Ok((address, action, Ran { result, old_kept }, elapsed, sent)) = joined else {
                outcome.state_error = Some("an operation panicked".into());
                continue;
            };
            in_flight.remove(&address);
            // A create that succeeded is no longer in doubt. One that failed
            // stays pending: it is several calls, and a later one failing
            // (or an answer lost on the way) can hide a resource that now
            // exists. The next refresh adopts it by its tags, or drops it.
            if result.is_ok() {
                state.pending.remove(&address);
            }
            let change = by_address[address.as_str()];
            // The old resource of a create-before-destroy replacement that
            // could not be deleted stays in the state under a deposed
            // address, which the next plan destroys.
            let result = match (result, old_kept) {
                (Ok(new), Some(error)) => {
                    if let Some(old) = state.resources.get(&address).cloned() {
                        state.resources.insert(deposed(&address), old);
                    }
                    if let Some(remote) = new {
                        state.resources.insert(
                            address.clone(),
                            ResourceState {
                                type_name: change.type_name.clone(),
                                id: remote.id.clone(),
                                attrs: reported_over(sent.clone(), &remote.attrs),
                                dependencies: change.depends_on.clone(),
                                sensitive: change.sensitive.iter().cloned().collect(),
                                created: Some(unix_now()),
                                provider: change.provider.clone(),
                            },
                        );
                    }
                    changed = true;
                    let message = format!(
                        "replaced, but the old one could not be deleted ({error}); it is kept in the state as \
                         `{}` and the next apply destroys it",
                        deposed(&address)
                    );
                    finished.push((
                        address,
                        action,
                        Err(ProviderError::Api { operation: "delete".into(), message }),
                        elapsed,
                    ));
                    continue;
                }
                (result, _) => result,
            };
            if let Ok(remote) = &result {
                match remote {
                    Some(remote) => {
                        let created = match action {
                            Action::Update => state.resources.get(&address).and_then(|r| r.created),
                            _ => Some(unix_now()),
                        };
                        state.resources.insert(
                            address.clone(),
                            ResourceState {
                                type_name: change.type_name.clone(),
                                id: remote.id.clone(),
                                attrs: reported_over(sent, &remote.attrs),
                                dependencies: change.depends_on.clone(),
                                sensitive: change.sensitive.iter().cloned().collect(),
                                created,
                                provider: change.provider.clone(),
                            },
                        );
                    }
                    None => {
                        state.resources.remove(&address);
                    }
                }
                changed = true;
            }
            finished.push((address, action, result, elapsed));
        }
        if changed {
            context.revision += 1;
            unsaved = unsaved.or_else(|| Some(tokio::time::Instant::now() + SAVE_RESULTS_WITHIN));
        }
        for (address, action, result, elapsed) in finished {
            match result {
                Ok(_) => {
                    for deps in waiting_on.values_mut() {
                        deps.remove(&address);
                    }
                    on_event(Event::Finished { address: address.clone(), action, elapsed });
                    outcome.done.push((address, action));
                }
                Err(error) => {
                    on_event(Event::Failed { address: address.clone(), action, error: error.clone() });
                    outcome.failed.push((address.clone(), error));
                    blocked.insert(address);
                }
            }
        }
        // Whatever waits on a failure will never run.
        loop {
            let newly: Vec<String> = waiting_on
                .iter()
                .filter(|(_, deps)| deps.iter().any(|d| blocked.contains(d)))
                .map(|(a, _)| a.clone())
                .collect();
            if newly.is_empty() {
                break;
            }
            for address in newly {
                let because = waiting_on[&address].iter().find(|d| blocked.contains(*d)).cloned().unwrap_or_default();
                waiting_on.remove(&address);
                on_event(Event::Skipped { address: address.clone(), because });
                outcome.skipped.push(address.clone());
                blocked.insert(address);
            }
        }
    }
    // Anything still waiting had a dependency that never finished.
    for (address, _) in waiting_on {
        outcome.skipped.push(address);
    }
    if unsaved.is_some() {
        state.serial += 1;
        if let Err(e) = save.persist(state).await {
            outcome.state_error = Some(e);
        }
    }
}

/// What the cloud reported, over what was sent or last known: an
/// attribute the cloud cannot report (a bucket's `force_destroy`, an
/// object's `source`) keeps its last value instead of reading as changed.
fn reported_over(mut known: Attrs, reported: &Attrs) -> Attrs {
    for (name, value) in reported {
        known.insert(name.clone(), value.clone());
    }
    known
}

/// `prepare`, evaluating the configuration again when the plan's values
/// are not enough (see `Refine`); once per change of the state, at most.
fn prepare_known(change: &Change, state: &State, context: &mut Context<'_>) -> Result<Task, ProviderError> {
    let first = prepare(change, &change.config, state);
    if first.is_ok() {
        return first;
    }
    if context.refined.as_ref().is_none_or(|(revision, _)| *revision != context.revision) {
        context.refined = Some((context.revision, context.refine.configured(state)));
    }
    match context.refined.as_ref().and_then(|(_, all)| all.get(&change.address)) {
        Some(config) => prepare(change, config, state),
        None => first,
    }
}

/// `prepare_known`, marking a delete that another carries out.
fn prepare_task(change: &Change, state: &State, context: &mut Context<'_>) -> Result<Task, ProviderError> {
    let mut task = prepare_known(change, state, context)?;
    task.released = context.released.contains(&change.address);
    Ok(task)
}

/// The attributes to send, resolved against the state as it is now: the
/// resources this one refers to exist, so their ids are known.
fn prepare(change: &Change, config: &BTreeMap<String, Value>, state: &State) -> Result<Task, ProviderError> {
    let mut after = Attrs::new();
    for (name, value) in config {
        let Some(v) = resolve(value, state) else {
            return Err(ProviderError::Api {
                operation: format!("{} {}", change.action.verb(), change.address),
                message: format!("`{name}` is still unknown: it refers to a value the cloud has not reported"),
            });
        };
        after.insert(name.clone(), v);
    }
    let before = state.resources.get(&change.address).map(|r| r.attrs.clone()).unwrap_or_default();
    if change.action == Action::Update {
        for name in &change.ignore_changes {
            if let Some(kept) = before.get(name) {
                after.insert(name.clone(), kept.clone());
            }
        }
    }
    let old_alias =
        state.resources.get(&change.address).map_or_else(|| change.provider.clone(), |r| r.provider.clone());
    Ok(Task { change: change.clone(), after, before, token: None, released: false, old_alias })
}

async fn run(providers: &Providers, lineage: &str, task: &Task) -> Ran {
    let change = &task.change;
    let Some(provider) = providers.for_type(&change.type_name) else {
        let error = ProviderError::Unsupported(change.type_name.clone(), "nothing".into());
        return Ran { result: Err(error), old_kept: None };
    };
    let target = Target {
        type_name: &change.type_name,
        address: &change.address,
        lineage,
        since: None,
        expected_id: None,
        not_id: None,
        token: task.token.as_deref(),
        alias: &change.provider,
    };
    let id = change.id.as_deref().unwrap_or_default();
    let old = Target { alias: &task.old_alias, ..target.clone() };
    let result = match change.action {
        Action::Create => provider.create(target, &task.after).await.map(Some),
        Action::Update => provider.update(target, id, &task.before, &task.after).await.map(Some),
        Action::Replace if change.create_before_destroy => {
            let created = match provider.create(target.clone(), &task.after).await {
                Ok(created) => created,
                Err(e) => return Ran { result: Err(e), old_kept: None },
            };
            let old_kept = provider.delete(old, id, &task.before).await.err();
            return Ran { result: Ok(Some(created)), old_kept };
        }
        Action::Replace => match provider.delete(old, id, &task.before).await {
            Ok(()) => provider.create(target, &task.after).await.map(Some),
            Err(e) => Err(e),
        },
        Action::Delete if task.released => Ok(None),
        Action::Delete => provider.delete(old, id, &task.before).await.map(|()| None),
        Action::NoOp => Ok(None),
    };
    Ran { result, old_kept: None }
}

/// Where the state keeps the old resource of a replacement that could not
/// be deleted: not in the configuration, so the next plan destroys it.
#[must_use]
pub fn deposed(address: &str) -> String {
    format!("{address} (deposed)")
}

/// Resource types refreshed at once. Each is one or a few describe calls;
/// eight in flight keeps well under AWS's request rate limits.
const REFRESH_TYPES_AT_ONCE: usize = 8;

/// Refresh: read every resource of the state from the cloud. Resources
/// that are gone leave the state; the others take the attributes read.
/// Creates left pending by an interrupted run are looked up by their
/// ownership tags: found, they are adopted; not found, they never happened.
/// With the configuration at hand, attributes that cost a call per
/// resource are read only where it writes them (`Stored::wants`); a
/// resource it no longer has (or a destroy's empty one) is only checked to
/// exist. Without it, everything is read.
pub async fn refresh(providers: &Providers, state: &State, config: Option<&Config>) -> Result<State, ProviderError> {
    static NOTHING_WRITTEN: BTreeMap<String, k8sinfra_lang::Span> = BTreeMap::new();
    let mut fresh = state.clone();
    let now = unix_now();
    for (address, pending) in &state.pending {
        let Some(provider) = providers.for_type(&pending.type_name) else {
            fresh.pending.remove(address);
            continue;
        };
        let target = Target {
            type_name: &pending.type_name,
            address,
            lineage: &state.lineage,
            since: pending.since,
            expected_id: pending.id.as_deref(),
            not_id: state.resources.get(address).map(|r| r.id.as_str()),
            token: pending.token.as_deref(),
            alias: &pending.provider,
        };
        let found = provider.find(target).await?;
        // Not found, and recent: the cloud may not show it yet. The record
        // stays, so a create made again sends the same idempotency key.
        if found.is_some() || !pending.in_doubt(now) {
            fresh.pending.remove(address);
        }
        if let Some(remote) = found {
            // A replacement interrupted after its create: the old resource
            // is still in the state at this address. It goes on as deposed,
            // for the next plan to destroy, and the new one takes its place.
            if let Some(old) = fresh.resources.remove(address) {
                fresh.resources.insert(deposed(address), old);
            }
            fresh.resources.insert(
                address.clone(),
                ResourceState {
                    type_name: pending.type_name.clone(),
                    id: remote.id,
                    attrs: remote.attrs,
                    dependencies: pending.dependencies.clone(),
                    sensitive: pending.sensitive.clone(),
                    created: pending.since,
                    provider: pending.provider.clone(),
                },
            );
        }
    }
    // One batch per type (and provider configuration: a region): a
    // provider reads a type in one call if it can. Types are read side by
    // side, a few at a time, and their answers applied in type order, so
    // the result does not depend on timing.
    let state = &fresh.clone();
    let mut by_type: BTreeMap<(&str, &str), Vec<(&str, &ResourceState)>> = BTreeMap::new();
    for (address, resource) in &state.resources {
        let batch = (resource.type_name.as_str(), resource.provider.as_str());
        by_type.entry(batch).or_default().push((address.as_str(), resource));
    }
    let reads = by_type.into_iter().filter_map(|((type_name, alias), resources)| {
        let provider = providers.for_type(type_name)?;
        // Lookups are read again from the configuration (`look_up_all`).
        if providers.schema(type_name).is_some_and(|s| s.lookup) {
            return None;
        }
        Some(async move {
            let stored: Vec<Stored<'_>> = resources
                .iter()
                .map(|(address, r)| Stored {
                    target: Target {
                        type_name,
                        address,
                        lineage: &state.lineage,
                        since: None,
                        expected_id: None,
                        not_id: None,
                        token: None,
                        alias,
                    },
                    id: r.id.as_str(),
                    attrs: &r.attrs,
                    created: r.created,
                    written: config.map(|c| c.by_address(address).map_or(&NOTHING_WRITTEN, |r| &r.spans.attrs)),
                })
                .collect();
            let read = provider.read_many(type_name, &stored).await?;
            Ok::<_, ProviderError>((resources, read))
        })
    });
    let mut reads = futures_util::stream::iter(reads).buffered(REFRESH_TYPES_AT_ONCE);
    while let Some(read) = reads.next().await {
        let (resources, read) = read?;
        for ((address, _), remote) in resources.iter().zip(read) {
            match remote {
                Some(remote) => {
                    if let Some(r) = fresh.resources.get_mut(*address) {
                        r.attrs = reported_over(std::mem::take(&mut r.attrs), &remote.attrs);
                    }
                }
                None => {
                    fresh.resources.remove(*address);
                }
            }
        }
    }
    Ok(fresh)
}

#[cfg(test)]
mod tests;

mod lookup;
pub use lookup::{look_up_all, unknowable};
