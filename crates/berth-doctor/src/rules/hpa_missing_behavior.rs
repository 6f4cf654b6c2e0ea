//! `hpa-missing-behavior`: an HPA without `spec.behavior`.
//!
//! Seed 003 §2.4.2: services whose metric is spiky (GC pauses, cron work) flap between
//! scale-up and scale-down; autoscaling/v2 `behavior.scaleUp`/`scaleDown` bound how fast
//! replicas change. Severity info: the defaults (scale up by max(100%, 4 pods) per 15s with
//! no stabilization; scale down after a 300s stabilization window) are safe for many
//! services, but a service on the seed's list should say what it wants.

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "hpa-missing-behavior";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Info,
    summary: "An HPA has no spec.behavior (or is autoscaling/v1 or v2beta1, which cannot express it), so scaling speed and stabilization are left to the defaults.",
    source: "seed 003 §2.4.2 (flapping; behavior.scaleUp/scaleDown since 1.18); HPA docs: default behavior",
    help: "Without spec.behavior the HPA scales up by up to 100% or 4 pods every 15s with no stabilization, and scales down to the highest recommendation of the last 300s. Spiky metrics make the replica count flap. Set behavior.scaleUp and behavior.scaleDown explicitly.",
};

const BEHAVIOR: &str = "{scaleUp: {stabilizationWindowSeconds: 60, policies: [{type: Percent, value: 100, periodSeconds: 60}]}, scaleDown: {stabilizationWindowSeconds: 300, policies: [{type: Percent, value: 10, periodSeconds: 60}]}}";

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    if !cx.index.hpas.contains_key(&cx.i) {
        return;
    }
    let root = berth_manifest::FieldPath::root();
    // A v1 HPA whose behavior rides in an annotation has one; `hpa-alpha-annotations`
    // reports that encoding.
    if cx.object.annotation("autoscaling.alpha.kubernetes.io/behavior").is_some() {
        return;
    }
    match cx.object.api_version() {
        v @ ("autoscaling/v1" | "autoscaling/v2beta1") => out.warn(
            &root.key("apiVersion"),
            format!(
                "HPA uses {v}, which has no spec.behavior: it scales up by up to 100% (or 4 pods) every 15s with no stabilization and scales down after the default 300s window, so a spiky metric makes the replica count flap"
            ),
            format!("change to `apiVersion: autoscaling/v2`, move the target into `spec.metrics`, and set `spec.behavior: {BEHAVIOR}` (tune to the service)"),
        ),
        "autoscaling/v2" | "autoscaling/v2beta2" => {
            if cx.object.node.path(&["spec", "behavior"]).is_some_and(|b| !b.is_null()) {
                return;
            }
            out.warn(
                &root.key("spec").key("behavior"),
                "HPA has no spec.behavior: it scales up by up to 100% (or 4 pods) every 15s with no stabilization window and scales down after the default 300s window, so a spiky metric (GC pauses, cron work) makes the replica count flap".into(),
                format!("set `spec.behavior: {BEHAVIOR}` (tune the windows and rates to the service)"),
            );
        }
        _ => {}
    }
}
