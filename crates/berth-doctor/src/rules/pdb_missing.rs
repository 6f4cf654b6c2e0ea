//! `pdb-missing`: a replicated workload with no PodDisruptionBudget selecting its pods.
//!
//! Seed 003 §3: without a PDB, `kubectl drain` and the cluster autoscaler evict every pod of
//! a service on a node at once; the seed recommends a PDB for every service. Checked for
//! Deployments and StatefulSets that run (or may scale to) two or more replicas: spec.replicas
//! ≥ 2, or an HPA with maxReplicas ≥ 2. A PDB of the same namespace counts when its selector
//! matches the pod-template labels.

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::index::Selector;
use crate::workload::Kind;

/// Rule id.
pub const NAME: &str = "pdb-missing";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A Deployment or StatefulSet with 2+ replicas (or an HPA allowing 2+) has no PodDisruptionBudget in its namespace selecting its pods.",
    source: "seed 003 §3 (without a PDB a drain may evict all pods at once; set a PDB for every service)",
    help: "Voluntary disruptions (node drains, cluster-autoscaler scale-downs, upgrades) respect PodDisruptionBudgets only. Without one, every replica on the drained nodes is evicted at once. Add a policy/v1 PodDisruptionBudget with `maxUnavailable: 1` selecting the pods.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !matches!(w.kind, Kind::Deployment | Kind::StatefulSet) {
        return;
    }
    let scale = cx.index.scale(cx.i);
    if scale.max < 2 || !cx.index.pdbs_of(cx.i).is_empty() {
        return;
    }
    let o = cx.object;
    // Prefer the workload's own selector (what a PDB should repeat), else the pod labels.
    let sel = Selector::label_selector(o.node.path(&["spec", "selector"]), false);
    let labels: Vec<String> = match &sel {
        Selector::Match { labels, .. } if !labels.is_empty() => {
            labels.iter().map(|(k, v)| format!("{k}: {}", crate::engine::yaml_scalar(v))).collect()
        }
        _ => w
            .pod_labels()
            .map(|m| {
                m.iter()
                    .filter_map(|e| e.value.scalar_text().map(|v| format!("{}: {}", e.key, crate::engine::yaml_scalar(&v))))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let runs = match scale.hpa {
        Some(h) => format!(
            "is scaled between {} and {} replicas by HorizontalPodAutoscaler `{}`",
            scale.min,
            scale.max,
            cx.other(h).name()
        ),
        None => format!("runs {} replicas", scale.min),
    };
    let name = if o.name().is_empty() { "app" } else { o.name() };
    out.warn(
        &w.meta_path().key("labels"),
        format!(
            "{} {runs} but no PodDisruptionBudget in namespace `{}` selects its pods ({}): a node drain or cluster-autoscaler scale-down may evict all replicas on the drained nodes at once",
            o.kind(),
            cx.namespace_name(),
            if labels.is_empty() { "no pod labels".to_string() } else { labels.join(", ") }
        ),
        format!(
            "add `apiVersion: policy/v1`, `kind: PodDisruptionBudget`, `metadata: {{name: {name}, namespace: {}}}`, `spec: {{maxUnavailable: 1, selector: {{matchLabels: {{{}}}}}}}`",
            cx.namespace_name(),
            labels.join(", ")
        ),
    );
}
