//! The pure half of the Release shell: from objects to the engine's plan, request and
//! view, and from the engine's decision to autoscaler bounds and status conditions. No
//! I/O, no clock: `now` comes in as a value, so all of it is tested without a cluster.

use std::collections::BTreeMap;

use berth_model::{Application, Budget, Condition};
use berth_release::{Gate, Millis, Phase, Plan, Request, Status, VersionView};
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;

use crate::release_crd::{ReleaseGate, ReleaseSpec, format_time};

/// Progress deadline when neither the Release nor a default says otherwise (the same as
/// a Deployment's `progressDeadlineSeconds` default).
pub const DEFAULT_PROGRESS_DEADLINE: &str = "10m";

/// The engine's plan from the Release, falling back to the first Application's release
/// strategy for groups and gates. `Err` says what in the spec is wrong.
pub fn plan_for(spec: &ReleaseSpec, first: &Application) -> Result<Plan, String> {
    let strategy = &first.spec.release;
    let groups = spec
        .groups
        .unwrap_or_else(|| u32::try_from(strategy.groups).unwrap_or(1))
        .max(1);
    let boundaries = groups as usize - 1;
    let gates = match &spec.gate {
        Some(g) => release_gate(g)?.map_or(Vec::new(), |g| vec![g; boundaries]),
        None if !strategy.gates.is_empty() => strategy
            .gates
            .iter()
            .map(app_gate)
            // A boundary without a gate keeps its place as a zero interval: dropping it
            // would shift every later gate one boundary earlier.
            .map(|g| g.map(|g| g.unwrap_or(Gate::Interval(0))))
            .collect::<Result<Vec<_>, _>>()?,
        None => app_gate(&strategy.gate)?.map_or(Vec::new(), |g| vec![g; boundaries]),
    };
    let deadline = spec
        .progress_deadline
        .as_deref()
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE);
    let progress_deadline = berth_model::parse_duration(deadline)
        .map_err(|e| format!("spec.progressDeadline: {e}"))?
        .saturating_mul(1000);
    Ok(Plan {
        groups,
        gates,
        progress_deadline,
    })
}

fn interval(text: &str, field: &str) -> Result<Gate, String> {
    berth_model::parse_duration(text)
        .map(|s| Gate::Interval(s.saturating_mul(1000)))
        .map_err(|e| format!("{field}: {e}"))
}

fn release_gate(g: &ReleaseGate) -> Result<Option<Gate>, String> {
    match (&g.interval, g.manual == Some(true), &g.metric) {
        (None, false, None) => Ok(None),
        (Some(i), false, None) => interval(i, "spec.gate.interval").map(Some),
        (None, true, None) => Ok(Some(Gate::Manual)),
        // The shell queries Prometheus at each gate and hands the engine the verdict.
        (None, false, Some(m)) => {
            if m.query.trim().is_empty() {
                return Err("spec.gate.metric.query: a metric gate needs a PromQL query".into());
            }
            Ok(Some(Gate::Metric(m.query.clone())))
        }
        _ => Err("spec.gate: set exactly one of interval, manual or metric".into()),
    }
}

fn app_gate(g: &berth_model::Gate) -> Result<Option<Gate>, String> {
    match (&g.interval, g.manual == Some(true)) {
        (None, false) => Ok(None),
        (Some(i), false) => interval(i, "Application spec.release.gate.interval").map(Some),
        (None, true) => Ok(Some(Gate::Manual)),
        (Some(_), true) => {
            Err("Application spec.release.gate: set one of interval or manual".into())
        }
    }
}

/// The user's request, level-triggered from the spec: `paused` and `rollback` are states
/// the user wants, turned into the engine's edge requests by comparing with the status.
pub fn request_for(spec: &ReleaseSpec, status: Option<&Status>) -> Request {
    let paused = status.is_some_and(|s| s.phase == Phase::Paused);
    if spec.rollback {
        Request::Rollback
    } else if spec.paused && !paused {
        Request::Pause
    } else if !spec.paused && paused {
        Request::Resume
    } else {
        Request::None
    }
}

/// One Deployment as the engine sees it. Counts come from the Deployment's status, which
/// may lag its spec; a lagging count only ever makes the engine wait longer.
///
/// `terminating` is how many of the app's pods, by version label, are being deleted (from a
/// Pod list): pods being deleted still hold their node's resources and may still serve, so
/// they count until gone. The Deployment's own `terminatingReplicas` is preferred where the
/// 1.33 feature gate fills it.
pub fn version_view(d: &Deployment, terminating: &BTreeMap<String, i32>) -> VersionView {
    let status = d.status.as_ref();
    let listed = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .and_then(|l| l.get(berth_render::VERSION_LABEL))
        .and_then(|v| terminating.get(v).copied())
        .unwrap_or(0);
    VersionView {
        deployment: d.name_any(),
        // Kubernetes defaults an absent `spec.replicas` to 1.
        replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        pods: status.and_then(|s| s.replicas).unwrap_or(0)
            + status
                .and_then(|s| s.terminating_replicas)
                .unwrap_or(listed),
    }
}

/// Ready pods an app of `total` replicas must keep under its disruption budget, with the
/// disruption controller's rounding (percentages round up).
pub fn floor(total: i32, budget: Budget) -> i32 {
    budget.floor(total)
}

/// Autoscaler bounds `(new, old)` for one app. While a release runs each version's
/// autoscaler is pinned to the engine's count (min = max) so it cannot undo a group; at the
/// end the winner gets the app's own bounds and the loser is held at one (it has zero
/// replicas, which an autoscaler leaves alone, and `minReplicas` may not be zero).
/// During a rollback the new version keeps what it has until the old one is back.
pub fn hpa_bounds(
    phase: Phase,
    targets: (i32, i32),
    new_replicas: i32,
    app_bounds: (i32, i32),
) -> ((i32, i32), (i32, i32)) {
    berth_release::autoscaler_bounds(phase, targets, new_replicas, app_bounds)
}

/// The Release's conditions: `Progressing` (something is moving or waiting to move) and
/// `Complete` (nothing more will happen). A condition keeps its `lastTransitionTime` while
/// its status does not change. A refused Release (`refused` carries the reason, e.g.
/// `Refused` or `Conflict`) is neither.
pub fn conditions(
    previous: &[Condition],
    phase: Option<Phase>,
    refused: Option<&str>,
    message: &str,
    generation: Option<i64>,
    now: Millis,
) -> Vec<Condition> {
    let reason = match (phase, refused) {
        (_, Some(why)) => why.to_string(),
        (Some(p), None) => format!("{p:?}"),
        (None, None) => "Pending".to_string(),
    };
    let progressing = refused.is_none()
        && matches!(
            phase,
            Some(Phase::Progressing | Phase::WaitingForGate | Phase::RollingBack) | None
        );
    let complete = refused.is_none() && phase.is_some_and(Phase::finished);
    [("Progressing", progressing), ("Complete", complete)]
        .into_iter()
        .map(|(type_, on)| {
            let status = if on { "True" } else { "False" }.to_string();
            let last_transition_time = previous
                .iter()
                .find(|c| c.type_ == type_ && c.status == status)
                .map_or_else(|| format_time(now), |c| c.last_transition_time.clone());
            Condition {
                type_: type_.into(),
                status,
                reason: reason.clone(),
                message: message.to_string(),
                last_transition_time,
                observed_generation: generation,
            }
        })
        .collect()
}

/// Where an app's Ingress traffic goes, under canary routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The app's Ingress to the old version's Service, the canary Ingress to the new one's
    /// with this weight; `pinned`: the canary cookie and header pick the new version.
    Split {
        /// Percent of requests to the new version.
        weight: u32,
        /// Whether the cookie and header pick the new version.
        pinned: bool,
    },
    /// At rest: the app's Ingress to the Service of every version, no canary Ingress.
    Rest,
}

/// The route for a release in `phase` whose new version gets `weight` percent
/// ([`berth_release::canary_weights`]). A rollback unpins the cookie and header at once
/// and lets the weight fall as the old version's pods come back; a finished release
/// leaves the Ingress as `berth render` writes it.
pub fn route_for(phase: Phase, weight: u32) -> Route {
    match phase {
        Phase::Succeeded | Phase::RolledBack => Route::Rest,
        Phase::RollingBack => Route::Split {
            weight,
            pinned: false,
        },
        _ => Route::Split {
            weight,
            pinned: true,
        },
    }
}

/// How long the losing version's Deployment stays at zero replicas after a release ends
/// when the Application does not say (`release.retainPrevious`): a day, long enough for
/// the problems a release brings to show, and for a rollback to need no new ReplicaSet.
pub const DEFAULT_RETAIN: Millis = 24 * 3_600_000;

/// How long the apps ask to keep the losing version: the longest of their
/// `release.retainPrevious` (one release, one retention), [`DEFAULT_RETAIN`] for an app
/// that does not say. A value that does not parse counts as the default: validation
/// refuses it before it gets here.
pub fn retain_for<'a>(apps: impl IntoIterator<Item = &'a Application>) -> Millis {
    apps.into_iter()
        .map(|a| {
            a.spec
                .release
                .retain_previous
                .as_deref()
                .and_then(|d| berth_model::parse_duration(d).ok())
                .map_or(DEFAULT_RETAIN, |secs| secs.saturating_mul(1_000))
        })
        .max()
        .unwrap_or(DEFAULT_RETAIN)
}

/// Whether the losing version of a release that ended at `ended` may go now; `Err(left)`
/// says how long it stays.
pub fn retention_due(ended: Millis, retain: Millis, now: Millis) -> Result<(), Millis> {
    let due = ended.saturating_add(retain);
    if now >= due { Ok(()) } else { Err(due - now) }
}
