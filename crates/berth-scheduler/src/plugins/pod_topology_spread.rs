//! PodTopologySpread: `DoNotSchedule` constraints filter nodes whose domain would exceed
//! `maxSkew`; `ScheduleAnyway` constraints (or the system defaults) score emptier domains
//! higher (`podtopologyspread/filtering.go`, `scoring.go`).

use std::collections::{HashMap, HashSet};

use crate::model::{Cluster, LabelSelector, NodeInfo, PodInfo, SpreadConstraint};
use crate::plugins::{node_affinity, taint_toleration};

/// Plugin name.
pub const NAME: &str = "PodTopologySpread";
/// Upstream's reason when a domain would be too full.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream's reason when the node lacks a constraint's topology label.
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const HOSTNAME: &str = "kubernetes.io/hostname";

/// Pods on `node` that count for a constraint: same namespace, not terminating, selected.
fn matching(cluster: &Cluster, node: &NodeInfo, selector: &LabelSelector, ns: &str) -> i64 {
    node.pods
        .iter()
        .map(|&i| &cluster.pods[i])
        .filter(|p| p.namespace == ns && !p.terminating && selector.matches(&p.labels))
        .count() as i64
}

/// Whether a node counts for a constraint under its node inclusion policies.
fn included(c: &SpreadConstraint, pod: &PodInfo, node: &NodeInfo) -> bool {
    (!c.honor_node_affinity || node_affinity::required_match(pod, node))
        && (!c.honor_node_taints || taint_toleration::filter(pod, node).is_ok())
}

fn has_all_keys(node: &NodeInfo, constraints: &[SpreadConstraint]) -> bool {
    constraints
        .iter()
        .all(|c| node.labels.contains_key(&c.topology_key))
}

/// What PreFilter counts for the hard constraints.
#[derive(Debug, Clone)]
pub struct FilterState {
    constraints: Vec<SpreadConstraint>,
    counts: Vec<HashMap<String, i64>>,
}

/// PreFilter: `None` (Skip) when the pod has no `DoNotSchedule` constraint.
pub fn pre_filter(cluster: &Cluster, pod: &PodInfo) -> Option<FilterState> {
    let constraints: Vec<SpreadConstraint> =
        pod.spread.iter().filter(|c| c.hard).cloned().collect();
    if constraints.is_empty() {
        return None;
    }
    let mut counts = vec![HashMap::new(); constraints.len()];
    for node in &cluster.nodes {
        if !has_all_keys(node, &constraints) {
            continue;
        }
        for (c, count) in constraints.iter().zip(counts.iter_mut()) {
            if !included(c, pod, node) {
                continue;
            }
            let value = node.labels[&c.topology_key].clone();
            *count.entry(value).or_insert(0) +=
                matching(cluster, node, &c.selector, &pod.namespace);
        }
    }
    Some(FilterState {
        constraints,
        counts,
    })
}

/// Filter.
pub fn filter(state: &FilterState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    for (c, counts) in state.constraints.iter().zip(&state.counts) {
        let Some(value) = node.labels.get(&c.topology_key) else {
            return Err(vec![REASON_MISSING_LABEL.into()]);
        };
        let global_min = counts.values().copied().min().unwrap_or(0);
        let min_match = if (counts.len() as i64) < c.min_domains {
            0
        } else {
            global_min
        };
        let own = i64::from(c.selector.matches(&pod.labels));
        let skew = counts.get(value).copied().unwrap_or(0) + own - min_match;
        if skew > c.max_skew {
            return Err(vec![REASON.into()]);
        }
    }
    Ok(())
}

/// What PreScore computes for the soft constraints.
#[derive(Debug, Clone)]
pub struct ScoreState {
    constraints: Vec<SpreadConstraint>,
    ignored: HashSet<usize>,
    weights: Vec<f64>,
    counts: Vec<HashMap<String, i64>>,
}

/// The system default constraints (hostname maxSkew 3, zone maxSkew 5, both
/// ScheduleAnyway), for pods with no constraints of their own.
fn system_defaults(selector: LabelSelector) -> Vec<SpreadConstraint> {
    [(HOSTNAME, 3), ("topology.kubernetes.io/zone", 5)]
        .into_iter()
        .map(|(key, skew)| SpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            hard: false,
            selector: selector.clone(),
            min_domains: 1,
            honor_node_affinity: true,
            honor_node_taints: false,
        })
        .collect()
}

/// PreScore over the feasible nodes (indexes into `cluster.nodes`); `None` (Skip) when
/// there is no soft constraint.
pub fn pre_score(cluster: &Cluster, pod: &PodInfo, feasible: &[usize]) -> Option<ScoreState> {
    let own = !pod.spread.is_empty();
    let constraints: Vec<SpreadConstraint> = if own {
        pod.spread.iter().filter(|c| !c.hard).cloned().collect()
    } else {
        cluster
            .default_spread_selector(pod)
            .map(system_defaults)
            .unwrap_or_default()
    };
    if constraints.is_empty() {
        return None;
    }
    let mut ignored = HashSet::new();
    let mut counts = vec![HashMap::new(); constraints.len()];
    for &i in feasible {
        let node = &cluster.nodes[i];
        if own && !has_all_keys(node, &constraints) {
            ignored.insert(i);
            continue;
        }
        for (c, count) in constraints.iter().zip(counts.iter_mut()) {
            if c.topology_key != HOSTNAME
                && let Some(v) = node.labels.get(&c.topology_key)
            {
                count.entry(v.clone()).or_insert(0);
            }
        }
    }
    let weights = constraints
        .iter()
        .zip(&counts)
        .map(|(c, count)| {
            let size = if c.topology_key == HOSTNAME {
                feasible.len() - ignored.len()
            } else {
                count.len()
            };
            ((size + 2) as f64).ln()
        })
        .collect();
    for node in &cluster.nodes {
        if own && !has_all_keys(node, &constraints) {
            continue;
        }
        for (c, count) in constraints.iter().zip(counts.iter_mut()) {
            if c.topology_key == HOSTNAME || !included(c, pod, node) {
                continue;
            }
            if let Some(slot) = node
                .labels
                .get(&c.topology_key)
                .and_then(|v| count.get_mut(v))
            {
                *slot += matching(cluster, node, &c.selector, &pod.namespace);
            }
        }
    }
    Some(ScoreState {
        constraints,
        ignored,
        weights,
        counts,
    })
}

/// Raw score of node `i`: lower means a better spread.
pub fn score(state: &ScoreState, cluster: &Cluster, pod: &PodInfo, i: usize) -> i64 {
    if state.ignored.contains(&i) {
        return 0;
    }
    let node = &cluster.nodes[i];
    let mut s = 0.0;
    for ((c, count), w) in state
        .constraints
        .iter()
        .zip(&state.counts)
        .zip(&state.weights)
    {
        let Some(v) = node.labels.get(&c.topology_key) else {
            continue;
        };
        let cnt = if c.topology_key == HOSTNAME {
            matching(cluster, node, &c.selector, &pod.namespace)
        } else {
            count.get(v).copied().unwrap_or(0)
        };
        s += cnt as f64 * w + (c.max_skew - 1) as f64;
    }
    s.round() as i64
}

/// NormalizeScore: fewer matching pods scores higher; ignored nodes score 0.
pub fn normalize(state: &ScoreState, nodes: &[usize], scores: &mut [i64]) {
    let live: Vec<i64> = nodes
        .iter()
        .zip(scores.iter())
        .filter(|(i, _)| !state.ignored.contains(i))
        .map(|(_, s)| *s)
        .collect();
    let (min, max) = (
        live.iter().copied().min().unwrap_or(0),
        live.iter().copied().max().unwrap_or(0),
    );
    for (i, s) in nodes.iter().zip(scores.iter_mut()) {
        *s = if state.ignored.contains(i) {
            0
        } else if max == 0 {
            100
        } else {
            100 * (max + min - *s) / max
        };
    }
}
