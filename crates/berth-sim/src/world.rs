//! The API objects the simulator keeps (its object store) and the physical state behind
//! them (processes, listeners, the load balancer's view), kept apart so that a partition can
//! freeze one while the other goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use berth_scheduler::{LabelSelector, PodInfo, Taint};

use crate::time::Millis;

/// Index of a pod in the store (slots are never reused, so ids stay unique for a run).
pub type PodId = usize;
/// Index of a node.
pub type NodeId = usize;
/// Index of a ReplicaSet.
pub type RsId = usize;
/// Index of a Deployment.
pub type DepId = usize;
/// Index of a Service.
pub type SvcId = usize;
/// Index of an app.
pub type AppId = usize;

/// Metadata every stored object has.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Name.
    pub name: String,
    /// Namespace (`""` for nodes).
    pub namespace: String,
    /// Unique id within the run.
    pub uid: u64,
    /// Bumped from the store's counter on every write.
    pub resource_version: u64,
    /// When it was created.
    pub created: Millis,
    /// When its deletion was requested (graceful deletion in progress).
    pub deletion: Option<Millis>,
}

/// What a pod's template says, read once per template.
#[derive(Debug, Clone)]
pub struct Template {
    /// `pod-template-hash`.
    pub hash: String,
    /// The template as JSON (hashed again when an action changes it).
    pub json: serde_json::Value,
    /// Pod labels.
    pub labels: BTreeMap<String, String>,
    /// The scheduler's view of a pod from this template.
    pub sched: PodInfo,
    /// The first container's image.
    pub image: String,
    /// `terminationGracePeriodSeconds` (default 30 s).
    pub grace: Millis,
    /// What the preStop hook does.
    pub pre_stop: PreStop,
    /// Readiness probe.
    pub readiness: Option<Probe>,
    /// Liveness probe.
    pub liveness: Option<Probe>,
    /// Startup probe.
    pub startup: Option<Probe>,
    /// NoExecute tolerations of node conditions: (taint key, seconds or none = for ever).
    pub condition_tolerations: Vec<(String, Option<Millis>)>,
    /// The first container's CPU limit in millicores: beyond it the process is throttled.
    pub cpu_limit: Option<i64>,
    /// The command runs under berth-init, which drains in place of a preStop hook.
    pub berth_init: bool,
}

/// A preStop hook, as far as its duration goes.
#[derive(Debug, Clone, PartialEq)]
pub enum PreStop {
    /// No hook.
    None,
    /// Sleeps this long (`sleep` action, or an exec hook that sleeps).
    Sleep(Millis),
    /// berth's drain: sleeps, then waits until no connection is left, up to a timeout.
    Drain {
        /// The fixed sleep.
        sleep: Millis,
        /// The longest wait for connections after it.
        timeout: Millis,
    },
    /// A hook whose duration the model cannot tell (an HTTP call): taken as instant.
    Unknown,
}

/// A probe's timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// `initialDelaySeconds`.
    pub initial_delay: Millis,
    /// `periodSeconds`.
    pub period: Millis,
    /// `successThreshold`.
    pub success: u32,
    /// `failureThreshold`.
    pub failure: u32,
}

/// Pod phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not running yet.
    Pending,
    /// Bound and started.
    Running,
    /// Finished.
    Succeeded,
    /// Failed.
    Failed,
}

/// What a request meets at a pod's IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// The process accepts and answers.
    Accept,
    /// The IP answers but nothing listens (starting, exited, draining after SIGTERM):
    /// connection refused, a 502 at the balancer.
    Refuse,
    /// Nothing answers at all (the pod's sandbox is gone, or its node is down): the
    /// balancer waits for a timeout, a 504.
    Absent,
}

/// The container as the node runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Not started (not admitted, or pulling its image).
    Waiting,
    /// Running since this time.
    Running(Millis),
    /// Waiting out CrashLoopBackOff.
    BackOff,
    /// Gone for good.
    Exited,
}

/// The physical side of a pod: what the kubelet and the process are doing.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Bumped whenever pending kubelet steps become stale (restart, kill, crash).
    pub generation: u32,
    /// When the kubelet took the pod on (its probes tick from here).
    pub admitted: Option<Millis>,
    /// The container.
    pub container: Container,
    /// What a request meets.
    pub serve: Serve,
    /// The kubelet's own readiness verdict (reported to the API when it can reach it).
    pub probe_ready: bool,
    /// The kubelet has begun terminating the pod.
    pub killing: bool,
    /// When the process stopped accepting after SIGTERM.
    pub drain_since: Option<Millis>,
    /// When SIGKILL comes.
    pub kill_at: Option<Millis>,
    /// Consecutive crashes (for CrashLoopBackOff).
    pub crash_streak: u32,
    /// Share of requests the process can answer (below 1 when CPU-throttled).
    pub capacity: f64,
    /// Since when the process is overloaded.
    pub overloaded_since: Option<Millis>,
    /// The last CPU sample metrics-server took of it: (time, millicores).
    pub metric: Option<(Millis, i64)>,
    /// Its readiness probe failed because it was overloaded (it passes again once not).
    pub unready_by_overload: bool,
    /// Consecutive timed-out (readiness, liveness) probes while overloaded.
    pub probe_fails: (u32, u32),
    /// When each request in flight on it will finish (per-request traffic only).
    pub inflight: std::collections::VecDeque<Millis>,
}

/// A pod.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Metadata.
    pub meta: Meta,
    /// Its app.
    pub app: AppId,
    /// Its ReplicaSet.
    pub rs: Option<RsId>,
    /// Its template.
    pub tpl: Rc<Template>,
    /// Where it is bound.
    pub node: Option<NodeId>,
    /// Its index in the scheduler's cache.
    pub sched: Option<usize>,
    /// Phase as the API shows it.
    pub phase: Phase,
    /// Ready condition as the API shows it.
    pub ready: bool,
    /// Last transition of the Ready condition.
    pub ready_changed: Millis,
    /// Container restarts as the API shows them.
    pub restarts: u32,
    /// The grace period of its deletion.
    pub grace: Millis,
    /// Services that select it.
    pub services: Vec<SvcId>,
    /// Deleted by an eviction (taint-based or the eviction API).
    pub evicted: bool,
    /// Gone from the API.
    pub removed: bool,
    /// The physical side.
    pub rt: Runtime,
}

impl Pod {
    /// Ready and not terminating: counts as a ready replica and a ready endpoint.
    pub fn serving_ready(&self) -> bool {
        self.ready && self.meta.deletion.is_none() && !self.removed
    }
}

/// Whether a node's machine is up and talking to the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Up and connected.
    Up,
    /// Up, but the kubelet cannot reach the API server.
    Partitioned,
    /// Powered off.
    Down,
}

/// A node.
#[derive(Debug, Clone)]
pub struct NodeObj {
    /// Metadata.
    pub meta: Meta,
    /// `topology.kubernetes.io/zone` (`""` when unlabelled).
    pub zone: String,
    /// The Ready condition is True (else Unknown).
    pub ready: bool,
    /// When Ready last changed.
    pub ready_changed: Millis,
    /// Taints (mirrored into the scheduler's cache).
    pub taints: Vec<Taint>,
    /// When the NoExecute taint was added.
    pub no_execute_since: Option<Millis>,
    /// Waiting in the zone's eviction queue for its NoExecute taint.
    pub queued_for_taint: bool,
    /// Cordoned.
    pub unschedulable: bool,
    /// The machine.
    pub health: Health,
    /// When the machine's health last changed.
    pub health_since: Millis,
    /// Images already pulled.
    pub images: BTreeSet<String>,
    /// Pods bound to it and not yet removed from the API.
    pub pods: Vec<PodId>,
    /// Offset of its lease renewals within the renew interval.
    pub lease_phase: Millis,
}

/// A ReplicaSet.
#[derive(Debug, Clone)]
pub struct Rs {
    /// Metadata.
    pub meta: Meta,
    /// Its Deployment.
    pub dep: DepId,
    /// `spec.replicas`.
    pub replicas: i32,
    /// Its template.
    pub tpl: Rc<Template>,
    /// `deployment.kubernetes.io/revision`.
    pub revision: u64,
    /// Pods it owns, terminating ones included, removed ones dropped.
    pub pods: Vec<PodId>,
    /// Deleted (revision history cleanup).
    pub removed: bool,
    /// `deployment.kubernetes.io/desired-replicas`: the Deployment's replicas when the
    /// controller last scaled this ReplicaSet.
    pub desired_annotation: i32,
    /// `deployment.kubernetes.io/max-replicas`: replicas + maxSurge at that time.
    pub max_annotation: i32,
}

/// A Deployment.
#[derive(Debug, Clone)]
pub struct Dep {
    /// Metadata.
    pub meta: Meta,
    /// Its app.
    pub app: AppId,
    /// `spec.replicas`.
    pub replicas: i32,
    /// `spec.selector`.
    pub selector: LabelSelector,
    /// Current template.
    pub tpl: Rc<Template>,
    /// `maxSurge` as written.
    pub max_surge: IntOrPercent,
    /// `maxUnavailable` as written.
    pub max_unavailable: IntOrPercent,
    /// `Recreate` strategy.
    pub recreate: bool,
    /// `minReadySeconds`.
    pub min_ready: Millis,
    /// `revisionHistoryLimit`.
    pub history_limit: usize,
    /// Its ReplicaSets, oldest first.
    pub rss: Vec<RsId>,
    /// Highest revision given out.
    pub revision: u64,
    /// A rollout is in progress (for the "complete" event).
    pub rolling: bool,
    /// Deleted (its ReplicaSets and pods are garbage-collected).
    pub removed: bool,
}

/// An int-or-percent value (`maxSurge`, `minAvailable`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// A count.
    Int(i32),
    /// A percentage.
    Percent(i32),
}

impl IntOrPercent {
    /// Upstream's `GetScaledValueFromIntOrPercent`: a percentage of `total`, rounded up or
    /// down.
    pub fn scaled(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let v = i64::from(p) * i64::from(total);
                let r = if round_up { (v + 99) / 100 } else { v / 100 };
                r as i32
            }
        }
    }

    /// Reads `3` or `"25%"`.
    pub fn from_json(v: &serde_json::Value) -> Option<IntOrPercent> {
        if let Some(i) = v.as_i64() {
            return i32::try_from(i).ok().map(IntOrPercent::Int);
        }
        let s = v.as_str()?;
        match s.strip_suffix('%') {
            Some(p) => p.parse().ok().map(IntOrPercent::Percent),
            None => s.parse().ok().map(IntOrPercent::Int),
        }
    }
}

/// The balancer's per-backend passive health state (nginx `max_fails`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Peer {
    /// Failures counted in the current window.
    pub fails: f64,
    /// Taken out until this time.
    pub down_until: Millis,
}

/// A Service, its EndpointSlice and the load balancer's view of it.
#[derive(Debug, Clone)]
pub struct Svc {
    /// Metadata.
    pub meta: Meta,
    /// The app whose pods it selects (the first one, if several).
    pub app: Option<AppId>,
    /// `spec.selector`.
    pub selector: BTreeMap<String, String>,
    /// Pods it selects, in the API.
    pub pods: BTreeSet<PodId>,
    /// The endpoints the EndpointSlice makes routable (ready ones, or the serving
    /// terminating ones when none is ready and the balancer falls back to them).
    pub published: Rc<Vec<PodId>>,
    /// EndpointSlice resourceVersion.
    pub slice_version: u64,
    /// Ready endpoints as the balancer knows them (the slice, one propagation delay ago).
    pub lb: Rc<Vec<PodId>>,
    /// Round-robin position.
    pub rr: usize,
    /// Passive health state per backend.
    pub peers: BTreeMap<PodId, Peer>,
    /// When each backend joined the balancer's set (for slow start).
    pub joined: BTreeMap<PodId, Millis>,
    /// Requests per second (0 until traffic starts).
    pub rate: f64,
    /// When the current rate began.
    pub rate_since: Millis,
    /// Traffic counted up to here.
    pub accounted: Millis,
    /// Per-request traffic: the chain of arrivals now running (older ones are stale).
    pub arrivals: u32,
    /// Per-request traffic: when the next request arrives, in fractional milliseconds.
    pub next_arrival: f64,
    /// A canary split at the ingress in front of it (ingress-nginx canary weight): the
    /// fraction of requests for the new version's Deployment, the rest for the others.
    pub split: Option<(String, f64)>,
}

/// A PodDisruptionBudget.
#[derive(Debug, Clone)]
pub struct Pdb {
    /// Metadata.
    pub meta: Meta,
    /// `spec.selector`.
    pub selector: LabelSelector,
    /// `spec.minAvailable`.
    pub min_available: Option<IntOrPercent>,
    /// `spec.maxUnavailable`.
    pub max_unavailable: Option<IntOrPercent>,
}

/// A HorizontalPodAutoscaler and the controller's memory of it.
#[derive(Debug, Clone)]
pub struct Hpa {
    /// Metadata.
    pub meta: Meta,
    /// The Deployment it scales.
    pub dep: DepId,
    /// What it asks for.
    pub spec: crate::hpa::HpaSpec,
    /// Recommendations and scale events kept between syncs.
    pub state: crate::hpa::HpaState,
}

/// Per-app counters for the report.
#[derive(Debug, Clone, Default)]
pub struct AppStats {
    /// Requests sent.
    pub requests: u64,
    /// Refused or cut mid-request (502).
    pub failed_502: u64,
    /// No endpoint at all (503).
    pub failed_503: u64,
    /// No answer (504).
    pub failed_504: u64,
    /// Ready replicas (ready, not terminating) now.
    pub ready: i64,
    /// Lowest ready count since the app was first fully ready.
    pub min_ready: Option<i64>,
    /// Highest ready count.
    pub max_ready: i64,
    /// Container restarts.
    pub restarts: u64,
    /// Pods evicted.
    pub evictions: u64,
    /// Pods created.
    pub created: u64,
    /// Autoscaler rescales.
    pub rescales: u64,
    /// When the app first had all its replicas ready.
    pub steady_at: Option<Millis>,
    /// Where its pods ran at that moment: (switch, node, pods), sorted.
    pub placement: Vec<(String, String, u32)>,
}

impl AppStats {
    /// Every failed request.
    pub fn failed(&self) -> u64 {
        self.failed_502 + self.failed_503 + self.failed_504
    }
}

/// An app: the Deployments and Services of one name.
#[derive(Debug, Clone)]
pub struct App {
    /// Name.
    pub name: String,
    /// How its processes behave.
    pub behaviour: crate::scenario::Behaviour,
    /// Its Deployments (one per version).
    pub deps: Vec<DepId>,
    /// The Services its traffic goes through (not berth's per-version Services).
    pub svcs: Vec<SvcId>,
    /// Counters.
    pub stats: AppStats,
}
