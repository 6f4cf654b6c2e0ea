//! The `Release` custom resource (`berth.dev/v1alpha1`): which Applications move to which
//! version, how (groups, gate, deadline), what the user asks for (pause, rollback,
//! approvals), and in its status the whole state of the release engine.
//!
//! The status is the release engine's state (`berth_release::Status`) written out for people
//! and `kubectl`: phases and stages as words, times as RFC 3339, plus Kubernetes-shaped
//! conditions. The operator converts between the two (exactly, both ways), which is what
//! makes it crash-safe: everything the engine needs after a restart is read back from the
//! object.
// kube-derive takes one `printcolumn(...)` per column, each repeating `type_ = ...`.
#![allow(clippy::duplicated_attributes)]

use crate::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A release of one or more Applications to a new version, group by group.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "berth.dev",
    version = "v1alpha1",
    kind = "Release",
    namespaced,
    status = "ReleaseStatus",
    shortname = "brel",
    category = "berth",
    doc = "A grouped, surge-first release of one or more Applications to a new version, with gates between groups, pause and instant rollback.",
    printcolumn(name = "App", type_ = "string", json_path = ".spec.apps"),
    printcolumn(name = "Version", type_ = "string", json_path = ".spec.version"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Group", type_ = "integer", json_path = ".status.group"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseSpec {
    /// Applications released in lockstep (same namespace): one gate holds them all, and a
    /// rollback takes them all back.
    #[schemars(length(min = 1))]
    pub apps: Vec<String>,
    /// The version every app moves to (image tag).
    pub version: String,
    /// Number of groups; the first Application's `spec.release.groups` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub groups: Option<u32>,
    /// The gate between groups; the first Application's `spec.release` gate when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<ReleaseGate>,
    /// A group not ready this long after it started stops the release (`10m` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline: Option<String>,
    /// Freeze the release where it is; set back to false to resume.
    #[serde(default)]
    pub paused: bool,
    /// Take every app back to its old version now, without gates.
    #[serde(default)]
    pub rollback: bool,
    /// Approved group boundaries for manual gates (1 = between groups 1 and 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<u32>,
}

/// The gate between two groups: one of `interval`, `manual` or `metric`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseGate {
    /// Least time after a group is ready before the next may start (`10m`, `90s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Wait for the boundary's number in `spec.approvals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<bool>,
    /// A PromQL check against Prometheus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricGate>,
}

/// A PromQL query whose single value must stay on the right side of a threshold.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricGate {
    /// PromQL returning one sample (for example an error ratio of the new version).
    pub query: String,
    /// The limit the value is compared with.
    pub threshold: f64,
    /// `below` (default: the gate passes when value < threshold) or `above`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_when: Option<PassWhen>,
    /// Prometheus base URL; the operator's `--prometheus-url` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<String>,
}

/// Which side of the threshold passes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PassWhen {
    /// value < threshold.
    Below,
    /// value > threshold.
    Above,
}

/// The observed state of a Release: the release engine's whole state, readable.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStatus {
    /// Where the release is; absent until the release has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ReleasePhase>,
    /// The current group, from 1.
    #[serde(default)]
    pub group: u32,
    /// Stage within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<ReleaseStage>,
    /// Replicas to move per app (in `spec.apps` order), fixed when the release started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub totals: Vec<i32>,
    /// One record per group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupStatus>,
    /// The phase a pause interrupted (kept so that resuming goes back to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_from: Option<ReleasePhase>,
    /// When the current stage or wait began (RFC 3339); the engine measures gates from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The Deployments of each app, fixed when the release started: after a restart the
    /// old version cannot be told from older ones kept at zero by replica counts alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<AppDeployments>,
    /// Conditions in the Kubernetes shape: `Progressing` and `Complete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Every decision that changed something.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// The generation of the spec last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the end state of a finished release was confirmed in place (RFC 3339): the
    /// losing version at zero, the autoscalers' bounds, the Ingress at rest. Until then every
    /// pass re-applies it, so an operator stopped mid-way never leaves it half done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<String>,
    /// When the losing version's Deployment, kept at zero replicas for a rollback, was
    /// deleted with its autoscaler, disruption budget and Service (RFC 3339), once the
    /// Application's `release.retainPrevious` had passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<String>,
}

/// The two Deployments of one app in a release.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppDeployments {
    /// Application name.
    pub app: String,
    /// The version being replaced.
    pub old: String,
    /// The version being released.
    pub new: String,
}

/// What happened to one group (RFC 3339 times).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// When it was fully moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// When the gate after it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_passed: Option<String>,
}

/// One line of history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// When (RFC 3339).
    pub time: String,
    /// What happened and why.
    pub message: String,
}

/// [`berth_release::Phase`] as the status spells it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ReleasePhase {
    /// Moving a group.
    Progressing,
    /// A group is done; waiting for the gate.
    WaitingForGate,
    /// Frozen by the user.
    Paused,
    /// Every group moved.
    Succeeded,
    /// Going back to the old version.
    RollingBack,
    /// Back on the old version.
    RolledBack,
    /// Stopped: a group did not get ready in time, or a metric gate failed.
    Stalled,
}

impl ReleasePhase {
    /// The phase as the status spells it (for metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            ReleasePhase::Progressing => "Progressing",
            ReleasePhase::WaitingForGate => "WaitingForGate",
            ReleasePhase::Paused => "Paused",
            ReleasePhase::Succeeded => "Succeeded",
            ReleasePhase::RollingBack => "RollingBack",
            ReleasePhase::RolledBack => "RolledBack",
            ReleasePhase::Stalled => "Stalled",
        }
    }
}

/// [`berth_release::Stage`] as the status spells it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ReleaseStage {
    /// The new version grows by the group's share.
    Surge,
    /// The old version shrinks by the same share.
    Shrink,
}
