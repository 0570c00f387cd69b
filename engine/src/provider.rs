//! The contract between the engine and a cloud provider, and the registry
//! of providers a run uses. Today a provider declares schemas and static
//! checks; reading and changing the cloud join this trait with `plan`/`apply`.

use k8sinfra_lang::Diagnostics;

use crate::config::Config;
use crate::schema::{BlockSchema, ResourceSchema};

pub trait Provider: Send + Sync {
    /// The name of its settings block (`aws { region = "…" }`).
    fn name(&self) -> &'static str;
    /// The resource types it manages.
    fn schemas(&self) -> &[ResourceSchema];
    /// The settings its block accepts.
    fn settings(&self) -> &BlockSchema;
    /// Checks that need the provider's knowledge (networks, zones), run on
    /// a configuration that passed the generic checks.
    fn check(&self, config: &Config, diags: &mut Diagnostics);
}

/// Every provider of a run, and which one owns each resource type.
#[derive(Default)]
pub struct Providers {
    providers: Vec<Box<dyn Provider>>,
}

impl Providers {
    #[must_use]
    pub fn new(providers: Vec<Box<dyn Provider>>) -> Self {
        Providers { providers }
    }

    #[must_use]
    pub fn schema(&self, type_name: &str) -> Option<&ResourceSchema> {
        self.providers.iter().flat_map(|p| p.schemas()).find(|s| s.type_name == type_name)
    }

    #[must_use]
    pub fn type_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.providers.iter().flat_map(|p| p.schemas()).map(|s| s.type_name).collect();
        names.sort_unstable();
        names
    }

    #[must_use]
    pub fn provider(&self, name: &str) -> Option<&dyn Provider> {
        self.providers.iter().find(|p| p.name() == name).map(AsRef::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Provider> {
        self.providers.iter().map(AsRef::as_ref)
    }
}
