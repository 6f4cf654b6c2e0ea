//! Converting the `Release` status (`berth_model::Release`) to and from the release engine's
//! state, exactly both ways: everything the engine needs after a restart is read back from
//! the object.

pub use berth_model::release::*;
use berth_release::{GroupRecord, Millis, Phase, Stage, Status};
use k8s_openapi::jiff::Timestamp;

// Exhaustive matches both ways: a phase added to the engine fails to compile here instead
// of being written out wrong.

/// The engine's phase as the status spells it.
pub fn phase_to_crd(p: Phase) -> ReleasePhase {
    {
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

/// The status's phase as the engine's.
pub fn phase_from_crd(p: ReleasePhase) -> Phase {
    {
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

/// The engine's stage as the status spells it.
pub fn stage_to_crd(s: Stage) -> ReleaseStage {
    {
        match s {
            Stage::Surge => ReleaseStage::Surge,
            Stage::Shrink => ReleaseStage::Shrink,
        }
    }
}

/// The status's stage as the engine's.
pub fn stage_from_crd(s: ReleaseStage) -> Stage {
    {
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
        phase: Some(phase_to_crd(st.phase)),
        group: st.group,
        stage: Some(stage_to_crd(st.stage)),
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
        paused_from: st.paused_from.map(phase_to_crd),
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
        settled: None,
        retired: None,
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
        phase: phase_from_crd(phase),
        group: s.group,
        stage: stage_from_crd(stage),
        totals: s.totals.clone(),
        groups,
        paused_from: s.paused_from.map(phase_from_crd),
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
