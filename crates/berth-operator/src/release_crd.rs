//! The `Release` custom resource (`berth.dev/v1alpha1`): which Applications move to which
//! version, how (groups, gate, deadline), what the user asks for (pause, rollback,
//! approvals), and in its status the whole state of the release engine.
//!
//! The status is [`berth_release::Status`] written out for people and `kubectl`: phases and
//! stages as words, times as RFC 3339, plus Kubernetes-shaped conditions. [`to_crd_status`]
//! and [`from_crd_status`] convert between the two and round-trip exactly, which is what
//! makes the operator crash-safe: everything the engine needs after a restart is read back
//! from the object.
// kube-derive takes one `printcolumn(...)` per column, each repeating `type_ = ...`.
#![allow(clippy::duplicated_attributes)]

use berth_model::Condition;
use berth_release::{GroupRecord, Millis, Phase, Stage, Status};
use k8s_openapi::jiff::Timestamp;
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

// Exhaustive matches both ways: a phase added to the engine fails to compile here instead
// of being written out wrong.
impl From<Phase> for ReleasePhase {
    fn from(p: Phase) -> Self {
        match p {
            Phase::Progressing => ReleasePhase::Progressing,
            Phase::WaitingForGate => ReleasePhase::WaitingForGate,
            Phase::Paused => ReleasePhase::Paused,
            Phase::Succeeded => ReleasePhase::Succeeded,
            Phase::RollingBack => ReleasePhase::RollingBack,
            Phase::RolledBack => ReleasePhase::RolledBack,
            Phase::Stalled => ReleasePhase::Stalled,
        }
    }
}

impl From<ReleasePhase> for Phase {
    fn from(p: ReleasePhase) -> Self {
        match p {
            ReleasePhase::Progressing => Phase::Progressing,
            ReleasePhase::WaitingForGate => Phase::WaitingForGate,
            ReleasePhase::Paused => Phase::Paused,
            ReleasePhase::Succeeded => Phase::Succeeded,
            ReleasePhase::RollingBack => Phase::RollingBack,
            ReleasePhase::RolledBack => Phase::RolledBack,
            ReleasePhase::Stalled => Phase::Stalled,
        }
    }
}

impl From<Stage> for ReleaseStage {
    fn from(s: Stage) -> Self {
        match s {
            Stage::Surge => ReleaseStage::Surge,
            Stage::Shrink => ReleaseStage::Shrink,
        }
    }
}

impl From<ReleaseStage> for Stage {
    fn from(s: ReleaseStage) -> Self {
        match s {
            ReleaseStage::Surge => Stage::Surge,
            ReleaseStage::Shrink => Stage::Shrink,
        }
    }
}

/// Why a Release status could not be read back into the engine's state.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatusError {
    /// A time field is not RFC 3339.
    #[error("status.{field}: {value:?} is not an RFC 3339 time: {message}")]
    BadTime {
        /// The field.
        field: String,
        /// Its value.
        value: String,
        /// The parser's complaint.
        message: String,
    },
    /// A time before 1970 or past what milliseconds since then can hold.
    #[error("status.{field}: {value:?} is out of range")]
    TimeOutOfRange {
        /// The field.
        field: String,
        /// Its value.
        value: String,
    },
    /// A status that was started carries no phase or stage.
    #[error("status.{0} is missing")]
    Missing(&'static str),
}

/// Milliseconds since the epoch as RFC 3339 (UTC, with milliseconds only when not zero).
pub fn format_time(ms: Millis) -> String {
    // Millis past year 9999 cannot come from a wall clock; saturate rather than fail.
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::MAX)
        .to_string()
}

/// RFC 3339 back to milliseconds since the epoch.
pub fn parse_time(field: &str, value: &str) -> Result<Millis, StatusError> {
    let t: Timestamp =
        value
            .parse()
            .map_err(|e: k8s_openapi::jiff::Error| StatusError::BadTime {
                field: field.to_string(),
                value: value.to_string(),
                message: e.to_string(),
            })?;
    Millis::try_from(t.as_millisecond()).map_err(|_| StatusError::TimeOutOfRange {
        field: field.to_string(),
        value: value.to_string(),
    })
}

fn parse_opt(field: String, value: &Option<String>) -> Result<Option<Millis>, StatusError> {
    value.as_deref().map(|v| parse_time(&field, v)).transpose()
}

/// The engine's state as the CRD status holds it. Conditions, deployments and the observed
/// generation are the shell's; the caller fills them in.
pub fn to_crd_status(st: &Status) -> ReleaseStatus {
    let opt = |t: Option<Millis>| t.map(format_time);
    ReleaseStatus {
        phase: Some(st.phase.into()),
        group: st.group,
        stage: Some(st.stage.into()),
        totals: st.totals.clone(),
        groups: st
            .groups
            .iter()
            .map(|g| GroupStatus {
                started: opt(g.started),
                ready: opt(g.ready),
                gate_passed: opt(g.gate_passed),
            })
            .collect(),
        paused_from: st.paused_from.map(Into::into),
        since: Some(format_time(st.since)),
        deployments: Vec::new(),
        conditions: Vec::new(),
        history: st
            .history
            .iter()
            .map(|(t, m)| HistoryEntry {
                time: format_time(*t),
                message: m.clone(),
            })
            .collect(),
        observed_generation: None,
    }
}

/// The engine's state read back from the CRD status: `Ok(None)` when the release has not
/// started (no phase yet).
pub fn from_crd_status(s: &ReleaseStatus) -> Result<Option<Status>, StatusError> {
    let Some(phase) = s.phase else {
        return Ok(None);
    };
    let stage = s.stage.ok_or(StatusError::Missing("stage"))?;
    let since = s.since.as_deref().ok_or(StatusError::Missing("since"))?;
    let groups = s
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            Ok(GroupRecord {
                started: parse_opt(format!("groups[{i}].started"), &g.started)?,
                ready: parse_opt(format!("groups[{i}].ready"), &g.ready)?,
                gate_passed: parse_opt(format!("groups[{i}].gatePassed"), &g.gate_passed)?,
            })
        })
        .collect::<Result<Vec<_>, StatusError>>()?;
    let history = s
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Ok((
                parse_time(&format!("history[{i}].time"), &h.time)?,
                h.message.clone(),
            ))
        })
        .collect::<Result<Vec<_>, StatusError>>()?;
    Ok(Some(Status {
        phase: phase.into(),
        group: s.group,
        stage: stage.into(),
        totals: s.totals.clone(),
        groups,
        paused_from: s.paused_from.map(Into::into),
        since: parse_time("since", since)?,
        history,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    fn sample() -> Status {
        // 2026-11-24T14:29:21.123Z and a few later instants, with and without milliseconds.
        let t0: Millis = 1_795_530_561_123;
        Status {
            phase: Phase::Paused,
            group: 2,
            stage: Stage::Shrink,
            totals: vec![40, 7],
            groups: vec![
                GroupRecord {
                    started: Some(t0),
                    ready: Some(t0 + 60_000),
                    gate_passed: Some(t0 + 360_000),
                },
                GroupRecord {
                    started: Some(t0 + 360_000),
                    ready: None,
                    gate_passed: None,
                },
                GroupRecord::default(),
            ],
            paused_from: Some(Phase::Progressing),
            since: t0 + 360_877,
            history: vec![
                (t0, "release started: 3 groups".into()),
                (t0 + 361_000, "paused".into()),
            ],
        }
    }

    #[test]
    fn engine_status_round_trips_through_the_crd_status_exactly() {
        let st = sample();
        let crd = to_crd_status(&st);
        assert_eq!(from_crd_status(&crd), Ok(Some(st.clone())));
        // And through JSON, as it is stored in the cluster.
        let json = serde_json::to_value(&crd).expect("serializes");
        let back: ReleaseStatus = serde_json::from_value(json).expect("deserializes");
        assert_eq!(from_crd_status(&back), Ok(Some(st)));
    }

    #[test]
    fn every_phase_and_stage_round_trips() {
        let phases = [
            Phase::Progressing,
            Phase::WaitingForGate,
            Phase::Paused,
            Phase::Succeeded,
            Phase::RollingBack,
            Phase::RolledBack,
            Phase::Stalled,
        ];
        for p in phases {
            for s in [Stage::Surge, Stage::Shrink] {
                let st = Status {
                    phase: p,
                    stage: s,
                    ..sample()
                };
                let crd = to_crd_status(&st);
                let phase = crd.phase.expect("started");
                assert_eq!(
                    serde_json::to_value(phase).ok(),
                    Some(phase.as_str().into())
                );
                assert_eq!(from_crd_status(&crd), Ok(Some(st)), "{p:?}/{s:?}");
            }
        }
    }

    #[test]
    fn status_times_are_rfc3339_in_utc_with_camel_case_fields() {
        let json = serde_json::to_value(to_crd_status(&sample())).expect("serializes");
        assert_eq!(json["groups"][0]["started"], "2026-11-24T14:29:21.123Z");
        assert_eq!(json["groups"][0]["gatePassed"], "2026-11-24T14:35:21.123Z");
        assert_eq!(json["phase"], "Paused");
        assert_eq!(json["pausedFrom"], "Progressing");
        assert_eq!(json["stage"], "Shrink");
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn a_status_without_phase_means_the_release_has_not_started() {
        assert_eq!(from_crd_status(&ReleaseStatus::default()), Ok(None));
    }

    #[test]
    fn a_broken_time_names_the_field() {
        let mut crd = to_crd_status(&sample());
        crd.groups[1].started = Some("yesterday".into());
        let err = from_crd_status(&crd).expect_err("must fail");
        assert!(
            err.to_string()
                .starts_with("status.groups[1].started: \"yesterday\""),
            "{err}"
        );
    }

    #[test]
    fn crd_has_status_subresource_and_printer_columns() {
        let crd = serde_json::to_value(Release::crd()).expect("serializes");
        assert_eq!(crd["spec"]["group"], "berth.dev");
        assert_eq!(crd["spec"]["scope"], "Namespaced");
        let v = &crd["spec"]["versions"][0];
        assert_eq!(v["name"], "v1alpha1");
        assert!(v["subresources"]["status"].is_object());
        let columns: Vec<&str> = v["additionalPrinterColumns"]
            .as_array()
            .expect("columns")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(columns, ["App", "Version", "Phase", "Group", "Age"]);
        let spec = &v["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["properties"]["apps"]["minItems"], 1);
        assert_eq!(spec["required"], serde_json::json!(["apps", "version"]));
    }

    #[test]
    fn spec_reads_from_yaml_shaped_json_with_defaults() {
        let r: Release = serde_json::from_value(serde_json::json!({
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "Release",
            "metadata": {"name": "shop-2-0", "namespace": "shop"},
            "spec": {
                "apps": ["cart", "checkout"],
                "version": "2.0.0",
                "gate": {"metric": {"query": "sum(rate(errors[5m]))", "threshold": 0.01}},
                "progressDeadline": "15m"
            }
        }))
        .expect("valid");
        assert_eq!(r.spec.apps, ["cart", "checkout"]);
        assert!(!r.spec.paused && !r.spec.rollback && r.spec.approvals.is_empty());
        assert_eq!(r.spec.groups, None);
        let metric = r.spec.gate.and_then(|g| g.metric).expect("metric gate");
        assert_eq!(metric.threshold, 0.01);
    }
}
