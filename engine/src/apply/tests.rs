//! The walker against an in-memory provider: dependency order, the
//! parallelism bound, failures stopping only their dependents, deletes in
//! reverse order, and a state write around every change.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8sinfra_lang::{Diagnostics, Value};

use super::{apply, Event};
use crate::config::{Config, ProviderSettings};
use crate::plan::{Action, Change, Plan};
use crate::provider::{Attrs, BoxFuture, Provider, ProviderError, Providers, Remote, Target};
use crate::schema::{AttrSchema, BlockSchema, ResourceSchema};
use crate::state::{ResourceState, State};

/// Keeps resources in a map; each call takes a little while so that calls
/// overlap (those to addresses starting `slow`, longer than a result waits
/// to be saved), and addresses listed in `fail` fail.
struct Memory {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
    log: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    fail: Vec<String>,
}

/// More types than refresh reads at once.
const KINDS: [&str; 12] =
    ["kind0", "kind1", "kind2", "kind3", "kind4", "kind5", "kind6", "kind7", "kind8", "kind9", "kind10", "kind11"];

impl Memory {
    fn new(fail: &[&str]) -> Self {
        Memory {
            schemas: std::iter::once(
                ResourceSchema::new("thing", "a test resource")
                    .attr(AttrSchema::optional("name", k8sinfra_lang::Type::String)),
            )
            .chain(KINDS.iter().map(|kind| ResourceSchema::new(kind, "one of many types")))
            .collect(),
            settings: BlockSchema::new("memory", Vec::new()),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            fail: fail.iter().map(ToString::to_string).collect(),
        }
    }

    async fn call(&self, what: String, address: &str) -> Result<(), ProviderError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let takes = if address.starts_with("glacial") {
            super::STILL_EVERY * 2 + Duration::from_secs(5)
        } else if address.starts_with("slow") {
            super::SAVE_RESULTS_WITHIN * 3 / 2
        } else {
            Duration::from_millis(20)
        };
        tokio::time::sleep(takes).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let refused = self.fail.iter().any(|f| f == address || *f == what);
        self.log.lock().expect("log").push(what);
        if refused {
            return Err(ProviderError::Api { operation: "Create".into(), message: format!("{address} refused") });
        }
        Ok(())
    }
}

impl Provider for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn schemas(&self) -> &[ResourceSchema] {
        &self.schemas
    }
    fn settings(&self) -> &BlockSchema {
        &self.settings
    }
    fn check(&self, _: &Config, _: &mut Diagnostics) {}
    fn can_apply(&self, _: &str) -> bool {
        true
    }
    /// A thing whose `holder` is deleted in the same run goes with it.
    fn released_with(&self, _: &str) -> Option<&'static str> {
        Some("holder")
    }
    fn connect<'a>(&'a self, _: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
    /// Finds nothing; a read of a `wide…` address takes its while.
    fn read<'a>(&'a self, target: Target<'a>, _: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async move {
            if target.address.starts_with("wide") {
                self.call(format!("read {}", target.address), target.address).await?;
            }
            Ok(None)
        })
    }
    fn find<'a>(&'a self, _: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move {
            if let Some(token) = target.token {
                self.log.lock().expect("log").push(format!("token {} {token}", target.address));
            }
            self.call(format!("create {}", target.address), target.address).await?;
            Ok(Remote { id: format!("id-{}", target.address), attrs: attrs.clone() })
        })
    }
    fn update<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        _: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move {
            self.call(format!("update {}", target.address), target.address).await?;
            Ok(Remote { id: id.into(), attrs: after.clone() })
        })
    }
    fn delete<'a>(&'a self, target: Target<'a>, _: &'a str, _: &'a Attrs) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move { self.call(format!("delete {}", target.address), target.address).await })
    }
}

fn change(address: &str, action: Action, depends_on: &[&str]) -> Change {
    Change {
        address: address.into(),
        type_name: "thing".into(),
        action,
        id: (action != Action::Create).then(|| format!("id-{address}")),
        attrs: Vec::new(),
        config: [("name".to_string(), Value::String(address.into()))].into(),
        depends_on: depends_on.iter().map(ToString::to_string).collect(),
        sensitive: Vec::new(),
        create_before_destroy: false,
        provider: String::new(),
        rolling: None,
        ignore_changes: Vec::new(),
    }
}

struct Run {
    state: State,
    outcome: super::Outcome,
    log: Vec<String>,
    /// `token ADDRESS KEY` for each create sent with an idempotency key.
    tokens: Vec<String>,
    most_in_flight: usize,
    saves: usize,
    /// The resources each save held.
    saved: Vec<Vec<String>>,
    /// The serial each save carried.
    serials: Vec<u64>,
    events: Vec<Event>,
}

/// Records what each save held instead of writing anything.
struct Counter<'c> {
    saved: &'c mut Vec<Vec<String>>,
    serials: &'c mut Vec<u64>,
}

impl super::Persist for Counter<'_> {
    fn persist<'a>(&'a mut self, state: &'a State) -> crate::provider::BoxFuture<'a, Result<(), String>> {
        self.saved.push(state.resources.keys().cloned().collect());
        self.serials.push(state.serial);
        Box::pin(async { Ok(()) })
    }
}

fn run(changes: Vec<Change>, state: State, fail: &[&str], parallelism: usize) -> Run {
    run_interrupted(changes, state, fail, parallelism, false)
}

/// With `ctrl_c`, the interrupt is raised as the first operation starts.
fn run_interrupted(changes: Vec<Change>, state: State, fail: &[&str], parallelism: usize, ctrl_c: bool) -> Run {
    run_refined(changes, state, fail, parallelism, ctrl_c, &mut super::NoRefine)
}

fn run_refined(
    changes: Vec<Change>,
    state: State,
    fail: &[&str],
    parallelism: usize,
    ctrl_c: bool,
    refine: &mut dyn super::Refine,
) -> Run {
    let memory = Arc::new(Memory::new(fail));
    let providers = Arc::new(Providers::new(vec![Arc::clone(&memory) as Arc<dyn Provider>]));
    let plan = Plan { changes, lineage: state.lineage.clone(), serial: state.serial, ..Plan::default() };
    let mut saved = Vec::new();
    let mut serials = Vec::new();
    let mut events = Vec::new();
    let interrupt = AtomicBool::new(false);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut on_event = |e| {
        if ctrl_c && matches!(e, Event::Started { .. }) {
            interrupt.store(true, Ordering::SeqCst);
        }
        events.push(e);
    };
    let run = super::Run {
        parallelism,
        save: &mut Counter { saved: &mut saved, serials: &mut serials },
        refine,
        interrupt: &interrupt,
        on_event: &mut on_event,
    };
    let (state, outcome) = runtime.block_on(apply(&plan, providers, state, run));
    let (tokens, log) = memory.log.lock().expect("log").iter().cloned().partition(|l| l.starts_with("token "));
    let most_in_flight = memory.most_in_flight.load(Ordering::SeqCst);
    Run { state, outcome, log, tokens, most_in_flight, saves: saved.len(), saved, serials, events }
}

fn position(log: &[String], entry: &str) -> usize {
    log.iter().position(|l| l == entry).unwrap_or_else(|| panic!("{entry} not in {log:?}"))
}

#[test]
fn changes_wait_for_their_dependencies() {
    let changes = vec![
        change("a", Action::Create, &[]),
        change("b", Action::Create, &["a"]),
        change("c", Action::Create, &["b"]),
        change("d", Action::Create, &[]),
    ];
    let r = run(changes, State::new(), &[], 10);
    assert!(r.outcome.ok());
    assert!(position(&r.log, "create a") < position(&r.log, "create b"));
    assert!(position(&r.log, "create b") < position(&r.log, "create c"));
    assert_eq!(r.state.resources.len(), 4);
    assert_eq!(r.state.resources["c"].dependencies, vec!["b".to_string()]);
    // One write per wave of creates (a and d; b; c), each carrying the
    // results before it (d's with b's if it finished after a), and one at
    // the end.
    assert_eq!(r.saves, 4, "{:?}", r.saved);
    assert_eq!(r.saved[0], Vec::<String>::new());
    assert!(r.saved[1].contains(&"a".to_string()));
    assert_eq!(r.saved[2], ["a", "b", "d"]);
    assert_eq!(r.saved[3], ["a", "b", "c", "d"]);
    assert!(r.state.pending.is_empty());
}

#[test]
fn a_result_no_write_carries_is_saved_within_a_second() {
    // `a` finishes at once; nothing starts after it, and `slow` runs on.
    let changes = vec![change("a", Action::Create, &[]), change("slow", Action::Create, &[])];
    let r = run(changes, State::new(), &[], 10);
    assert!(r.outcome.ok());
    assert_eq!(r.saved, [vec![], vec!["a"], vec!["a", "slow"]]);
}

#[test]
fn every_save_carries_the_next_serial() {
    // The pending record, `a`'s result a second later, and the end.
    let changes = vec![change("a", Action::Create, &[]), change("slow", Action::Create, &[])];
    let state = State { serial: 5, ..State::new() };
    let r = run(changes, state, &[], 10);
    assert_eq!(r.serials, [6, 7, 8]);
    assert_eq!(r.state.serial, 8);
}

#[test]
fn a_change_does_not_wait_for_what_stays_or_goes() {
    let mut state = State::new();
    for address in ["kept", "gone"] {
        state.resources.insert(address.into(), existing_state(address));
    }
    let changes = vec![
        change("kept", Action::NoOp, &[]),
        change("gone", Action::Delete, &[]),
        change("new", Action::Create, &["kept", "gone"]),
    ];
    let r = run(changes, state, &[], 10);
    assert!(r.outcome.ok(), "{:?}", r.outcome);
    assert!(position(&r.log, "create new") < position(&r.log, "delete gone"), "{:?}", r.log);
}

#[test]
fn an_update_keeps_what_ignore_changes_names() {
    let mut state = State::new();
    let mut old = existing_state("x");
    old.attrs.insert("name".into(), serde_json::json!("set by hand"));
    state.resources.insert("x".into(), old);
    let mut update = change("x", Action::Update, &[]);
    update.ignore_changes = vec!["name".into()];
    let r = run(vec![update], state, &[], 10);
    assert!(r.outcome.ok());
    assert_eq!(r.state.resources["x"].attrs["name"], "set by hand");
}

/// Gives every change a `name` listing what the state holds when asked,
/// and counts how often it was asked.
struct Lister(usize);

impl super::Refine for Lister {
    fn configured(&mut self, state: &State) -> super::Configured {
        self.0 += 1;
        let held: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        let name = Value::String(held.join(","));
        ["a", "slow", "c"].iter().map(|a| ((*a).to_string(), [("name".to_string(), name.clone())].into())).collect()
    }
}

#[test]
fn values_known_only_after_apply_are_evaluated_again_once_per_change_of_the_state() {
    // `b` and `c` are planned with a value known only after apply; `slow`
    // starts beside `a` (and runs long), `c` after `a`.
    let unknown = |address: &str, depends_on: &[&str]| {
        let mut c = change(address, Action::Create, depends_on);
        c.config = [("name".to_string(), Value::Unknown(k8sinfra_lang::Type::String))].into();
        c
    };
    let changes = vec![change("a", Action::Create, &[]), unknown("slow", &[]), unknown("c", &["a"])];
    let mut lister = Lister(0);
    let r = run_refined(changes, State::new(), &[], 10, false, &mut lister);
    assert!(r.outcome.ok(), "{:?}", r.outcome);
    assert_eq!(r.state.resources["slow"].attrs["name"], "", "evaluated before anything was made");
    assert_eq!(r.state.resources["c"].attrs["name"], "a", "evaluated again once `a` was made");
    assert_eq!(lister.0, 2);
}

#[test]
fn no_more_than_parallelism_operations_run_at_once() {
    let changes: Vec<Change> = (0..12).map(|i| change(&format!("t{i:02}"), Action::Create, &[])).collect();
    let r = run(changes, State::new(), &[], 3);
    assert!(r.outcome.ok());
    assert_eq!(r.most_in_flight, 3, "twelve independent creates, three at a time");
    let r = run((0..6).map(|i| change(&format!("u{i}"), Action::Create, &[])).collect(), State::new(), &[], 1);
    assert_eq!(r.most_in_flight, 1);
}

#[test]
fn a_failure_stops_its_dependents_and_nothing_else() {
    let changes = vec![
        change("a", Action::Create, &[]),
        change("b", Action::Create, &["a"]),
        change("c", Action::Create, &["b"]),
        change("d", Action::Create, &[]),
        change("e", Action::Create, &["c", "d"]),
    ];
    let r = run(changes, State::new(), &["b"], 10);
    assert_eq!(r.outcome.failed.len(), 1);
    assert_eq!(r.outcome.failed[0].0, "b");
    let mut skipped = r.outcome.skipped.clone();
    skipped.sort();
    assert_eq!(skipped, vec!["c".to_string(), "e".to_string()]);
    assert!(r.state.resources.contains_key("a") && r.state.resources.contains_key("d"));
    assert!(!r.state.resources.contains_key("b"));
    // A failed create may have made something (an answer lost, a later
    // call of several refused): it stays pending for the next refresh to
    // adopt by its tags or drop. Nothing else does.
    assert_eq!(r.state.pending.keys().collect::<Vec<_>>(), ["b"]);
    let refresh = |state: &State| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(super::refresh(&Providers::new(vec![Arc::new(Memory::new(&[]))]), state, None))
            .expect("refreshed")
    };
    // Not found moments after: the cloud may not show it yet. The record
    // stays, and the create made again sends the key the first one sent.
    let refreshed = refresh(&r.state);
    assert!(!refreshed.resources.contains_key("b"));
    let token = r.state.pending["b"].token.clone().expect("a key");
    assert_eq!(refreshed.pending["b"].token.as_ref(), Some(&token));
    assert!(r.tokens.contains(&format!("token b {token}")), "the failed create sent it: {:?}", r.tokens);
    let again = run(vec![change("b", Action::Create, &[])], refreshed.clone(), &[], 10);
    assert!(again.outcome.ok() && again.state.pending.is_empty());
    assert_eq!((again.log, again.tokens), (vec!["create b".to_string()], vec![format!("token b {token}")]));
    assert!(again.state.resources["b"].created.is_some());
    // Out of doubt once the window has passed: dropped, and a new create
    // gets a key of its own.
    let mut old = refreshed;
    old.pending.get_mut("b").expect("b").since = Some(crate::state::unix_now() - crate::state::IN_DOUBT_SECS);
    let dropped = refresh(&old);
    assert!(dropped.pending.is_empty() && !dropped.resources.contains_key("b"), "nothing found, dropped");
    let fresh = run(vec![change("b", Action::Create, &[])], dropped, &[], 10);
    assert_eq!(fresh.tokens.len(), 1);
    assert!(!fresh.tokens.contains(&format!("token b {token}")), "{:?}", fresh.tokens);
    assert!(!r.log.iter().any(|l| l == "create c" || l == "create e"), "dependents never start");
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, Event::Skipped { address, because } if address == "c" && because == "b")));
}

#[test]
fn deletes_run_dependents_first() {
    let mut state = State::new();
    for (address, deps) in [("vpc", vec![]), ("subnet", vec!["vpc"]), ("instance", vec!["subnet"])] {
        let mut made = existing_state(address);
        made.dependencies = deps.into_iter().map(String::from).collect();
        state.resources.insert(address.into(), made);
    }
    let changes = vec![
        change("vpc", Action::Delete, &[]),
        change("subnet", Action::Delete, &["vpc"]),
        change("instance", Action::Delete, &["subnet"]),
    ];
    let r = run(changes, state, &[], 10);
    assert!(r.outcome.ok());
    assert_eq!(r.log, vec!["delete instance", "delete subnet", "delete vpc"]);
    assert!(r.state.resources.is_empty());
}

#[test]
fn replace_deletes_then_creates_and_updates_keep_the_id() {
    let mut state = State::new();
    for address in ["old", "tweak"] {
        let mut made = existing_state(address);
        made.created = Some(1_000);
        state.resources.insert(address.into(), made);
    }
    let r = run(vec![change("old", Action::Replace, &[]), change("tweak", Action::Update, &[])], state, &[], 10);
    assert!(r.outcome.ok());
    assert!(position(&r.log, "delete old") < position(&r.log, "create old"));
    assert_eq!(r.state.resources["tweak"].id, "id-tweak");
    assert_eq!(r.state.resources["old"].attrs["name"], serde_json::json!("old"));
    // An update keeps when the resource was made; a replacement is new.
    assert_eq!(r.state.resources["tweak"].created, Some(1_000));
    assert!(r.state.resources["old"].created.is_some_and(|t| t > 1_000));
}

/// A run is fine only with nothing failed, skipped, unsaved or
/// interrupted: each alone makes it not.
#[test]
fn an_outcome_is_ok_only_when_nothing_went_wrong() {
    assert!(super::Outcome::default().ok());
    let failed =
        super::Outcome { failed: vec![("a".into(), ProviderError::Setup("no".into()))], ..super::Outcome::default() };
    let skipped = super::Outcome { skipped: vec!["a".into()], ..super::Outcome::default() };
    let unsaved = super::Outcome { state_error: Some("disk full".into()), ..super::Outcome::default() };
    let interrupted = super::Outcome { interrupted: true, ..super::Outcome::default() };
    for outcome in [failed, skipped, unsaved, interrupted] {
        assert!(!outcome.ok(), "{outcome:?}");
    }
}

#[test]
fn a_deposed_resource_keeps_its_address_with_a_mark() {
    assert_eq!(super::deposed("instance.web[0]"), "instance.web[0] (deposed)");
}

#[test]
fn ctrl_c_lets_what_runs_finish_and_starts_nothing_more() {
    let changes = vec![
        change("a", Action::Create, &[]),
        change("b", Action::Create, &["a"]),
        change("c", Action::Create, &["b"]),
        change("old", Action::Delete, &[]),
    ];
    let r = run_interrupted(changes, State::new(), &[], 10, true);
    assert!(r.outcome.interrupted && !r.outcome.ok());
    assert_eq!(r.log, vec!["create a".to_string()], "only what had started ran");
    assert!(r.state.resources.contains_key("a"), "and it is in the state");
    assert!(r.state.pending.is_empty(), "nothing left in doubt");
    assert!(r.outcome.skipped.contains(&"b".to_string()) && r.outcome.skipped.contains(&"old".to_string()));
}

#[test]
fn create_before_destroy_creates_first_and_keeps_an_old_one_it_cannot_delete() {
    let existing = |address: &str| {
        let mut state = State::new();
        let mut old = existing_state(address);
        old.id = format!("old-{address}");
        state.resources.insert(address.into(), old);
        state
    };
    let mut replace = change("x", Action::Replace, &[]);
    replace.create_before_destroy = true;
    let r = run(vec![replace.clone()], existing("x"), &[], 10);
    assert!(r.outcome.ok());
    assert!(position(&r.log, "create x") < position(&r.log, "delete x"), "{:?}", r.log);

    // The old one refuses to go: the new one is recorded, the old one kept
    // under a deposed address for the next plan to destroy.
    let r = run(vec![replace], existing("x"), &["delete x"], 10);
    assert_eq!(r.outcome.failed.len(), 1);
    assert_eq!(r.state.resources["x"].id, "id-x", "the new one");
    assert_eq!(r.state.resources[&super::deposed("x")].id, "old-x", "the old one, not forgotten");
}

#[test]
fn a_rolling_group_is_replaced_a_batch_at_a_time_in_key_order() {
    use crate::config::Rolling;
    use crate::plan::RollingGroup;
    let member = |i: usize, settings: Rolling| {
        let mut c = change(&format!("nodes[{i}]"), Action::Replace, &[]);
        c.create_before_destroy = settings.max_surge > 0;
        c.rolling = Some(RollingGroup { group: "nodes".into(), settings });
        c
    };
    let at = |log: &[String], what: &str, i: usize| position(log, &format!("{what} nodes[{i}]"));

    // Surge 1: each new member is up and its old one gone before the next
    // starts, even with room for eleven at once; `nodes[10]` comes last.
    let surge = Rolling { max_surge: 1, max_unavailable: 0 };
    let r = run((0..11).map(|i| member(i, surge)).collect(), State::new(), &[], 20);
    assert!(r.outcome.ok());
    assert_eq!(r.most_in_flight, 1, "{:?}", r.log);
    for i in 0..10 {
        assert!(at(&r.log, "create", i) < at(&r.log, "delete", i), "{:?}", r.log);
        assert!(at(&r.log, "delete", i) < at(&r.log, "create", i + 1), "{:?}", r.log);
    }

    // Two unavailable at a time: old ones go first, two by two.
    let unavailable = Rolling { max_surge: 0, max_unavailable: 2 };
    let r = run((0..4).map(|i| member(i, unavailable)).collect(), State::new(), &[], 20);
    assert!(r.outcome.ok());
    assert_eq!(r.most_in_flight, 2, "{:?}", r.log);
    assert!(at(&r.log, "delete", 0) < at(&r.log, "create", 0));
    assert!(at(&r.log, "create", 0) < at(&r.log, "delete", 2) && at(&r.log, "create", 1) < at(&r.log, "delete", 3));

    // A failure stops the roll: the rest keep their old members.
    let r = run((0..3).map(|i| member(i, surge)).collect(), State::new(), &["create nodes[1]"], 20);
    assert_eq!(r.outcome.failed.len(), 1);
    assert_eq!(r.outcome.skipped, vec!["nodes[2]".to_string()]);
}

#[test]
fn what_runs_long_is_reported_as_still_running() {
    // A delete waiting out AWS's DependencyViolation for over a minute: the
    // caller hears it is still going every STILL_EVERY, and nothing else.
    let memory = Arc::new(Memory::new(&[]));
    let providers = Arc::new(Providers::new(vec![Arc::clone(&memory) as Arc<dyn Provider>]));
    let mut state = State::new();
    state.resources.insert("glacial".into(), existing_state("glacial"));
    let changes = vec![change("glacial", Action::Delete, &[]), change("quick", Action::Create, &[])];
    let plan = Plan { changes, lineage: state.lineage.clone(), serial: 0, ..Plan::default() };
    let mut saved = Vec::new();
    let mut serials = Vec::new();
    let mut events = Vec::new();
    let interrupt = AtomicBool::new(false);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().expect("rt");
    let run = super::Run {
        parallelism: 10,
        save: &mut Counter { saved: &mut saved, serials: &mut serials },
        refine: &mut super::NoRefine,
        interrupt: &interrupt,
        on_event: &mut |e| events.push(e),
    };
    let (_, outcome) = runtime.block_on(apply(&plan, providers, state, run));
    assert!(outcome.ok());
    let still: Vec<(String, u64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Still { address, elapsed, .. } => Some((address.clone(), elapsed.as_secs())),
            _ => None,
        })
        .collect();
    assert_eq!(still, [("glacial".to_string(), 30), ("glacial".to_string(), 60)]);
}

#[test]
fn the_delete_of_its_holder_carries_out_is_forgotten_not_deleted() {
    // An attachment and its instance, both destroyed: terminating the
    // instance ends the attachment, so no detach is sent (a volume a
    // running host has mounted can stay busy for good). Alone, the
    // attachment is deleted as any resource.
    let thing = |id: &str, holder: Option<&str>| ResourceState {
        id: id.into(),
        attrs: holder.map(|h| [("holder".to_string(), serde_json::json!(h))].into()).unwrap_or_default(),
        ..existing_state(id)
    };
    let mut state = State::new();
    state.resources.insert("host".into(), thing("id-host", None));
    state.resources.insert("attach".into(), thing("id-attach", Some("id-host")));
    let both = vec![change("attach", Action::Delete, &[]), change("host", Action::Delete, &[])];
    let r = run(both, state.clone(), &[], 10);
    assert!(r.outcome.ok());
    assert_eq!(r.log, ["delete host"], "the attachment goes with its host");
    assert!(r.state.resources.is_empty(), "and leaves the state");
    let alone = run(vec![change("attach", Action::Delete, &[])], state, &[], 10);
    assert_eq!(alone.log, ["delete attach"]);
}

/// A `thing` as an earlier apply left it.
fn existing_state(address: &str) -> ResourceState {
    ResourceState {
        type_name: "thing".into(),
        id: format!("id-{address}"),
        attrs: BTreeMap::new(),
        dependencies: vec![],
        sensitive: Default::default(),
        created: None,
        provider: String::new(),
    }
}

/// apply.md, step 3: refresh reads types side by side, eight at most at
/// once (12 types of one resource each: two rounds, never nine).
#[tokio::test(start_paused = true)]
async fn refresh_reads_eight_types_at_once() {
    let memory = Arc::new(Memory::new(&[]));
    let mut state = State::new();
    for (i, kind) in KINDS.iter().enumerate() {
        let resource = crate::testkit::recorded(kind, &format!("id-{i}"), serde_json::json!({}));
        state.resources.insert(format!("wide{i}"), resource);
    }
    let providers = Providers::new(vec![Arc::clone(&memory) as Arc<dyn Provider>]);
    super::refresh(&providers, &state, None).await.expect("refreshed");
    let reads = memory.log.lock().expect("log").iter().filter(|l| l.starts_with("read wide")).count();
    assert_eq!(reads, 12, "every type read");
    assert_eq!(memory.most_in_flight.load(Ordering::SeqCst), 8);
}
