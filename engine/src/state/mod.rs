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
    /// The outputs of the stacks the configuration read, as the last apply
    /// saw them (stack → output → `{value, sensitive}`): the next plan says
    /// which changed since.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub upstream: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
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
    /// The create's idempotency key, sent with every attempt of the call
    /// where the cloud de-duplicates by one (EC2's `ClientToken`): a create
    /// made again after a lost answer or a crash, while this record stands,
    /// gets what the first one made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The alias of the provider configuration making it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
}

/// How long a create that refresh could not find stays pending, so that a
/// create made again within it carries the same idempotency key: longer
/// than any cloud takes to show what it made, short enough that a record
/// of a create that never happened does not linger.
pub const IN_DOUBT_SECS: u64 = 10 * 60;

impl Pending {
    /// Whether the create started less than `IN_DOUBT_SECS` before `now`
    /// (Unix seconds).
    #[must_use]
    pub fn in_doubt(&self, now: u64) -> bool {
        self.since.is_some_and(|since| now.saturating_sub(since) < IN_DOUBT_SECS)
    }
}

/// An idempotency key for a create: unique to the state's lineage, the
/// address and the moment the create was recorded, at most 64 characters
/// of `[0-9a-f-]` (what EC2 accepts as a `ClientToken`).
#[must_use]
pub fn create_token(lineage: &str, address: &str, nanos: u128) -> String {
    // FNV-1a, twice with different offsets: stable across builds and
    // platforms, which `std`'s hasher does not promise.
    let fnv = |offset: u64| {
        let mut hash = offset;
        for byte in lineage.bytes().chain([0]).chain(address.bytes()).chain([0]).chain(nanos.to_le_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    };
    format!("k8sinfra-{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142))
}

/// Now, in Unix seconds.
#[must_use]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
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
    /// When k8sinfra created it (Unix seconds): a cloud may not show a new
    /// resource at once, and a refresh soon after confirms before it takes
    /// one for gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The alias of the provider configuration that made it ("" for the
    /// provider's own block): where to read and delete it, in the
    /// configuration or not.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
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
            upstream: BTreeMap::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_stays_in_doubt_for_ten_minutes() {
        let pending = Pending {
            type_name: "thing".into(),
            dependencies: Vec::new(),
            since: Some(1_000),
            id: None,
            sensitive: BTreeSet::new(),
            token: None,
            provider: String::new(),
        };
        assert!(pending.in_doubt(1_000 + 599));
        assert!(!pending.in_doubt(1_000 + 600));
        assert!(!Pending { since: None, ..pending }.in_doubt(1_000));
    }

    #[test]
    fn a_create_token_is_the_same_on_every_build_and_differs_by_address_and_moment() {
        // FNV-1a as computed by an independent implementation (Python).
        assert_eq!(create_token("lineage", "vpc.main", 12345), "k8sinfra-2f5cbbbb27d28f8d3f4aa0470d04775c");
        assert_ne!(create_token("lineage", "vpc.other", 12345), create_token("lineage", "vpc.main", 12345));
        assert_ne!(create_token("lineage", "vpc.main", 12346), create_token("lineage", "vpc.main", 12345));
    }
}
