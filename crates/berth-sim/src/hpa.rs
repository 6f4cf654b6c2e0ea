//! Pure model of the Kubernetes `HorizontalPodAutoscaler` controller's decision
//! algorithm (`autoscaling/v2`, kube-controller-manager v1.33–v1.35) for a single
//! CPU resource metric.
//!
//! [`sync`] is one controller sync (upstream runs one every 15 s per HPA): it takes
//! the HPA spec, the target's `spec.replicas`, a snapshot of the pods matched by the
//! target's selector (with their CPU samples) and the virtual time `now`, and returns
//! a [`Decision`]. Everything that upstream keeps in controller memory between syncs
//! (recommendation history, scale events) lives in [`HpaState`], which the caller owns.
//! There is no I/O, no clock, no randomness and no hash-map iteration, so identical
//! inputs always give identical outputs.
//!
//! Pipeline, with the upstream function each step follows
//! (paths relative to `kubernetes/kubernetes`):
//!
//! 1. `pkg/controller/podautoscaler/horizontal.go` `reconcileAutoscaler`: seed the
//!    recommendation history, the "replicas == 0 disables scaling" rule and the
//!    out-of-`[min, max]` fast paths.
//! 2. `pkg/controller/podautoscaler/replica_calculator.go` `GetResourceReplicas`
//!    (target `Utilization`) or `GetRawResourceReplicas` → `calcPlainMetricReplicas`
//!    (target `AverageValue`), with `groupPods` and the ratio helpers of
//!    `pkg/controller/podautoscaler/metrics/utilization.go`.
//! 3. `horizontal.go` `normalizeDesiredReplicasWithBehaviors`: stabilization window
//!    (`stabilizeRecommendationWithBehaviors`), then rate policies and min/max
//!    (`convertDesiredReplicasWithBehaviorRate`), or the legacy
//!    `normalizeDesiredReplicas` when the HPA has no `spec.behavior`.
//! 4. `horizontal.go` `storeScaleEvent` when the sync rescales.
//!
//! Defaults follow `pkg/apis/autoscaling/v2/defaults.go` and the controller flags
//! documented on the "Horizontal Pod Autoscaling" page of kubernetes.io.
//!
//! Time is virtual milliseconds ([`Millis`]). Upstream compares `time.Time` values
//! with strict `Before`/`After`; the same strictness is kept here, written as
//! additions (`t + window > now`) so no unsigned subtraction can underflow.

use std::fmt::Write as _;

/// Virtual time in milliseconds since an arbitrary simulation epoch.
pub use crate::time::Millis;

/// Default `--horizontal-pod-autoscaler-tolerance` (upstream flag default).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// Default `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD: Millis = 5 * 60 * 1000;
/// Default `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
pub const DEFAULT_INITIAL_READINESS_DELAY: Millis = 30 * 1000;
/// Default `--horizontal-pod-autoscaler-downscale-stabilization` in seconds (5 min).
pub const DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS: u32 = 300;
/// Default `--horizontal-pod-autoscaler-sync-period`: how often a simulator should call [`sync`].
pub const DEFAULT_SYNC_PERIOD: Millis = 15 * 1000;

/// Kind of a scaling policy (`HPAScalingPolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Change by at most `value` pods per period.
    Pods,
    /// Change by at most `value` percent of the replicas at the start of the period.
    Percent,
}

/// One scaling policy (`HPAScalingPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether `value` is a pod count or a percentage.
    pub kind: PolicyKind,
    /// Pods or percent allowed to change within one period.
    pub value: i32,
    /// Length of the look-back window over recorded scale events.
    pub period_seconds: u32,
}

/// How several policies of one direction are combined (`ScalingPolicySelect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// Use the policy allowing the largest change.
    Max,
    /// Use the policy allowing the smallest change.
    Min,
    /// Never scale in this direction.
    Disabled,
}

/// Scaling rules for one direction (`HPAScalingRules`), already defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Look-back window over past recommendations used to damp flapping.
    pub stabilization_window_seconds: u32,
    /// How `policies` are combined.
    pub select_policy: SelectPolicy,
    /// Rate limits; with none, `Max`/`Min` selection blocks the direction like upstream.
    pub policies: Vec<Policy>,
    /// Per-direction tolerance override (`HPAScalingRules.tolerance`, gate `HPAConfigurableTolerance`); `None` uses [`HpaSpec::tolerance`].
    pub tolerance: Option<f64>,
}

impl Rules {
    /// Upstream scale-up defaults: no window, max of (4 pods, 100 %) per 15 s.
    #[must_use]
    pub fn default_scale_up() -> Rules {
        Rules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_seconds: 15,
                },
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 15,
                },
            ],
            tolerance: None,
        }
    }

    /// Upstream scale-down defaults: 300 s window, 100 % per 15 s.
    #[must_use]
    pub fn default_scale_down() -> Rules {
        Rules {
            // defaults.go leaves this nil and the controller fills it from the
            // downscale-stabilization flag, whose default is 5 minutes.
            stabilization_window_seconds: DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS,
            select_policy: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period_seconds: 15,
            }],
            tolerance: None,
        }
    }

    /// Longest policy period; mirrors `getLongestPolicyPeriod`.
    fn longest_period_seconds(&self) -> u32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0)
    }
}

/// Target of the CPU resource metric (`MetricTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `averageUtilization`: percent of the pods' CPU request.
    Utilization(i32),
    /// `averageValue`: milli-cores per pod.
    AverageValueMilli(i64),
}

/// The parts of an HPA spec and of the controller flags that drive the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `spec.minReplicas` (upstream defaults it to 1; 0 needs the `HPAScaleToZero` gate).
    pub min_replicas: i32,
    /// `spec.maxReplicas`.
    pub max_replicas: i32,
    /// The single CPU metric target.
    pub target: Target,
    /// `spec.behavior.scaleUp`, defaulted.
    pub scale_up: Rules,
    /// `spec.behavior.scaleDown`, defaulted.
    pub scale_down: Rules,
    /// Controller-wide tolerance flag; the ratio band `[1 - t, 1 + t]` means "no change".
    pub tolerance: f64,
    /// Window after pod start in which CPU samples are distrusted unless fresh.
    pub cpu_initialization_period: Millis,
    /// Window after pod start in which an unready pod counts as "never ready".
    pub initial_readiness_delay: Millis,
    /// Model `spec.behavior: nil`: use the legacy normalization (no policies, cap `max(2*current, 4)`, window = `scale_down.stabilization_window_seconds` as the controller flag).
    pub behavior_unset: bool,
}

impl HpaSpec {
    /// A CPU-utilization HPA with upstream defaults for everything else.
    #[must_use]
    pub fn cpu_utilization(min_replicas: i32, max_replicas: i32, percent: i32) -> HpaSpec {
        HpaSpec {
            min_replicas,
            max_replicas,
            target: Target::Utilization(percent),
            scale_up: Rules::default_scale_up(),
            scale_down: Rules::default_scale_down(),
            tolerance: DEFAULT_TOLERANCE,
            cpu_initialization_period: DEFAULT_CPU_INITIALIZATION_PERIOD,
            initial_readiness_delay: DEFAULT_INITIAL_READINESS_DELAY,
            behavior_unset: false,
        }
    }
}

/// What the controller sees of one pod matched by the target's selector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodSample {
    /// Ready condition status is True.
    pub ready: bool,
    /// `deletionTimestamp` is set.
    pub terminating: bool,
    /// Phase is Failed.
    pub failed: bool,
    /// `status.startTime`.
    pub start_time: Millis,
    /// Last transition time of the Ready condition; `None` means the pod has no Ready condition yet.
    pub ready_transition: Option<Millis>,
    /// Sum of the containers' CPU requests in milli-cores; `<= 0` is treated as "request missing".
    pub request_milli: i64,
    /// CPU usage from the metrics API in milli-cores; `None` means no sample.
    pub usage_milli: Option<i64>,
    /// Start of the sample's window (metrics API `timestamp - window`).
    pub metric_window_start: Millis,
    /// Phase is Pending (upstream treats these as unready regardless of samples).
    pub pending: bool,
}

/// One unstabilized recommendation (`timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Recommendation {
    at: Millis,
    replicas: i32,
}

/// One recorded rescale (`timestampedScaleEvent`); `change` is always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScaleEvent {
    at: Millis,
    change: i32,
    outdated: bool,
}

/// Per-HPA controller memory that survives between syncs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HpaState {
    recommendations: Vec<Recommendation>,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
    last_scale_time: Option<Millis>,
}

impl HpaState {
    /// Stored `(time, unstabilized recommendation)` slots, in storage order.
    pub fn recommendations(&self) -> impl Iterator<Item = (Millis, i32)> + '_ {
        self.recommendations.iter().map(|r| (r.at, r.replicas))
    }

    /// Stored `(time, replicas added)` scale-up events, in storage order.
    pub fn scale_up_events(&self) -> impl Iterator<Item = (Millis, i32)> + '_ {
        self.scale_up_events.iter().map(|e| (e.at, e.change))
    }

    /// Stored `(time, replicas removed)` scale-down events, in storage order.
    pub fn scale_down_events(&self) -> impl Iterator<Item = (Millis, i32)> + '_ {
        self.scale_down_events.iter().map(|e| (e.at, e.change))
    }

    /// Time of the last rescale (`status.lastScaleTime`).
    #[must_use]
    pub fn last_scale_time(&self) -> Option<Millis> {
        self.last_scale_time
    }
}

/// Outcome of one [`sync`].
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Replica count the target should have after this sync (equals the input when not scaling).
    pub desired: i32,
    /// Whether `desired` differs from the current replicas, i.e. the scale subresource is written.
    pub scaled: bool,
    /// Human-readable explanation of the decision.
    pub reason: String,
    /// Upstream condition reason that best explains `desired` (see [`sync`]).
    pub condition: &'static str,
    /// Observed CPU utilization in percent of request over the counted pods (Utilization targets).
    pub current_utilization: Option<i32>,
    /// Raw proposal from the metric before stabilization and limits, when one was computed.
    pub recommendation: Option<i32>,
    /// Observed average CPU usage in milli-cores over the counted pods.
    pub current_average_milli: Option<i64>,
}

// ---------------------------------------------------------------------------
// Replica calculation
// ---------------------------------------------------------------------------

/// Bucket a pod falls into; mirrors `groupPods` in `replica_calculator.go`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PodGroup {
    /// Terminating or failed: not part of any computation.
    Ignored,
    /// Sample distrusted: counted as 0 % only when the first pass wants to scale up.
    Unready,
    /// No sample: counted as 100 % on scale-down and 0 % on scale-up.
    Missing,
    /// Sample used as-is.
    Ready,
}

/// Classifies one pod like `groupPods` does for the CPU resource.
fn group_pod(pod: &PodSample, spec: &HpaSpec, now: Millis) -> PodGroup {
    if pod.terminating || pod.failed {
        return PodGroup::Ignored;
    }
    if pod.pending {
        return PodGroup::Unready;
    }
    if pod.usage_milli.is_none() {
        return PodGroup::Missing;
    }
    let Some(transition) = pod.ready_transition else {
        return PodGroup::Unready;
    };
    let in_init_period = pod
        .start_time
        .saturating_add(spec.cpu_initialization_period)
        > now;
    let unready = if in_init_period {
        // Start-up CPU bursts are common, so a young pod's sample only counts when
        // the whole sample window was collected after it last became ready
        // (upstream: `timestamp < transition + window`, i.e. window start < transition).
        !pod.ready || pod.metric_window_start < transition
    } else {
        // An old pod that was ready once keeps counting even if it flaps; only one
        // whose readiness never settled since start-up is distrusted.
        !pod.ready && pod.start_time.saturating_add(spec.initial_readiness_delay) > transition
    };
    if unready {
        PodGroup::Unready
    } else {
        PodGroup::Ready
    }
}

/// Scale-up / scale-down tolerance band; mirrors `Tolerances` in `replica_calculator.go`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tolerances {
    down: f64,
    up: f64,
}

impl Tolerances {
    /// Mirrors `Tolerances.isWithin`: inclusive on both edges.
    fn contains(self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// Effective tolerances; mirrors `tolerancesForHpa` in `horizontal.go`.
fn tolerances_for(spec: &HpaSpec) -> Tolerances {
    let mut t = Tolerances {
        down: spec.tolerance,
        up: spec.tolerance,
    };
    // Per-direction overrides live in spec.behavior, which does not exist in legacy mode.
    if !spec.behavior_unset {
        if let Some(down) = spec.scale_down.tolerance {
            t.down = down;
        }
        if let Some(up) = spec.scale_up.tolerance {
            t.up = up;
        }
    }
    t
}

/// One entry of the metrics map fed to the ratio helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    value: i64,
    request: i64,
}

/// First-pass metric reading plus the replica proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proposal {
    replicas: i32,
    utilization: Option<i32>,
    average_milli: i64,
}

/// How missing pods are filled in before the second pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MissingFill {
    /// Scale-down: assume they are as busy as allowed (100 % / the target value).
    Busy,
    /// Scale-up: assume they are idle.
    Idle,
}

/// `int32(math.Ceil(x))`; Rust's saturating cast stands in for Go's undefined overflow.
fn ceil_to_i32(x: f64) -> i32 {
    x.ceil() as i32
}

/// Utilization ratio over `samples`; mirrors `GetResourceUtilizationRatio` in `metrics/utilization.go`.
///
/// Totals are summed in i128, which is what upstream's big.Int fallback computes
/// when the int64 sums would overflow. Returns (ratio, utilization %, average milli).
fn utilization_ratio(samples: &[Sample], target: i32) -> Result<(f64, i32, i64), String> {
    let metrics_total: i128 = samples.iter().map(|s| i128::from(s.value)).sum();
    let requests_total: i128 = samples.iter().map(|s| i128::from(s.request)).sum();
    if requests_total == 0 || samples.is_empty() {
        return Err("no samples matched known pods".to_string());
    }
    // Integer percentage first, then the float ratio: the truncation is part of the
    // upstream algorithm and can move a ceil() across an integer boundary.
    let percentage = metrics_total * 100 / requests_total;
    let utilization = i32::try_from(percentage)
        .map_err(|_| format!("cpu utilization {percentage}% does not fit in int32"))?;
    let average = i64::try_from(metrics_total / samples.len() as i128).unwrap_or(i64::MAX);
    Ok((
        f64::from(utilization) / f64::from(target),
        utilization,
        average,
    ))
}

/// Average-value ratio over `samples`; mirrors `GetMetricUsageRatio` in `metrics/utilization.go`.
fn usage_ratio(samples: &[Sample], target: i64) -> (f64, i64) {
    let total: i128 = samples.iter().map(|s| i128::from(s.value)).sum();
    let count = samples.len().max(1) as i128;
    let average = i64::try_from(total / count).unwrap_or(i64::MAX);
    (average as f64 / target as f64, average)
}

/// The shared tail of `GetResourceReplicas` and `calcPlainMetricReplicas`.
///
/// `recompute` adds the missing/unready pods as instructed and returns the second
/// ratio together with the number of samples it was computed over.
fn settle(
    current: i32,
    ratio: f64,
    ready_count: usize,
    has_missing: bool,
    has_unready: bool,
    tol: Tolerances,
    recompute: impl FnOnce(Option<MissingFill>, bool) -> Result<(f64, usize), String>,
) -> Result<i32, String> {
    let scale_up_with_unready = has_unready && ratio > 1.0;
    if !scale_up_with_unready && !has_missing {
        if tol.contains(ratio) {
            return Ok(current);
        }
        return Ok(ceil_to_i32(ratio * ready_count as f64));
    }
    // A ratio of exactly 1.0 leaves missing pods out, as upstream does.
    let fill = if !has_missing {
        None
    } else if ratio < 1.0 {
        Some(MissingFill::Busy)
    } else if ratio > 1.0 {
        Some(MissingFill::Idle)
    } else {
        None
    };
    let (new_ratio, counted) = recompute(fill, scale_up_with_unready)?;
    // The pessimistic fill-ins are only allowed to dampen a move, never to reverse it.
    if tol.contains(new_ratio)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(current);
    }
    let new_replicas = ceil_to_i32(new_ratio * counted as f64);
    // More pods than spec.replicas (e.g. a rolling-update surge) can still make the
    // count move against the ratio; upstream refuses that too.
    if (new_ratio < 1.0 && new_replicas > current) || (new_ratio > 1.0 && new_replicas < current) {
        return Ok(current);
    }
    Ok(new_replicas)
}

/// Metric-based replica proposal for the CPU metric; mirrors `GetResourceReplicas`
/// (`Utilization`) and `GetRawResourceReplicas`/`calcPlainMetricReplicas` (`AverageValue`).
fn propose(
    spec: &HpaSpec,
    current: i32,
    pods: &[PodSample],
    now: Millis,
) -> Result<Proposal, String> {
    if pods.is_empty() {
        return Err("no pods matched the target's selector".to_string());
    }
    let mut ready: Vec<Sample> = Vec::new();
    let mut unready_requests: Vec<i64> = Vec::new();
    let mut missing_requests: Vec<i64> = Vec::new();
    for pod in pods {
        match group_pod(pod, spec, now) {
            PodGroup::Ignored => {}
            PodGroup::Unready => unready_requests.push(pod.request_milli),
            PodGroup::Missing => missing_requests.push(pod.request_milli),
            PodGroup::Ready => {
                if let Some(usage) = pod.usage_milli {
                    ready.push(Sample {
                        value: usage,
                        request: pod.request_milli,
                    });
                }
            }
        }
    }
    if ready.is_empty() {
        return Err(
            "no trusted cpu samples (every counted pod is unready or has no metrics)".to_string(),
        );
    }
    let tol = tolerances_for(spec);
    let ready_count = ready.len();
    let has_missing = !missing_requests.is_empty();
    let has_unready = !unready_requests.is_empty();

    match spec.target {
        Target::Utilization(target) => {
            if target <= 0 {
                return Err(format!("invalid utilization target {target}%"));
            }
            // Upstream computes requests for every listed pod, ignored ones included,
            // and refuses to guess when any of them lacks a CPU request.
            if pods.iter().any(|p| p.request_milli <= 0) {
                return Err("a matched pod has no cpu request".to_string());
            }
            let (ratio, utilization, average) = utilization_ratio(&ready, target)?;
            let mut samples = ready;
            let replicas = settle(
                current,
                ratio,
                ready_count,
                has_missing,
                has_unready,
                tol,
                |fill, zero_unready| {
                    match fill {
                        Some(MissingFill::Busy) => {
                            // Targets above 100 % would otherwise read a missing pod as
                            // under-used and push towards scale-down.
                            let fallback = i64::from(target.max(100));
                            for &request in &missing_requests {
                                samples.push(Sample {
                                    value: request.saturating_mul(fallback) / 100,
                                    request,
                                });
                            }
                        }
                        Some(MissingFill::Idle) => {
                            for &request in &missing_requests {
                                samples.push(Sample { value: 0, request });
                            }
                        }
                        None => {}
                    }
                    if zero_unready {
                        for &request in &unready_requests {
                            samples.push(Sample { value: 0, request });
                        }
                    }
                    let (new_ratio, _, _) = utilization_ratio(&samples, target)?;
                    Ok((new_ratio, samples.len()))
                },
            )?;
            Ok(Proposal {
                replicas,
                utilization: Some(utilization),
                average_milli: average,
            })
        }
        Target::AverageValueMilli(target) => {
            if target <= 0 {
                return Err(format!("invalid average value target {target}m"));
            }
            let (ratio, average) = usage_ratio(&ready, target);
            let mut samples = ready;
            let replicas = settle(
                current,
                ratio,
                ready_count,
                has_missing,
                has_unready,
                tol,
                |fill, zero_unready| {
                    let missing_value = match fill {
                        Some(MissingFill::Busy) => Some(target),
                        Some(MissingFill::Idle) => Some(0),
                        None => None,
                    };
                    if let Some(value) = missing_value {
                        for &request in &missing_requests {
                            samples.push(Sample { value, request });
                        }
                    }
                    if zero_unready {
                        for &request in &unready_requests {
                            samples.push(Sample { value: 0, request });
                        }
                    }
                    let (new_ratio, _) = usage_ratio(&samples, target);
                    Ok((new_ratio, samples.len()))
                },
            )?;
            Ok(Proposal {
                replicas,
                utilization: None,
                average_milli: average,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------

const SCALE_UP_STABILIZED: &str = "ScaleUpStabilized";
const SCALE_DOWN_STABILIZED: &str = "ScaleDownStabilized";
const SCALE_UP_LIMIT: &str = "ScaleUpLimit";
const SCALE_DOWN_LIMIT: &str = "ScaleDownLimit";
const TOO_MANY_REPLICAS: &str = "TooManyReplicas";
const TOO_FEW_REPLICAS: &str = "TooFewReplicas";
const DESIRED_WITHIN_RANGE: &str = "DesiredWithinRange";
const SCALING_DISABLED: &str = "ScalingDisabled";
const SUCCEEDED_RESCALE: &str = "SucceededRescale";
const FAILED_GET_RESOURCE_METRIC: &str = "FailedGetResourceMetric";

/// Short explanation for a condition reason (our wording, not upstream's messages).
fn explain(reason: &str) -> &'static str {
    match reason {
        SCALE_UP_STABILIZED => {
            "a lower recommendation inside the scale-up stabilization window caps the increase"
        }
        SCALE_DOWN_STABILIZED => {
            "a higher recommendation inside the scale-down stabilization window holds replicas up"
        }
        SCALE_UP_LIMIT => "the scale-up policies allow no larger increase in their period",
        SCALE_DOWN_LIMIT => "the scale-down policies allow no larger decrease in their period",
        TOO_MANY_REPLICAS => "the recommendation exceeds maxReplicas",
        TOO_FEW_REPLICAS => "the recommendation is below minReplicas",
        _ => "",
    }
}

/// Result of the normalization step.
#[derive(Debug, Clone, PartialEq)]
struct Normalized {
    desired: i32,
    /// Reasons that changed the value, in the order they applied.
    applied: Vec<&'static str>,
}

/// Stores `replicas` at `now`, reusing the last slot flagged as stale if any.
fn store_recommendation(state: &mut HpaState, stale: Option<usize>, replicas: i32, now: Millis) {
    let rec = Recommendation { at: now, replicas };
    match stale.and_then(|i| state.recommendations.get_mut(i)) {
        Some(slot) => *slot = rec,
        None => state.recommendations.push(rec),
    }
}

/// Mirrors `stabilizeRecommendationWithBehaviors` in `horizontal.go`.
///
/// The scale-up window contributes the minimum and the scale-down window the maximum
/// of recent recommendations; the current count is then clamped into that band so
/// the output only moves when every recommendation in the window agrees.
fn stabilize_with_behaviors(
    spec: &HpaSpec,
    state: &mut HpaState,
    current: i32,
    desired: i32,
    now: Millis,
) -> (i32, &'static str) {
    let up_window = Millis::from(spec.scale_up.stabilization_window_seconds) * 1000;
    let down_window = Millis::from(spec.scale_down.stabilization_window_seconds) * 1000;
    let mut up_bound = desired;
    let mut down_bound = desired;
    let mut stale = None;
    for (i, rec) in state.recommendations.iter().enumerate() {
        if rec.at.saturating_add(up_window) > now {
            up_bound = up_bound.min(rec.replicas);
        }
        if rec.at.saturating_add(down_window) > now {
            down_bound = down_bound.max(rec.replicas);
        }
        if rec.at.saturating_add(up_window) < now && rec.at.saturating_add(down_window) < now {
            stale = Some(i);
        }
    }
    let mut stabilized = current;
    if stabilized < up_bound {
        stabilized = up_bound;
    }
    if stabilized > down_bound {
        stabilized = down_bound;
    }
    // The raw value is stored, not the stabilized one, so windows see the metric's view.
    store_recommendation(state, stale, desired, now);
    let reason = if desired >= current {
        SCALE_UP_STABILIZED
    } else {
        SCALE_DOWN_STABILIZED
    };
    (stabilized, reason)
}

/// Sum of changes recorded strictly inside the last `period_seconds`; mirrors `getReplicasChangePerPeriod`.
fn replicas_changed_in_period(period_seconds: u32, events: &[ScaleEvent], now: Millis) -> i64 {
    let period = Millis::from(period_seconds) * 1000;
    events
        .iter()
        .filter(|e| e.at.saturating_add(period) > now)
        .map(|e| i64::from(e.change))
        .sum()
}

/// Replicas the target had when each policy's period started (current minus net change).
fn period_start_replicas(current: i32, period_seconds: u32, state: &HpaState, now: Millis) -> i64 {
    let added = replicas_changed_in_period(period_seconds, &state.scale_up_events, now);
    let removed = replicas_changed_in_period(period_seconds, &state.scale_down_events, now);
    i64::from(current) - added + removed
}

/// Clamps an i64 into i32, standing in for upstream's int32 arithmetic.
fn to_i32(x: i64) -> i32 {
    x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Highest replica count the scale-up rules allow now; mirrors `calculateScaleUpLimitWithScalingRules`.
fn scale_up_limit(current: i32, rules: &Rules, state: &HpaState, now: Millis) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for policy in &rules.policies {
        let start = period_start_replicas(current, policy.period_seconds, state, now);
        let proposed = match policy.kind {
            PolicyKind::Pods => to_i32(start + i64::from(policy.value)),
            // Rounded up so that a small percentage of a small count still adds a pod.
            PolicyKind::Percent => {
                (start as f64 * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// Lowest replica count the scale-down rules allow now; mirrors `calculateScaleDownLimitWithBehaviors`.
fn scale_down_limit(current: i32, rules: &Rules, state: &HpaState, now: Millis) -> i32 {
    // The smallest change going down is the largest remaining count, hence the swap.
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for policy in &rules.policies {
        let start = period_start_replicas(current, policy.period_seconds, state, now);
        let proposed = match policy.kind {
            PolicyKind::Pods => to_i32(start - i64::from(policy.value)),
            // Truncation (Go's float->int conversion) keeps the removal on the generous side.
            PolicyKind::Percent => (start as f64 * (1.0 - f64::from(policy.value) / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

/// Applies rate policies and min/max; mirrors `convertDesiredReplicasWithBehaviorRate`.
fn limit_by_policies(
    spec: &HpaSpec,
    state: &HpaState,
    current: i32,
    desired: i32,
    now: Millis,
) -> (i32, &'static str) {
    if desired > current {
        let limit = scale_up_limit(current, &spec.scale_up, state, now).max(current);
        let (allowed, reason) = if spec.max_replicas > limit {
            (limit, SCALE_UP_LIMIT)
        } else {
            (spec.max_replicas, TOO_MANY_REPLICAS)
        };
        if desired > allowed {
            return (allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, &spec.scale_down, state, now).min(current);
        let (allowed, reason) = if spec.min_replicas < limit {
            (limit, SCALE_DOWN_LIMIT)
        } else {
            (spec.min_replicas, TOO_FEW_REPLICAS)
        };
        if desired < allowed {
            return (allowed, reason);
        }
    }
    (desired, DESIRED_WITHIN_RANGE)
}

/// Mirrors `normalizeDesiredReplicasWithBehaviors` in `horizontal.go`.
fn normalize_with_behaviors(
    spec: &HpaSpec,
    state: &mut HpaState,
    current: i32,
    prenormalized: i32,
    now: Millis,
) -> Normalized {
    let (stabilized, stab_reason) =
        stabilize_with_behaviors(spec, state, current, prenormalized, now);
    let (desired, limit_reason) = limit_by_policies(spec, state, current, stabilized, now);
    let mut applied = Vec::new();
    if stabilized != prenormalized {
        applied.push(stab_reason);
    }
    if desired != stabilized {
        applied.push(limit_reason);
    }
    Normalized { desired, applied }
}

/// Max over the down window; mirrors the legacy `stabilizeRecommendation` (window inclusive at the cutoff).
fn stabilize_legacy(spec: &HpaSpec, state: &mut HpaState, desired: i32, now: Millis) -> i32 {
    let window = Millis::from(spec.scale_down.stabilization_window_seconds) * 1000;
    let mut highest = desired;
    let mut stale = None;
    for (i, rec) in state.recommendations.iter().enumerate() {
        if rec.at.saturating_add(window) < now {
            stale = Some(i);
        } else if rec.replicas > highest {
            highest = rec.replicas;
        }
    }
    store_recommendation(state, stale, desired, now);
    highest
}

/// Min/max plus the fixed `max(2*current, 4)` cap; mirrors `convertDesiredReplicasWithRules`.
fn convert_legacy(current: i32, desired: i32, min: i32, max: i32) -> (i32, &'static str) {
    // Guards against bogus usage spikes doubling replicas without bound (upstream #32304).
    let cap = (2.0 * f64::from(current)).max(4.0) as i32;
    let (allowed, reason) = if max > cap {
        (cap, SCALE_UP_LIMIT)
    } else {
        (max, TOO_MANY_REPLICAS)
    };
    if desired < min {
        (min, TOO_FEW_REPLICAS)
    } else if desired > allowed {
        (allowed, reason)
    } else {
        (desired, DESIRED_WITHIN_RANGE)
    }
}

/// Mirrors the legacy `normalizeDesiredReplicas` used when `spec.behavior` is nil.
fn normalize_legacy(
    spec: &HpaSpec,
    state: &mut HpaState,
    current: i32,
    prenormalized: i32,
    now: Millis,
) -> Normalized {
    let stabilized = stabilize_legacy(spec, state, prenormalized, now);
    let (desired, limit_reason) =
        convert_legacy(current, stabilized, spec.min_replicas, spec.max_replicas);
    let mut applied = Vec::new();
    if stabilized != prenormalized {
        applied.push(SCALE_DOWN_STABILIZED);
    }
    if desired != stabilized {
        applied.push(limit_reason);
    }
    Normalized { desired, applied }
}

/// Records a rescale; mirrors `storeScaleEvent` (reuses the last slot older than the longest policy period).
fn store_scale_event(spec: &HpaSpec, state: &mut HpaState, prev: i32, new: i32, now: Millis) {
    if spec.behavior_unset {
        // Upstream keeps no events without behavior: nothing would ever read them.
        return;
    }
    let (rules, events, change) = if new > prev {
        (&spec.scale_up, &mut state.scale_up_events, new - prev)
    } else {
        (&spec.scale_down, &mut state.scale_down_events, prev - new)
    };
    let longest = Millis::from(rules.longest_period_seconds()) * 1000;
    let mut stale = None;
    for (i, event) in events.iter_mut().enumerate() {
        if event.at.saturating_add(longest) < now {
            event.outdated = true;
        }
        if event.outdated {
            stale = Some(i);
        }
    }
    let event = ScaleEvent {
        at: now,
        change,
        outdated: false,
    };
    match stale.and_then(|i| events.get_mut(i)) {
        Some(slot) => *slot = event,
        None => events.push(event),
    }
}

/// Metric name and "current of target" text for reasons.
fn describe_metric(target: Target, proposal: &Proposal) -> (&'static str, String) {
    match target {
        Target::Utilization(t) => (
            "cpu resource utilization (percentage of request)",
            format!("{}% of {t}%", proposal.utilization.unwrap_or(0)),
        ),
        Target::AverageValueMilli(t) => (
            "cpu resource",
            format!("{}m of {t}m", proposal.average_milli),
        ),
    }
}

/// Runs one HPA controller sync at virtual time `now`; mirrors `reconcileAutoscaler`.
///
/// `current_replicas` is the target's `spec.replicas`; `pods` is everything its
/// selector matches (terminating, failed and surge pods included, as upstream lists them).
///
/// Zero replicas: when `current_replicas == 0` and `min_replicas != 0` autoscaling is
/// disabled (`ScalingDisabled`, desired stays 0), exactly like upstream. With
/// `min_replicas == 0` the metric is still evaluated and may recommend 0; once the
/// target is at zero no pods exist, so a CPU metric fails with
/// `FailedGetResourceMetric` and the target stays at zero (upstream only scales from
/// zero on object/external metrics, which this module does not model).
///
/// `Decision::condition` is the `ScalingLimited` reason when a policy or min/max changed
/// the value, else the stabilization reason when the window did, else
/// `DesiredWithinRange`; the paths that skip normalization report `ScalingDisabled`,
/// `FailedGetResourceMetric`, or `SucceededRescale` (replicas outside `[min, max]`).
#[must_use = "the decision carries the replica count to apply"]
pub fn sync(
    spec: &HpaSpec,
    current_replicas: i32,
    pods: &[PodSample],
    now: Millis,
    state: &mut HpaState,
) -> Decision {
    let current = current_replicas;
    // Mirrors `recordInitialRecommendation`: the first sync treats the current size as
    // a past recommendation, so a fresh HPA cannot scale down before a full window.
    if state.recommendations.is_empty() {
        state.recommendations.push(Recommendation {
            at: now,
            replicas: current,
        });
    }

    let mut decision = Decision {
        desired: current,
        scaled: false,
        reason: String::new(),
        condition: DESIRED_WITHIN_RANGE,
        current_utilization: None,
        recommendation: None,
        current_average_milli: None,
    };

    if current == 0 && spec.min_replicas != 0 {
        decision.desired = 0;
        decision.condition = SCALING_DISABLED;
        decision.reason = "scaling is disabled because the target has zero replicas".to_string();
        return decision;
    }

    if current > spec.max_replicas {
        decision.desired = spec.max_replicas;
        decision.condition = SUCCEEDED_RESCALE;
        decision.reason = format!(
            "current replicas {current} above maxReplicas {}",
            spec.max_replicas
        );
    } else if current < spec.min_replicas {
        decision.desired = spec.min_replicas;
        decision.condition = SUCCEEDED_RESCALE;
        decision.reason = format!(
            "current replicas {current} below minReplicas {}",
            spec.min_replicas
        );
    } else {
        let proposal = match propose(spec, current, pods, now) {
            Ok(p) => p,
            Err(err) => {
                // Upstream returns before normalization: no recommendation is stored.
                decision.condition = FAILED_GET_RESOURCE_METRIC;
                let what = match spec.target {
                    Target::Utilization(_) => "utilization",
                    Target::AverageValueMilli(_) => "usage",
                };
                decision.reason = format!("cannot compute replicas from cpu {what}: {err}");
                return decision;
            }
        };
        decision.recommendation = Some(proposal.replicas);
        decision.current_utilization = proposal.utilization;
        decision.current_average_milli = Some(proposal.average_milli);

        let normalized = if spec.behavior_unset {
            normalize_legacy(spec, state, current, proposal.replicas, now)
        } else {
            normalize_with_behaviors(spec, state, current, proposal.replicas, now)
        };
        decision.desired = normalized.desired;
        decision.condition = normalized
            .applied
            .last()
            .copied()
            .unwrap_or(DESIRED_WITHIN_RANGE);

        let (name, value) = describe_metric(spec.target, &proposal);
        let mut reason = if proposal.replicas > current {
            format!("{name} above target: {value}")
        } else if proposal.replicas < current {
            format!("all metrics below target: {name} {value}")
        } else {
            format!("{name} needs no change: {value}")
        };
        // Writing into a String cannot fail.
        let _ = write!(reason, " (recommended {})", proposal.replicas);
        for applied in &normalized.applied {
            let _ = write!(reason, "; {applied}: {}", explain(applied));
        }
        decision.reason = reason;
    }

    decision.scaled = decision.desired != current;
    if decision.scaled {
        store_scale_event(spec, state, current, decision.desired, now);
        state.last_scale_time = Some(now);
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sync time well past every start-up window of the pods built below.
    const T0: Millis = 10 * 3_600_000;
    const SEC: Millis = 1000;

    /// A long-running ready pod whose sample is trusted.
    fn pod(request: i64, usage: i64) -> PodSample {
        PodSample {
            ready: true,
            start_time: 0,
            ready_transition: Some(10 * SEC),
            request_milli: request,
            usage_milli: Some(usage),
            metric_window_start: T0 - 30 * SEC,
            ..PodSample::default()
        }
    }

    /// A long-running pod with no sample.
    fn missing(request: i64) -> PodSample {
        PodSample {
            usage_milli: None,
            ..pod(request, 0)
        }
    }

    /// A pod that never became ready since start-up (upstream tests' `ConditionFalse` pods).
    fn never_ready(request: i64, usage: i64) -> PodSample {
        PodSample {
            ready: false,
            ready_transition: Some(0),
            ..pod(request, usage)
        }
    }

    /// Default HPA without the scale-down window, so proposals show up unchanged.
    fn eager(min: i32, max: i32, target: Target) -> HpaSpec {
        let mut spec = HpaSpec::cpu_utilization(min, max, 0);
        spec.target = target;
        spec.scale_down.stabilization_window_seconds = 0;
        spec
    }

    fn pods_at(request: i64, usages: &[i64]) -> Vec<PodSample> {
        usages.iter().map(|&u| pod(request, u)).collect()
    }

    fn one_sync(spec: &HpaSpec, current: i32, pods: &[PodSample]) -> Decision {
        sync(spec, current, pods, T0, &mut HpaState::default())
    }

    // Mirrors replica_calculator_test.go TestReplicaCalcTolerance and
    // TestReplicaCalcComputedToleranceAlgImplementation (edges of the band).
    #[test]
    fn within_tolerance_keeps_current_replicas() {
        struct Case {
            name: &'static str,
            pods: Vec<PodSample>,
            target: i32,
            current: i32,
            want: i32,
        }
        let cases = [
            Case {
                name: "102% of 100% with uneven requests",
                pods: vec![pod(900, 1010), pod(1000, 1030), pod(1100, 1020)],
                target: 100,
                current: 3,
                want: 3,
            },
            Case {
                name: "exactly 110% is inside the inclusive band",
                pods: pods_at(1000, &[1100, 1100, 1100]),
                target: 100,
                current: 3,
                want: 3,
            },
            Case {
                name: "exactly 90% is inside the inclusive band",
                pods: pods_at(1000, &[900; 10]),
                target: 100,
                current: 10,
                want: 10,
            },
            Case {
                name: "111% leaves the band",
                pods: pods_at(1000, &[1110, 1110, 1110]),
                target: 100,
                current: 3,
                want: 4,
            },
            Case {
                name: "89% leaves the band",
                pods: pods_at(1000, &[890; 10]),
                target: 100,
                current: 10,
                want: 9,
            },
        ];
        for c in cases {
            let d = one_sync(
                &eager(1, 100, Target::Utilization(c.target)),
                c.current,
                &c.pods,
            );
            assert_eq!(d.recommendation, Some(c.want), "{}", c.name);
            assert_eq!(d.desired, c.want, "{}", c.name);
        }
    }

    // Mirrors TestReplicaCalcScaleUp, TestReplicaCalcScaleDown and
    // TestReplicaCalcScaleUpCM-style average-value targets.
    #[test]
    fn scale_by_usage_ratio_times_ready_pods() {
        struct Case {
            name: &'static str,
            target: Target,
            usages: Vec<i64>,
            current: i32,
            want: i32,
            utilization: Option<i32>,
            average: i64,
        }
        let cases = [
            Case {
                name: "50% of 30% on 3 pods -> ceil(1.67*3)",
                target: Target::Utilization(30),
                usages: vec![300, 500, 700],
                current: 3,
                want: 5,
                utilization: Some(50),
                average: 500,
            },
            Case {
                name: "28% of 50% on 5 pods -> ceil(0.56*5)",
                target: Target::Utilization(50),
                usages: vec![100, 300, 500, 250, 250],
                current: 5,
                want: 3,
                utilization: Some(28),
                average: 280,
            },
            Case {
                name: "500m of 250m on 3 pods",
                target: Target::AverageValueMilli(250),
                usages: vec![300, 500, 700],
                current: 3,
                want: 6,
                utilization: None,
                average: 500,
            },
        ];
        for c in cases {
            let d = one_sync(
                &eager(1, 100, c.target),
                c.current,
                &pods_at(1000, &c.usages),
            );
            assert_eq!(d.recommendation, Some(c.want), "{}", c.name);
            assert_eq!(d.current_utilization, c.utilization, "{}", c.name);
            assert_eq!(d.current_average_milli, Some(c.average), "{}", c.name);
        }
        let d = one_sync(
            &eager(1, 100, Target::Utilization(60)),
            2,
            &pods_at(1000, &[1420, 1420]),
        );
        assert_eq!(
            d.reason,
            "cpu resource utilization (percentage of request) above target: 142% of 60% (recommended 5)"
        );
    }

    // Mirrors replica_calculator_test.go TestGroupPods and the readiness rules on the
    // "Horizontal Pod Autoscaling" docs page (algorithm details).
    #[test]
    fn group_pods_sets_aside_untrusted_cpu_samples() {
        let spec = HpaSpec::cpu_utilization(1, 10, 50);
        let now = T0;
        let young = now - 60 * SEC; // inside the 5 min initialization period
        let cases = [
            ("ready old pod counts", pod(1000, 500), PodGroup::Ready),
            (
                "terminating pod is ignored",
                PodSample {
                    terminating: true,
                    ..pod(1000, 500)
                },
                PodGroup::Ignored,
            ),
            (
                "failed pod is ignored",
                PodSample {
                    failed: true,
                    ..pod(1000, 500)
                },
                PodGroup::Ignored,
            ),
            (
                "pending pod is unready even with a sample",
                PodSample {
                    pending: true,
                    ..pod(1000, 500)
                },
                PodGroup::Unready,
            ),
            (
                "pod without sample is missing",
                missing(1000),
                PodGroup::Missing,
            ),
            (
                "pod without Ready condition is unready",
                PodSample {
                    ready_transition: None,
                    ..pod(1000, 500)
                },
                PodGroup::Unready,
            ),
            (
                "young ready pod with a fresh window counts",
                PodSample {
                    start_time: young,
                    ready_transition: Some(young + 10 * SEC),
                    metric_window_start: young + 30 * SEC,
                    ..pod(1000, 500)
                },
                PodGroup::Ready,
            ),
            (
                "young ready pod whose window predates readiness is unready",
                PodSample {
                    start_time: young,
                    ready_transition: Some(young + 30 * SEC),
                    metric_window_start: young,
                    ..pod(1000, 500)
                },
                PodGroup::Unready,
            ),
            (
                "young pod that is not ready is unready",
                PodSample {
                    ready: false,
                    start_time: young,
                    ready_transition: Some(young),
                    metric_window_start: young + 30 * SEC,
                    ..pod(1000, 500)
                },
                PodGroup::Unready,
            ),
            (
                "old pod unready since start-up is unready",
                never_ready(1000, 500),
                PodGroup::Unready,
            ),
            (
                "old pod that went unready after being ready still counts",
                PodSample {
                    ready: false,
                    ready_transition: Some(10 * 60 * SEC),
                    ..pod(1000, 500)
                },
                PodGroup::Ready,
            ),
        ];
        for (name, p, want) in cases {
            assert_eq!(group_pod(&p, &spec, now), want, "{name}");
        }
    }

    // Mirrors TestReplicaCalcScaleUpUnreadyLessScale and
    // TestReplicaCalcScaleUpHotCpuLessScale (expected 4 where trusting the
    // unready sample would give 5).
    #[test]
    fn unready_new_pods_count_as_zero_on_scale_up() {
        let hot = PodSample {
            start_time: T0 - 60 * SEC,
            ready_transition: Some(T0 - 30 * SEC),
            metric_window_start: T0 - 60 * SEC,
            ..pod(1000, 300)
        };
        let cases = [
            ("not ready", never_ready(1000, 300)),
            ("ready but sample predates readiness", hot),
        ];
        for (name, first) in cases {
            let pods = vec![first, pod(1000, 500), pod(1000, 700)];
            let d = one_sync(&eager(1, 100, Target::Utilization(30)), 3, &pods);
            assert_eq!(d.recommendation, Some(4), "{name}");
            assert_eq!(d.current_utilization, Some(60), "{name}");
        }
        let trusted = pods_at(1000, &[300, 500, 700]);
        let d = one_sync(&eager(1, 100, Target::Utilization(30)), 3, &trusted);
        assert_eq!(d.recommendation, Some(5), "control: all samples trusted");
    }

    // Mirrors TestReplicaCalcMissingMetricsUnreadyScaleDown, TestReplicaCalcMissingMetrics,
    // TestReplicaCalcMissingMetricsUnreadyScaleUp and the max(100%, target) fallback of
    // GetResourceReplicas.
    #[test]
    fn missing_metrics_count_as_full_on_scale_down_and_idle_on_scale_up() {
        struct Case {
            name: &'static str,
            target: Target,
            pods: Vec<PodSample>,
            current: i32,
            want: i32,
        }
        let cases = [
            Case {
                name: "scale-down: missing pod at 100% of request (0.2 -> 0.8 on 3 pods)",
                target: Target::Utilization(50),
                pods: vec![
                    never_ready(1000, 100),
                    pod(1000, 100),
                    pod(1000, 100),
                    missing(1000),
                ],
                current: 4,
                want: 3,
            },
            Case {
                name: "scale-down: two missing pods at 100% (0.24 -> 0.62 on 4 pods)",
                target: Target::Utilization(100),
                pods: vec![pod(1000, 400), pod(1000, 95), missing(1000), missing(1000)],
                current: 4,
                want: 3,
            },
            Case {
                name: "scale-down: target above 100% fills missing pods at the target",
                target: Target::Utilization(200),
                pods: vec![pod(1000, 100), missing(1000)],
                current: 2,
                want: 2,
            },
            Case {
                name: "scale-up: missing and unready pods at 0%",
                target: Target::Utilization(50),
                pods: vec![never_ready(1000, 100), pod(1000, 2000), missing(1000)],
                current: 3,
                want: 4,
            },
            Case {
                name: "average value: missing pod at the target value on scale-down",
                target: Target::AverageValueMilli(500),
                pods: vec![pod(1000, 100), pod(1000, 100), missing(1000)],
                current: 3,
                want: 2,
            },
        ];
        for c in cases {
            let d = one_sync(&eager(1, 100, c.target), c.current, &c.pods);
            assert_eq!(d.recommendation, Some(c.want), "{}", c.name);
        }
    }

    // Mirrors TestReplicaCalcMissingMetricsUnreadyChange, TestReplicaCalcScaleUpUnreadyNoScale
    // and the surge guard added to GetResourceReplicas (newReplicas vs currentReplicas).
    #[test]
    fn direction_never_flips_after_the_unready_recompute() {
        struct Case {
            name: &'static str,
            target: i32,
            pods: Vec<PodSample>,
            current: i32,
        }
        let cases = [
            Case {
                name: "0.9 becomes 1.44 once the missing pod is filled at 100%",
                target: 50,
                pods: vec![never_ready(1000, 100), pod(1000, 450), missing(1000)],
                current: 3,
            },
            Case {
                name: "1.33 becomes 0.43 once unready pods count as 0%",
                target: 30,
                pods: vec![
                    pod(1000, 400),
                    never_ready(1000, 500),
                    never_ready(1000, 700),
                ],
                current: 3,
            },
            Case {
                name: "ratio stays below 1 but surge pods would raise the count",
                target: 90,
                pods: vec![pod(1000, 100), pod(1000, 100), missing(1000), missing(1000)],
                current: 2,
            },
        ];
        for c in cases {
            let d = one_sync(
                &eager(1, 100, Target::Utilization(c.target)),
                c.current,
                &c.pods,
            );
            assert_eq!(d.recommendation, Some(c.current), "{}", c.name);
            assert!(!d.scaled, "{}", c.name);
        }
    }

    // Mirrors horizontal_test.go TestScaleDownStabilizeInitialSize / TestStabilizeDownscale
    // and the docs' "Stabilization window" section (default 300 s).
    #[test]
    fn scale_down_is_stabilized_for_300s_by_default_then_allowed() {
        let spec = HpaSpec::cpu_utilization(1, 10, 50);
        let mut state = HpaState::default();
        let busy = pods_at(1000, &[500; 5]);
        let idle = pods_at(1000, &[100; 5]);
        let d = sync(&spec, 5, &busy, T0, &mut state);
        assert_eq!((d.desired, d.scaled), (5, false));
        let mut step = 15 * SEC;
        while step < 300 * SEC {
            let d = sync(&spec, 5, &idle, T0 + step, &mut state);
            assert_eq!(d.recommendation, Some(1), "t+{step}ms");
            assert_eq!(d.desired, 5, "t+{step}ms");
            assert_eq!(d.condition, "ScaleDownStabilized", "t+{step}ms");
            step += 15 * SEC;
        }
        let d = sync(&spec, 5, &idle, T0 + 300 * SEC, &mut state);
        assert_eq!((d.desired, d.scaled), (1, true));
        assert_eq!(d.condition, "DesiredWithinRange");
        assert_eq!(
            state.scale_down_events().collect::<Vec<_>>(),
            vec![(T0 + 300 * SEC, 4)]
        );
        assert_eq!(state.last_scale_time(), Some(T0 + 300 * SEC));
    }

    // Mirrors TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors).
    #[test]
    fn stabilization_keeps_the_safest_recent_recommendation() {
        struct Case {
            name: &'static str,
            history: Vec<(Millis, i32)>,
            current: i32,
            desired: i32,
            up_window: u32,
            down_window: u32,
            want: i32,
            stored: Vec<i32>,
        }
        let min = 60 * SEC;
        let cases = [
            Case {
                name: "simple scale down stabilization",
                history: vec![(T0 - 2 * min, 4), (T0 - min, 5)],
                current: 100,
                desired: 3,
                up_window: 0,
                down_window: 180,
                want: 5,
                stored: vec![4, 5, 3],
            },
            Case {
                name: "simple scale up stabilization",
                history: vec![(T0 - 2 * min, 4), (T0 - min, 5)],
                current: 1,
                desired: 7,
                up_window: 300,
                down_window: 0,
                want: 4,
                stored: vec![4, 5, 7],
            },
            Case {
                name: "scale down stabilization reuses an obsolete slot",
                history: vec![
                    (T0 - 10 * min, 10),
                    (T0 - min, 4),
                    (T0 - 2 * min, 5),
                    (T0 - 9 * min, 9),
                ],
                current: 100,
                desired: 3,
                up_window: 0,
                down_window: 180,
                want: 5,
                stored: vec![10, 4, 5, 3],
            },
            Case {
                name: "do not scale up when the recommendation goes down",
                history: vec![(T0 - 100 * min, 2), (T0 - 3 * min, 3)],
                current: 2,
                desired: 1,
                up_window: 300,
                down_window: 300,
                want: 2,
                stored: vec![1, 3],
            },
            Case {
                name: "do not scale down when the recommendation goes up",
                history: vec![(T0 - 100 * min, 2), (T0 - 3 * min, 1)],
                current: 2,
                desired: 3,
                up_window: 300,
                down_window: 300,
                want: 2,
                stored: vec![3, 1],
            },
        ];
        for c in cases {
            let mut spec = HpaSpec::cpu_utilization(1, 1000, 50);
            spec.scale_up.stabilization_window_seconds = c.up_window;
            spec.scale_down.stabilization_window_seconds = c.down_window;
            let mut state = HpaState {
                recommendations: c
                    .history
                    .iter()
                    .map(|&(at, replicas)| Recommendation { at, replicas })
                    .collect(),
                ..HpaState::default()
            };
            let (got, _) = stabilize_with_behaviors(&spec, &mut state, c.current, c.desired, T0);
            assert_eq!(got, c.want, "{}", c.name);
            let stored: Vec<i32> = state.recommendations().map(|(_, r)| r).collect();
            assert_eq!(stored, c.stored, "{}", c.name);
        }
    }

    // Mirrors TestScalingWithRules ("scaleUp with default behavior") and the docs'
    // default scale-up policy (max of 100% and 4 pods per 15 s).
    #[test]
    fn scale_up_is_limited_by_default_policies() {
        let spec = HpaSpec::cpu_utilization(1, 100, 50);
        let state = HpaState::default();
        let cases = [
            (1, 50, 5, "4 pods beat 100% of 1"),
            (2, 50, 6, "4 pods beat 100% of 2"),
            (4, 50, 8, "tie at 8"),
            (10, 50, 20, "100% beats 4 pods"),
            (10, 12, 12, "inside the limit"),
        ];
        for (current, desired, want, name) in cases {
            let (got, reason) = limit_by_policies(&spec, &state, current, desired, T0);
            assert_eq!(got, want, "{name}");
            let expected_reason = if want == desired {
                "DesiredWithinRange"
            } else {
                "ScaleUpLimit"
            };
            assert_eq!(reason, expected_reason, "{name}");
        }

        // The period is a sliding look-back over recorded events, not a per-sync cap.
        let mut state = HpaState::default();
        let hot = |n: usize| vec![pod(1000, 5000); n];
        let timeline = [
            (0, 2, 6),
            (5 * SEC, 6, 6),
            (15 * SEC, 6, 12),
            (30 * SEC, 12, 24),
        ];
        for (offset, current, want) in timeline {
            let d = sync(
                &spec,
                current,
                &hot(current as usize),
                T0 + offset,
                &mut state,
            );
            assert_eq!(d.desired, want, "t+{offset}ms");
            assert_eq!(d.condition, "ScaleUpLimit", "t+{offset}ms");
        }
    }

    // Mirrors TestScalingWithRules (user-defined scale-down policies),
    // TestCalculateScaleDownLimitWithBehaviors and the docs' "Scaling policies" example.
    #[test]
    fn custom_percent_scale_down_with_min_select_policy() {
        let mut spec = HpaSpec::cpu_utilization(1, 100, 50);
        spec.scale_down = Rules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Min,
            policies: vec![
                Policy {
                    kind: PolicyKind::Percent,
                    value: 10,
                    period_seconds: 60,
                },
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_seconds: 60,
                },
            ],
            tolerance: None,
        };
        let mut state = HpaState::default();
        let idle = |n: i32| vec![pod(1000, 50); n as usize];
        let timeline = [
            (0, 20, 18, "10% of 20 is the smaller change"),
            (
                15 * SEC,
                18,
                18,
                "the 2 removed at t0 still use up the 60 s budget",
            ),
            (
                60 * SEC,
                18,
                16,
                "budget refilled: 10% of 18 truncates to 16",
            ),
        ];
        for (offset, current, want, name) in timeline {
            let d = sync(&spec, current, &idle(current), T0 + offset, &mut state);
            assert_eq!(d.desired, want, "{name}");
            assert_eq!(d.condition, "ScaleDownLimit", "{name}");
        }

        // Same rules with Max pick the larger change (the 4-pod policy).
        spec.scale_down.select_policy = SelectPolicy::Max;
        let d = one_sync(&spec, 20, &idle(20));
        assert_eq!(d.desired, 16);

        // Upstream unit test: Min of {2 pods, 50%} from 5 keeps 3.
        spec.scale_down.select_policy = SelectPolicy::Min;
        spec.scale_down.policies = vec![
            Policy {
                kind: PolicyKind::Pods,
                value: 2,
                period_seconds: 60,
            },
            Policy {
                kind: PolicyKind::Percent,
                value: 50,
                period_seconds: 60,
            },
        ];
        assert_eq!(
            scale_down_limit(5, &spec.scale_down, &HpaState::default(), T0),
            3
        );
    }

    // Mirrors the DisabledPolicySelect branches of calculateScaleUpLimitWithScalingRules /
    // calculateScaleDownLimitWithBehaviors and the docs' "Disable scale down" example.
    #[test]
    fn disabled_select_policy_blocks_that_direction() {
        struct Case {
            name: &'static str,
            disable_up: bool,
            usage: i64,
            want: i32,
            condition: &'static str,
        }
        let cases = [
            Case {
                name: "scale-down disabled, load drops",
                disable_up: false,
                usage: 50,
                want: 5,
                condition: "ScaleDownLimit",
            },
            Case {
                name: "scale-up disabled, load rises",
                disable_up: true,
                usage: 2000,
                want: 5,
                condition: "ScaleUpLimit",
            },
            Case {
                name: "scale-down disabled does not block scale-up",
                disable_up: false,
                usage: 1000,
                want: 10,
                condition: "DesiredWithinRange",
            },
        ];
        for c in cases {
            let mut spec = eager(1, 100, Target::Utilization(50));
            if c.disable_up {
                spec.scale_up.select_policy = SelectPolicy::Disabled;
            } else {
                spec.scale_down.select_policy = SelectPolicy::Disabled;
            }
            let d = one_sync(&spec, 5, &vec![pod(1000, c.usage); 5]);
            assert_eq!(d.desired, c.want, "{}", c.name);
            assert_eq!(d.condition, c.condition, "{}", c.name);
        }
    }

    // Mirrors TestScalingWithRules (TooManyReplicas / TooFewReplicas rows),
    // TestScaleUpRCImmediately and TestScaleDownRCImmediately.
    #[test]
    fn min_max_clamps_report_upstream_reasons() {
        struct Case {
            name: &'static str,
            min: i32,
            max: i32,
            current: i32,
            usage: i64,
            want: i32,
            condition: &'static str,
        }
        let cases = [
            Case {
                name: "recommendation above max while under the rate limit",
                min: 1,
                max: 5,
                current: 4,
                usage: 1250,
                want: 5,
                condition: "TooManyReplicas",
            },
            Case {
                name: "recommendation below min",
                min: 3,
                max: 10,
                current: 5,
                usage: 50,
                want: 3,
                condition: "TooFewReplicas",
            },
            Case {
                name: "current above max is clamped without reading metrics",
                min: 2,
                max: 5,
                current: 6,
                usage: 1000,
                want: 5,
                condition: "SucceededRescale",
            },
            Case {
                name: "current below min is raised without reading metrics",
                min: 2,
                max: 6,
                current: 1,
                usage: 0,
                want: 2,
                condition: "SucceededRescale",
            },
        ];
        for c in cases {
            let spec = eager(c.min, c.max, Target::Utilization(50));
            let pods = vec![pod(1000, c.usage); c.current as usize];
            let d = one_sync(&spec, c.current, &pods);
            assert_eq!(d.desired, c.want, "{}", c.name);
            assert_eq!(d.condition, c.condition, "{}", c.name);
            assert!(d.scaled, "{}", c.name);
        }
    }

    // Mirrors reconcileAutoscaler's ScalingDisabled branch and the TestScalingWithRules row
    // "prenormalized desired replicas within range when minReplicas is 0".
    #[test]
    fn zero_replicas_disable_autoscaling_unless_min_is_zero() {
        let spec = eager(1, 10, Target::Utilization(50));
        let d = one_sync(&spec, 0, &[]);
        assert_eq!(
            (d.desired, d.scaled, d.condition),
            (0, false, "ScalingDisabled")
        );

        let scale_to_zero = eager(0, 10, Target::Utilization(50));
        let d = one_sync(&scale_to_zero, 1, &[pod(1000, 0)]);
        assert_eq!((d.desired, d.scaled), (0, true));
        let d = one_sync(&scale_to_zero, 0, &[]);
        assert_eq!(
            (d.desired, d.scaled, d.condition),
            (0, false, "FailedGetResourceMetric")
        );
    }

    // Mirrors TestReplicaCalcScaleUpUnreadyNoScale's sibling error paths
    // ("did not receive metrics for any ready pods") and reconcileAutoscaler's early return.
    #[test]
    fn metric_failure_keeps_replicas_and_stores_no_recommendation() {
        let spec = HpaSpec::cpu_utilization(1, 10, 50);
        let mut state = HpaState::default();
        let pods = vec![never_ready(1000, 900); 3];
        let d = sync(&spec, 3, &pods, T0, &mut state);
        assert_eq!((d.desired, d.scaled), (3, false));
        assert_eq!(d.condition, "FailedGetResourceMetric");
        assert_eq!(d.recommendation, None);
        assert_eq!(state.recommendations().collect::<Vec<_>>(), vec![(T0, 3)]);

        let no_request = vec![pod(0, 100)];
        let d = one_sync(&spec, 1, &no_request);
        assert_eq!(d.condition, "FailedGetResourceMetric");
        assert!(d.reason.contains("no cpu request"), "{}", d.reason);
    }

    // Mirrors TestStoreScaleEvents ("replace one entry, use policies with different periods").
    #[test]
    fn scale_events_reuse_outdated_slots() {
        let mut spec = HpaSpec::cpu_utilization(1, 1000, 50);
        spec.scale_up.policies = vec![
            Policy {
                kind: PolicyKind::Pods,
                value: 10,
                period_seconds: 60,
            },
            Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period_seconds: 30,
            },
        ];
        let event = |ago: Millis, change| ScaleEvent {
            at: T0 - ago * SEC,
            change,
            outdated: false,
        };
        let mut state = HpaState {
            scale_up_events: vec![event(29, 8), event(59, 6), event(61, 7), event(61, 9)],
            ..HpaState::default()
        };
        assert_eq!(
            replicas_changed_in_period(60, &state.scale_up_events, T0),
            14
        );
        store_scale_event(&spec, &mut state, 10, 15, T0);
        let changes: Vec<(i32, bool)> = state
            .scale_up_events
            .iter()
            .map(|e| (e.change, e.outdated))
            .collect();
        assert_eq!(changes, vec![(8, false), (6, false), (7, true), (5, false)]);
    }

    // Mirrors TestConvertDesiredReplicasWithRules and TestNormalizeDesiredReplicas
    // (HPA without spec.behavior).
    #[test]
    fn legacy_normalization_applies_without_behavior() {
        let cases = [
            (5, 7, 3, 8, 7, "DesiredWithinRange"),
            (3, 1, 2, 8, 2, "TooFewReplicas"),
            (1, 0, 0, 10, 0, "DesiredWithinRange"),
            (20, 1000, 1, 10, 10, "TooManyReplicas"),
            (3, 1000, 1, 2000, 6, "ScaleUpLimit"),
        ];
        for (current, desired, min, max, want, reason) in cases {
            assert_eq!(
                convert_legacy(current, desired, min, max),
                (want, reason),
                "{current}->{desired} in [{min},{max}]"
            );
        }
        // The legacy cap is max(2*current, 4) = 4 from one replica, where the defaulted
        // behavior allows current + 4 = 5.
        let mut spec = HpaSpec::cpu_utilization(1, 100, 50);
        let hot = [pod(1000, 5000)];
        assert_eq!(one_sync(&spec, 1, &hot).desired, 5);
        spec.behavior_unset = true;
        let mut state = HpaState::default();
        let d = sync(&spec, 1, &hot, T0, &mut state);
        assert_eq!((d.desired, d.condition), (4, "ScaleUpLimit"));
        assert_eq!(state.scale_up_events().count(), 0);
    }

    // Mirrors the KEP-4951 / TestHPAWithTolerance scenario (5% up, 50% down tolerances).
    #[test]
    fn per_direction_tolerance_overrides_the_global_flag() {
        let mut spec = eager(1, 100, Target::AverageValueMilli(100));
        spec.scale_up.tolerance = Some(0.05);
        spec.scale_down.tolerance = Some(0.5);
        let cases = [(106, 38), (104, 35), (60, 35), (30, 11)];
        for (usage, want) in cases {
            let d = one_sync(&spec, 35, &vec![pod(1000, usage); 35]);
            assert_eq!(d.recommendation, Some(want), "{usage}m of 100m");
        }
        spec.behavior_unset = true;
        let d = one_sync(&spec, 35, &vec![pod(1000, 106); 35]);
        assert_eq!(
            d.recommendation,
            Some(35),
            "legacy mode ignores behavior tolerances"
        );
    }

    /// Replays a load pattern at the default sync period and returns replicas per sync.
    fn replay(spec: &HpaSpec, start: i32, loads: &[i64]) -> Vec<i32> {
        let mut state = HpaState::default();
        let mut replicas = start;
        let mut out = Vec::new();
        for (i, &total) in loads.iter().enumerate() {
            let now = T0 + i as Millis * DEFAULT_SYNC_PERIOD;
            let per_pod = total / i64::from(replicas.max(1));
            let pods = vec![pod(1000, per_pod); replicas as usize];
            replicas = sync(spec, replicas, &pods, now, &mut state).desired;
            out.push(replicas);
        }
        out
    }

    // Mirrors the docs' "Stabilization window" rationale (flapping under fluctuating
    // metrics) and horizontal_test.go TestStabilizeDownscale.
    #[test]
    fn cpu_spike_oscillation_is_damped_by_scale_down_window() {
        // 10 minutes of a 4-core spike for one minute, then one quiet minute.
        let loads: Vec<i64> = (0..40)
            .map(|i| if (i / 4) % 2 == 0 { 4000 } else { 1000 })
            .collect();
        let scale_downs = |trace: &[i32], start: i32| {
            let mut prev = start;
            trace
                .iter()
                .filter(|&&r| {
                    let down = r < prev;
                    prev = r;
                    down
                })
                .count()
        };

        let damped = HpaSpec::cpu_utilization(1, 20, 50);
        let trace = replay(&damped, 4, &loads);
        assert_eq!(scale_downs(&trace, 4), 0, "{trace:?}");
        assert!(trace.iter().skip(1).all(|&r| r == 8), "{trace:?}");

        let undamped = eager(1, 20, Target::Utilization(50));
        let trace = replay(&undamped, 4, &loads);
        assert!(scale_downs(&trace, 4) >= 4, "{trace:?}");
    }

    #[test]
    fn identical_inputs_give_identical_decisions() {
        let spec = HpaSpec::cpu_utilization(1, 50, 60);
        let pods = vec![
            pod(700, 900),
            never_ready(700, 50),
            missing(700),
            pod(700, 1300),
        ];
        let run = || {
            let mut state = HpaState::default();
            let a = sync(&spec, 4, &pods, T0, &mut state);
            let b = sync(&spec, a.desired, &pods, T0 + 15 * SEC, &mut state);
            (a, b, state)
        };
        assert_eq!(run(), run());
    }
}
