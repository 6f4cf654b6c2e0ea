//! `missing-readiness-probe`: a serving container without a readinessProbe.
//!
//! Seed 003 §5 and seed 000 (readiness-only by default): without a readiness probe a pod is
//! added to Service endpoints as soon as its containers start, before the application can
//! answer, and stays there when it hangs.
//!
//! What counts as serving (shared with `missing-prestop`, `rules::shared::serving`):
//! a container that declares a port a selecting Service targets or any other non-metrics
//! port (in a DaemonSet only behind a Service), or the first container of pods a Service
//! selects when no container declares such a port. Services that only expose metrics do not count: every port named like
//! `*metrics*`, `*prometheus*`, `*monitoring*` or `*telemetry*`, a name ending in
//! `-metrics`, or the label `app.kubernetes.io/component: metrics|exporter` (argo-cd's
//! `argocd-metrics`, kube-state-metrics, kube-prometheus' node-exporter behind
//! kube-rbac-proxy). A pod only such Services select, whose containers declare no other
//! port, is scraped, not served: terminating it costs a scrape, not a client request.

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::{probe_port, serving};

/// Rule id.
pub const NAME: &str = "missing-readiness-probe";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A container that serves traffic in a long-running workload has no readinessProbe.",
    source: "seed 003 §5 (probes); seed 000 (readiness probe as the one default probe)",
    help: "Without a readinessProbe a pod joins the Service endpoints the moment its process starts and stays in them when it stops answering. Add a readinessProbe that checks the application can serve (an HTTP endpoint or a TCP connect on the serving port).",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.long_running() {
        return;
    }
    let spec_path = w.spec_path();
    for c in w.running_containers() {
        if c.get("readinessProbe").is_some_and(|n| !n.is_null()) {
            continue;
        }
        let Some(why) = serving(cx, w, &c) else {
            continue;
        };
        let cpath = c.path(&spec_path);
        let (port, http) = probe_port(&c);
        let handler = if http {
            format!("httpGet: {{path: /healthz, port: {port}}}")
        } else {
            format!("tcpSocket: {{port: {port}}}")
        };
        out.warn(
            &cpath.key("readinessProbe"),
            format!(
                "{} {why} but has no readinessProbe: it receives traffic as soon as the process starts, before it can answer, and keeps receiving it when it hangs",
                c.label()
            ),
            format!(
                "add `readinessProbe: {{{handler}, periodSeconds: 5, failureThreshold: 3}}` to `{cpath}` (point it at an endpoint that answers only when the application can serve)"
            ),
        );
    }
}
