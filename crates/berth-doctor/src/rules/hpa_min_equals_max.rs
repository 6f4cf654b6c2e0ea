//! `hpa-min-equals-max`: an HPA whose minReplicas equals maxReplicas never scales.

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "hpa-min-equals-max";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Info,
    summary: "An HPA's minReplicas (default 1) equals its maxReplicas, so it can never change the replica count.",
    source: "seed 003 §2.3 (min 2–5 for core services, scaling headroom above it); HPA API (minReplicas defaults to 1)",
    help: "An HPA with minReplicas equal to maxReplicas only pins the replica count; it never reacts to load. Raise maxReplicas to leave room to scale, or remove the HPA and set spec.replicas.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(h) = cx.index.hpas.get(&cx.i) else { return };
    let Some(max) = h.max else { return };
    if h.min != max {
        return;
    }
    let written = cx.object.node.path(&["spec", "minReplicas"]).and_then(Node::as_i64).is_some();
    out.warn(
        &FieldPath::root().key("spec").key("maxReplicas"),
        format!(
            "HPA minReplicas {}{} equals maxReplicas {max}: it can never scale {} `{}`",
            h.min,
            if written { "" } else { " (the default)" },
            h.target_kind,
            h.target_name
        ),
        format!(
            "set `spec.maxReplicas` above {} (e.g. `spec.maxReplicas: {}`) to leave room to scale, or delete the HPA and set `spec.replicas: {}` on the {}",
            h.min,
            h.min.saturating_mul(3).max(h.min.saturating_add(2)),
            h.min,
            h.target_kind
        ),
    );
}
