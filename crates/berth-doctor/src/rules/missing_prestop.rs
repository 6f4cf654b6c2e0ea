//! `missing-prestop`: a serving container of a long-running workload without a preStop hook.
//!
//! Seed 003 §1: when a pod is deleted, its removal from Service endpoints and the SIGTERM to
//! its containers happen at the same time. Without a preStop delay, requests still routed to
//! the pod hit a process that is shutting down (502) or already gone (504). The usual fix is
//! a preStop sleep long enough for every proxy to drop the endpoint (the seed uses 15s).
//!
//! What counts as serving (shared with `missing-readiness-probe`, `rules::shared::serving`):
//! a container that declares a port a selecting Service targets or any other non-metrics
//! port (in a DaemonSet only behind a Service), or the first container of pods a Service
//! selects when no container declares such a port. Services that only expose metrics do not count: every port named like
//! `*metrics*`, `*prometheus*`, `*monitoring*` or `*telemetry*`, a name ending in
//! `-metrics`, or the label `app.kubernetes.io/component: metrics|exporter` (argo-cd's
//! `argocd-metrics`, kube-state-metrics, kube-prometheus' node-exporter behind
//! kube-rbac-proxy). A pod only such Services select, whose containers declare no other
//! port, is scraped, not served: terminating it costs a scrape, not a client request.
//!
//! The fix always waits 15s and asks for a terminationGracePeriodSeconds of at least
//! max(current, 30): the 15s wait plus time to finish in-flight requests. (A shorter sleep
//! derived from a short grace period would not outlast endpoint propagation.)

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::serving;

/// Rule id.
pub const NAME: &str = "missing-prestop";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A container that serves traffic in a Deployment, StatefulSet, DaemonSet or ReplicaSet has no lifecycle.preStop hook.",
    source: "seed 003 §1 (502/504 on termination: endpoint removal races SIGTERM); kubernetes/api core/v1 types.go Lifecycle.PreStop",
    help: "Endpoint removal and SIGTERM happen concurrently when a pod terminates, so proxies keep routing to a process that is exiting. Add a preStop hook that waits until every load balancer has dropped the pod, e.g. `lifecycle: {preStop: {sleep: {seconds: 15}}}` (Kubernetes 1.30+) or `exec: {command: [sleep, \"15\"]}`, and keep terminationGracePeriodSeconds above that wait plus the shutdown time.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.long_running() {
        return;
    }
    let spec_path = w.spec_path();
    let (grace, _) = w.grace_period();
    // The fix always waits 15s (seed 003 §1), and the grace period must cover that wait
    // plus the time to finish in-flight requests: at least 30s, never less than today's.
    let want = grace.max(30);
    let grace_fix = if grace < want {
        format!(
            "raise `{spec_path}.terminationGracePeriodSeconds` from {grace} to {want} (15s wait + 15s to finish in-flight requests; the API server also rejects a sleep action longer than the grace period)"
        )
    } else {
        format!(
            "keep `{spec_path}.terminationGracePeriodSeconds` at {want} or more (it covers the 15s wait plus the time to finish in-flight requests)"
        )
    };
    for c in w.running_containers() {
        if c.node
            .path(&["lifecycle", "preStop"])
            .is_some_and(|n| !n.is_null())
        {
            continue;
        }
        let Some(why) = serving(cx, w, &c) else {
            continue;
        };
        let cpath = c.path(&spec_path);
        out.warn(
            &cpath.key("lifecycle").key("preStop"),
            format!(
                "{} {why} but has no lifecycle.preStop: on termination the pod leaves the Service endpoints at the same moment the container gets SIGTERM, so requests still routed to it fail with 502/504",
                c.label()
            ),
            format!(
                "add `lifecycle: {{preStop: {{sleep: {{seconds: 15}}}}}}` to `{cpath}` (Kubernetes 1.30+; on older clusters `exec: {{command: [\"sleep\", \"15\"]}}`, which needs a sleep binary in the image) and {grace_fix}"
            ),
        );
    }
}
