//! `hpa-utilization-without-requests`: an HPA scales on Utilization of a resource that some
//! container of the target does not request.
//!
//! Utilization is usage over requests. The HPA replica calculator sums the requests of every
//! container and gives up with `missing request for cpu in container X`
//! (pkg/controller/podautoscaler/replica_calculator.go `calculatePodRequests`), so the HPA
//! reports FailedGetResourceMetric and never scales.

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::hpa_utilization_with_sidecar::utilization_metrics;
use crate::rules::shared::and_list;
use crate::workload::{RESOURCE_NAMES, Resources};

/// Rule id.
pub const NAME: &str = "hpa-utilization-without-requests";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "An HPA scales on cpu or memory Utilization but a container of the target workload has no request for that resource, so the HPA cannot compute a utilization and never scales.",
    source: "seed 003 §2.1 (utilization is measured against requests); pkg/controller/podautoscaler/replica_calculator.go calculatePodRequests",
    help: "Utilization is usage divided by requests; when a container has no request for the metric's resource, the HPA fails with 'missing request' and does nothing. Set the request on every container of the target, or scale on an AverageValue target.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    if !cx.index.hpas.contains_key(&cx.i) {
        return;
    }
    let Some(target) = cx.index.hpa_target(cx.i) else { return };
    let Some(w) = cx.index.workloads[target].as_ref() else { return };
    let limits = cx.index.namespace(target).and_then(|n| n.limits.as_ref());
    let t = cx.other(target);
    for m in utilization_metrics(cx.object, true) {
        let Some(ri) = RESOURCE_NAMES.iter().position(|r| *r == m.resource) else {
            continue;
        };
        let missing: Vec<String> = w
            .running_containers()
            .filter(|c| m.container.as_deref().is_none_or(|n| n == c.name()))
            .filter(|c| Resources::of(c, limits).request[ri].is_none())
            .map(|c| c.label())
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.warn(
            &m.path,
            format!(
                "HPA scales {} `{}` on {} Utilization {}%, but {} {} no {} request: the HPA cannot compute utilization (\"missing request for {}\") and never scales",
                t.kind(),
                t.name(),
                m.resource,
                m.target,
                and_list(&missing),
                if missing.len() == 1 { "has" } else { "have" },
                m.resource,
                m.resource
            ),
            format!(
                "set `resources.requests.{}` on {} of {} `{}`",
                m.resource,
                and_list(&missing),
                t.kind(),
                t.name()
            ),
        );
    }
}
