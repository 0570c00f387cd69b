//! State: what k8sinfra has created, as it last saw it. The model lives
//! here; the file format (versioned JSON, with upgrades) in `file`; where
//! it is kept behind the `Backend` trait (`backend`): a local file here in
//! `local`, an S3 object in the AWS provider crate.

mod backend;
mod file;
mod local;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use backend::{check_descends, lock, Backend, BackendError, LockInfo};
pub use file::{decode, encode, StateFileError, FORMAT_VERSION};
pub use local::LocalBackend;

/// Everything k8sinfra manages in one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Set once when the state is created; a state with another lineage
    /// belongs to another configuration and is never overwritten.
    pub lineage: String,
    /// Grows by one with every write.
    pub serial: u64,
    /// By address, so the file reads in a stable order.
    pub resources: BTreeMap<String, ResourceState>,
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Creates that were started and not yet recorded as done. A run killed
    /// between the cloud's answer and the state write leaves one here; the
    /// next refresh finds the resource by the tags it was created with and
    /// adopts it, so nothing is duplicated or leaked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, Pending>,
}

/// A create in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// When the create started (Unix seconds): a resource that cannot
    /// carry its ownership tags from the first call (a bucket) is known
    /// as this create's by being made after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// The id the create asks for, where the configuration sets it (a
    /// bucket's name): what the next refresh may adopt, and nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The attributes that will hold secrets, for the resource adopted.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sensitive: BTreeSet<String>,
}

/// One resource instance as the cloud reported it after the last change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub type_name: String,
    /// The cloud's id (`vpc-0abc…`).
    pub id: String,
    /// Every attribute, configured and computed; references are ids.
    pub attrs: BTreeMap<String, serde_json::Value>,
    /// Addresses this resource depended on when it was last changed, so it
    /// can be destroyed in the right order after it left the configuration.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Attributes holding secrets (by the schema or set from a sensitive
    /// value when last applied): `state show` and plans never print them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sensitive: BTreeSet<String>,
}

impl State {
    /// A new, empty state with a fresh lineage.
    #[must_use]
    pub fn new() -> Self {
        State {
            lineage: new_lineage(),
            serial: 0,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// A lineage id: time and process, unique enough to tell states apart.
fn new_lineage() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}
