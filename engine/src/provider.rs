//! The contract between the engine and a cloud provider, and the registry
//! of providers a run uses. A provider declares schemas, runs static
//! checks, and reads, creates, changes and deletes resources.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use k8sinfra_lang::Diagnostics;
use miette::Diagnostic;
use thiserror::Error;

use crate::config::{Config, ProviderSettings};
use crate::plan::Plan;
use crate::schema::{BlockSchema, ResourceSchema};

/// A future a provider returns (the trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Attributes as the cloud sees them: JSON, references replaced by ids.
pub type Attrs = BTreeMap<String, serde_json::Value>;

/// What a provider needs to know about the resource it works on.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub type_name: &'a str,
    /// The address, tagged onto the resource in its create call so a
    /// crashed run can find what it made.
    pub address: &'a str,
    /// The state's lineage, tagged likewise.
    pub lineage: &'a str,
    /// For `find` on an interrupted create: when it started (Unix seconds).
    pub since: Option<u64>,
    /// For `find` on an interrupted create: the id it asked for, where the
    /// configuration names the resource (a bucket's name). Only that one
    /// can be this create's.
    pub expected_id: Option<&'a str>,
    /// For `find` on an interrupted create: the id the state holds at the
    /// address already (the resource a replacement replaces, tagged alike),
    /// which is not this create's.
    pub not_id: Option<&'a str>,
    /// For `create`: the create's idempotency key (`Pending::token`), to
    /// send where the cloud de-duplicates creates by one.
    pub token: Option<&'a str>,
    /// Which of the provider's configurations acts: the alias of a named
    /// block (`aws west { … }`), or "" for the provider's own block.
    pub alias: &'a str,
}

/// A resource as the state knows it, for reading in bulk: a provider may
/// use what it last read (an object's ETag) to skip reading the rest.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    pub target: Target<'a>,
    pub id: &'a str,
    pub attrs: &'a Attrs,
    /// When k8sinfra created it (Unix seconds), if the state knows: a
    /// resource made moments ago that a read does not find may just not
    /// be visible yet.
    pub created: Option<u64>,
    /// The attributes the configuration writes for it, when the reader
    /// knows the configuration (`None`: read everything, as `import`
    /// does). See `Stored::wants`.
    pub written: Option<&'a BTreeMap<String, k8sinfra_lang::Span>>,
}

impl Stored<'_> {
    /// Whether a refresh must read `attr`, for an attribute AWS shows only
    /// with a call of its own per resource (a VPC's DNS settings, a
    /// bucket's versioning): only when the configuration writes it. One it
    /// leaves to its default is set by the create and kept as the state
    /// holds it, so refresh stays one call per type however many
    /// resources there are; drift in it is not seen. The planner likewise
    /// compares only what the configuration has an opinion on.
    #[must_use]
    pub fn wants(&self, attr: &str) -> bool {
        self.written.is_none_or(|written| written.contains_key(attr))
    }
}

/// A resource as the cloud reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    pub id: String,
    pub attrs: Attrs,
}

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum ProviderError {
    #[error("{operation} failed: {message}")]
    #[diagnostic(code(provider::api))]
    Api { operation: String, message: String },

    #[error("`{0}` cannot be applied yet: this build reads and changes only {1}")]
    #[diagnostic(code(provider::unsupported))]
    Unsupported(String, String),

    #[error("cannot reach the cloud: {0}")]
    #[diagnostic(
        code(provider::setup),
        help("check the credentials and region (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL)")
    )]
    Setup(String),
}

/// What a plan would meet in the cloud, found before anything changes (an
/// image the region does not have): reported on the attribute that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub address: String,
    pub attribute: String,
    pub message: String,
    pub help: String,
}

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

    /// Orderings the cloud requires that no reference shows: `(a, b)` makes
    /// `a` wait for `b` on create, and go before it on destroy (a public NAT
    /// gateway after its VPC's internet gateway is attached). By default,
    /// none.
    fn implicit_dependencies(&self, config: &Config) -> Vec<(crate::addr::ResourceAddr, crate::addr::ResourceAddr)> {
        let _ = config;
        Vec::new()
    }

    /// The attribute of `type_name` naming what its existence hangs on,
    /// when deleting that releases it too: a volume attachment ends when
    /// its instance is terminated. Deleted in one run with it, such a
    /// resource is forgotten rather than deleted (detaching a volume a
    /// running host has mounted can stay busy for good). By default, none.
    fn released_with(&self, type_name: &str) -> Option<&'static str> {
        let _ = type_name;
        None
    }

    /// Whether this build can read and change resources of this type.
    fn can_apply(&self, type_name: &str) -> bool;

    /// The form in which the planner compares two values of an attribute
    /// (the configuration's and the cloud's), when the cloud groups or
    /// spells the same thing differently: security-group rules as one rule
    /// per source, say. Applied to both sides alike; by default the value
    /// as it is.
    fn canonical(&self, _type_name: &str, _attr: &str, value: serde_json::Value) -> serde_json::Value {
        value
    }

    /// Connect, with the settings of the provider's block (region, profile).
    fn connect<'a>(&'a self, settings: &'a ProviderSettings) -> BoxFuture<'a, Result<(), ProviderError>>;

    /// Check against the cloud what the plan is about to create, so that an
    /// apply does not fail halfway for a reason knowable now. Called with
    /// the whole plan; by default nothing to check.
    fn verify<'a>(&'a self, plan: &'a Plan) -> BoxFuture<'a, Result<Vec<Problem>, ProviderError>> {
        let _ = plan;
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The resource as it is now, or `None` if it no longer exists.
    fn read<'a>(&'a self, target: Target<'a>, id: &'a str) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>>;

    /// Several resources of one type at once, in the order given (`None`
    /// for each that is gone): how refresh reads a type in one call rather
    /// than one per resource. By default, one by one.
    fn read_many<'a>(
        &'a self,
        type_name: &'a str,
        stored: &'a [Stored<'a>],
    ) -> BoxFuture<'a, Result<Vec<Option<Remote>>, ProviderError>> {
        let _ = type_name;
        read_each(self, stored)
    }

    /// The resource created for `target` (found by the ownership tags set in
    /// its create call), if one exists: how an interrupted create is adopted.
    fn find<'a>(&'a self, target: Target<'a>) -> BoxFuture<'a, Result<Option<Remote>, ProviderError>>;

    /// For a lookup type (`ResourceSchema::lookup`): the one thing the
    /// `query` (the configured attributes) matches; an error naming the
    /// query when nothing or more than one does.
    fn look_up<'a>(
        &'a self,
        type_name: &'a str,
        alias: &'a str,
        query: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>> {
        let _ = (alias, query);
        Box::pin(async move { Err(ProviderError::Unsupported(type_name.into(), "resources, not lookups".into())) })
    }

    /// Create the resource; waits until it is usable.
    fn create<'a>(&'a self, target: Target<'a>, attrs: &'a Attrs) -> BoxFuture<'a, Result<Remote, ProviderError>>;

    /// Change attributes that can change in place.
    fn update<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        before: &'a Attrs,
        after: &'a Attrs,
    ) -> BoxFuture<'a, Result<Remote, ProviderError>>;

    /// Delete the resource; a resource already gone is not an error.
    /// `attrs` are the attributes last known (a bucket's `force_destroy`).
    fn delete<'a>(
        &'a self,
        target: Target<'a>,
        id: &'a str,
        attrs: &'a Attrs,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
}

/// `read` for each target in turn: `read_many` for a provider (or a type)
/// that cannot read in bulk.
pub fn read_each<'a, P: Provider + ?Sized>(
    provider: &'a P,
    stored: &'a [Stored<'a>],
) -> BoxFuture<'a, Result<Vec<Option<Remote>>, ProviderError>> {
    Box::pin(async move {
        let mut out = Vec::with_capacity(stored.len());
        for one in stored {
            out.push(provider.read(one.target.clone(), one.id).await?);
        }
        Ok(out)
    })
}

/// Every provider of a run, and which one owns each resource type.
#[derive(Default)]
pub struct Providers {
    providers: Vec<std::sync::Arc<dyn Provider>>,
}

impl Providers {
    #[must_use]
    pub fn new(providers: Vec<std::sync::Arc<dyn Provider>>) -> Self {
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

    /// The provider that owns a resource type.
    #[must_use]
    pub fn for_type(&self, type_name: &str) -> Option<&dyn Provider> {
        self.providers.iter().find(|p| p.schemas().iter().any(|s| s.type_name == type_name)).map(AsRef::as_ref)
    }

    #[must_use]
    pub fn provider(&self, name: &str) -> Option<&dyn Provider> {
        self.providers.iter().find(|p| p.name() == name).map(AsRef::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Provider> {
        self.providers.iter().map(AsRef::as_ref)
    }
}
