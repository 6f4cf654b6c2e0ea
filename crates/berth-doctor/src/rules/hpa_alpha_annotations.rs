//! `hpa-alpha-annotations`: an autoscaling/v1 HPA carrying autoscaling/v2 fields encoded in
//! `autoscaling.alpha.kubernetes.io/*` annotations.
//!
//! Seed 003 §2.5: kubectl before 1.23 reads HPAs as autoscaling/v1 and encodes the v2-only
//! fields (metrics, behavior, conditions) into annotations such as
//! `autoscaling.alpha.kubernetes.io/behavior`. A manifest saved from such output and applied
//! again carries those annotations; editing them by hand can have unexpected effects, up to
//! crashing the controller manager (kubernetes issue "Nil pointer dereference in KCM after
//! v1 HPA patch request"). Write the HPA as autoscaling/v2 with the fields in `spec`.

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "hpa-alpha-annotations";

/// The annotation prefix the v1 API uses to round-trip v2 fields.
pub const PREFIX: &str = "autoscaling.alpha.kubernetes.io/";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "An autoscaling/v1 HPA carries autoscaling.alpha.kubernetes.io/* annotations: v2 fields (metrics, behavior) encoded by an old kubectl, unsafe to edit.",
    source: "seed 003 §2.5 (kubectl < 1.23 reads HPAs as v1 and encodes v2 fields in annotations; editing them can crash the controller manager)",
    help: "These annotations are how the autoscaling/v1 API round-trips fields it cannot express. In a manifest they are hard to read, easy to break, and a bad edit has crashed kube-controller-manager. Rewrite the HPA as autoscaling/v2 with metrics and behavior under spec, and drop the annotations.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let o = cx.object;
    if o.kind() != "HorizontalPodAutoscaler" || o.api_version() != "autoscaling/v1" {
        return;
    }
    let Some(annotations) = o.node.path(&["metadata", "annotations"]).and_then(Node::as_map) else {
        return;
    };
    let keys: Vec<&str> = annotations
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    let Some(first) = keys.first() else { return };
    let fields: Vec<String> = keys
        .iter()
        .map(|k| format!("`{}`", &k[PREFIX.len()..]))
        .collect();
    out.warn(
        &FieldPath::root().key("metadata").key("annotations").key(*first),
        format!(
            "this autoscaling/v1 HPA carries {} as `{PREFIX}*` annotations ({}), the encoding an old kubectl prints: editing them by hand has broken the HPA controller, and the manifest hides what the HPA really does",
            if keys.len() == 1 { "an autoscaling/v2 field" } else { "autoscaling/v2 fields" },
            fields.join(", ")
        ),
        format!(
            "rewrite the HPA as `apiVersion: autoscaling/v2` with {} written under `spec` (`spec.metrics`, `spec.behavior`), and delete the `{PREFIX}*` annotations",
            crate::rules::shared::and_list(&fields)
        ),
    );
}
