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
pub struct FilterState<'a> {
    constraints: Vec<SpreadConstraint>,
    counts: Vec<HashMap<&'a str, i64>>,
}

/// Whether a node can be counted at all for these constraints, per node.
fn eligible(
    cluster: &Cluster,
    pod: &PodInfo,
    c: &SpreadConstraint,
    all: &[SpreadConstraint],
) -> Vec<bool> {
    cluster
        .nodes
        .iter()
        .map(|n| has_all_keys(n, all) && included(c, pod, n))
        .collect()
}

/// Counts, per domain of each constraint, the matching pods of the pod's namespace on the
/// eligible nodes; every eligible node's domain exists, with 0 when it holds none.
fn count_domains<'a>(
    cluster: &'a Cluster,
    pod: &PodInfo,
    constraints: &[SpreadConstraint],
    all: &[SpreadConstraint],
    only_domains_of: Option<&[HashMap<&'a str, i64>]>,
) -> Vec<HashMap<&'a str, i64>> {
    let mut counts = Vec::with_capacity(constraints.len());
    for (ci, c) in constraints.iter().enumerate() {
        let ok = eligible(cluster, pod, c, all);
        let mut count: HashMap<&'a str, i64> = match only_domains_of {
            Some(domains) => domains[ci].clone(),
            None => cluster
                .nodes
                .iter()
                .zip(&ok)
                .filter(|(_, ok)| **ok)
                .filter_map(|(n, _)| n.labels.get(&c.topology_key).map(|v| (v.as_str(), 0)))
                .collect(),
        };
        for &(pi, ni) in cluster
            .namespace_pods
            .get(&pod.namespace)
            .map_or(&[][..], Vec::as_slice)
        {
            let p = &cluster.pods[pi];
            if !ok[ni] || p.terminating || !c.selector.matches(&p.labels) {
                continue;
            }
            if let Some(slot) = cluster.nodes[ni]
                .labels
                .get(&c.topology_key)
                .and_then(|v| count.get_mut(v.as_str()))
            {
                *slot += 1;
            }
        }
        counts.push(count);
    }
    counts
}

/// PreFilter: `None` (Skip) when the pod has no `DoNotSchedule` constraint.
pub fn pre_filter<'a>(cluster: &'a Cluster, pod: &PodInfo) -> Option<FilterState<'a>> {
    let constraints: Vec<SpreadConstraint> =
        pod.spread.iter().filter(|c| c.hard).cloned().collect();
    if constraints.is_empty() {
        return None;
    }
    let counts = count_domains(cluster, pod, &constraints, &constraints, None);
    Some(FilterState {
        constraints,
        counts,
    })
}

/// Filter.
pub fn filter(state: &FilterState<'_>, pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
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
        let skew = counts.get(value.as_str()).copied().unwrap_or(0) + own - min_match;
        if skew > c.max_skew {
            return Err(vec![REASON.into()]);
        }
    }
    Ok(())
}

/// What PreScore computes for the soft constraints.
#[derive(Debug, Clone)]
pub struct ScoreState<'a> {
    constraints: Vec<SpreadConstraint>,
    ignored: HashSet<usize>,
    weights: Vec<f64>,
    counts: Vec<HashMap<&'a str, i64>>,
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
pub fn pre_score<'a>(
    cluster: &'a Cluster,
    pod: &PodInfo,
    feasible: &[usize],
) -> Option<ScoreState<'a>> {
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
    let mut counts: Vec<HashMap<&'a str, i64>> = vec![HashMap::new(); constraints.len()];
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
                count.entry(v.as_str()).or_insert(0);
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
    let keys: &[SpreadConstraint] = if own { &constraints } else { &[] };
    let counts = count_domains(cluster, pod, &constraints, keys, Some(&counts));
    Some(ScoreState {
        constraints,
        ignored,
        weights,
        counts,
    })
}

/// Raw score of node `i`: lower means a better spread.
pub fn score(state: &ScoreState<'_>, cluster: &Cluster, pod: &PodInfo, i: usize) -> i64 {
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
            count.get(v.as_str()).copied().unwrap_or(0)
        };
        s += cnt as f64 * w + (c.max_skew - 1) as f64;
    }
    s.round() as i64
}

/// NormalizeScore: fewer matching pods scores higher; ignored nodes score 0.
pub fn normalize(state: &ScoreState<'_>, nodes: &[usize], scores: &mut [i64]) {
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
