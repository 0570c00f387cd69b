//! The state file: JSON with an explicit format version. Reading upgrades
//! older versions step by step; writing always writes the current one.

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::State;

/// The version this build writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error, Diagnostic)]
pub enum StateFileError {
    #[error("the state file is not valid JSON: {0}")]
    #[diagnostic(
        code(state::corrupt),
        help("restore the previous version (state.json.backup beside it) or fix the file by hand")
    )]
    Corrupt(String),

    #[error("the state file has format version {found}; this k8sinfra reads up to {FORMAT_VERSION}")]
    #[diagnostic(code(state::too_new), help("upgrade k8sinfra"))]
    TooNew { found: u32 },
}

#[derive(Serialize, Deserialize)]
struct Versioned {
    format_version: u32,
    #[serde(flatten)]
    rest: serde_json::Value,
}

#[derive(Serialize)]
struct Current<'s> {
    format_version: u32,
    #[serde(flatten)]
    state: &'s State,
}

/// Read a state file of any known version.
pub fn decode(bytes: &[u8]) -> Result<State, StateFileError> {
    let versioned: Versioned = serde_json::from_slice(bytes).map_err(|e| StateFileError::Corrupt(e.to_string()))?;
    let body = match versioned.format_version {
        FORMAT_VERSION => versioned.rest,
        found if found > FORMAT_VERSION => return Err(StateFileError::TooNew { found }),
        // Older versions get an upgrade function each, applied in turn.
        found => return Err(StateFileError::Corrupt(format!("unknown format version {found}"))),
    };
    serde_json::from_value(body).map_err(|e| StateFileError::Corrupt(e.to_string()))
}

/// The state as the current file format, pretty-printed for review.
#[must_use]
pub fn encode(state: &State) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&Current { format_version: FORMAT_VERSION, state }).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    #[test]
    fn round_trip_and_version_checks() {
        let mut state = State::new();
        state.serial = 3;
        state.resources.insert(
            "vpc.main".into(),
            ResourceState {
                type_name: "vpc".into(),
                id: "vpc-1".into(),
                attrs: [("cidr".to_string(), serde_json::json!("10.0.0.0/16"))].into(),
                dependencies: vec![],
                sensitive: Default::default(),
                created: Some(1_700_000_000),
                provider: String::new(),
            },
        );
        let bytes = encode(&state);
        assert!(String::from_utf8_lossy(&bytes).contains("\"format_version\": 1"));
        assert_eq!(decode(&bytes).expect("decodes"), state);
        let newer = String::from_utf8_lossy(&bytes).replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(matches!(decode(newer.as_bytes()), Err(StateFileError::TooNew { found: 9 })));
        assert!(matches!(decode(b"{not json"), Err(StateFileError::Corrupt(_))));
        // An older version with no upgrade is not "too new".
        let older = String::from_utf8_lossy(&bytes).replace("\"format_version\": 1", "\"format_version\": 0");
        assert!(matches!(decode(older.as_bytes()), Err(StateFileError::Corrupt(_))));
    }
}
