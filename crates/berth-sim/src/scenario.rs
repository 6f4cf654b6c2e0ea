//! The scenario file (`kind: Scenario`): the cluster, the workloads, how the apps behave,
//! the traffic, a timeline of actions and faults, and the assertions a run must meet.
//!
//! Reading is strict: unknown fields are errors with "did you mean", every value is checked,
//! and every error names the file, line, column and field. Files the scenario names
//! (workloads, snapshots) are read through a caller-supplied function, so this module does
//! no I/O itself.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use berth_manifest::{FieldPath, Node, Object, Pos, load_documents, load_objects, schema};
use berth_model::{Diagnostic, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::{Dist, Millis, parse_dist, parse_millis};

/// `apiVersion` of a scenario.
pub const API_VERSION: &str = "berth.dev/v1alpha1";
/// `kind` of a scenario.
pub const KIND: &str = "Scenario";

/// A scenario file as written.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioFile {
    /// `berth.dev/v1alpha1`.
    pub api_version: String,
    /// `Scenario`.
    pub kind: String,
    /// Its name.
    pub metadata: ScenarioMeta,
    /// What to simulate.
    pub spec: ScenarioSpec,
}

/// A scenario's metadata.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioMeta {
    /// Name, shown in the output.
    pub name: String,
    /// One line on what the scenario shows.
    #[serde(default)]
    pub description: Option<String>,
}

/// What to simulate.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioSpec {
    /// How long to run, from the start (e.g. `10m`).
    pub duration: String,
    /// Seed of every random choice (default 1; `--seed` overrides).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The nodes.
    pub cluster: ClusterSpec,
    /// The front load balancer (ingress-nginx, kube-proxy, an SLB).
    #[serde(default)]
    pub load_balancer: Option<LoadBalancerSpec>,
    /// Control-plane settings that differ from upstream's defaults.
    #[serde(default)]
    pub control_plane: Option<ControlPlaneSpec>,
    /// Files holding berth Applications or plain manifests (Deployments, Services, PDBs,
    /// HPAs), relative to the scenario file.
    pub workloads: Vec<String>,
    /// How each app behaves, by app name.
    #[serde(default)]
    pub apps: BTreeMap<String, AppSpec>,
    /// What happens when.
    #[serde(default)]
    pub timeline: Vec<StepSpec>,
    /// What must hold at the end.
    #[serde(default)]
    pub assertions: Vec<AssertionSpec>,
}

/// The nodes: a generated layout of zones, switches and hosts, or a snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Zones the switches are spread over (default 1).
    #[serde(default)]
    pub zones: Option<u32>,
    /// Access switches (default 1).
    #[serde(default)]
    pub switches: Option<u32>,
    /// Hosts under each switch.
    #[serde(default)]
    pub hosts_per_switch: Option<u32>,
    /// Capacity of each generated host.
    #[serde(default)]
    pub node: Option<NodeShape>,
    /// Extra labels on every generated host.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The node label naming the switch (default `topology.berth.dev/switch`).
    #[serde(default)]
    pub switch_label: Option<String>,
    /// `kubectl get nodes,pods -A -o json` output, relative to the scenario file: its nodes
    /// become the cluster and its pods stay where they are as background load.
    #[serde(default)]
    pub snapshot: Option<String>,
}

/// Capacity of a generated host.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeShape {
    /// Allocatable CPU (e.g. `"32"`).
    pub cpu: String,
    /// Allocatable memory (e.g. `128Gi`).
    pub memory: String,
    /// Allocatable pods (default 110).
    #[serde(default)]
    pub pods: Option<i64>,
}

/// The load balancer in front of the Services.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerSpec {
    /// How long an EndpointSlice change takes to reach the balancer (default `3s`).
    #[serde(default)]
    pub propagation_delay: Option<String>,
    /// nginx `max_fails`: failures that take a backend out for `failTimeout` (default 0: off).
    #[serde(default)]
    pub max_fails: Option<u32>,
    /// nginx `fail_timeout` (default `10s`).
    #[serde(default)]
    pub fail_timeout: Option<String>,
    /// Further backends tried after a connection error (default 0).
    #[serde(default)]
    pub retries: Option<u32>,
    /// nginx `slow_start`: a new backend's weight ramps up over this long (default off).
    #[serde(default)]
    pub slow_start: Option<String>,
    /// Route to serving terminating endpoints when no endpoint is ready, as kube-proxy
    /// does since Kubernetes 1.28 (default false: only ready endpoints, as ingress-nginx).
    #[serde(default)]
    pub terminating_fallback: Option<bool>,
}

/// Control-plane settings, named after their kube-controller-manager flags.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneSpec {
    /// `--node-monitor-grace-period` (default `50s`).
    #[serde(default)]
    pub node_monitor_grace_period: Option<String>,
    /// `--node-eviction-rate`, nodes per second per zone (default 0.1).
    #[serde(default)]
    pub node_eviction_rate: Option<f64>,
    /// `--secondary-node-eviction-rate` (default 0.01).
    #[serde(default)]
    pub secondary_node_eviction_rate: Option<f64>,
    /// `--unhealthy-zone-threshold` (default 0.55).
    #[serde(default)]
    pub unhealthy_zone_threshold: Option<f64>,
    /// `--large-cluster-size-threshold` (default 50).
    #[serde(default)]
    pub large_cluster_size_threshold: Option<u32>,
    /// The `tolerationSeconds` the DefaultTolerationSeconds admission plugin gives pods
    /// for not-ready and unreachable nodes (default 300).
    #[serde(default)]
    pub default_toleration_seconds: Option<u64>,
}

/// How one app's processes behave. Durations are fixed (`2s`) or uniform ranges (`2s..5s`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppSpec {
    /// Image pull on a node that does not have the image yet (default `2s`).
    #[serde(default)]
    pub image_pull: Option<String>,
    /// Container start to listening on its port (default `2s`).
    #[serde(default)]
    pub start_time: Option<String>,
    /// Listening to passing its readiness check (default `0s`).
    #[serde(default)]
    pub ready_time: Option<String>,
    /// Whether the process stops accepting and exits on SIGTERM (default true); when
    /// false it keeps serving until SIGKILL.
    #[serde(default)]
    pub honors_sigterm: Option<bool>,
    /// SIGTERM to exit, finishing in-flight work (default `1s`).
    #[serde(default)]
    pub stop_time: Option<String>,
    /// How long one request takes (default `50ms`).
    #[serde(default)]
    pub request_time: Option<String>,
    /// Requests per second sent to the app's Service once it is first fully ready
    /// (default 0).
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// The process crashes this long after each start.
    #[serde(default)]
    pub crash_after: Option<String>,
    /// CPU time one request costs (e.g. `2ms`): with the request rate, the CPU usage the
    /// autoscaler sees and the throttling beyond the CPU limit.
    #[serde(default)]
    pub cpu_per_request: Option<String>,
    /// CPU used with no traffic, in millicores (default 10).
    #[serde(default)]
    pub idle_cpu_millis: Option<u32>,
    /// After each start the process is slower for this long (JIT warm-up, cold caches).
    #[serde(default)]
    pub warmup: Option<String>,
    /// How much more CPU a request costs at the start of the warm-up (default 1); the
    /// extra fades in quarter steps.
    #[serde(default)]
    pub warmup_factor: Option<f64>,
    /// The balancer ramps this app's new backends up over this long (nginx `slow_start`;
    /// default: the balancer's `slowStart`).
    #[serde(default)]
    pub slow_start: Option<String>,
    /// Traffic spikes: every `every`, `requestsPerSecond` for `duration`.
    #[serde(default)]
    pub spikes: Option<SpikeSpec>,
    /// Simulate each request (random arrivals, each one routed and tracked in flight)
    /// instead of counting them per interval; for low rates (up to 20,000 req/s) where
    /// single requests matter.
    #[serde(default)]
    pub per_request: Option<bool>,
}

/// A repeating traffic spike.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpikeSpec {
    /// Time from one spike's start to the next.
    pub every: String,
    /// How long each spike lasts.
    pub duration: String,
    /// The rate during a spike.
    pub requests_per_second: f64,
    /// When the first spike starts (default: one `every` in).
    #[serde(default)]
    pub start: Option<String>,
}

/// One entry of the timeline: a time and exactly one action.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepSpec {
    /// When, from the start of the run (e.g. `2m30s`).
    pub at: String,
    /// `kubectl rollout restart` of the app's Deployments.
    #[serde(default)]
    pub rollout_restart: Option<String>,
    /// `kubectl set image` on the app's Deployments.
    #[serde(default)]
    pub set_image: Option<SetImageSpec>,
    /// `kubectl scale` of the app's Deployments.
    #[serde(default)]
    pub scale: Option<ScaleSpec>,
    /// `kubectl delete pod` of some of the app's pods at once.
    #[serde(default)]
    pub delete_pods: Option<DeletePodsSpec>,
    /// The node's kubelet loses the API server; its pods keep serving.
    #[serde(default)]
    pub partition_node: Option<String>,
    /// The node reaches the API server again.
    #[serde(default)]
    pub heal_node: Option<String>,
    /// The node loses power: every process on it stops, mid-request.
    #[serde(default)]
    pub crash_node: Option<String>,
    /// A crashed node boots again.
    #[serde(default)]
    pub restart_node: Option<String>,
    /// `kubectl drain` (cordon, then evict every pod through the eviction API).
    #[serde(default)]
    pub drain_node: Option<DrainSpec>,
    /// Change an app's request rate.
    #[serde(default)]
    pub traffic: Option<TrafficSpec>,
    /// Image pulls start taking this long (on one node, or everywhere).
    #[serde(default)]
    pub slow_image_pulls: Option<SlowPullsSpec>,
    /// The API server fails a share of controller writes (5xx, 409 Conflict) for a while.
    #[serde(default)]
    pub api_errors: Option<ApiErrorsSpec>,
    /// kube-controller-manager restarts: controllers stop for the downtime, forget what
    /// they kept in memory (autoscaler history, eviction rate tokens), then resync.
    #[serde(default)]
    pub restart_controllers: Option<RestartSpec>,
    /// `berth release start`: a grouped release of a berth Application.
    #[serde(default)]
    pub release: Option<ReleaseSpec>,
    /// `berth release approve APP`: opens a manual gate.
    #[serde(default)]
    pub approve: Option<String>,
    /// `berth release pause APP`.
    #[serde(default)]
    pub pause_release: Option<String>,
    /// `berth release resume APP`.
    #[serde(default)]
    pub resume_release: Option<String>,
    /// `berth release rollback APP`.
    #[serde(default)]
    pub rollback: Option<String>,
}

/// `release` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSpec {
    /// The Application.
    pub app: String,
    /// The version to release.
    pub version: String,
    /// Groups (default: the Application's `release.groups`).
    #[serde(default)]
    pub groups: Option<u32>,
    /// The gate between groups (default: the Application's).
    #[serde(default)]
    pub gate: Option<GateSpec>,
    /// A group not ready this long after it started stops the release (default `10m`).
    #[serde(default)]
    pub progress_deadline: Option<String>,
}

/// A release gate.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateSpec {
    /// Least time after a group is ready before the next starts.
    #[serde(default)]
    pub interval: Option<String>,
    /// Wait for `approve`.
    #[serde(default)]
    pub manual: Option<bool>,
}

/// `slowImagePulls` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlowPullsSpec {
    /// The node (default: every node).
    #[serde(default)]
    pub node: Option<String>,
    /// How long a pull takes from now on (fixed or a range).
    pub pull: String,
}

/// `apiErrors` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorsSpec {
    /// Share of controller syncs whose writes fail (0 to 1).
    pub rate: f64,
    /// For how long.
    #[serde(rename = "for")]
    pub lasting: String,
}

/// `restartControllers` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestartSpec {
    /// Until a new leader runs them (default `15s`, the leader-election lease).
    #[serde(default)]
    pub downtime: Option<String>,
}

/// `setImage` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetImageSpec {
    /// App name.
    pub app: String,
    /// The new image.
    pub image: String,
}

/// `scale` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSpec {
    /// App name.
    pub app: String,
    /// New replica count.
    pub replicas: i32,
}

/// `deletePods` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletePodsSpec {
    /// App name.
    pub app: String,
    /// How many of its pods (chosen at random with the seed).
    pub count: u32,
}

/// `drainNode` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DrainSpec {
    /// Node name.
    pub node: String,
    /// `kubectl drain --timeout` (default: wait for ever).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// `traffic` action.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSpec {
    /// App name.
    pub app: String,
    /// New rate.
    pub requests_per_second: f64,
}

/// One assertion: optionally about one app, with exactly one measure.
#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssertionSpec {
    /// Shown in the report (default: made from the measure).
    #[serde(default)]
    pub name: Option<String>,
    /// The app it is about (default: all apps together).
    #[serde(default)]
    pub app: Option<String>,
    /// At most this many failed requests.
    #[serde(default)]
    pub max_failed_requests: Option<u64>,
    /// At least this many failed requests (to show a pitfall really bites).
    #[serde(default)]
    pub min_failed_requests: Option<u64>,
    /// Ready replicas never below this once the app was first fully ready.
    #[serde(default)]
    pub min_ready: Option<i64>,
    /// At most this many pods evicted (taint-based or through the eviction API).
    #[serde(default)]
    pub max_evictions: Option<u64>,
    /// At least this many pods evicted.
    #[serde(default)]
    pub min_evictions: Option<u64>,
    /// At most this many container restarts.
    #[serde(default)]
    pub max_restarts: Option<u64>,
    /// At least this many container restarts.
    #[serde(default)]
    pub min_restarts: Option<u64>,
    /// At most this many autoscaler rescales.
    #[serde(default)]
    pub max_rescales: Option<u64>,
    /// At least this many autoscaler rescales.
    #[serde(default)]
    pub min_rescales: Option<u64>,
    /// Every drain finished.
    #[serde(default)]
    pub drains_complete: Option<bool>,
    /// The app's release ended in this phase: `Succeeded`, `RolledBack` or `Stalled`.
    #[serde(default)]
    pub release_phase: Option<String>,
    /// A rollback brought the old version back to full strength within this long.
    #[serde(default)]
    pub rollback_within: Option<String>,
}

/// The load balancer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LbParams {
    /// EndpointSlice change to balancer update.
    pub propagation: Millis,
    /// nginx `max_fails` (0: passive health checks off).
    pub max_fails: u32,
    /// nginx `fail_timeout`.
    pub fail_timeout: Millis,
    /// Further backends tried after a connection error.
    pub retries: u32,
    /// Weight ramp of new backends (0: off).
    pub slow_start: Millis,
    /// Serving terminating endpoints are used when none is ready.
    pub terminating_fallback: bool,
}

impl Default for LbParams {
    fn default() -> Self {
        LbParams {
            propagation: 3_000,
            max_fails: 0,
            fail_timeout: 10_000,
            retries: 0,
            slow_start: 0,
            terminating_fallback: false,
        }
    }
}

/// Control-plane parameters (upstream defaults, see `docs/simulator.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlPlane {
    /// `--node-monitor-grace-period`.
    pub node_monitor_grace: Millis,
    /// `--node-monitor-period`.
    pub node_monitor_period: Millis,
    /// `--node-eviction-rate`.
    pub eviction_rate: f64,
    /// `--secondary-node-eviction-rate`.
    pub secondary_eviction_rate: f64,
    /// `--unhealthy-zone-threshold`.
    pub unhealthy_zone_threshold: f64,
    /// `--large-cluster-size-threshold`.
    pub large_cluster_threshold: u32,
    /// DefaultTolerationSeconds.
    pub default_toleration: Millis,
}

impl Default for ControlPlane {
    fn default() -> Self {
        ControlPlane {
            node_monitor_grace: 50_000,
            node_monitor_period: 5_000,
            eviction_rate: 0.1,
            secondary_eviction_rate: 0.01,
            unhealthy_zone_threshold: 0.55,
            large_cluster_threshold: 50,
            default_toleration: 300_000,
        }
    }
}

/// How one app behaves, with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// Image pull on a node without the image.
    pub image_pull: Dist,
    /// Start to listening.
    pub start: Dist,
    /// Listening to ready.
    pub ready: Dist,
    /// Stops accepting and exits on SIGTERM.
    pub honors_sigterm: bool,
    /// SIGTERM to exit.
    pub stop: Dist,
    /// One request's duration.
    pub request: Millis,
    /// Requests per second.
    pub rate: f64,
    /// Crash this long after each start.
    pub crash_after: Option<Dist>,
    /// CPU milliseconds per request.
    pub cpu_per_request: f64,
    /// Millicores with no traffic.
    pub idle_cpu: f64,
    /// Warm-up after each start.
    pub warmup: Millis,
    /// CPU cost factor at the start of the warm-up.
    pub warmup_factor: f64,
    /// This app's slow-start ramp, if it has its own.
    pub slow_start: Option<Millis>,
    /// Each request simulated on its own.
    pub per_request: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            image_pull: Dist::Fixed(2_000),
            start: Dist::Fixed(2_000),
            ready: Dist::Fixed(0),
            honors_sigterm: true,
            stop: Dist::Fixed(1_000),
            request: 50,
            rate: 0.0,
            crash_after: None,
            cpu_per_request: 0.0,
            idle_cpu: 10.0,
            warmup: 0,
            warmup_factor: 1.0,
            slow_start: None,
            per_request: false,
        }
    }
}

/// A timeline action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Restart an app's rollout.
    RolloutRestart(String),
    /// New image for an app.
    SetImage(String, String),
    /// New replica count for an app.
    Scale(String, i32),
    /// Delete this many of an app's pods.
    DeletePods(String, u32),
    /// Cut a node's kubelet off the API server.
    Partition(String),
    /// Reconnect a node's kubelet.
    Heal(String),
    /// Power a node off.
    Crash(String),
    /// Boot a crashed node.
    Restart(String),
    /// Drain a node, with an optional timeout.
    Drain(String, Option<Millis>),
    /// New request rate for an app.
    Traffic(String, f64),
    /// Image pulls take this long (on a node, or everywhere).
    SlowPulls(Option<String>, Dist),
    /// A share of controller writes fail for a while.
    ApiErrors(f64, Millis),
    /// The controller manager restarts with this downtime.
    RestartControllers(Millis),
    /// A grouped release: app, version, groups (None: the app's), gate (None: the
    /// app's), progress deadline.
    Release(
        String,
        String,
        Option<u32>,
        Option<berth_release::Gate>,
        Millis,
    ),
    /// A request to a running release: `approve`, `pause`, `resume`, `rollback`.
    ReleaseRequest(&'static str, String),
}

impl Action {
    /// The action as the timeline prints it.
    pub fn describe(&self) -> String {
        match self {
            Action::RolloutRestart(a) => format!("kubectl rollout restart ({a})"),
            Action::SetImage(a, i) => format!("kubectl set image ({a}) {i}"),
            Action::Scale(a, n) => format!("kubectl scale ({a}) --replicas={n}"),
            Action::DeletePods(a, n) => format!("kubectl delete pod: {n} pods of {a}"),
            Action::Partition(n) => format!("node {n}: kubelet cut off from the API server"),
            Action::Heal(n) => format!("node {n}: kubelet reaches the API server again"),
            Action::Crash(n) => format!("node {n}: power lost"),
            Action::Restart(n) => format!("node {n}: boots again"),
            Action::Drain(n, _) => format!("kubectl drain {n}"),
            Action::Traffic(a, r) => format!("traffic to {a}: {r} req/s"),
            Action::SlowPulls(n, d) => format!(
                "image pulls on {} now take {}",
                n.as_deref().unwrap_or("every node"),
                match d {
                    Dist::Fixed(v) => crate::time::fmt_millis(*v),
                    Dist::Uniform(a, b) => format!(
                        "{}..{}",
                        crate::time::fmt_millis(*a),
                        crate::time::fmt_millis(*b)
                    ),
                }
            ),
            Action::ApiErrors(r, d) => format!(
                "the API server fails {:.0}% of controller writes for {}",
                r * 100.0,
                crate::time::fmt_millis(*d)
            ),
            Action::RestartControllers(d) => format!(
                "kube-controller-manager restarts ({} without a leader)",
                crate::time::fmt_millis(*d)
            ),
            Action::Release(app, v, _, _, _) => format!("berth release start {app} --version {v}"),
            Action::ReleaseRequest(what, app) => format!("berth release {what} {app}"),
        }
    }
}

/// What an assertion measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Failed requests at most.
    MaxFailed(u64),
    /// Failed requests at least.
    MinFailed(u64),
    /// Ready replicas never below.
    MinReady(i64),
    /// Evictions at most.
    MaxEvictions(u64),
    /// Evictions at least.
    MinEvictions(u64),
    /// Restarts at most.
    MaxRestarts(u64),
    /// Restarts at least.
    MinRestarts(u64),
    /// Rescales at most.
    MaxRescales(u64),
    /// Rescales at least.
    MinRescales(u64),
    /// Every drain finished (or, with false, at least one did not).
    DrainsComplete(bool),
    /// The release ended in this phase.
    ReleasePhase(String),
    /// Rollback done within this long.
    RollbackWithin(Millis),
}

/// One assertion, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Shown in the report.
    pub name: String,
    /// The app it is about, or all.
    pub app: Option<String>,
    /// The measure.
    pub measure: Measure,
}

/// A generated or snapshot cluster.
#[derive(Debug, Clone)]
pub enum ClusterSource {
    /// Zones × switches × hosts.
    Generated {
        /// Zones.
        zones: u32,
        /// Switches in total.
        switches: u32,
        /// Hosts per switch.
        hosts_per_switch: u32,
        /// Allocatable CPU in millicores.
        cpu_milli: i64,
        /// Allocatable memory in bytes.
        memory: i64,
        /// Allocatable pods.
        pods: i64,
        /// Extra labels.
        labels: BTreeMap<String, String>,
        /// The switch label's key.
        switch_label: String,
    },
    /// Objects of `kubectl get nodes,pods -A -o json`.
    Snapshot(Vec<Object>),
}

/// A scenario ready to run: every default applied, every file read, every value checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// One line on what it shows.
    pub description: Option<String>,
    /// Seed.
    pub seed: u64,
    /// How long to run.
    pub duration: Millis,
    /// The nodes.
    pub cluster: ClusterSource,
    /// The load balancer.
    pub lb: LbParams,
    /// The control plane.
    pub control_plane: ControlPlane,
    /// Workload objects (Deployments, Services, PDBs, HPAs) as JSON, with the file they
    /// came from.
    pub objects: Vec<(String, serde_json::Value)>,
    /// The berth Applications the workloads hold (their rendered objects are in `objects`).
    pub applications: Vec<berth_model::Application>,
    /// Behaviour per app.
    pub apps: BTreeMap<String, Behaviour>,
    /// Timeline, in the order written (run in time order, ties in written order).
    pub timeline: Vec<(Millis, Action)>,
    /// Assertions.
    pub checks: Vec<Check>,
}

/// The JSON schema of a scenario file, for unknown-field and type errors.
pub fn scenario_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let settings = schemars::generate::SchemaSettings::openapi3().with(|s| {
            s.inline_subschemas = true;
        });
        let schema = settings
            .into_generator()
            .into_root_schema_for::<ScenarioFile>();
        let mut v = serde_json::to_value(schema).unwrap_or(serde_json::Value::Null);
        close_objects(&mut v);
        one_line_descriptions(&mut v);
        v
    })
}

/// Makes every object schema with `properties` refuse unknown fields, as the structural
/// schemas of CRDs do.
fn close_objects(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
            for (_, child) in m.iter_mut() {
                close_objects(child);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Doc comments become descriptions with their line breaks; help text reads better on one
/// line.
fn one_line_descriptions(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "description"
                    && let serde_json::Value::String(text) = child
                {
                    *text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                } else {
                    one_line_descriptions(child);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(one_line_descriptions),
        _ => {}
    }
}

/// A field path below `prefix` for a map key (quoted when it holds a dot).
fn key_path(prefix: &str, key: &str) -> String {
    FieldPath::parse(prefix).key(key).to_string()
}

/// Parses a CPU cost per request into milliseconds: `2ms`, `1.5ms`, `500us`.
fn parse_cpu_cost(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid CPU time per request {text:?}");
    let (num, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(bad());
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    Ok(v * scale)
}

/// Reads a scenario. `read` returns the text of a file the scenario names (its path as
/// written, resolved by the caller relative to the scenario file).
pub fn load_scenario(
    file: &str,
    text: &str,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Scenario, Vec<Diagnostic>> {
    let (docs, errors) = load_documents(file, text);
    let mut diags: Vec<Diagnostic> = errors
        .into_iter()
        .map(|e| diag(file, e.pos, "", e.message, e.hint))
        .collect();
    if !diags.is_empty() {
        return Err(diags);
    }
    let [doc] = docs.as_slice() else {
        return Err(vec![diag(
            file,
            Pos { line: 1, col: 1 },
            "",
            format!(
                "a scenario file holds exactly one document, found {}",
                docs.len()
            ),
            Some("put each scenario in its own file".into()),
        )]);
    };
    let root = &doc.root;
    for d in &doc.duplicate_keys {
        diags.push(diag(
            file,
            d.second,
            &d.path.to_string(),
            format!(
                "`{}` is written twice (lines {} and {})",
                d.path, d.first.line, d.second.line
            ),
            Some("remove one of the two".into()),
        ));
    }
    let api_version = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    if api_version != Some(API_VERSION) || kind != Some(KIND) {
        diags.push(diag(
            file,
            root.pos,
            "",
            format!(
                "expected an `{API_VERSION}` `{KIND}`, found {} {}",
                api_version.unwrap_or("(no apiVersion)"),
                kind.unwrap_or("(no kind)")
            ),
            Some(format!(
                "start the file with `apiVersion: {API_VERSION}` and `kind: {KIND}`"
            )),
        ));
        return Err(diags);
    }
    for v in schema::check(root, scenario_schema()) {
        diags.push(diag(file, v.pos, &v.path.to_string(), v.message, v.fix));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let parsed: ScenarioFile = match serde_json::from_value(root.to_json_present()) {
        Ok(p) => p,
        Err(e) => {
            return Err(vec![diag(
                file,
                root.pos,
                "",
                format!("cannot decode the scenario: {e}"),
                None,
            )]);
        }
    };
    let mut r = Resolver {
        file,
        root,
        diags: Vec::new(),
        workloads_broke: false,
        applications: Vec::new(),
    };
    let scenario = r.resolve(parsed, read);
    if r.diags.is_empty() {
        Ok(scenario)
    } else {
        Err(r.diags)
    }
}

fn diag(file: &str, pos: Pos, path: &str, message: String, fix: Option<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_string(),
        pos,
        path: path.to_string(),
        message,
        fix,
    }
}

struct Resolver<'a> {
    file: &'a str,
    root: &'a Node,
    diags: Vec<Diagnostic>,
    workloads_broke: bool,
    applications: Vec<berth_model::Application>,
}

/// The hint for an app name no workload has.
fn app_hint(name: &str, known: &[String]) -> Option<String> {
    if known.is_empty() {
        return Some("no workload file holds a Deployment (or an Application)".into());
    }
    schema::closest(name, known.iter().map(String::as_str))
        .map(|c| format!("did you mean `{c}`?"))
        .or_else(|| Some(format!("the apps are: {}", known.join(", "))))
}

impl Resolver<'_> {
    fn err(&mut self, path: &str, message: String, fix: Option<String>) {
        let fp = FieldPath::parse(path);
        let pos = self.root.pos_of(&fp);
        self.diags.push(diag(self.file, pos, path, message, fix));
    }

    fn millis(&mut self, path: &str, text: &str) -> Millis {
        parse_millis(text).unwrap_or_else(|m| {
            self.err(path, m, Some("e.g. `500ms`, `30s`, `2m30s`".into()));
            0
        })
    }

    fn dist(&mut self, path: &str, text: Option<&String>, default: Dist) -> Dist {
        match text {
            None => default,
            Some(t) => parse_dist(t).unwrap_or_else(|m| {
                self.err(
                    path,
                    m,
                    Some("write a duration (`2s`) or a range (`2s..5s`)".into()),
                );
                default
            }),
        }
    }

    fn resolve(
        &mut self,
        f: ScenarioFile,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Scenario {
        let s = f.spec;
        let duration = self.millis("spec.duration", &s.duration);
        if duration == 0 {
            self.err(
                "spec.duration",
                "the run must last longer than 0s".into(),
                None,
            );
        }
        let cluster = self.cluster(&s.cluster, read);
        let lb = self.lb(s.load_balancer.as_ref());
        let control_plane = self.control_plane(s.control_plane.as_ref());
        let mut objects = Vec::new();
        for (i, w) in s.workloads.iter().enumerate() {
            objects.extend(self.workload(&format!("spec.workloads[{i}]"), w, read));
        }
        if s.workloads.is_empty() {
            self.err(
                "spec.workloads",
                "no workloads: the scenario has nothing to run".into(),
                Some("list files holding Applications or Deployments".into()),
            );
        }
        let known = app_names(&objects);
        let mut apps = BTreeMap::new();
        self.workloads_broke = !self.diags.is_empty();
        let workloads_broke = self.workloads_broke;
        for (name, a) in &s.apps {
            let path = key_path("spec.apps", name);
            if !known.contains(name) && !workloads_broke {
                let hint = app_hint(name, &known);
                self.err(&path, format!("no workload is app `{name}`"), hint);
            }
            apps.insert(name.clone(), self.behaviour(&path, a));
        }
        for name in &known {
            apps.entry(name.clone()).or_default();
        }
        let mut timeline = Vec::new();
        for (name, a) in &s.apps {
            let Some(sp) = &a.spikes else { continue };
            let path = format!("{}.spikes", key_path("spec.apps", name));
            let every = self.millis(&format!("{path}.every"), &sp.every);
            let len = self.millis(&format!("{path}.duration"), &sp.duration);
            let start = match &sp.start {
                Some(t) => self.millis(&format!("{path}.start"), t),
                None => every,
            };
            if every == 0 || len == 0 || len >= every {
                self.err(
                    &path,
                    "a spike must last longer than 0s and less than `every`".into(),
                    None,
                );
                continue;
            }
            if !(sp.requests_per_second >= 0.0
                && sp.requests_per_second.is_finite()
                && sp.requests_per_second <= 1e7)
            {
                self.err(
                    &format!("{path}.requestsPerSecond"),
                    "must be a number from 0 to 10,000,000".into(),
                    None,
                );
                continue;
            }
            let base = a.requests_per_second.unwrap_or(0.0);
            let mut t = start;
            while t < duration {
                timeline.push((t, Action::Traffic(name.clone(), sp.requests_per_second)));
                if t + len < duration {
                    timeline.push((t + len, Action::Traffic(name.clone(), base)));
                }
                t += every;
            }
        }
        for (i, st) in s.timeline.iter().enumerate() {
            if let Some(step) = self.step(&format!("spec.timeline[{i}]"), st, &known, duration) {
                timeline.push(step);
            }
        }
        let mut checks = Vec::new();
        for (i, a) in s.assertions.iter().enumerate() {
            if let Some(c) = self.check(&format!("spec.assertions[{i}]"), a, &known) {
                checks.push(c);
            }
        }
        Scenario {
            name: f.metadata.name,
            description: f.metadata.description,
            seed: s.seed.unwrap_or(1),
            duration,
            cluster,
            lb,
            control_plane,
            objects,
            applications: std::mem::take(&mut self.applications),
            apps,
            timeline,
            checks,
        }
    }

    fn cluster(
        &mut self,
        c: &ClusterSpec,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> ClusterSource {
        if let Some(snap) = &c.snapshot {
            for (field, set) in [
                ("zones", c.zones.is_some()),
                ("switches", c.switches.is_some()),
                ("hostsPerSwitch", c.hosts_per_switch.is_some()),
                ("node", c.node.is_some()),
            ] {
                if set {
                    self.err(
                        &format!("spec.cluster.{field}"),
                        "a snapshot brings its own nodes".into(),
                        Some(format!("remove `{field}` or `snapshot`")),
                    );
                }
            }
            let text = match read(snap) {
                Ok(t) => t,
                Err(e) => {
                    self.err("spec.cluster.snapshot", e, None);
                    return ClusterSource::Snapshot(Vec::new());
                }
            };
            let (objects, errors) = load_objects(snap, &text);
            for e in errors {
                self.diags.push(diag(&e.file, e.pos, "", e.message, e.hint));
            }
            if !objects.iter().any(|o| o.kind() == "Node") {
                self.err(
                    "spec.cluster.snapshot",
                    format!("{snap} holds no Node"),
                    Some("make it with `kubectl get nodes,pods -A -o json`".into()),
                );
            }
            return ClusterSource::Snapshot(objects);
        }
        let Some(hosts) = c.hosts_per_switch else {
            self.err(
                "spec.cluster",
                "the cluster needs `hostsPerSwitch` (with `switches`, `zones`, `node`) or a `snapshot`".into(),
                None,
            );
            return ClusterSource::Snapshot(Vec::new());
        };
        let zones = c.zones.unwrap_or(1);
        let switches = c.switches.unwrap_or(1);
        for (field, v) in [
            ("zones", zones),
            ("switches", switches),
            ("hostsPerSwitch", hosts),
        ] {
            if v == 0 {
                self.err(
                    &format!("spec.cluster.{field}"),
                    "must be at least 1".into(),
                    None,
                );
            }
        }
        if switches < zones {
            self.err(
                "spec.cluster.switches",
                format!("{switches} switches cannot cover {zones} zones"),
                Some("give every zone at least one switch".into()),
            );
        }
        if u64::from(switches) * u64::from(hosts) > 100_000 {
            self.err(
                "spec.cluster.hostsPerSwitch",
                "more than 100,000 nodes".into(),
                None,
            );
        }
        let (cpu_milli, memory, pods) = match &c.node {
            None => (32_000, 128 << 30, 110),
            Some(n) => {
                let cpu = berth_manifest::quantity::Quantity::parse(&n.cpu)
                    .ok()
                    .and_then(|q| i64::try_from(q.millis()).ok())
                    .filter(|m| *m > 0);
                let mem = berth_manifest::quantity::Quantity::parse(&n.memory)
                    .ok()
                    .and_then(|q| i64::try_from(q.units()).ok())
                    .filter(|m| *m > 0);
                if cpu.is_none() {
                    self.err(
                        "spec.cluster.node.cpu",
                        format!("{:?} is not a CPU quantity", n.cpu),
                        Some("e.g. `\"32\"` or `31500m`".into()),
                    );
                }
                if mem.is_none() {
                    self.err(
                        "spec.cluster.node.memory",
                        format!("{:?} is not a memory quantity", n.memory),
                        Some("e.g. `128Gi`".into()),
                    );
                }
                if n.pods.is_some_and(|p| p < 1) {
                    self.err(
                        "spec.cluster.node.pods",
                        "a node must hold at least 1 pod".into(),
                        None,
                    );
                }
                (cpu.unwrap_or(0), mem.unwrap_or(0), n.pods.unwrap_or(110))
            }
        };
        ClusterSource::Generated {
            zones,
            switches,
            hosts_per_switch: hosts,
            cpu_milli,
            memory,
            pods,
            labels: c.labels.clone(),
            switch_label: c
                .switch_label
                .clone()
                .unwrap_or_else(|| berth_model::DEFAULT_SWITCH_LABEL.to_string()),
        }
    }

    fn lb(&mut self, l: Option<&LoadBalancerSpec>) -> LbParams {
        let mut p = LbParams::default();
        let Some(l) = l else { return p };
        if let Some(d) = &l.propagation_delay {
            p.propagation = self.millis("spec.loadBalancer.propagationDelay", d);
        }
        if let Some(d) = &l.fail_timeout {
            p.fail_timeout = self.millis("spec.loadBalancer.failTimeout", d);
            if p.fail_timeout == 0 {
                self.err(
                    "spec.loadBalancer.failTimeout",
                    "must be longer than 0s".into(),
                    None,
                );
            }
        }
        if let Some(d) = &l.slow_start {
            p.slow_start = self.millis("spec.loadBalancer.slowStart", d);
        }
        p.terminating_fallback = l.terminating_fallback.unwrap_or(false);
        p.max_fails = l.max_fails.unwrap_or(0);
        p.retries = l.retries.unwrap_or(0);
        p
    }

    fn control_plane(&mut self, c: Option<&ControlPlaneSpec>) -> ControlPlane {
        let mut p = ControlPlane::default();
        let Some(c) = c else { return p };
        if let Some(d) = &c.node_monitor_grace_period {
            p.node_monitor_grace = self.millis("spec.controlPlane.nodeMonitorGracePeriod", d);
        }
        let rates = [
            (
                "nodeEvictionRate",
                c.node_eviction_rate,
                &mut p.eviction_rate,
            ),
            (
                "secondaryNodeEvictionRate",
                c.secondary_node_eviction_rate,
                &mut p.secondary_eviction_rate,
            ),
            (
                "unhealthyZoneThreshold",
                c.unhealthy_zone_threshold,
                &mut p.unhealthy_zone_threshold,
            ),
        ];
        let mut bad = Vec::new();
        for (field, v, slot) in rates {
            if let Some(v) = v {
                if !(v >= 0.0 && v.is_finite()) {
                    bad.push(field);
                } else {
                    *slot = v;
                }
            }
        }
        for field in bad {
            self.err(
                &format!("spec.controlPlane.{field}"),
                "must be a number ≥ 0".into(),
                None,
            );
        }
        if let Some(n) = c.large_cluster_size_threshold {
            p.large_cluster_threshold = n;
        }
        if let Some(s) = c.default_toleration_seconds {
            p.default_toleration = s.saturating_mul(1000);
        }
        p
    }

    fn workload(
        &mut self,
        path: &str,
        file: &str,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Vec<(String, serde_json::Value)> {
        let text = match read(file) {
            Ok(t) => t,
            Err(e) => {
                self.err(path, e, None);
                return Vec::new();
            }
        };
        let (docs, errors) = load_documents(file, &text);
        for e in errors {
            self.diags.push(diag(&e.file, e.pos, "", e.message, e.hint));
        }
        let mut out = Vec::new();
        for doc in &docs {
            let root = &doc.root;
            let is_app = root.get("apiVersion").and_then(Node::as_str)
                == Some(berth_model::API_VERSION)
                && root.get("kind").and_then(Node::as_str) == Some(berth_model::KIND);
            if !is_app {
                if root.as_map().is_none() {
                    self.diags.push(diag(
                        file,
                        root.pos,
                        "",
                        format!("document {} is not a Kubernetes object", doc.index + 1),
                        Some("a workload file holds objects with `apiVersion`, `kind` and `metadata`".into()),
                    ));
                    continue;
                }
                if root.get("kind").and_then(Node::as_str).is_none() {
                    self.diags.push(diag(
                        file,
                        root.pos,
                        "",
                        format!("document {}: `kind` is missing", doc.index + 1),
                        Some("add `kind:` (Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler...)".into()),
                    ));
                    continue;
                }
                // Plain manifests, `kind: List` dumps included.
                if root.get("kind").and_then(Node::as_str) == Some("List") {
                    for item in root.get("items").map(Node::as_seq).unwrap_or(&[]) {
                        out.push((file.to_string(), item.to_json()));
                    }
                } else {
                    out.push((file.to_string(), root.to_json()));
                }
                continue;
            }
            let (app, diags) = berth_model::load_application_document(file, doc);
            self.diags
                .extend(diags.into_iter().filter(|d| d.severity == Severity::Error));
            let Some(app) = app else { continue };
            self.applications.push(app.clone());
            match berth_render::render(&app, None) {
                Ok(manifests) => {
                    for m in manifests {
                        match m.to_json() {
                            Ok(j) => out.push((file.to_string(), j)),
                            Err(e) => self.err(path, e.to_string(), None),
                        }
                    }
                }
                Err(e) => self.err(path, e.to_string(), None),
            }
        }
        out
    }

    fn behaviour(&mut self, path: &str, a: &AppSpec) -> Behaviour {
        let d = Behaviour::default();
        let request = match &a.request_time {
            Some(t) => self.millis(&format!("{path}.requestTime"), t),
            None => d.request,
        };
        let rate = a.requests_per_second.unwrap_or(0.0);
        if !(rate >= 0.0 && rate.is_finite() && rate <= 1e7) {
            self.err(
                &format!("{path}.requestsPerSecond"),
                "must be a number from 0 to 10,000,000".into(),
                None,
            );
        }
        Behaviour {
            image_pull: self.dist(
                &format!("{path}.imagePull"),
                a.image_pull.as_ref(),
                d.image_pull,
            ),
            start: self.dist(&format!("{path}.startTime"), a.start_time.as_ref(), d.start),
            ready: self.dist(&format!("{path}.readyTime"), a.ready_time.as_ref(), d.ready),
            honors_sigterm: a.honors_sigterm.unwrap_or(true),
            stop: self.dist(&format!("{path}.stopTime"), a.stop_time.as_ref(), d.stop),
            request,
            rate,
            crash_after: a
                .crash_after
                .as_ref()
                .map(|t| self.dist(&format!("{path}.crashAfter"), Some(t), Dist::Fixed(0))),
            cpu_per_request: match &a.cpu_per_request {
                Some(t) => parse_cpu_cost(t).unwrap_or_else(|m| {
                    self.err(
                        &format!("{path}.cpuPerRequest"),
                        m,
                        Some("write a time with a unit, e.g. `2ms`, `1.5ms` or `500us`".into()),
                    );
                    0.0
                }),
                None => d.cpu_per_request,
            },
            idle_cpu: a.idle_cpu_millis.map_or(d.idle_cpu, f64::from),
            warmup: match &a.warmup {
                Some(t) => self.millis(&format!("{path}.warmup"), t),
                None => 0,
            },
            warmup_factor: {
                let f = a.warmup_factor.unwrap_or(1.0);
                if !(f.is_finite() && f >= 1.0) {
                    self.err(
                        &format!("{path}.warmupFactor"),
                        "must be a number ≥ 1".into(),
                        None,
                    );
                }
                f
            },
            slow_start: a
                .slow_start
                .as_ref()
                .map(|t| self.millis(&format!("{path}.slowStart"), t)),
            per_request: {
                let on = a.per_request.unwrap_or(false);
                let peak = a
                    .spikes
                    .as_ref()
                    .map_or(rate, |s| s.requests_per_second.max(rate));
                if on && peak > 20_000.0 {
                    self.err(
                        &format!("{path}.perRequest"),
                        format!("{peak} req/s is too many to simulate one by one"),
                        Some("leave `perRequest` off: counted traffic is exact at any rate".into()),
                    );
                }
                on
            },
        }
    }

    fn app_ref(&mut self, path: &str, app: &str, known: &[String]) {
        // A workload file that failed to load already explains a missing app.
        if !known.iter().any(|k| k == app) && !self.workloads_broke {
            let hint = app_hint(app, known);
            self.err(path, format!("no workload is app `{app}`"), hint);
        }
    }

    fn step(
        &mut self,
        path: &str,
        st: &StepSpec,
        known: &[String],
        duration: Millis,
    ) -> Option<(Millis, Action)> {
        let at = self.millis(&format!("{path}.at"), &st.at);
        if at > duration {
            self.err(
                &format!("{path}.at"),
                format!(
                    "{} is after the end of the run ({})",
                    st.at,
                    crate::time::fmt_millis(duration)
                ),
                Some("move it earlier or lengthen `spec.duration`".into()),
            );
        }
        let mut actions = Vec::new();
        if let Some(a) = &st.rollout_restart {
            self.app_ref(&format!("{path}.rolloutRestart"), a, known);
            actions.push(Action::RolloutRestart(a.clone()));
        }
        if let Some(s) = &st.set_image {
            self.app_ref(&format!("{path}.setImage.app"), &s.app, known);
            actions.push(Action::SetImage(s.app.clone(), s.image.clone()));
        }
        if let Some(s) = &st.scale {
            self.app_ref(&format!("{path}.scale.app"), &s.app, known);
            if s.replicas < 0 {
                self.err(
                    &format!("{path}.scale.replicas"),
                    "must be 0 or more".into(),
                    None,
                );
            }
            actions.push(Action::Scale(s.app.clone(), s.replicas));
        }
        if let Some(s) = &st.delete_pods {
            self.app_ref(&format!("{path}.deletePods.app"), &s.app, known);
            actions.push(Action::DeletePods(s.app.clone(), s.count));
        }
        for (field, v, make) in [
            (
                "partitionNode",
                &st.partition_node,
                Action::Partition as fn(String) -> Action,
            ),
            ("healNode", &st.heal_node, Action::Heal),
            ("crashNode", &st.crash_node, Action::Crash),
            ("restartNode", &st.restart_node, Action::Restart),
        ] {
            if let Some(n) = v {
                let _ = field;
                actions.push(make(n.clone()));
            }
        }
        if let Some(d) = &st.drain_node {
            let timeout = d
                .timeout
                .as_ref()
                .map(|t| self.millis(&format!("{path}.drainNode.timeout"), t));
            actions.push(Action::Drain(d.node.clone(), timeout));
        }
        if let Some(t) = &st.traffic {
            self.app_ref(&format!("{path}.traffic.app"), &t.app, known);
            if !(t.requests_per_second >= 0.0
                && t.requests_per_second.is_finite()
                && t.requests_per_second <= 1e7)
            {
                self.err(
                    &format!("{path}.traffic.requestsPerSecond"),
                    "must be a number from 0 to 10,000,000".into(),
                    None,
                );
            }
            actions.push(Action::Traffic(t.app.clone(), t.requests_per_second));
        }
        if let Some(sp) = &st.slow_image_pulls {
            let d = self.dist(
                &format!("{path}.slowImagePulls.pull"),
                Some(&sp.pull),
                Dist::Fixed(0),
            );
            actions.push(Action::SlowPulls(sp.node.clone(), d));
        }
        if let Some(e) = &st.api_errors {
            if !(0.0..=1.0).contains(&e.rate) {
                self.err(
                    &format!("{path}.apiErrors.rate"),
                    "must be a share from 0 to 1".into(),
                    Some("e.g. `0.3` for 30%".into()),
                );
            }
            let d = self.millis(&format!("{path}.apiErrors.for"), &e.lasting);
            actions.push(Action::ApiErrors(e.rate, d));
        }
        if let Some(r) = &st.restart_controllers {
            let d = match &r.downtime {
                Some(t) => self.millis(&format!("{path}.restartControllers.downtime"), t),
                None => 15_000,
            };
            actions.push(Action::RestartControllers(d));
        }
        if let Some(r) = &st.release {
            self.app_ref(&format!("{path}.release.app"), &r.app, known);
            let gate = r.gate.as_ref().and_then(|g| match (&g.interval, g.manual) {
                (Some(i), None | Some(false)) => Some(berth_release::Gate::Interval(
                    self.millis(&format!("{path}.release.gate.interval"), i),
                )),
                (None, Some(true)) => Some(berth_release::Gate::Manual),
                (None, None | Some(false)) => None,
                (Some(_), Some(true)) => {
                    self.err(
                        &format!("{path}.release.gate"),
                        "a gate is an interval or manual, not both".into(),
                        None,
                    );
                    None
                }
            });
            if r.groups == Some(0) {
                self.err(
                    &format!("{path}.release.groups"),
                    "a release has at least 1 group".into(),
                    None,
                );
            }
            let deadline = match &r.progress_deadline {
                Some(t) => self.millis(&format!("{path}.release.progressDeadline"), t),
                None => 600_000,
            };
            actions.push(Action::Release(
                r.app.clone(),
                r.version.clone(),
                r.groups,
                gate,
                deadline,
            ));
        }
        for (field, v, what) in [
            ("approve", &st.approve, "approve"),
            ("pauseRelease", &st.pause_release, "pause"),
            ("resumeRelease", &st.resume_release, "resume"),
            ("rollback", &st.rollback, "rollback"),
        ] {
            if let Some(app) = v {
                self.app_ref(&format!("{path}.{field}"), app, known);
                actions.push(Action::ReleaseRequest(what, app.clone()));
            }
        }
        match actions.len() {
            1 => actions.pop().map(|a| (at, a)),
            0 => {
                self.err(
                    path,
                    "a step needs an action".into(),
                    Some("add one of rolloutRestart, setImage, scale, deletePods, partitionNode, healNode, crashNode, restartNode, drainNode, traffic, slowImagePulls, apiErrors, restartControllers, release, approve, pauseRelease, resumeRelease, rollback".into()),
                );
                None
            }
            _ => {
                self.err(
                    path,
                    format!("a step takes exactly one action, found {}", actions.len()),
                    Some("split it into several steps with the same `at`".into()),
                );
                None
            }
        }
    }

    fn check(&mut self, path: &str, a: &AssertionSpec, known: &[String]) -> Option<Check> {
        if let Some(app) = &a.app {
            self.app_ref(&format!("{path}.app"), app, known);
        }
        let mut m = Vec::new();
        if let Some(v) = a.max_failed_requests {
            m.push(Measure::MaxFailed(v));
        }
        if let Some(v) = a.min_failed_requests {
            m.push(Measure::MinFailed(v));
        }
        if let Some(v) = a.min_ready {
            m.push(Measure::MinReady(v));
        }
        if let Some(v) = a.max_evictions {
            m.push(Measure::MaxEvictions(v));
        }
        if let Some(v) = a.min_evictions {
            m.push(Measure::MinEvictions(v));
        }
        if let Some(v) = a.max_restarts {
            m.push(Measure::MaxRestarts(v));
        }
        if let Some(v) = a.min_restarts {
            m.push(Measure::MinRestarts(v));
        }
        if let Some(v) = a.max_rescales {
            m.push(Measure::MaxRescales(v));
        }
        if let Some(v) = a.min_rescales {
            m.push(Measure::MinRescales(v));
        }
        if let Some(v) = a.drains_complete {
            m.push(Measure::DrainsComplete(v));
        }
        if let Some(v) = &a.release_phase {
            if !matches!(v.as_str(), "Succeeded" | "RolledBack" | "Stalled") {
                self.err(
                    &format!("{path}.releasePhase"),
                    format!("{v:?} is not a phase a release ends in"),
                    Some("one of Succeeded, RolledBack, Stalled".into()),
                );
            }
            m.push(Measure::ReleasePhase(v.clone()));
        }
        if let Some(v) = &a.rollback_within {
            let d = self.millis(&format!("{path}.rollbackWithin"), v);
            m.push(Measure::RollbackWithin(d));
        }
        if m.len() != 1 {
            self.err(
                path,
                format!("an assertion takes exactly one measure, found {}", m.len()),
                Some("one of maxFailedRequests, minFailedRequests, minReady, maxEvictions, minEvictions, maxRestarts, minRestarts, maxRescales, minRescales, drainsComplete, releasePhase, rollbackWithin".into()),
            );
            return None;
        }
        let measure = m.pop()?;
        if matches!(
            measure,
            Measure::MinReady(_) | Measure::ReleasePhase(_) | Measure::RollbackWithin(_)
        ) && a.app.is_none()
        {
            let field = match measure {
                Measure::MinReady(_) => "minReady",
                Measure::ReleasePhase(_) => "releasePhase",
                _ => "rollbackWithin",
            };
            self.err(
                &format!("{path}.{field}"),
                format!("{field} is about one app"),
                Some("add `app:`".into()),
            );
        }
        let name = a.name.clone().unwrap_or_else(|| {
            let who = a.app.as_deref().unwrap_or("all apps");
            match &measure {
                Measure::MaxFailed(v) => format!("{who}: at most {v} failed requests"),
                Measure::MinFailed(v) => format!("{who}: at least {v} failed requests"),
                Measure::MinReady(v) => format!("{who}: never fewer than {v} ready"),
                Measure::MaxEvictions(v) => format!("{who}: at most {v} evictions"),
                Measure::MinEvictions(v) => format!("{who}: at least {v} evictions"),
                Measure::MaxRestarts(v) => format!("{who}: at most {v} restarts"),
                Measure::MinRestarts(v) => format!("{who}: at least {v} restarts"),
                Measure::MaxRescales(v) => format!("{who}: at most {v} autoscaler rescales"),
                Measure::MinRescales(v) => format!("{who}: at least {v} autoscaler rescales"),
                Measure::DrainsComplete(true) => "every drain completes".into(),
                Measure::DrainsComplete(false) => "a drain is blocked".into(),
                Measure::ReleasePhase(p) => format!("{who}: the release ends {p}"),
                Measure::RollbackWithin(d) => {
                    format!("{who}: rollback within {}", crate::time::fmt_millis(*d))
                }
            }
        });
        Some(Check {
            name,
            app: a.app.clone(),
            measure,
        })
    }
}

/// The app an object belongs to: berth's `berth.dev/app` label, else
/// `app.kubernetes.io/name`, else `app`, else the object's name.
pub fn app_of(labels: Option<&serde_json::Value>, name: &str) -> String {
    for key in ["berth.dev/app", "app.kubernetes.io/name", "app"] {
        if let Some(v) = labels.and_then(|l| l.get(key)).and_then(|v| v.as_str()) {
            return v.to_string();
        }
    }
    name.to_string()
}

/// The apps the workload objects make: one per Deployment's app, sorted.
fn app_names(objects: &[(String, serde_json::Value)]) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .filter(|(_, o)| o.get("kind").and_then(|k| k.as_str()) == Some("Deployment"))
        .map(|(_, o)| {
            let template_labels = o.pointer("/spec/template/metadata/labels");
            let name = o
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or("");
            app_of(template_labels, name)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
