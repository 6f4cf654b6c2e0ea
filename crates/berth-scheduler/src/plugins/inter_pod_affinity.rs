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

/// Topology key → topology value → count (nested, so lookups borrow instead of allocate).
type Counts = HashMap<String, HashMap<String, i64>>;

fn get(map: &Counts, node: &NodeInfo, key: &str) -> i64 {
    node.labels
        .get(key)
        .and_then(|v| map.get(key).and_then(|m| m.get(v.as_str())))
        .copied()
        .unwrap_or(0)
}

/// The existing pods the incoming pod's own terms can match: those of the terms'
/// namespaces, or all pods when a term selects namespaces by label.
fn candidates<'a>(
    cluster: &'a Cluster,
    pod: &PodInfo,
    terms: impl Iterator<Item = &'a crate::model::AffinityTerm> + Clone,
) -> Vec<(usize, usize)> {
    if terms.clone().any(|t| t.namespace_selector.is_some()) {
        return cluster
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(ni, n)| n.pods.iter().map(move |&pi| (pi, ni)))
            .collect();
    }
    let mut namespaces: Vec<&str> = terms
        .flat_map(|t| {
            if t.namespaces.is_empty() {
                vec![pod.namespace.as_str()]
            } else {
                t.namespaces.iter().map(String::as_str).collect()
            }
        })
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    namespaces
        .into_iter()
        .filter_map(|ns| cluster.namespace_pods.get(ns))
        .flatten()
        .copied()
        .collect()
}

fn bump(map: &mut Counts, node: &NodeInfo, key: &str, by: i64) {
    if let Some(v) = node.labels.get(key) {
        *map.entry(key.to_string())
            .or_default()
            .entry(v.clone())
            .or_insert(0) += by;
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
    // Existing pods' required anti-affinity: only pods with terms can have any.
    for (i, n) in cluster.affinity_pods_for(&pod.namespace) {
        let e = &cluster.pods[i];
        for t in &e.affinity.required_anti {
            if t.matches(&e.namespace, pod, &cluster.namespaces) {
                bump(&mut st.existing_anti, &cluster.nodes[n], &t.topology_key, 1);
            }
        }
    }
    // The incoming pod's anti-affinity: per-node counts of matching pods, summed by domain,
    // when every term names its namespaces (no namespace selector).
    let counted = a
        .required_anti
        .iter()
        .all(|t| t.namespace_selector.is_none() && t.selector.is_some());
    if counted {
        for t in &a.required_anti {
            let Some(sel) = &t.selector else { continue };
            let index = cluster.topology(&t.topology_key);
            let mut per_domain = vec![0i64; index.domains.len()];
            let mut namespaces = if t.namespaces.is_empty() {
                vec![pod.namespace.clone()]
            } else {
                t.namespaces.clone()
            };
            namespaces.sort();
            namespaces.dedup();
            for ns in namespaces {
                // Anti-affinity counts terminating pods too (they are still on the node).
                let counts = cluster.matching_per_node_all(&ns, sel);
                for (ni, &k) in counts.borrow().iter().enumerate() {
                    if let (true, Some(d)) = (k > 0, index.domain_of[ni]) {
                        per_domain[d as usize] += k;
                    }
                }
            }
            for (d, &k) in per_domain.iter().enumerate() {
                if k > 0 {
                    *st.anti
                        .entry(t.topology_key.clone())
                        .or_default()
                        .entry(index.domains[d].clone())
                        .or_insert(0) += k;
                }
            }
        }
    }
    let walk_anti = !counted && !a.required_anti.is_empty();
    if !a.required.is_empty() || walk_anti {
        let anti: &[crate::model::AffinityTerm] = if walk_anti { &a.required_anti } else { &[] };
        for (i, n) in candidates(cluster, pod, a.required.iter().chain(anti)) {
            let (e, node) = (&cluster.pods[i], &cluster.nodes[n]);
            if !a.required.is_empty()
                && a.required
                    .iter()
                    .all(|t| t.matches(&pod.namespace, e, &cluster.namespaces))
            {
                for t in &a.required {
                    bump(&mut st.affinity, node, &t.topology_key, 1);
                }
            }
            for t in anti {
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
    let at = |map: &Counts, key: &str| get(map, node, key);
    let a = &pod.affinity;
    let has_keys = a
        .required
        .iter()
        .all(|t| node.labels.contains_key(&t.topology_key));
    let affinity_ok = a
        .required
        .iter()
        .all(|t| at(&st.affinity, &t.topology_key) > 0);
    // The first pod of a group that is affine to itself may go to any node that has the
    // terms' topology keys.
    if !(has_keys && (affinity_ok || st.affinity.is_empty() && st.self_affine)) {
        return Err(vec![REASON_AFFINITY.into()]);
    }
    if a.required_anti
        .iter()
        .any(|t| at(&st.anti, &t.topology_key) > 0)
    {
        return Err(vec![REASON_ANTI.into()]);
    }
    if !st.existing_anti.is_empty()
        && st
            .existing_anti
            .keys()
            .any(|k| get(&st.existing_anti, node, k) > 0)
    {
        return Err(vec![REASON_EXISTING_ANTI.into()]);
    }
    Ok(())
}

/// PreScore: the topology score of every (key, value); `None` (Skip) when nothing scores.
pub fn pre_score(cluster: &Cluster, pod: &PodInfo) -> Option<Counts> {
    let mut scores = Counts::new();
    let a = &pod.affinity;
    // The incoming pod's preferred terms, over the pods they can match.
    if !a.preferred.is_empty() || !a.preferred_anti.is_empty() {
        let terms = a.preferred.iter().chain(&a.preferred_anti).map(|(_, t)| t);
        for (i, n) in candidates(cluster, pod, terms) {
            let (e, node) = (&cluster.pods[i], &cluster.nodes[n]);
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
        }
    }
    // Existing pods' terms: only pods with terms can have any.
    for (i, n) in cluster.affinity_pods_for(&pod.namespace) {
        let (e, node) = (&cluster.pods[i], &cluster.nodes[n]);
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
    (!scores.is_empty()).then_some(scores)
}

/// Raw score: the sum of the topology scores of the node's labels.
pub fn score(st: &Counts, node: &NodeInfo) -> i64 {
    st.keys().map(|k| get(st, node, k)).sum()
}

/// NormalizeScore: min-max over the scored nodes (upstream starts from the extreme
/// integers, so equal scores all become 0).
pub fn normalize(scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    let min = scores.iter().copied().min().unwrap_or(0);
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
    fn normalization_is_min_max_over_the_scored_nodes() {
        // interpodaffinity/scoring.go NormalizeScore: min and max start at the extreme
        // integers, so the smallest score always becomes 0.
        for (input, want) in [
            (vec![5, 10, 0], vec![50, 100, 0]),
            (vec![-4, 0, 4], vec![0, 50, 100]),
            (vec![5, 10], vec![0, 100]),
            (vec![-10, -5], vec![0, 100]),
            (vec![5, 5], vec![0, 0]),
        ] {
            let mut s = input.clone();
            normalize(&mut s);
            assert_eq!(s, want, "{input:?}");
        }
    }
}
