//! NodeAffinity: nodeSelector and required terms filter; preferred terms score.

use crate::model::{NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "NodeAffinity";
/// Upstream's reason.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// Whether the node satisfies the pod's nodeSelector and required affinity (terms ORed).
pub fn required_match(pod: &PodInfo, node: &NodeInfo) -> bool {
    pod.node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
        && pod
            .required_terms
            .as_ref()
            .is_none_or(|terms| terms.iter().any(|t| t.matches(node)))
}

/// Filter.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    if required_match(pod, node) {
        Ok(())
    } else {
        Err(vec![REASON.into()])
    }
}

/// Raw score: the sum of the weights of the preferred terms the node matches.
pub fn score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    pod.preferred_terms
        .iter()
        .filter(|(_, t)| t.matches(node))
        .map(|(w, _)| w)
        .sum()
}
