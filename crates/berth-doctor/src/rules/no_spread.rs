//! `no-spread`: a replicated workload that does not ask to spread its pods over nodes.
//!
//! Seed 000 spreads each service's containers over hosts and top-of-rack switches with
//! podAntiAffinity; seed 003 §4 recommends podAntiAffinity or topologySpreadConstraints on
//! every Deployment. Without either, the scheduler's default spreading is only a soft score
//! and several replicas can land on one node, which one node failure or drain takes down
//! together. Accepted: a topologySpreadConstraint or a (required or preferred)
//! podAntiAffinity term with `topologyKey: kubernetes.io/hostname`.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "no-spread";

/// The node-level topology key.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A workload with 2+ replicas has neither a topologySpreadConstraint nor a podAntiAffinity term on kubernetes.io/hostname.",
    source: "seed 000 (spread by service over hosts and switches); seed 003 §4 (podAntiAffinity / topology spread on every Deployment)",
    help: "Without a spread rule, several replicas may be scheduled onto the same node and fail or be drained together. Add a topologySpreadConstraint with topologyKey kubernetes.io/hostname (maxSkew 1), or a preferred podAntiAffinity on the same key.",
};

fn keys_of(spec: &Node) -> Vec<String> {
    let mut keys = Vec::new();
    for c in spec.get("topologySpreadConstraints").map_or(&[][..], Node::as_seq) {
        if let Some(k) = c.get("topologyKey").and_then(Node::as_str) {
            keys.push(k.to_string());
        }
    }
    let anti = spec.path(&["affinity", "podAntiAffinity"]);
    for t in anti
        .and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution"))
        .map_or(&[][..], Node::as_seq)
    {
        if let Some(k) = t.get("topologyKey").and_then(Node::as_str) {
            keys.push(k.to_string());
        }
    }
    for t in anti
        .and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"))
        .map_or(&[][..], Node::as_seq)
    {
        if let Some(k) = t.path(&["podAffinityTerm", "topologyKey"]).and_then(Node::as_str) {
            keys.push(k.to_string());
        }
    }
    keys
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.scalable() {
        return;
    }
    let Some(spec) = w.spec() else { return };
    let scale = cx.index.scale(cx.i);
    if scale.max < 2 {
        return;
    }
    let keys = keys_of(spec);
    if keys.iter().any(|k| k == HOSTNAME) {
        return;
    }
    let labels: Vec<String> = w
        .pod_labels()
        .map(|m| {
            m.iter()
                .filter_map(|e| e.value.scalar_text().map(|v| format!("{}: {}", e.key, crate::engine::yaml_scalar(&v))))
                .collect()
        })
        .unwrap_or_default();
    let runs = if scale.hpa.is_some() {
        format!("may run up to {} replicas", scale.max)
    } else {
        format!("runs {} replicas", scale.max)
    };
    let other = if keys.is_empty() {
        "has neither topologySpreadConstraints nor podAntiAffinity".to_string()
    } else {
        format!("spreads only over {}, not over nodes", keys.join(", "))
    };
    let spec_path = w.spec_path();
    out.warn(
        &spec_path.key("topologySpreadConstraints"),
        format!(
            "{} {runs} but {other}: several replicas can land on the same node ({HOSTNAME}) and fail or be drained together",
            cx.object.kind()
        ),
        format!(
            "add `{spec_path}.topologySpreadConstraints: [{{maxSkew: 1, topologyKey: {HOSTNAME}, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: {{{}}}}}}}]`",
            labels.join(", ")
        ),
    );
}
