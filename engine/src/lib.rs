//! The provider-agnostic core of k8sinfra. It turns parsed modules into a
//! checked configuration of resource instances and the graph between them
//! (`config`, `graph`, `addr`, `schema`), plans against the state
//! (`state`, `plan`, `render`) and carries plans out (`apply`). It knows
//! schemas, not clouds: providers declare resource types, add their own
//! checks and make the calls; the engine never names an AWS concept.

pub mod addr;
pub mod apply;
pub mod config;
pub mod graph;
pub mod plan;
pub mod provider;
pub mod render;
pub mod schema;
pub mod schema_doc;
pub mod state;
#[cfg(test)]
mod testkit;

pub use addr::{InstanceKey, ModuleInstance, ResourceAddr};
pub use config::{load_and_evaluate, Config, Inputs, LoadOptions, ResourceInstance};
pub use provider::{Provider, Providers};
pub use schema::{AttrKind, AttrSchema, BlockSchema, ResourceSchema};
