//! Plans as JSON: what `plan --out` writes, `show` reads, and tools
//! consume. The schema is documented in docs/plan-json.md; its
//! `format_version` changes only when a field changes meaning or goes.
//! Configured values are not saved (they may hold secrets, and they are
//! known again from the configuration), so `apply FILE` plans again and
//! requires the very same changes.

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Action, Change, Counts, Drift, OutputChange, Plan, Refactored, Request, UpstreamChange};

/// The version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error, Diagnostic)]
pub enum SavedPlanError {
    #[error("not a k8sinfra plan: {0}")]
    #[diagnostic(code(plan::not_a_plan), help("save one with `k8sinfra plan --out FILE`"))]
    NotAPlan(String),

    #[error("the plan has format version {found}; this k8sinfra reads version {FORMAT_VERSION}")]
    #[diagnostic(code(plan::too_new), help("show or apply it with the k8sinfra that saved it"))]
    Unsupported { found: u32 },
}

#[derive(Serialize)]
struct Written<'p> {
    format_version: u32,
    k8sinfra_version: &'static str,
    lineage: &'p str,
    serial: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration: Option<&'p str>,
    summary: Counts,
    changes: Vec<&'p Change>,
    drift: &'p [Drift],
    #[serde(skip_serializing_if = "Request::is_empty")]
    request: &'p Request,
    #[serde(skip_serializing_if = "Refactored::is_empty")]
    refactored: &'p Refactored,
    #[serde(skip_serializing_if = "<[UpstreamChange]>::is_empty")]
    upstream: &'p [UpstreamChange],
    #[serde(skip_serializing_if = "<[OutputChange]>::is_empty")]
    outputs: &'p [OutputChange],
}

#[derive(Deserialize)]
struct Read {
    format_version: u32,
    lineage: String,
    serial: u64,
    #[serde(default)]
    configuration: Option<String>,
    changes: Vec<Change>,
    #[serde(default)]
    drift: Vec<Drift>,
    #[serde(default)]
    request: Request,
    #[serde(default)]
    refactored: Refactored,
    #[serde(default)]
    upstream: Vec<UpstreamChange>,
    #[serde(default)]
    outputs: Vec<OutputChange>,
}

impl Plan {
    /// The plan as a JSON document (actions only: unchanged resources are
    /// left out).
    #[must_use]
    pub fn to_json(&self) -> String {
        let written = Written {
            format_version: FORMAT_VERSION,
            k8sinfra_version: env!("CARGO_PKG_VERSION"),
            lineage: &self.lineage,
            serial: self.serial,
            configuration: self.configuration.as_deref(),
            summary: self.counts(),
            changes: self.changes.iter().filter(|c| c.action != Action::NoOp).collect(),
            drift: &self.drift,
            request: &self.request,
            refactored: &self.refactored,
            upstream: &self.upstream,
            outputs: &self.outputs,
        };
        let mut text = serde_json::to_string_pretty(&written).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_json(text: &str) -> Result<Plan, SavedPlanError> {
        let version: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SavedPlanError::NotAPlan(e.to_string()))?;
        match version.get("format_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => return Err(SavedPlanError::Unsupported { found: u32::try_from(v).unwrap_or(u32::MAX) }),
            None => return Err(SavedPlanError::NotAPlan("no `format_version`".into())),
        }
        let read: Read = serde_json::from_value(version).map_err(|e| SavedPlanError::NotAPlan(e.to_string()))?;
        debug_assert_eq!(read.format_version, FORMAT_VERSION);
        Ok(Plan {
            changes: read.changes,
            drift: read.drift,
            lineage: read.lineage,
            serial: read.serial,
            configuration: read.configuration,
            request: read.request,
            refactored: read.refactored,
            upstream: read.upstream,
            outputs: read.outputs,
        })
    }
}
