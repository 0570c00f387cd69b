//! What saving the state after every change costs an apply: the same plan
//! of independent creates, carried out against a provider that answers at
//! once, saved (a) nowhere and (b) to the local backend (write, fsync,
//! rename, backup). The difference is the price of crash safety.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8sinfra_engine::apply::{apply, NoRefine, Persist, Run};
use k8sinfra_engine::config::{Config, ProviderSettings};
use k8sinfra_engine::plan::{Action, Change, Plan};
use k8sinfra_engine::provider::{Attrs, BoxFuture, ProviderError, Remote, Target};
use k8sinfra_engine::schema::{AttrSchema, BlockSchema, ResourceSchema};
use k8sinfra_engine::state::{Backend, LocalBackend, State};
use k8sinfra_engine::{Provider, Providers};
use k8sinfra_lang::Diagnostics;

/// A provider whose every call succeeds at once.
struct Immediate {
    schemas: Vec<ResourceSchema>,
    settings: BlockSchema,
}

impl Provider for Immediate {
    fn name(&self) -> &'static str {
        "instant"
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
    fn connect<'a>(&'a self, _: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
    fn read<'a>(&'a self, _: Target<'a>, _: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
    fn find<'a>(&'a self, _: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }
    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move { Ok(Remote { id: format!("id-{}", target.address), attrs: attrs.clone() }) })
    }
    fn update<'a>(
        &'a self,
        target: Target<'a>,
        _: &'a str,
        _: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        Box::pin(async move { Ok(Remote { id: format!("id-{}", target.address), attrs: after.clone() }) })
    }
    fn delete<'a>(&'a self, _: Target<'a>, _: &'a str, _: &'a Attrs) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Counts saves, writes nothing.
struct Nowhere(usize);

impl Persist for Nowhere {
    fn persist<'a>(&'a mut self, _: &'a State) -> BoxFuture<'a, Result<(), String>> {
        self.0 += 1;
        Box::pin(async { Ok(()) })
    }
}

/// Counts saves and writes them through a backend.
struct Counted<'b>(&'b dyn Backend, usize);

impl Persist for Counted<'_> {
    fn persist<'a>(&'a mut self, state: &'a State) -> BoxFuture<'a, Result<(), String>> {
        self.1 += 1;
        Box::pin(async move { self.0.save(state).await.map_err(|e| e.to_string()) })
    }
}

fn plan(creates: usize) -> Plan {
    let config = |i: usize| [("name".to_string(), k8sinfra_lang::Value::String(format!("thing-{i}")))].into();
    Plan {
        changes: (0..creates)
            .map(|i| Change {
                address: format!("thing.t{i:05}"),
                type_name: "thing".into(),
                action: Action::Create,
                id: None,
                attrs: Vec::new(),
                config: config(i),
                depends_on: Vec::new(),
                sensitive: Vec::new(),
                create_before_destroy: false,
                rolling: None,
                ignore_changes: Vec::new(),
                provider: String::new(),
            })
            .collect(),
        ..Plan::default()
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[allow(clippy::print_stdout)]
pub fn measure(creates: usize, runs: usize) {
    let provider = Immediate {
        schemas: vec![ResourceSchema::new("thing", "a resource that costs nothing")
            .attr(AttrSchema::optional("name", k8sinfra_lang::Type::String))],
        settings: BlockSchema::new("instant", Vec::new()),
    };
    let providers = Arc::new(Providers::new(vec![Arc::new(provider)]));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let plan = plan(creates);
    let (mut bare, mut saved, mut saves) = (Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let interrupt = AtomicBool::new(false);
        let mut events = |_| {};
        let mut nowhere = Nowhere(0);
        let t = Instant::now();
        let run = Run {
            parallelism: 10,
            save: &mut nowhere,
            refine: &mut NoRefine,
            interrupt: &interrupt,
            on_event: &mut events,
        };
        let (state, outcome) = runtime.block_on(apply(&plan, Arc::clone(&providers), State::new(), run));
        bare.push(t.elapsed());
        assert!(outcome.ok() && state.resources.len() == creates);

        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::beside(dir.path());
        let start = runtime.block_on(backend.load()).expect("empty state");
        let mut counted = Counted(&backend, 0);
        let t = Instant::now();
        let run = Run {
            parallelism: 10,
            save: &mut counted,
            refine: &mut NoRefine,
            interrupt: &interrupt,
            on_event: &mut events,
        };
        let (state, outcome) = runtime.block_on(apply(&plan, Arc::clone(&providers), start, run));
        saved.push(t.elapsed());
        assert!(outcome.ok() && state.resources.len() == creates);
        saves = counted.1;
    }
    let (bare, saved) = (median(bare), median(saved));
    println!(
        "apply of {creates} creates, parallelism 10: state saved nowhere {bare:>8.1?}, to the local backend {saved:>8.1?} \
         ({saves} saves, {:.2} ms each) median of {runs}",
        saved.saturating_sub(bare).as_secs_f64() * 1000.0 / saves.max(1) as f64
    );
}
