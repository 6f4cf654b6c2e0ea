//! `replicas-with-hpa`: a workload sets spec.replicas while an HPA scales it.
//!
//! Every `kubectl apply` of a manifest that sets `spec.replicas` writes that number back,
//! undoing the HPA's scale until its next sync (and scaling a loaded service in, if the
//! number is lower). The HPA documentation recommends removing `spec.replicas` from the
//! manifest once an HPA manages the workload.

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "replicas-with-hpa";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A Deployment, StatefulSet or ReplicaSet sets spec.replicas while an HPA in the input scales it.",
    source: "seed 003 §2 (HPA owns the replica count); HPA docs: migrating Deployments to horizontal autoscaling",
    help: "When a manifest sets spec.replicas and an HPA scales the same workload, every apply resets the replica count to the manifest's number until the HPA's next sync. Remove spec.replicas from the manifest; the HPA keeps it between minReplicas and maxReplicas.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.scalable() {
        return;
    }
    let Some(replicas) = cx.object.node.path(&["spec", "replicas"]) else { return };
    if replicas.is_null() {
        return;
    }
    let Some(&h) = cx.index.hpas_targeting(cx.i).first() else { return };
    let Some(hpa) = cx.index.hpas.get(&h) else { return };
    let shown = replicas.scalar_text().unwrap_or_else(|| replicas.type_name().to_string());
    out.warn(
        &berth_manifest::FieldPath::root().key("spec").key("replicas"),
        format!(
            "spec.replicas is {shown} while HorizontalPodAutoscaler `{}` scales this {} between {} and {}: every `kubectl apply` of this manifest resets the replica count to {shown} until the HPA's next sync",
            cx.other(h).name(),
            cx.object.kind(),
            hpa.min,
            hpa.max.map_or("?".into(), |m| m.to_string())
        ),
        format!(
            "remove `spec.replicas` from the manifest (the HPA keeps it between minReplicas {} and maxReplicas); with server-side apply, also drop the field from the applier's managed fields once",
            hpa.min
        ),
    );
}
