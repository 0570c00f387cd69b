//! Static checks that need AWS knowledge, run before anything touches the
//! cloud. AWS rejects most of these only at apply time, halfway through a
//! run, and the local emulator accepts some silently; we refuse them first.

mod errors;
mod network;
mod resources;
pub mod security;

use k8sinfra_engine::config::{Config, ResourceInstance};
use k8sinfra_lang::{Diagnostics, Span};

pub use errors::AwsCheckError;

pub fn run(config: &Config, diags: &mut Diagnostics) {
    network::check(config, diags);
    resources::check(config, diags);
    security::check(config, diags);
}

/// Where an attribute of an instance was written, or its declaration.
fn attr_span(r: &ResourceInstance, attr: &str) -> Span {
    r.spans.attrs.get(attr).copied().unwrap_or(r.spans.decl)
}

/// Instances of one type, in configuration order.
fn of_type<'c>(config: &'c Config, type_name: &'c str) -> impl Iterator<Item = &'c ResourceInstance> + 'c {
    config.resources.iter().filter(move |r| r.addr.type_name == type_name)
}
