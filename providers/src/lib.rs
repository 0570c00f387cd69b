//! Cloud providers for k8sinfra. Each declares its resource schemas and
//! the checks that need its knowledge; the AWS SDK calls that read and
//! change the cloud arrive here with `plan` and `apply`.

pub mod aws;

use k8sinfra_engine::Providers;

/// Every provider this build knows.
#[must_use]
pub fn all() -> Providers {
    Providers::new(vec![std::sync::Arc::new(aws::Aws::new())])
}
