//! TaintToleration: NoSchedule/NoExecute taints filter, PreferNoSchedule taints score.

use crate::model::{NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "TaintToleration";
/// Upstream's reason from v1.34 on (earlier releases named the taint).
pub const REASON: &str = "node(s) had untolerated taint(s)";

/// Filter: the node fails on a NoSchedule or NoExecute taint no toleration tolerates.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    let untolerated = node.taints.iter().any(|t| {
        matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
            && !pod.tolerations.iter().any(|tol| tol.tolerates(t))
    });
    if untolerated {
        Err(vec![REASON.into()])
    } else {
        Ok(())
    }
}

/// Raw score: the number of PreferNoSchedule taints that the pod's PreferNoSchedule (or
/// effect-less) tolerations do not tolerate. Normalized in reverse: fewer is better.
pub fn score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|t| {
            !pod.tolerations
                .iter()
                .filter(|tol| tol.effect.is_empty() || tol.effect == "PreferNoSchedule")
                .any(|tol| tol.tolerates(t))
        })
        .count() as i64
}
