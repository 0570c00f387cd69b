//! Counting the AWS calls a run makes: per resource type and operation,
//! how many, how many attempts, and how long they took. An SDK interceptor
//! on every client records them; the provider names the resource type a
//! call is made for (`for_type`), so a refresh or an apply can be read as
//! "instance: DescribeInstances ×1". `k8sinfra --call-stats` prints the
//! table; the benchmarks read it to count calls per type.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// One row of the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// Calls made (one per operation sent, however many attempts).
    pub calls: u32,
    /// HTTP attempts: `calls` plus the SDK's retries.
    pub attempts: u32,
    /// Time from sending to the final answer, summed over calls.
    pub time: Duration,
}

/// What was called for whom: (resource type or "state", operation).
pub type Table = BTreeMap<(String, String), Calls>;

static TABLE: Mutex<Table> = Mutex::new(BTreeMap::new());

tokio::task_local! {
    static FOR_TYPE: &'static str;
}

/// Run `work` with its AWS calls counted under `type_name`.
pub async fn for_type<F: Future>(type_name: &str, work: F) -> F::Output {
    FOR_TYPE.scope(label(type_name), work).await
}

/// The resource types are a fixed set, named by the schemas; labels are
/// kept as `'static` so the task-local costs no allocation per call.
fn label(type_name: &str) -> &'static str {
    static LABELS: Mutex<BTreeMap<String, &'static str>> = Mutex::new(BTreeMap::new());
    let mut labels = LABELS.lock().unwrap_or_else(PoisonError::into_inner);
    labels.entry(type_name.to_string()).or_insert_with(|| Box::leak(type_name.to_string().into_boxed_str()))
}

/// Everything counted so far in this process.
#[must_use]
pub fn table() -> Table {
    TABLE.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Render the table for people: one line per type and operation, then
/// the totals.
#[must_use]
pub fn render(table: &Table) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("AWS calls (type, operation, calls, attempts, time):\n");
    let (mut calls, mut attempts, mut time) = (0, 0, Duration::ZERO);
    for ((type_name, operation), row) in table {
        let _ = writeln!(
            text,
            "  {type_name:<20} {operation:<34} {:>5} {:>5} {:>8.1} ms",
            row.calls,
            row.attempts,
            row.time.as_secs_f64() * 1000.0
        );
        calls += row.calls;
        attempts += row.attempts;
        time += row.time;
    }
    let _ = writeln!(text, "  {:<55} {calls:>5} {attempts:>5} {:>8.1} ms", "total", time.as_secs_f64() * 1000.0);
    text
}

/// When the call started, kept in the call's own configuration bag.
#[derive(Debug, Clone)]
struct Started(Instant, &'static str);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// The interceptor every client carries.
#[derive(Debug)]
pub(super) struct Counter;

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "k8sinfra::calls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Calls made outside any resource's work are the state backend's.
        let for_type = FOR_TYPE.try_with(|t| *t).unwrap_or("state");
        cfg.interceptor_state().store_put(Started(Instant::now(), for_type));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        record(cfg, |row| row.attempts += 1);
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let elapsed = cfg.load::<Started>().map(|s| s.0.elapsed()).unwrap_or_default();
        record(cfg, |row| {
            row.calls += 1;
            row.time += elapsed;
        });
        Ok(())
    }
}

fn record(cfg: &ConfigBag, update: impl FnOnce(&mut Calls)) {
    let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name).to_string();
    let for_type = cfg.load::<Started>().map_or("state", |s| s.1).to_string();
    let mut table = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    update(table.entry((for_type, operation)).or_default());
}
