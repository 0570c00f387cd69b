//! Cloud providers for k8sinfra. Each declares its resource schemas, runs
//! the checks that need its knowledge, and reads, creates, changes and
//! deletes resources through its cloud's SDK.

pub mod aws;
pub mod local;

use k8sinfra_engine::Providers;

/// Every provider this build knows.
#[must_use]
pub fn all() -> Providers {
    Providers::new(vec![std::sync::Arc::new(aws::Aws::new()), std::sync::Arc::new(local::Local::new())])
}
