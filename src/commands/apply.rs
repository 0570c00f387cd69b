//! `k8sinfra apply` and `k8sinfra destroy`: plan, show the plan, ask, and
//! carry it out, saving the state after every change.

use std::io::{BufRead as _, IsTerminal as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use k8sinfra_engine::apply::{apply, Configured, Event, Refine, Run};
use k8sinfra_engine::plan::{configured, Plan};
use k8sinfra_engine::provider::Providers;
use k8sinfra_engine::render::plan_text;
use k8sinfra_engine::state::{Backend, State};

use super::backend::Locking;
use super::session::{self, report, Session};
use crate::cli::ApplyArgs;
use crate::progress::Progress;
use crate::report::Output;
use k8sinfra_lang::Diag;

use crate::refusal::Refusal;

pub fn run(args: &ApplyArgs, out: &Output, destroying: bool) -> bool {
    let saved = if !destroying && is_plan_file(&args.config.dir) {
        let Some(plan) = super::show::read(&args.config.dir, out) else { return false };
        Some(plan)
    } else {
        None
    };
    let mut config = args.config.clone();
    if let Some(dir) = saved.as_ref().and_then(|p| p.configuration.clone()) {
        config.dir = dir.into();
    }
    let Some(session) = session::open(&config, out, destroying) else { return false };
    let verb = if destroying { "destroy" } else { "apply" };
    let locking = Locking { enabled: args.lock.enabled, timeout: args.lock.timeout };
    session.locked(verb, locking, out, || locked(&session, args, out, destroying, saved.as_ref())).unwrap_or(false)
}

/// `apply FILE` names a saved plan: a file that is not a configuration.
fn is_plan_file(path: &std::path::Path) -> bool {
    path.is_file() && path.extension().is_none_or(|e| e != "k8sinfra")
}

fn locked(session: &Session, args: &ApplyArgs, out: &Output, destroying: bool, saved: Option<&Plan>) -> bool {
    let verb = if destroying { "destroy" } else { "apply" };
    let save = |state: &State| session.runtime.block_on(session.backend.save(state));
    let Some(mut stored) = session.load_state(out) else { return false };
    if let Some(saved) = saved {
        // No state then and none now: the state about to be written takes
        // the plan's lineage (a new empty state gets a fresh one each read).
        if saved.serial == 0 && stored.serial == 0 && stored.resources.is_empty() {
            stored.lineage.clone_from(&saved.lineage);
        }
        if saved.lineage != stored.lineage || saved.serial != stored.serial {
            let why = format!(
                "it was made against state serial {} of lineage {}, and the state is now serial {} of lineage {}",
                saved.serial, saved.lineage, stored.serial, stored.lineage
            );
            out.error(Diag::global(Refusal::StalePlan { why }));
            return false;
        }
    }
    // A saved plan is applied under the request it was made with.
    let request = saved.map_or_else(|| args.request.to_request(), |p| p.request.clone());
    if !session.check_request(&request, &stored, args.refresh, verb, out) {
        return false;
    }
    let (mut state, plan) = match session.runtime.block_on(session.plan(&stored, args.refresh, destroying, &request)) {
        Ok(p) => p,
        Err(e) => {
            report(e, out);
            return false;
        }
    };
    if let Some(saved) = saved {
        // The saved plan holds no configured values (they may be secret):
        // planning again must give exactly its changes, or the cloud, the
        // configuration or the inputs moved since.
        if !plan.same_changes(saved) {
            let why = "planning again now gives different changes (the cloud, the configuration or the inputs \
                       changed since it was saved)"
                .into();
            out.error(Diag::global(Refusal::StalePlan { why }));
            return false;
        }
    }
    if !destroying && !session.verified(&plan, out) {
        out.stderr("nothing was changed.\n");
        return false;
    }
    if out.json {
        out.result(serde_json::json!({ "plan": super::plan::plan_document(&plan), "applied": false }));
    }
    out.stdout(plan_text(&plan, out.color).trim_end());
    if !session.allowed(&plan, out) {
        out.stderr("nothing was changed.\n");
        return false;
    }
    if !plan.has_changes() {
        // Refresh may still have learnt something (a resource gone, an
        // interrupted create adopted): keep it. With `--refresh-only` that
        // is the point, and what is taken was shown: ask first.
        // So are the other stacks' outputs, when they moved: the plan
        // reports a change once, not at every plan after.
        let upstream_moved = !plan.upstream.is_empty();
        let learnt = state.resources != stored.resources || state.pending != stored.pending || upstream_moved;
        let asked = plan.request.refresh_only && !plan.drift.is_empty();
        if learnt && asked && saved.is_none() && !args.auto_approve && !confirm("apply", out) {
            out.error(Diag::global(Refusal::Cancelled { what: "refresh".into() }));
            return false;
        }
        if learnt {
            if upstream_moved {
                state.upstream = k8sinfra_engine::plan::upstream_recorded(&session.loaded.inputs.stacks);
            }
            state.serial = stored.serial + 1;
            if let Err(e) = save(&state) {
                let help = "nothing in the cloud was changed; the next plan refreshes again".into();
                out.error(Diag::global(Refusal::NotSaved { reason: e.to_string(), help }));
                return false;
            }
        }
        return true;
    }
    // A saved plan was reviewed when it was made.
    if saved.is_none() && !args.auto_approve && !confirm(verb, out) {
        out.error(Diag::global(Refusal::Cancelled { what: verb.into() }));
        return false;
    }
    let mut sink: &dyn Backend = session.backend.as_ref();
    let mut progress = Progress::new(out);
    let mut on_event = |event: Event| progress.event(event);
    let interrupt = Arc::new(AtomicBool::new(false));
    let watcher = session.runtime.spawn(watch_ctrl_c(Arc::clone(&interrupt)));
    let mut refine = Reevaluate { loaded: &session.loaded, providers: &session.providers };
    let run = Run {
        parallelism: args.parallelism,
        save: &mut sink,
        refine: &mut refine,
        interrupt: &interrupt,
        on_event: &mut on_event,
    };
    let (mut state, outcome) = session.runtime.block_on(apply(&plan, Arc::clone(&session.providers), state, run));
    watcher.abort();
    if out.json {
        let failed: serde_json::Map<String, serde_json::Value> =
            outcome.failed.iter().map(|(a, e)| (a.clone(), serde_json::Value::String(e.to_string()))).collect();
        out.result(serde_json::json!({
            "plan": super::plan::plan_document(&plan),
            "applied": outcome.ok() && outcome.state_error.is_none(),
            "done": outcome.done.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            "failed": failed,
            "skipped": outcome.skipped,
            "interrupted": outcome.interrupted,
            "state_error": outcome.state_error.as_ref().map(ToString::to_string),
        }));
    }
    if outcome.state_error.is_none() {
        record_outputs(session, &mut state, destroying);
        if let Err(e) = save(&state) {
            out.stderr(&format!("the outputs could not be saved: {e}\n"));
        }
    }
    if let Some(e) = &outcome.state_error {
        let help = "the run stopped; what finished before is in the state".into();
        out.error(Diag::global(Refusal::NotSaved { reason: e.to_string(), help }));
        return false;
    }
    if outcome.ok() {
        let done = if destroying { "Destroy" } else { "Apply" };
        let c = plan.counts();
        out.stderr(&format!(
            "\n{done} complete. Resources: {} added, {} changed, {} replaced, {} destroyed.\n",
            c.add, c.change, c.replace, c.destroy
        ));
        true
    } else if outcome.interrupted && outcome.failed.is_empty() {
        out.stderr(&format!(
            "\n{verb} interrupted: {} done (in the state), {} not started. Run it again to finish.\n",
            outcome.done.len(),
            outcome.skipped.len()
        ));
        false
    } else {
        out.stderr(&format!(
            "\n{} failed: {} failed, {} skipped, {} done (in the state).\n",
            verb,
            outcome.failed.len(),
            outcome.skipped.len(),
            outcome.done.len()
        ));
        for (address, error) in &outcome.failed {
            out.stderr(&format!("  {address}: {error}\n"));
        }
        false
    }
}

/// The configuration evaluated again with what the state holds, for
/// changes whose values were unknown at plan time (a record pointing at a
/// load balancer's DNS name). Errors cannot appear here that the first
/// evaluation did not report; if they do, the change keeps its planned
/// values and reports them as still unknown.
struct Reevaluate<'a> {
    loaded: &'a super::Loaded,
    providers: &'a Providers,
}

impl Refine for Reevaluate<'_> {
    fn configured(&mut self, state: &State) -> Configured {
        self.loaded.evaluate(state, self.providers).map(|c| configured(&c, self.providers)).unwrap_or_default()
    }
}

/// Evaluate the outputs with what the cloud reported and keep them in the
/// state, for `k8sinfra output`. A value still unknown is kept as null.
fn record_outputs(session: &Session, state: &mut State, destroying: bool) {
    state.serial += 1;
    state.outputs.clear();
    state.upstream.clear();
    if destroying {
        return;
    }
    state.upstream = k8sinfra_engine::plan::upstream_recorded(&session.loaded.inputs.stacks);
    let Some(config) = session.loaded.evaluate(&*state, &session.providers) else { return };
    for (name, output) in &config.outputs {
        let value = k8sinfra_engine::plan::resolve(&output.value, state).unwrap_or(serde_json::Value::Null);
        state.outputs.insert(name.clone(), serde_json::json!({ "value": value, "sensitive": output.sensitive }));
    }
}

/// Ask for `yes` on the terminal; anything else (or no terminal) is no.
fn confirm(verb: &str, out: &Output) -> bool {
    if !std::io::stdin().is_terminal() {
        out.error(Diag::global(Refusal::NoTerminal { verb: verb.into() }));
        return false;
    }
    out.stderr(&format!("\nDo you want to {verb}? Only 'yes' will be accepted: "));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim() == "yes"
}

/// First Ctrl-C: start nothing new; what is in flight finishes and is
/// saved, and the lock is released. Second: stop at once (everything that
/// finished is in the state; creates in flight are recorded as pending and
/// adopted by the next run).
async fn watch_ctrl_c(interrupt: Arc<AtomicBool>) {
    let first = || {
        interrupt.store(true, Ordering::SeqCst);
        say("\nInterrupted: starting nothing new; what is in flight finishes and is saved. Ctrl-C again stops at once.\n");
    };
    // One listener for both presses: a second Ctrl-C that comes while the
    // first is being acknowledged is not lost (a new `ctrl_c()` future
    // sees only the signals after it is first polled).
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut presses) = signal(SignalKind::interrupt()) else { return };
        if presses.recv().await.is_none() {
            return;
        }
        first();
        if presses.recv().await.is_none() {
            return;
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        first();
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
    }
    say("\nStopped. What finished is in the state; creates in flight are recorded and adopted by the next run.\n");
    std::process::exit(130);
}

/// A line on stderr from the signal task, which has no `Output`.
fn say(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
