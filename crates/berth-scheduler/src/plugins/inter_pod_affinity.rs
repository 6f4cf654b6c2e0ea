//! InterPodAffinity: required (anti-)affinity of the incoming pod, and existing pods'
//! required anti-affinity, filter; preferred terms of both sides score
//! (`interpodaffinity/filtering.go`, `scoring.go`).

use std::collections::HashMap;

use crate::model::{Cluster, NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "InterPodAffinity";
/// Upstream's reasons.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Upstream's reasons.
pub const REASON_ANTI: &str = "node(s) didn't match pod anti-affinity rules";
/// Upstream's reasons.
pub const REASON_EXISTING_ANTI: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// Weight of an existing pod's required affinity term when scoring (`hardPodAffinityWeight`).
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

type Counts = HashMap<(String, String), i64>;

/// Existing pods with their nodes: all of them, or only those with affinity terms.
fn existing(cluster: &Cluster, all: bool) -> Box<dyn Iterator<Item = (usize, &NodeInfo)> + '_> {
    if all {
        Box::new(
            cluster
                .nodes
                .iter()
                .flat_map(|n| n.pods.iter().map(move |&i| (i, n))),
        )
    } else {
        Box::new(
            cluster
                .affinity_pods
                .iter()
                .map(|&(i, n)| (i, &cluster.nodes[n])),
        )
    }
}

fn bump(map: &mut Counts, node: &NodeInfo, key: &str, by: i64) {
    if let Some(v) = node.labels.get(key) {
        *map.entry((key.to_string(), v.clone())).or_insert(0) += by;
    }
}

/// What PreFilter counts.
#[derive(Debug, Clone, Default)]
pub struct FilterState {
    existing_anti: Counts,
    affinity: Counts,
    anti: Counts,
    self_affine: bool,
}

/// PreFilter: `None` (Skip) when neither the pod nor any existing pod has required terms
/// that concern it.
pub fn pre_filter(cluster: &Cluster, pod: &PodInfo) -> Option<FilterState> {
    let mut st = FilterState::default();
    let a = &pod.affinity;
    // Without required terms of its own, only existing pods with terms can matter.
    let all = !a.required.is_empty() || !a.required_anti.is_empty();
    for (i, node) in existing(cluster, all) {
        {
            let e = &cluster.pods[i];
            for t in &e.affinity.required_anti {
                if t.matches(&e.namespace, pod, &cluster.namespaces) {
                    bump(&mut st.existing_anti, node, &t.topology_key, 1);
                }
            }
            if !a.required.is_empty()
                && a.required
                    .iter()
                    .all(|t| t.matches(&pod.namespace, e, &cluster.namespaces))
            {
                for t in &a.required {
                    bump(&mut st.affinity, node, &t.topology_key, 1);
                }
            }
            for t in &a.required_anti {
                if t.matches(&pod.namespace, e, &cluster.namespaces) {
                    bump(&mut st.anti, node, &t.topology_key, 1);
                }
            }
        }
    }
    if st.existing_anti.is_empty() && a.required.is_empty() && a.required_anti.is_empty() {
        return None;
    }
    st.self_affine = a
        .required
        .iter()
        .all(|t| t.matches(&pod.namespace, pod, &cluster.namespaces));
    Some(st)
}

/// Filter.
pub fn filter(st: &FilterState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    let at = |map: &Counts, key: &str| {
        node.labels
            .get(key)
            .and_then(|v| map.get(&(key.to_string(), v.clone())))
            .copied()
            .unwrap_or(0)
    };
    let a = &pod.affinity;
    let affinity_ok = a.required.iter().all(|t| {
        node.labels.contains_key(&t.topology_key) && at(&st.affinity, &t.topology_key) > 0
    });
    // The first pod of a group that is affine to itself may go anywhere.
    if !(affinity_ok || st.affinity.is_empty() && st.self_affine) {
        return Err(vec![REASON_AFFINITY.into()]);
    }
    if a.required_anti
        .iter()
        .any(|t| at(&st.anti, &t.topology_key) > 0)
    {
        return Err(vec![REASON_ANTI.into()]);
    }
    if node.labels.iter().any(|(k, v)| {
        st.existing_anti
            .get(&(k.clone(), v.clone()))
            .is_some_and(|c| *c > 0)
    }) {
        return Err(vec![REASON_EXISTING_ANTI.into()]);
    }
    Ok(())
}

/// PreScore: the topology score of every (key, value); `None` (Skip) when nothing scores.
pub fn pre_score(cluster: &Cluster, pod: &PodInfo) -> Option<Counts> {
    let mut scores = Counts::new();
    let a = &pod.affinity;
    let all = !a.preferred.is_empty() || !a.preferred_anti.is_empty();
    for (i, node) in existing(cluster, all) {
        {
            let e = &cluster.pods[i];
            for (w, t) in &a.preferred {
                if t.matches(&pod.namespace, e, &cluster.namespaces) {
                    bump(&mut scores, node, &t.topology_key, *w);
                }
            }
            for (w, t) in &a.preferred_anti {
                if t.matches(&pod.namespace, e, &cluster.namespaces) {
                    bump(&mut scores, node, &t.topology_key, -*w);
                }
            }
            for t in &e.affinity.required {
                if t.matches(&e.namespace, pod, &cluster.namespaces) {
                    bump(&mut scores, node, &t.topology_key, HARD_POD_AFFINITY_WEIGHT);
                }
            }
            for (w, t) in &e.affinity.preferred {
                if t.matches(&e.namespace, pod, &cluster.namespaces) {
                    bump(&mut scores, node, &t.topology_key, *w);
                }
            }
            for (w, t) in &e.affinity.preferred_anti {
                if t.matches(&e.namespace, pod, &cluster.namespaces) {
                    bump(&mut scores, node, &t.topology_key, -*w);
                }
            }
        }
    }
    (!scores.is_empty()).then_some(scores)
}

/// Raw score: the sum of the topology scores of the node's labels.
pub fn score(st: &Counts, node: &NodeInfo) -> i64 {
    node.labels
        .iter()
        .filter_map(|(k, v)| st.get(&(k.clone(), v.clone())))
        .sum()
}

/// NormalizeScore: min-max with 0 always inside the range.
pub fn normalize(scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    let min = scores.iter().copied().min().unwrap_or(0).min(0);
    for s in scores.iter_mut() {
        *s = if max == min {
            0
        } else {
            (100.0 * (*s - min) as f64 / (max - min) as f64) as i64
        };
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalization_keeps_zero_inside_the_range() {
        // interpodaffinity/scoring.go NormalizeScore: {5,10,0} -> {50,100,0}; {-4,0,4} -> {0,50,100}.
        let mut a = [5, 10, 0];
        normalize(&mut a);
        assert_eq!(a, [50, 100, 0]);
        let mut b = [-4, 0, 4];
        normalize(&mut b);
        assert_eq!(b, [0, 50, 100]);
    }
}
