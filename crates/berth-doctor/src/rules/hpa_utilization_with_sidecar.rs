//! `hpa-utilization-with-sidecar`: an HPA scales on pod Utilization while the pod has sidecars.
//!
//! Seed 003 §2.1.1: a pod's resource utilization is the sum of all its containers' usage
//! over the sum of their requests. An injected Envoy requests 100m by default but uses
//! 0.2–0.4 cores under load, so the pod's utilization runs above the application's and the
//! HPA scales out for no reason. The fix is a `ContainerResource` metric (stable since
//! Kubernetes 1.30) on the application container, or an absolute `AverageValue` target.

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::workload::Workload;

/// Rule id.
pub const NAME: &str = "hpa-utilization-with-sidecar";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "An HPA scales on a Resource metric of type Utilization while the target's pods run more than one container or get a service-mesh sidecar injected.",
    source: "seed 003 §2.1.1 (pod utilization sums sidecar usage); HPA docs: ContainerResource metrics",
    help: "Resource Utilization is the pod's total usage over its total requests, sidecars included; a busy sidecar with a small request pushes the ratio up and the HPA scales out without need. Use `type: ContainerResource` naming the application container, or an `AverageValue` target.",
};

/// One Resource Utilization metric of an HPA: where, which resource, which target.
pub(crate) struct UtilizationMetric {
    /// The field that sets it (or the parent that implies the default).
    pub path: FieldPath,
    /// `cpu` or `memory`.
    pub resource: String,
    /// Target percentage.
    pub target: i64,
    /// `Some(name)` for a ContainerResource metric.
    pub container: Option<String>,
}

/// Resource metrics of type Utilization, across autoscaling/v1, v2beta1, v2beta2 and v2.
/// An HPA without metrics gets the default 80% CPU (autoscaling/v2 SetDefaults, and the
/// v1 controller's defaultTargetCPUUtilizationPercentage).
pub(crate) fn utilization_metrics(hpa: &berth_manifest::Object, include_container: bool) -> Vec<UtilizationMetric> {
    let spec = FieldPath::root().key("spec");
    let version = hpa.api_version();
    if version == "autoscaling/v1" {
        let n = hpa.node.path(&["spec", "targetCPUUtilizationPercentage"]);
        return vec![UtilizationMetric {
            path: spec.key("targetCPUUtilizationPercentage"),
            resource: "cpu".into(),
            target: n.and_then(Node::as_i64).unwrap_or(80),
            container: None,
        }];
    }
    let metrics = hpa.node.path(&["spec", "metrics"]).map_or(&[][..], Node::as_seq);
    if metrics.is_empty() {
        return vec![UtilizationMetric {
            path: spec.key("metrics"),
            resource: "cpu".into(),
            target: 80,
            container: None,
        }];
    }
    let mut out = Vec::new();
    for (i, m) in metrics.iter().enumerate() {
        let kind = m.get("type").and_then(Node::as_str);
        let (key, container) = match kind {
            Some("Resource") => ("resource", None),
            Some("ContainerResource") if include_container => (
                "containerResource",
                m.path(&["containerResource", "container"]).and_then(Node::as_str),
            ),
            _ => continue,
        };
        let Some(r) = m.get(key) else { continue };
        let Some(resource) = r.get("name").and_then(Node::as_str) else { continue };
        let mpath = spec.key("metrics").index(i).key(key);
        let target = if version == "autoscaling/v2beta1" {
            r.get("targetAverageUtilization")
                .and_then(Node::as_i64)
                .map(|t| (mpath.key("targetAverageUtilization"), t))
        } else if r.path(&["target", "type"]).and_then(Node::as_str) == Some("Utilization") {
            r.path(&["target", "averageUtilization"])
                .and_then(Node::as_i64)
                .map(|t| (mpath.key("target").key("averageUtilization"), t))
        } else {
            None
        };
        if let Some((path, target)) = target {
            out.push(UtilizationMetric {
                path,
                resource: resource.to_string(),
                target,
                container: container.map(str::to_string),
            });
        }
    }
    out
}

/// Why the target's pods carry a sidecar, if they do.
fn sidecar_reason(cx: &Cx<'_>, target: usize, w: &Workload<'_>) -> Option<String> {
    let names: Vec<String> = w
        .running_containers()
        .map(|c| if c.name().is_empty() { c.label() } else { c.name().to_string() })
        .collect();
    if names.len() > 1 {
        return Some(format!("its pods run {} containers ({})", names.len(), names.join(", ")));
    }
    let is_true = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let is_false = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let key = "sidecar.istio.io/inject";
    if is_true(w.pod_annotation(key)) || is_true(w.pod_label(key)) {
        return Some(format!("its pod template sets `{key}: \"true\"`, so Istio injects an istio-proxy container"));
    }
    if w.pod_annotation("linkerd.io/inject") == Some("enabled") {
        return Some("its pod template sets `linkerd.io/inject: enabled`, so Linkerd injects a proxy container".into());
    }
    if is_false(w.pod_annotation(key)) || is_false(w.pod_label(key)) {
        return None;
    }
    let ns = cx.index.namespace(target)?;
    let nso = &cx.index.objects[ns.object?];
    if nso.label("istio-injection") == Some("enabled") || nso.label("istio.io/rev").is_some() {
        return Some(format!(
            "namespace `{}` is labelled for Istio sidecar injection",
            nso.name()
        ));
    }
    None
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    if !cx.index.hpas.contains_key(&cx.i) {
        return;
    }
    let Some(target) = cx.index.hpa_target(cx.i) else { return };
    let Some(w) = cx.index.workloads[target].as_ref() else { return };
    let Some(reason) = sidecar_reason(cx, target, w) else { return };
    let app = w
        .running_containers()
        .next()
        .map_or("app".to_string(), |c| c.name().to_string());
    let t = cx.other(target);
    for m in utilization_metrics(cx.object, false) {
        out.warn(
            &m.path,
            format!(
                "HPA scales {} `{}` on {} Utilization {}%, but {reason}: utilization is the pod's total usage over its total requests, so sidecar load triggers scale-ups the application does not need",
                t.kind(),
                t.name(),
                m.resource,
                m.target
            ),
            format!(
                "replace the metric with `{{type: ContainerResource, containerResource: {{name: {}, container: {app}, target: {{type: Utilization, averageUtilization: {}}}}}}}` under `spec.metrics` (autoscaling/v2, Kubernetes 1.30+), or use a `type: AverageValue` target",
                m.resource, m.target
            ),
        );
    }
}
