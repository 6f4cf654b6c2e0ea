//! The `Application` custom resource: one short spec per service.
// kube-derive takes one `printcolumn(...)` per column, each repeating `type_ = ...`.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tier::Tier;

/// What a team declares about its service; berth derives every manifest from it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "berth.dev",
    version = "v1alpha1",
    kind = "Application",
    namespaced,
    status = "ApplicationStatus",
    shortname = "bapp",
    category = "berth",
    doc = "A service berth manages: one short spec compiled into per-version Deployments, autoscalers and disruption budgets plus a stable Service, NetworkPolicy and Ingress.",
    printcolumn(name = "Tier", type_ = "string", json_path = ".spec.tier"),
    printcolumn(name = "Product", type_ = "string", json_path = ".spec.productLine"),
    printcolumn(name = "Wanted", type_ = "string", json_path = ".spec.version"),
    printcolumn(
        name = "Running",
        type_ = "string",
        json_path = ".status.currentVersion"
    ),
    printcolumn(
        name = "UpToDate",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"UpToDate\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSpec {
    /// Container image repository, optionally with a tag or digest
    /// (`registry.example.com/trade/order-api`). Without a tag, the version is the tag.
    pub image: String,
    /// Version to render when none is given on the command line; defaults to the image tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Service tier: `core` (Guaranteed QoS, conservative autoscaling), `standard` or `batch`
    /// (overcommitted requests, higher autoscaling targets).
    pub tier: Tier,
    /// Product line the service belongs to; drives labels, network policy and spreading.
    pub product_line: String,
    /// Owning team, recorded as a label.
    pub owner: String,
    /// Log format label for the log pipeline (for example `java-log4j`, `nginx`, `json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// Command (entrypoint) override; the image's entrypoint when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments to the command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables of the main container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Ports the service listens on; the first is the primary one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// CPU and memory limits; requests follow from the tier.
    pub resources: Resources,
    /// Health probes: readiness by default, startup for slow starters, liveness only if set.
    #[serde(default)]
    pub probes: Probes,
    /// Horizontal autoscaling.
    #[serde(default)]
    pub scaling: Scaling,
    /// How the service stops without losing requests.
    #[serde(default)]
    pub shutdown: Shutdown,
    /// Where pods may and should run.
    #[serde(default)]
    pub placement: Placement,
    /// HTTP exposure through an Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose: Option<Expose>,
    /// How new versions are rolled out.
    #[serde(default)]
    pub release: ReleaseStrategy,
    /// Network identity and access.
    #[serde(default)]
    pub network: Network,
    /// The identity the container runs as.
    #[serde(default)]
    pub security: Security,
    /// Run the command under berth-init as PID 1: it reaps, waits for dependencies, runs
    /// start programs, restarts with a limit, and drains connections on SIGTERM (in place of
    /// the preStop hook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
}

/// berth-init settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Init {
    /// An image holding the static berth-init binary at `/berth-init`; an init container
    /// copies it into the pod.
    pub image: String,
    /// Dependencies to wait for before anything starts: `tcp://host:port` or
    /// `http://host:port/path`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wait_for: Vec<String>,
    /// Longest wait for them, in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub wait_timeout_seconds: Option<i32>,
    /// One-shot programs run in order before the command, each a command and its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start: Vec<Vec<String>>,
    /// Restarts of a crashing command within ten minutes before berth-init gives up and
    /// reports not-ready (default 0: no restart, the container exits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub restart_limit: Option<i32>,
    /// Port for berth-init's `/healthz`, `/readyz` and `/metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub metrics_port: Option<i32>,
}

/// Observed state of an Application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationStatus {
    /// The version that currently serves all traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    /// The `spec.version` the operator last acted on (applied, or started a Release of): a
    /// version changed by a Release started by hand is not undone until `spec.version`
    /// itself changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted_version: Option<String>,
    /// The generation of the spec last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions in the Kubernetes shape: `Applied` (what `berth render` writes is in
    /// place) and `UpToDate` (the running version is `spec.version`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A status condition, shaped like `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, in CamelCase.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason, in CamelCase.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// When the status last changed (RFC 3339).
    pub last_transition_time: String,
    /// The generation this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// An environment variable: a literal value or a key of a Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `secret-name/key`: take the value from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `configmap-name/key`: take the value from a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
}

/// A port the service listens on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Port {
    /// Port name (IANA service name: at most 15 lowercase letters, digits and dashes).
    /// A port named `metrics` is scraped by Prometheus.
    pub name: String,
    /// Port number.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// `TCP` (default) or `UDP`.
    #[serde(default)]
    pub protocol: Protocol,
}

/// Transport protocol of a port.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum Protocol {
    /// TCP.
    #[default]
    TCP,
    /// UDP.
    UDP,
}

/// CPU and memory limits; requests are derived from the tier.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// CPU limit (`500m`, `2`).
    #[serde(deserialize_with = "crate::intstr::de")]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub cpu: String,
    /// Memory limit (`512Mi`, `4Gi`).
    #[serde(deserialize_with = "crate::intstr::de")]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub memory: String,
    /// Requests as a share of limits. `core` must use 1 (Guaranteed QoS); the default is
    /// 0.8 for `standard` and 0.6 for `batch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_ratio: Option<f64>,
    /// Size limit of each writable emptyDir (`/tmp` and `security.writablePaths`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intstr::de_opt"
    )]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub scratch: Option<String>,
}

/// Health probes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probes {
    /// Readiness check; defaults to a TCP check of the primary port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Probe>,
    /// Startup check for slow starters; uses the readiness check unless it names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<StartupProbe>,
    /// Liveness check; none unless set (a failing dependency must not restart every pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Probe>,
}

/// One check: exactly one of `http`, `tcp` or `exec`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// HTTP GET of this path; success is a 2xx or 3xx status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// TCP connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<bool>,
    /// Command run in the container; success is exit status 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Vec<String>>,
    /// Port name or number for `http` and `tcp`; the primary port by default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intstr::de_opt"
    )]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub port: Option<String>,
    /// Seconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 300))]
    pub period_seconds: Option<i32>,
    /// Seconds before one check times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 120))]
    pub timeout_seconds: Option<i32>,
    /// Consecutive failures before the check counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub failure_threshold: Option<i32>,
}

/// Startup check: how long the service may take to start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartupProbe {
    /// Longest start the service is allowed before it is restarted.
    #[schemars(range(min = 1, max = 3600))]
    pub max_start_seconds: i32,
    /// Its own check; the readiness check when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Probe>,
}

/// Horizontal autoscaling.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scaling {
    /// Fewest replicas; the tier's default when absent (core 3, standard 2, batch 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub min_replicas: Option<i32>,
    /// Most replicas; four times the minimum when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_replicas: Option<i32>,
    /// Target CPU use, in percent of the main container's request (the tier's default when
    /// neither target is set: core 65, standard 80, batch 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub target_cpu_utilization: Option<i32>,
    /// Target CPU use per pod as an absolute quantity (`700m`); immune to sidecars.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intstr::de_opt"
    )]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub target_cpu_average: Option<String>,
    /// Target of a per-pod custom metric (requests per second, queue depth) served by a
    /// metrics adapter; steadier than CPU for services with GC or cron spikes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<PodMetric>,
    /// How fast to scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<ScalingBehavior>,
}

/// A per-pod custom metric and its target average.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodMetric {
    /// Metric name as the custom metrics API serves it (`http_requests_per_second`).
    pub name: String,
    /// Target average per pod, as a quantity (`100`, `500m`).
    #[serde(deserialize_with = "crate::intstr::de")]
    #[schemars(schema_with = "crate::intstr::schema")]
    pub target_average: String,
}

/// Scaling speed limits (HPA `behavior`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingBehavior {
    /// Seconds of lower recommendations needed before scaling down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub scale_down_stabilization_seconds: Option<i32>,
    /// Most replicas removed per minute, in percent of the current count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub scale_down_percent_per_minute: Option<i32>,
    /// Most replicas added per minute, in percent of the current count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub scale_up_percent_per_minute: Option<i32>,
}

/// How the service stops; every field has a default.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Shutdown {
    /// Seconds to keep serving after the pod is marked terminating, so that load balancers
    /// stop sending new requests before the process is told to stop.
    #[schemars(range(min = 0, max = 600))]
    pub drain_seconds: i32,
    /// After the drain, also wait until no established TCP connection is left on the
    /// service's ports.
    pub wait_for_connections: bool,
    /// Longest wait for connections to close.
    #[schemars(range(min = 0, max = 3600))]
    pub connection_timeout_seconds: i32,
    /// Seconds the process needs to exit after SIGTERM.
    #[schemars(range(min = 0, max = 3600))]
    pub app_stop_seconds: i32,
}

impl Default for Shutdown {
    fn default() -> Self {
        // Seed 003: a 15 s preStop wait covers endpoint propagation for almost every request.
        Self {
            drain_seconds: 15,
            wait_for_connections: false,
            connection_timeout_seconds: 30,
            app_stop_seconds: 10,
        }
    }
}

/// Where pods run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Placement {
    /// Node label naming the access (top-of-rack) switch; `topology.berth.dev/switch` when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_label: Option<String>,
    /// `ScheduleAnyway` (default) or `DoNotSchedule` when spreading cannot be even.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_unsatisfiable: Option<WhenUnsatisfiable>,
    /// Nodes the pods must run on (all labels must match).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Weighted node preferences, e.g. spot nodes first, then on-demand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_preferences: Vec<NodePreference>,
    /// How long pods stay on a NotReady or unreachable node before eviction (default 900;
    /// berth's node arbiter decides real evictions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub not_ready_toleration_seconds: Option<i64>,
}

/// What to do when spreading cannot be even.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum WhenUnsatisfiable {
    /// Prefer an even spread.
    ScheduleAnyway,
    /// Require an even spread.
    DoNotSchedule,
}

/// A weighted node preference.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePreference {
    /// Weight, 1 to 100.
    #[schemars(range(min = 1, max = 100))]
    pub weight: i32,
    /// Node labels that must all match.
    pub labels: BTreeMap<String, String>,
}

/// HTTP exposure.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expose {
    /// Host name (`shop.example.com`).
    pub host: String,
    /// Path prefix; `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port name to route to; the primary port when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Secret holding the TLS certificate for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// IngressClass; `nginx` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class: Option<String>,
}

/// How a new version replaces the old one; every field has a default.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ReleaseStrategy {
    /// Number of groups a release moves through, one at a time.
    #[schemars(range(min = 1, max = 20))]
    pub groups: i32,
    /// Gate between groups, unless `gates` sets one per group.
    pub gate: Gate,
    /// One gate per group boundary (`groups - 1` entries), overriding `gate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
    /// Canary traffic routing during a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    /// How long the previous version is kept (scaled to zero) for instant rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_previous: Option<String>,
}

impl Default for ReleaseStrategy {
    fn default() -> Self {
        // Seed 000: every release goes through (usually) four groups with a forced pause.
        Self {
            groups: 4,
            gate: Gate {
                interval: Some("5m".into()),
                manual: None,
            },
            gates: Vec::new(),
            canary: None,
            retain_previous: None,
        }
    }
}

/// A gate between release groups: exactly one of `interval` or `manual`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gate {
    /// Least time after a group is ready before the next may start (`10m`, `90s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Wait for an approval recorded on the Release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<bool>,
}

/// Canary routing through ingress-nginx canary annotations during a release: requests
/// with the cookie or header go to the new version from group 1 on; the others follow the
/// groups' shares (exactly, through one Service per version), with `weight` as a smaller
/// slice for group 1.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Canary {
    /// Cookie name; requests with the cookie set to `always` go to the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// Header name; requests with the header set to `always` (or `headerValue`) go to the
    /// new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Header value that selects the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<String>,
    /// Percent of requests group 1 sends to the new version (a canary slice; capped at
    /// group 1's share of replicas); later groups send their share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub weight: Option<i32>,
}

/// Network identity and access.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// A pool of addresses reserved for this app, balanced across switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_pool: Option<IpPool>,
    /// Shared services whose allow-lists must hold the pool's addresses before pods start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whitelist: Vec<WhitelistTarget>,
    /// Other product lines allowed to call this service (its own is always allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_from: Vec<String>,
    /// Namespace of the ingress controller; `ingress-nginx` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_namespace: Option<String>,
    /// Namespace of Prometheus, allowed to scrape the metrics port; `monitoring` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_namespace: Option<String>,
}

/// An app IP pool.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpPool {
    /// Number of addresses (seed 000 defaults to 30).
    #[schemars(range(min = 1, max = 4096))]
    pub size: i32,
}

/// A shared service with an address allow-list (MySQL, Codis, ...).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhitelistTarget {
    /// Kind of service (`mysql`, `codis`, `redis`, ...).
    pub kind: String,
    /// Name of the instance.
    pub name: String,
}

/// The identity the container runs as.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Security {
    /// User id (default 10001; never 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub run_as_user: Option<i64>,
    /// Group id (default 10001).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub run_as_group: Option<i64>,
    /// Writable directories on the read-only root filesystem, besides `/tmp`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writable_paths: Vec<String>,
}
