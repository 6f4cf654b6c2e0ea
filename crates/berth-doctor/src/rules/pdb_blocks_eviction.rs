//! `pdb-blocks-eviction`: a PodDisruptionBudget that allows no disruption at the replica
//! count its workloads run with, so `kubectl drain` and the cluster autoscaler hang.
//!
//! Computed as pkg/controller/disruption/disruption.go does (`getExpectedPodCount` and
//! `updatePdbStatus`), assuming every pod is healthy:
//!
//! - `maxUnavailable` set: expected = sum of the scale of the pods' controllers;
//!   desiredHealthy = max(0, expected − GetScaledValueFromIntOrPercent(maxUnavailable,
//!   expected, roundUp=true)).
//! - `minAvailable` integer: desiredHealthy = minAvailable; expected = number of pods.
//! - `minAvailable` percentage: expected = sum of scales; desiredHealthy =
//!   GetScaledValueFromIntOrPercent(minAvailable, expected, roundUp=true).
//! - neither: expected stays 0.
//!
//! disruptionsAllowed = currentHealthy − desiredHealthy, and 0 when that is negative or
//! expected ≤ 0. The scale of a workload is its HPA's minReplicas when an HPA targets it
//! (the count it may sit at when a drain comes), else spec.replicas (default 1).
//! Seed 003 §3: minAvailable 65% with 2 replicas rounds up to 2 and blocks every drain.
//!
//! Pods whose controller has no `/scale` subresource (DaemonSet, Job and CronJob pods,
//! bare Pods): `getExpectedScale` cannot size them, so a PDB selecting any of them with
//! `maxUnavailable` or a percentage `minAvailable` fails to sync (event
//! `CalculateExpectedPodCountFailed`: "... does not implement the scale subresource") and
//! the controller's fail-safe sets disruptionsAllowed to 0: every eviction of every pod it
//! selects is refused. The Kubernetes docs ("Specifying a Disruption Budget for your
//! Application", section "Arbitrary workloads and arbitrary selectors") allow only an
//! integer `minAvailable` there; kubernetes/kubernetes#106309 (full PDB support for
//! DaemonSets) and #129625 (`maxUnavailable: 0` with Jobs) track the limitation. This is
//! an error with that explanation. With an integer `minAvailable` the expected count is
//! the number of pods, which the manifest does not tell for these controllers (a
//! DaemonSet runs one per matching node), so such PDBs are not judged.

use berth_manifest::{FieldPath, Node, Value};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::index::pdb_selector;
use crate::rules::shared::and_list;
use crate::workload::Kind;

/// Rule id.
pub const NAME: &str = "pdb-blocks-eviction";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A PodDisruptionBudget allows 0 disruptions at the replica count of the workloads it selects (HPA minReplicas, else spec.replicas), or selects DaemonSet, Job or bare pods with maxUnavailable or a percentage minAvailable, which the disruption controller cannot compute, so evictions, node drains and cluster-autoscaler scale-downs block.",
    source: "seed 003 §3 (percentages round up; minAvailable 65% of 2 replicas blocks drains); pkg/controller/disruption/disruption.go getExpectedPodCount, getExpectedScale, updatePdbStatus; Kubernetes docs, Arbitrary workloads and arbitrary selectors (only an integer minAvailable without /scale)",
    help: "The disruption controller rounds percentages up for both minAvailable and maxUnavailable; with few replicas a minAvailable percentage often equals the replica count and no pod may ever be evicted. Prefer `maxUnavailable: 1` (or a percentage, which always rounds up to at least 1), or run more replicas. For DaemonSet, Job or bare pods, which have no /scale subresource, only an integer minAvailable works: maxUnavailable or a percentage makes the controller allow 0 disruptions.",
};

/// An `IntOrString` budget value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(i64),
    /// A percentage of the expected pods.
    Percent(i64),
}

impl IntOrPercent {
    /// Reads `3` or `"65%"`; anything else (the API server rejects it) is `None`.
    pub fn read(node: &Node) -> Option<Self> {
        match &node.value {
            Value::Int(i) => Some(IntOrPercent::Int(*i)),
            Value::Str(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .map(IntOrPercent::Percent),
            _ => None,
        }
    }

    /// `intstr.GetScaledValueFromIntOrPercent(v, total, roundUp=true)`:
    /// `ceil(percent × total / 100)` for percentages, the number itself otherwise.
    pub fn scaled_round_up(self, total: i64) -> i64 {
        match self {
            IntOrPercent::Int(i) => i,
            IntOrPercent::Percent(p) => {
                let x = p.saturating_mul(total);
                if x > 0 {
                    x.saturating_add(99) / 100
                } else {
                    x / 100
                }
            }
        }
    }

    fn show(self) -> String {
        match self {
            IntOrPercent::Int(i) => i.to_string(),
            IntOrPercent::Percent(p) => format!("{p}%"),
        }
    }
}

/// The budget fields of a PDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `minAvailable`.
    MinAvailable(IntOrPercent),
    /// `maxUnavailable` (wins when both are set, as in the controller).
    MaxUnavailable(IntOrPercent),
    /// Neither is set.
    Neither,
}

/// (expectedCount, desiredHealthy, disruptionsAllowed) for `pods` healthy pods whose
/// controllers' scales sum to `pods`, as disruption.go computes them.
pub fn allowed_disruptions(budget: Budget, pods: i64) -> (i64, i64, i64) {
    let (expected, desired) = match budget {
        Budget::MaxUnavailable(v) => {
            let expected = pods;
            (
                expected,
                expected.saturating_sub(v.scaled_round_up(expected)).max(0),
            )
        }
        Budget::MinAvailable(IntOrPercent::Int(m)) => (pods, m),
        Budget::MinAvailable(v) => (pods, v.scaled_round_up(pods)),
        Budget::Neither => (0, 0),
    };
    let current_healthy = pods;
    let allowed = current_healthy.saturating_sub(desired);
    let allowed = if expected <= 0 || allowed <= 0 {
        0
    } else {
        allowed
    };
    (expected, desired, allowed)
}

/// Smallest replica count (up to 1000) at which the budget allows one disruption.
fn replicas_needed(budget: Budget, from: i64) -> Option<i64> {
    (from.max(1)..=1000).find(|&n| allowed_disruptions(budget, n).2 >= 1)
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let o = cx.object;
    if o.kind() != "PodDisruptionBudget" || !o.api_version().starts_with("policy/") {
        return;
    }
    let Some(ns) = cx.namespace() else { return };
    let matched = cx.index.selected_in(ns, &pdb_selector(o));
    if matched.is_empty() {
        return;
    }
    let spec = |k: &str| o.node.path(&["spec", k]).filter(|n| !n.is_null());
    let budget = match (spec("maxUnavailable"), spec("minAvailable")) {
        (Some(m), _) => match IntOrPercent::read(m) {
            Some(v) => Budget::MaxUnavailable(v),
            None => return,
        },
        (None, Some(m)) => match IntOrPercent::read(m) {
            Some(v) => Budget::MinAvailable(v),
            None => return,
        },
        (None, None) => Budget::Neither,
    };
    // Controllers without a /scale subresource: the controller cannot size them.
    let unscaled: Vec<usize> = matched
        .iter()
        .copied()
        .filter(|&w| cx.index.kind(w).is_none_or(|k| !k.scalable()))
        .collect();
    if !unscaled.is_empty() {
        unscaled_controllers(cx, out, budget, &unscaled, matched.len());
        return;
    }
    let mut pods: i64 = 0;
    let mut parts = Vec::new();
    for &w in &matched {
        let s = cx.index.scale(w);
        pods = pods.saturating_add(s.min);
        let wo = cx.other(w);
        parts.push(format!(
            "{} `{}` at {}",
            wo.kind(),
            wo.name(),
            s.describe_min(cx.index)
        ));
    }
    if pods <= 0 {
        return;
    }
    let (expected, desired, allowed) = allowed_disruptions(budget, pods);
    if allowed > 0 {
        return;
    }
    let spec_path = FieldPath::root().key("spec");
    let selects = format!(
        "{pods} pod{} ({})",
        if pods == 1 { "" } else { "s" },
        and_list(&parts)
    );
    let (path, why) = match budget {
        Budget::MaxUnavailable(v) => (
            spec_path.key("maxUnavailable"),
            format!("maxUnavailable {} of {expected} rounds up to {} pods that may be down", v.show(), expected.saturating_sub(desired)),
        ),
        Budget::MinAvailable(v @ IntOrPercent::Percent(_)) => (
            spec_path.key("minAvailable"),
            format!("minAvailable {} of {expected} rounds up to {desired} pods that must stay healthy", v.show()),
        ),
        Budget::MinAvailable(v) => (
            spec_path.key("minAvailable"),
            format!("minAvailable {} keeps {desired} of {pods} pods", v.show()),
        ),
        Budget::Neither => (
            spec_path.clone(),
            "it sets neither minAvailable nor maxUnavailable, so the controller's expected pod count stays 0".into(),
        ),
    };
    let mut fix = "set `spec.maxUnavailable: 1` and remove `spec.minAvailable` (always allows one eviction at a time)".to_string();
    if let Budget::MinAvailable(_) = budget
        && let Some(n) = replicas_needed(budget, pods.saturating_add(1))
    {
        fix.push_str(&format!(", or run at least {n} replicas (HPA minReplicas or spec.replicas) so the budget allows one eviction"));
    }
    out.warn(
        &path,
        format!(
            "PodDisruptionBudget allows 0 disruptions for its {selects}: {why}, so `kubectl drain` and cluster-autoscaler scale-downs can never evict one of them"
        ),
        fix,
    );
}

/// A PDB selecting pods of controllers without /scale (DaemonSet, Job, CronJob, bare Pod).
fn unscaled_controllers(
    cx: &Cx<'_>,
    out: &mut Sink<'_>,
    budget: Budget,
    unscaled: &[usize],
    matched: usize,
) {
    let spec_path = FieldPath::root().key("spec");
    let (path, field) = match budget {
        // An integer minAvailable works: expected = the number of pods, unknown here.
        Budget::MinAvailable(IntOrPercent::Int(_)) => return,
        Budget::MinAvailable(v) => (
            spec_path.key("minAvailable"),
            format!("minAvailable {}", v.show()),
        ),
        Budget::MaxUnavailable(v) => (
            spec_path.key("maxUnavailable"),
            format!("maxUnavailable {}", v.show()),
        ),
        Budget::Neither => (
            spec_path.clone(),
            "neither minAvailable nor maxUnavailable".to_string(),
        ),
    };
    let names: Vec<String> = unscaled
        .iter()
        .map(|&w| {
            let wo = cx.other(w);
            match cx.index.kind(w) {
                Some(Kind::Pod) => format!("bare Pod `{}`", wo.name()),
                Some(Kind::CronJob) => format!("the Jobs of CronJob `{}`", wo.name()),
                _ => format!("{} `{}`", wo.kind(), wo.name()),
            }
        })
        .collect();
    let only_daemonsets = matched == unscaled.len()
        && unscaled
            .iter()
            .all(|&w| cx.index.kind(w) == Some(Kind::DaemonSet));
    let who = if only_daemonsets {
        "`kubectl drain --ignore-daemonsets` skips DaemonSet pods, but the cluster autoscaler, the descheduler, the VPA updater and every other Eviction API client are refused"
    } else {
        "`kubectl drain` and cluster-autoscaler scale-downs hang on them"
    };
    let has = if names.len() == 1 { "has" } else { "have" };
    let message = match budget {
        Budget::Neither => format!(
            "PodDisruptionBudget selects pods of {} and sets neither minAvailable nor maxUnavailable, so the controller's expected pod count stays 0 and disruptionsAllowed is 0: every eviction of these pods is refused; {who}",
            and_list(&names)
        ),
        _ => format!(
            "PodDisruptionBudget selects pods of {}, which {has} no /scale subresource: with {field} the disruption controller cannot compute the expected pod count (CalculateExpectedPodCountFailed), so it sets disruptionsAllowed to 0 and every eviction of these pods is refused; {who}. Only an integer minAvailable works for such pods (Kubernetes docs, \"Arbitrary workloads and arbitrary selectors\")",
            and_list(&names)
        ),
    };
    out.warn(
        &path,
        message,
        "use an integer `spec.minAvailable` (how many of the selected pods must stay up, e.g. the node count minus 1 for a DaemonSet) and remove `spec.maxUnavailable`, or delete the PodDisruptionBudget".to_string(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases from pkg/controller/disruption/disruption.go, with the arithmetic.
    #[test]
    fn allowed_disruptions_follow_the_disruption_controller() {
        use Budget::*;
        use IntOrPercent::*;
        let cases: &[(&str, Budget, i64, i64)] = &[
            // Seed 003 §3: ceil(65% × 2) = ceil(1.3) = 2 desired; 2 − 2 = 0 allowed.
            (
                "minAvailable 65% of 2 blocks",
                MinAvailable(Percent(65)),
                2,
                0,
            ),
            // ceil(65% × 3) = ceil(1.95) = 2; 3 − 2 = 1.
            (
                "minAvailable 65% of 3 allows one",
                MinAvailable(Percent(65)),
                3,
                1,
            ),
            // ceil(50% × 2) = 1; 2 − 1 = 1.
            (
                "minAvailable 50% of 2 allows one",
                MinAvailable(Percent(50)),
                2,
                1,
            ),
            // ceil(50% × 1) = ceil(0.5) = 1; 1 − 1 = 0.
            (
                "minAvailable 50% of 1 blocks",
                MinAvailable(Percent(50)),
                1,
                0,
            ),
            // desired = 1 (integer, expected = pods = 1); 1 − 1 = 0.
            ("minAvailable 1 of 1 blocks", MinAvailable(Int(1)), 1, 0),
            // 2 − 1 = 1.
            ("minAvailable 1 of 2 allows one", MinAvailable(Int(1)), 2, 1),
            // 100% of 5 = 5 desired; 0.
            ("minAvailable 100% blocks", MinAvailable(Percent(100)), 5, 0),
            // maxUnavailable ceil(10% × 2) = ceil(0.2) = 1; desired = 2 − 1 = 1; allowed 1.
            (
                "maxUnavailable 10% rounds up to one",
                MaxUnavailable(Percent(10)),
                2,
                1,
            ),
            // desired = 3 − 0 = 3; allowed 0.
            ("maxUnavailable 0 blocks", MaxUnavailable(Int(0)), 3, 0),
            ("maxUnavailable 0% blocks", MaxUnavailable(Percent(0)), 3, 0),
            // desired = max(0, 1 − 5) = 0; allowed = 1 − 0 = 1.
            (
                "maxUnavailable above the count allows all",
                MaxUnavailable(Int(5)),
                1,
                1,
            ),
            // expected stays 0, so updatePdbStatus forces 0.
            ("neither field blocks", Neither, 4, 0),
        ];
        for (name, budget, pods, want) in cases {
            assert_eq!(allowed_disruptions(*budget, *pods).2, *want, "{name}");
        }
    }

    #[test]
    fn the_replica_count_that_unblocks_a_percentage_is_found() {
        // 65%: n=3 → ceil(1.95)=2, 3−2=1.
        assert_eq!(
            replicas_needed(Budget::MinAvailable(IntOrPercent::Percent(65)), 3),
            Some(3)
        );
        assert_eq!(
            replicas_needed(Budget::MinAvailable(IntOrPercent::Percent(100)), 1),
            None
        );
    }
}
